//! The `dynastream-operator` binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Kubernetes operator for dynastream: Table, Function and EventSourceMapping resources.
#[derive(Debug, Parser)]
#[command(name = "dynastream-operator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the controllers (the default).
    Run(RunArgs),
    /// Print the custom resource definitions as YAML, or write one file per definition.
    Crds {
        /// Write `<plural>.dynastream.dev.yaml` files into this directory instead of printing.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Clone, Debug, clap::Args)]
struct RunArgs {
    /// The settings file (JSON; the Helm chart renders it). Without it, every setting has its default.
    #[arg(long, env = "DYNASTREAM_OPERATOR_CONFIG")]
    config: Option<PathBuf>,
    /// Port of the `/healthz` and `/readyz` probes.
    #[arg(long, env = "DYNASTREAM_OPERATOR_HEALTH_PORT", default_value_t = 8081)]
    health_port: u16,
    /// Log filter in `RUST_LOG` syntax.
    #[arg(long, env = "DYNASTREAM_LOG", default_value = "info")]
    log: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Crds { dir }) => write_crds(dir),
        Some(Command::Run(args)) => run(args),
        None => run(cli.run),
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&args.log)
        .map_err(|err| anyhow::anyhow!("invalid log filter {:?}: {err}", args.log))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
    let config = match &args.config {
        Some(path) => dynastream_operator::config::Config::load(path)?,
        None => dynastream_operator::config::Config::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = kube::Client::try_default()
            .await
            .map_err(|err| anyhow::anyhow!("connecting to the Kubernetes API: {err}"))?;
        let health = tokio::net::TcpListener::bind(("0.0.0.0", args.health_port))
            .await
            .map_err(|err| anyhow::anyhow!("binding the health port {}: {err}", args.health_port))?;
        tokio::spawn(async move {
            let app = axum::Router::new()
                .route("/healthz", axum::routing::get(|| async { "ok" }))
                .route("/readyz", axum::routing::get(|| async { "ok" }));
            if let Err(err) = axum::serve(health, app).await {
                tracing::error!("health endpoint: {err}");
            }
        });
        tracing::info!(image = %config.emulator.image, "dynastream-operator {} running", env!("CARGO_PKG_VERSION"));
        dynastream_operator::controller::run(client, config).await
    })
}

fn write_crds(dir: Option<PathBuf>) -> anyhow::Result<()> {
    use dynastream_operator::crd;
    for definition in crd::definitions() {
        let yaml = crd::to_yaml(&definition)?;
        match &dir {
            Some(dir) => {
                let path = dir.join(crd::file_name(&definition));
                std::fs::create_dir_all(dir)?;
                std::fs::write(&path, yaml)
                    .map_err(|err| anyhow::anyhow!("writing {}: {err}", path.display()))?;
            }
            None => print!("{yaml}"),
        }
    }
    Ok(())
}
