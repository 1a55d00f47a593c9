//! Lambda handlers as pods, on the real single-node cluster (testenv): the chart installed with runtime images
//! pointing at stand-ins for AWS's base images (testenv/images/, built here from the Debian base with Debian's
//! node and python and the SDKs AWS's images ship), the bark example applied with kubectl, a put-item through
//! the SDK at the emulator's Service, and the handler running in a pod the emulator created.
//!
//! One test walks the story in order, because every step needs the chart, the images and a warm emulator:
//! stream records reach the handler pod (its `kubectl logs` and the emulator's log show the guide's lines), the
//! pod satisfies the restricted profile field by field, concurrent invocations make one pod each and are then
//! reused, a pod deleted mid-invocation answers AWS's error, deleting the Function deletes its pods, idle pods
//! are deleted. Without a cluster (not root, not Linux) it prints `skipped`.

mod common;

use std::time::{Duration, Instant};

use common::{
    Bark, DeliveryProbe, READY_TIMEOUT, apply_bark, emulator_endpoint, install, ready, runtime_image,
    workload,
};
use dynastream_operator::crd::{EventSourceMapping, Function};
use dynastream_testenv::{cluster, wait_for};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, ListParams};
use serde_json::{Value, json};

/// The emulator's `--lambda-idle-timeout` in this test, seconds.
const IDLE_SECONDS: u64 = 30;

/// The running (not terminating) handler pods of a function.
async fn handler_pods(pods: &Api<Pod>, function: &str) -> Vec<Pod> {
    let selector = format!("app.kubernetes.io/managed-by=dynastream,dynastream.dev/function={function}");
    pods.list(&ListParams::default().labels(&selector))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .collect()
}

async fn wait_pod_count(pods: &Api<Pod>, function: &str, count: usize, what: &str, timeout: Duration) {
    wait_for(what, timeout, || async {
        let found = handler_pods(pods, function).await.len();
        Ok((found == count).then_some(()))
    })
    .await;
}

/// Invokes `function` with `payload`; the (function error, parsed payload) and the round trip.
async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    payload: Value,
) -> (Option<String>, Value, Duration) {
    let started = Instant::now();
    let output = lambda
        .invoke()
        .function_name(function)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_string()))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let body = output
        .payload()
        .map(|blob| serde_json::from_slice(blob.as_ref()).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    (output.function_error().map(str::to_owned), body, elapsed)
}

/// Checks the restricted Pod Security Standard (and the executor's other promises) on a handler pod's spec.
fn assert_restricted(pod: &Pod, emulator_pod: &Pod) {
    let spec = pod.spec.as_ref().unwrap();
    let name = pod.metadata.name.as_deref().unwrap();
    let security = spec.security_context.as_ref().expect("a pod security context");
    assert_eq!(security.run_as_non_root, Some(true), "{name}: runAsNonRoot");
    assert!(
        security.run_as_user.is_some_and(|uid| uid != 0),
        "{name}: a numeric non-root runAsUser"
    );
    assert_eq!(
        security.seccomp_profile.as_ref().map(|p| p.type_.as_str()),
        Some("RuntimeDefault"),
        "{name}: seccomp"
    );
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"), "{name}");
    assert_eq!(spec.enable_service_links, Some(false), "{name}");
    assert!(
        spec.termination_grace_period_seconds.is_some_and(|s| s <= 2),
        "{name}: a short grace period"
    );
    assert!(spec.host_network.is_none() && spec.host_pid.is_none() && spec.host_ipc.is_none());
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let mut count = 0;
    for container in containers {
        count += 1;
        let c = container
            .security_context
            .as_ref()
            .expect("a container security context");
        assert_eq!(
            c.allow_privilege_escalation,
            Some(false),
            "{name}/{}",
            container.name
        );
        assert_eq!(
            c.read_only_root_filesystem,
            Some(true),
            "{name}/{}",
            container.name
        );
        assert_ne!(c.privileged, Some(true), "{name}/{}", container.name);
        assert_eq!(
            c.capabilities.as_ref().and_then(|caps| caps.drop.clone()),
            Some(vec!["ALL".to_owned()]),
            "{name}/{}",
            container.name
        );
        assert!(
            c.capabilities
                .as_ref()
                .and_then(|caps| caps.add.as_ref())
                .is_none(),
            "{name}/{}: no capability added",
            container.name
        );
        assert!(
            container.ports.is_none() || container.ports.iter().flatten().all(|p| p.host_port.is_none()),
            "{name}/{}: no host ports",
            container.name
        );
    }
    assert_eq!(count, 2, "{name}: the init container and the runtime");
    for volume in spec.volumes.iter().flatten() {
        assert!(
            volume.empty_dir.is_some(),
            "{name}: only emptyDir volumes, not {}",
            volume.name
        );
    }
    let runtime = &spec.containers[0];
    let tmp = runtime
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.mount_path == "/tmp")
        .expect("a writable /tmp");
    assert_ne!(tmp.read_only, Some(true));
    let memory = runtime.resources.as_ref().unwrap();
    assert_eq!(
        memory.limits.as_ref().unwrap()["memory"].0,
        "128Mi",
        "MemorySize 128"
    );
    assert_eq!(memory.requests.as_ref().unwrap()["memory"].0, "128Mi");
    let owner = &pod.metadata.owner_references.as_ref().expect("an owner")[0];
    assert_eq!((owner.kind.as_str(), owner.api_version.as_str()), ("Pod", "v1"));
    assert_eq!(Some(&owner.uid), emulator_pod.metadata.uid.as_ref());
    let labels = pod.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "dynastream");
    for label in [
        "dynastream.dev/function",
        "dynastream.dev/version",
        "dynastream.dev/environment",
    ] {
        assert!(labels.contains_key(label), "{name}: label {label}");
    }
}

const PYTHON_FUNCTION: &str = r#"
apiVersion: dynastream.dev/v1alpha1
kind: Function
metadata:
  name: where-am-i
spec:
  name: whereAmI
  runtime: python3.12
  handler: app.handler
  role: arn:aws:iam::000000000000:role/lambda-role
  timeout: 60
  memorySize: 128
  code:
    inline:
      app.py: |
        import os
        import time

        import boto3


        def handler(event, context):
            print("sleeping", event.get("sleep", 0))
            time.sleep(event.get("sleep", 0))
            return {"pod": os.environ.get("HOSTNAME"), "boto3": boto3.__version__}
"#;

#[tokio::test]
async fn handlers_run_as_pods_fed_by_stream_records() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let node = runtime_image(cluster, "nodejs");
    let python = runtime_image(cluster, "python");
    // python3.11 points at an image that exists nowhere: its pods cannot start.
    let runtime_images = json!({
        "nodejs16.x": node,
        "python3.12": python,
        "python3.11": "localhost/dynastream-runtime-missing:1",
    });
    let values = json!({
        "emulator": { "args": ["--lambda-idle-timeout", IDLE_SECONDS.to_string()] },
        "runtimeImages": runtime_images,
    });
    let release = install(cluster, workload(cluster, "handler-pods").await, values).await;
    let ns = release.workload();

    // The guide's resources, applied with kubectl.
    let Bark {
        functions,
        mappings,
        function,
        ..
    } = apply_bark(cluster, &client, &ns).await;
    assert_eq!(function["state"], "Active");
    let endpoint = emulator_endpoint(&client, &ns).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let emulator_pod = pods
        .list(&ListParams::default().labels("app.kubernetes.io/component=emulator"))
        .await
        .unwrap()
        .items
        .remove(0);
    assert!(handler_pods(&pods, "publishNewBark").await.is_empty());

    // A put-item through the SDK: the record reaches the handler in a pod, which logs the guide's lines.
    let dynamodb = common::dynamodb(&endpoint);
    let put = Instant::now();
    let attr = |s: &str| aws_sdk_dynamodb::types::AttributeValue::S(s.to_owned());
    dynamodb
        .put_item()
        .table_name("BarkTable")
        .item("Username", attr("Jane Doe"))
        .item("Timestamp", attr("2016-11-18:14:32:17"))
        .item("Message", attr("This is a bark from the Woofer social network"))
        .send()
        .await
        .unwrap();
    let delivered = wait_for("the record delivered (mapping status)", READY_TIMEOUT, || async {
        let status = serde_json::to_value(mappings.get("bark-stream-to-publisher").await?)?["status"].clone();
        let delivered = status["delivery"]["recordsDelivered"].as_u64().unwrap_or(0);
        Ok((delivered >= 1).then_some(status))
    })
    .await;
    eprintln!(
        "put-item to the mapping's status showing the record delivered (cold pod, status refreshed every 2 s): {:.1} s",
        put.elapsed().as_secs_f64()
    );
    assert_eq!(delivered["delivery"]["batchesFailed"], 0, "{delivered}");
    let emulator_name = emulator_pod.metadata.name.clone().unwrap();
    let lifecycle = || {
        let logs = cluster.kubectl(&["logs", "-n", &ns, &emulator_name]);
        let lines: Vec<&str> = logs
            .lines()
            .filter(|line| line.contains("environment") || line.contains(" pod "))
            .collect();
        lines.join("\n")
    };
    // The pod that ran the batch: its `kubectl logs` shows the guide's lines. (Look at every pod of the function:
    // should an early reconcile replace the function's deployment, another pod may run a replayed batch.)
    let (handler_pod, logs) = wait_for(
        "the guide's lines in a handler pod's kubectl logs",
        Duration::from_secs(30),
        || async {
            let running = handler_pods(&pods, "publishNewBark").await;
            for pod in &running {
                let name = pod.metadata.name.as_deref().unwrap();
                let out = cluster.kubectl_output(&["logs", "-n", &ns, name, "-c", "runtime"]);
                let logs = String::from_utf8_lossy(&out.stdout).into_owned();
                if logs.contains("Stream record:") {
                    return Ok(Some((pod.clone(), logs)));
                }
            }
            let names: Vec<_> = running.iter().map(|p| p.metadata.name.clone()).collect();
            anyhow::bail!("pods {names:?}; the emulator's log:\n{}", lifecycle())
        },
    )
    .await;
    assert_restricted(&handler_pod, &emulator_pod);
    let handler_pod = handler_pod.metadata.name.unwrap();
    eprintln!("handler pod {handler_pod}");
    assert!(logs.contains("Jane Doe"), "{logs}");
    assert!(logs.contains("REPORT RequestId:"), "{logs}");
    wait_for(
        "the handler's lines in the emulator's log",
        Duration::from_secs(10),
        || async {
            let logs = cluster.kubectl(&["logs", "-n", &ns, &emulator_name]);
            Ok((logs.contains("Stream record:") && logs.contains("publishNewBark")).then_some(()))
        },
    )
    .await;

    // put-item to the batch delivered by a warm pod (the emulator's inspection endpoint polled over keep-alive).
    let uuid = delivered["uuid"].as_str().unwrap().to_owned();
    let probe = DeliveryProbe::new(&endpoint, &uuid);
    let mut latencies = Vec::new();
    for i in 0..10 {
        let before = probe.records_delivered().await;
        let put = Instant::now();
        dynamodb
            .put_item()
            .table_name("BarkTable")
            .item("Username", attr("Jane Doe"))
            .item("Timestamp", attr(&format!("2016-11-18:14:33:{i:02}")))
            .item("Message", attr("warm"))
            .send()
            .await
            .unwrap();
        probe
            .delivered_after(before, Duration::from_secs(10), &format!("record {i}"))
            .await;
        latencies.push(put.elapsed());
    }
    latencies.sort();
    eprintln!(
        "put-item (host, through the Service) to the batch delivered by the warm pod: median {:.1} ms, max {:.1} ms",
        latencies[latencies.len() / 2].as_secs_f64() * 1000.0,
        latencies[latencies.len() - 1].as_secs_f64() * 1000.0
    );
    assert_eq!(
        handler_pods(&pods, "publishNewBark").await.len(),
        1,
        "the warm pod took every batch"
    );

    // Invocations through the Lambda API: a cold pod, then warm ones.
    let lambda = common::lambda(&endpoint);
    cluster.kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], PYTHON_FUNCTION);
    ready(&functions, "where-am-i").await;
    let (error, body, cold) = invoke(&lambda, "whereAmI", json!({})).await;
    assert_eq!(error, None, "{body}");
    let first_pod = body["pod"].as_str().unwrap().to_owned();
    assert!(body["boto3"].is_string(), "boto3 from the image: {body}");
    let created = handler_pods(&pods, "whereAmI").await;
    assert_eq!(created.len(), 1);
    assert_restricted(&created[0], &emulator_pod);
    let mut warm = Vec::new();
    for _ in 0..10 {
        let (error, body, elapsed) = invoke(&lambda, "whereAmI", json!({})).await;
        assert_eq!(error, None, "{body}");
        assert_eq!(body["pod"], first_pod.as_str(), "reused while warm");
        warm.push(elapsed);
    }
    warm.sort();
    eprintln!(
        "Invoke round trip from the host: cold (pod creation to result) {:.0} ms; warm median {:.1} ms, max {:.1} ms",
        cold.as_secs_f64() * 1000.0,
        warm[warm.len() / 2].as_secs_f64() * 1000.0,
        warm[warm.len() - 1].as_secs_f64() * 1000.0
    );

    // Three concurrent invocations: three pods (the warm one and two new), then reused.
    let concurrent = |n: usize| {
        let lambda = lambda.clone();
        async move {
            let calls = (0..n).map(|_| {
                let lambda = lambda.clone();
                async move { invoke(&lambda, "whereAmI", json!({"sleep": 2})).await }
            });
            let results = futures::future::join_all(calls).await;
            let mut seen: Vec<String> = results
                .into_iter()
                .map(|(error, body, _)| {
                    assert_eq!(error, None, "{body}");
                    body["pod"].as_str().unwrap().to_owned()
                })
                .collect();
            seen.sort();
            seen.dedup();
            seen
        }
    };
    let first = concurrent(3).await;
    assert_eq!(first.len(), 3, "one pod per concurrent invocation: {first:?}");
    assert!(first.contains(&first_pod));
    assert_eq!(handler_pods(&pods, "whereAmI").await.len(), 3);
    let again = concurrent(3).await;
    assert_eq!(again, first, "the warm pods are reused");
    assert_eq!(handler_pods(&pods, "whereAmI").await.len(), 3);

    // A pod deleted mid-invocation: AWS's error for a runtime that went away.
    let slow = {
        let lambda = lambda.clone();
        tokio::spawn(async move { invoke(&lambda, "whereAmI", json!({"sleep": 30})).await })
    };
    let busy = wait_for(
        "an invocation running in a pod",
        Duration::from_secs(20),
        || async {
            for pod in handler_pods(&pods, "whereAmI").await {
                let name = pod.metadata.name.unwrap();
                let logs = cluster.kubectl(&["logs", "-n", &ns, &name, "-c", "runtime"]);
                if logs.contains("sleeping 30") {
                    return Ok(Some(name));
                }
            }
            Ok(None)
        },
    )
    .await;
    pods.delete(&busy, &DeleteParams::default()).await.unwrap();
    let (error, body, _) = slow.await.unwrap();
    assert_eq!(error.as_deref(), Some("Unhandled"), "{body}");
    assert_eq!(body["errorType"], "Runtime.ExitError", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Error: Runtime exited with error:"),
        "{body}"
    );
    wait_pod_count(
        &pods,
        "whereAmI",
        2,
        "the deleted pod gone",
        Duration::from_secs(30),
    )
    .await;

    // A pod whose image cannot be pulled: the invocation answers AWS's error at once (not after the timeout),
    // and the pod is deleted.
    let missing = PYTHON_FUNCTION
        .replace("name: where-am-i", "name: no-image")
        .replace("name: whereAmI", "name: noImage")
        .replace("python3.12", "python3.11");
    cluster.kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &missing);
    ready(&functions, "no-image").await;
    let (error, body, elapsed) = invoke(&lambda, "noImage", json!({})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"), "{body}");
    assert_eq!(body["errorType"], "Runtime.ExitError", "{body}");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("ErrImagePull") || message.contains("ImagePullBackOff"),
        "{body}"
    );
    eprintln!(
        "an image that cannot be pulled answered in {:.1} s: {message}",
        elapsed.as_secs_f64()
    );
    // As AWS marks a function whose image it cannot access.
    let config = lambda
        .get_function_configuration()
        .function_name("noImage")
        .send()
        .await
        .unwrap();
    assert_eq!(config.state().map(|s| s.as_str()), Some("Failed"));
    assert_eq!(
        config.state_reason_code().map(|c| c.as_str()),
        Some("ImageAccessDenied")
    );
    assert!(
        config.state_reason().unwrap().contains("ErrImage")
            || config.state_reason().unwrap().contains("ImagePullBackOff")
    );
    wait_pod_count(
        &pods,
        "noImage",
        0,
        "the failed pod deleted",
        Duration::from_secs(30),
    )
    .await;

    // Deleting the Function deletes its pods.
    cluster.kubectl(&["delete", "-n", &ns, "function", "where-am-i", "--wait=true"]);
    wait_pod_count(
        &pods,
        "whereAmI",
        0,
        "whereAmI's pods deleted",
        Duration::from_secs(30),
    )
    .await;

    // The bark handler's pod has been idle since its batch: deleted after the idle timeout.
    wait_pod_count(
        &pods,
        "publishNewBark",
        0,
        "the idle bark pod deleted",
        Duration::from_secs(IDLE_SECONDS + 30),
    )
    .await;

    drop(release);
}

/// A table, a python handler that is slow on a record's first delivery only (it remembers attempts in a second
/// table, through the SDK at AWS_ENDPOINT_URL), and a mapping between them.
const SLOW_FIRST_ATTEMPT: &str = r#"
apiVersion: dynastream.dev/v1alpha1
kind: Table
metadata: { name: orders }
spec:
  tableName: Orders
  attributeDefinitions: [{ attributeName: id, attributeType: S }]
  keySchema: [{ attributeName: id, keyType: HASH }]
  billingMode: PAY_PER_REQUEST
  streamSpecification: { streamEnabled: true, streamViewType: NEW_IMAGE }
---
apiVersion: dynastream.dev/v1alpha1
kind: Table
metadata: { name: attempts }
spec:
  tableName: Attempts
  attributeDefinitions: [{ attributeName: id, attributeType: S }]
  keySchema: [{ attributeName: id, keyType: HASH }]
  billingMode: PAY_PER_REQUEST
---
apiVersion: dynastream.dev/v1alpha1
kind: Function
metadata: { name: ship-order }
spec:
  name: shipOrder
  runtime: python3.12
  handler: app.handler
  role: arn:aws:iam::000000000000:role/lambda-role
  timeout: 120
  code:
    inline:
      app.py: |
        import socket
        import time

        import boto3

        dynamodb = boto3.client("dynamodb")


        def handler(event, context):
            record = event["Records"][0]
            key = {"id": {"S": record["eventID"]}}
            if "Item" in dynamodb.get_item(TableName="Attempts", Key=key):
                # A pod's host name is the pod's name.
                retry = {"id": {"S": record["eventID"] + "-retry"}, "pod": {"S": socket.gethostname()}}
                dynamodb.put_item(TableName="Attempts", Item=retry)
                print("shipped", record["dynamodb"]["Keys"]["id"]["S"], "on a retry")
            else:
                dynamodb.put_item(TableName="Attempts", Item=key)
                time.sleep(100)
---
apiVersion: dynastream.dev/v1alpha1
kind: EventSourceMapping
metadata: { name: orders-to-ship-order }
spec:
  tableRef: { from: { name: orders } }
  functionRef: { from: { name: ship-order } }
  batchSize: 1
  startingPosition: TRIM_HORIZON
"#;

#[tokio::test]
async fn a_handler_pod_deleted_mid_batch_fails_the_batch_which_is_retried() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let python = runtime_image(cluster, "python");
    let values = json!({ "runtimeImages": { "python3.12": python } });
    let release = install(cluster, workload(cluster, "mid-batch").await, values).await;
    let ns = release.workload();
    cluster.kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], SLOW_FIRST_ATTEMPT);
    let mappings: Api<EventSourceMapping> = Api::namespaced(client.clone(), &ns);
    for (kind, name) in [
        ("tables", "orders"),
        ("tables", "attempts"),
        ("functions", "ship-order"),
    ] {
        cluster.kubectl(&[
            "wait",
            "-n",
            &ns,
            "--for=condition=Ready",
            &format!("{kind}/{name}"),
            "--timeout=120s",
        ]);
    }
    ready(&mappings, "orders-to-ship-order").await;
    let endpoint = emulator_endpoint(&client, &ns).await;
    let dynamodb = common::dynamodb(&endpoint);
    dynamodb
        .put_item()
        .table_name("Orders")
        .item("id", aws_sdk_dynamodb::types::AttributeValue::S("order-1".into()))
        .send()
        .await
        .unwrap();

    // The first attempt is under way (it recorded itself and sleeps): delete its pod.
    wait_for("the first attempt recorded", READY_TIMEOUT, || async {
        let scanned = dynamodb.scan().table_name("Attempts").send().await?;
        Ok((scanned.count() == 1).then_some(()))
    })
    .await;
    eprintln!("first attempt under way");
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let first = handler_pods(&pods, "shipOrder").await;
    assert_eq!(first.len(), 1);
    let first = first[0].metadata.name.clone().unwrap();
    pods.delete(&first, &DeleteParams::default()).await.unwrap();

    // The batch fails with the runtime's exit and is retried, in a new pod, and then delivered.
    let status = wait_for("the batch retried and delivered", READY_TIMEOUT, || async {
        let status = serde_json::to_value(mappings.get("orders-to-ship-order").await?)?["status"].clone();
        let delivered = status["delivery"]["recordsDelivered"].as_u64().unwrap_or(0);
        Ok((delivered == 1).then_some(status))
    })
    .await;
    assert!(
        status["delivery"]["batchesFailed"].as_u64().unwrap() >= 1,
        "{status}"
    );
    assert_eq!(status["delivery"]["lastBatchResult"], "OK", "{status}");
    // The retry ran the handler again, in a new pod: it recorded itself.
    let scanned = dynamodb.scan().table_name("Attempts").send().await.unwrap();
    let retry = scanned
        .items()
        .iter()
        .find(|item| item["id"].as_s().is_ok_and(|id| id.ends_with("-retry")))
        .unwrap_or_else(|| panic!("{:?}", scanned.items()));
    let retried_in = retry["pod"].as_s().unwrap();
    assert!(
        retried_in.starts_with("shiporder-") && retried_in != &first,
        "retried in {retried_in}, first attempt in {first}"
    );
    // The emulator's log says why the first attempt's environment stopped.
    let emulator_logs = cluster.kubectl(&["logs", "-n", &ns, "deploy/dynastream"]);
    let stopped = emulator_logs
        .lines()
        .any(|line| line.contains("execution environment stopped") && line.contains(&format!("pod {first}")));
    assert!(stopped, "{emulator_logs}");
    drop(release);
}

#[tokio::test]
async fn a_function_tagged_min_warm_has_its_pod_started_before_any_invocation() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let python = runtime_image(cluster, "python");
    let values = json!({ "runtimeImages": { "python3.12": python } });
    let release = install(cluster, workload(cluster, "warm-pool").await, values).await;
    let ns = release.workload();
    let warm = PYTHON_FUNCTION.replace(
        "  memorySize: 128\n",
        "  memorySize: 128\n  tags: { \"dynastream:min-warm\": \"1\" }\n",
    );
    assert_ne!(warm, PYTHON_FUNCTION, "the tag is in the manifest");
    cluster.kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &warm);
    ready(&Api::<Function>::namespaced(client.clone(), &ns), "where-am-i").await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let started = wait_for(
        "a warm pod Running before any invocation",
        READY_TIMEOUT,
        || async {
            let running = handler_pods(&pods, "whereAmI")
                .await
                .into_iter()
                .find(|pod| pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"));
            Ok(running.and_then(|pod| pod.metadata.name))
        },
    )
    .await;
    let endpoint = emulator_endpoint(&client, &ns).await;
    let (error, body, _) = invoke(&common::lambda(&endpoint), "whereAmI", json!({})).await;
    assert_eq!(error, None, "{body}");
    assert_eq!(
        body["pod"],
        started.as_str(),
        "the first invocation ran in the warm pod"
    );
    drop(release);
}
