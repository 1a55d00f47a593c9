//! The `dynastream` binary: parses the command line, sets up logging, and runs the chosen subcommand.

use clap::{Parser, Subcommand};
use dynastream::config::{LogArgs, LogFormat, ServeArgs};
use tracing_subscriber::EnvFilter;

// Stream records and Lambda batches churn through many short-lived allocations of mixed sizes; under glibc's
// allocator the heap fragmented and mapping throughput halved as the process aged (emulator/bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A fast, faithful emulator of Amazon DynamoDB, DynamoDB Streams and AWS Lambda.
#[derive(Debug, Parser)]
#[command(name = "dynastream", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Settings of `serve`, also accepted without the subcommand.
    #[command(flatten)]
    serve: ServeArgs,
    #[command(flatten)]
    log: LogArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve DynamoDB on the edge port (the default).
    Serve(ServeArgs),
    /// Install or inspect the AWS SDKs that Lambda's node and python runtimes ship.
    Runtimes(dynastream::lambda::runtimes::cli::RuntimesArgs),
    /// Run inside a Lambda execution environment: serve the Runtime API to the handler's runtime (started by
    /// the emulator, not by hand).
    #[command(hide = true)]
    Agent(dynastream::lambda::agent::AgentArgs),
    /// Copy this binary into a directory, as `DIR/dynastream` (the init container of a Lambda execution
    /// environment's pod runs it to hand the agent to the runtime's image).
    #[command(hide = true)]
    InstallAgent {
        /// Where to put the copy.
        dir: std::path::PathBuf,
    },
}

fn init_logging(args: &LogArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&args.log)
        .map_err(|err| anyhow::anyhow!("invalid log filter {:?}: {err}", args.log))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match args.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(&cli.log)?;
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        Some(Command::Runtimes(args)) => return Ok(dynastream::lambda::runtimes::cli::run(&args)?),
        Some(Command::Agent(args)) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            return Ok(runtime.block_on(dynastream::lambda::agent::run(args))?);
        }
        Some(Command::InstallAgent { dir }) => {
            let copy = dynastream::lambda::agent::install(&dir)?;
            println!("installed {}", copy.display());
            return Ok(());
        }
        None => cli.serve,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(dynastream::serve(args))?;
    Ok(())
}
