//! The controllers: one per kind, sharing what the operator knows of the emulators and of what was applied.
//!
//! A reconciliation ensures the namespace's emulator, then applies the resource through the emulator's AWS API
//! and writes the outcome to `status`. What was applied is remembered per resource, with a fingerprint of the
//! desired state and the emulator's boot id, so that an unchanged resource costs no AWS call: only a spec change,
//! a changed reference, a restarted emulator (new boot id) or the resync period apply it again.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{Controller, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws::{self, AwsError, Target};
use crate::conditions::{self, Outcome};
use crate::config::Config;
use crate::crd::{
    CommonStatus, DELETION_POLICY_ANNOTATION, EventSourceMapping, EventSourceMappingStatus, Function,
    FunctionStatus, OWNER_ACCOUNT_ANNOTATION, REGION_ANNOTATION, Table, TableStatus,
};
use crate::emulator::{self, Emulator, Emulators, NotReady};
use crate::{esm, function, table};

const FIELD_MANAGER: &str = "dynastream-operator";
/// How long a resource waits before the next look while the emulator reports it in progress.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
/// How long a resource waits for its references before looking again (their changes also wake it).
const REFERENCE_INTERVAL: Duration = Duration::from_secs(2);
/// How long a resource waits for its emulator to become ready before looking again.
const EMULATOR_INTERVAL: Duration = Duration::from_secs(1);
/// The longest pause between retries of a failing resource.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Identifies a resource: kind, namespace, name.
type Key = (&'static str, String, String);

/// What was last applied to a resource.
#[derive(Clone, Debug)]
struct Applied {
    fingerprint: u64,
    boot_id: String,
    at: Instant,
    /// The status that apply produced. An object handed to a later reconciliation may predate that status's
    /// write, so its own status is not to be trusted.
    status: serde_json::Value,
}

/// What the controllers share.
pub struct Context {
    client: Client,
    config: Config,
    emulators: Emulators,
    applied: Mutex<HashMap<Key, Applied>>,
    failures: Mutex<HashMap<Key, u32>>,
    tables: Store<Table>,
    functions: Store<Function>,
    mappings: Store<EventSourceMapping>,
}

/// Why a reconciliation failed; the status says more.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes call failed.
    #[error("Kubernetes: {0}")]
    Kubernetes(#[from] kube::Error),
    /// The emulator is not usable yet.
    #[error(transparent)]
    NotReady(#[from] NotReady),
    /// The emulator's AWS API answered an error.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The finalizer could not be handled.
    #[error("finalizer: {0}")]
    Finalizer(String),
}

/// Runs the three controllers until the process is stopped.
pub async fn run(client: Client, config: Config) -> anyhow::Result<()> {
    let managed =
        watcher::Config::default().labels(&format!("{}={}", emulator::MANAGED_BY.0, emulator::MANAGED_BY.1));
    let watched = config.watch_namespace.clone();
    let tables = Controller::new(api::<Table>(&client, &watched), watcher::Config::default());
    let functions = Controller::new(api::<Function>(&client, &watched), watcher::Config::default());
    let mappings = Controller::new(
        api::<EventSourceMapping>(&client, &watched),
        watcher::Config::default(),
    );
    let context = Arc::new(Context {
        emulators: Emulators::new(client.clone(), config.emulator.clone()),
        client: client.clone(),
        config,
        applied: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
        tables: tables.store(),
        functions: functions.store(),
        mappings: mappings.store(),
    });
    // A change to an emulator's Deployment (a restart, a deletion) wakes every resource of its namespace.
    let deployments = api::<Deployment>(&client, &watched);
    let (t, f, m) = (
        context.tables.clone(),
        context.functions.clone(),
        context.mappings.clone(),
    );
    let tables = tables.watches(deployments.clone(), managed.clone(), move |d| {
        in_namespace(&t, &d)
    });
    let functions = functions.watches(deployments.clone(), managed.clone(), move |d| {
        in_namespace(&f, &d)
    });
    let mappings = mappings.watches(deployments, managed, move |d| in_namespace(&m, &d));
    // A mapping waits for the Table and Function it references.
    let (m1, m2) = (context.mappings.clone(), context.mappings.clone());
    let mappings = mappings
        .watches(
            api::<Table>(&client, &watched),
            watcher::Config::default(),
            move |t| referencing(&m1, &t, true),
        )
        .watches(
            api::<Function>(&client, &watched),
            watcher::Config::default(),
            move |f| referencing(&m2, &f, false),
        );
    tokio::join!(
        tables
            .shutdown_on_signal()
            .run(reconcile_table, error_policy, context.clone())
            .for_each(log),
        functions
            .shutdown_on_signal()
            .run(reconcile_function, error_policy, context.clone())
            .for_each(log),
        mappings
            .shutdown_on_signal()
            .run(reconcile_mapping, error_policy, context.clone())
            .for_each(log),
    );
    Ok(())
}

/// Every namespace's objects, or one namespace's.
fn api<K>(client: &Client, namespace: &str) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
{
    match namespace {
        "" => Api::all(client.clone()),
        namespace => Api::namespaced(client.clone(), namespace),
    }
}

async fn log<K: Resource>(
    result: Result<(ObjectRef<K>, Action), kube::runtime::controller::Error<Error, watcher::Error>>,
) {
    if let Err(err) = result {
        tracing::debug!("reconcile: {err}");
    }
}

fn in_namespace<K: Resource<DynamicType = ()> + Clone>(
    store: &Store<K>,
    deployment: &Deployment,
) -> Vec<ObjectRef<K>> {
    let namespace = deployment.namespace();
    store
        .state()
        .iter()
        .filter(|o| o.namespace() == namespace)
        .map(|o| ObjectRef::from_obj(o.as_ref()))
        .collect()
}

fn referencing<K: Resource>(
    store: &Store<EventSourceMapping>,
    referenced: &K,
    is_table: bool,
) -> Vec<ObjectRef<EventSourceMapping>> {
    let namespace = referenced.meta().namespace.clone().unwrap_or_default();
    let name = referenced.meta().name.clone().unwrap_or_default();
    store
        .state()
        .iter()
        .filter(|m| {
            let reference = if is_table {
                &m.spec.table_ref
            } else {
                &m.spec.function_ref
            };
            reference.as_ref().is_some_and(|r| {
                r.from.name == name
                    && r.from
                        .namespace
                        .clone()
                        .unwrap_or_else(|| m.namespace().unwrap_or_default())
                        == namespace
            })
        })
        .map(|m| ObjectRef::from_obj(m.as_ref()))
        .collect()
}

fn error_policy<K>(_: Arc<K>, err: &Error, _: Arc<Context>) -> Action {
    tracing::warn!("{err}");
    Action::requeue(Duration::from_secs(5))
}

/// How a reconciliation of one kind goes, once the emulator answers.
struct Step<S> {
    status: S,
    outcome: Outcome,
    /// The fingerprint to remember when the outcome is `Synced`.
    fingerprint: Option<u64>,
}

impl Context {
    fn target(&self, meta: &kube::api::ObjectMeta, emulator: &Emulator) -> Target {
        let annotation = |key: &str| meta.annotations.as_ref().and_then(|a| a.get(key)).cloned();
        Target {
            endpoint: emulator.endpoint.clone(),
            region: annotation(REGION_ANNOTATION).unwrap_or_else(|| aws::DEFAULT_REGION.into()),
            account: annotation(OWNER_ACCOUNT_ANNOTATION).unwrap_or_else(|| aws::DEFAULT_ACCOUNT.into()),
        }
    }

    fn retains(&self, meta: &kube::api::ObjectMeta) -> bool {
        let annotation = meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(DELETION_POLICY_ANNOTATION));
        annotation.map_or(self.config.deletion_policy.as_str(), String::as_str) == "retain"
    }

    /// Every resource of the namespace, as owners of its emulator (so that it goes when they all have).
    fn owners(&self, namespace: &str) -> Vec<OwnerReference> {
        fn of<K: Resource<DynamicType = ()> + Clone>(
            store: &Store<K>,
            namespace: &str,
        ) -> Vec<OwnerReference> {
            store
                .state()
                .iter()
                .filter(|o| o.meta().namespace.as_deref() == Some(namespace))
                .filter_map(|o| {
                    o.controller_owner_ref(&()).map(|mut r| {
                        r.controller = None;
                        r.block_owner_deletion = None;
                        r
                    })
                })
                .collect()
        }
        let mut owners = of(&self.tables, namespace);
        owners.extend(of(&self.functions, namespace));
        owners.extend(of(&self.mappings, namespace));
        owners
    }

    /// The status last applied, when the resource was applied to this emulator run and has not changed since.
    fn current_status<S: DeserializeOwned>(&self, key: &Key, fingerprint: u64, boot_id: &str) -> Option<S> {
        let resync = Duration::from_secs(self.config.resync_seconds);
        let applied = self.applied.lock();
        let applied = applied.get(key)?;
        let current =
            applied.fingerprint == fingerprint && applied.boot_id == boot_id && applied.at.elapsed() < resync;
        current
            .then(|| serde_json::from_value(applied.status.clone()).ok())
            .flatten()
    }

    fn applied_to(&self, key: &Key, boot_id: &str) -> bool {
        self.applied.lock().get(key).is_some_and(|a| a.boot_id == boot_id)
    }

    fn backoff(&self, key: &Key) -> Duration {
        let mut failures = self.failures.lock();
        let count = failures.entry(key.clone()).or_insert(0);
        *count = (*count + 1).min(10);
        Duration::from_secs(1 << (*count - 1).min(6)).min(MAX_BACKOFF)
    }
}

/// The generic part of every reconciliation: finalizer, emulator, status, requeue.
async fn reconcile<K, F, Fut>(object: Arc<K>, context: Arc<Context>, step: F) -> Result<Action, Error>
where
    K: Managed,
    F: FnOnce(Arc<K>, Arc<Context>, Emulator, Target) -> Fut,
    Fut: Future<Output = Result<Step<K::Status>, Error>>,
{
    let (kind, uses_references) = (K::KIND, K::USES_REFERENCES);
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let key: Key = (kind, namespace.clone(), name.clone());
    let api: Api<K> = Api::namespaced(context.client.clone(), &namespace);
    let finalizer_name = format!("finalizers.dynastream.dev/{kind}");
    tracing::debug!(kind, %namespace, %name, "reconciling");
    let result = finalizer(&api, &finalizer_name, object, |event| async {
        match event {
            Event::Apply(object) => {
                let generation = object.meta().generation;
                let current = object.status().cloned().unwrap_or_default();
                let emulator = match context
                    .emulators
                    .ensure(&namespace, context.owners(&namespace))
                    .await
                {
                    Ok(emulator) => emulator,
                    Err(err) => {
                        tracing::info!(kind, %namespace, %name, "waiting for the emulator: {err}");
                        let outcome = Outcome::Retrying {
                            reason: "EmulatorNotReady".into(),
                            message: err.to_string(),
                        };
                        write_status(
                            &api,
                            &name,
                            &current,
                            current.clone(),
                            &outcome,
                            uses_references,
                            generation,
                        )
                        .await?;
                        // An emulator starting is the usual case, not a failure: look again soon, without backing off.
                        return Ok(Action::requeue(EMULATOR_INTERVAL));
                    }
                };
                let target = context.target(object.meta(), &emulator);
                let boot_id = emulator.boot_id.clone();
                tracing::debug!(kind, %namespace, %name, %boot_id, "the emulator answers");
                let step = match step(object.clone(), context.clone(), emulator, target).await {
                    Ok(step) => step,
                    Err(Error::Aws(err)) => {
                        tracing::info!(kind, %namespace, %name, "the emulator answered {err}");
                        let outcome = if err.is_terminal() {
                            Outcome::Terminal {
                                reason: err.code.clone(),
                                message: err.message.clone(),
                            }
                        } else {
                            Outcome::Retrying {
                                reason: err.code.clone(),
                                message: err.message.clone(),
                            }
                        };
                        write_status(
                            &api,
                            &name,
                            &current,
                            current.clone(),
                            &outcome,
                            uses_references,
                            generation,
                        )
                        .await?;
                        context.applied.lock().remove(&key);
                        return Ok(match outcome {
                            Outcome::Terminal { .. } => Action::await_change(),
                            _ => Action::requeue(context.backoff(&key)),
                        });
                    }
                    Err(err) => return Err(err),
                };
                match &step.outcome {
                    Outcome::Synced => tracing::debug!(kind, %namespace, %name, "in sync"),
                    outcome => tracing::info!(kind, %namespace, %name, "{outcome:?}"),
                }
                if let (Outcome::Synced, Some(fingerprint)) = (&step.outcome, step.fingerprint) {
                    // NB: before the status write, which wakes the mappings that reference this resource: they
                    // look here to see whether it was applied.
                    context.failures.lock().remove(&key);
                    let applied = Applied {
                        fingerprint,
                        boot_id,
                        at: Instant::now(),
                        status: serde_json::to_value(&step.status).unwrap_or_default(),
                    };
                    context.applied.lock().insert(key.clone(), applied);
                }
                write_status(
                    &api,
                    &name,
                    &current,
                    step.status,
                    &step.outcome,
                    uses_references,
                    generation,
                )
                .await?;
                Ok(match (&step.outcome, step.fingerprint) {
                    (Outcome::Synced, Some(_)) => {
                        if kind == "EventSourceMapping" {
                            Action::requeue(Duration::from_secs(context.config.esm_status_seconds))
                        } else {
                            Action::requeue(Duration::from_secs(context.config.resync_seconds))
                        }
                    }
                    (Outcome::Synced, None) => {
                        Action::requeue(Duration::from_secs(context.config.esm_status_seconds))
                    }
                    (Outcome::Progressing { .. }, _) => Action::requeue(PROGRESS_INTERVAL),
                    (Outcome::Unresolved { .. }, _) => Action::requeue(REFERENCE_INTERVAL),
                    (Outcome::Terminal { .. }, _) => Action::await_change(),
                    (Outcome::Retrying { .. }, _) => Action::requeue(context.backoff(&key)),
                })
            }
            Event::Cleanup(object) => {
                context.applied.lock().remove(&key);
                if context.retains(object.meta()) {
                    return Ok(Action::await_change());
                }
                // Without an emulator (none was made, or it is going away with its namespace) there is nothing
                // left to delete.
                let Some(emulator) = context.emulators.existing(&namespace).await? else {
                    return Ok(Action::await_change());
                };
                let target = context.target(object.meta(), &emulator);
                object.delete_in(&target).await?;
                Ok(Action::await_change())
            }
        }
    })
    .await;
    result.map_err(|err| match err {
        kube::runtime::finalizer::Error::ApplyFailed(err)
        | kube::runtime::finalizer::Error::CleanupFailed(err) => err,
        other => Error::Finalizer(other.to_string()),
    })
}

/// What the generic reconciliation needs of each kind.
trait Managed:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The kind, in keys and finalizer names.
    const KIND: &'static str;
    /// Whether the spec may hold references (then `ACK.ReferencesResolved` is kept).
    const USES_REFERENCES: bool;
    /// The status type.
    type Status: CommonStatus + Clone + Default + PartialEq + Serialize + DeserializeOwned + Send;
    /// The status, if any.
    fn status(&self) -> Option<&Self::Status>;
    /// Deletes the resource in the emulator.
    fn delete_in(&self, target: &Target) -> impl Future<Output = Result<(), AwsError>> + Send;
}

impl Managed for Table {
    const KIND: &'static str = "Table";
    const USES_REFERENCES: bool = false;
    type Status = TableStatus;
    fn status(&self) -> Option<&TableStatus> {
        self.status.as_ref()
    }
    fn delete_in(&self, target: &Target) -> impl Future<Output = Result<(), AwsError>> + Send {
        table::delete(&self.spec, target)
    }
}

impl Managed for Function {
    const KIND: &'static str = "Function";
    const USES_REFERENCES: bool = false;
    type Status = FunctionStatus;
    fn status(&self) -> Option<&FunctionStatus> {
        self.status.as_ref()
    }
    fn delete_in(&self, target: &Target) -> impl Future<Output = Result<(), AwsError>> + Send {
        function::delete(&self.spec, target)
    }
}

impl Managed for EventSourceMapping {
    const KIND: &'static str = "EventSourceMapping";
    const USES_REFERENCES: bool = true;
    type Status = EventSourceMappingStatus;
    fn status(&self) -> Option<&EventSourceMappingStatus> {
        self.status.as_ref()
    }
    async fn delete_in(&self, target: &Target) -> Result<(), AwsError> {
        match self.status.as_ref().and_then(|s| s.uuid.as_deref()) {
            Some(uuid) => esm::delete(uuid, target).await,
            None => Ok(()),
        }
    }
}

/// Writes the status when it changed (a write that changes nothing would wake the controller for nothing).
async fn write_status<K, S>(
    api: &Api<K>,
    name: &str,
    current: &S,
    mut status: S,
    outcome: &Outcome,
    uses_references: bool,
    generation: Option<i64>,
) -> Result<(), Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    S: CommonStatus + Clone + PartialEq + Serialize,
{
    *status.conditions_mut() = current.conditions().to_vec();
    conditions::set(status.conditions_mut(), outcome, uses_references, generation);
    status.set_observed_generation(generation);
    if &status == current {
        return Ok(());
    }
    tracing::debug!(name, "writing the status");
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(patch),
    )
    .await?;
    Ok(())
}

fn fingerprint(parts: &impl Serialize) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(parts).unwrap_or_default().hash(&mut hasher);
    hasher.finish()
}

async fn reconcile_table(object: Arc<Table>, context: Arc<Context>) -> Result<Action, Error> {
    reconcile(object, context, |table, context, emulator, target| async move {
        let key: Key = ("Table", table.namespace().unwrap_or_default(), table.name_any());
        let current = table.status.clone().unwrap_or_default();
        let unsupported = table.spec.unsupported_fields();
        if !unsupported.is_empty() {
            return Ok(unsupported_step(current, &unsupported));
        }
        let print = fingerprint(&(&table.spec, &target));
        if let Some(status) = context.current_status(&key, print, &emulator.boot_id) {
            return Ok(Step {
                status,
                outcome: Outcome::Synced,
                fingerprint: Some(print),
            });
        }
        let (status, outcome): (TableStatus, Outcome) = table::apply(&table.spec, &target).await?;
        Ok(Step {
            status,
            outcome,
            fingerprint: Some(print),
        })
    })
    .await
}

async fn reconcile_function(object: Arc<Function>, context: Arc<Context>) -> Result<Action, Error> {
    reconcile(
        object,
        context,
        |function, context, emulator, target| async move {
            let namespace = function.namespace().unwrap_or_default();
            let key: Key = ("Function", namespace.clone(), function.name_any());
            let current = function.status.clone().unwrap_or_default();
            let unsupported = function.spec.unsupported_fields();
            if !unsupported.is_empty() {
                return Ok(unsupported_step(current, &unsupported));
            }
            let files = match &function.spec.code.config_map_ref {
                None => None,
                Some(reference) => {
                    let ns = reference.namespace.clone().unwrap_or(namespace);
                    let config_maps: Api<ConfigMap> = Api::namespaced(context.client.clone(), &ns);
                    match config_maps.get_opt(&reference.name).await? {
                        Some(config_map) => Some(config_map_files(&config_map)),
                        None => {
                            let message = format!(
                                "ConfigMap {ns}/{} (spec.code.configMapRef) does not exist",
                                reference.name
                            );
                            return Ok(Step {
                                status: current,
                                outcome: Outcome::Retrying {
                                    reason: "ConfigMapNotFound".into(),
                                    message,
                                },
                                fingerprint: None,
                            });
                        }
                    }
                }
            };
            let code = match function::code(&function.spec.code, files) {
                Ok(code) => code,
                Err(message) => {
                    return Ok(Step {
                        status: current,
                        outcome: Outcome::Terminal {
                            reason: "InvalidCode".into(),
                            message,
                        },
                        fingerprint: None,
                    });
                }
            };
            let print = fingerprint(&(&function.spec, &code.sha256, &target));
            if let Some(status) = context.current_status(&key, print, &emulator.boot_id) {
                return Ok(Step {
                    status,
                    outcome: Outcome::Synced,
                    fingerprint: Some(print),
                });
            }
            let (status, outcome): (FunctionStatus, Outcome) =
                function::apply(&function.spec, &code, &target).await?;
            Ok(Step {
                status,
                outcome,
                fingerprint: Some(print),
            })
        },
    )
    .await
}

async fn reconcile_mapping(object: Arc<EventSourceMapping>, context: Arc<Context>) -> Result<Action, Error> {
    reconcile(object, context, |mapping, context, emulator, target| async move {
        let namespace = mapping.namespace().unwrap_or_default();
        let key: Key = ("EventSourceMapping", namespace.clone(), mapping.name_any());
        let current = mapping.status.clone().unwrap_or_default();
        let unsupported = mapping.spec.unsupported_fields();
        if !unsupported.is_empty() {
            return Ok(unsupported_step(current, &unsupported));
        }
        let boot_id = emulator.boot_id.clone();
        let table = |ns: &str, name: &str| {
            let table = context.tables.get(&ObjectRef::new(name).within(ns))?;
            let stream_enabled = table
                .spec
                .stream_specification
                .as_ref()
                .is_some_and(|s| s.stream_enabled);
            Some(esm::TableInfo {
                stream_arn: table
                    .status
                    .as_ref()
                    .and_then(|s| s.latest_stream_arn.clone())
                    .filter(|_| stream_enabled),
                applied: context.applied_to(&("Table", ns.to_owned(), name.to_owned()), &boot_id),
            })
        };
        let function = |ns: &str, name: &str| {
            let function = context.functions.get(&ObjectRef::new(name).within(ns))?;
            Some(esm::FunctionInfo {
                name: function.spec.name.clone(),
                applied: context.applied_to(&("Function", ns.to_owned(), name.to_owned()), &boot_id),
            })
        };
        let resolved = match esm::resolve(&mapping.spec, &namespace, table, function) {
            Ok(resolved) => resolved,
            Err(message) => {
                return Ok(Step {
                    status: current,
                    outcome: Outcome::Unresolved { message },
                    fingerprint: None,
                });
            }
        };
        let print = fingerprint(&(
            &mapping.spec,
            &resolved.function_name,
            &resolved.event_source_arn,
            &target,
        ));
        let known = context.current_status(&key, print, &boot_id);
        let (mut status, outcome) = if let Some(status) = known {
            (status, Outcome::Synced)
        } else {
            esm::apply(&mapping.spec, &resolved, current.uuid.as_deref(), &target).await?
        };
        // Delivery health comes from the emulator's own endpoint, not from the AWS API.
        if let Some(uuid) = status.uuid.clone() {
            let path = format!("/_dynastream/event-source-mappings/{uuid}");
            if let Ok(inspection) = context
                .emulators
                .get_json::<esm::Inspection>(&emulator.endpoint, &path)
                .await
            {
                status.state = Some(inspection.state.clone());
                status.last_processing_result = Some(inspection.last_processing_result.clone());
                status.delivery = Some(inspection.delivery());
            }
        }
        Ok(Step {
            status,
            outcome,
            fingerprint: Some(print),
        })
    })
    .await
}

fn unsupported_step<S>(status: S, fields: &[&str]) -> Step<S> {
    let message = format!(
        "dynastream does not support {}: remove {}",
        fields.join(", "),
        if fields.len() == 1 { "it" } else { "them" }
    );
    Step {
        status,
        outcome: Outcome::Terminal {
            reason: "UnsupportedField".into(),
            message,
        },
        fingerprint: None,
    }
}

/// A ConfigMap's files: text (`data`) and binary (`binaryData`) keys.
pub fn config_map_files(config_map: &ConfigMap) -> BTreeMap<String, Vec<u8>> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (name, text) in config_map.data.iter().flatten() {
        files.insert(name.clone(), text.clone().into_bytes());
    }
    for (name, bytes) in config_map.binary_data.iter().flatten() {
        files.insert(name.clone(), bytes.0.clone());
    }
    files
}
