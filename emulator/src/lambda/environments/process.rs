//! The process executor: each environment is a local `dynastream agent` process, its output forwarded to the
//! emulator's log with the function name and request id.

use std::{path::PathBuf, process::Stdio, sync::Arc};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::oneshot,
};

use super::{Environment, Executor, RunningEnvironment, Stop};
use crate::lambda::agent;

/// Starts environments as child processes of the emulator.
#[derive(Debug)]
pub struct ProcessExecutor {
    /// The `dynastream` binary whose `agent` subcommand runs in each environment.
    pub program: PathBuf,
}

impl ProcessExecutor {
    /// An executor running `program agent ...`; by default the emulator's own binary.
    pub fn new(program: Option<PathBuf>) -> Self {
        let program = program
            .or_else(|| std::env::current_exe().ok())
            .unwrap_or_else(|| PathBuf::from("dynastream"));
        Self { program }
    }
}

struct RunningProcess {
    kill: parking_lot::Mutex<Option<oneshot::Sender<()>>>,
}

impl RunningEnvironment for RunningProcess {
    fn kill(&self) {
        if let Some(kill) = self.kill.lock().take() {
            let _ = kill.send(());
        }
    }
}

impl Executor for ProcessExecutor {
    fn start(
        &self,
        environment: &Arc<Environment>,
        emulator_url: &str,
        on_exit: Box<dyn FnOnce(Stop) + Send>,
    ) -> Result<Box<dyn RunningEnvironment>, String> {
        let mut command = Command::new(&self.program);
        command
            .arg("agent")
            .arg("--emulator")
            .arg(emulator_url)
            .arg("--environment")
            .arg(&environment.id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // NB: no environment process may outlive the emulator.
            .kill_on_drop(true);
        // The agent leads a process group of its own, which its runtime joins: stopping the environment stops
        // both, even a runtime busy in a handler.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|err| format!("failed to start {} agent: {err}", self.program.display()))?;
        forward_output(child.stdout.take(), environment.clone());
        forward_output(child.stderr.take(), environment.clone());
        let (kill, killed) = oneshot::channel::<()>();
        tokio::spawn(watch(child, killed, agent::scratch_dir(&environment.id), on_exit));
        Ok(Box::new(RunningProcess {
            kill: parking_lot::Mutex::new(Some(kill)),
        }))
    }

    fn runtime_problem(&self, runtime: &str) -> Option<String> {
        crate::lambda::runtimes::interpreter_problem(runtime)
    }
}

/// Waits for the process to end, or kills it when asked, then removes its scratch directory (a killed agent
/// cannot) and reports its exit.
async fn watch(
    mut child: Child,
    killed: oneshot::Receiver<()>,
    scratch: PathBuf,
    on_exit: Box<dyn FnOnce(Stop) + Send>,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = killed => {
            kill_group(&child);
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let status = match status {
        Ok(status) => match status.code() {
            Some(code) => format!("exit status {code}"),
            None => "signal: killed".to_owned(),
        },
        Err(err) => format!("wait failed: {err}"),
    };
    if let Err(err) = tokio::fs::remove_dir_all(&scratch).await
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(target: "lambda", "failed to remove {}: {err}", scratch.display());
    }
    on_exit(status.into());
}

/// Kills the agent's process group (the agent has not been waited for, so its id still names the group).
#[cfg(unix)]
fn kill_group(child: &Child) {
    use rustix::process::{Pid, Signal, kill_process_group};
    if let Some(pid) = child.id().and_then(|id| Pid::from_raw(id as i32)) {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_child: &Child) {}

/// Writes each line the environment prints to the emulator's log, tagged with function and request.
fn forward_output(
    stream: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    environment: Arc<Environment>,
) {
    let Some(stream) = stream else { return };
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let request = environment.current_request.lock().clone().unwrap_or_default();
            tracing::info!(target: "lambda", function = %environment.function_name, request_id = %request, "{line}");
        }
    });
}
