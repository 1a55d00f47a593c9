//! The bundled language runtimes: what an execution environment starts when AWS's base image layout
//! (`/var/runtime/bootstrap`) is absent. dynastream runs node and python handlers only; each family has a
//! standalone bootstrap embedded in the binary ([`NODE_BOOTSTRAP`], [`PYTHON_BOOTSTRAP`]) that talks to the Runtime
//! API ([`super::runtime_api`]) exactly as AWS's runtime interface clients do, and [`sdk`] makes the AWS SDK that
//! each runtime ships on AWS resolvable.
//!
//! This folder knows interpreters, files and package managers; it must not import the HTTP stack or the
//! environments: the agent calls [`bootstrap_command`], [`sdk::sdk_environment`] and [`sdk::ensure_sdk`], the Lambda
//! API calls [`interpreter_problem`], and `dynastream runtimes` calls [`cli::run`].

pub mod cli;
pub mod sdk;

use std::{
    collections::HashMap,
    ffi::OsString,
    fs, io,
    path::{Path, PathBuf},
    process::Command,
    sync::{Mutex, OnceLock},
};

pub use sdk::{Sdk, SdkStatus, default_cache_dir, ensure_sdk, install_sdk, sdk_environment, sdk_status};

/// The node bootstrap (an ES module): handler loading, the invoke loop, context, errors and logs.
pub const NODE_BOOTSTRAP: &str = include_str!("node/bootstrap.mjs");
/// The ES module resolve hook the node bootstrap registers so that `import` finds the SDK on `NODE_PATH`.
pub const NODE_LOADER: &str = include_str!("node/loader.mjs");
/// The python bootstrap.
pub const PYTHON_BOOTSTRAP: &str = include_str!("python/bootstrap.py");

/// Names the node interpreter to use instead of `node` on `PATH`.
pub const NODE_OVERRIDE_ENV: &str = "DYNASTREAM_NODE";
/// Names the python interpreter to use instead of `python3` on `PATH`.
pub const PYTHON_OVERRIDE_ENV: &str = "DYNASTREAM_PYTHON";

/// Oldest Node.js the node bootstrap runs on (its syntax targets Node 16).
pub const MIN_NODE_MAJOR: u32 = 16;
/// Oldest Python the python bootstrap runs on (its syntax targets Python 3.8).
pub const MIN_PYTHON_MINOR: u32 = 8;

/// The language family of a Lambda runtime identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeFamily {
    /// `nodejs*` runtimes.
    Node,
    /// `python3.*` runtimes.
    Python,
}

impl RuntimeFamily {
    /// The family of a runtime identifier such as `nodejs20.x` or `python3.12`; `None` for runtimes dynastream
    /// cannot run (java, dotnet, ruby, provided, python2.7, ...).
    pub fn from_runtime(runtime: &str) -> Option<Self> {
        if runtime.starts_with("nodejs") {
            Some(Self::Node)
        } else if runtime.starts_with("python3.") {
            Some(Self::Python)
        } else {
            None
        }
    }

    /// The interpreter looked up on `PATH` when no override is set.
    pub fn default_interpreter(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Python => "python3",
        }
    }

    /// The environment variable that overrides the interpreter.
    pub fn override_env(self) -> &'static str {
        match self {
            Self::Node => NODE_OVERRIDE_ENV,
            Self::Python => PYTHON_OVERRIDE_ENV,
        }
    }

    /// What the interpreter is called in messages.
    fn language(self) -> &'static str {
        match self {
            Self::Node => "Node.js",
            Self::Python => "Python",
        }
    }

    /// The files of this family's bootstrap: (file name, contents); the first one is the program to run.
    fn bootstrap_files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Node => &[("bootstrap.mjs", NODE_BOOTSTRAP), ("loader.mjs", NODE_LOADER)],
            Self::Python => &[("bootstrap.py", PYTHON_BOOTSTRAP)],
        }
    }

    /// Interpreter options placed before the bootstrap file.
    fn interpreter_args(self) -> &'static [&'static str] {
        match self {
            // NB: AWS's node bootstrap starts node with `--expose-gc --max-http-header-size 81920`, so `global.gc`
            // exists in handlers.
            Self::Node => &["--expose-gc", "--max-http-header-size=81920"],
            // NB: `-S` leaves out the machine's site-packages: on AWS a handler sees only its own code, its
            // layers and the runtime's boto3, so a module that is merely installed here must not import either.
            Self::Python => &["-S"],
        }
    }
}

/// The interpreter of `family`: the override variable's program if set, else the default name found on `PATH`.
pub fn interpreter(family: RuntimeFamily) -> io::Result<PathBuf> {
    if let Some(program) = std::env::var_os(family.override_env()).filter(|value| !value.is_empty()) {
        let program = PathBuf::from(program);
        // A bare name in the override is looked up on PATH like the default.
        if program.components().count() == 1 {
            return find_on_path(&program.to_string_lossy()).ok_or_else(|| {
                not_found(format!(
                    "{} is set to {}, which was not found on PATH",
                    family.override_env(),
                    program.display()
                ))
            });
        }
        return if is_executable(&program) {
            Ok(program)
        } else {
            Err(not_found(format!(
                "{} is set to {}, which is not an executable file",
                family.override_env(),
                program.display()
            )))
        };
    }
    find_on_path(family.default_interpreter()).ok_or_else(|| {
        not_found(format!(
            "`{}` was not found on PATH: install {} (or set {} to its interpreter)",
            family.default_interpreter(),
            family.language(),
            family.override_env()
        ))
    })
}

/// Writes the embedded bootstrap of `family` into `scratch_dir/<family>/` (only when missing or different) and
/// returns how to start it: the interpreter and its arguments, e.g. `node --expose-gc ... <dir>/node/bootstrap.mjs`
/// or `python3 -S <dir>/python/bootstrap.py`.
///
/// The process must get the Lambda environment variables (`AWS_LAMBDA_RUNTIME_API`, `_HANDLER`,
/// `LAMBDA_TASK_ROOT`, ...) plus [`sdk_environment`], with the task root as its working directory.
pub fn bootstrap_command(family: RuntimeFamily, scratch_dir: &Path) -> io::Result<(PathBuf, Vec<String>)> {
    let program = interpreter(family)?;
    let dir = scratch_dir.join(match family {
        RuntimeFamily::Node => "node",
        RuntimeFamily::Python => "python",
    });
    fs::create_dir_all(&dir)?;
    let files = family.bootstrap_files();
    for (name, contents) in files {
        write_if_changed(&dir.join(name), contents)?;
    }
    let mut args: Vec<String> = family
        .interpreter_args()
        .iter()
        .map(|arg| (*arg).to_owned())
        .collect();
    // NB: `files` is never empty; the first file is the program.
    if let Some((name, _)) = files.first() {
        args.push(dir.join(name).to_string_lossy().into_owned());
    }
    Ok((program, args))
}

/// Why a function with `runtime` cannot run here, if it cannot: the runtime is not one dynastream runs, or its
/// interpreter is missing or too old. `None` when `node` / `python3` (or the override) is usable.
pub fn interpreter_problem(runtime: &str) -> Option<String> {
    let Some(family) = RuntimeFamily::from_runtime(runtime) else {
        return Some(format!(
            "dynastream runs node and python handlers only: the {runtime} runtime is not supported (use a \
             nodejs* or python3.* runtime)"
        ));
    };
    let program = match interpreter(family) {
        Ok(program) => program,
        Err(error) => {
            return Some(format!(
                "the {runtime} runtime needs {}, but {error}",
                family.language()
            ));
        }
    };
    match interpreter_version(family, &program) {
        Ok(version) if version_supported(family, &version) => None,
        Ok(version) => Some(format!(
            "the {runtime} runtime needs {} {} or newer, but {} is {version}: install a newer one or set {}",
            family.language(),
            match family {
                RuntimeFamily::Node => format!("{MIN_NODE_MAJOR}"),
                RuntimeFamily::Python => format!("3.{MIN_PYTHON_MINOR}"),
            },
            program.display(),
            family.override_env()
        )),
        Err(error) => Some(format!(
            "the {runtime} runtime needs {}, but {error}",
            family.language()
        )),
    }
}

/// The interpreter's version text (`v20.11.1`, `3.11.7`); asked once per program and remembered.
pub fn interpreter_version(family: RuntimeFamily, program: &Path) -> Result<String, String> {
    static VERSIONS: OnceLock<Mutex<HashMap<PathBuf, Result<String, String>>>> = OnceLock::new();
    let versions = VERSIONS.get_or_init(Default::default);
    if let Some(known) = versions.lock().ok().and_then(|map| map.get(program).cloned()) {
        return known;
    }
    let asked = Command::new(program)
        .arg("--version")
        .output()
        .map_err(|error| format!("{} could not be started: {error}", program.display()))
        .and_then(|output| {
            // NB: Python 2 and some 3.x builds print the version to stderr.
            let text = String::from_utf8_lossy(if output.stdout.is_empty() {
                &output.stderr
            } else {
                &output.stdout
            })
            .trim()
            .to_owned();
            if !output.status.success() {
                return Err(format!(
                    "`{} --version` failed ({}): {text}",
                    program.display(),
                    output.status
                ));
            }
            Ok(match family {
                RuntimeFamily::Node => text,
                RuntimeFamily::Python => text.trim_start_matches("Python ").to_owned(),
            })
        });
    if let Ok(mut map) = versions.lock() {
        map.insert(program.to_owned(), asked.clone());
    }
    asked
}

fn version_supported(family: RuntimeFamily, version: &str) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split('.')
        .map(|part| part.parse::<u32>().ok());
    match family {
        RuntimeFamily::Node => matches!(parts.next(), Some(Some(major)) if major >= MIN_NODE_MAJOR),
        RuntimeFamily::Python => match (parts.next(), parts.next()) {
            (Some(Some(3)), Some(Some(minor))) => minor >= MIN_PYTHON_MINOR,
            (Some(Some(major)), _) => major > 3,
            _ => false,
        },
    }
}

/// Writes `contents` to `path` unless it already holds exactly that; through a temporary file and a rename, so
/// environments starting at the same time never see a half-written bootstrap.
fn write_if_changed(path: &Path, contents: &str) -> io::Result<()> {
    if fs::read(path).is_ok_and(|existing| existing == contents.as_bytes()) {
        return Ok(());
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let temporary = PathBuf::from(temporary);
    fs::write(&temporary, contents)?;
    fs::rename(&temporary, path).inspect_err(|_| {
        let _ = fs::remove_file(&temporary);
    })
}

/// The first executable called `name` in the folders of `PATH`.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn not_found(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names_map_to_families() {
        assert_eq!(
            RuntimeFamily::from_runtime("nodejs20.x"),
            Some(RuntimeFamily::Node)
        );
        assert_eq!(RuntimeFamily::from_runtime("nodejs"), Some(RuntimeFamily::Node));
        assert_eq!(
            RuntimeFamily::from_runtime("python3.12"),
            Some(RuntimeFamily::Python)
        );
        assert_eq!(RuntimeFamily::from_runtime("python2.7"), None);
        assert_eq!(RuntimeFamily::from_runtime("java21"), None);
        assert_eq!(RuntimeFamily::from_runtime("provided.al2023"), None);
    }

    #[test]
    fn unsupported_runtime_problem_names_what_runs() {
        let problem = interpreter_problem("java21").unwrap();
        assert!(problem.contains("node and python handlers only"), "{problem}");
        assert!(problem.contains("java21"), "{problem}");
    }

    #[test]
    fn versions_below_the_minimum_are_refused() {
        assert!(version_supported(RuntimeFamily::Node, "v20.11.1"));
        assert!(version_supported(RuntimeFamily::Node, "v16.0.0"));
        assert!(!version_supported(RuntimeFamily::Node, "v14.21.3"));
        assert!(version_supported(RuntimeFamily::Python, "3.8.18"));
        assert!(version_supported(RuntimeFamily::Python, "3.13.0rc1"));
        assert!(!version_supported(RuntimeFamily::Python, "3.7.17"));
        assert!(!version_supported(RuntimeFamily::Python, "2.7.18"));
    }
}
