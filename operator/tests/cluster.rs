//! The operator on the real single-node cluster (testenv): the project's image, the chart installed with the
//! real Helm library, the operator and the emulators as pods, the bark example applied with kubectl.
//!
//! One test walks the whole user story in order, because each step needs the ones before it (and the chart, the
//! image and the emulator pod are the slow parts): Ready with ARNs, the emulator seen through its Service, no
//! AWS calls for unchanged resources, an invalid spec, an emulator restart, deletions. A second test applies ACK
//! manifests with only their apiVersion changed. Without a cluster (not root, not Linux) they print `skipped`.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use common::{
    Bark, READY_TIMEOUT, apply_bark, condition, dynamodb, emulator_endpoint, install, lambda, ready, streams,
    workload,
};
use dynastream_operator::crd::{EventSourceMapping, Function, Table};
use dynastream_testenv::{cluster, wait_for};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, ListParams};
use serde_json::{Value, json};

async fn get_json(url: &str) -> anyhow::Result<Value> {
    let output = tokio::process::Command::new("curl")
        .args(["-sf", "--max-time", "3", url])
        .output()
        .await?;
    anyhow::ensure!(output.status.success(), "GET {url} failed");
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The emulator's AWS API requests by operation (its own `/_dynastream/...` endpoints left out).
async fn aws_requests(endpoint: &str) -> Value {
    let mut counts = get_json(&format!("{endpoint}/_dynastream/requests"))
        .await
        .unwrap()["requests"]
        .clone();
    counts
        .as_object_mut()
        .unwrap()
        .retain(|operation, _| !operation.contains(" /_dynastream/"));
    counts
}

#[tokio::test]
async fn the_bark_example_runs_through_the_operator_and_survives_an_emulator_restart() {
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let release = install(cluster, workload(cluster, "bark").await, json!({})).await;
    let ns = release.workload();

    // kubectl apply -f examples/bark/: the three become Ready with their ARNs.
    let applied = Instant::now();
    let Bark {
        tables,
        mappings,
        table,
        function,
        mapping,
        ..
    } = apply_bark(cluster, &client, &ns).await;
    eprintln!(
        "apply to Ready (emulator start included): {:.1} s",
        applied.elapsed().as_secs_f64()
    );
    assert_eq!(
        table["ackResourceMetadata"]["arn"],
        "arn:aws:dynamodb:us-east-1:000000000000:table/BarkTable"
    );
    assert_eq!(table["tableStatus"], "ACTIVE");
    let stream_arn = table["latestStreamARN"].as_str().unwrap().to_owned();
    assert!(
        stream_arn.starts_with("arn:aws:dynamodb:us-east-1:000000000000:table/BarkTable/stream/"),
        "{stream_arn}"
    );
    assert_eq!(
        function["ackResourceMetadata"]["arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:publishNewBark"
    );
    assert_eq!(function["state"], "Active");
    assert_eq!(mapping["state"], "Enabled");
    assert_eq!(mapping["functionARN"], function["ackResourceMetadata"]["arn"]);
    assert_eq!(mapping["eventSourceARN"], stream_arn.as_str());
    let uuid = mapping["uuid"].as_str().unwrap().to_owned();
    for type_ in ["ACK.ResourceSynced", "ACK.ReferencesResolved"] {
        assert_eq!(
            condition(&mapping, type_).unwrap()["status"],
            "True",
            "{type_}: {mapping}"
        );
    }
    assert!(condition(&mapping, "ACK.Terminal").is_none(), "{mapping}");
    assert!(
        mapping["delivery"].is_object(),
        "delivery health in status: {mapping}"
    );

    // kubectl get shows them with their printer columns.
    let listed = cluster.kubectl(&[
        "get",
        "-n",
        &ns,
        "tables,functions,eventsourcemappings",
        "-o",
        "wide",
    ]);
    for expected in [
        "BarkTable",
        "ACTIVE",
        "publishNewBark",
        "nodejs16.x",
        "Active",
        "Enabled",
        &uuid,
    ] {
        assert!(
            listed.contains(expected),
            "kubectl get lacks {expected}:\n{listed}"
        );
    }

    // An application in the cluster reaches the emulator through its Service and sees the table and stream.
    let endpoint = emulator_endpoint(&client, &ns).await;
    let described = dynamodb(&endpoint)
        .describe_table()
        .table_name("BarkTable")
        .send()
        .await
        .unwrap();
    let described = described.table.unwrap();
    assert_eq!(described.latest_stream_arn(), Some(stream_arn.as_str()));
    assert_eq!(
        described
            .stream_specification()
            .unwrap()
            .stream_view_type()
            .unwrap()
            .as_str(),
        "NEW_IMAGE"
    );
    let listed = streams(&endpoint)
        .list_streams()
        .table_name("BarkTable")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.streams()[0].stream_arn(), Some(stream_arn.as_str()));
    let esms = lambda(&endpoint)
        .list_event_source_mappings()
        .function_name("publishNewBark")
        .send()
        .await
        .unwrap();
    assert_eq!(esms.event_source_mappings()[0].uuid(), Some(uuid.as_str()));

    // Unchanged resources cost no AWS call, while the mapping's delivery status keeps being refreshed
    // (esmStatusSeconds is 2 in this release) from the emulator's own endpoint.
    let before = aws_requests(&endpoint).await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let after = aws_requests(&endpoint).await;
    assert_eq!(
        before, after,
        "the operator called AWS APIs for unchanged resources"
    );

    // An invalid spec: Ready=False with the emulator's own message, verbatim.
    let invalid = json!({
        "apiVersion": "dynastream.dev/v1alpha1",
        "kind": "Table",
        "metadata": { "name": "invalid" },
        "spec": {
            "tableName": "Invalid",
            "attributeDefinitions": [{ "attributeName": "Username", "attributeType": "S" }],
            "keySchema": [{ "attributeName": "Missing", "keyType": "HASH" }],
            "billingMode": "PAY_PER_REQUEST",
        },
    });
    cluster.kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &invalid.to_string());
    let expected = dynamodb(&endpoint)
        .create_table()
        .table_name("Invalid")
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("Username")
                .attribute_type("S".into())
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("Missing")
                .key_type("HASH".into())
                .build()
                .unwrap(),
        )
        .billing_mode("PAY_PER_REQUEST".into())
        .send()
        .await
        .unwrap_err();
    let expected = expected.into_service_error();
    let refused = wait_for("the invalid Table refused", READY_TIMEOUT, || async {
        let status = serde_json::to_value(tables.get("invalid").await?)?["status"].clone();
        Ok(condition(&status, "ACK.Terminal").is_some().then_some(status))
    })
    .await;
    let ready_condition = condition(&refused, "Ready").unwrap();
    assert_eq!(ready_condition["status"], "False");
    assert_eq!(ready_condition["reason"], expected.code().unwrap());
    assert_eq!(ready_condition["message"], expected.message().unwrap());
    assert_eq!(condition(&refused, "ACK.Terminal").unwrap()["status"], "True");
    cluster.kubectl(&["delete", "-n", &ns, "table", "invalid", "--wait=true"]);

    // The emulator restarts (its pod is deleted): a new boot id, and the operator applies all three again.
    let boot = get_json(&format!("{endpoint}/_dynastream/health")).await.unwrap()["bootId"].clone();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let emulator_pods = pods
        .list(&ListParams::default().labels("app.kubernetes.io/component=emulator"))
        .await
        .unwrap();
    for pod in emulator_pods {
        pods.delete(&pod.metadata.name.unwrap(), &DeleteParams::default())
            .await
            .unwrap();
    }
    let restarted = Instant::now();
    let new_uuid = wait_for(
        "the mapping recreated in the restarted emulator",
        READY_TIMEOUT,
        || async {
            let health = get_json(&format!("{endpoint}/_dynastream/health")).await?;
            if health["bootId"] == boot {
                return Ok(None);
            }
            let listed = lambda(&endpoint)
                .list_event_source_mappings()
                .function_name("publishNewBark")
                .send()
                .await?;
            Ok(listed
                .event_source_mappings()
                .first()
                .and_then(|m| m.uuid().map(str::to_owned)))
        },
    )
    .await;
    eprintln!(
        "emulator restart to all three applied again: {:.1} s",
        restarted.elapsed().as_secs_f64()
    );
    let described = dynamodb(&endpoint)
        .describe_table()
        .table_name("BarkTable")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let new_stream = described.latest_stream_arn().unwrap().to_owned();
    lambda(&endpoint)
        .get_function()
        .function_name("publishNewBark")
        .send()
        .await
        .unwrap();
    // NB: the operator reports the new mapping while it is still Creating, then Ready once it is Enabled.
    wait_for(
        "the mapping's status names the new stream and is Ready",
        READY_TIMEOUT,
        || async {
            let status =
                serde_json::to_value(mappings.get("bark-stream-to-publisher").await?)?["status"].clone();
            let current =
                status["uuid"] == new_uuid.as_str() && status["eventSourceARN"] == new_stream.as_str();
            match condition(&status, "Ready") {
                Some(c) if current && c["status"] == "True" => Ok(Some(())),
                _ => anyhow::bail!("not yet: {status}"),
            }
        },
    )
    .await;

    // Deleting a resource deletes it in the emulator; ACK's retain annotation keeps it.
    cluster.kubectl(&[
        "annotate",
        "-n",
        &ns,
        "function",
        "publish-new-bark",
        "services.k8s.aws/deletion-policy=retain",
    ]);
    cluster.kubectl(&[
        "delete",
        "-n",
        &ns,
        "eventsourcemapping",
        "bark-stream-to-publisher",
        "--wait=true",
    ]);
    let esms = lambda(&endpoint)
        .list_event_source_mappings()
        .function_name("publishNewBark")
        .send()
        .await
        .unwrap();
    assert!(esms.event_source_mappings().is_empty(), "{esms:?}");
    cluster.kubectl(&["delete", "-n", &ns, "table", "bark-table", "--wait=true"]);
    let gone = dynamodb(&endpoint)
        .describe_table()
        .table_name("BarkTable")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        gone.into_service_error().code(),
        Some("ResourceNotFoundException")
    );
    cluster.kubectl(&["delete", "-n", &ns, "function", "publish-new-bark", "--wait=true"]);
    lambda(&endpoint)
        .get_function()
        .function_name("publishNewBark")
        .send()
        .await
        .expect("retained");

    // With its last resource gone, the emulator goes too (its objects are owned by the resources).
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    wait_for("the emulator's Deployment collected", READY_TIMEOUT, || async {
        Ok(deployments.get_opt("dynastream").await?.is_none().then_some(()))
    })
    .await;
    drop(release);
}

/// ACK's manifests for the guide (../shared/reference/ack-crds.md §5), with only their apiVersion changed.
const ACK_TABLE: &str = r#"
apiVersion: dynamodb.services.k8s.aws/v1alpha1
kind: Table
metadata:
  name: bark-table
  annotations:
    services.k8s.aws/deletion-policy: delete
spec:
  tableName: BarkTable
  attributeDefinitions:
    - { attributeName: Username,  attributeType: S }
    - { attributeName: Timestamp, attributeType: S }
  keySchema:
    - { attributeName: Username,  keyType: HASH }
    - { attributeName: Timestamp, keyType: RANGE }
  billingMode: PROVISIONED
  provisionedThroughput: { readCapacityUnits: 5, writeCapacityUnits: 5 }
  streamSpecification:
    streamEnabled: true
    streamViewType: NEW_AND_OLD_IMAGES
  timeToLive: { attributeName: expiresAt, enabled: true }
  tags:
    - { key: app, value: woofer }
"#;

const ACK_FUNCTION: &str = r#"
apiVersion: lambda.services.k8s.aws/v1alpha1
kind: Function
metadata:
  name: publish-new-bark
spec:
  name: publishNewBark
  runtime: nodejs20.x
  handler: index.handler
  role: arn:aws:iam::000000000000:role/lambda-role
  timeout: 50
  memorySize: 128
  code:
    zipFile: ZIP_FILE
  environment:
    variables: { LOG_LEVEL: debug }
"#;

const ACK_MAPPING: &str = r#"
apiVersion: lambda.services.k8s.aws/v1alpha1
kind: EventSourceMapping
metadata:
  name: bark-stream-to-publisher
spec:
  functionRef:
    from: { name: publish-new-bark }
  eventSourceARN: STREAM_ARN
  startingPosition: TRIM_HORIZON
  batchSize: 1
  maximumBatchingWindowInSeconds: 0
  maximumRetryAttempts: 3
  maximumRecordAgeInSeconds: 3600
  bisectBatchOnFunctionError: true
  functionResponseTypes: [ReportBatchItemFailures]
  filterCriteria:
    filters:
      - pattern: '{"eventName": ["INSERT"]}'
  enabled: true
  tags: { team: barks }
"#;

fn dynastream_api(manifest: &str) -> String {
    manifest
        .replace("dynamodb.services.k8s.aws/v1alpha1", "dynastream.dev/v1alpha1")
        .replace("lambda.services.k8s.aws/v1alpha1", "dynastream.dev/v1alpha1")
}

#[tokio::test]
async fn ack_manifests_work_after_changing_only_their_api_version() {
    use base64::Engine;
    let Some(cluster) = cluster() else { return };
    let client = cluster.client().await;
    let release = install(cluster, workload(cluster, "ack").await, json!({})).await;
    let ns = release.workload();
    let zip = dynastream_operator::function::zip_files(
        &[(
            "index.js".to_owned(),
            b"exports.handler = async () => 'ok';".to_vec(),
        )]
        .into(),
    )
    .unwrap();
    let zip = base64::engine::general_purpose::STANDARD.encode(zip);

    cluster.kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &dynastream_api(ACK_TABLE));
    cluster.kubectl_stdin(
        &["apply", "-n", &ns, "-f", "-"],
        &dynastream_api(&ACK_FUNCTION.replace("ZIP_FILE", &zip)),
    );
    let tables: Api<Table> = Api::namespaced(client.clone(), &ns);
    let functions: Api<Function> = Api::namespaced(client.clone(), &ns);
    let table = ready(&tables, "bark-table").await;
    ready(&functions, "publish-new-bark").await;
    // As ACK users do, the stream ARN is copied from the Table's status into the mapping.
    let stream_arn = table["latestStreamARN"].as_str().unwrap();
    cluster.kubectl_stdin(
        &["apply", "-n", &ns, "-f", "-"],
        &dynastream_api(&ACK_MAPPING.replace("STREAM_ARN", stream_arn)),
    );
    let mappings: Api<EventSourceMapping> = Api::namespaced(client.clone(), &ns);
    let mapping = ready(&mappings, "bark-stream-to-publisher").await;
    assert_eq!(mapping["state"], "Enabled");

    let endpoint = emulator_endpoint(&client, &ns).await;
    let ttl = dynamodb(&endpoint)
        .describe_time_to_live()
        .table_name("BarkTable")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description().unwrap().attribute_name(),
        Some("expiresAt")
    );
    let arn = table["ackResourceMetadata"]["arn"].as_str().unwrap();
    let tags = dynamodb(&endpoint)
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].key(), "app");
    let config = lambda(&endpoint)
        .get_function_configuration()
        .function_name("publishNewBark")
        .send()
        .await
        .unwrap();
    assert_eq!(
        config.environment().unwrap().variables().unwrap()["LOG_LEVEL"],
        "debug"
    );
    let esm = lambda(&endpoint)
        .get_event_source_mapping()
        .uuid(mapping["uuid"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(esm.maximum_retry_attempts(), Some(3));
    assert_eq!(
        esm.filter_criteria().unwrap().filters()[0].pattern(),
        Some(r#"{"eventName": ["INSERT"]}"#)
    );

    // The mapping's tags are set at creation and follow the spec.
    let esm_arn = esm.event_source_mapping_arn().unwrap().to_owned();
    let esm_tags = || async {
        let listed = lambda(&endpoint).list_tags().resource(&esm_arn).send().await?;
        anyhow::Ok(
            listed
                .tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        esm_tags().await.unwrap(),
        [("team".to_owned(), "barks".to_owned())]
    );
    cluster.kubectl(&[
        "patch",
        "-n",
        &ns,
        "eventsourcemapping",
        "bark-stream-to-publisher",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"tags":{"team":null,"stage":"dev"}}}"#,
    ]);
    wait_for(
        "the mapping's tags changed with its spec",
        READY_TIMEOUT,
        || async {
            let tags = esm_tags().await?;
            Ok((tags == [("stage".to_owned(), "dev".to_owned())]).then_some(()))
        },
    )
    .await;
}
