//! The Helm chart `charts/dynastream` and the image's `Dockerfile`, checked without a cluster.
//!
//! The chart is linted and rendered by the real Helm v4 library (PyPI `helm-python-sdk`, in the venv
//! `.ci/install-test-deps` makes at `${DYNASTREAM_CACHE:-~/.cache/dynastream}/helm`) through the chart's
//! `tests/helm.py`. Without that venv these tests print `skipped: ...` and pass, except under `CI=true`, where they
//! fail. The rendered objects are then checked against the operator's contract: least-privilege RBAC, the
//! `operator.json` settings, images, and the "restricted" Pod Security Standard.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The namespace the chart is rendered for; the release is named `dynastream`, so object names are `dynastream`.
const NAMESPACE: &str = "dynastream-system";
const DEFAULT_IMAGE: &str = "ghcr.io/dynastream/dynastream:0.1.0";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("operator/ is inside the repository")
        .to_owned()
}

fn chart_dir() -> PathBuf {
    repo_root().join("charts/dynastream")
}

/// The python of the helm-python-sdk venv, or `None` after printing why the test is skipped.
fn helm_python() -> Option<PathBuf> {
    let cache = match std::env::var_os("DYNASTREAM_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/dynastream"),
    };
    let python = cache.join("helm/bin/python");
    if python.is_file() {
        return Some(python);
    }
    let why = format!(
        "{} is missing: .ci/install-test-deps installs helm-python-sdk (the Helm library) there",
        python.display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why} (CI=true: the chart tests are required)"
    );
    skipped(&why);
    None
}

/// Says why a test did nothing, on the process's stderr: past the test harness's capture, so that it shows.
fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

/// Runs `helm.py ARGS`; `None` when the test is skipped.
fn helm(args: &[&str]) -> Option<Output> {
    let python = helm_python()?;
    let output = Command::new(python)
        .arg(chart_dir().join("tests/helm.py"))
        .args(args)
        .output()
        .expect("helm.py runs");
    Some(output)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `helm.py template` of the chart with `values` (an object; each top-level key becomes one `--set-json`, so
/// the values merge over the chart's defaults as `-f` would), as its objects. `None` when skipped.
fn try_render(values: Value, extra: &[&str]) -> Option<Result<Vec<Value>, String>> {
    let chart = chart_dir();
    let mut args = vec!["template".to_owned(), chart.display().to_string()];
    args.extend(["--namespace".to_owned(), NAMESPACE.to_owned()]);
    for (key, value) in values.as_object().expect("values are an object") {
        args.extend(["--set-json".to_owned(), format!("{key}={value}")]);
    }
    args.extend(extra.iter().map(|arg| arg.to_string()));
    let output = helm(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
    if !output.status.success() {
        return Some(Err(text(&output.stderr)));
    }
    let yaml = text(&output.stdout);
    let objects = serde_yaml_ng::Deserializer::from_str(&yaml)
        .map(|document| Value::deserialize(document).expect("helm.py prints valid YAML"))
        .filter(|object| !object.is_null())
        .collect();
    Some(Ok(objects))
}

fn render(values: Value) -> Option<Vec<Value>> {
    Some(try_render(values, &[])?.unwrap_or_else(|stderr| panic!("helm template failed:\n{stderr}")))
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} among the rendered objects"))
}

/// The operator's settings, `operator.json` of the chart's one ConfigMap, parsed.
fn operator_config(objects: &[Value]) -> Value {
    let config_map = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap")
        .expect("a ConfigMap");
    let data = config_map["data"]["operator.json"]
        .as_str()
        .expect("operator.json");
    serde_json::from_str(data).expect("operator.json is JSON")
}

fn operator_container(objects: &[Value]) -> &Value {
    &find(objects, "Deployment", "dynastream")["spec"]["template"]["spec"]["containers"][0]
}

/// Every pod spec among `objects` (the chart renders pods only through Deployments).
fn pod_specs(objects: &[Value]) -> Vec<&Value> {
    objects
        .iter()
        .filter(|o| o["kind"] == "Deployment")
        .map(|o| &o["spec"]["template"]["spec"])
        .collect()
}

fn containers(pod: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(|key| pod[key].as_array().into_iter().flatten())
}

#[test]
fn chart_passes_helm_lint_without_errors_or_warnings() {
    let chart = chart_dir().display().to_string();
    for kube_version in [None, Some("v1.20.0")] {
        let mut args = vec!["lint", chart.as_str()];
        args.extend(kube_version.iter().flat_map(|v| ["--kube-version", v]));
        let Some(output) = helm(&args) else { return };
        assert!(
            output.status.success(),
            "helm lint (kube version {kube_version:?}) found errors or warnings:\n{}{}",
            text(&output.stdout),
            text(&output.stderr)
        );
    }
}

#[test]
fn chart_renders_only_the_operator_objects_on_apis_kubernetes_1_20_serves() {
    let Some(objects) = render(json!({})) else { return };
    let rendered: BTreeSet<(String, String, String)> = objects
        .iter()
        .map(|o| {
            let field = |v: &Value| v.as_str().expect("a string").to_owned();
            (
                field(&o["apiVersion"]),
                field(&o["kind"]),
                field(&o["metadata"]["name"]),
            )
        })
        .collect();
    let rbac = "rbac.authorization.k8s.io/v1";
    let expected: BTreeSet<(String, String, String)> = [
        ("apps/v1", "Deployment", "dynastream"),
        (rbac, "ClusterRole", "dynastream"),
        (rbac, "ClusterRole", "dynastream-emulator"),
        (rbac, "ClusterRoleBinding", "dynastream"),
        ("v1", "ConfigMap", "dynastream"),
        ("v1", "ServiceAccount", "dynastream"),
    ]
    .into_iter()
    .map(|(a, k, n)| (a.to_owned(), k.to_owned(), n.to_owned()))
    .collect();
    assert_eq!(rendered, expected);
}

/// A rendered object read into its Kubernetes API type and written back must come out unchanged: a misspelt or
/// misplaced field would be dropped, a wrongly typed one would not parse (a kubeconform-style schema check).
#[test]
fn rendered_objects_and_crds_round_trip_through_the_kubernetes_api_types() {
    let Some(objects) = try_render(json!({}), &["--include-crds"]) else {
        return;
    };
    let objects = objects.unwrap_or_else(|stderr| panic!("helm template failed:\n{stderr}"));
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(object: &Value) -> Value {
        let typed: T = serde_json::from_value(object.clone()).unwrap_or_else(|e| panic!("{e}: {object:#}"));
        serde_json::to_value(typed).expect("serializes")
    }
    let mut crds = 0;
    for object in &objects {
        let again = match object["kind"].as_str() {
            Some("ConfigMap") => round_trip::<ConfigMap>(object),
            Some("ServiceAccount") => round_trip::<ServiceAccount>(object),
            Some("Deployment") => round_trip::<Deployment>(object),
            Some("ClusterRole") => round_trip::<ClusterRole>(object),
            Some("ClusterRoleBinding") => round_trip::<ClusterRoleBinding>(object),
            Some("CustomResourceDefinition") => {
                crds += 1;
                round_trip::<CustomResourceDefinition>(object)
            }
            other => panic!("unexpected kind {other:?}"),
        };
        assert_eq!(
            &again, object,
            "{} {} changed in a round trip",
            object["kind"], object["metadata"]["name"]
        );
    }
    assert_eq!(crds, 3, "the chart's crds/ holds the three CRDs");
}

#[test]
fn operator_cluster_role_grants_exactly_the_least_privilege_rules() {
    let Some(objects) = render(json!({})) else { return };
    let kinds = ["tables", "functions", "eventsourcemappings"];
    let sub = |suffix: &str| kinds.iter().map(|k| format!("{k}/{suffix}")).collect::<Vec<_>>();
    let manage = json!(["get", "list", "watch", "create", "patch", "update", "delete"]);
    let expected = json!([
        {"apiGroups": ["dynastream.dev"], "resources": kinds, "verbs": ["get", "list", "watch", "patch", "update"]},
        {"apiGroups": ["dynastream.dev"], "resources": sub("status"), "verbs": ["get", "patch", "update"]},
        {"apiGroups": ["dynastream.dev"], "resources": sub("finalizers"), "verbs": ["update"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": manage},
        {"apiGroups": [""], "resources": ["services", "serviceaccounts"], "verbs": manage},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": manage},
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"],
         "resourceNames": ["dynastream-emulator"]},
        {"apiGroups": [""], "resources": ["pods", "endpoints"], "verbs": ["get", "list", "watch"]},
    ]);
    assert_eq!(find(&objects, "ClusterRole", "dynastream")["rules"], expected);
}

#[test]
fn operator_cluster_role_is_bound_to_the_operator_service_account_in_the_release_namespace() {
    let Some(objects) = render(json!({})) else { return };
    let binding = find(&objects, "ClusterRoleBinding", "dynastream");
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "dynastream"})
    );
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "dynastream", "namespace": NAMESPACE}])
    );
    let pod = &find(&objects, "Deployment", "dynastream")["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "dynastream");
}

#[test]
fn emulator_cluster_role_grants_only_pod_verbs_and_is_what_the_operator_may_bind() {
    for (values, name) in [
        (json!({}), "dynastream-emulator"),
        (json!({"fullnameOverride": "ds"}), "ds-emulator"),
    ] {
        let Some(objects) = render(values) else { return };
        let role = find(&objects, "ClusterRole", name);
        assert_eq!(
            role["rules"],
            json!([
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "create", "delete"]},
                {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
            ])
        );
        // The chart never binds it itself: the operator does, per namespace, with a RoleBinding.
        assert!(
            !objects.iter().any(|o| o["roleRef"]["name"] == name),
            "{name} is bound by the chart"
        );
        assert_eq!(operator_config(&objects)["emulator"]["clusterRole"], name);
        let operator_role = objects
            .iter()
            .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] != name);
        let bind = operator_role.expect("the operator's ClusterRole")["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|rule| rule["verbs"] == json!(["bind"]))
            .expect("a bind rule");
        assert_eq!(bind["resourceNames"], json!([name]));
    }
}

#[test]
fn default_images_are_the_chart_image_at_its_app_version() {
    let Some(objects) = render(json!({})) else { return };
    let chart: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(chart_dir().join("Chart.yaml")).expect("Chart.yaml"),
    )
    .expect("Chart.yaml is YAML");
    // NB: the image tag defaults to appVersion, and the image holds the binaries of this workspace's version.
    assert_eq!(
        chart["appVersion"],
        env!("CARGO_PKG_VERSION"),
        "bump the chart's appVersion with the crates"
    );
    let container = operator_container(&objects);
    assert_eq!(container["image"], DEFAULT_IMAGE);
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
    let emulator = &operator_config(&objects)["emulator"];
    assert_eq!(emulator["image"], DEFAULT_IMAGE);
    assert_eq!(emulator["imagePullPolicy"], "IfNotPresent");
    let runtimes = emulator["runtimeImages"].as_object().expect("runtimeImages");
    for major in [16, 18, 20, 22] {
        let image = format!("public.ecr.aws/lambda/nodejs:{major}");
        assert_eq!(runtimes[&format!("nodejs{major}.x")], image.as_str());
    }
    for minor in 8..=13 {
        let image = format!("public.ecr.aws/lambda/python:3.{minor}");
        assert_eq!(runtimes[&format!("python3.{minor}")], image.as_str());
    }
}

#[test]
fn image_values_override_the_operator_emulator_and_runtime_images() {
    let image = json!({"repository": "registry.example/ds", "tag": "t1", "pullPolicy": "Always"});
    let Some(objects) = render(json!({"image": image})) else {
        return;
    };
    assert_eq!(operator_container(&objects)["image"], "registry.example/ds:t1");
    assert_eq!(operator_container(&objects)["imagePullPolicy"], "Always");
    let emulator = &operator_config(&objects)["emulator"];
    assert_eq!(
        emulator["image"], "registry.example/ds:t1",
        "the emulator defaults to the operator's image"
    );
    assert_eq!(emulator["imagePullPolicy"], "Always");

    let Some(objects) = render(json!({
        "emulator": {"image": "registry.example/emulator:2", "imagePullPolicy": "Never"},
        "runtimeImages": {"nodejs20.x": "mirror.example/node:20"},
    })) else {
        return;
    };
    assert_eq!(operator_container(&objects)["image"], DEFAULT_IMAGE);
    let emulator = &operator_config(&objects)["emulator"];
    assert_eq!(emulator["image"], "registry.example/emulator:2");
    assert_eq!(emulator["imagePullPolicy"], "Never");
    assert_eq!(emulator["runtimeImages"]["nodejs20.x"], "mirror.example/node:20");
    assert_eq!(
        emulator["runtimeImages"]["python3.12"], "public.ecr.aws/lambda/python:3.12",
        "others kept"
    );
}

#[test]
fn operator_config_carries_the_operator_settings_and_emulator_values() {
    let Some(objects) = render(json!({})) else { return };
    let config = operator_config(&objects);
    let keys = |v: &Value| {
        v.as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        keys(&config),
        names(&[
            "deletionPolicy",
            "emulator",
            "esmStatusSeconds",
            "resyncSeconds",
            "watchNamespace"
        ])
    );
    let emulator_keys = [
        "args",
        "clusterRole",
        "env",
        "image",
        "imagePullPolicy",
        "logLevel",
        "resources",
        "runtimeImages",
    ];
    assert_eq!(keys(&config["emulator"]), names(&emulator_keys));
    assert_eq!(config["deletionPolicy"], "delete");
    assert_eq!(config["resyncSeconds"], 36000);
    assert_eq!(config["esmStatusSeconds"], 15);
    assert_eq!(config["watchNamespace"], "");
    assert_eq!(config["emulator"]["logLevel"], "info");
    assert_eq!(config["emulator"]["env"], json!([]));
    assert_eq!(config["emulator"]["args"], json!([]));

    let env = json!([{"name": "DYNASTREAM_STREAM_RETENTION", "value": "3600"}]);
    let resources = json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}});
    let Some(objects) = render(json!({
        "operator": {"deletionPolicy": "retain", "resyncSeconds": 600, "esmStatusSeconds": 5,
                     "watchNamespace": "apps"},
        "emulator": {"logLevel": "debug", "env": env, "args": ["--lambda-idle-timeout", "60"],
                     "resources": resources},
    })) else {
        return;
    };
    let config = operator_config(&objects);
    assert_eq!(config["deletionPolicy"], "retain");
    assert_eq!(config["resyncSeconds"], 600);
    assert_eq!(config["esmStatusSeconds"], 5);
    assert_eq!(config["watchNamespace"], "apps");
    assert_eq!(config["emulator"]["logLevel"], "debug");
    assert_eq!(config["emulator"]["env"], env);
    assert_eq!(config["emulator"]["args"], json!(["--lambda-idle-timeout", "60"]));
    // Maps merge with the defaults' (Helm's rule), so the default CPU request is replaced, not added to.
    assert_eq!(config["emulator"]["resources"], resources);
}

#[test]
fn settings_the_operator_cannot_honour_fail_to_render_with_the_reason() {
    let cases = [
        (
            json!({"operator": {"deletionPolicy": "keep"}}),
            "operator.deletionPolicy must be delete or retain",
        ),
        (
            json!({"operator": {"replicas": 2}}),
            "the operator has no leader election",
        ),
    ];
    for (values, reason) in cases {
        let Some(result) = try_render(values.clone(), &[]) else {
            return;
        };
        let stderr = result.err().unwrap_or_else(|| panic!("{values} rendered"));
        assert!(stderr.contains(reason), "{values}: {stderr}");
    }
}

#[test]
fn operator_deployment_runs_the_operator_binary_with_its_config_and_namespace() {
    let Some(objects) = render(json!({})) else { return };
    let deployment = find(&objects, "Deployment", "dynastream");
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(
        deployment["spec"]["strategy"],
        json!({"type": "Recreate"}),
        "no leader election"
    );
    let container = operator_container(&objects);
    assert_eq!(
        container["command"],
        json!(["/usr/local/bin/dynastream-operator"])
    );
    assert_eq!(
        container["args"],
        json!(["--config", "/etc/dynastream/operator.json"])
    );
    let env = container["env"].as_array().expect("env");
    let namespace = env
        .iter()
        .find(|e| e["name"] == "POD_NAMESPACE")
        .expect("POD_NAMESPACE");
    assert_eq!(
        namespace["valueFrom"],
        json!({"fieldRef": {"fieldPath": "metadata.namespace"}})
    );
    assert_eq!(
        container["ports"],
        json!([{"name": "health", "containerPort": 8081, "protocol": "TCP"}])
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "health"})
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "health"})
    );
    assert_eq!(
        container["volumeMounts"],
        json!([{"name": "config", "mountPath": "/etc/dynastream", "readOnly": true}])
    );
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(
        pod["volumes"],
        json!([{"name": "config", "configMap": {"name": "dynastream"}}])
    );
}

#[test]
fn config_checksum_annotation_follows_operator_json_so_a_changed_value_restarts_the_operator() {
    let checksum = |objects: &[Value]| {
        let deployment = find(objects, "Deployment", "dynastream");
        deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"].clone()
    };
    let Some(defaults) = render(json!({})) else { return };
    let data = find(&defaults, "ConfigMap", "dynastream")["data"]["operator.json"]
        .as_str()
        .expect("data");
    // The block scalar adds one newline to what the checksum covers.
    let digest = format!("{:x}", Sha256::digest(data.strip_suffix('\n').unwrap_or(data)));
    assert_eq!(checksum(&defaults), digest.as_str());
    let Some(changed) = render(json!({"operator": {"esmStatusSeconds": 5}})) else {
        return;
    };
    assert_ne!(checksum(&defaults), checksum(&changed));
}

#[test]
fn every_container_port_declares_protocol_tcp() {
    // NB: Helm 4 installs with server-side apply, which needs `protocol` (part of the ports list's merge key).
    let Some(objects) = render(json!({})) else { return };
    for pod in pod_specs(&objects) {
        for container in containers(pod) {
            for port in container["ports"].as_array().into_iter().flatten() {
                assert_eq!(port["protocol"], "TCP", "{}: {port}", container["name"]);
            }
        }
    }
}

/// Kubernetes' "restricted" Pod Security Standard, field by field, with container settings overriding the pod's.
#[test]
fn every_container_runs_under_the_restricted_pod_security_standard() {
    let Some(objects) = render(json!({})) else { return };
    let pods = pod_specs(&objects);
    assert!(!pods.is_empty());
    for pod in pods {
        for host in ["hostNetwork", "hostPID", "hostIPC"] {
            assert!(pod[host] != true, "{host}");
        }
        for volume in pod["volumes"].as_array().into_iter().flatten() {
            assert!(volume["hostPath"].is_null(), "hostPath volume {volume}");
        }
        let pod_context = &pod["securityContext"];
        for container in containers(pod) {
            let name = &container["name"];
            let context = &container["securityContext"];
            let effective = |key: &str| {
                if context[key].is_null() {
                    &pod_context[key]
                } else {
                    &context[key]
                }
            };
            assert_eq!(*effective("runAsNonRoot"), true, "{name}: runAsNonRoot");
            assert!(*effective("runAsUser") != 0, "{name}: runAsUser 0");
            assert_eq!(
                effective("seccompProfile")["type"],
                "RuntimeDefault",
                "{name}: seccompProfile"
            );
            assert_eq!(
                context["allowPrivilegeEscalation"], false,
                "{name}: allowPrivilegeEscalation"
            );
            assert!(context["privileged"] != true, "{name}: privileged");
            assert_eq!(
                context["capabilities"]["drop"],
                json!(["ALL"]),
                "{name}: capabilities.drop"
            );
            assert!(
                context["capabilities"]["add"].is_null(),
                "{name}: capabilities.add"
            );
            // Not part of "restricted", but the operator writes nothing to disk.
            assert_eq!(
                context["readOnlyRootFilesystem"], true,
                "{name}: readOnlyRootFilesystem"
            );
        }
    }
}

#[test]
fn chart_crds_are_byte_identical_to_the_generated_crds() {
    let generated = repo_root().join("crds");
    if !generated.is_dir() {
        skipped(&format!(
            "{} does not exist yet (`dynastream-operator crds --dir crds`)",
            generated.display()
        ));
        return;
    }
    let files = |dir: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .map(|path| {
                let name = path
                    .file_name()
                    .expect("a file name")
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&path).expect("readable"))
            })
            .collect();
        files.sort();
        files
    };
    let chart_crds = files(&chart_dir().join("crds"));
    let generated = files(&generated);
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&chart_crds),
        names(&generated),
        "run `cp crds/*.yaml charts/dynastream/crds/`"
    );
    for ((name, chart), (_, generated)) in chart_crds.iter().zip(&generated) {
        assert!(
            chart == generated,
            "charts/dynastream/crds/{name} differs: run `cp crds/*.yaml charts/dynastream/crds/`"
        );
    }
}

/// The test cluster builds the image's `prebuilt` stage with Docker's legacy builder, which builds every stage
/// before the target: `prebuilt` must come first, so that the Rust image (which cannot be pulled there) is
/// never needed; and a plain `docker build .` must build from source (the last stage).
#[test]
fn dockerfile_has_the_prebuilt_stage_first_and_the_source_build_last() {
    let root = repo_root();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(instructions[0], "ARG BASE=debian:bookworm-slim");
    let stages: Vec<&str> = instructions
        .iter()
        .filter_map(|l| l.strip_prefix("FROM "))
        .collect();
    assert_eq!(
        stages,
        [
            "${BASE} AS prebuilt",
            "rust:1-bookworm AS build",
            "${BASE} AS runtime"
        ]
    );
    let prebuilt = &instructions[2..instructions
        .iter()
        .position(|l| l.starts_with("FROM rust"))
        .expect("build")];
    assert!(
        prebuilt.contains(&"COPY dynastream dynastream-operator /usr/local/bin/"),
        "{prebuilt:?}"
    );
    assert!(
        prebuilt.contains(&r#"ENTRYPOINT ["/usr/local/bin/dynastream"]"#),
        "{prebuilt:?}"
    );
    let ignored = std::fs::read_to_string(root.join(".dockerignore")).expect(".dockerignore");
    assert!(
        ignored.lines().any(|l| l.trim() == "target/"),
        "target/ is gigabytes: keep it out of the context"
    );
}
