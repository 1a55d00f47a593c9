//! The DynamoDB Streams API through the official SDK and the AWS CLI v2: ListStreams, DescribeStream,
//! GetShardIterator and GetRecords, their paging, positions and AWS's errors.

mod common;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue as Av, StreamSpecification, StreamViewType},
};
use aws_sdk_dynamodbstreams::types::{ShardIteratorType, StreamStatus};
use common::{TestEmulator, aws, error_of, stream_on, table_with_stream, unique};

async fn put(client: &Client, table: &str, pk: &str) {
    client
        .put_item()
        .table_name(table)
        .item("pk", Av::S(pk.into()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_streams_filters_by_table_and_pages() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let mut arns = Vec::new();
    for i in 0..3 {
        arns.push(table_with_stream(&client, &format!("listed-{i}"), StreamViewType::NewImage).await);
    }
    let all = streams.list_streams().send().await.unwrap();
    assert_eq!(all.streams().len(), 3);
    assert_eq!(all.streams()[0].table_name(), Some("listed-0"));
    assert_eq!(all.streams()[0].stream_arn(), Some(arns[0].as_str()));
    assert_eq!(all.streams()[0].stream_label(), arns[0].rsplit('/').next());
    let one = streams
        .list_streams()
        .table_name("listed-1")
        .send()
        .await
        .unwrap();
    assert_eq!(one.streams().len(), 1);
    let first = streams.list_streams().limit(2).send().await.unwrap();
    assert_eq!(first.streams().len(), 2);
    assert_eq!(first.last_evaluated_stream_arn(), Some(arns[1].as_str()));
    let rest = streams
        .list_streams()
        .exclusive_start_stream_arn(first.last_evaluated_stream_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.streams().len(), 1);
    assert!(rest.last_evaluated_stream_arn().is_none());
}

#[tokio::test]
async fn describe_stream_shows_status_view_key_schema_and_open_shard() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("described");
    let arn = table_with_stream(&client, &table, StreamViewType::NewImage).await;
    let description = streams.describe_stream().stream_arn(&arn).send().await.unwrap();
    let description = description.stream_description().unwrap();
    assert_eq!(description.stream_status(), Some(&StreamStatus::Enabled));
    assert_eq!(
        description.stream_view_type().map(|v| v.as_str()),
        Some("NEW_IMAGE")
    );
    assert_eq!(description.table_name(), Some(table.as_str()));
    assert_eq!(description.key_schema()[0].attribute_name(), "pk");
    let shard = &description.shards()[0];
    let id = shard.shard_id().unwrap();
    assert!(id.starts_with("shardId-") && id.len() == 37, "{id}");
    assert!(shard.parent_shard_id().is_none());
    assert!(
        shard
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .is_none(),
        "the shard is open"
    );
    assert!(description.creation_request_date_time().is_some());

    let (code, message) = error_of(
        streams
            .describe_stream()
            .stream_arn(format!(
                "arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/2000-01-01T00:00:00.000"
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ResourceNotFoundException");
    assert!(message.starts_with("Requested resource not found: Stream: arn:aws:dynamodb"));
    let (code, message) = error_of(
        streams
            .describe_stream()
            .stream_arn("not-an-arn-but-long-enough-to-pass-length")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationException", "Invalid StreamArn")
    );
}

#[tokio::test]
async fn iterator_types_start_where_aws_says() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("positions");
    let arn = table_with_stream(&client, &table, StreamViewType::NewImage).await;
    for pk in ["a", "b", "c"] {
        put(&client, &table, pk).await;
    }
    let shard = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap()
        .shards()[0]
        .shard_id()
        .unwrap()
        .to_owned();
    let iterator = |kind: ShardIteratorType, sequence: Option<String>| {
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence)
            .send()
    };
    let read = |iterator: String| streams.get_records().shard_iterator(iterator).send();
    let keys = |records: &[aws_sdk_dynamodbstreams::types::Record]| -> Vec<String> {
        records
            .iter()
            .map(|r| {
                r.dynamodb().unwrap().keys().unwrap()["pk"]
                    .as_s()
                    .unwrap()
                    .clone()
            })
            .collect()
    };

    let horizon = read(
        iterator(ShardIteratorType::TrimHorizon, None)
            .await
            .unwrap()
            .shard_iterator
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(keys(horizon.records()), ["a", "b", "c"]);
    let second = horizon.records()[1]
        .dynamodb()
        .unwrap()
        .sequence_number()
        .unwrap()
        .to_owned();
    let at = read(
        iterator(ShardIteratorType::AtSequenceNumber, Some(second.clone()))
            .await
            .unwrap()
            .shard_iterator
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(keys(at.records()), ["b", "c"]);
    let after = read(
        iterator(ShardIteratorType::AfterSequenceNumber, Some(second))
            .await
            .unwrap()
            .shard_iterator
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(keys(after.records()), ["c"]);

    let latest = read(
        iterator(ShardIteratorType::Latest, None)
            .await
            .unwrap()
            .shard_iterator
            .unwrap(),
    )
    .await
    .unwrap();
    assert!(latest.records().is_empty());
    let next = latest
        .next_shard_iterator()
        .expect("an open shard always has a next iterator")
        .to_owned();
    put(&client, &table, "d").await;
    let fresh = read(next).await.unwrap();
    assert_eq!(keys(fresh.records()), ["d"]);

    let limited = read(
        iterator(ShardIteratorType::TrimHorizon, None)
            .await
            .unwrap()
            .shard_iterator
            .unwrap(),
    );
    let _ = limited.await.unwrap();
    let page = streams
        .get_records()
        .shard_iterator(
            iterator(ShardIteratorType::TrimHorizon, None)
                .await
                .unwrap()
                .shard_iterator
                .unwrap(),
        )
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(keys(page.records()), ["a", "b"]);
    let rest = read(page.next_shard_iterator().unwrap().to_owned())
        .await
        .unwrap();
    assert_eq!(keys(rest.records()), ["c", "d"]);
}

#[tokio::test]
async fn iterator_and_records_validation_uses_aws_messages() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("invalid");
    let arn = table_with_stream(&client, &table, StreamViewType::NewImage).await;
    let shard = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap()
        .shards()[0]
        .shard_id()
        .unwrap()
        .to_owned();
    let (code, message) = error_of(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationException", "Invalid SequenceNumber")
    );
    let (_, message) = error_of(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::Latest)
            .sequence_number("100000000000000000000")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "SequenceNumber should not be passed for this iterator type"
    );
    let (code, message) = error_of(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id("shardId-00000000000000000000-00000000")
            .shard_iterator_type(ShardIteratorType::Latest)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceNotFoundException",
            "Requested resource not found: Shard does not exist"
        )
    );
    let (code, message) = error_of(streams.get_records().shard_iterator("garbage").send().await).await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationException", "Invalid ShardIterator")
    );
    let iterator = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let (_, message) = error_of(
        streams
            .get_records()
            .shard_iterator(&iterator)
            .limit(1001)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value \
         less than or equal to 1000"
    );
}

#[tokio::test]
async fn disabled_stream_stays_readable_and_closed_shard_ends() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("disabled");
    let arn = table_with_stream(&client, &table, StreamViewType::NewImage).await;
    put(&client, &table, "a").await;
    client
        .update_table()
        .table_name(&table)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    put(&client, &table, "b").await;
    let description = streams.describe_stream().stream_arn(&arn).send().await.unwrap();
    let description = description.stream_description().unwrap();
    assert_eq!(description.stream_status(), Some(&StreamStatus::Disabled));
    let shard = &description.shards()[0];
    assert!(
        shard
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .is_some(),
        "the shard is closed"
    );
    let page = streams
        .get_records()
        .shard_iterator(
            streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id().unwrap())
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.records().len(),
        1,
        "the change after disabling was not captured"
    );
    assert!(
        page.next_shard_iterator().is_none(),
        "a drained closed shard has no next iterator"
    );
    assert_eq!(
        streams
            .list_streams()
            .table_name(&table)
            .send()
            .await
            .unwrap()
            .streams()
            .len(),
        1
    );

    let again = client
        .update_table()
        .table_name(&table)
        .stream_specification(stream_on(StreamViewType::KeysOnly))
        .send()
        .await
        .unwrap();
    assert_ne!(
        again.table_description().unwrap().latest_stream_arn(),
        Some(arn.as_str())
    );
    assert_eq!(
        streams
            .list_streams()
            .table_name(&table)
            .send()
            .await
            .unwrap()
            .streams()
            .len(),
        2
    );

    client.delete_table().table_name(&table).send().await.unwrap();
    let listed = streams.list_streams().table_name(&table).send().await.unwrap();
    assert_eq!(
        listed.streams().len(),
        2,
        "streams outlive their table until retention ends"
    );
    for stream in listed.streams() {
        let status = streams
            .describe_stream()
            .stream_arn(stream.stream_arn().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            status.stream_description().unwrap().stream_status(),
            Some(&StreamStatus::Disabled)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_reads_the_stream_as_the_guide_does() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = unique("BarkTable");
    let arn = table_with_stream(&client, &table, StreamViewType::NewImage).await;
    put(&client, &table, "Jane Doe").await;
    let Some(listed) = aws(&emulator, &["dynamodbstreams", "list-streams"]).await else {
        return;
    };
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["Streams"][0]["StreamArn"], arn);
    assert_eq!(listed["Streams"][0]["TableName"], table);
    let described = aws(
        &emulator,
        &["dynamodbstreams", "describe-stream", "--stream-arn", &arn],
    )
    .await
    .unwrap();
    let described: serde_json::Value = serde_json::from_slice(&described.stdout).unwrap();
    assert_eq!(described["StreamDescription"]["StreamStatus"], "ENABLED");
    let shard = described["StreamDescription"]["Shards"][0]["ShardId"]
        .as_str()
        .unwrap()
        .to_owned();
    let iterator = aws(
        &emulator,
        &[
            "dynamodbstreams",
            "get-shard-iterator",
            "--stream-arn",
            &arn,
            "--shard-id",
            &shard,
            "--shard-iterator-type",
            "TRIM_HORIZON",
        ],
    )
    .await
    .unwrap();
    let iterator: serde_json::Value = serde_json::from_slice(&iterator.stdout).unwrap();
    let records = aws(
        &emulator,
        &[
            "dynamodbstreams",
            "get-records",
            "--shard-iterator",
            iterator["ShardIterator"].as_str().unwrap(),
        ],
    )
    .await
    .unwrap();
    assert!(
        records.status.success(),
        "{}",
        String::from_utf8_lossy(&records.stderr)
    );
    let records: serde_json::Value = serde_json::from_slice(&records.stdout).unwrap();
    assert_eq!(records["Records"][0]["eventName"], "INSERT");
    assert_eq!(records["Records"][0]["dynamodb"]["Keys"]["pk"]["S"], "Jane Doe");
}

#[tokio::test]
async fn trimmed_records_and_expired_iterators_get_aws_errors() {
    use dynastream::{server::Settings, streams::StreamSettings};
    let emulator = TestEmulator::start_with(Settings {
        streams: StreamSettings {
            retention: std::time::Duration::from_millis(100),
            ..StreamSettings::default()
        },
        ..Settings::default()
    })
    .await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("trimmed");
    let arn = table_with_stream(&client, &table, StreamViewType::NewImage).await;
    put(&client, &table, "old").await;
    let description = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap();
    let first_shard = &description.shards()[0];
    let shard = first_shard.shard_id().unwrap().to_owned();
    let starting: u128 = first_shard
        .sequence_number_range()
        .unwrap()
        .starting_sequence_number()
        .unwrap()
        .parse()
        .unwrap();
    // "old" is the shard's first record. An iterator at it is built rather than requested: by the time a
    // GetShardIterator call is served on a loaded machine, the 100 ms retention may already have trimmed "old",
    // and TRIM_HORIZON would then point past it.
    let early = dynastream::streams::store::ShardIterator {
        stream_arn: arn.clone(),
        shard_id: shard.clone(),
        position: starting,
        issued_ms: jiff::Timestamp::now().as_millisecond(),
    }
    .encode();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    put(&client, &table, "new").await;
    let (code, message) = error_of(streams.get_records().shard_iterator(&early).send().await).await;
    assert_eq!(code, "TrimmedDataAccessException");
    assert_eq!(
        message,
        "The operation attempted to read past the oldest stream record in a shard."
    );

    let stale = dynastream::streams::store::ShardIterator {
        stream_arn: arn.clone(),
        shard_id: shard.clone(),
        position: 0,
        issued_ms: jiff::Timestamp::now().as_millisecond() - 16 * 60 * 1000,
    };
    let (code, message) = error_of(streams.get_records().shard_iterator(stale.encode()).send().await).await;
    assert_eq!(code, "ExpiredIteratorException");
    assert_eq!(message, "The provided iterator exceeds the maximum age allowed.");
}
