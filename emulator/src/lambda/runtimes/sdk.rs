//! The AWS SDK each managed runtime ships on AWS, made resolvable for handlers run by the bundled bootstraps:
//! `aws-sdk` v2 for nodejs16.x and older, the AWS SDK for JavaScript v3 for nodejs18.x and newer, boto3 for
//! python. Each SDK is installed once, from the npm registry or PyPI, into its own folder of a cache directory
//! (`$DYNASTREAM_CACHE`, else `~/.cache/dynastream`), and handlers find it through `NODE_PATH` / `PYTHONPATH`
//! ([`sdk_environment`]) after their own dependencies, as on AWS.
//!
//! An install goes into a fresh folder that is renamed into place only once complete, with a marker file naming
//! what it holds, so it is idempotent and safe against concurrent installs and interrupted ones.

use std::{
    fmt, fs, io,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::Mutex,
};

use serde::{Deserialize, Serialize};

use super::{RuntimeFamily, find_on_path, interpreter};

/// Names the cache directory.
pub const CACHE_ENV: &str = "DYNASTREAM_CACHE";
/// The marker file inside an SDK folder: JSON naming the SDK and the packages installed.
pub const MARKER_FILE: &str = ".dynastream-sdk.json";

/// The AWS SDK for JavaScript v3 packages installed for nodejs18.x and newer: the clients a handler of a DynamoDB
/// stream most often uses, plus the document client and the marshalling helpers.
pub const AWS_SDK_V3_PACKAGES: &[&str] = &[
    "@aws-sdk/client-dynamodb",
    "@aws-sdk/lib-dynamodb",
    "@aws-sdk/util-dynamodb",
    "@aws-sdk/client-dynamodb-streams",
    "@aws-sdk/client-lambda",
    "@aws-sdk/client-s3",
    "@aws-sdk/client-sqs",
    "@aws-sdk/client-sns",
    "@aws-sdk/client-sts",
    "@aws-sdk/client-kinesis",
    "@aws-sdk/client-eventbridge",
    "@aws-sdk/client-secrets-manager",
    "@aws-sdk/client-ssm",
];

/// Failures of installing an SDK.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The package manager an install needs is not there.
    #[error("{tool} was not found, so {sdk} cannot be installed: {fix}")]
    ToolMissing {
        /// The missing tool (`npm`, `pip`).
        tool: &'static str,
        /// The SDK that needed it.
        sdk: Sdk,
        /// How to get it.
        fix: String,
    },
    /// The package manager ran and failed.
    #[error(
        "failed to install {sdk}: `{command}` exited with {status}; check the connection to the package registry and \
         run `dynastream runtimes install` again{output}"
    )]
    InstallFailed {
        /// The SDK.
        sdk: Sdk,
        /// The command line that failed.
        command: String,
        /// Its exit status.
        status: String,
        /// The end of its output, prefixed with a separator (empty when there was none).
        output: String,
    },
    /// A file operation in the cache directory failed.
    #[error("failed to {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// The result type of SDK installs.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An SDK a managed runtime ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sdk {
    /// `aws-sdk` v2 (nodejs16.x and older).
    #[serde(rename = "aws-sdk-v2")]
    AwsSdkV2,
    /// The AWS SDK for JavaScript v3 (nodejs18.x and newer).
    #[serde(rename = "aws-sdk-v3")]
    AwsSdkV3,
    /// boto3 (every python3.x runtime).
    #[serde(rename = "boto3")]
    Boto3,
}

impl fmt::Display for Sdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Sdk {
    /// Every SDK, in the order `dynastream runtimes install` installs them.
    pub const ALL: [Sdk; 3] = [Sdk::AwsSdkV3, Sdk::AwsSdkV2, Sdk::Boto3];

    /// The SDK the managed `runtime` ships; `None` for runtimes dynastream does not run.
    pub fn for_runtime(runtime: &str) -> Option<Self> {
        match RuntimeFamily::from_runtime(runtime)? {
            RuntimeFamily::Python => Some(Self::Boto3),
            // NB: plain `nodejs` and `nodejsN.M` (4.3, 6.10, 8.10) are the oldest runtimes: all v2.
            RuntimeFamily::Node => match node_major(runtime) {
                Some(major) if major >= 18 => Some(Self::AwsSdkV3),
                _ => Some(Self::AwsSdkV2),
            },
        }
    }

    /// The SDK called `name` (`aws-sdk-v2`, `aws-sdk-v3`, `boto3`), or the one a runtime called `name` ships.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "aws-sdk-v2" | "aws-sdk" | "v2" => Some(Self::AwsSdkV2),
            "aws-sdk-v3" | "v3" => Some(Self::AwsSdkV3),
            "boto3" => Some(Self::Boto3),
            runtime => Self::for_runtime(runtime),
        }
    }

    /// Its name, which is also its folder in the cache directory.
    pub fn name(self) -> &'static str {
        match self {
            Self::AwsSdkV2 => "aws-sdk-v2",
            Self::AwsSdkV3 => "aws-sdk-v3",
            Self::Boto3 => "boto3",
        }
    }

    /// The packages installed for it.
    pub fn packages(self) -> Vec<String> {
        match self {
            Self::AwsSdkV2 => vec!["aws-sdk@2".to_owned()],
            Self::AwsSdkV3 => AWS_SDK_V3_PACKAGES
                .iter()
                .map(|package| (*package).to_owned())
                .collect(),
            Self::Boto3 => vec!["boto3".to_owned()],
        }
    }

    /// Its folder in `cache_dir`.
    pub fn dir(self, cache_dir: &Path) -> PathBuf {
        cache_dir.join(self.name())
    }

    /// The folder handlers resolve it from: `node_modules` for npm installs, the install folder for pip.
    pub fn module_dir(self, cache_dir: &Path) -> PathBuf {
        match self {
            Self::AwsSdkV2 | Self::AwsSdkV3 => self.dir(cache_dir).join("node_modules"),
            Self::Boto3 => self.dir(cache_dir),
        }
    }

    /// The package whose version [`sdk_status`] reports.
    fn version_package(self) -> &'static str {
        match self {
            Self::AwsSdkV2 => "aws-sdk",
            Self::AwsSdkV3 => "@aws-sdk/client-dynamodb",
            Self::Boto3 => "boto3",
        }
    }
}

/// The major version in a `nodejsNN.x` runtime identifier.
fn node_major(runtime: &str) -> Option<u32> {
    let digits: String = runtime
        .strip_prefix("nodejs")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// What the marker file records.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Marker {
    sdk: Sdk,
    packages: Vec<String>,
}

/// The cache directory: `$DYNASTREAM_CACHE`, else `~/.cache/dynastream` (a folder in the temporary directory when
/// there is no home).
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    match std::env::var_os("HOME").filter(|home| !home.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("dynastream"),
        None => std::env::temp_dir().join("dynastream-cache"),
    }
}

/// The variables that make the SDK `runtime` ships resolvable, as AWS's runtimes set them: `NODE_PATH` for node
/// (the SDK's `node_modules`; the bootstrap appends the task root, as AWS's `NODE_PATH` ends with `/var/task`),
/// `PYTHONPATH` for python. A handler's own `node_modules` or vendored packages still come first, as on AWS.
///
/// The entries are returned whether or not the SDK is installed yet ([`ensure_sdk`] installs it); empty for
/// runtimes dynastream does not run. A `NODE_PATH` / `PYTHONPATH` in the function's configuration replaces these,
/// as it replaces AWS's.
pub fn sdk_environment(runtime: &str, cache_dir: &Path) -> Vec<(String, String)> {
    let Some(sdk) = Sdk::for_runtime(runtime) else {
        return Vec::new();
    };
    let dir = sdk.module_dir(cache_dir).to_string_lossy().into_owned();
    match sdk {
        Sdk::AwsSdkV2 => vec![
            ("NODE_PATH".to_owned(), dir),
            // NB: recent aws-sdk v2 releases print an end-of-support notice on load; the ones AWS bundled did not.
            (
                "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE".to_owned(),
                "1".to_owned(),
            ),
        ],
        Sdk::AwsSdkV3 => vec![("NODE_PATH".to_owned(), dir)],
        Sdk::Boto3 => vec![("PYTHONPATH".to_owned(), dir)],
    }
}

/// Whether `sdk` is installed (completely, with the current package list) in `cache_dir`.
pub fn is_installed(sdk: Sdk, cache_dir: &Path) -> bool {
    read_marker(&sdk.dir(cache_dir)).is_some_and(|marker| {
        marker
            == Marker {
                sdk,
                packages: sdk.packages(),
            }
    })
}

fn read_marker(dir: &Path) -> Option<Marker> {
    serde_json::from_slice(&fs::read(dir.join(MARKER_FILE)).ok()?).ok()
}

/// Makes sure the SDK that `runtime` ships is installed in `cache_dir`, installing it on first use (which needs
/// the network and takes from seconds to a minute; `progress` hears about it). Returns the SDK, or `None` for
/// runtimes dynastream does not run. Blocking: call it from a blocking task.
pub fn ensure_sdk(runtime: &str, cache_dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<Option<Sdk>> {
    let Some(sdk) = Sdk::for_runtime(runtime) else {
        return Ok(None);
    };
    // NB: one install at a time in this process, so environments starting together wait for the first install
    // instead of running npm side by side; other processes are kept apart by the rename into place.
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _guard = INSTALLING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !is_installed(sdk, cache_dir) {
        progress(&format!(
            "the {runtime} runtime ships {}, which is not installed yet",
            describe(sdk)
        ));
        install_sdk(sdk, cache_dir, progress)?;
    }
    Ok(Some(sdk))
}

fn describe(sdk: Sdk) -> &'static str {
    match sdk {
        Sdk::AwsSdkV2 => "the AWS SDK for JavaScript v2 (aws-sdk)",
        Sdk::AwsSdkV3 => "the AWS SDK for JavaScript v3 (@aws-sdk/*)",
        Sdk::Boto3 => "boto3",
    }
}

/// Installs `sdk` into its folder of `cache_dir` unless it is already there, reporting each step to `progress`.
pub fn install_sdk(sdk: Sdk, cache_dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let final_dir = sdk.dir(cache_dir);
    if is_installed(sdk, cache_dir) {
        progress(&format!("{sdk} is already installed in {}", final_dir.display()));
        return Ok(());
    }
    progress(&format!(
        "installing {} into {}",
        sdk.packages().join(" "),
        final_dir.display()
    ));
    fs::create_dir_all(cache_dir).map_err(|source| Error::Io {
        action: "create",
        path: cache_dir.into(),
        source,
    })?;
    let staging = cache_dir.join(format!(
        ".{}.partial-{}-{}",
        sdk.name(),
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result =
        install_into(sdk, &staging, progress).and_then(|()| move_into_place(sdk, &staging, &final_dir));
    if staging.exists() {
        let _ = fs::remove_dir_all(&staging);
    }
    result?;
    progress(&format!("installed {sdk} in {}", final_dir.display()));
    Ok(())
}

/// Runs the package manager into `staging` and writes the marker.
fn install_into(sdk: Sdk, staging: &Path, progress: &mut dyn FnMut(&str)) -> Result<()> {
    fs::create_dir_all(staging).map_err(|source| Error::Io {
        action: "create",
        path: staging.into(),
        source,
    })?;
    let packages = sdk.packages();
    let mut command = match sdk {
        Sdk::AwsSdkV2 | Sdk::AwsSdkV3 => {
            let npm = npm_program().ok_or_else(|| Error::ToolMissing {
                tool: "npm",
                sdk,
                fix: "install Node.js with npm (e.g. `apt-get install npm`) or put npm on PATH".to_owned(),
            })?;
            let mut command = Command::new(npm);
            command
                .arg("install")
                .arg("--prefix")
                .arg(staging)
                .args([
                    "--no-audit",
                    "--no-fund",
                    "--no-update-notifier",
                    "--loglevel=error",
                ])
                .args(&packages);
            command
        }
        Sdk::Boto3 => {
            let python = interpreter(RuntimeFamily::Python).map_err(|error| Error::ToolMissing {
                tool: "python3",
                sdk,
                fix: format!("{error}"),
            })?;
            let mut command = Command::new(python);
            command
                .args(["-m", "pip", "install", "--target"])
                .arg(staging)
                .args(["--no-input", "--disable-pip-version-check", "--quiet"])
                .args(&packages);
            command
        }
    };
    let shown = show_command(&command);
    progress(&format!("running {shown}"));
    let output = command.output().map_err(|source| match sdk {
        Sdk::Boto3 => Error::Io {
            action: "start python3 for",
            path: staging.into(),
            source,
        },
        _ => Error::Io {
            action: "start npm for",
            path: staging.into(),
            source,
        },
    })?;
    if !output.status.success() {
        if sdk == Sdk::Boto3 && String::from_utf8_lossy(&output.stderr).contains("No module named pip") {
            return Err(Error::ToolMissing {
                tool: "pip",
                sdk,
                fix:
                    "install pip for python3 (e.g. `apt-get install python3-pip`, or `python3 -m ensurepip`)"
                        .to_owned(),
            });
        }
        return Err(Error::InstallFailed {
            sdk,
            command: shown,
            status: output.status.to_string(),
            output: output_tail(&output),
        });
    }
    if let Some(summary) = last_line(&output.stdout) {
        progress(&summary);
    }
    let marker = Marker { sdk, packages };
    let path = staging.join(MARKER_FILE);
    let json = serde_json::to_vec_pretty(&marker).map_err(|error| Error::Io {
        action: "write",
        path: path.clone(),
        source: io::Error::other(error),
    })?;
    fs::write(&path, json).map_err(|source| Error::Io {
        action: "write",
        path,
        source,
    })
}

/// Renames the finished install into place; a complete install that another process put there first wins, an
/// incomplete or outdated one is replaced.
fn move_into_place(sdk: Sdk, staging: &Path, final_dir: &Path) -> Result<()> {
    for _ in 0..3 {
        match fs::rename(staging, final_dir) {
            Ok(()) => return Ok(()),
            Err(_)
                if read_marker(final_dir).is_some_and(|m| {
                    m == Marker {
                        sdk,
                        packages: sdk.packages(),
                    }
                }) =>
            {
                return Ok(());
            }
            Err(source) if !final_dir.exists() => {
                return Err(Error::Io {
                    action: "move an install to",
                    path: final_dir.into(),
                    source,
                });
            }
            Err(_) => {
                // NB: moved aside first, so a reader never sees a folder half deleted.
                let aside = final_dir.with_extension(format!("old-{}", uuid::Uuid::new_v4().simple()));
                if fs::rename(final_dir, &aside).is_ok() {
                    let _ = fs::remove_dir_all(&aside);
                }
            }
        }
    }
    fs::rename(staging, final_dir).map_err(|source| Error::Io {
        action: "move an install to",
        path: final_dir.into(),
        source,
    })
}

/// npm: next to the node interpreter in use, else on PATH.
fn npm_program() -> Option<PathBuf> {
    let beside_node = interpreter(RuntimeFamily::Node)
        .ok()
        .and_then(|node| node.parent().map(|dir| dir.join("npm")))
        .filter(|npm| npm.is_file());
    beside_node.or_else(|| find_on_path("npm"))
}

fn show_command(command: &Command) -> String {
    let mut shown = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}

fn last_line(bytes: &[u8]) -> Option<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_owned)
}

/// The last lines of a failed command's output, for the error message.
fn output_tail(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    if text.trim().is_empty() {
        text = String::from_utf8_lossy(&output.stdout).into_owned();
    }
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(15)..];
    if tail.is_empty() {
        String::new()
    } else {
        format!(":\n{}", tail.join("\n"))
    }
}

/// What [`sdk_status`] reports about one SDK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkStatus {
    /// The SDK.
    pub sdk: Sdk,
    /// Its folder.
    pub dir: PathBuf,
    /// Whether it is completely installed.
    pub installed: bool,
    /// The installed version of its main package, when known.
    pub version: Option<String>,
}

/// The state of every SDK in `cache_dir`.
pub fn sdk_status(cache_dir: &Path) -> Vec<SdkStatus> {
    Sdk::ALL
        .into_iter()
        .map(|sdk| {
            let installed = is_installed(sdk, cache_dir);
            SdkStatus {
                sdk,
                dir: sdk.dir(cache_dir),
                installed,
                version: if installed {
                    installed_version(sdk, cache_dir)
                } else {
                    None
                },
            }
        })
        .collect()
}

fn installed_version(sdk: Sdk, cache_dir: &Path) -> Option<String> {
    match sdk {
        Sdk::AwsSdkV2 | Sdk::AwsSdkV3 => {
            let manifest = sdk
                .module_dir(cache_dir)
                .join(sdk.version_package())
                .join("package.json");
            let json: serde_json::Value = serde_json::from_slice(&fs::read(manifest).ok()?).ok()?;
            json.get("version")?.as_str().map(str::to_owned)
        }
        Sdk::Boto3 => {
            // pip records `boto3-<version>.dist-info`.
            let prefix = format!("{}-", sdk.version_package());
            fs::read_dir(sdk.dir(cache_dir))
                .ok()?
                .flatten()
                .find_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    name.strip_prefix(&prefix)?
                        .strip_suffix(".dist-info")
                        .map(str::to_owned)
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_map_to_the_sdk_aws_ships() {
        assert_eq!(Sdk::for_runtime("nodejs16.x"), Some(Sdk::AwsSdkV2));
        assert_eq!(Sdk::for_runtime("nodejs14.x"), Some(Sdk::AwsSdkV2));
        assert_eq!(Sdk::for_runtime("nodejs8.10"), Some(Sdk::AwsSdkV2));
        assert_eq!(Sdk::for_runtime("nodejs"), Some(Sdk::AwsSdkV2));
        assert_eq!(Sdk::for_runtime("nodejs18.x"), Some(Sdk::AwsSdkV3));
        assert_eq!(Sdk::for_runtime("nodejs24.x"), Some(Sdk::AwsSdkV3));
        assert_eq!(Sdk::for_runtime("python3.9"), Some(Sdk::Boto3));
        assert_eq!(Sdk::for_runtime("ruby3.3"), None);
    }

    #[test]
    fn sdk_environment_points_at_the_module_folder() {
        let cache = Path::new("/cache");
        assert_eq!(
            sdk_environment("nodejs20.x", cache),
            vec![(
                "NODE_PATH".to_owned(),
                "/cache/aws-sdk-v3/node_modules".to_owned()
            )]
        );
        assert_eq!(
            sdk_environment("nodejs16.x", cache)[0].1,
            "/cache/aws-sdk-v2/node_modules"
        );
        assert_eq!(
            sdk_environment("python3.12", cache),
            vec![("PYTHONPATH".to_owned(), "/cache/boto3".to_owned())]
        );
        assert!(sdk_environment("java21", cache).is_empty());
    }

    #[test]
    fn sdk_names_and_runtimes_both_select_an_sdk() {
        assert_eq!(Sdk::from_name("boto3"), Some(Sdk::Boto3));
        assert_eq!(Sdk::from_name("aws-sdk-v3"), Some(Sdk::AwsSdkV3));
        assert_eq!(Sdk::from_name("nodejs16.x"), Some(Sdk::AwsSdkV2));
        assert_eq!(Sdk::from_name("cobol"), None);
    }
}
