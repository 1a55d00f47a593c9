//! Event source mappings deliver DynamoDB stream records to real handlers with AWS's semantics: order per key,
//! retries that block the shard, bisection, partial batch failures, filters, disable/enable and deletion.
//!
//! The handlers (python) append what they receive to a file the test reads: the process executor runs them on
//! this machine, so the file is shared.

mod common;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::{AttributeValue as Av, StreamViewType};
use aws_sdk_lambda::types::{
    Environment, EventSourcePosition, Filter, FilterCriteria, FunctionResponseType, Runtime,
};
use common::{TestEmulator, complete_lines, create_function, table_with_stream, unique};
use serde_json::Value;

const HANDLER: &str = r#"
import json, os

def handler(event, context):
    out = os.environ['OUT']
    keys = [r['dynamodb']['Keys']['pk']['S'] for r in event['Records']]
    with open(out + '.calls', 'a') as calls:
        calls.write(json.dumps(keys) + '\n')
    for record in event['Records']:
        pk = record['dynamodb']['Keys']['pk']['S']
        if pk.startswith('poison'):
            raise ValueError('poison ' + pk)
        if pk.startswith('flaky') and not os.path.exists(out + '.' + pk):
            open(out + '.' + pk, 'w').close()
            raise ValueError('first attempt of ' + pk + ' fails')
        if pk.startswith('crash') and not os.path.exists(out + '.' + pk):
            open(out + '.' + pk, 'w').close()
            os._exit(1)
    if os.environ.get('PARTIAL') == '1':
        for record in event['Records']:
            pk = record['dynamodb']['Keys']['pk']['S']
            if pk.startswith('partial') and not os.path.exists(out + '.' + pk):
                open(out + '.' + pk, 'w').close()
                delivered(out, event['Records'][:event['Records'].index(record)])
                return {'batchItemFailures': [{'itemIdentifier': record['dynamodb']['SequenceNumber']}]}
    delivered(out, event['Records'])
    return 'ok'

def delivered(out, records):
    with open(out, 'a') as f:
        for record in records:
            image = record['dynamodb'].get('NewImage', {})
            f.write(json.dumps({'pk': record['dynamodb']['Keys']['pk']['S'], 'event': record['eventName'],
                                'n': image.get('n', {}).get('N'), 'source': record['eventSourceARN']}) + '\n')
"#;

struct Setup {
    emulator: TestEmulator,
    table: String,
    stream_arn: String,
    function: String,
    out: PathBuf,
}

async fn setup(partial: bool) -> Setup {
    let emulator = TestEmulator::start().await;
    let (dynamodb, lambda) = (emulator.dynamodb(), emulator.lambda());
    let table = unique("esm");
    let stream_arn = table_with_stream(&dynamodb, &table, StreamViewType::NewImage).await;
    let out = std::env::temp_dir().join(unique("esm-out"));
    let function = unique("consumer");
    let mut environment = Environment::builder().variables("OUT", out.display().to_string());
    if partial {
        environment = environment.variables("PARTIAL", "1");
    }
    create_function(
        &lambda,
        &function,
        Runtime::Python312,
        "app.handler",
        &[("app.py", HANDLER)],
    )
    .timeout(10)
    .environment(environment.build())
    .send()
    .await
    .unwrap();
    Setup {
        emulator,
        table,
        stream_arn,
        function,
        out,
    }
}

impl Setup {
    async fn put(&self, pk: &str, n: u32) {
        self.emulator
            .dynamodb()
            .put_item()
            .table_name(&self.table)
            .item("pk", Av::S(pk.into()))
            .item("n", Av::N(n.to_string()))
            .send()
            .await
            .unwrap();
    }

    /// Delivered records, waiting until at least `count` arrived (or a deadline passed).
    async fn delivered(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let lines: Vec<Value> = complete_lines(&self.out)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            if lines.len() >= count || Instant::now() > deadline {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The mapping's health once it has counted `count` delivered records: the handler's
    /// output appears before the invoke returns, so the mapping's bookkeeping trails it.
    async fn settled(&self, uuid: &str, count: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health = self.inspection(uuid).await;
            if health["recordsDelivered"].as_u64() >= Some(count) || Instant::now() > deadline {
                return health;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn inspection(&self, uuid: &str) -> Value {
        self.emulator
            .raw(
                "GET",
                &format!("/_dynastream/event-source-mappings/{uuid}"),
                &[],
                b"",
            )
            .await
            .json()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        for suffix in ["", ".calls"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.out.display()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_item_reaches_the_handler_and_mapping_reports_ok() {
    let setup = setup(false).await;
    let lambda = setup.emulator.lambda();
    let created = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(1)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    assert_eq!(created.state(), Some("Creating"));
    assert_eq!(created.event_source_arn(), Some(setup.stream_arn.as_str()));
    assert_eq!(
        created.function_arn(),
        Some(
            format!(
                "arn:aws:lambda:us-east-1:000000000000:function:{}",
                setup.function
            )
            .as_str()
        )
    );
    assert!(created.function_response_types().is_empty());
    assert_eq!(created.last_processing_result(), Some("No records processed"));
    assert_eq!(created.batch_size(), Some(1));
    let uuid = created.uuid().unwrap().to_owned();
    setup.put("Jane Doe", 1).await;
    let delivered = setup.delivered(1).await;
    assert_eq!(delivered[0]["pk"], "Jane Doe");
    assert_eq!(delivered[0]["event"], "INSERT");
    assert_eq!(delivered[0]["source"], setup.stream_arn.as_str());
    let health = setup.settled(&uuid, 1).await;
    assert_eq!(health["recordsDelivered"], 1);
    assert_eq!(health["lastBatchResult"], "OK");
    let mapping = lambda
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(mapping.state(), Some("Enabled"));
    assert_eq!(mapping.last_processing_result(), Some("OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_are_delivered_in_per_key_order() {
    let setup = setup(false).await;
    setup
        .emulator
        .lambda()
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(10)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    let mut writers = Vec::new();
    for writer in 0..4 {
        let client = setup.emulator.dynamodb();
        let table = setup.table.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..25u32 {
                client
                    .put_item()
                    .table_name(&table)
                    .item("pk", Av::S(format!("key-{}", (writer + n) % 5)))
                    .item("n", Av::N(format!("{}", writer * 1000 + n)))
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let delivered = setup.delivered(100).await;
    assert_eq!(
        delivered.len(),
        100,
        "every write delivered exactly once (no failures happened)"
    );
    // The stream's order per key is write order; each writer's values for a key increase.
    let records = common::read_all(&setup.emulator.streams(), &setup.stream_arn).await;
    let stream_order: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            let d = r.dynamodb().unwrap();
            (
                d.keys().unwrap()["pk"].as_s().unwrap().clone(),
                d.new_image().unwrap()["n"].as_n().unwrap().clone(),
            )
        })
        .collect();
    for key in 0..5 {
        let key = format!("key-{key}");
        let expected: Vec<&String> = stream_order
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, n)| n)
            .collect();
        let got: Vec<&str> = delivered
            .iter()
            .filter(|d| d["pk"] == key.as_str())
            .map(|d| d["n"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_batch_blocks_the_shard_until_a_retry_succeeds() {
    let setup = setup(false).await;
    setup
        .emulator
        .lambda()
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(1)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    setup.put("flaky-1", 1).await;
    setup.put("after", 2).await;
    let delivered = setup.delivered(2).await;
    let keys: Vec<&str> = delivered.iter().map(|d| d["pk"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["flaky-1", "after"],
        "the later record waited for the failing one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bisection_isolates_a_poison_record_which_is_discarded_with_a_failure_record() {
    let setup = setup(false).await;
    for (i, pk) in ["a", "b", "poison-c", "d"].iter().enumerate() {
        setup.put(pk, i as u32).await;
    }
    let uuid = setup
        .emulator
        .lambda()
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(4)
        .starting_position(EventSourcePosition::TrimHorizon)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(0)
        .send()
        .await
        .unwrap()
        .uuid
        .unwrap();
    let delivered = setup.delivered(3).await;
    let keys: Vec<&str> = delivered.iter().map(|d| d["pk"].as_str().unwrap()).collect();
    assert_eq!(keys, ["a", "b", "d"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let health = loop {
        let health = setup.inspection(&uuid).await;
        if health["recordsDiscarded"] == 1 || Instant::now() > deadline {
            break health;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(health["recordsDiscarded"], 1);
    let failure = &health["failureRecords"][0];
    assert_eq!(failure["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(failure["DDBStreamBatchInfo"]["batchSize"], 1);
    assert_eq!(
        failure["DDBStreamBatchInfo"]["streamArn"],
        setup.stream_arn.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_item_failure_redelivers_from_that_record() {
    let setup = setup(true).await;
    for (i, pk) in ["first", "partial-x", "third"].iter().enumerate() {
        setup.put(pk, i as u32).await;
    }
    setup
        .emulator
        .lambda()
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(3)
        .starting_position(EventSourcePosition::TrimHorizon)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .unwrap();
    let delivered = setup.delivered(3).await;
    let keys: Vec<&str> = delivered.iter().map(|d| d["pk"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["first", "partial-x", "third"],
        "the retry started at the failed record"
    );
    let calls = std::fs::read_to_string(format!("{}.calls", setup.out.display())).unwrap();
    let calls: Vec<Vec<String>> = calls.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(calls[0], ["first", "partial-x", "third"]);
    assert_eq!(calls[1], ["partial-x", "third"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_crash_mid_batch_redelivers_the_batch() {
    let setup = setup(false).await;
    setup.put("before", 0).await;
    setup.put("crash-1", 1).await;
    setup
        .emulator
        .lambda()
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(2)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    let delivered = setup.delivered(2).await;
    let keys: Vec<&str> = delivered.iter().map(|d| d["pk"].as_str().unwrap()).collect();
    assert_eq!(keys, ["before", "crash-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_criteria_deliver_only_matching_records() {
    let setup = setup(false).await;
    let lambda = setup.emulator.lambda();
    lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(1)
        .starting_position(EventSourcePosition::TrimHorizon)
        .filter_criteria(
            FilterCriteria::builder()
                .filters(
                    Filter::builder()
                        .pattern(r#"{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "keep"}]}}}}"#)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    setup.put("drop-1", 1).await;
    setup.put("keep-1", 2).await;
    setup.put("drop-2", 3).await;
    setup.put("keep-2", 4).await;
    let delivered = setup.delivered(2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let delivered_after = setup.delivered(2).await;
    let keys: Vec<&str> = delivered_after
        .iter()
        .map(|d| d["pk"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["keep-1", "keep-2"]);
    assert_eq!(delivered.len(), 2);
    let invalid = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .starting_position(EventSourcePosition::Latest)
        .filter_criteria(
            FilterCriteria::builder()
                .filters(Filter::builder().pattern("{not json").build())
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(invalid.is_invalid_parameter_value_exception());
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(&invalid),
        Some("Invalid filter pattern definition.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_mapping_resumes_where_it_stopped_and_deleted_one_stops() {
    let setup = setup(false).await;
    let lambda = setup.emulator.lambda();
    let uuid = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(1)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap()
        .uuid
        .unwrap();
    setup.put("one", 1).await;
    setup.delivered(1).await;
    let disabled = lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.state(), Some("Disabling"));
    assert_eq!(
        lambda
            .get_event_source_mapping()
            .uuid(&uuid)
            .send()
            .await
            .unwrap()
            .state(),
        Some("Disabled")
    );
    setup.put("two", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        setup.delivered(1).await.len(),
        1,
        "nothing is delivered while disabled"
    );
    lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(true)
        .send()
        .await
        .unwrap();
    let delivered = setup.delivered(2).await;
    assert_eq!(delivered[1]["pk"], "two", "delivery resumed where it stopped");
    let deleted = lambda
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.state(), Some("Deleting"));
    setup.put("three", 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        setup.delivered(2).await.len(),
        2,
        "nothing is delivered after deletion"
    );
    let gone = lambda
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(gone.is_resource_not_found_exception());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_tags_are_set_at_creation_and_changed_through_the_tag_operations() {
    let setup = setup(false).await;
    let lambda = setup.emulator.lambda();
    let created = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .tags("team", "barks")
        .send()
        .await
        .unwrap();
    let arn = created.event_source_mapping_arn().unwrap().to_owned();
    let tags = |listed: aws_sdk_lambda::operation::list_tags::ListTagsOutput| {
        listed
            .tags()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect::<Vec<_>>()
    };
    let listed = lambda.list_tags().resource(&arn).send().await.unwrap();
    assert_eq!(tags(listed), [("team".to_owned(), "barks".to_owned())]);
    lambda
        .tag_resource()
        .resource(&arn)
        .tags("stage", "dev")
        .send()
        .await
        .unwrap();
    lambda
        .untag_resource()
        .resource(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let listed = lambda.list_tags().resource(&arn).send().await.unwrap();
    assert_eq!(tags(listed), [("stage".to_owned(), "dev".to_owned())]);

    let err = lambda
        .list_tags()
        .resource(arn.replace(created.uuid().unwrap(), "00000000-0000-4000-8000-000000000000"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // An option dynastream does not implement is refused by name, and nothing is created.
    let err = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .starting_position(EventSourcePosition::Latest)
        .metrics_config(
            aws_sdk_lambda::types::EventSourceMappingMetricsConfig::builder()
                .metrics(aws_sdk_lambda::types::EventSourceMappingMetric::EventCount)
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(&err),
        Some("dynastream does not implement MetricsConfig in CreateEventSourceMapping")
    );
    let listed = lambda
        .list_event_source_mappings()
        .function_name(&setup.function)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.event_source_mappings().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_api_validation_uses_aws_messages() {
    let setup = setup(false).await;
    let lambda = setup.emulator.lambda();
    let message = |err: aws_sdk_lambda::error::SdkError<
        aws_sdk_lambda::operation::create_event_source_mapping::CreateEventSourceMappingError,
    >| {
        let err = err.into_service_error();
        (
            aws_sdk_lambda::error::ProvideErrorMetadata::code(&err)
                .unwrap_or("")
                .to_owned(),
            aws_sdk_lambda::error::ProvideErrorMetadata::message(&err)
                .unwrap_or("")
                .to_owned(),
        )
    };
    let too_big = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .batch_size(10001)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(too_big),
        (
            "ValidationException".to_owned(),
            "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must \
             have value less than or equal to 10000"
                .to_owned()
        )
    );
    let first = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap();
    let duplicate = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(&setup.stream_arn)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(duplicate),
        (
            "ResourceConflictException".to_owned(),
            format!(
                "The event source arn (\" {} \") and function (\" {} \") provided mapping already exists. Please \
                 update or delete the existing mapping with UUID {}",
                setup.stream_arn,
                setup.function,
                first.uuid().unwrap()
            )
        )
    );
    let missing = lambda
        .create_event_source_mapping()
        .function_name("missing")
        .event_source_arn(&setup.stream_arn)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(missing),
        (
            "ResourceNotFoundException".to_owned(),
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing".to_owned()
        )
    );
    let listed = lambda
        .list_event_source_mappings()
        .function_name(&setup.function)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.event_source_mappings().len(), 1);
    let queue = "arn:aws:sqs:us-east-1:000000000000:orders";
    let sqs = lambda
        .create_event_source_mapping()
        .function_name(&setup.function)
        .event_source_arn(queue)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(sqs),
        (
            "InvalidParameterValueException".to_owned(),
            format!(
                "Event source mappings for sqs are not implemented by dynastream, only for DynamoDB streams. Event \
                 source arn: {queue}"
            )
        )
    );
    let unknown = lambda
        .get_event_source_mapping()
        .uuid("00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .unwrap_err();
    let unknown = unknown.into_service_error();
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(&unknown),
        Some("The resource you requested does not exist.")
    );
}

const WINDOW_HANDLER: &str = r#"
import json, os

def handler(event, context):
    count = event.get('state', {}).get('count', 0) + len(event['Records'])
    with open(os.environ['OUT'], 'a') as f:
        f.write(json.dumps({'final': event['isFinalInvokeForWindow'], 'records': len(event['Records']),
                            'count': count, 'window': event['window'], 'shard': event['shardId'],
                            'source': event['eventSourceARN']}) + '\n')
    return {'state': {'count': count}}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tumbling_window_carries_state_and_ends_with_a_final_invocation() {
    const WINDOW: i64 = 3;
    let mut attempt = 0;
    let (setup, window) = loop {
        attempt += 1;
        let setup = setup(false).await;
        let lambda = setup.emulator.lambda();
        let windowed = unique("windowed");
        create_function(
            &lambda,
            &windowed,
            Runtime::Python312,
            "app.handler",
            &[("app.py", WINDOW_HANDLER)],
        )
        .timeout(10)
        .environment(
            Environment::builder()
                .variables("OUT", setup.out.display().to_string())
                .build(),
        )
        .send()
        .await
        .unwrap();
        let uuid = lambda
            .create_event_source_mapping()
            .function_name(&windowed)
            .event_source_arn(&setup.stream_arn)
            .batch_size(1)
            .starting_position(EventSourcePosition::TrimHorizon)
            .tumbling_window_in_seconds(WINDOW as i32)
            .send()
            .await
            .unwrap()
            .uuid
            .unwrap();
        // Start just after a window boundary so the three records share one window.
        let now = jiff::Timestamp::now().as_millisecond();
        let next_boundary = (now / (WINDOW * 1000) + 1) * WINDOW * 1000;
        tokio::time::sleep(Duration::from_millis((next_boundary - now + 100) as u64)).await;
        for i in 0..3 {
            setup.put(&format!("w{i}"), i).await;
        }
        // Windows are assigned by the records' creation time (whole seconds). A loaded machine can stretch the
        // puts across a boundary; that attempt is abandoned and the test starts over on a fresh emulator.
        let windows: Vec<i64> = common::read_all(&setup.emulator.streams(), &setup.stream_arn)
            .await
            .iter()
            .map(|r| {
                let created = r.dynamodb().unwrap().approximate_creation_date_time().unwrap();
                created.secs().div_euclid(WINDOW)
            })
            .collect();
        assert_eq!(windows.len(), 3);
        if windows.iter().all(|w| *w == windows[0]) {
            break (setup, windows[0]);
        }
        assert!(
            attempt < 5,
            "the three puts straddled a window boundary {attempt} times"
        );
        lambda
            .delete_event_source_mapping()
            .uuid(&uuid)
            .send()
            .await
            .unwrap();
    };
    let invocations = setup.delivered(4).await;
    assert_eq!(
        invocations.len(),
        4,
        "three record invocations and the final one: {invocations:?}"
    );
    let counts: Vec<i64> = invocations.iter().map(|i| i["count"].as_i64().unwrap()).collect();
    assert_eq!(
        counts,
        [1, 2, 3, 3],
        "state carried between invocations of the window"
    );
    assert_eq!(invocations[3]["final"], true);
    assert_eq!(invocations[3]["records"], 0);
    assert!(invocations[..3].iter().all(|i| i["final"] == false));
    assert_eq!(invocations[0]["window"], invocations[3]["window"]);
    let start = jiff::Timestamp::from_second(window * WINDOW).unwrap();
    assert_eq!(
        invocations[0]["window"]["start"],
        start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "the window is the one the records were created in"
    );
    assert_eq!(invocations[0]["source"], setup.stream_arn.as_str());
    assert!(invocations[0]["shard"].as_str().unwrap().starts_with("shardId-"));
}
