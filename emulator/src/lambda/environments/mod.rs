//! Execution environments: each runs one function deployment's handler, one invocation at a time, through the
//! `dynastream agent` inside it. Environments are reused while warm, one more is started for each concurrent
//! invocation up to the function's reserved concurrency, idle ones are stopped after a while (except those of a
//! function's warm pool, see [`warm`]), and a crashed or timed-out one is discarded. How an environment is started
//! (a local process, a pod) is an [`Executor`].
//!
//! The agent talks to the emulator over HTTP: it fetches its [`AgentConfig`], long-polls for the next
//! invocation, and posts each [`AgentResult`] (see [`crate::lambda::agent`]).

pub mod kubernetes;
pub mod process;
pub mod warm;

use std::{
    collections::HashMap,
    sync::{
        Arc, OnceLock, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::{
    functions::{Deployment, Function},
    runtime_api::Invocation,
};

/// How environments behave.
#[derive(Clone, Debug)]
pub struct EnvironmentSettings {
    /// Idle environments are stopped after this long.
    pub idle_timeout: Duration,
    /// Environments of all functions together (AWS's default account concurrency).
    pub max_environments: usize,
    /// How long a new environment may take to be ready for its first invocation (a pod scheduled, its images
    /// pulled, the runtime's init) before the invocation fails.
    pub start_timeout: Duration,
}

impl Default for EnvironmentSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(600),
            max_environments: 1000,
            start_timeout: Duration::from_secs(300),
        }
    }
}

/// What an agent needs to set up its environment, fetched from the emulator at start.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AgentConfig {
    /// Function name.
    pub function_name: String,
    /// Unqualified function ARN.
    pub function_arn: String,
    /// `$LATEST` or a version number.
    pub version: String,
    /// Runtime identifier, e.g. `nodejs20.x`.
    pub runtime: String,
    /// Handler, e.g. `index.handler`.
    pub handler: String,
    /// MemorySize in MB.
    pub memory_size: u32,
    /// Timeout in seconds.
    pub timeout: u32,
    /// The function's environment variables.
    pub environment: std::collections::BTreeMap<String, String>,
    /// Where to download the code zip.
    pub code_url: String,
    /// The function's region.
    pub region: String,
    /// The function's account.
    pub account: String,
    /// `/aws/lambda/<name>`.
    pub log_group: String,
    /// `YYYY/MM/DD/[<version>]<32 hex>`.
    pub log_stream: String,
    /// The emulator's URL, for `AWS_ENDPOINT_URL`.
    pub endpoint_url: String,
    /// Started ahead of any invocation, for a warm pool ([`warm`]): its init is not part of its first
    /// invocation, so that invocation is not a cold start and its REPORT line has no `Init Duration`, as with
    /// AWS's provisioned concurrency.
    #[serde(default)]
    pub prestarted: bool,
}

/// How an invocation ended, as the agent reports it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AgentResult {
    /// `response`, `error`, `init_error` or `exit`.
    pub outcome: String,
    /// The function error type (`Lambda-Runtime-Function-Error-Type`), for errors.
    pub error_type: Option<String>,
    /// The response or error body, base64.
    pub payload: String,
    /// The invocation's log lines (platform lines and runtime output).
    pub logs: String,
    /// Milliseconds the handler ran.
    pub duration_ms: f64,
    /// Milliseconds the runtime took to start, on a cold start.
    pub init_duration_ms: Option<f64>,
}

impl AgentResult {
    /// Whether the environment can take another invocation after this one.
    pub fn environment_survives(&self) -> bool {
        matches!(self.outcome.as_str(), "response" | "error")
    }
}

/// An invocation on its way to an environment.
pub struct Dispatch {
    /// The event and its metadata.
    pub invocation: Invocation,
    /// Whether the caller asked for the log tail.
    pub wants_logs: bool,
    /// Told when the agent takes the invocation: the environment is started and the runtime initialised.
    pub taken: oneshot::Sender<()>,
    /// Where the agent's result goes.
    pub result: oneshot::Sender<AgentResult>,
}

/// A started environment as its executor sees it.
pub trait RunningEnvironment: Send + Sync {
    /// Stops the environment at once (timeouts, retirement, shutdown).
    fn kill(&self);
}

/// Starts environments: as local processes, or as pods in a cluster.
pub trait Executor: Send + Sync + std::fmt::Debug {
    /// Starts the agent for `environment`, which will connect to `emulator_url`. `on_exit` must be called once
    /// when the environment has stopped, whatever the reason.
    fn start(
        &self,
        environment: &Arc<Environment>,
        emulator_url: &str,
        on_exit: Box<dyn FnOnce(Stop) + Send>,
    ) -> Result<Box<dyn RunningEnvironment>, String>;

    /// Why functions of this runtime cannot run here (e.g. the interpreter or the image is missing), if they
    /// cannot: the function is then `Failed` with this reason, as AWS marks a function it cannot run.
    fn runtime_problem(&self, runtime: &str) -> Option<String>;

    /// Where agents in this executor's environments reach the emulator, given where it listens
    /// (`http://127.0.0.1:4566` when it listens on every address): local processes use it as it is, pods the
    /// emulator's pod IP.
    fn agent_url(&self, local_url: &str) -> String {
        local_url.to_owned()
    }

    /// Finishes stopping every environment at emulator shutdown, after each was killed (e.g. waits, briefly,
    /// for their pods to be deleted).
    fn shutdown(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async {})
    }
}

/// Why an environment stopped, as its executor reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    /// What happened, for the invocation's error and the log.
    pub status: String,
    /// The runtime's image cannot be had, so no environment of the function can start: AWS then marks the
    /// function `Failed` (`ImageAccessDenied`).
    pub image_problem: bool,
}

impl From<String> for Stop {
    fn from(status: String) -> Self {
        Self {
            status,
            image_problem: false,
        }
    }
}

/// Told when a function's environments cannot start because of its runtime image.
pub type ImageProblemHook = Box<dyn Fn(&DeploymentKey, &str) + Send + Sync>;

/// What identifies interchangeable environments: the same function, version and revision.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeploymentKey {
    /// Unqualified function ARN.
    pub function_arn: String,
    /// `$LATEST` or a version number.
    pub version: String,
    /// RevisionId of the deployment.
    pub revision: String,
}

/// One execution environment.
pub struct Environment {
    /// Unique id (also in the agent's URLs).
    pub id: String,
    /// Which deployment it runs.
    pub key: DeploymentKey,
    /// The function's name, for log lines.
    pub function_name: String,
    /// What its agent fetches at start.
    pub config: AgentConfig,
    dispatch: mpsc::Sender<Dispatch>,
    inbox: tokio::sync::Mutex<mpsc::Receiver<Dispatch>>,
    pending: parking_lot::Mutex<Option<(String, oneshot::Sender<AgentResult>)>>,
    running: parking_lot::Mutex<Option<Box<dyn RunningEnvironment>>>,
    /// The request the environment is working on, for attributing log lines.
    pub current_request: parking_lot::Mutex<Option<String>>,
    retired: AtomicBool,
    /// Wakes an agent's pending `next` when the environment is stopped.
    stopped: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("id", &self.id)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Environment {
    /// The next invocation for this environment's agent, and whether its caller wants the log tail (waits
    /// until there is one).
    pub async fn next(&self) -> Option<(Invocation, bool)> {
        let mut stopped = self.stopped.subscribe();
        if *stopped.borrow_and_update() {
            return None;
        }
        let dispatch = {
            let mut inbox = self.inbox.lock().await;
            tokio::select! {
                dispatch = inbox.recv() => dispatch?,
                _ = stopped.changed() => return None,
            }
        };
        *self.current_request.lock() = Some(dispatch.invocation.request_id.clone());
        *self.pending.lock() = Some((dispatch.invocation.request_id.clone(), dispatch.result));
        let _ = dispatch.taken.send(());
        Some((dispatch.invocation, dispatch.wants_logs))
    }

    /// Completes the pending invocation `request_id`; false when it is not the pending one.
    pub fn complete(&self, request_id: &str, result: AgentResult) -> bool {
        let mut pending = self.pending.lock();
        match pending.take() {
            Some((id, sender)) if id == request_id => {
                *self.current_request.lock() = None;
                let _ = sender.send(result);
                true
            }
            other => {
                *pending = other;
                false
            }
        }
    }

    fn kill(&self) {
        self.stopped.send_replace(true);
        if let Some(running) = self.running.lock().take() {
            running.kill();
        }
    }
}

/// A checked-out environment: returned to the pool (or discarded) when the invocation ends.
pub struct Lease {
    /// The environment.
    pub environment: Arc<Environment>,
    /// Whether it was started for this invocation.
    pub cold: bool,
}

#[derive(Default)]
struct PoolState {
    environments: HashMap<String, Arc<Environment>>,
    idle: HashMap<DeploymentKey, Vec<(String, Instant)>>,
    /// Environments (busy or idle) per function ARN, for reserved concurrency.
    per_function: HashMap<String, usize>,
    busy_per_function: HashMap<String, usize>,
    /// Warm pools per function ARN.
    warm: HashMap<String, warm::WarmPool>,
    /// The invalid `dynastream:min-warm` value last warned about, per function ARN.
    warm_warned: HashMap<String, String>,
}

/// How a dispatched invocation reached its environment.
#[derive(Debug, PartialEq, Eq)]
pub enum Handover {
    /// The agent took it.
    Taken,
    /// The environment stopped (exited, was killed, or the emulator is shutting down) before its agent took it.
    Stopped,
    /// The environment was not ready within the start-up limit.
    StartTimedOut,
}

/// Why no environment could be had.
#[derive(Debug, PartialEq, Eq)]
pub enum AcquireError {
    /// The function's reserved concurrency is used up.
    ReservedConcurrency,
    /// The account's concurrency is used up.
    AccountConcurrency,
    /// The environment could not be started.
    Start(String),
}

/// Every execution environment of the emulator.
pub struct Environments {
    settings: EnvironmentSettings,
    executor: Arc<dyn Executor>,
    emulator_url: OnceLock<String>,
    state: parking_lot::Mutex<PoolState>,
    me: Weak<Environments>,
    on_image_problem: OnceLock<ImageProblemHook>,
}

impl std::fmt::Debug for Environments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environments")
            .field("executor", &self.executor)
            .finish_non_exhaustive()
    }
}

impl Environments {
    /// The executor that starts environments.
    pub fn executor(&self) -> &Arc<dyn Executor> {
        &self.executor
    }

    /// A pool that starts environments with `executor`.
    pub fn new(settings: EnvironmentSettings, executor: Arc<dyn Executor>) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            settings,
            executor,
            emulator_url: OnceLock::new(),
            state: parking_lot::Mutex::new(PoolState::default()),
            me: me.clone(),
            on_image_problem: OnceLock::new(),
        })
    }

    /// Sets what is told when a function's environments cannot start because of its runtime image.
    pub fn on_image_problem(&self, hook: ImageProblemHook) {
        let _ = self.on_image_problem.set(hook);
    }

    /// Where agents reach the emulator; set once the edge is bound.
    pub fn set_emulator_url(&self, url: String) {
        let _ = self.emulator_url.set(self.executor.agent_url(&url));
    }

    /// The emulator's URL for agents.
    pub fn emulator_url(&self) -> &str {
        self.emulator_url
            .get()
            .map_or("http://127.0.0.1:4566", String::as_str)
    }

    /// The environment with this id.
    pub fn get(&self, id: &str) -> Option<Arc<Environment>> {
        self.state.lock().environments.get(id).cloned()
    }

    /// A warm environment for `deployment`, or a new one if the concurrency limits allow.
    pub fn acquire(
        &self,
        function: &Function,
        deployment: &Deployment,
        reserved: Option<u32>,
        config: impl FnOnce() -> AgentConfig,
    ) -> Result<Lease, AcquireError> {
        let key = DeploymentKey {
            function_arn: function.arn.clone(),
            version: deployment.config.version.clone(),
            revision: deployment.config.revision_id.clone(),
        };
        let mut state = self.state.lock();
        if let Some(reserved) = reserved
            && state.busy_per_function.get(&function.arn).copied().unwrap_or(0) >= reserved as usize
        {
            return Err(AcquireError::ReservedConcurrency);
        }
        // Reuse the most recently used idle environment: it is the warmest.
        while let Some((id, _)) = state.idle.get_mut(&key).and_then(Vec::pop) {
            if let Some(environment) = state.environments.get(&id).cloned() {
                *state.busy_per_function.entry(function.arn.clone()).or_default() += 1;
                return Ok(Lease {
                    environment,
                    cold: false,
                });
            }
        }
        let total: usize = state.per_function.values().sum();
        if total >= self.settings.max_environments {
            // Make room by stopping an idle environment of another deployment, if there is one.
            let victim = state.idle.values_mut().find_map(Vec::pop).map(|(id, _)| id);
            match victim.and_then(|id| state.environments.remove(&id)) {
                Some(environment) => {
                    if let Some(count) = state.per_function.get_mut(&environment.key.function_arn) {
                        *count = count.saturating_sub(1);
                    }
                    environment.kill();
                }
                None => return Err(AcquireError::AccountConcurrency),
            }
        }
        let environment = self.add_environment(&mut state, function, key, config());
        *state.busy_per_function.entry(function.arn.clone()).or_default() += 1;
        drop(state);
        match self.launch(&environment) {
            Ok(()) => Ok(Lease {
                environment,
                cold: true,
            }),
            Err(reason) => {
                self.remove(&environment);
                Err(AcquireError::Start(reason))
            }
        }
    }

    /// A new environment of `key`, counted for its function but not yet started.
    fn add_environment(
        &self,
        state: &mut PoolState,
        function: &Function,
        key: DeploymentKey,
        config: AgentConfig,
    ) -> Arc<Environment> {
        let (dispatch, inbox) = mpsc::channel(1);
        let environment = Arc::new(Environment {
            id: uuid::Uuid::new_v4().simple().to_string(),
            key,
            function_name: function.name.clone(),
            config,
            dispatch,
            inbox: tokio::sync::Mutex::new(inbox),
            pending: parking_lot::Mutex::new(None),
            running: parking_lot::Mutex::new(None),
            current_request: parking_lot::Mutex::new(None),
            retired: AtomicBool::new(false),
            stopped: tokio::sync::watch::channel(false).0,
        });
        state
            .environments
            .insert(environment.id.clone(), environment.clone());
        *state.per_function.entry(function.arn.clone()).or_default() += 1;
        environment
    }

    /// Starts an added environment through the executor.
    fn launch(&self, environment: &Arc<Environment>) -> Result<(), String> {
        let me = self.me.clone();
        let on_exit: Box<dyn FnOnce(Stop) + Send> = {
            let id = environment.id.clone();
            Box::new(move |stop| {
                if let Some(pool) = me.upgrade() {
                    pool.exited(&id, &stop);
                }
            })
        };
        let running = self.executor.start(environment, self.emulator_url(), on_exit)?;
        *environment.running.lock() = Some(running);
        tracing::info!(function = %environment.function_name, environment = %environment.id, "started execution environment");
        Ok(())
    }

    /// How long a new environment may take to start; see [`EnvironmentSettings::start_timeout`].
    pub fn start_timeout(&self) -> Duration {
        self.settings.start_timeout
    }

    /// Hands an invocation to a leased environment.
    pub async fn dispatch(&self, lease: &Lease, dispatch: Dispatch) -> bool {
        lease.environment.dispatch.send(dispatch).await.is_ok()
    }

    /// Waits until the leased environment's agent takes the dispatched invocation (`taken`), the environment
    /// stops first, or the start-up limit passes.
    pub async fn handover(&self, lease: &Lease, taken: oneshot::Receiver<()>) -> Handover {
        let mut stopped = lease.environment.stopped.subscribe();
        tokio::select! {
            biased;
            taken = taken => match taken {
                Ok(()) => Handover::Taken,
                // The dispatch was dropped untaken: the environment is gone.
                Err(_) => Handover::Stopped,
            },
            _ = stopped.wait_for(|stopped| *stopped) => Handover::Stopped,
            () = tokio::time::sleep(self.settings.start_timeout) => Handover::StartTimedOut,
        }
    }

    /// Ends a lease: the environment goes back to the idle pool if it is healthy and current, else it stops.
    pub fn release(&self, lease: Lease, healthy: bool) {
        let environment = lease.environment;
        let mut state = self.state.lock();
        if let Some(count) = state.busy_per_function.get_mut(&environment.key.function_arn) {
            *count = count.saturating_sub(1);
        }
        let keep = healthy
            && !environment.retired.load(Ordering::Relaxed)
            && state.environments.contains_key(&environment.id);
        if keep {
            state
                .idle
                .entry(environment.key.clone())
                .or_default()
                .push((environment.id.clone(), Instant::now()));
            return;
        }
        drop(state);
        self.remove(&environment);
        environment.kill();
        self.top_up(&environment.key.function_arn);
    }

    /// Forgets an environment (its process is stopping or gone).
    fn remove(&self, environment: &Environment) {
        let mut state = self.state.lock();
        if state.environments.remove(&environment.id).is_some()
            && let Some(count) = state.per_function.get_mut(&environment.key.function_arn)
        {
            *count = count.saturating_sub(1);
        }
        for idle in state.idle.values_mut() {
            idle.retain(|(id, _)| *id != environment.id);
        }
    }

    /// Called by the executor when an environment stopped: a pending invocation, or one handed to an environment
    /// that never started (a pod whose image cannot be pulled), ends with AWS's exit error.
    fn exited(&self, id: &str, stop: &Stop) {
        let Some(environment) = self.get(id) else { return };
        self.remove(&environment);
        let status = &stop.status;
        if stop.image_problem
            && let Some(hook) = self.on_image_problem.get()
        {
            hook(&environment.key, status);
        }
        environment.stopped.send_replace(true);
        let pending = environment.pending.lock().take().or_else(|| {
            let mut inbox = environment.inbox.try_lock().ok()?;
            let dispatch = inbox.try_recv().ok()?;
            Some((dispatch.invocation.request_id, dispatch.result))
        });
        if let Some((request_id, sender)) = pending {
            let body = serde_json::json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
            });
            let _ = sender.send(AgentResult {
                outcome: "exit".into(),
                error_type: Some("Runtime.ExitError".into()),
                payload: base64_encode(body.to_string().as_bytes()),
                logs: String::new(),
                duration_ms: 0.0,
                init_duration_ms: None,
            });
        }
        tracing::info!(function = %environment.function_name, environment = %id, %status, "execution environment stopped");
        self.top_up_later(&environment.key.function_arn);
    }

    /// Stops an environment now (a timeout).
    pub fn kill(&self, lease: Lease) {
        let mut state = self.state.lock();
        if let Some(count) = state
            .busy_per_function
            .get_mut(&lease.environment.key.function_arn)
        {
            *count = count.saturating_sub(1);
        }
        drop(state);
        self.remove(&lease.environment);
        lease.environment.kill();
        self.top_up(&lease.environment.key.function_arn);
    }

    /// Retires every environment of `function_arn`: idle ones stop now, busy ones when their invocation ends.
    pub fn retire_function(&self, function_arn: &str) {
        self.retire_deployments(function_arn, None);
    }

    /// Retires the environments of `function_arn` that run `version` (all of them for none): idle ones stop now,
    /// busy ones when their invocation ends.
    pub fn retire_deployments(&self, function_arn: &str, version: Option<&str>) {
        let environments: Vec<Arc<Environment>> = {
            let state = self.state.lock();
            state
                .environments
                .values()
                .filter(|e| e.key.function_arn == function_arn)
                .filter(|e| version.is_none_or(|v| e.key.version == v))
                .cloned()
                .collect()
        };
        for environment in environments {
            environment.retired.store(true, Ordering::Relaxed);
            let idle = {
                let state = self.state.lock();
                state
                    .idle
                    .get(&environment.key)
                    .is_some_and(|ids| ids.iter().any(|(id, _)| *id == environment.id))
            };
            if idle {
                self.remove(&environment);
                environment.kill();
            }
        }
    }

    /// Stops environments idle for longer than the idle timeout, except those a warm pool still needs.
    pub fn reap_idle(&self) {
        let now = Instant::now();
        let expired: Vec<Arc<Environment>> = {
            let mut state = self.state.lock();
            let timeout = self.settings.idle_timeout;
            let mut spare = warm::spare(&state);
            let mut ids = Vec::new();
            for (key, idle) in state.idle.iter_mut() {
                // Oldest first, so the most recently used stay warm.
                idle.retain(|(id, since)| {
                    if now.duration_since(*since) < timeout {
                        return true;
                    }
                    match spare.get_mut(key) {
                        Some(0) => return true,
                        Some(n) => *n -= 1,
                        None => {}
                    }
                    ids.push(id.clone());
                    false
                });
            }
            ids.iter()
                .filter_map(|id| state.environments.get(id).cloned())
                .collect()
        };
        for environment in expired {
            tracing::info!(function = %environment.function_name, environment = %environment.id, "stopping idle execution environment");
            self.remove(&environment);
            environment.kill();
        }
    }

    /// Stops every environment (emulator shutdown).
    pub fn shutdown(&self) {
        let environments: Vec<Arc<Environment>> = {
            let mut state = self.state.lock();
            state.idle.clear();
            state.per_function.clear();
            state.busy_per_function.clear();
            state.warm.clear();
            state.environments.drain().map(|(_, e)| e).collect()
        };
        for environment in environments {
            environment.kill();
        }
    }

    /// How many environments exist for a function (busy and idle).
    pub fn count(&self, function_arn: &str) -> usize {
        self.state
            .lock()
            .per_function
            .get(function_arn)
            .copied()
            .unwrap_or(0)
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.settings.idle_timeout
    }
}

/// Base64 (standard alphabet).
pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes base64, empty on malformed input.
pub fn base64_decode(text: &str) -> Bytes {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Bytes::from)
        .unwrap_or_default()
}
