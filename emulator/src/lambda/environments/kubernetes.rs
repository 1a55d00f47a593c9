//! The Kubernetes executor, chosen when the emulator runs in a cluster: each environment is a pod of the
//! emulator's namespace, running the function's runtime image.
//!
//! A pod has an init container from the emulator's own image (`DYNASTREAM_IMAGE`) that copies the `dynastream`
//! binary into a shared `emptyDir` ([`AGENT_DIR`]), and the runtime image's container runs that copy's `agent`
//! subcommand, which connects back to the emulator at its pod IP (`POD_IP`), fetches the code and serves the
//! Runtime API, exactly as it does in a local process. Pods run under the restricted Pod Security Standard
//! (numeric non-root user, no privilege escalation, no capabilities, RuntimeDefault seccomp, read-only root file
//! system with writable `emptyDir`s for `/tmp` and the agent), carry labels naming function, version and
//! environment, and are owned by the emulator's pod, so that none outlives it.
//!
//! One watch over the namespace's pods of this emulator (by label) notices when a pod fails, ends, is deleted, or
//! its container is stuck waiting (image pull errors, crash loops, bad configuration): the environment is then
//! reported stopped, with the reason, and the pod deleted. Nothing polls. Each pod's output (the agent's platform
//! lines and the handler's log lines) is followed through the API and written to the emulator's log, as the
//! process executor does with a child's output; `kubectl logs` on the pod shows the same lines.
//!
//! Runtime images without AWS's `/var/runtime/bootstrap` run the bundled bootstrap with `node` / `python3` from
//! the image, and find the AWS SDK the runtime ships in [`SDK_CACHE`] (`DYNASTREAM_CACHE`), where the image must
//! have installed it beforehand with `dynastream runtimes install` (the root file system is read-only).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerStatus, EmptyDirVolumeSource, EnvVar, Pod, PodSecurityContext, PodSpec,
    ResourceRequirements, SeccompProfile, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, ListParams, LogParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use super::{Environment, Executor, RunningEnvironment, Stop};

/// Where the init container puts the `dynastream` binary in every pod.
pub const AGENT_DIR: &str = "/opt/dynastream";
/// `DYNASTREAM_CACHE` in handler pods: where a runtime image keeps the AWS SDKs it ships, pre-installed with
/// `DYNASTREAM_CACHE=/opt/dynastream-sdk dynastream runtimes install` (AWS's own images have theirs built in).
pub const SDK_CACHE: &str = "/opt/dynastream-sdk";
/// The user handler pods run as (numeric, so that the kubelet can check `runAsNonRoot`).
pub const POD_USER: i64 = 65532;
/// The label every pod the emulator starts carries (with the value `dynastream`).
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The name of the container that runs the agent and the runtime.
const RUNTIME_CONTAINER: &str = "runtime";
/// Label: the function's name.
pub const FUNCTION_LABEL: &str = "dynastream.dev/function";
/// Label: the function's version (`LATEST` for `$LATEST`).
pub const VERSION_LABEL: &str = "dynastream.dev/version";
/// Label: the execution environment's id.
pub const ENVIRONMENT_LABEL: &str = "dynastream.dev/environment";
/// Label: the emulator pod that started the pod.
pub const EMULATOR_LABEL: &str = "dynastream.dev/emulator";
/// Label: which run of the emulator started the pod (pods of an earlier run in the same pod are deleted).
pub const INSTANCE_LABEL: &str = "dynastream.dev/instance";
/// Container states that will not get better by waiting: the environment has failed to start.
const STUCK_REASONS: [&str; 7] = [
    "ErrImagePull",
    "ErrImageNeverPull",
    "ImagePullBackOff",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
];

/// What the emulator knows about its own pod (from the downward API).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodContext {
    /// `POD_NAMESPACE`: where handler pods are created.
    pub namespace: String,
    /// `POD_NAME`: the owner of handler pods.
    pub name: String,
    /// `POD_UID`: the owner's uid.
    pub uid: String,
    /// `POD_IP`: where agents reach the emulator.
    pub ip: String,
    /// `DYNASTREAM_IMAGE`: the emulator's image, for the init container.
    pub image: String,
}

impl PodContext {
    /// From the environment variables the operator's Deployment sets; the error names what is missing.
    pub fn from_env() -> Result<Self, String> {
        let get = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let missing: Vec<&str> = [
            "POD_NAMESPACE",
            "POD_NAME",
            "POD_UID",
            "POD_IP",
            "DYNASTREAM_IMAGE",
        ]
        .into_iter()
        .filter(|name| get(name).is_none())
        .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the emulator cannot start Lambda execution environments as pods: {} not set (the operator's \
                 emulator Deployment sets them from the downward API)",
                missing.join(", ")
            ));
        }
        let get = |name: &str| get(name).unwrap_or_default();
        Ok(Self {
            namespace: get("POD_NAMESPACE"),
            name: get("POD_NAME"),
            uid: get("POD_UID"),
            ip: get("POD_IP"),
            image: get("DYNASTREAM_IMAGE"),
        })
    }
}

/// An environment's pod, as the watch sees it.
struct Tracked {
    pod: String,
    environment: Arc<Environment>,
    on_exit: Option<Box<dyn FnOnce(Stop) + Send>>,
    /// The pod exists (its creation was answered), so a relist without it means it is gone.
    created: bool,
    /// Its output is being followed into the emulator's log.
    following: bool,
}

struct Shared {
    context: Result<PodContext, String>,
    instance: String,
    client: tokio::sync::OnceCell<Client>,
    watching: std::sync::atomic::AtomicBool,
    /// Tracked pods by environment id.
    pods: parking_lot::Mutex<HashMap<String, Tracked>>,
}

/// Starts environments as pods.
pub struct KubernetesExecutor {
    runtime_images: BTreeMap<String, String>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for KubernetesExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesExecutor")
            .field("runtime_images", &self.runtime_images)
            .field("context", &self.shared.context)
            .finish_non_exhaustive()
    }
}

impl KubernetesExecutor {
    /// An executor with these images per runtime, in the pod the environment variables describe.
    pub fn new(runtime_images: BTreeMap<String, String>) -> Self {
        Self::with_context(runtime_images, PodContext::from_env())
    }

    /// An executor with these images per runtime, in this pod (or failing every start with the error).
    pub fn with_context(
        runtime_images: BTreeMap<String, String>,
        context: Result<PodContext, String>,
    ) -> Self {
        Self {
            runtime_images,
            shared: Arc::new(Shared {
                context,
                instance: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
                client: tokio::sync::OnceCell::new(),
                watching: std::sync::atomic::AtomicBool::new(false),
                pods: parking_lot::Mutex::new(HashMap::new()),
            }),
        }
    }
}

struct RunningPod {
    shared: Arc<Shared>,
    environment: String,
    pod: String,
    create: parking_lot::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl RunningEnvironment for RunningPod {
    fn kill(&self) {
        let create = self.create.lock().take();
        let shared = self.shared.clone();
        let pod = self.pod.clone();
        let environment = self.environment.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // NB: the pod is deleted in a task of its own (kill is synchronous); waiting for the creation first
        // means a pod still being created is deleted too, instead of being left behind.
        runtime.spawn(async move {
            if let Some(create) = create {
                let _ = create.await;
            }
            if let Ok(context) = &shared.context
                && let Some(client) = shared.client.get()
            {
                delete_pod(client, &context.namespace, &pod).await;
            }
            // A pod that never got created never shows up in the watch: report it stopped here.
            let unwatched = {
                let mut pods = shared.pods.lock();
                match pods.get(&environment) {
                    Some(tracked) if !tracked.created => pods.remove(&environment),
                    _ => None,
                }
            };
            if let Some(on_exit) = unwatched.and_then(|mut tracked| tracked.on_exit.take()) {
                on_exit(String::from("killed").into());
            }
        });
    }
}

impl Executor for KubernetesExecutor {
    fn start(
        &self,
        environment: &Arc<Environment>,
        emulator_url: &str,
        on_exit: Box<dyn FnOnce(Stop) + Send>,
    ) -> Result<Box<dyn RunningEnvironment>, String> {
        let context = self.shared.context.clone()?;
        let runtime = &environment.config.runtime;
        let image = self
            .runtime_images
            .get(runtime)
            .ok_or_else(|| self.runtime_problem(runtime).unwrap_or_default())?;
        let pod = pod_manifest(&context, &self.shared.instance, environment, image, emulator_url);
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.shared.pods.lock().insert(
            environment.id.clone(),
            Tracked {
                pod: name.clone(),
                environment: environment.clone(),
                on_exit: Some(on_exit),
                created: false,
                following: false,
            },
        );
        let shared = self.shared.clone();
        let id = environment.id.clone();
        let create = tokio::spawn(async move {
            let created = async {
                let client = shared.client().await?;
                shared.watch(&client);
                Api::<Pod>::namespaced(client, &context.namespace)
                    .create(&PostParams::default(), &pod)
                    .await
                    .map_err(|e| {
                        let name = pod.metadata.name.as_deref().unwrap_or_default();
                        format!("failed to create pod {name} in {}: {e}", context.namespace)
                    })
            }
            .await;
            let failed = {
                let mut pods = shared.pods.lock();
                match created {
                    Ok(_) => {
                        if let Some(tracked) = pods.get_mut(&id) {
                            tracked.created = true;
                        }
                        None
                    }
                    Err(error) => pods.remove(&id).map(|tracked| (tracked, error)),
                }
            };
            if let Some((mut tracked, error)) = failed {
                tracing::warn!(target: "lambda", function = %tracked.environment.function_name, "{error}");
                if let Some(on_exit) = tracked.on_exit.take() {
                    on_exit(error.into());
                }
            }
        });
        Ok(Box::new(RunningPod {
            shared: self.shared.clone(),
            environment: environment.id.clone(),
            pod: name,
            create: parking_lot::Mutex::new(Some(create)),
        }))
    }

    fn runtime_problem(&self, runtime: &str) -> Option<String> {
        (!self.runtime_images.contains_key(runtime)).then(|| {
            format!(
                "no image is configured for the {runtime} runtime: add it to DYNASTREAM_RUNTIME_IMAGES \
                 (the Helm chart's runtimeImages)"
            )
        })
    }

    fn agent_url(&self, local_url: &str) -> String {
        match &self.shared.context {
            Ok(context) => {
                let port = local_url.rsplit_once(':').map_or("4566", |(_, port)| port);
                format!("http://{}:{port}", bracket_ipv6(&context.ip))
            }
            Err(_) => local_url.to_owned(),
        }
    }

    fn shutdown(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        let shared = self.shared.clone();
        Box::pin(async move {
            let (Ok(context), Some(client)) = (&shared.context, shared.client.get()) else {
                return;
            };
            let pods: Api<Pod> = Api::namespaced(client.clone(), &context.namespace);
            let selector = format!("{MANAGED_BY}=dynastream,{INSTANCE_LABEL}={}", shared.instance);
            let deleted = async {
                let Ok(list) = pods.list(&ListParams::default().labels(&selector)).await else {
                    return;
                };
                let names: Vec<String> = list
                    .items
                    .into_iter()
                    .filter_map(|pod| pod.metadata.name)
                    .collect();
                futures::future::join_all(
                    names
                        .iter()
                        .map(|name| delete_pod(client, &context.namespace, name)),
                )
                .await;
            };
            // NB: the owner reference deletes whatever is left once the emulator's pod goes.
            let _ = tokio::time::timeout(Duration::from_secs(5), deleted).await;
        })
    }
}

impl Shared {
    async fn client(&self) -> Result<Client, String> {
        self.client
            .get_or_try_init(|| async {
                Client::try_default()
                    .await
                    .map_err(|e| format!("failed to connect to the Kubernetes API: {e}"))
            })
            .await
            .cloned()
    }

    /// Starts the watch over this emulator's pods, once; first deletes pods an earlier run left behind.
    fn watch(self: &Arc<Self>, client: &Client) {
        if self.watching.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let Ok(context) = &self.context else { return };
        let api: Api<Pod> = Api::namespaced(client.clone(), &context.namespace);
        let shared = Arc::downgrade(self);
        let leftovers = format!(
            "{MANAGED_BY}=dynastream,{EMULATOR_LABEL}={},{INSTANCE_LABEL}!={}",
            label_value(&context.name),
            self.instance
        );
        let selector = format!("{MANAGED_BY}=dynastream,{INSTANCE_LABEL}={}", self.instance);
        let namespace = context.namespace.clone();
        let client = client.clone();
        tokio::spawn(async move {
            if let Ok(list) = api.list(&ListParams::default().labels(&leftovers)).await {
                for pod in list.items.into_iter().filter_map(|pod| pod.metadata.name) {
                    tracing::info!(target: "lambda", pod = %pod, "deleting a pod an earlier run of the emulator left");
                    delete_pod(&client, &namespace, &pod).await;
                }
            }
            let mut events = watcher(api, watcher::Config::default().labels(&selector))
                .default_backoff()
                .boxed();
            let mut listed = Vec::new();
            let mut created_before = HashSet::new();
            loop {
                let event = match events.try_next().await {
                    Ok(Some(event)) => event,
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(target: "lambda", "watching execution environment pods: {error}");
                        continue;
                    }
                };
                let Some(shared) = shared.upgrade() else { break };
                match event {
                    watcher::Event::Init => {
                        listed.clear();
                        // The list is requested after this event: pods created by now are in it unless deleted;
                        // one created meanwhile may be missing from it and is not judged by it.
                        created_before = shared.created();
                    }
                    watcher::Event::InitApply(pod) => {
                        listed.push(pod.metadata.name.clone().unwrap_or_default());
                        shared.observe(&client, &namespace, &pod, false);
                    }
                    watcher::Event::InitDone => {
                        shared.vanished(&client, &namespace, &created_before, &listed)
                    }
                    watcher::Event::Apply(pod) => shared.observe(&client, &namespace, &pod, false),
                    watcher::Event::Delete(pod) => shared.observe(&client, &namespace, &pod, true),
                }
            }
        });
    }

    /// Acts on a pod's new state: reports a pod that ended or cannot start, follows a started one's output.
    fn observe(&self, client: &Client, namespace: &str, pod: &Pod, deleted: bool) {
        let labels = pod.metadata.labels.as_ref();
        let Some(id) = labels.and_then(|labels| labels.get(ENVIRONMENT_LABEL)) else {
            return;
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        let ended = if deleted {
            Some(format!("pod {name} was deleted"))
        } else {
            pod_failure(pod)
        };
        let mut pods = self.pods.lock();
        let Some(tracked) = pods.get_mut(id) else {
            drop(pods);
            // No longer an environment of this emulator (it was reported stopped): delete it once it ended.
            if !deleted && ended.is_some() {
                spawn_delete(client, namespace, &name);
            }
            return;
        };
        if ended.is_none() && !tracked.following && runtime_started(pod) {
            tracked.following = true;
            follow_output(
                client.clone(),
                namespace.to_owned(),
                name,
                tracked.environment.clone(),
            );
            return;
        }
        let Some(reason) = ended else { return };
        let Some(mut tracked) = pods.remove(id) else {
            return;
        };
        drop(pods);
        tracing::info!(target: "lambda", function = %tracked.environment.function_name, pod = %tracked.pod, "{reason}");
        if !deleted {
            spawn_delete(client, namespace, &tracked.pod);
        }
        if let Some(on_exit) = tracked.on_exit.take() {
            on_exit(Stop {
                status: reason,
                image_problem: !deleted && image_problem(pod),
            });
        }
    }

    /// The environments whose pods were created.
    fn created(&self) -> HashSet<String> {
        let pods = self.pods.lock();
        pods.iter()
            .filter(|(_, tracked)| tracked.created)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// After a relist: pods created before it (`created_before`) that are not listed any more were deleted while
    /// the watch was down.
    fn vanished(
        &self,
        client: &Client,
        namespace: &str,
        created_before: &HashSet<String>,
        listed: &[String],
    ) {
        let gone: Vec<Tracked> = {
            let mut pods = self.pods.lock();
            let ids = unlisted(
                pods.iter()
                    .map(|(id, tracked)| (id.as_str(), tracked.pod.as_str())),
                created_before,
                listed,
            );
            ids.iter().filter_map(|id| pods.remove(id)).collect()
        };
        for mut tracked in gone {
            spawn_delete(client, namespace, &tracked.pod);
            if let Some(on_exit) = tracked.on_exit.take() {
                on_exit(format!("pod {} was deleted", tracked.pod).into());
            }
        }
    }
}

/// Of the tracked (environment id, pod name) pairs, the environments created before a relist whose pods it did
/// not list.
fn unlisted<'a>(
    tracked: impl Iterator<Item = (&'a str, &'a str)>,
    created_before: &HashSet<String>,
    listed: &[String],
) -> Vec<String> {
    tracked
        .filter(|(id, pod)| created_before.contains(*id) && !listed.iter().any(|l| l == pod))
        .map(|(id, _)| id.to_owned())
        .collect()
}

/// Waiting reasons that say the runtime container's image cannot be had.
const IMAGE_REASONS: [&str; 4] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
];

/// Whether the runtime container (not the init container, whose image is the emulator's own) cannot get its
/// image: then no environment of the function can start, and the function itself has failed.
pub fn image_problem(pod: &Pod) -> bool {
    let statuses = pod
        .status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten());
    statuses.filter(|c| c.name == RUNTIME_CONTAINER).any(|container| {
        let waiting = container.state.as_ref().and_then(|s| s.waiting.as_ref());
        waiting
            .and_then(|w| w.reason.as_deref())
            .is_some_and(|reason| IMAGE_REASONS.contains(&reason))
    })
}

/// Why the pod will never (or no longer) run its agent, if so.
pub fn pod_failure(pod: &Pod) -> Option<String> {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let status = pod.status.as_ref()?;
    let statuses = || {
        let init = status.init_container_statuses.iter().flatten();
        init.chain(status.container_statuses.iter().flatten())
    };
    for container in statuses() {
        if let Some(waiting) = container.state.as_ref().and_then(|s| s.waiting.as_ref())
            && let Some(reason) = waiting.reason.as_deref()
            && STUCK_REASONS.contains(&reason)
        {
            let message = waiting.message.as_deref().unwrap_or_default();
            return Some(format!(
                "pod {name}: container {} cannot start: {reason}: {message}",
                container.name
            ));
        }
    }
    match status.phase.as_deref() {
        Some(phase @ ("Failed" | "Succeeded")) => {
            let terminated = statuses().find_map(|container| {
                let terminated = container.state.as_ref()?.terminated.as_ref()?;
                (terminated.exit_code != 0 || phase == "Succeeded").then(|| {
                    format!(
                        "container {} exited with status {}{}",
                        container.name,
                        terminated.exit_code,
                        terminated
                            .reason
                            .as_deref()
                            .map(|reason| format!(" ({reason})"))
                            .unwrap_or_default()
                    )
                })
            });
            let why = terminated
                .or_else(|| status.message.clone())
                .or_else(|| status.reason.clone())
                .unwrap_or_default();
            let phase = phase.to_lowercase();
            Some(
                match (why.is_empty(), pod.metadata.deletion_timestamp.is_some()) {
                    // A pod being deleted often ends before its containers report why.
                    (true, true) => format!("pod {name} {phase}: it was deleted"),
                    (true, false) => format!("pod {name} {phase}"),
                    (false, _) => format!("pod {name} {phase}: {why}"),
                },
            )
        }
        _ => None,
    }
}

/// Whether the runtime container has started (so its output can be followed).
fn runtime_started(pod: &Pod) -> bool {
    let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.as_ref());
    statuses.into_iter().flatten().any(|container: &ContainerStatus| {
        container.name == RUNTIME_CONTAINER
            && container
                .state
                .as_ref()
                .is_some_and(|state| state.running.is_some() || state.terminated.is_some())
    })
}

/// Writes the pod's output to the emulator's log, tagged with function and request, until the pod ends.
fn follow_output(client: Client, namespace: String, pod: String, environment: Arc<Environment>) {
    tokio::spawn(async move {
        let api: Api<Pod> = Api::namespaced(client, &namespace);
        let params = LogParams {
            container: Some(RUNTIME_CONTAINER.into()),
            follow: true,
            ..LogParams::default()
        };
        let stream = match api.log_stream(&pod, &params).await {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(target: "lambda", pod = %pod, "failed to follow the output of the pod: {error}");
                return;
            }
        };
        let mut lines = stream.lines();
        while let Some(Ok(line)) = lines.next().await {
            let request = environment.current_request.lock().clone().unwrap_or_default();
            tracing::info!(target: "lambda", function = %environment.function_name, request_id = %request, "{line}");
        }
    });
}

fn spawn_delete(client: &Client, namespace: &str, pod: &str) {
    let (client, namespace, pod) = (client.clone(), namespace.to_owned(), pod.to_owned());
    tokio::spawn(async move { delete_pod(&client, &namespace, &pod).await });
}

/// Deletes a pod at once (no grace period: the agent keeps no state); a pod already gone is fine.
async fn delete_pod(client: &Client, namespace: &str, pod: &str) {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    match api.delete(pod, &params).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(error) => tracing::warn!(target: "lambda", pod = %pod, "failed to delete the pod: {error}"),
    }
}

fn bracket_ipv6(ip: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.to_owned()
    }
}

/// A valid label value from any text: at most 63 of `[A-Za-z0-9._-]`, starting and ending alphanumeric.
pub fn label_value(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    cleaned
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// The pod's name: the function's name as a DNS label part, and the start of the environment's id.
fn pod_name(function: &str, environment: &str) -> String {
    let mut base: String = function
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    base = base.trim_matches('-').to_owned();
    if base.is_empty() {
        base = "function".into();
    }
    let id: String = environment.chars().take(12).collect();
    format!("{base}-{id}")
}

/// The pod of one execution environment.
pub fn pod_manifest(
    context: &PodContext,
    instance: &str,
    environment: &Environment,
    image: &str,
    emulator_url: &str,
) -> Pod {
    let config = &environment.config;
    let version = if config.version == "$LATEST" {
        "LATEST"
    } else {
        &config.version
    };
    let labels = BTreeMap::from([
        (MANAGED_BY.to_owned(), "dynastream".to_owned()),
        (
            "app.kubernetes.io/component".to_owned(),
            "lambda-environment".to_owned(),
        ),
        (FUNCTION_LABEL.to_owned(), label_value(&config.function_name)),
        (VERSION_LABEL.to_owned(), label_value(version)),
        (ENVIRONMENT_LABEL.to_owned(), label_value(&environment.id)),
        (EMULATOR_LABEL.to_owned(), label_value(&context.name)),
        (INSTANCE_LABEL.to_owned(), instance.to_owned()),
    ]);
    let memory = Quantity(format!("{}Mi", config.memory_size.max(128)));
    let security = SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        ..SecurityContext::default()
    };
    let agent_mount = VolumeMount {
        name: "dynastream".into(),
        mount_path: AGENT_DIR.into(),
        ..VolumeMount::default()
    };
    let env = |name: &str, value: &str| EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    };
    let agent = format!("{AGENT_DIR}/dynastream");
    Pod {
        metadata: ObjectMeta {
            name: Some(pod_name(&config.function_name, &environment.id)),
            namespace: Some(context.namespace.clone()),
            labels: Some(labels),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Pod".into(),
                name: context.name.clone(),
                uid: context.uid.clone(),
                controller: Some(true),
                block_owner_deletion: None,
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            enable_service_links: Some(false),
            automount_service_account_token: Some(false),
            termination_grace_period_seconds: Some(1),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(POD_USER),
                run_as_group: Some(POD_USER),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    ..SeccompProfile::default()
                }),
                ..PodSecurityContext::default()
            }),
            init_containers: Some(vec![Container {
                name: "install-agent".into(),
                image: Some(context.image.clone()),
                image_pull_policy: Some("IfNotPresent".into()),
                command: Some(vec!["/usr/local/bin/dynastream".into()]),
                args: Some(vec!["install-agent".into(), AGENT_DIR.into()]),
                env: Some(vec![env("DYNASTREAM_LOG", "warn")]),
                security_context: Some(security.clone()),
                volume_mounts: Some(vec![agent_mount.clone()]),
                resources: Some(ResourceRequirements {
                    requests: Some(BTreeMap::from([("memory".to_owned(), Quantity("16Mi".into()))])),
                    limits: Some(BTreeMap::from([("memory".to_owned(), Quantity("64Mi".into()))])),
                    ..ResourceRequirements::default()
                }),
                ..Container::default()
            }]),
            containers: vec![Container {
                name: RUNTIME_CONTAINER.into(),
                image: Some(image.to_owned()),
                image_pull_policy: Some("IfNotPresent".into()),
                command: Some(vec![agent]),
                args: Some(vec![
                    "agent".into(),
                    "--emulator".into(),
                    emulator_url.to_owned(),
                    "--environment".into(),
                    environment.id.clone(),
                ]),
                env: Some(vec![
                    env("DYNASTREAM_CACHE", SDK_CACHE),
                    env("DYNASTREAM_LOG", "warn"),
                    env("HOME", "/tmp"),
                    env("TMPDIR", "/tmp"),
                ]),
                resources: Some(ResourceRequirements {
                    requests: Some(BTreeMap::from([("memory".to_owned(), memory.clone())])),
                    limits: Some(BTreeMap::from([("memory".to_owned(), memory)])),
                    ..ResourceRequirements::default()
                }),
                security_context: Some(security),
                volume_mounts: Some(vec![
                    VolumeMount {
                        read_only: Some(true),
                        ..agent_mount
                    },
                    VolumeMount {
                        name: "tmp".into(),
                        mount_path: "/tmp".into(),
                        ..VolumeMount::default()
                    },
                ]),
                ..Container::default()
            }],
            volumes: Some(vec![
                Volume {
                    name: "dynastream".into(),
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    ..Volume::default()
                },
                Volume {
                    name: "tmp".into(),
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    ..Volume::default()
                },
            ]),
            ..PodSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_without_an_image_cannot_run() {
        let executor = KubernetesExecutor::with_context(
            BTreeMap::from([(
                "nodejs16.x".to_owned(),
                "public.ecr.aws/lambda/nodejs:16".to_owned(),
            )]),
            Err("not in a pod".into()),
        );
        assert_eq!(executor.runtime_problem("nodejs16.x"), None);
        let problem = executor.runtime_problem("python3.12").unwrap();
        assert!(
            problem.starts_with("no image is configured for the python3.12 runtime"),
            "{problem}"
        );
    }

    #[test]
    fn a_relist_judges_only_pods_created_before_it() {
        let created_before = HashSet::from(["a".to_owned(), "b".to_owned()]);
        let listed = ["pod-b".to_owned()];
        // "a" was deleted while the watch was down; "c" was created after the list was requested, so its
        // absence from the list says nothing.
        let tracked = [("a", "pod-a"), ("b", "pod-b"), ("c", "pod-c")];
        assert_eq!(unlisted(tracked.into_iter(), &created_before, &listed), ["a"]);
    }

    #[test]
    fn label_values_and_pod_names_are_valid() {
        assert_eq!(label_value("publishNewBark"), "publishNewBark");
        assert_eq!(label_value("$LATEST"), "LATEST");
        assert_eq!(label_value(&"a".repeat(70)).len(), 63);
        assert_eq!(label_value("-x_"), "x");
        assert_eq!(
            pod_name("publishNewBark", "0123456789abcdef"),
            "publishnewbark-0123456789ab"
        );
        assert_eq!(pod_name("__", "0123456789abcdef"), "function-0123456789ab");
    }

    #[test]
    fn agents_reach_the_emulator_at_its_pod_ip() {
        let context = PodContext {
            namespace: "ns".into(),
            name: "dynastream-abc".into(),
            uid: "uid".into(),
            ip: "10.244.0.7".into(),
            image: "dynastream:dev".into(),
        };
        let executor = KubernetesExecutor::with_context(BTreeMap::new(), Ok(context));
        assert_eq!(
            executor.agent_url("http://127.0.0.1:4566"),
            "http://10.244.0.7:4566"
        );
    }

    #[test]
    fn stuck_containers_and_failed_pods_are_failures() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "f-1"},
            "status": {"phase": "Pending", "containerStatuses": [{
                "name": "runtime", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}}
            }]}
        }))
        .unwrap();
        assert_eq!(pod_failure(&pod), None, "not one of the stuck reasons");
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "f-1"},
            "status": {"phase": "Pending", "containerStatuses": [{
                "name": "runtime", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}
            }]}
        }))
        .unwrap();
        assert_eq!(
            pod_failure(&pod).as_deref(),
            Some("pod f-1: container runtime cannot start: ImagePullBackOff: Back-off pulling image")
        );
        assert!(image_problem(&pod), "the runtime's image cannot be had");
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "f-1"},
            "status": {"phase": "Failed", "containerStatuses": [{
                "name": "runtime", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
            }]}
        }))
        .unwrap();
        assert_eq!(
            pod_failure(&pod).as_deref(),
            Some("pod f-1 failed: container runtime exited with status 137 (OOMKilled)")
        );
        assert!(
            !image_problem(&pod),
            "a crash is the handler's, not the function's"
        );
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "f-1", "deletionTimestamp": "2026-11-26T10:00:00Z"},
            "status": {"phase": "Failed"}
        }))
        .unwrap();
        assert_eq!(
            pod_failure(&pod).as_deref(),
            Some("pod f-1 failed: it was deleted")
        );
    }
}
