//! What the operator's cluster tests share: the chart installed per test with the project's image, a namespace
//! for resources, waiting for `Ready`, and SDK clients for a namespace's emulator.

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dynastream_operator::crd::{EventSourceMapping, Function, Table};
use dynastream_testenv::{Cluster, TestNamespace, content_hash, wait_for};
use k8s_openapi::api::core::v1::Service;
use kube::{Api, Client};
use serde_json::{Value, json};

/// How long a resource may take to become Ready (the emulator's pod start included).
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("operator/ is in the repository")
        .to_owned()
}

/// The chart installed in its own namespace, watching one [`Workload`] namespace. On drop, the workload's
/// resources are deleted first, while the operator still runs, then the release is uninstalled (with its
/// cluster-scoped objects).
pub struct Release<'a> {
    cluster: &'a Cluster,
    workload: Option<Workload<'a>>,
    /// The operator's namespace.
    pub namespace: TestNamespace,
    name: String,
}

impl Release<'_> {
    /// The namespace the operator watches.
    pub fn workload(&self) -> String {
        self.workload.as_deref().unwrap_or_default().to_owned()
    }
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        drop(self.workload.take());
        let namespace: &str = &self.namespace;
        self.cluster.helm(&[
            "uninstall",
            "--namespace",
            namespace,
            "--name",
            &self.name,
            "--ignore-not-found",
        ]);
    }
}

/// A namespace for resources. Its resources are deleted while the operator still runs (the [`Release`] drops it
/// first): a namespace deleted after the operator would wait for finalizers forever.
pub struct Workload<'a> {
    cluster: &'a Cluster,
    namespace: TestNamespace,
}

impl std::ops::Deref for Workload<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.namespace
    }
}

impl Drop for Workload<'_> {
    fn drop(&mut self) {
        let kinds = "tables,functions,eventsourcemappings";
        self.cluster
            .kubectl_output(&["delete", kinds, "--all", "-n", &self.namespace, "--timeout=60s"]);
        // What the operator could not finish (say, after a failed test) must not keep the namespace forever.
        let left = self
            .cluster
            .kubectl_output(&["get", kinds, "-n", &self.namespace, "-o", "name"]);
        for object in String::from_utf8_lossy(&left.stdout).lines() {
            let clear = r#"{"metadata":{"finalizers":null}}"#;
            self.cluster.kubectl_output(&[
                "patch",
                "-n",
                &self.namespace,
                object,
                "--type=merge",
                "-p",
                clear,
            ]);
        }
    }
}

/// A fresh namespace for resources.
pub async fn workload<'a>(cluster: &'a Cluster, prefix: &str) -> Workload<'a> {
    Workload {
        cluster,
        namespace: cluster.namespace(prefix).await,
    }
}

/// Installs the chart with the project's image, its operator watching only `watched` (tests run side by side,
/// and two operators watching the same resources would fight over them), with `values` merged over the
/// defaults. The objects are named after the release's namespace, so that ClusterRoles do not collide.
pub async fn install<'a>(cluster: &'a Cluster, watched: Workload<'a>, values: Value) -> Release<'a> {
    let image = cluster.project_image();
    let (repository, tag) = image.rsplit_once(':').expect("the image has a tag");
    let namespace = cluster.namespace("dynastream-system").await;
    // Helm installs the chart's CRDs only when they are missing and never upgrades them: bring the cluster's
    // up to date first, as the chart's README tells users to. Once per test process: two tests applying them
    // side by side to a fresh cluster would both try to create them, and one would fail.
    static CRDS: std::sync::Once = std::sync::Once::new();
    CRDS.call_once(|| {
        cluster.kubectl(&["apply", "-f", &repo().join("crds").to_string_lossy()]);
    });
    let mut all = json!({
        "fullnameOverride": format!("op-{}", &namespace[namespace.len() - 8..]),
        "image": { "repository": repository, "tag": tag, "pullPolicy": "Never" },
        "operator": { "logLevel": "info,dynastream_operator=debug", "esmStatusSeconds": 2, "watchNamespace": &*watched },
    });
    merge(&mut all, values);
    let file = std::env::temp_dir().join(format!("{namespace}-values.json"));
    std::fs::write(&file, all.to_string()).unwrap();
    // NB: the guard exists before `helm install` runs, so that a failed install (which panics) is uninstalled too
    // and leaves no ClusterRoles behind.
    let release = Release {
        cluster,
        workload: Some(watched),
        namespace,
        name: "dynastream".to_owned(),
    };
    cluster.helm(&[
        "install",
        &repo().join("charts/dynastream").to_string_lossy(),
        "-f",
        &file.to_string_lossy(),
        "--namespace",
        &release.namespace,
        "--name",
        &release.name,
        "--wait",
        "--timeout",
        "120",
    ]);
    let _ = std::fs::remove_file(&file);
    release
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (into, from) => *into = from,
    }
}

/// A condition of a status, by type.
pub fn condition<'a>(status: &'a Value, type_: &str) -> Option<&'a Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// Waits until the resource's `Ready` condition is True and returns its status.
pub async fn ready<K>(api: &Api<K>, name: &str) -> Value
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    wait_for(&format!("{name} Ready"), READY_TIMEOUT, || async {
        let object = serde_json::to_value(api.get(name).await?)?;
        let status = object["status"].clone();
        match condition(&status, "Ready") {
            Some(c) if c["status"] == "True" => Ok(Some(status)),
            Some(c) => anyhow::bail!("Ready={}: {} {}", c["status"], c["reason"], c["message"]),
            None => Ok(None),
        }
    })
    .await
}

/// The emulator of a namespace, through its Service's cluster IP (the host reaches it through kube-proxy).
pub async fn emulator_endpoint(client: &Client, namespace: &str) -> String {
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let ip = services
        .get("dynastream")
        .await
        .unwrap()
        .spec
        .unwrap()
        .cluster_ip
        .unwrap();
    format!("http://{ip}:4566")
}

/// An SDK client of `$sdk` for the emulator at `$endpoint`, with test credentials in us-east-1.
macro_rules! client {
    ($sdk:ident, $endpoint:expr) => {{
        let config = $sdk::Config::builder()
            .endpoint_url($endpoint)
            .region($sdk::config::Region::new("us-east-1"))
            .credentials_provider($sdk::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        $sdk::Client::from_conf(config)
    }};
}

/// A DynamoDB client for an emulator.
pub fn dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    client!(aws_sdk_dynamodb, endpoint)
}

/// A Lambda client for an emulator.
pub fn lambda(endpoint: &str) -> aws_sdk_lambda::Client {
    client!(aws_sdk_lambda, endpoint)
}

/// A DynamoDB Streams client for an emulator.
pub fn streams(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    client!(aws_sdk_dynamodbstreams, endpoint)
}

/// A stand-in runtime image from `testenv/images/<name>.Dockerfile`, tagged by a hash of the Dockerfile, the SDK
/// package lists (emulator/src/lambda/runtimes/sdk.rs) and the base image: built once, reused by later runs.
pub fn runtime_image(cluster: &Cluster, name: &str) -> String {
    let dockerfile = repo().join(format!("testenv/images/{name}.Dockerfile"));
    let sdk = repo().join("emulator/src/lambda/runtimes/sdk.rs");
    let hash = content_hash(&[dockerfile.clone(), sdk], cluster.base_image());
    let tag = format!("localhost/dynastream-runtime-{name}:{}", &hash[..12]);
    // The context: the host-built binary (it installs the SDKs with npm / pip) and the host's CA bundle. A hard
    // link costs nothing when the image exists already and the context is not sent.
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo().join(dir),
        None => repo().join("target"),
    };
    // NB: a context of its own per call: tests build the same image side by side, and a second hard link (or a
    // copy onto the first one, which is the binary itself) must never happen.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let context = target.join(format!("runtime-image-{name}-{}-{call}", std::process::id()));
    let _ = std::fs::remove_dir_all(&context);
    std::fs::create_dir_all(&context).unwrap();
    let binary = target.join("debug/dynastream");
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first",
        binary.display()
    );
    if std::fs::hard_link(&binary, context.join("dynastream")).is_err() {
        std::fs::copy(&binary, context.join("dynastream")).unwrap();
    }
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        context.join("ca-certificates.crt"),
    )
    .unwrap();
    let started = Instant::now();
    let image = cluster.cached_image(
        &context,
        Some(&dockerfile),
        &tag,
        &[("BASE", cluster.base_image())],
    );
    eprintln!("runtime image {image}: {:.1} s", started.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&context);
    image
}

/// A mapping's delivery count, read from the emulator's own inspection endpoint
/// (`/_dynastream/event-source-mappings/{uuid}`) over one keep-alive connection, so that polling it costs no
/// connection set-up in the latencies it measures.
pub struct DeliveryProbe {
    http: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Empty<hyper::body::Bytes>,
    >,
    url: hyper::Uri,
}

impl DeliveryProbe {
    /// The probe of mapping `uuid` in the emulator at `endpoint`.
    pub fn new(endpoint: &str, uuid: &str) -> Self {
        Self {
            http: hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http(),
            url: format!("{endpoint}/_dynastream/event-source-mappings/{uuid}")
                .parse()
                .expect("a valid URL"),
        }
    }

    /// Records the emulator has delivered through the mapping.
    pub async fn records_delivered(&self) -> u64 {
        use http_body_util::BodyExt;
        let response = self.http.get(self.url.clone()).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let inspection: Value = serde_json::from_slice(&body).unwrap();
        inspection["recordsDelivered"].as_u64().unwrap_or(0)
    }

    /// Polls until more than `before` records were delivered; panics, naming `what`, after `timeout`.
    pub async fn delivered_after(&self, before: u64, timeout: Duration, what: &str) {
        let started = Instant::now();
        while self.records_delivered().await == before {
            assert!(started.elapsed() < timeout, "{what} not delivered");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The bark example's three resources in a namespace, and their statuses once Ready.
pub struct Bark {
    pub tables: Api<Table>,
    pub functions: Api<Function>,
    pub mappings: Api<EventSourceMapping>,
    pub table: Value,
    pub function: Value,
    pub mapping: Value,
}

/// `kubectl apply -f examples/bark/` in `namespace`, then waits until the Table, the Function and the
/// EventSourceMapping are Ready.
pub async fn apply_bark(cluster: &Cluster, client: &Client, namespace: &str) -> Bark {
    cluster.kubectl(&[
        "apply",
        "-n",
        namespace,
        "-f",
        &repo().join("examples/bark").to_string_lossy(),
    ]);
    let tables = Api::namespaced(client.clone(), namespace);
    let functions = Api::namespaced(client.clone(), namespace);
    let mappings = Api::namespaced(client.clone(), namespace);
    let table = ready(&tables, "bark-table").await;
    let function = ready(&functions, "publish-new-bark").await;
    let mapping = ready(&mappings, "bark-stream-to-publisher").await;
    Bark {
        tables,
        functions,
        mappings,
        table,
        function,
        mapping,
    }
}
