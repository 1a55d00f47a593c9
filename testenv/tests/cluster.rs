//! The helper against the real cluster: a namespace, a pod from the base image, kubectl, cleanup.

use std::time::Duration;

use dynastream_testenv::{cluster, wait_for};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Api;
use kube::api::PostParams;

#[tokio::test]
async fn a_pod_runs_in_a_test_namespace_that_goes_when_the_guard_drops() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let ns = cluster.namespace("testenv-pod").await;
    assert!(ns.starts_with("testenv-pod-"), "{ns}");

    // A shell-less PID 1 ignores SIGTERM: a zero grace period keeps the namespace's deletion short.
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "sleeper" },
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{
                "name": "sleep",
                "image": cluster.base_image(),
                "imagePullPolicy": "Never",
                "command": ["sleep", "3600"],
            }],
        },
    }))
    .unwrap();
    let pods = Api::<Pod>::namespaced(client.clone(), &ns);
    pods.create(&PostParams::default(), &pod).await.unwrap();
    wait_for("pod sleeper Running", Duration::from_secs(30), || async {
        let phase = pods.get("sleeper").await?.status.and_then(|s| s.phase);
        Ok(phase.filter(|p| p == "Running"))
    })
    .await;

    // kubectl sees the same, and takes manifests on stdin.
    let phase = cluster.kubectl(&[
        "get",
        "pod",
        "sleeper",
        "-n",
        &ns,
        "-o",
        "jsonpath={.status.phase}",
    ]);
    assert_eq!(phase, "Running");
    let manifest =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {ns}}}\n");
    let applied = cluster.kubectl_stdin(&["apply", "-f", "-"], &manifest);
    assert!(applied.contains("configmap/settings created"), "{applied}");
    let missing = cluster.kubectl_output(&["get", "configmap", "no-such-map", "-n", &ns]);
    assert!(!missing.status.success());

    let name = ns.name.clone();
    drop(ns);
    let namespaces = Api::<Namespace>::all(client);
    wait_for(
        &format!("namespace {name} deleted or terminating"),
        Duration::from_secs(10),
        || async {
            Ok(match namespaces.get_opt(&name).await? {
                None => Some(()),
                Some(namespace) => namespace.metadata.deletion_timestamp.map(|_| ()),
            })
        },
    )
    .await;
}
