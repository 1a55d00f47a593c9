//! Command-line and environment settings of `dynastream serve`.

use std::net::IpAddr;

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
