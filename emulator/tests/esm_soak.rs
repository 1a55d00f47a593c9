//! Bounded soak and record age: 20,000 writes across many keys reach the handler at least once and in per-key
//! order (with no duplicates, since nothing fails), and records older than MaximumRecordAgeInSeconds are
//! discarded with AWS's failure record instead of being delivered.

mod common;

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::{AttributeValue as Av, PutRequest, StreamViewType, WriteRequest};
use aws_sdk_lambda::types::{Environment, EventSourcePosition, Runtime};
use common::{TestEmulator, complete_lines, create_function, table_with_stream, unique};

const HANDLER: &str = r#"
import json, os

def handler(event, context):
    with open(os.environ['OUT'], 'a') as f:
        for record in event['Records']:
            image = record['dynamodb']['NewImage']
            f.write(image['pk']['S'] + ' ' + image['n']['N'] + '\n')
    return len(event['Records'])
"#;

async fn table_and_function(emulator: &TestEmulator, out: &std::path::Path) -> (String, String, String) {
    let table = unique("soak");
    let stream_arn = table_with_stream(&emulator.dynamodb(), &table, StreamViewType::NewImage).await;
    let function = unique("sink");
    create_function(
        &emulator.lambda(),
        &function,
        Runtime::Python312,
        "app.handler",
        &[("app.py", HANDLER)],
    )
    .timeout(30)
    .environment(
        Environment::builder()
            .variables("OUT", out.display().to_string())
            .build(),
    )
    .send()
    .await
    .unwrap();
    (table, stream_arn, function)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_thousand_writes_arrive_once_each_in_per_key_order() {
    const KEYS: usize = 200;
    const WRITES: usize = 20_000;
    let emulator = TestEmulator::start().await;
    let out = std::env::temp_dir().join(unique("soak-out"));
    let (table, stream_arn, function) = table_and_function(&emulator, &out).await;
    emulator
        .lambda()
        .create_event_source_mapping()
        .function_name(&function)
        .event_source_arn(&stream_arn)
        .batch_size(100)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    // Eight writers, each owning a share of every key's sequence numbers through a shared counter per key, write
    // in batches of 25 (distinct keys per batch, as BatchWriteItem requires).
    let started = Instant::now();
    let mut writers = Vec::new();
    for writer in 0..8usize {
        let (client, table) = (emulator.dynamodb(), table.clone());
        writers.push(tokio::spawn(async move {
            let per_writer = WRITES / 8;
            let mut i = 0;
            while i < per_writer {
                let requests: Vec<WriteRequest> = (i..(i + 25).min(per_writer))
                    .map(|j| {
                        let global = writer * per_writer + j;
                        WriteRequest::builder()
                            .put_request(
                                PutRequest::builder()
                                    .item("pk", Av::S(format!("k{}", global % KEYS)))
                                    .item("n", Av::N(global.to_string()))
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                    })
                    .collect();
                i += requests.len();
                client
                    .batch_write_item()
                    .request_items(&table, requests)
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let delivered = loop {
        let text = complete_lines(&out);
        let lines = text.lines().count();
        if lines >= WRITES || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "{WRITES} writes delivered in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_file(&out);
    // The stream's order per key is the writes' order; delivery must follow it exactly.
    let records = common::read_all(&emulator.streams(), &stream_arn).await;
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for record in &records {
        let image = record.dynamodb().unwrap().new_image().unwrap();
        expected
            .entry(image["pk"].as_s().unwrap().clone())
            .or_default()
            .push(image["n"].as_n().unwrap().clone());
    }
    let mut got: HashMap<String, Vec<String>> = HashMap::new();
    for line in delivered.lines() {
        let (key, n) = line.split_once(' ').unwrap();
        got.entry(key.to_owned()).or_default().push(n.to_owned());
    }
    assert_eq!(records.len(), WRITES);
    assert_eq!(
        delivered.lines().count(),
        WRITES,
        "every record once: nothing failed, so no duplicates"
    );
    assert_eq!(got, expected, "per-key order equals write order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_older_than_maximum_record_age_are_discarded_not_delivered() {
    let emulator = TestEmulator::start().await;
    let out = std::env::temp_dir().join(unique("age-out"));
    let (table, stream_arn, function) = table_and_function(&emulator, &out).await;
    emulator
        .dynamodb()
        .put_item()
        .table_name(&table)
        .item("pk", Av::S("old".into()))
        .item("n", Av::N("1".into()))
        .send()
        .await
        .unwrap();
    // NB: AWS's smallest record age is 60 s; the record must be older than that when the mapping reads it.
    tokio::time::sleep(Duration::from_secs(62)).await;
    let uuid = emulator
        .lambda()
        .create_event_source_mapping()
        .function_name(&function)
        .event_source_arn(&stream_arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .maximum_record_age_in_seconds(60)
        .send()
        .await
        .unwrap()
        .uuid
        .unwrap();
    // "new" is written only once "old" was discarded: written earlier, it could join "old" in one batch, and a
    // batch is discarded whole when its oldest record is too old.
    let inspection = format!("/_dynastream/event-source-mappings/{uuid}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = emulator.raw("GET", &inspection, &[], b"").await.json();
        if health["recordsDiscarded"].as_u64() >= Some(1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the mapping did not discard the old record: {health}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    emulator
        .dynamodb()
        .put_item()
        .table_name(&table)
        .item("pk", Av::S("new".into()))
        .item("n", Av::N("2".into()))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = complete_lines(&out);
        if !text.is_empty() || Instant::now() > deadline {
            assert_eq!(text, "new 2\n", "only the fresh record was delivered");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let health = emulator.raw("GET", &inspection, &[], b"").await.json();
    assert_eq!(health["recordsDiscarded"], 1);
    assert_eq!(
        health["failureRecords"][0]["requestContext"]["condition"],
        "RecordAgeExceeded"
    );
    let _ = std::fs::remove_file(&out);
}
