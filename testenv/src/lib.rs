//! Test helper for the project's real single-node Kubernetes cluster (`testenv/cluster`, DESIGN.md §5).
//!
//! [`cluster()`] starts the cluster once per test process and shares it; a test takes a fresh namespace with
//! [`Cluster::namespace`], images with [`Cluster::project_image`] or [`Cluster::cached_image`], and waits for what
//! the cluster does with [`wait_for`]:
//!
//! ```no_run
//! # async fn example() {
//! let Some(cluster) = dynastream_testenv::cluster() else { return }; // skipped: the reason is printed
//! let ns = cluster.namespace("table-ready").await;
//! cluster.kubectl(&["get", "pods", "-n", &ns]);
//! # }
//! ```
//!
//! The cluster keeps running when the process ends (the next test binary reuses it): `.ci/test` runs
//! `testenv/cluster stop` at the end, and so should whoever starts it by hand.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::Api;
use kube::api::PostParams;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Debian's docker client; `/usr/local/bin/docker` may be a newer one that does not match the daemon.
const DOCKER: &str = "/usr/bin/docker";
/// The label every test namespace carries, so leftovers can be found with a selector.
const NAMESPACE_LABEL: &str = "dynastream.dev/testenv";

/// The running test cluster: its kubeconfig, its kubectl and the base image its pods can run.
#[derive(Debug)]
pub struct Cluster {
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    base_image: String,
    project_image: OnceLock<String>,
}

/// What starting the cluster came to, once per process.
enum Outcome {
    Up(Cluster),
    /// This machine cannot build or run the cluster (and CI is not set): tests skip.
    Skip(String),
    /// A real failure: every test that asks for the cluster panics with it.
    Failed(String),
}

static CLUSTER: OnceLock<Outcome> = OnceLock::new();

/// The shared cluster of this test process.
///
/// The first call runs `testenv/cluster build` and `start` (2 s and 0.5 s when cached and running, about 17 s
/// from a stopped cluster); parallel tests wait for it and share the result. Returns `None`, after printing
/// `skipped: <why>` to stderr, when the cluster cannot be built here (`build` fails: not root, no Debian apt, ...)
/// or `start` exits 3 or 4; under `CI=true` those panic instead. Any other failure of `start` panics with the
/// script's stderr (the components' logs are in the cache's `testenv/run/logs/`).
pub fn cluster() -> Option<&'static Cluster> {
    match CLUSTER.get_or_init(start_cluster) {
        Outcome::Up(cluster) => Some(cluster),
        Outcome::Skip(why) => {
            // Straight to the process's stderr, past the test harness's capture, so the skip is visible.
            let _ = writeln!(std::io::stderr(), "skipped: {why}");
            None
        }
        Outcome::Failed(why) => panic!("{why}"),
    }
}

fn start_cluster() -> Outcome {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let cannot = |what: &str, run: &ScriptRun| {
        let why = format!("the test cluster cannot {what}");
        if ci {
            Outcome::Failed(format!("{why}, and CI=true requires it: {}", run.error()))
        } else {
            Outcome::Skip(format!("{why} ({})", run.summary()))
        }
    };
    let build = script(&["build"]);
    if !build.ok {
        return cannot("be built here (testenv/cluster build failed)", &build);
    }
    let start = script(&["start"]);
    match start.code {
        Some(0) => {}
        Some(3 | 4) => return cannot("run here (testenv/cluster start failed)", &start),
        _ => return Outcome::Failed(format!("testenv/cluster start: {}", start.error())),
    }
    let env = script(&["env"]);
    if !env.ok {
        return Outcome::Failed(format!("testenv/cluster env: {}", env.error()));
    }
    // `env` prints `export KEY=VALUE` lines; PATH's first entry is the directory of the cluster's kubectl.
    let var = |key: &str| {
        env.stdout
            .lines()
            .find_map(|line| line.strip_prefix("export ")?.strip_prefix(key)?.strip_prefix('='))
    };
    let (Some(path), Some(base_image)) = (var("PATH"), var("DYNASTREAM_TESTENV_BASE_IMAGE")) else {
        return Outcome::Failed(format!("testenv/cluster env: unexpected output:\n{}", env.stdout));
    };
    let bin_dir = path.split(':').next().unwrap_or_default();
    Outcome::Up(Cluster {
        kubeconfig: PathBuf::from(start.stdout.trim()),
        kubectl: Path::new(bin_dir).join("kubectl"),
        base_image: base_image.to_owned(),
        project_image: OnceLock::new(),
    })
}

impl Cluster {
    /// The admin kubeconfig of the cluster (server `https://172.17.0.1:6443`, a static token).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The Debian image every pod can run (`localhost/testenv/debian:bookworm`, the cluster's
    /// `DYNASTREAM_TESTENV_BASE_IMAGE`); it is in the cluster's containerd, so use `imagePullPolicy: Never`.
    pub fn base_image(&self) -> &str {
        &self.base_image
    }

    /// A new client for the cluster, built from [`Self::kubeconfig`].
    pub async fn client(&self) -> kube::Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.kubeconfig.display()));
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap_or_else(|e| panic!("loading {}: {e}", self.kubeconfig.display()));
        kube::Client::try_from(config).unwrap_or_else(|e| panic!("building a kube client: {e}"))
    }

    /// A fresh namespace `<prefix>-<8 random hex digits>`, created now and ready for pods (its `default`
    /// ServiceAccount exists); it is deleted when the returned guard drops. The prefix is lowercased, other
    /// characters than `a-z0-9-` become `-`, and it is shortened so that the name is a valid DNS label.
    /// With `DYNASTREAM_TESTENV_KEEP=1` the namespace is kept, for debugging.
    pub async fn namespace(&self, prefix: &str) -> TestNamespace {
        let name = namespace_name(prefix, &random_hex8());
        let client = self.client().await;
        let namespace: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": { "name": name, "labels": { NAMESPACE_LABEL: "true" } }
        }))
        .expect("a Namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        // The guard exists from here on, so the namespace goes even if the wait below panics.
        let guard = TestNamespace {
            name,
            kubectl: self.kubectl.clone(),
            kubeconfig: self.kubeconfig.clone(),
        };
        // Pods are refused until the controller-manager has made the namespace's default ServiceAccount and,
        // on this 1.20 cluster, its token Secret ("No API token found for service account").
        let accounts = Api::<ServiceAccount>::namespaced(client, &guard.name);
        wait_for(
            &format!("ServiceAccount default with its token in {}", guard.name),
            Duration::from_secs(30),
            || async {
                let account = accounts.get_opt("default").await?;
                Ok(account
                    .filter(|a| a.secrets.as_ref().is_some_and(|s| !s.is_empty()))
                    .map(|_| ()))
            },
        )
        .await;
        guard
    }

    /// Runs the cluster's kubectl with this kubeconfig and returns its stdout; panics with its stderr when it
    /// fails.
    pub fn kubectl(&self, args: &[&str]) -> String {
        checked(&format!("kubectl {}", args.join(" ")), self.kubectl_output(args))
    }

    /// Runs the cluster's kubectl with this kubeconfig and returns its output, whatever its exit status.
    pub fn kubectl_output(&self, args: &[&str]) -> Output {
        let mut command = self.kubectl_command(args);
        command.stdin(Stdio::null());
        command
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.kubectl.display()))
    }

    /// Runs the cluster's kubectl with `stdin` as its standard input (for `kubectl apply -f -`) and returns its
    /// stdout; panics with its stderr when it fails.
    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> String {
        let what = format!("kubectl {}", args.join(" "));
        let mut child = self
            .kubectl_command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.kubectl.display()));
        // kubectl reads all of stdin before it writes anything, so writing first cannot deadlock.
        let mut input = child.stdin.take().expect("piped stdin");
        input
            .write_all(stdin.as_bytes())
            .unwrap_or_else(|e| panic!("{what}: writing stdin: {e}"));
        drop(input);
        checked(
            &what,
            child.wait_with_output().unwrap_or_else(|e| panic!("{what}: {e}")),
        )
    }

    /// Runs the chart's Helm driver (`charts/dynastream/tests/helm.py`, on the real Helm library from PyPI's
    /// `helm-python-sdk`, which `.ci/install-test-deps` installs) with this cluster's kubeconfig appended, and
    /// returns its stdout; panics with its stderr when it fails.
    pub fn helm(&self, args: &[&str]) -> String {
        let cache = match std::env::var_os("DYNASTREAM_CACHE") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/dynastream"),
        };
        let python = cache.join("helm/bin/python");
        assert!(
            python.is_file(),
            "{} is missing: run .ci/install-test-deps",
            python.display()
        );
        let output = Command::new(&python)
            .arg(repo_root().join("charts/dynastream/tests/helm.py"))
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
        checked(&format!("helm.py {}", args.join(" ")), output)
    }

    fn kubectl_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.kubectl);
        command.arg("--kubeconfig").arg(&self.kubeconfig).args(args);
        command
    }

    /// The project's image, `localhost/dynastream:dev-<hash12>`, in the cluster's containerd: the host-built
    /// `dynastream` and `dynastream-operator` (dev profile, `<target dir>/debug/`, target dir `$CARGO_TARGET_DIR`
    /// or `<repo>/target`), stripped of debug info, on the cluster's base image, built with the root
    /// `Dockerfile`'s `prebuilt` stage. The hash covers the stripped binaries, the Dockerfile and the base image,
    /// so unchanged binaries reuse the image (no build, no import). Made once per process. Panics when the
    /// binaries are missing (run `cargo build --workspace --bins`).
    pub fn project_image(&self) -> String {
        self.project_image
            .get_or_init(|| {
                let root = repo_root();
                let target = match std::env::var_os("CARGO_TARGET_DIR") {
                    // Relative to where cargo ran, most likely the repository's root (tests run in testenv/).
                    Some(dir) => root.join(dir),
                    None => root.join("target"),
                };
                self.prebuilt_image(&target.join("debug"), &root.join("Dockerfile"))
            })
            .clone()
    }

    /// [`Self::project_image`] from the binaries in `bin_dir`, built with `dockerfile`.
    fn prebuilt_image(&self, bin_dir: &Path, dockerfile: &Path) -> String {
        const BINARIES: [&str; 2] = ["dynastream", "dynastream-operator"];
        for name in BINARIES {
            let binary = bin_dir.join(name);
            assert!(
                binary.is_file(),
                "{} is missing: run `cargo build --workspace --bins` before tests that need the project's image",
                binary.display()
            );
        }
        assert!(dockerfile.is_file(), "{} is missing", dockerfile.display());
        // The unstripped binaries are about 130 MB each: strip the debug info into a fresh context directory.
        let context = TempDir::new("dynastream-image");
        let mut hashed = Vec::new();
        for name in BINARIES {
            let stripped = context.0.join(name);
            run_checked(
                Command::new("objcopy")
                    .arg("--strip-debug")
                    .arg(bin_dir.join(name))
                    .arg(&stripped),
            );
            hashed.push(stripped);
        }
        hashed.push(dockerfile.to_owned());
        let hash = content_hash(&hashed, &self.base_image);
        let tag = format!("localhost/dynastream:dev-{}", &hash[..12]);
        self.image_once(
            &context.0,
            Some(dockerfile),
            &tag,
            Some("prebuilt"),
            &[("BASE", &self.base_image)],
        )
    }

    /// Whether the cluster's containerd has `image` (as `docker save` names it, or under `docker.io/`).
    fn has_image(&self, image: &str) -> bool {
        let images = checked_script("testenv/cluster images", script(&["images"]));
        images
            .lines()
            .any(|line| line == image || line.strip_prefix("docker.io/") == Some(image))
    }

    /// Builds `context` with `docker build -t tag` (BuildKit, so stages the target does not need are skipped;
    /// `dockerfile` defaults to the context's `Dockerfile`, `build_args` become `--build-arg K=V`) and imports the
    /// image into the cluster's containerd, each step skipped when Docker or the cluster already has `tag`: make
    /// the tag a hash of what the image is built from ([`content_hash`]), so that reruns cost nothing. Base images
    /// for it: [`Self::base_image`].
    pub fn cached_image(
        &self,
        context: &Path,
        dockerfile: Option<&Path>,
        tag: &str,
        build_args: &[(&str, &str)],
    ) -> String {
        self.image_once(context, dockerfile, tag, None, build_args)
    }

    /// [`Self::cached_image`] of a Dockerfile's `target` stage.
    fn image_once(
        &self,
        context: &Path,
        dockerfile: Option<&Path>,
        tag: &str,
        target: Option<&str>,
        build_args: &[(&str, &str)],
    ) -> String {
        docker_up();
        let in_docker = Command::new(DOCKER)
            .args(["image", "inspect", tag])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if in_docker && self.has_image(tag) {
            return tag.to_owned();
        }
        if !in_docker {
            docker_build(context, dockerfile, tag, target, build_args);
        }
        import_image(tag);
        tag.to_owned()
    }
}

/// A namespace of the test cluster that is deleted when this guard drops (see [`Cluster::namespace`]); it
/// dereferences to the namespace's name.
#[derive(Debug)]
pub struct TestNamespace {
    /// The namespace's name.
    pub name: String,
    kubectl: PathBuf,
    kubeconfig: PathBuf,
}

impl TestNamespace {
    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Deref for TestNamespace {
    type Target = str;

    fn deref(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for TestNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::env::var("DYNASTREAM_TESTENV_KEEP").is_ok_and(|v| v == "1") {
            eprintln!(
                "testenv: keeping namespace {} (DYNASTREAM_TESTENV_KEEP=1)",
                self.name
            );
            return;
        }
        if std::thread::panicking() {
            eprintln!(
                "testenv: deleting namespace {}; DYNASTREAM_TESTENV_KEEP=1 keeps it",
                self.name
            );
        }
        // Synchronous and without waiting for the namespace's finalization, so that it works outside a runtime
        // and does not slow the test down; deletion failures are reported, not raised (we may be unwinding).
        let output = Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .stdin(Stdio::null())
            .output();
        match output {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!(
                "testenv: deleting namespace {}: {}",
                self.name,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            Err(e) => eprintln!("testenv: deleting namespace {}: {e}", self.name),
        }
    }
}

/// Polls `check` every 200 ms until it returns `Ok(Some(value))`, and returns the value.
///
/// `Ok(None)` means "not yet"; `Err(e)` also means "not yet", and is remembered: on timeout this panics with
/// `what` and the last error. A check that hangs is cut off at the deadline. For example:
///
/// ```no_run
/// # async fn example(pods: kube::Api<k8s_openapi::api::core::v1::Pod>) {
/// use std::time::Duration;
/// let phase = dynastream_testenv::wait_for("pod sleeper Running", Duration::from_secs(30), || async {
///     let pod = pods.get("sleeper").await?;
///     let phase = pod.status.and_then(|s| s.phase);
///     Ok(phase.filter(|p| p == "Running"))
/// })
/// .await;
/// # }
/// ```
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_error = None;
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(remaining, check()).await {
            Ok(Ok(Some(value))) => return value,
            Ok(Ok(None)) => {}
            Ok(Err(e)) => last_error = Some(format!("{e:#}")),
            // NB: keep what the previous check said: the one cut off at the deadline says nothing.
            Err(_) => {
                let earlier = last_error.take().map(|e| format!("{e}; ")).unwrap_or_default();
                last_error = Some(format!(
                    "{earlier}the last check was still running at the deadline"
                ));
            }
        }
        if tokio::time::Instant::now() >= deadline {
            panic!(
                "timed out after {timeout:?} waiting for {what}; last error: {}",
                last_error
                    .as_deref()
                    .unwrap_or("none (the check kept answering not yet)")
            );
        }
        tokio::time::sleep(Duration::from_millis(200).min(remaining)).await;
    }
}

/// `<prefix>-<suffix>` as a valid DNS label (RFC 1123, at most 63 characters) for a `suffix` of 8 hex digits.
fn namespace_name(prefix: &str, suffix: &str) -> String {
    let cleaned: String = prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let max_prefix = 63 - 1 - suffix.len();
    let mut prefix = cleaned.trim_matches('-');
    if prefix.len() > max_prefix {
        prefix = prefix[..max_prefix].trim_end_matches('-');
    }
    if prefix.is_empty() {
        prefix = "test";
    }
    format!("{prefix}-{suffix}")
}

/// 8 random hex digits: std's `RandomState` is seeded randomly per process and differs per instance.
fn random_hex8() -> String {
    format!("{:08x}", RandomState::new().build_hasher().finish() as u32)
}

/// The repository's root: this crate is `<root>/testenv`.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testenv/ has a parent")
        .to_owned()
}

/// The result of a `testenv/cluster` command.
struct ScriptRun {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl ScriptRun {
    /// The exit status and all of stderr.
    fn error(&self) -> String {
        format!("{}:\n{}", self.status(), self.stderr.trim_end())
    }

    /// The exit status and the last line of stderr (the script's `error: ...` line).
    fn summary(&self) -> String {
        let last = self
            .stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        format!("{}: {last}", self.status())
    }

    fn status(&self) -> String {
        self.code
            .map_or("killed by a signal".to_owned(), |c| format!("exit {c}"))
    }
}

/// Runs `testenv/cluster ARGS`. Its progress on stderr is passed on line by line (shown for failing tests or
/// with `--nocapture`; a first `build` takes minutes) and kept for error messages.
fn script(args: &[&str]) -> ScriptRun {
    let path = repo_root().join("testenv/cluster");
    let mut child = Command::new(&path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", path.display()));
    let mut stderr = String::new();
    // stdout is at most a few lines (it cannot fill its pipe while we read stderr to the end).
    for line in BufReader::new(child.stderr.take().expect("piped stderr")).lines() {
        let line = line.unwrap_or_else(|e| format!("(unreadable: {e})"));
        eprintln!("{line}");
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {}: {e}", path.display()));
    ScriptRun {
        ok: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    }
}

fn checked_script(what: &str, run: ScriptRun) -> String {
    assert!(run.ok, "{what}: {}", run.error());
    run.stdout
}

/// Starts dockerd when it is not running (the cluster's `start` does too; it may have been stopped since).
fn docker_up() {
    checked_script("testenv/cluster docker-up", script(&["docker-up"]));
}

fn docker_build(
    context: &Path,
    dockerfile: Option<&Path>,
    tag: &str,
    target: Option<&str>,
    build_args: &[(&str, &str)],
) {
    let mut command = Command::new(DOCKER);
    // BuildKit: the legacy builder builds every stage before the target, and those may need a registry.
    command
        .env("DOCKER_BUILDKIT", "1")
        .args(["build", "--quiet", "--tag", tag]);
    if let Some(dockerfile) = dockerfile {
        command.arg("--file").arg(dockerfile);
    }
    if let Some(target) = target {
        command.args(["--target", target]);
    }
    for (key, value) in build_args {
        command.arg("--build-arg").arg(format!("{key}={value}"));
    }
    command.arg(context);
    run_checked(&mut command);
}

fn import_image(tag: &str) {
    checked_script(
        &format!("testenv/cluster image-import {tag}"),
        script(&["image-import", tag]),
    );
}

/// Runs `command`; panics with the command line and its stderr when it fails. Returns stdout.
fn run_checked(command: &mut Command) -> String {
    let what = format!("{command:?}");
    checked(
        &what,
        command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {what}: {e}")),
    )
}

fn checked(what: &str, output: Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim_end()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The sha256 (hex) of the files' contents, in order, and then `extra`, e.g. for an image tag that changes with
/// its inputs (coreutils' `sha256sum`: hashing tens of megabytes in an unoptimised test build would take seconds).
pub fn content_hash(files: &[PathBuf], extra: &str) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running sha256sum: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    for file in files {
        let mut reader =
            std::fs::File::open(file).unwrap_or_else(|e| panic!("opening {}: {e}", file.display()));
        std::io::copy(&mut reader, &mut input).unwrap_or_else(|e| panic!("hashing {}: {e}", file.display()));
    }
    input.write_all(extra.as_bytes()).expect("writing to sha256sum");
    drop(input);
    let mut hex = String::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut hex)
        .expect("reading sha256sum");
    assert!(child.wait().is_ok_and(|s| s.success()), "sha256sum failed");
    hex.split_whitespace().next().expect("a digest").to_owned()
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), random_hex8()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_dns_label(name: &str) -> bool {
        name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
    }

    #[test]
    fn namespace_names_are_dns_labels_made_from_the_prefix() {
        assert_eq!(namespace_name("table-ready", "0a1b2c3d"), "table-ready-0a1b2c3d");
        assert_eq!(
            namespace_name("Cluster_Pod Runs!", "0a1b2c3d"),
            "cluster-pod-runs-0a1b2c3d"
        );
        assert_eq!(namespace_name("--", "0a1b2c3d"), "test-0a1b2c3d");
        assert_eq!(namespace_name("", "0a1b2c3d"), "test-0a1b2c3d");
        let long = namespace_name(&format!("{}-{}", "a".repeat(53), "b".repeat(20)), "0a1b2c3d");
        assert_eq!(
            long,
            format!("{}-0a1b2c3d", "a".repeat(53)),
            "cut at 54, then the trailing '-' trimmed"
        );
        for prefix in ["x", "A.B/c", &"z".repeat(100), "-lead-and-trail-", "ünïcode"] {
            let name = namespace_name(prefix, &random_hex8());
            assert!(is_dns_label(&name), "{name:?} from {prefix:?}");
        }
    }

    #[test]
    fn random_suffixes_differ() {
        let suffixes: std::collections::HashSet<String> = (0..100).map(|_| random_hex8()).collect();
        assert_eq!(suffixes.len(), 100);
        assert!(
            suffixes
                .iter()
                .all(|s| s.len() == 8 && s.chars().all(|c| c.is_ascii_hexdigit()))
        );
    }
}
