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
use tokio::{process::Command, sync::mpsc};

use super::{
    environments::{AgentConfig, AgentResult, base64_encode},
    runtime_api::{self, INIT_TIMEOUT, Invocation, Outcome},
    runtimes::{self, RuntimeFamily},
};

/// Where AWS's base images keep their runtime's bootstrap.
const AWS_BOOTSTRAP: &str = "/var/runtime/bootstrap";
/// Most log bytes kept per invocation (the tail AWS returns is 4 KB; keep more for the emulator's own use).
const MAX_LOG_BYTES: usize = 64 * 1024;

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
    /// Whether the caller asked for the log tail (then late output lines are waited for briefly).
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
    if let Some(stdout) = child.stdout.take() {
        forward_lines(stdout, lines_tx.clone());
    }
    if let Some(stderr) = child.stderr.take() {
        forward_lines(stderr, lines_tx);
    }
    let pid = child.id();

    // Init: until the runtime asks for its first invocation, reports an init error, dies, or takes too long.
    let mut init_error = None;
    let mut pending_logs = String::new();
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

    loop {
        let body = emulator.get("/next").await?;
        let next: NextInvocation = serde_json::from_slice(&body).map_err(|e| AgentError::Emulator {
            url: args.emulator.clone(),
            detail: format!("bad invocation: {e}"),
        })?;
        let mut logs = std::mem::take(&mut pending_logs);
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
            // Output written just before the response may still be in flight through the pipe.
            let settle = Instant::now();
            while settle.elapsed() < Duration::from_millis(2) {
                match tokio::time::timeout(Duration::from_micros(500), lines.recv()).await {
                    Ok(Some(line)) => push_line(&mut logs, &line),
                    _ => break,
                }
            }
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
        emulator
            .call(Method::POST, &format!("/result/{request_id}"), Bytes::from(body))
            .await?;
        if !result.environment_survives() {
            // Timeouts, crashes and init failures end the environment, as on AWS.
            let _ = child.start_kill();
            let _ = std::fs::remove_dir_all(&scratch);
            return Ok(());
        }
    }
}

/// Reads the runtime's output as it is written, prints each line (so it reaches the emulator's log, or
/// `kubectl logs`), and hands it to the invocation loop for the log tail.
fn forward_lines(
    stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    lines: mpsc::UnboundedSender<String>,
) {
    tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt;
        let mut reader = tokio::io::BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            println!("{line}");
            if lines.send(line).is_err() {
                break;
            }
        }
    });
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
