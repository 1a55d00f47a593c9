//! The Kubernetes executor, chosen when the emulator runs in a cluster: each environment is a pod of the
//! emulator's namespace, running the function's runtime image.
//!
//! It knows which runtimes it can run (those with an image configured); starting pods is not available yet, and
//! an invocation answers an error that says so rather than pretending to run.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Environment, Executor, RunningEnvironment};

/// Starts environments as pods.
#[derive(Debug)]
pub struct KubernetesExecutor {
    runtime_images: BTreeMap<String, String>,
}

impl KubernetesExecutor {
    /// An executor with these images per runtime.
    pub fn new(runtime_images: BTreeMap<String, String>) -> Self {
        Self { runtime_images }
    }
}

impl Executor for KubernetesExecutor {
    fn start(
        &self,
        _environment: &Arc<Environment>,
        _emulator_url: &str,
        _on_exit: Box<dyn FnOnce(String) + Send>,
    ) -> Result<Box<dyn RunningEnvironment>, String> {
        Err(
            "this emulator cannot start Lambda execution environments as Kubernetes pods yet: \
             run it with --lambda-executor process to run handlers as local processes"
                .into(),
        )
    }

    fn runtime_problem(&self, runtime: &str) -> Option<String> {
        (!self.runtime_images.contains_key(runtime)).then(|| {
            format!(
                "no image is configured for the {runtime} runtime: add it to DYNASTREAM_RUNTIME_IMAGES \
                 (the Helm chart's runtimeImages)"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_without_an_image_cannot_run() {
        let executor = KubernetesExecutor::new(BTreeMap::from([(
            "nodejs16.x".to_owned(),
            "public.ecr.aws/lambda/nodejs:16".to_owned(),
        )]));
        assert_eq!(executor.runtime_problem("nodejs16.x"), None);
        let problem = executor.runtime_problem("python3.12").unwrap();
        assert!(
            problem.starts_with("no image is configured for the python3.12 runtime"),
            "{problem}"
        );
    }
}
