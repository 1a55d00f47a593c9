//! Time to live through the official AWS SDK for Rust: UpdateTimeToLive and DescribeTimeToLive with AWS's
//! errors, and the sweeper that deletes expired items in the background.

mod common;

use std::{
    collections::HashMap,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeValue, BillingMode, GlobalSecondaryIndex, KeyType, Projection, ProjectionType,
        ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
    },
};
use common::{TestEmulator, attr, error_of, items::get, key, n, pk_table, s, unique, validation};
use dynastream::server::Settings;

/// A sweep interval short enough that tests wait milliseconds, not seconds.
const FAST_SWEEPS: Duration = Duration::from_millis(50);
/// How long a test waits for the sweeper before it fails.
const DEADLINE: Duration = Duration::from_secs(10);

async fn fast_sweeping_emulator() -> TestEmulator {
    TestEmulator::start_with(Settings {
        ttl_sweep_interval: FAST_SWEEPS,
        ..Settings::default()
    })
    .await
}

fn spec(attribute: &str, enabled: bool) -> TimeToLiveSpecification {
    TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(enabled)
        .build()
        .unwrap()
}

async fn set_ttl(client: &Client, table: &str, attribute: &str, enabled: bool) {
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec(attribute, enabled))
        .send()
        .await
        .unwrap();
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn put(client: &Client, table: &str, item: &[(&str, AttributeValue)]) {
    let item: HashMap<String, AttributeValue> =
        item.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

async fn exists(client: &Client, table: &str, pk: &str) -> bool {
    get(client, table, pk).await.is_some()
}

/// Polls until `pk` is gone from `table`; fails the test after [`DEADLINE`].
async fn wait_until_gone(client: &Client, table: &str, pk: &str) {
    let start = Instant::now();
    while exists(client, table, pk).await {
        assert!(
            start.elapsed() < DEADLINE,
            "{pk} was not swept within {DEADLINE:?}"
        );
        tokio::time::sleep(FAST_SWEEPS / 2).await;
    }
}

/// Returns once the sweeper has run a whole sweep that began after this call: it sweeps a fresh expired
/// witness item away twice (the first witness may have been caught by a sweep already under way).
async fn wait_for_a_whole_sweep(client: &Client, witness_table: &str) {
    for round in 0..2 {
        let pk = format!("witness-{round}-{}", unique("w"));
        put(
            client,
            witness_table,
            &[("pk", s(&pk)), ("expires", n(now() - 60))],
        )
        .await;
        wait_until_gone(client, witness_table, &pk).await;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// UpdateTimeToLive and DescribeTimeToLive

#[tokio::test]
async fn new_table_describes_time_to_live_as_disabled_without_attribute() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    let described = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let description = described.time_to_live_description().unwrap();
    assert_eq!(
        description.time_to_live_status(),
        Some(&TimeToLiveStatus::Disabled)
    );
    assert_eq!(description.attribute_name(), None);
}

#[tokio::test]
async fn enabling_time_to_live_echoes_the_specification_and_describes_it_enabled_at_once() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    let updated = client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(spec("expires", true))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.time_to_live_specification(), Some(&spec("expires", true)));
    let described = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let description = described.time_to_live_description().unwrap();
    assert_eq!(
        description.time_to_live_status(),
        Some(&TimeToLiveStatus::Enabled)
    );
    assert_eq!(description.attribute_name(), Some("expires"));
}

#[tokio::test]
async fn update_time_to_live_body_matches_aws_shape() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    let updated = emulator
        .dynamodb_raw(
            "UpdateTimeToLive",
            &format!(r#"{{"TableName":"{table}","TimeToLiveSpecification":{{"AttributeName":"exp","Enabled":true}}}}"#),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(
        updated.json(),
        serde_json::json!({"TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": true}})
    );
    let described = emulator
        .dynamodb_raw("DescribeTimeToLive", &format!(r#"{{"TableName":"{table}"}}"#))
        .await;
    assert_eq!(
        described.json(),
        serde_json::json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}})
    );
}

#[tokio::test]
async fn enabling_time_to_live_again_is_rejected_as_already_enabled() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "expires", true).await;
    let result = client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(spec("expires", true))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        validation("TimeToLive is already enabled")
    );
}

#[tokio::test]
async fn enabling_time_to_live_on_another_attribute_names_the_current_one() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "expires", true).await;
    let result = client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(spec("other", true))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        validation("TimeToLive is active on a different AttributeName: current AttributeName is expires")
    );
}

#[tokio::test]
async fn disabling_time_to_live_that_is_disabled_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    let result = client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(spec("expires", false))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        validation("TimeToLive is already disabled")
    );
}

#[tokio::test]
async fn disabling_time_to_live_must_name_the_attribute_in_use() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "expires", true).await;
    let result = client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(spec("other", false))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        validation("TimeToLive is active on a different AttributeName: current AttributeName is expires")
    );
}

#[tokio::test]
async fn disabled_time_to_live_forgets_its_attribute_and_can_be_enabled_on_another() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "expires", true).await;
    let disabled = client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(spec("expires", false))
        .send()
        .await
        .unwrap();
    assert_eq!(
        disabled.time_to_live_specification(),
        Some(&spec("expires", false))
    );
    let described = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let description = described.time_to_live_description().unwrap();
    assert_eq!(
        description.time_to_live_status(),
        Some(&TimeToLiveStatus::Disabled)
    );
    assert_eq!(description.attribute_name(), None);

    set_ttl(&client, &table, "other", true).await;
    let described = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.time_to_live_description().unwrap().attribute_name(),
        Some("other")
    );
}

#[tokio::test]
async fn time_to_live_on_the_partition_key_is_accepted() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "pk", true).await;
}

#[tokio::test]
async fn time_to_live_of_missing_table_is_resource_not_found_naming_the_table() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let missing = unique("missing");
    let expected = (
        "ResourceNotFoundException".to_owned(),
        format!("Requested resource not found: Table: {missing} not found"),
    );
    let described = client.describe_time_to_live().table_name(&missing).send().await;
    assert_eq!(error_of(described).await, expected);
    let updated = client
        .update_time_to_live()
        .table_name(&missing)
        .time_to_live_specification(spec("expires", true))
        .send()
        .await;
    assert_eq!(error_of(updated).await, expected);
}

#[tokio::test]
async fn time_to_live_attribute_name_longer_than_255_characters_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    let long = "x".repeat(256);
    let result = client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(spec(&long, true))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        validation(&format!(
            "1 validation error detected: Value '{long}' at 'timeToLiveSpecification.attributeName' failed to \
             satisfy constraint: Member must have length less than or equal to 255"
        ))
    );
    set_ttl(&client, &table, &"x".repeat(255), true).await;
}

#[tokio::test]
async fn empty_time_to_live_attribute_name_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    let result = client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(spec("", true))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        validation(
            "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
        )
    );
}

#[tokio::test]
async fn time_to_live_specification_without_its_members_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    let cases = [
        (
            r#"{"Enabled":true}"#,
            "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy \
             constraint: Member must not be null",
        ),
        (
            r#"{"AttributeName":"expires"}"#,
            "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy \
             constraint: Member must not be null",
        ),
    ];
    for (spec, message) in cases {
        let response = emulator
            .dynamodb_raw(
                "UpdateTimeToLive",
                &format!(r#"{{"TableName":"{table}","TimeToLiveSpecification":{spec}}}"#),
            )
            .await;
        assert_eq!(response.status, 400);
        let body = response.json();
        assert_eq!(body["__type"], "com.amazon.coral.validate#ValidationException");
        assert_eq!(body["message"], message, "{spec}");
    }
    let response = emulator
        .dynamodb_raw("UpdateTimeToLive", &format!(r#"{{"TableName":"{table}"}}"#))
        .await;
    assert_eq!(
        response.json()["message"],
        "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[tokio::test]
async fn malformed_time_to_live_request_on_missing_table_is_a_validation_error() {
    let emulator = TestEmulator::start().await;
    let missing = unique("missing");
    let response = emulator
        .dynamodb_raw(
            "UpdateTimeToLive",
            &format!(r#"{{"TableName":"{missing}","TimeToLiveSpecification":{{"Enabled":true}}}}"#),
        )
        .await;
    assert_eq!(
        response.json()["__type"],
        "com.amazon.coral.validate#ValidationException"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// The sweeper

#[tokio::test]
async fn expired_item_is_deleted_by_the_sweeper() {
    let emulator = fast_sweeping_emulator().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "expires", true).await;
    put(&client, &table, &[("pk", s("old")), ("expires", n(now() - 60))]).await;
    wait_until_gone(&client, &table, "old").await;
}

#[tokio::test]
async fn items_that_existed_before_time_to_live_was_enabled_expire_too() {
    let emulator = fast_sweeping_emulator().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    put(
        &client,
        &table,
        &[("pk", s("before")), ("expires", n(now() - 60))],
    )
    .await;
    set_ttl(&client, &table, "expires", true).await;
    wait_until_gone(&client, &table, "before").await;
}

#[tokio::test]
async fn expired_item_is_still_returned_until_swept() {
    // NB: an hour between sweeps: the sweep at start-up has passed before the table exists.
    let emulator = TestEmulator::start_with(Settings {
        ttl_sweep_interval: Duration::from_secs(3600),
        ..Settings::default()
    })
    .await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "expires", true).await;
    let expired = now() - 60;
    put(&client, &table, &[("pk", s("old")), ("expires", n(expired))]).await;
    let got = client
        .get_item()
        .table_name(&table)
        .key("pk", s("old"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().unwrap().get("expires"), Some(&n(expired)));
}

#[tokio::test]
async fn items_that_do_not_expire_survive_the_sweep() {
    let emulator = fast_sweeping_emulator().await;
    let client = emulator.dynamodb();
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "expires", true).await;
    let now = now();
    let survivors: [(&str, Option<AttributeValue>); 6] = [
        ("absent", None),
        ("string", Some(s(&(now - 60).to_string()))),
        ("future", Some(n(now + 3600))),
        ("more-than-five-years-ago", Some(n(162_777_600))),
        ("milliseconds", Some(n((now - 60) * 1000))),
        (
            "number-set",
            Some(AttributeValue::Ns(vec![(now - 60).to_string()])),
        ),
    ];
    for (pk, expires) in &survivors {
        let mut item = vec![("pk", s(pk))];
        if let Some(expires) = expires {
            item.push(("expires", expires.clone()));
        }
        put(&client, &table, &item).await;
    }
    // Put last, so the sweep that deletes it has seen all the others.
    put(
        &client,
        &table,
        &[
            ("pk", s("fractional")),
            ("expires", n(format!("{}.25", now - 60))),
        ],
    )
    .await;
    wait_until_gone(&client, &table, "fractional").await;
    for (pk, _) in &survivors {
        assert!(exists(&client, &table, pk).await, "{pk} was swept");
    }
}

#[tokio::test]
async fn expired_items_of_a_table_with_sort_key_are_deleted() {
    let emulator = fast_sweeping_emulator().await;
    let client = emulator.dynamodb();
    let table = unique("ttl");
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    // The expiry time is the sort key itself.
    set_ttl(&client, &table, "sk", true).await;
    let (expired, future) = (now() - 60, now() + 3600);
    put(&client, &table, &[("pk", s("p")), ("sk", n(future))]).await;
    put(&client, &table, &[("pk", s("p")), ("sk", n(expired))]).await;
    let exists = |sk: i64| {
        let client = client.clone();
        let table = table.clone();
        async move {
            client
                .get_item()
                .table_name(&table)
                .key("pk", s("p"))
                .key("sk", n(sk))
                .send()
                .await
                .unwrap()
                .item()
                .is_some()
        }
    };
    let start = Instant::now();
    while exists(expired).await {
        assert!(start.elapsed() < DEADLINE, "the expired item was not swept");
        tokio::time::sleep(FAST_SWEEPS / 2).await;
    }
    assert!(exists(future).await);
}

#[tokio::test]
async fn expired_item_leaves_the_secondary_indexes_too() {
    let emulator = fast_sweeping_emulator().await;
    let client = emulator.dynamodb();
    let table = unique("ttl");
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("g", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("gsi")
                .key_schema(key("g", KeyType::Hash))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    set_ttl(&client, &table, "expires", true).await;
    put(
        &client,
        &table,
        &[("pk", s("old")), ("g", s("x")), ("expires", n(now() - 60))],
    )
    .await;
    wait_until_gone(&client, &table, "old").await;
    let described = client.describe_table().table_name(&table).send().await.unwrap();
    let index = &described.table().unwrap().global_secondary_indexes()[0];
    assert_eq!(index.item_count(), Some(0));
    assert_eq!(described.table().unwrap().item_count(), Some(0));
}

#[tokio::test]
async fn table_whose_time_to_live_was_disabled_keeps_its_expired_items() {
    let emulator = fast_sweeping_emulator().await;
    let client = emulator.dynamodb();
    let witness = pk_table(&client, "witness").await;
    set_ttl(&client, &witness, "expires", true).await;
    let table = pk_table(&client, "ttl").await;
    set_ttl(&client, &table, "expires", true).await;
    set_ttl(&client, &table, "expires", false).await;
    put(&client, &table, &[("pk", s("old")), ("expires", n(now() - 60))]).await;
    wait_for_a_whole_sweep(&client, &witness).await;
    assert!(exists(&client, &table, "old").await);
}

#[tokio::test]
async fn sweeper_task_ends_when_the_server_stops() {
    let server = dynastream::Server::bind_with(
        "127.0.0.1:0".parse().unwrap(),
        Settings {
            ttl_sweep_interval: FAST_SWEEPS,
            ..Settings::default()
        },
    )
    .await
    .unwrap();
    let metrics = tokio::runtime::Handle::current().metrics();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    // The server's own task, and the sweeper it starts.
    let start = Instant::now();
    while metrics.num_alive_tasks() < 2 {
        assert!(start.elapsed() < DEADLINE, "the sweeper did not start");
        tokio::task::yield_now().await;
    }
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert_eq!(metrics.num_alive_tasks(), 0, "a task outlived Server::run");
}
