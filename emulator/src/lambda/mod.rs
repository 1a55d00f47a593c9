//! AWS Lambda: functions and their code ([`functions`]), the REST API under `/2015-03-31/` ([`api`]),
//! invocations, execution environments that run handlers as local processes (or pods), the `dynastream agent`
//! that runs inside each environment and serves the official Runtime API to the language runtime, and the
//! bundled runtime bootstraps for node and python.
//!
//! The REST API is this service's wire, so [`api`] builds an axum router; everything below it is HTTP-free.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod agent;
pub mod api;
pub mod environments;
pub mod error;
pub mod esm;
pub mod filter;
pub mod functions;
pub mod invoke;
pub mod runtime_api;
pub mod runtimes;
pub mod wire;

pub use error::LambdaError;
pub use functions::FunctionStore;

/// The Lambda API's path prefix.
pub const API_PREFIX: &str = "/2015-03-31";

/// How Lambda runs handlers.
#[derive(Clone, Debug, Default)]
pub struct LambdaSettings {
    /// Execution environment behaviour (idle timeout, limits).
    pub environments: environments::EnvironmentSettings,
    /// The `dynastream` binary whose `agent` subcommand runs in each environment (default: this executable).
    pub agent_program: Option<std::path::PathBuf>,
    /// Where environments run.
    pub executor: ExecutorSettings,
}

/// Where execution environments run.
#[derive(Clone, Debug, Default)]
pub enum ExecutorSettings {
    /// Local processes.
    #[default]
    Process,
    /// Pods in the emulator's namespace, with these images per runtime.
    Kubernetes {
        /// Runtime to image.
        runtime_images: std::collections::BTreeMap<String, String>,
    },
}

/// All Lambda state of the emulator.
#[derive(Debug)]
pub struct Lambda {
    /// Functions per account and region.
    pub functions: std::sync::Arc<FunctionStore>,
    /// Execution environments of every function.
    pub environments: std::sync::Arc<environments::Environments>,
    /// Event source mappings.
    pub mappings: esm::Mappings,
}

impl Default for Lambda {
    fn default() -> Self {
        Self::new(LambdaSettings::default())
    }
}

impl Lambda {
    /// No functions yet; environments run where the settings say.
    pub fn new(settings: LambdaSettings) -> Self {
        let executor: std::sync::Arc<dyn environments::Executor> = match settings.executor {
            ExecutorSettings::Process => std::sync::Arc::new(environments::process::ProcessExecutor::new(
                settings.agent_program,
            )),
            ExecutorSettings::Kubernetes { runtime_images } => {
                std::sync::Arc::new(environments::kubernetes::KubernetesExecutor::new(runtime_images))
            }
        };
        let functions = std::sync::Arc::new(FunctionStore::default());
        let environments = environments::Environments::new(settings.environments, executor);
        let store = std::sync::Arc::downgrade(&functions);
        environments.on_image_problem(Box::new(move |key, reason| {
            if let Some(store) = store.upgrade() {
                store.image_failed(key, reason);
            }
        }));
        Self {
            functions,
            environments,
            mappings: esm::Mappings::default(),
        }
    }

    /// Retires the execution environments of a function's $LATEST, whose code, configuration or RevisionId
    /// changed, so the next invocation runs the new deployment, and refills its warm pool with that deployment.
    /// Published versions do not change: their environments stay.
    pub fn on_function_changed(&self, function: &std::sync::Arc<functions::Function>) {
        self.environments
            .retire_deployments(&function.arn, Some(functions::LATEST));
        self.environments.keep_warm(function);
    }

    /// Retires the execution environments of a deleted version of a function; the others stay.
    pub fn on_version_deleted(&self, function: &std::sync::Arc<functions::Function>, version: &str) {
        self.environments.retire_deployments(&function.arn, Some(version));
        self.environments.keep_warm(function);
    }

    /// Stops the execution environments of a deleted function (busy ones when their invocation ends) and its
    /// warm pool.
    pub fn on_function_deleted(&self, function: &functions::Function) {
        self.environments.forget_warm(&function.arn);
        self.environments.retire_function(&function.arn);
    }

    /// Sizes a function's warm pool again after it was created, re-tagged (`dynastream:min-warm`) or its reserved
    /// concurrency changed.
    pub fn keep_warm(&self, function: &std::sync::Arc<functions::Function>) {
        self.environments.keep_warm(function);
    }

    /// Why a function with this runtime cannot start here (e.g. its interpreter is missing), if it cannot.
    pub fn runtime_problem(&self, runtime: &str) -> Option<String> {
        self.environments.executor().runtime_problem(runtime)
    }
}
