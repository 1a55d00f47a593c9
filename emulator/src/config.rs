//! Command-line and environment settings of `dynastream serve`.

use std::{net::IpAddr, time::Duration};

use clap::{Args, ValueEnum};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Settings of `dynastream serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DYNASTREAM_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (LocalStack's edge port by default, so `awslocal` works unchanged).
    #[arg(long, env = "DYNASTREAM_PORT", default_value_t = 4566)]
    pub port: u16,
    /// How often expired items are deleted from tables with time to live enabled: seconds (`1`, `0.1`) or
    /// milliseconds (`100ms`).
    // NB: the default is `dynamodb::ttl::DEFAULT_SWEEP_INTERVAL`, which `Settings::default()` uses too.
    #[arg(long, env = "DYNASTREAM_TTL_SWEEP_INTERVAL", default_value = "1", value_parser = parse_interval)]
    pub ttl_sweep_interval: Duration,
    /// How long a stream shard stays open before a child shard replaces it (AWS: about four hours).
    #[arg(long, env = "DYNASTREAM_STREAM_SHARD_LIFETIME", default_value = "14400", value_parser = parse_interval)]
    pub stream_shard_lifetime: Duration,
    /// How long stream records, and streams that were turned off, are kept (AWS: 24 hours).
    #[arg(long, env = "DYNASTREAM_STREAM_RETENTION", default_value = "86400", value_parser = parse_interval)]
    pub stream_retention: Duration,
    /// How long an idle Lambda execution environment is kept warm before it is stopped.
    #[arg(long, env = "DYNASTREAM_LAMBDA_IDLE_TIMEOUT", default_value = "600", value_parser = parse_interval)]
    pub lambda_idle_timeout: Duration,
    /// How long a new Lambda execution environment may take to be ready (a pod scheduled, its image pulled, the
    /// runtime's init) before the invocation waiting for it fails; the function's timeout counts only after.
    #[arg(long, env = "DYNASTREAM_LAMBDA_START_TIMEOUT", default_value = "300", value_parser = parse_interval)]
    pub lambda_start_timeout: Duration,
    /// Where Lambda execution environments run: local processes, or pods of the emulator's namespace. `auto`
    /// chooses `kubernetes` when a Kubernetes service-account token is mounted, else `process`.
    #[arg(long, env = "DYNASTREAM_LAMBDA_EXECUTOR", value_enum, default_value_t = ExecutorKind::Auto)]
    pub lambda_executor: ExecutorKind,
    /// The Kubernetes executor's image per Lambda runtime, as JSON: `{"nodejs18.x": "public.ecr.aws/lambda/nodejs:18"}`.
    #[arg(long, env = "DYNASTREAM_RUNTIME_IMAGES", default_value = "{}", value_parser = parse_runtime_images)]
    pub runtime_images: std::collections::BTreeMap<String, String>,
}

/// Where Lambda execution environments run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ExecutorKind {
    /// `kubernetes` inside a Kubernetes pod, else `process`.
    #[default]
    Auto,
    /// Local `dynastream agent` processes.
    Process,
    /// Pods in the emulator's namespace.
    Kubernetes,
}

/// Where a pod finds its service-account token: its presence means the emulator runs in a cluster.
pub const SERVICE_ACCOUNT_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

impl ExecutorKind {
    /// `Auto` resolved for this machine.
    pub fn resolve(self) -> Self {
        match self {
            Self::Auto if std::path::Path::new(SERVICE_ACCOUNT_TOKEN).exists() => Self::Kubernetes,
            Self::Auto => Self::Process,
            other => other,
        }
    }
}

/// Parses the runtime-to-image map.
pub fn parse_runtime_images(text: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    serde_json::from_str(text).map_err(|err| format!("expected a JSON object of runtime to image: {err}"))
}

/// Logging settings, shared by every subcommand.
#[derive(Clone, Debug, Args)]
pub struct LogArgs {
    /// Log filter in `RUST_LOG` syntax, e.g. `info` or `dynastream=debug`.
    #[arg(long, env = "DYNASTREAM_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log line format.
    #[arg(long, env = "DYNASTREAM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// Parses an interval given in seconds (`1`, `0.25`, `2s`) or milliseconds (`100ms`); it must be positive.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = match (text.strip_suffix("ms"), text.strip_suffix('s')) {
        (Some(millis), _) => (millis, 0.001),
        (None, Some(seconds)) => (seconds, 1.0),
        (None, None) => (text, 1.0),
    };
    let invalid = || {
        format!("invalid interval {text:?}: expected seconds such as 1 or 0.1, or milliseconds such as 100ms")
    };
    let value: f64 = number.trim().parse().map_err(|_| invalid())?;
    if value.is_nan() || value <= 0.0 {
        return Err(invalid());
    }
    Duration::try_from_secs_f64(value * scale).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_read_as_seconds_or_milliseconds() {
        assert_eq!(parse_interval("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("0.1"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_interval("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("100ms"), Ok(Duration::from_millis(100)));
    }

    #[test]
    fn lambda_timeouts_reach_the_environment_settings() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let cli = <Cli as clap::Parser>::try_parse_from([
            "dynastream",
            "--lambda-idle-timeout",
            "30",
            "--lambda-start-timeout",
            "900",
        ])
        .unwrap();
        let settings = crate::server::Settings::from(&cli.serve).lambda.environments;
        assert_eq!(
            (settings.idle_timeout, settings.start_timeout),
            (Duration::from_secs(30), Duration::from_secs(900))
        );
    }

    #[test]
    fn interval_that_is_not_positive_is_refused() {
        for bad in ["0", "-1", "ms", "soon", "NaN", "inf"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
