//! `dynastream runtimes`: installs the AWS SDKs the managed runtimes ship (`install`) and shows what is installed
//! and which interpreters were found (`status`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{
    RuntimeFamily, interpreter, interpreter_version,
    sdk::{self, Sdk, default_cache_dir, install_sdk, sdk_status},
};

/// Arguments of `dynastream runtimes`.
#[derive(Clone, Debug, Args)]
pub struct RuntimesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RuntimesCommand,
    /// Where the SDKs are installed (default: $DYNASTREAM_CACHE, else ~/.cache/dynastream).
    #[arg(long, global = true)]
    pub cache_dir: Option<PathBuf>,
}

/// The subcommands of `dynastream runtimes`.
#[derive(Clone, Debug, Subcommand)]
pub enum RuntimesCommand {
    /// Install the AWS SDKs that Lambda's node and python runtimes ship (once; later runs do nothing).
    Install {
        /// SDKs (aws-sdk-v2, aws-sdk-v3, boto3) or runtimes (nodejs20.x, python3.12, ...) to install for; all
        /// SDKs when none is given.
        targets: Vec<String>,
    },
    /// Show the installed SDKs and the interpreters handlers run with.
    Status,
}

/// Runs `dynastream runtimes ...`, printing progress and results to stdout.
pub fn run(args: &RuntimesArgs) -> Result<(), sdk::Error> {
    let cache_dir = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    match &args.command {
        RuntimesCommand::Install { targets } => {
            let mut sdks = Vec::new();
            for target in targets {
                match Sdk::from_name(target) {
                    Some(sdk) if !sdks.contains(&sdk) => sdks.push(sdk),
                    Some(_) => {}
                    None => {
                        println!(
                            "{target}: not an SDK (aws-sdk-v2, aws-sdk-v3, boto3) or a runtime dynastream runs \
                             (nodejs*, python3.*); skipped"
                        );
                    }
                }
            }
            if targets.is_empty() {
                sdks = Sdk::ALL.to_vec();
            }
            for sdk in sdks {
                install_sdk(sdk, &cache_dir, &mut |message| println!("{sdk}: {message}"))?;
            }
            Ok(())
        }
        RuntimesCommand::Status => {
            println!("cache directory: {}", cache_dir.display());
            for status in sdk_status(&cache_dir) {
                let state = match (&status.installed, &status.version) {
                    (true, Some(version)) => format!("installed ({version})"),
                    (true, None) => "installed".to_owned(),
                    (false, _) => "not installed (run `dynastream runtimes install`)".to_owned(),
                };
                println!("{:<11} {state}  {}", status.sdk.name(), status.dir.display());
            }
            for family in [RuntimeFamily::Node, RuntimeFamily::Python] {
                let line = match interpreter(family) {
                    Ok(program) => match interpreter_version(family, &program) {
                        Ok(version) => format!("{version}  {}", program.display()),
                        Err(error) => error,
                    },
                    Err(error) => error.to_string(),
                };
                println!("{:<11} {line}", family.default_interpreter());
            }
            Ok(())
        }
    }
}
