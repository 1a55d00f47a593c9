//! Stream record to handler, with handlers as pods (the Kubernetes executor on the test cluster) beside handlers
//! as local processes (the process executor), measured in the same run with the same debug-built binary.
//!
//! `cargo test -p dynastream-operator --bench pods -- --bench` runs it in the dev profile, like the measured
//! binaries (`cargo bench` works too, after a release build of the dependencies). It needs the test cluster of
//! testenv/ and the stand-in runtime images of testenv/images/; run `cargo build --workspace --bins` first.
//! `cargo test --all-targets` builds this file but does not run the measurement.
//!
//! Warm: a put-item, then the time until the mapping reports the record delivered (the handler returned),
//! read by polling the emulator's `/_dynastream/event-source-mappings/{uuid}` from the host. Cold: an Invoke of a
//! function with no environment, from the request to its result (for pods: pod creation, image start, agent,
//! runtime init).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use common::{DeliveryProbe, apply_bark, emulator_endpoint, install, repo, runtime_image, workload};
use serde_json::json;

const WARM_RECORDS: usize = 50;
const COLD_INVOKES: usize = 3;

/// Put-item to delivered, `WARM_RECORDS` times, after one record that warms the environment up.
async fn warm_deliveries(endpoint: &str, uuid: &str) -> (Duration, Vec<Duration>) {
    let probe = DeliveryProbe::new(endpoint, uuid);
    let dynamodb = common::dynamodb(endpoint);
    let mut first = None;
    let mut latencies = Vec::new();
    for i in 0..=WARM_RECORDS {
        let before = probe.records_delivered().await;
        let put = Instant::now();
        dynamodb
            .put_item()
            .table_name("BarkTable")
            .item("Username", AttributeValue::S("bench".into()))
            .item("Timestamp", AttributeValue::S(format!("{i:04}")))
            .item("Message", AttributeValue::S("woof".into()))
            .send()
            .await
            .unwrap();
        probe
            .delivered_after(before, Duration::from_secs(60), &format!("record {i}"))
            .await;
        match first {
            None => first = Some(put.elapsed()),
            Some(_) => latencies.push(put.elapsed()),
        }
    }
    latencies.sort();
    (first.unwrap(), latencies)
}

/// Invoke round trips of fresh functions (each a cold start).
async fn cold_invokes(endpoint: &str, runtime: &str, prefix: &str) -> Vec<Duration> {
    let lambda = common::lambda(endpoint);
    let zip = dynastream_operator::function::zip_files(
        &[(
            "index.js".to_owned(),
            b"exports.handler = async () => 'ok';".to_vec(),
        )]
        .into(),
    )
    .unwrap();
    let mut times = Vec::new();
    for i in 0..COLD_INVOKES {
        let name = format!("{prefix}{i}");
        lambda
            .create_function()
            .function_name(&name)
            .runtime(runtime.into())
            .handler("index.handler")
            .role("arn:aws:iam::000000000000:role/lambda-role")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(zip.clone()))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let started = Instant::now();
        let output = lambda.invoke().function_name(&name).send().await.unwrap();
        assert_eq!(output.function_error(), None, "{name}");
        times.push(started.elapsed());
        lambda
            .delete_function()
            .function_name(&name)
            .send()
            .await
            .unwrap();
    }
    times.sort();
    times
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(what: &str, first: Duration, warm: &[Duration], cold: &[Duration]) {
    let at = |q: f64| ms(warm[((warm.len() as f64 - 1.0) * q).round() as usize]);
    println!(
        "{what:<9} first record (cold environment) {:>7.0} ms | warm put-item to delivered: p50 {:>5.1} ms, p99 {:>5.1} ms, max {:>5.1} ms ({} records) | cold Invoke: {}",
        ms(first),
        at(0.5),
        at(0.99),
        ms(*warm.last().unwrap()),
        warm.len(),
        cold.iter()
            .map(|d| format!("{:.0} ms", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// The process executor: the same debug binary as a local emulator, the bark resources made with the SDK.
async fn process_executor() -> (Duration, Vec<Duration>, Vec<Duration>) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = repo().join("target/debug/dynastream");
    let mut child: Child = Command::new(&binary)
        .args([
            "--port",
            &port.to_string(),
            "--lambda-executor",
            "process",
            "--log",
            "warn",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let endpoint = format!("http://127.0.0.1:{port}");
    let dynamodb = common::dynamodb(&endpoint);
    let started = Instant::now();
    while dynamodb.list_tables().send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the local emulator did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let key = |name: &str, key_type: &str| {
        aws_sdk_dynamodb::types::KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type.into())
            .build()
            .unwrap()
    };
    let attribute = |name: &str| {
        aws_sdk_dynamodb::types::AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type("S".into())
            .build()
            .unwrap()
    };
    let table = dynamodb
        .create_table()
        .table_name("BarkTable")
        .key_schema(key("Username", "HASH"))
        .key_schema(key("Timestamp", "RANGE"))
        .attribute_definitions(attribute("Username"))
        .attribute_definitions(attribute("Timestamp"))
        .billing_mode("PAY_PER_REQUEST".into())
        .stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type("NEW_IMAGE".into())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let stream = table.table_description.unwrap().latest_stream_arn.unwrap();
    let lambda = common::lambda(&endpoint);
    let handler = std::fs::read(repo().join("examples/bark/cli/index.js")).unwrap();
    let zip = dynastream_operator::function::zip_files(&[("index.js".to_owned(), handler)].into()).unwrap();
    lambda
        .create_function()
        .function_name("publishNewBark")
        .runtime("nodejs16.x".into())
        .handler("index.handler")
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mapping = lambda
        .create_event_source_mapping()
        .function_name("publishNewBark")
        .event_source_arn(stream)
        .batch_size(1)
        .starting_position("TRIM_HORIZON".into())
        .send()
        .await
        .unwrap();
    let (first, warm) = warm_deliveries(&endpoint, mapping.uuid().unwrap()).await;
    let cold = cold_invokes(&endpoint, "nodejs16.x", "cold").await;
    let _ = child.kill();
    let _ = child.wait();
    (first, warm, cold)
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "pods: a benchmark; run it with `cargo test -p dynastream-operator --bench pods -- --bench`"
        );
        return;
    }
    let Some(cluster) = dynastream_testenv::cluster() else {
        return;
    };
    let client = cluster.client().await;
    let node = runtime_image(cluster, "nodejs");
    let values = json!({ "runtimeImages": { "nodejs16.x": node } });
    let release = install(cluster, workload(cluster, "bench").await, values).await;
    let ns = release.workload();
    let mapping = apply_bark(cluster, &client, &ns).await.mapping;
    let endpoint = emulator_endpoint(&client, &ns).await;
    let (first, warm) = warm_deliveries(&endpoint, mapping["uuid"].as_str().unwrap()).await;
    let pods_cold = cold_invokes(&endpoint, "nodejs16.x", "cold").await;
    let (p_first, p_warm, p_cold) = process_executor().await;
    println!("stream record to handler, {WARM_RECORDS} warm records each, debug builds, from the host:");
    report("pods", first, &warm, &pods_cold);
    report("processes", p_first, &p_warm, &p_cold);
    drop(release);
}
