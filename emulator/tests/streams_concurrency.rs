//! Concurrency: many writers on overlapping keys while a reader follows every shard from TRIM_HORIZON across
//! rollovers. The reader sees each change exactly once, per key in write order, and the final images equal the
//! table's contents.

mod common;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use aws_sdk_dynamodb::types::{AttributeValue as Av, StreamViewType};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use common::{TestEmulator, table_with_stream, unique};
use dynastream::{server::Settings, streams::StreamSettings};

const WRITERS: usize = 8;
const WRITES_PER_WRITER: usize = 150;
const KEYS: usize = 12;

/// Follows the stream from its first shard through every child until `done` is set and the open shard is drained.
async fn follow(
    streams: aws_sdk_dynamodbstreams::Client,
    arn: String,
    done: Arc<AtomicBool>,
) -> (Vec<Record>, usize) {
    let mut records = Vec::new();
    let mut shards_read = 0;
    let first = streams.describe_stream().stream_arn(&arn).send().await.unwrap();
    let mut shard_id = first.stream_description().unwrap().shards()[0]
        .shard_id()
        .unwrap()
        .to_owned();
    loop {
        shards_read += 1;
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard_id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        // Read this shard until it is closed and drained.
        while let Some(current) = iterator {
            let finished = done.load(Ordering::SeqCst);
            let page = streams
                .get_records()
                .shard_iterator(&current)
                .send()
                .await
                .unwrap();
            let empty = page.records().is_empty();
            records.extend(page.records().iter().cloned());
            iterator = page.next_shard_iterator;
            if empty && finished && iterator.is_some() {
                // Writers are done and the open shard has nothing more: the stream is fully read.
                return (records, shards_read);
            }
            if empty {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        // The shard closed: continue with its child.
        let child = loop {
            let description = streams.describe_stream().stream_arn(&arn).send().await.unwrap();
            let child = description
                .stream_description()
                .unwrap()
                .shards()
                .iter()
                .find(|s| s.parent_shard_id() == Some(shard_id.as_str()))
                .map(|s| s.shard_id().unwrap().to_owned());
            if let Some(child) = child {
                break child;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        shard_id = child;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_are_seen_exactly_once_in_per_key_order_across_rollovers() {
    let emulator = TestEmulator::start_with(Settings {
        streams: StreamSettings {
            shard_lifetime: Duration::from_millis(150),
            ..StreamSettings::default()
        },
        ..Settings::default()
    })
    .await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("contended");
    let arn = table_with_stream(&client, &table, StreamViewType::NewImage).await;

    let done = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(follow(streams.clone(), arn.clone(), done.clone()));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (client, table) = (client.clone(), table.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..WRITES_PER_WRITER {
                // Each key's `n` counts its writes, so its records must show 1, 2, 3, ... in order.
                let key = format!("k{}", (writer * 7 + i) % KEYS);
                client
                    .update_item()
                    .table_name(&table)
                    .key("pk", Av::S(key))
                    .update_expression("ADD n :one SET who = :w")
                    .expression_attribute_values(":one", Av::N("1".into()))
                    .expression_attribute_values(":w", Av::S(format!("w{writer}-{i}")))
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let (records, shards_read) = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .unwrap()
        .unwrap();
    assert!(
        shards_read > 1,
        "the stream rolled over while it was read ({shards_read} shard)"
    );

    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut last_images: HashMap<String, HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>> =
        HashMap::new();
    for record in &records {
        let data = record.dynamodb().unwrap();
        let key = data.keys().unwrap()["pk"].as_s().unwrap().clone();
        let n: u64 = data.new_image().unwrap()["n"].as_n().unwrap().parse().unwrap();
        let expected = counts.get(&key).copied().unwrap_or(0) + 1;
        assert_eq!(n, expected, "key {key}: no gap, no duplicate, write order");
        counts.insert(key.clone(), n);
        last_images.insert(key, data.new_image().unwrap().clone());
    }
    assert_eq!(
        records.len(),
        WRITERS * WRITES_PER_WRITER,
        "every change exactly once"
    );
    for (key, image) in last_images {
        let item = client
            .get_item()
            .table_name(&table)
            .key("pk", Av::S(key.clone()))
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(item["n"].as_n().unwrap(), image["n"].as_n().unwrap(), "{key}");
        assert_eq!(item["who"].as_s().unwrap(), image["who"].as_s().unwrap(), "{key}");
    }
}
