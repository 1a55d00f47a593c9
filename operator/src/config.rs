//! The operator's settings: a JSON file the Helm chart renders from its values.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::core::v1::{EnvVar, ResourceRequirements};
use serde::Deserialize;

/// The operator's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// How the emulator of each namespace runs.
    #[serde(default)]
    pub emulator: EmulatorConfig,
    /// ACK's `--deletion-policy`: what deleting a resource without the annotation does (`delete` or `retain`).
    #[serde(default = "default_deletion_policy")]
    pub deletion_policy: String,
    /// How often every resource is applied again even when nothing changed (ACK's resync period, 10 h).
    #[serde(default = "default_resync_seconds")]
    pub resync_seconds: u64,
    /// How often an event source mapping's delivery health is copied into its status.
    #[serde(default = "default_esm_status_seconds")]
    pub esm_status_seconds: u64,
    /// The one namespace whose resources are managed; empty for every namespace.
    #[serde(default)]
    pub watch_namespace: String,
}

/// How the emulator of each namespace runs.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmulatorConfig {
    /// The image holding `dynastream`.
    #[serde(default = "default_image")]
    pub image: String,
    /// `IfNotPresent`, `Always` or `Never`.
    #[serde(default = "default_pull_policy")]
    pub image_pull_policy: String,
    /// CPU and memory requests and limits.
    #[serde(default)]
    pub resources: Option<ResourceRequirements>,
    /// The emulator's log filter (`DYNASTREAM_LOG`).
    #[serde(default = "default_log_level")]
    pub log_level: String,
    /// More environment variables for the emulator's container.
    #[serde(default)]
    pub env: Vec<EnvVar>,
    /// More arguments after `serve --host 0.0.0.0`.
    #[serde(default)]
    pub args: Vec<String>,
    /// The ClusterRole bound, in each namespace, to the emulator's ServiceAccount (pods in that namespace only).
    #[serde(default = "default_cluster_role")]
    pub cluster_role: String,
    /// Lambda runtime to image, for the emulator's Kubernetes executor.
    #[serde(default)]
    pub runtime_images: BTreeMap<String, String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every emulator setting has a default")
    }
}

impl Default for Config {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every setting has a default")
    }
}

impl Config {
    /// Reads the settings file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| anyhow::anyhow!("reading the operator's settings {}: {err}", path.display()))?;
        let config: Config = serde_json::from_str(&text)
            .map_err(|err| anyhow::anyhow!("the operator's settings {}: {err}", path.display()))?;
        if !matches!(config.deletion_policy.as_str(), "delete" | "retain") {
            anyhow::bail!(
                "deletionPolicy must be delete or retain, not {:?}",
                config.deletion_policy
            );
        }
        Ok(config)
    }
}

fn default_deletion_policy() -> String {
    "delete".into()
}
fn default_resync_seconds() -> u64 {
    36_000
}
fn default_esm_status_seconds() -> u64 {
    15
}
fn default_image() -> String {
    format!("ghcr.io/dynastream/dynastream:{}", env!("CARGO_PKG_VERSION"))
}
fn default_pull_policy() -> String {
    "IfNotPresent".into()
}
fn default_log_level() -> String {
    "info".into()
}
fn default_cluster_role() -> String {
    "dynastream-emulator".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_a_default() {
        let config = Config::default();
        assert_eq!(config.deletion_policy, "delete");
        assert_eq!(config.resync_seconds, 36_000);
        assert_eq!(config.emulator.image_pull_policy, "IfNotPresent");
        assert!(
            config
                .emulator
                .image
                .starts_with("ghcr.io/dynastream/dynastream:")
        );
    }

    #[test]
    fn unknown_settings_are_refused() {
        let err = serde_json::from_str::<Config>(r#"{"emulator": {"imagee": "x"}}"#).unwrap_err();
        assert!(err.to_string().contains("imagee"), "{err}");
    }
}
