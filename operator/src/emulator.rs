//! The emulator of a namespace: its Kubernetes objects (ServiceAccount, RoleBinding, Deployment and Service, all
//! named `dynastream`), and how the operator reaches it.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, Endpoints, EnvVar, EnvVarSource,
    HTTPGetAction, ObjectFieldSelector, Pod, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    SeccompProfile, SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;

use crate::config::EmulatorConfig;

/// The name of the emulator's Deployment, Service and ServiceAccount in every namespace.
pub const NAME: &str = "dynastream";
/// The emulator's edge port.
pub const PORT: u16 = 4566;
/// The label every object the operator manages carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "dynastream-operator");
const FIELD_MANAGER: &str = "dynastream-operator";

/// A running emulator, as seen by the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emulator {
    /// `http://<cluster IP>:4566`.
    pub endpoint: String,
    /// Changes on every start of the emulator: resources are applied again when it does.
    pub boot_id: String,
}

/// Why the emulator cannot be used yet.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// Creating or reading its objects failed.
    #[error("managing the emulator's objects: {0}")]
    Kubernetes(#[from] kube::Error),
    /// It does not answer (yet).
    #[error("the emulator at {endpoint} does not answer yet: {reason}")]
    Unreachable {
        /// Where it was asked.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
}

/// Ensures the emulators' objects and talks to them.
pub struct Emulators {
    client: Client,
    config: EmulatorConfig,
    http: HttpClient<HttpConnector, Empty<Bytes>>,
    /// What was last applied per namespace, so that an unchanged namespace costs no Kubernetes calls.
    applied: Mutex<HashMap<String, u64>>,
}

impl Emulators {
    /// Manages emulators with the given settings.
    pub fn new(client: Client, config: EmulatorConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        Self {
            client,
            config,
            // NB: no pooled connections: one opened before kube-proxy knew the Service may have reached something
            // else, and must not be reused once it does.
            http: HttpClient::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector),
            applied: Mutex::new(HashMap::new()),
        }
    }

    /// Ensures the namespace's emulator objects exist, owned by `owners` (the namespace's resources, so that the
    /// emulator goes when the last of them does), and returns the emulator once it answers.
    pub async fn ensure(&self, namespace: &str, owners: Vec<OwnerReference>) -> Result<Emulator, NotReady> {
        let objects = Objects::new(namespace, &self.config, owners);
        let fingerprint = objects.fingerprint();
        if self.applied.lock().get(namespace) != Some(&fingerprint) {
            objects.apply(&self.client).await?;
            self.applied.lock().insert(namespace.to_owned(), fingerprint);
        }
        let reached = self.reach(namespace).await;
        if reached.is_err() {
            // Someone may have deleted or changed the objects (a deleted Deployment answers no more than a
            // starting one): apply them again on the next try.
            self.applied.lock().remove(namespace);
        }
        reached
    }

    /// The emulator of a namespace if its Deployment exists and is not being deleted, without creating anything.
    pub async fn existing(&self, namespace: &str) -> Result<Option<Emulator>, NotReady> {
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
        match deployments.get_opt(NAME).await? {
            Some(d) if d.metadata.deletion_timestamp.is_none() => self.reach(namespace).await.map(Some),
            _ => Ok(None),
        }
    }

    async fn reach(&self, namespace: &str) -> Result<Emulator, NotReady> {
        let services: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        let service = services.get(NAME).await?;
        let ip = service
            .spec
            .and_then(|s| s.cluster_ip)
            .filter(|ip| !ip.is_empty() && ip != "None");
        let endpoint = match ip {
            Some(ip) => format!("http://{ip}:{PORT}"),
            None => {
                return Err(NotReady::Unreachable {
                    endpoint: format!("service {namespace}/{NAME}"),
                    reason: "the Service has no cluster IP yet".into(),
                });
            }
        };
        tracing::debug!(%namespace, %endpoint, "asking the emulator for its health");
        // Until the Service has a ready endpoint, its address leads nowhere (or, before kube-proxy knows it, off
        // the node): ask the emulator only once its pod is ready.
        let endpoints: Api<Endpoints> = Api::namespaced(self.client.clone(), namespace);
        let ready = endpoints
            .get_opt(NAME)
            .await?
            .and_then(|e| e.subsets)
            .into_iter()
            .flatten()
            .any(|subset| subset.addresses.is_some_and(|addresses| !addresses.is_empty()));
        if !ready {
            let reason = self
                .pod_problem(namespace)
                .await
                .unwrap_or_else(|| "its pod is not ready yet".into());
            return Err(NotReady::Unreachable { endpoint, reason });
        }
        let health: serde_json::Value = self.get_json(&endpoint, "/_dynastream/health").await?;
        let boot_id = health["bootId"].as_str().unwrap_or_default().to_owned();
        Ok(Emulator { endpoint, boot_id })
    }

    /// Why the emulator's pod is not running, as its container statuses say (an image that cannot be pulled, a
    /// crash), if they say.
    async fn pod_problem(&self, namespace: &str) -> Option<String> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let selector = selector_labels()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let pods = pods.list(&ListParams::default().labels(&selector)).await.ok()?;
        pods.items
            .iter()
            .flat_map(|pod| {
                pod.status
                    .iter()
                    .flat_map(|s| s.container_statuses.iter().flatten())
            })
            .find_map(|container| {
                let waiting = container.state.as_ref()?.waiting.as_ref()?;
                let reason = waiting.reason.as_deref()?;
                Some(format!(
                    "its container is waiting: {reason}: {}",
                    waiting.message.as_deref().unwrap_or("")
                ))
            })
    }

    /// GETs a JSON document from the emulator (its own endpoints, outside the AWS APIs).
    pub async fn get_json<T: DeserializeOwned>(&self, endpoint: &str, path: &str) -> Result<T, NotReady> {
        let unreachable = |reason: String| NotReady::Unreachable {
            endpoint: endpoint.to_owned(),
            reason,
        };
        let uri: hyper::Uri = format!("{endpoint}{path}")
            .parse()
            .map_err(|err| unreachable(format!("{err}")))?;
        let request = async {
            let response = self.http.get(uri).await.map_err(|err| format!("{err}"))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|err| format!("{err}"))?
                .to_bytes();
            if !status.is_success() {
                return Err(format!(
                    "{path} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            serde_json::from_slice(&body).map_err(|err| format!("{path} answered invalid JSON: {err}"))
        };
        match tokio::time::timeout(Duration::from_secs(5), request).await {
            Ok(result) => result.map_err(unreachable),
            Err(_) => Err(unreachable(format!("{path} did not answer within 5 s"))),
        }
    }
}

/// The labels of the emulator's pods.
pub fn selector_labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "dynastream".to_owned()),
        ("app.kubernetes.io/component".to_owned(), "emulator".to_owned()),
    ])
}

fn labels() -> BTreeMap<String, String> {
    let mut labels = selector_labels();
    labels.insert(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned());
    labels
}

/// The objects of one namespace's emulator.
struct Objects {
    service_account: ServiceAccount,
    role_binding: RoleBinding,
    deployment: Deployment,
    service: Service,
}

impl Objects {
    fn new(namespace: &str, config: &EmulatorConfig, mut owners: Vec<OwnerReference>) -> Self {
        owners.sort_by(|a, b| a.uid.cmp(&b.uid));
        owners.dedup_by(|a, b| a.uid == b.uid);
        let meta = |name: &str| ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels()),
            owner_references: Some(owners.clone()),
            ..Default::default()
        };
        Self {
            service_account: ServiceAccount {
                metadata: meta(NAME),
                ..Default::default()
            },
            role_binding: RoleBinding {
                metadata: meta("dynastream-emulator"),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "ClusterRole".into(),
                    name: config.cluster_role.clone(),
                },
                subjects: Some(vec![Subject {
                    kind: "ServiceAccount".into(),
                    name: NAME.into(),
                    namespace: Some(namespace.to_owned()),
                    ..Default::default()
                }]),
            },
            deployment: Deployment {
                metadata: meta(NAME),
                spec: Some(deployment_spec(config)),
                ..Default::default()
            },
            service: Service {
                metadata: meta(NAME),
                spec: Some(ServiceSpec {
                    selector: Some(selector_labels()),
                    ports: Some(vec![ServicePort {
                        name: Some("edge".into()),
                        port: PORT.into(),
                        target_port: Some(IntOrString::String("edge".into())),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            },
        }
    }

    fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for value in [
            serde_json::to_string(&self.service_account),
            serde_json::to_string(&self.role_binding),
            serde_json::to_string(&self.deployment),
            serde_json::to_string(&self.service),
        ] {
            value.unwrap_or_default().hash(&mut hasher);
        }
        hasher.finish()
    }

    async fn apply(&self, client: &Client) -> Result<(), kube::Error> {
        let namespace = self.deployment.metadata.namespace.as_deref().unwrap_or_default();
        let params = PatchParams::apply(FIELD_MANAGER).force();
        Api::<ServiceAccount>::namespaced(client.clone(), namespace)
            .patch(
                NAME,
                &params,
                &Patch::Apply(with_kind(&self.service_account, "v1", "ServiceAccount")),
            )
            .await?;
        Api::<RoleBinding>::namespaced(client.clone(), namespace)
            .patch(
                "dynastream-emulator",
                &params,
                &Patch::Apply(with_kind(
                    &self.role_binding,
                    "rbac.authorization.k8s.io/v1",
                    "RoleBinding",
                )),
            )
            .await?;
        Api::<Deployment>::namespaced(client.clone(), namespace)
            .patch(
                NAME,
                &params,
                &Patch::Apply(with_kind(&self.deployment, "apps/v1", "Deployment")),
            )
            .await?;
        Api::<Service>::namespaced(client.clone(), namespace)
            .patch(
                NAME,
                &params,
                &Patch::Apply(with_kind(&self.service, "v1", "Service")),
            )
            .await?;
        Ok(())
    }
}

/// k8s-openapi's types leave `apiVersion` and `kind` out of their serialisation; server-side apply needs both.
fn with_kind<T: serde::Serialize>(object: &T, api_version: &str, kind: &str) -> serde_json::Value {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    value["apiVersion"] = api_version.into();
    value["kind"] = kind.into();
    value
}

fn deployment_spec(config: &EmulatorConfig) -> DeploymentSpec {
    let mut args = ["serve", "--host", "0.0.0.0", "--port", "4566"]
        .map(str::to_owned)
        .to_vec();
    args.extend(config.args.iter().cloned());
    let mut env = vec![
        EnvVar {
            name: "DYNASTREAM_LOG".into(),
            value: Some(config.log_level.clone()),
            ..Default::default()
        },
        EnvVar {
            name: "DYNASTREAM_RUNTIME_IMAGES".into(),
            value: Some(serde_json::to_string(&config.runtime_images).unwrap_or_default()),
            ..Default::default()
        },
        EnvVar {
            name: "DYNASTREAM_IMAGE".into(),
            value: Some(config.image.clone()),
            ..Default::default()
        },
    ];
    // Where the emulator runs, for the pods it starts: their namespace, their owner and the address agents dial.
    for (name, field) in [
        ("POD_NAMESPACE", "metadata.namespace"),
        ("POD_NAME", "metadata.name"),
        ("POD_UID", "metadata.uid"),
        ("POD_IP", "status.podIP"),
    ] {
        env.push(EnvVar {
            name: name.into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: field.into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    env.extend(config.env.iter().cloned());
    DeploymentSpec {
        replicas: Some(1),
        // Its state is in memory: two emulators at once would split it.
        strategy: Some(DeploymentStrategy {
            type_: Some("Recreate".into()),
            ..Default::default()
        }),
        selector: LabelSelector {
            match_labels: Some(selector_labels()),
            ..Default::default()
        },
        template: PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(labels()),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                service_account_name: Some(NAME.into()),
                // Service links would set DYNASTREAM_PORT=tcp://<ip>:4566 (from the Service `dynastream`), which
                // the emulator reads as its port setting.
                enable_service_links: Some(false),
                security_context: Some(PodSecurityContext {
                    run_as_non_root: Some(true),
                    run_as_user: Some(65532),
                    run_as_group: Some(65532),
                    seccomp_profile: Some(SeccompProfile {
                        type_: "RuntimeDefault".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                containers: vec![Container {
                    name: "dynastream".into(),
                    image: Some(config.image.clone()),
                    image_pull_policy: Some(config.image_pull_policy.clone()),
                    command: Some(vec!["/usr/local/bin/dynastream".into()]),
                    args: Some(args),
                    env: Some(env),
                    ports: Some(vec![ContainerPort {
                        name: Some("edge".into()),
                        container_port: PORT.into(),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    }]),
                    readiness_probe: Some(Probe {
                        http_get: Some(HTTPGetAction {
                            path: Some("/_dynastream/health".into()),
                            port: IntOrString::String("edge".into()),
                            ..Default::default()
                        }),
                        period_seconds: Some(1),
                        ..Default::default()
                    }),
                    resources: config.resources.clone(),
                    security_context: Some(SecurityContext {
                        allow_privilege_escalation: Some(false),
                        read_only_root_filesystem: Some(true),
                        capabilities: Some(Capabilities {
                            drop: Some(vec!["ALL".into()]),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    volume_mounts: Some(vec![VolumeMount {
                        name: "tmp".into(),
                        mount_path: "/tmp".into(),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                volumes: Some(vec![Volume {
                    name: "tmp".into(),
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(uid: &str) -> OwnerReference {
        OwnerReference {
            api_version: "dynastream.dev/v1alpha1".into(),
            kind: "Table".into(),
            name: format!("t-{uid}"),
            uid: uid.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_emulator_listens_on_every_address_and_runs_restricted() {
        let objects = Objects::new("ns", &EmulatorConfig::default(), vec![owner("a")]);
        let pod = objects.deployment.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(
            container.args.as_ref().unwrap()[..3],
            ["serve", "--host", "0.0.0.0"]
        );
        let security = container.security_context.as_ref().unwrap();
        assert_eq!(security.allow_privilege_escalation, Some(false));
        assert_eq!(security.read_only_root_filesystem, Some(true));
        assert_eq!(
            security.capabilities.as_ref().unwrap().drop.as_deref(),
            Some(&["ALL".to_owned()][..])
        );
        assert_eq!(pod.security_context.unwrap().run_as_non_root, Some(true));
        assert_eq!(
            container.ports.as_ref().unwrap()[0].protocol.as_deref(),
            Some("TCP")
        );
    }

    #[test]
    fn owners_are_kept_once_in_a_stable_order() {
        let a = Objects::new(
            "ns",
            &EmulatorConfig::default(),
            vec![owner("b"), owner("a"), owner("b")],
        );
        let b = Objects::new("ns", &EmulatorConfig::default(), vec![owner("a"), owner("b")]);
        assert_eq!(a.fingerprint(), b.fingerprint());
        let uids: Vec<_> = a
            .service
            .metadata
            .owner_references
            .unwrap()
            .into_iter()
            .map(|o| o.uid)
            .collect();
        assert_eq!(uids, ["a", "b"]);
    }
}
