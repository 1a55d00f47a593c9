//! `dynastream agent`: runs inside an execution environment (a local process or a pod). It fetches its
//! configuration and the function's code from the emulator, unpacks the code into the task root, serves the
//! official Runtime API to the language runtime (AWS's own `/var/runtime/bootstrap` inside AWS's base images,
//! else the bundled bootstrap for the runtime family), and relays invocations and results between the emulator
//! and the runtime over one keep-alive HTTP connection. It also writes the platform's START/END/REPORT lines,
//! collects the runtime's output for each invocation, enforces the function's timeout, and exits when the
//! runtime dies or the emulator goes away.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use tokio::{
    process::Command,
    sync::{mpsc, oneshot},
};

use super::{
    environments::{AgentConfig, AgentResult, base64_encode},
    runtime_api::{self, INIT_TIMEOUT, Invocation, Outcome},
    runtimes::{self, RuntimeFamily},
};

/// Where AWS's base images keep their runtime's bootstrap.
const AWS_BOOTSTRAP: &str = "/var/runtime/bootstrap";
/// Most log bytes kept per invocation (the tail AWS returns is 4 KB; keep more for the emulator's own use).
const MAX_LOG_BYTES: usize = 64 * 1024;
/// Longest wait for the output forwarders to catch up after an invocation; only reached when a forwarder is
/// stuck (e.g. printing to a stdout nobody reads), then its late lines go to the next invocation's log.
const CATCH_UP_DEADLINE: Duration = Duration::from_millis(100);
/// Most bytes a forwarder reads when asked to catch up, so a runtime that keeps writing cannot hold it.
const CATCH_UP_LIMIT: usize = 1024 * 1024;

/// Why the agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The emulator could not be reached or answered unexpectedly.
    #[error("failed to talk to the emulator at {url}: {detail}")]
    Emulator {
        /// The URL that failed.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The function's code could not be unpacked.
    #[error("failed to unpack the function's code: {0}")]
    Code(String),
    /// The runtime could not be started.
    #[error("failed to start the runtime: {0}")]
    Runtime(String),
}

/// `dynastream agent` arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct AgentArgs {
    /// The emulator's URL.
    #[arg(long, env = "DYNASTREAM_EMULATOR_URL")]
    pub emulator: String,
    /// This environment's id.
    #[arg(long, env = "DYNASTREAM_ENVIRONMENT_ID")]
    pub environment: String,
}

/// The directory an environment unpacks its code into (`task/`) and runs in; removed when the environment ends.
pub fn scratch_dir(environment: &str) -> PathBuf {
    std::env::temp_dir().join(format!("dynastream-{environment}"))
}

/// Copies the running `dynastream` binary to `dir/dynastream`, executable by everyone (`dynastream
/// install-agent`: the init container of a pod, so the runtime's image can run the agent).
pub fn install(dir: &Path) -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let copy = dir.join("dynastream");
    let partial = dir.join(".dynastream.partial");
    std::fs::create_dir_all(dir)?;
    std::fs::copy(&exe, &partial)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755))?;
    }
    std::fs::rename(&partial, &copy)?;
    Ok(copy)
}

struct Emulator {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Emulator {
    async fn call(&self, method: Method, path: &str, body: Bytes) -> Result<(StatusCode, Bytes), AgentError> {
        let url = format!("{}{path}", self.base);
        let error = |detail: String| AgentError::Emulator {
            url: url.clone(),
            detail,
        };
        let request = Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", "application/json")
            .body(Full::new(body))
            .map_err(|e| error(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| error(e.to_string()))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| error(e.to_string()))?
            .to_bytes();
        Ok((status, body))
    }

    async fn get(&self, path: &str) -> Result<Bytes, AgentError> {
        let (status, body) = self.call(Method::GET, path, Bytes::new()).await?;
        if !status.is_success() {
            return Err(AgentError::Emulator {
                url: format!("{}{path}", self.base),
                detail: format!("{status}: {}", String::from_utf8_lossy(&body)),
            });
        }
        Ok(body)
    }
}

/// The invocation the emulator hands out, as JSON.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NextInvocation {
    request_id: String,
    payload: String,
    invoked_function_arn: String,
    trace_id: Option<String>,
    client_context: Option<String>,
    cognito_identity: Option<String>,
    /// Whether the caller asked for the log tail (then the runtime's output is collected before the result).
    #[serde(default)]
    wants_logs: bool,
}

/// Runs the agent until the runtime dies or the emulator goes away.
pub async fn run(args: AgentArgs) -> Result<(), AgentError> {
    let emulator = Emulator {
        client: Client::builder(TokioExecutor::new()).build_http(),
        base: format!(
            "{}/_dynastream/agent/{}",
            args.emulator.trim_end_matches('/'),
            args.environment
        ),
    };
    let config: AgentConfig =
        serde_json::from_slice(&emulator.get("/config").await?).map_err(|e| AgentError::Emulator {
            url: args.emulator.clone(),
            detail: format!("bad configuration: {e}"),
        })?;
    let started = Instant::now();

    let scratch = scratch_dir(&args.environment);
    let task_root = scratch.join("task");
    let zip = emulator_get_absolute(&emulator, &config.code_url).await?;
    unpack(zip, task_root.clone()).await?;

    let (api_addr, handle, _server) = runtime_api::serve(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| AgentError::Runtime(format!("failed to serve the Runtime API: {e}")))?;
    let (program, program_args) = runtime_command(&config, &scratch)?;
    let mut command = Command::new(&program);
    command
        .args(&program_args)
        .current_dir(&task_root)
        .envs(runtime_environment(
            &config,
            &task_root,
            api_addr,
            sdk_environment(&config.runtime).await,
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| AgentError::Runtime(format!("{}: {e}", program.display())))?;
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
    let mut forwarders = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        forwarders.push(forward_lines(direct_reader(&stdout), stdout, lines_tx.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        forwarders.push(forward_lines(direct_reader(&stderr), stderr, lines_tx));
    }
    let pid = child.id();

    // Init: until the runtime asks for its first invocation, reports an init error, dies, or takes too long.
    let mut init_error = None;
    tokio::select! {
        () = handle.ready() => {}
        error = handle.init_error() => init_error = Some(error),
        status = child.wait() => init_error = Some(Outcome::InitError {
            error_type: Some("Runtime.ExitError".into()),
            body: exit_body("", &exit_text(status)),
        }),
        () = tokio::time::sleep(INIT_TIMEOUT) => init_error = Some(Outcome::InitError {
            error_type: Some("Runtime.InitTimeout".into()),
            body: Bytes::from(r#"{"errorType":"Runtime.InitTimeout","errorMessage":"Init phase timed out"}"#),
        }),
    }
    let init_duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    // A pre-started environment's init was not spent by any invocation: none of them is a cold start.
    let mut first = !config.prestarted;
    let mut invoked = false;

    loop {
        let body = emulator.get("/next").await?;
        let next: NextInvocation = serde_json::from_slice(&body).map_err(|e| AgentError::Emulator {
            url: args.emulator.clone(),
            detail: format!("bad invocation: {e}"),
        })?;
        let mut logs = String::new();
        if next.wants_logs {
            // Output still in the pipes is the init's (before the first invocation), which the first log shows
            // as AWS's does, or the previous invocation's, which this log must not.
            catch_up(&forwarders).await;
            if invoked {
                drain(&mut lines, &mut String::new());
            }
        }
        invoked = true;
        drain(&mut lines, &mut logs);
        logs.push_str(&format!(
            "START RequestId: {} Version: {}\n",
            next.request_id, config.version
        ));
        println!("START RequestId: {} Version: {}", next.request_id, config.version);
        let begun = Instant::now();
        let timeout = Duration::from_secs(u64::from(config.timeout));
        let deadline_ms = jiff::Timestamp::now().as_millisecond() + timeout.as_millis() as i64;
        let invocation = Invocation {
            request_id: next.request_id.clone(),
            payload: super::environments::base64_decode(&next.payload),
            deadline_ms,
            invoked_function_arn: next.invoked_function_arn.clone(),
            trace_id: next.trace_id.clone(),
            client_context: next.client_context.clone(),
            cognito_identity: next.cognito_identity.clone(),
        };
        let outcome = match init_error.take() {
            Some(error) => Ended::Outcome(error),
            None => tokio::select! {
                outcome = handle.invoke(invocation) => match outcome {
                    Some(outcome) => Ended::Outcome(outcome),
                    None => Ended::Exit("Runtime API closed".into()),
                },
                status = child.wait() => Ended::Exit(exit_text(status)),
                () = tokio::time::sleep(timeout) => Ended::Timeout,
            },
        };
        let duration_ms = begun.elapsed().as_secs_f64() * 1000.0;
        if next.wants_logs {
            // The runtime wrote its output before it answered, so it is all in the pipes (or read) by now.
            catch_up(&forwarders).await;
        }
        drain(&mut lines, &mut logs);
        let request_id = &next.request_id;
        let (outcome_name, error_type, payload) = match outcome {
            Ended::Timeout => {
                let message = format!(
                    "{} {request_id} Task timed out after {:.2} seconds",
                    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
                    timeout.as_secs_f64()
                );
                push_line(&mut logs, &message);
                (
                    "timeout",
                    None,
                    Bytes::from(serde_json::json!({ "errorMessage": message }).to_string()),
                )
            }
            Ended::Exit(status) => (
                "exit",
                Some("Runtime.ExitError".to_owned()),
                exit_body(request_id, &status),
            ),
            Ended::Outcome(Outcome::Response(body)) => ("response", None, body),
            Ended::Outcome(Outcome::Error { error_type, body }) => ("error", error_type, body),
            Ended::Outcome(Outcome::InitError { error_type, body }) => ("init_error", error_type, body),
        };
        let memory_used = pid.and_then(max_memory_mb).unwrap_or(0);
        let end = format!("END RequestId: {request_id}");
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {memory_used} MB",
            duration_ms.ceil() as u64,
            config.memory_size
        );
        if first {
            report.push_str(&format!("\tInit Duration: {init_duration_ms:.2} ms"));
        }
        if outcome_name == "timeout" {
            report.push_str("\tStatus: timeout");
        }
        for line in [&end, &report] {
            println!("{line}");
            push_line(&mut logs, line);
        }
        let result = AgentResult {
            outcome: outcome_name.to_owned(),
            error_type,
            payload: base64_encode(&payload),
            logs,
            duration_ms,
            init_duration_ms: first.then_some(init_duration_ms),
        };
        first = false;
        let body = serde_json::to_vec(&result).map_err(|e| AgentError::Runtime(e.to_string()))?;
        if !result.environment_survives() {
            // Timeouts, crashes and init failures end the environment, as on AWS: the runtime is stopped before
            // the result is posted, since the emulator may stop the agent as soon as it has the result.
            let _ = child.start_kill();
            let _ = child.wait().await;
            emulator
                .call(Method::POST, &format!("/result/{request_id}"), Bytes::from(body))
                .await?;
            let _ = std::fs::remove_dir_all(&scratch);
            return Ok(());
        }
        emulator
            .call(Method::POST, &format!("/result/{request_id}"), Bytes::from(body))
            .await?;
    }
}

/// Asks a forwarder to pass on everything its pipe holds; answered once it has.
type Forwarder = mpsc::UnboundedSender<oneshot::Sender<()>>;

/// A second descriptor of a runtime's pipe, for reading what it holds without waiting for the reactor.
#[cfg(unix)]
fn direct_reader(pipe: &impl std::os::fd::AsFd) -> Option<std::fs::File> {
    // NB: tokio made the pipe non-blocking, and the duplicate shares that mode.
    pipe.as_fd().try_clone_to_owned().ok().map(std::fs::File::from)
}

#[cfg(not(unix))]
fn direct_reader<T>(_pipe: &T) -> Option<std::fs::File> {
    None
}

/// Reads the runtime's output as it is written, prints each line (so it reaches the emulator's log, or
/// `kubectl logs`), and hands it to the invocation loop for the log tail. Through the returned [`Forwarder`]
/// the loop has it catch up: the reactor may not have seen bytes that are already in the pipe, so `direct`
/// (the same pipe, non-blocking) is read until empty, and an unfinished last line is passed on too.
fn forward_lines(
    direct: Option<std::fs::File>,
    mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    lines: mpsc::UnboundedSender<String>,
) -> Forwarder {
    let (forwarder, mut requests) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut output = Output {
            unfinished: Vec::new(),
            lines,
        };
        let mut buf = vec![0; 64 * 1024];
        loop {
            tokio::select! {
                biased;
                Some(done) = requests.recv() => {
                    let mut closed = false;
                    if let Some(direct) = &direct {
                        closed = read_available(direct, &mut buf, |bytes| output.push(bytes));
                    }
                    output.finish_line();
                    let _ = done.send(());
                    if closed {
                        break;
                    }
                }
                read = pipe.read(&mut buf) => match read {
                    Ok(0) | Err(_) => {
                        output.finish_line();
                        break;
                    }
                    Ok(n) => output.push(&buf[..n]),
                },
            }
            if output.lines.is_closed() {
                break;
            }
        }
    });
    forwarder
}

/// Reads what `pipe` holds now (its descriptor is non-blocking), at most [`CATCH_UP_LIMIT`] bytes; whether
/// the writer has closed it.
fn read_available(pipe: &std::fs::File, buf: &mut [u8], mut sink: impl FnMut(&[u8])) -> bool {
    use std::io::Read;
    let mut total = 0;
    while total < CATCH_UP_LIMIT {
        match (&*pipe).read(buf) {
            Ok(0) => return true,
            Ok(n) => {
                total += n;
                sink(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // WouldBlock: empty for now.
            Err(_) => break,
        }
    }
    false
}

/// One pipe's output being cut into lines.
struct Output {
    /// Bytes after the last newline.
    unfinished: Vec<u8>,
    lines: mpsc::UnboundedSender<String>,
}

impl Output {
    fn push(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.unfinished.extend_from_slice(&rest[..end]);
            self.send();
            rest = &rest[end + 1..];
        }
        self.unfinished.extend_from_slice(rest);
    }

    fn finish_line(&mut self) {
        if !self.unfinished.is_empty() {
            self.send();
        }
    }

    /// Passes on the unfinished line (without a `\r` of `\r\n`), printing it.
    fn send(&mut self) {
        if self.unfinished.last() == Some(&b'\r') {
            self.unfinished.pop();
        }
        let line = String::from_utf8_lossy(&self.unfinished).into_owned();
        self.unfinished.clear();
        println!("{line}");
        let _ = self.lines.send(line);
    }
}

/// Has every forwarder catch up with its pipe, waiting at most [`CATCH_UP_DEADLINE`].
async fn catch_up(forwarders: &[Forwarder]) {
    catch_up_within(forwarders, CATCH_UP_DEADLINE).await;
}

/// Has every forwarder catch up with its pipe; whether all did within `deadline`.
async fn catch_up_within(forwarders: &[Forwarder], deadline: Duration) -> bool {
    let answers: Vec<_> = forwarders
        .iter()
        .filter_map(|forwarder| {
            let (done, answer) = oneshot::channel();
            forwarder.send(done).ok().map(|()| answer)
        })
        .collect();
    tokio::time::timeout(deadline, async {
        for answer in answers {
            // An error: that forwarder ended, after passing on everything.
            let _ = answer.await;
        }
    })
    .await
    .is_ok()
}

fn drain(lines: &mut mpsc::UnboundedReceiver<String>, logs: &mut String) {
    while let Ok(line) = lines.try_recv() {
        push_line(logs, &line);
    }
}

fn push_line(logs: &mut String, line: &str) {
    logs.push_str(line);
    logs.push('\n');
    if logs.len() > MAX_LOG_BYTES {
        let cut = logs.len() - MAX_LOG_BYTES;
        let cut = (cut..logs.len())
            .find(|i| logs.is_char_boundary(*i))
            .unwrap_or(logs.len());
        logs.drain(..cut);
    }
}

fn exit_body(request_id: &str, status: &str) -> Bytes {
    Bytes::from(
        serde_json::json!({
            "errorType": "Runtime.ExitError",
            "errorMessage": format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
        })
        .to_string(),
    )
}

/// How an invocation ended in the agent.
enum Ended {
    /// The runtime answered.
    Outcome(Outcome),
    /// The runtime process ended (with this status text).
    Exit(String),
    /// The function's timeout passed.
    Timeout,
}

/// A process exit as AWS words it: `exit status 1`, `signal: killed`.
fn exit_text(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(status) => match status.code() {
            Some(code) => format!("exit status {code}"),
            None => "signal: killed".to_owned(),
        },
        Err(err) => err.to_string(),
    }
}

/// Peak resident memory of the runtime process, in MB (Linux only; `None` elsewhere).
fn max_memory_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.div_ceil(1024))
}

async fn emulator_get_absolute(emulator: &Emulator, url: &str) -> Result<Bytes, AgentError> {
    let error = |detail: String| AgentError::Emulator {
        url: url.to_owned(),
        detail,
    };
    let request = Request::builder()
        .uri(url)
        .body(Full::new(Bytes::new()))
        .map_err(|e| error(e.to_string()))?;
    let response = emulator
        .client
        .request(request)
        .await
        .map_err(|e| error(e.to_string()))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| error(e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err(error(format!("{status}")));
    }
    Ok(body)
}

/// Unpacks the code zip into the task root (paths that would escape it are refused by the zip crate).
async fn unpack(zip: Bytes, task_root: PathBuf) -> Result<(), AgentError> {
    tokio::task::spawn_blocking(move || {
        let _ = std::fs::remove_dir_all(&task_root);
        std::fs::create_dir_all(&task_root).map_err(|e| AgentError::Code(e.to_string()))?;
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|e| AgentError::Code(e.to_string()))?;
        archive
            .extract(&task_root)
            .map_err(|e| AgentError::Code(e.to_string()))
    })
    .await
    .map_err(|e| AgentError::Code(e.to_string()))?
}

/// The program that runs the runtime: AWS's bootstrap where its base image is present, else the bundled one.
fn runtime_command(config: &AgentConfig, scratch: &Path) -> Result<(PathBuf, Vec<String>), AgentError> {
    if Path::new(AWS_BOOTSTRAP).exists() {
        return Ok((PathBuf::from(AWS_BOOTSTRAP), Vec::new()));
    }
    let family = RuntimeFamily::from_runtime(&config.runtime).ok_or_else(|| {
        AgentError::Runtime(format!(
            "dynastream runs node and python handlers only, not {}",
            config.runtime
        ))
    })?;
    runtimes::bootstrap_command(family, scratch).map_err(|e| AgentError::Runtime(e.to_string()))
}

/// The SDK the runtime ships on AWS, installed into the cache on first use; its variables for the runtime.
/// Inside AWS's base images the SDK is already there.
async fn sdk_environment(runtime: &str) -> Vec<(String, String)> {
    if Path::new(AWS_BOOTSTRAP).exists() {
        return Vec::new();
    }
    let cache = runtimes::sdk::default_cache_dir();
    let runtime = runtime.to_owned();
    let installed = tokio::task::spawn_blocking({
        let cache = cache.clone();
        let runtime = runtime.clone();
        move || {
            runtimes::sdk::ensure_sdk(&runtime, &cache, &mut |message| {
                println!("dynastream agent: {message}")
            })
        }
    })
    .await;
    match installed {
        Ok(Ok(_)) => runtimes::sdk::sdk_environment(&runtime, &cache),
        Ok(Err(err)) => {
            // NB: a handler that does not use the SDK still runs; one that does gets the runtime's import error.
            println!("dynastream agent: the AWS SDK for {runtime} is not available: {err}");
            Vec::new()
        }
        Err(err) => {
            println!("dynastream agent: failed to install the AWS SDK for {runtime}: {err}");
            Vec::new()
        }
    }
}

/// The standard Lambda environment, the SDK's paths, `AWS_ENDPOINT_URL`, and the function's own variables.
fn runtime_environment(
    config: &AgentConfig,
    task_root: &Path,
    runtime_api: SocketAddr,
    sdk: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let access_key = if config.account == "000000000000" {
        "test".to_owned()
    } else {
        config.account.clone()
    };
    let mut env: Vec<(String, String)> = vec![
        ("_HANDLER".into(), config.handler.clone()),
        ("AWS_REGION".into(), config.region.clone()),
        ("AWS_DEFAULT_REGION".into(), config.region.clone()),
        (
            "AWS_EXECUTION_ENV".into(),
            format!("AWS_Lambda_{}", config.runtime),
        ),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), config.function_name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            config.memory_size.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), config.version.clone()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), config.log_group.clone()),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), config.log_stream.clone()),
        // NB: a 12-digit access key selects the account in dynastream, so the handler's SDK calls stay in it.
        ("AWS_ACCESS_KEY_ID".into(), access_key),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_SESSION_TOKEN".into(), "test".into()),
        ("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.to_string()),
        ("LAMBDA_TASK_ROOT".into(), task_root.display().to_string()),
        ("LAMBDA_RUNTIME_DIR".into(), "/var/runtime".into()),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("AWS_ENDPOINT_URL".into(), config.endpoint_url.clone()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
    ];
    env.extend(sdk);
    env.extend(config.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;

    use super::*;

    fn taken(lines: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
        let mut taken = Vec::new();
        while let Ok(line) = lines.try_recv() {
            taken.push(line);
        }
        taken
    }

    // NB: a current-thread runtime: the forwarder runs only while the test awaits, so the bytes written just
    // before catching up are still in the pipe, unseen, as when the forwarder is descheduled on a busy machine.
    #[tokio::test]
    async fn catching_up_passes_on_exactly_what_was_written_before() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let reader = tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into()).unwrap();
        let (lines_tx, mut lines) = mpsc::unbounded_channel();
        let forwarder = forward_lines(direct_reader(&reader), reader, lines_tx);
        for round in 0..10 {
            let count = if round % 2 == 0 { 2000 } else { 1 };
            // Many lines, more than the pipe holds: the writer waits for the forwarder, as a runtime would.
            let writing = std::thread::spawn(move || {
                for i in 0..count - 1 {
                    writeln!(writer, "{round} {i} {}", "x".repeat(80)).unwrap();
                }
                writer
            });
            writer = tokio::task::spawn_blocking(move || writing.join().unwrap())
                .await
                .unwrap();
            // The last line (CRLF-terminated) and an unfinished one, written without letting the forwarder run.
            write!(writer, "{round} last\r\n{round} unfinished").unwrap();
            catch_up(std::slice::from_ref(&forwarder)).await;
            let mut expected: Vec<String> = (0..count - 1)
                .map(|i| format!("{round} {i} {}", "x".repeat(80)))
                .collect();
            expected.push(format!("{round} last"));
            expected.push(format!("{round} unfinished"));
            assert_eq!(taken(&mut lines), expected, "round {round}");
        }
        drop(writer);
        catch_up(std::slice::from_ref(&forwarder)).await;
        assert!(taken(&mut lines).is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn catching_up_with_a_quiet_runtime_does_not_wait() {
        let mut child = Command::new("sh")
            .args(["-c", "echo ready; printf 'no newline'; exec sleep 30"])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, mut lines) = mpsc::unbounded_channel();
        let forwarders = [forward_lines(direct_reader(&stdout), stdout, lines_tx)];
        let mut got = Vec::new();
        let began = Instant::now();
        while got.len() < 2 {
            assert!(began.elapsed() < Duration::from_secs(10), "{got:?}");
            catch_up(&forwarders).await;
            got.extend(taken(&mut lines));
        }
        assert_eq!(got, ["ready", "no newline"]);
        // The pipe is empty and still open: reading it directly must not block (a blocked forwarder would never
        // answer, however long one waits).
        assert!(catch_up_within(&forwarders, Duration::from_secs(10)).await);
        assert!(taken(&mut lines).is_empty());
    }

    #[test]
    fn output_is_cut_into_lines_across_reads() {
        let (lines_tx, mut lines) = mpsc::unbounded_channel();
        let mut output = Output {
            unfinished: Vec::new(),
            lines: lines_tx,
        };
        output.push(b"a\nb");
        output.push(b"c\r\n\nd\xff");
        assert_eq!(taken(&mut lines), ["a", "bc", ""]);
        output.finish_line();
        output.finish_line();
        assert_eq!(taken(&mut lines), ["d\u{fffd}"]);
    }
}
