//! AWS Lambda: functions and their code ([`functions`]), the REST API under `/2015-03-31/` ([`api`]),
//! invocations, execution environments that run handlers as local processes (or pods), the `dynastream agent`
//! that runs inside each environment and serves the official Runtime API to the language runtime, and the
//! bundled runtime bootstraps for node and python.
//!
//! The REST API is this service's wire, so [`api`] builds an axum router; everything below it is HTTP-free.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod api;
pub mod error;
pub mod functions;
pub mod runtime_api;
pub mod wire;

pub use error::LambdaError;
pub use functions::FunctionStore;

/// The Lambda API's path prefix.
pub const API_PREFIX: &str = "/2015-03-31";

/// All Lambda state of the emulator.
#[derive(Debug, Default)]
pub struct Lambda {
    /// Functions per account and region.
    pub functions: FunctionStore,
}

impl Lambda {
    /// Retires the execution environments of a function whose code or configuration changed or which was
    /// deleted, so the next invocation runs the new deployment.
    pub fn on_function_changed(&self, function: &functions::Function) {
        let _ = function;
    }

    /// Why a function with this runtime cannot start here (e.g. its interpreter is missing), if it cannot.
    pub fn runtime_problem(&self, runtime: &str) -> Option<String> {
        let _ = runtime;
        None
    }
}
