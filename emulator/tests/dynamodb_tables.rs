//! Table operations through the official AWS SDK for Rust: CreateTable (with its validation), DescribeTable,
//! ListTables, UpdateTable, DeleteTable, DescribeLimits, DescribeEndpoints.

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::{
    Client,
    client::Waiters,
    operation::create_table::builders::CreateTableFluentBuilder,
    types::{
        BillingMode, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, KeyType, LocalSecondaryIndex,
        Projection, ProjectionType, ProvisionedThroughput, ScalarAttributeType, StreamSpecification,
        StreamViewType, TableStatus,
    },
};
use common::{TestEmulator, attr, error_of, key, stream_on, unique, validation};

fn throughput(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .unwrap()
}

/// The guide's BarkTable shape under another name.
fn bark_table(client: &Client, name: &str) -> CreateTableFluentBuilder {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("Username", ScalarAttributeType::S))
        .attribute_definitions(attr("Timestamp", ScalarAttributeType::S))
        .key_schema(key("Username", KeyType::Hash))
        .key_schema(key("Timestamp", KeyType::Range))
        .provisioned_throughput(throughput(5, 5))
}

#[tokio::test]
async fn create_table_reports_creating_then_table_exists_waiter_sees_active() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("bark");
    let created = bark_table(&client, &name).send().await.unwrap();
    let description = created.table_description().unwrap();
    assert_eq!(description.table_status(), Some(&TableStatus::Creating));
    assert_eq!(
        description.table_arn(),
        Some(format!("arn:aws:dynamodb:us-east-1:000000000000:table/{name}").as_str())
    );
    assert_eq!(description.table_id().unwrap().len(), 36);
    assert_eq!(description.item_count(), Some(0));
    let throughput = description.provisioned_throughput().unwrap();
    assert_eq!(
        (
            throughput.read_capacity_units(),
            throughput.write_capacity_units()
        ),
        (Some(5), Some(5))
    );
    assert_eq!(throughput.number_of_decreases_today(), Some(0));
    assert!(
        description.billing_mode_summary().is_none(),
        "AWS omits it for provisioned tables"
    );

    client
        .wait_until_table_exists()
        .table_name(&name)
        .wait(Duration::from_secs(10))
        .await
        .unwrap();
    let described = client.describe_table().table_name(&name).send().await.unwrap();
    assert_eq!(
        described.table().unwrap().table_status(),
        Some(&TableStatus::Active)
    );
}

#[tokio::test]
async fn create_table_with_stream_describes_stream_arn_and_label_in_aws_format() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("bark");
    let created = bark_table(&client, &name)
        .stream_specification(stream_on(StreamViewType::NewAndOldImages))
        .send()
        .await
        .unwrap();
    let description = created.table_description().unwrap();
    let label = description.latest_stream_label().unwrap();
    // YYYY-MM-DDTHH:MM:SS.mmm
    assert_eq!(label.len(), 23);
    assert_eq!(&label[10..11], "T");
    assert_eq!(&label[19..20], ".");
    assert_eq!(
        description.latest_stream_arn(),
        Some(format!("arn:aws:dynamodb:us-east-1:000000000000:table/{name}/stream/{label}").as_str())
    );
    let spec = description.stream_specification().unwrap();
    assert!(spec.stream_enabled());
    assert_eq!(spec.stream_view_type(), Some(&StreamViewType::NewAndOldImages));
}

#[tokio::test]
async fn create_existing_table_is_resource_in_use() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("dup");
    bark_table(&client, &name).send().await.unwrap();
    let (code, message) = error_of(bark_table(&client, &name).send().await).await;
    assert_eq!(code, "ResourceInUseException");
    assert_eq!(message, format!("Table already exists: {name}"));
}

#[tokio::test]
async fn create_table_validation_uses_aws_messages() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let p = "One or more parameter values were invalid: ";
    let cases: Vec<(CreateTableFluentBuilder, String)> = vec![
        (
            bark_table(&client, "ok-name").billing_mode(BillingMode::PayPerRequest),
            format!(
                "{p}Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is \
                 PAY_PER_REQUEST"
            ),
        ),
        (
            client
                .create_table()
                .table_name("ok-name")
                .attribute_definitions(attr("pk", ScalarAttributeType::S))
                .key_schema(key("pk", KeyType::Hash)),
            format!("{p}ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"),
        ),
        (
            client
                .create_table()
                .table_name("ok-name")
                .attribute_definitions(attr("pk", ScalarAttributeType::S))
                .attribute_definitions(attr("other", ScalarAttributeType::S))
                .key_schema(key("pk", KeyType::Hash))
                .billing_mode(BillingMode::PayPerRequest),
            format!(
                "{p}Number of attributes in KeySchema does not exactly match number of attributes defined in \
                 AttributeDefinitions"
            ),
        ),
        (
            client
                .create_table()
                .table_name("ok-name")
                .attribute_definitions(attr("pk", ScalarAttributeType::S))
                .attribute_definitions(attr("x", ScalarAttributeType::S))
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("sk", KeyType::Range))
                .billing_mode(BillingMode::PayPerRequest),
            format!(
                "{p}Some index key attributes are not defined in AttributeDefinitions. Keys: [pk, sk], \
                 AttributeDefinitions: [pk, x]"
            ),
        ),
        (
            client
                .create_table()
                .table_name("ok-name")
                .attribute_definitions(attr("pk", ScalarAttributeType::S))
                .attribute_definitions(attr("sk", ScalarAttributeType::S))
                .key_schema(key("sk", KeyType::Range))
                .key_schema(key("pk", KeyType::Hash))
                .billing_mode(BillingMode::PayPerRequest),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type".to_owned(),
        ),
        (
            client
                .create_table()
                .table_name("ok-name")
                .attribute_definitions(attr("pk", ScalarAttributeType::S))
                .attribute_definitions(attr("lsk", ScalarAttributeType::S))
                .key_schema(key("pk", KeyType::Hash))
                .local_secondary_indexes(
                    LocalSecondaryIndex::builder()
                        .index_name("lsi")
                        .key_schema(key("pk", KeyType::Hash))
                        .key_schema(key("lsk", KeyType::Range))
                        .projection(Projection::builder().projection_type(ProjectionType::All).build())
                        .build()
                        .unwrap(),
                )
                .billing_mode(BillingMode::PayPerRequest),
            format!(
                "{p}Table KeySchema does not have a range key, which is required when specifying a \
                 LocalSecondaryIndex"
            ),
        ),
        (
            bark_table(&client, "a;"),
            "2 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must \
             satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy \
             constraint: Member must have length greater than or equal to 3"
                .to_owned(),
        ),
    ];
    for (request, expected) in cases {
        let (code, message) = error_of(request.send().await).await;
        assert_eq!(code, "ValidationException");
        assert_eq!(message, expected);
    }
    assert!(
        client
            .list_tables()
            .send()
            .await
            .unwrap()
            .table_names()
            .is_empty(),
        "nothing was created"
    );
}

#[tokio::test]
async fn indexes_are_validated_and_described() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("indexed");
    let created = client
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .attribute_definitions(attr("lsk", ScalarAttributeType::S))
        .attribute_definitions(attr("gpk", ScalarAttributeType::B))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by-lsk")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("lsk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-gpk")
                .key_schema(key("gpk", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("a")
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let description = created.table_description().unwrap();
    let lsi = &description.local_secondary_indexes()[0];
    assert_eq!(lsi.index_name(), Some("by-lsk"));
    assert_eq!(
        lsi.index_arn(),
        Some(format!("{}/index/by-lsk", description.table_arn().unwrap()).as_str())
    );
    let gsi = &description.global_secondary_indexes()[0];
    assert_eq!(gsi.index_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(gsi.projection().unwrap().non_key_attributes(), ["a"]);
    assert_eq!(
        description.billing_mode_summary().unwrap().billing_mode(),
        Some(&BillingMode::PayPerRequest)
    );
    assert_eq!(
        description
            .provisioned_throughput()
            .unwrap()
            .read_capacity_units(),
        Some(0)
    );
}

#[tokio::test]
async fn describe_and_delete_of_missing_table_name_the_table() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (code, message) = error_of(client.describe_table().table_name("nope").send().await).await;
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(message, "Requested resource not found: Table: nope not found");
    let (code, message) = error_of(client.delete_table().table_name("nope").send().await).await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceNotFoundException",
            "Requested resource not found: Table: nope not found"
        )
    );
}

#[tokio::test]
async fn delete_table_reports_deleting_then_table_is_gone() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("gone");
    bark_table(&client, &name).send().await.unwrap();
    let deleted = client.delete_table().table_name(&name).send().await.unwrap();
    assert_eq!(
        deleted.table_description().unwrap().table_status(),
        Some(&TableStatus::Deleting)
    );
    client
        .wait_until_table_not_exists()
        .table_name(&name)
        .wait(Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        client
            .list_tables()
            .send()
            .await
            .unwrap()
            .table_names()
            .is_empty()
    );
}

#[tokio::test]
async fn deletion_protection_refuses_delete_table() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("kept");
    bark_table(&client, &name)
        .deletion_protection_enabled(true)
        .send()
        .await
        .unwrap();
    let (code, message) = error_of(client.delete_table().table_name(&name).send().await).await;
    assert_eq!(code, "ValidationException");
    assert!(message.starts_with("Resource cannot be deleted as it is currently protected against deletion"));
    client
        .update_table()
        .table_name(&name)
        .deletion_protection_enabled(false)
        .send()
        .await
        .unwrap();
    client.delete_table().table_name(&name).send().await.unwrap();
}

#[tokio::test]
async fn list_tables_pages_in_name_order() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let mut names: Vec<String> = (0..7).map(|i| format!("table-{i:02}")).collect();
    names.reverse();
    for name in &names {
        bark_table(&client, name).send().await.unwrap();
    }
    names.sort();
    let first = client.list_tables().limit(3).send().await.unwrap();
    assert_eq!(first.table_names(), &names[..3]);
    assert_eq!(first.last_evaluated_table_name(), Some(names[2].as_str()));
    let all: Vec<String> = client
        .list_tables()
        .limit(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all, names);
    let (code, message) = error_of(client.list_tables().limit(101).send().await).await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value \
         less than or equal to 100"
    );
}

#[tokio::test]
async fn on_demand_maxima_are_kept_changed_and_removed_member_by_member() {
    use aws_sdk_dynamodb::types::{GlobalSecondaryIndex, OnDemandThroughput, Projection, ProjectionType};
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("ondemand");
    let maxima = |read: Option<i64>, write: Option<i64>| {
        OnDemandThroughput::builder()
            .set_max_read_request_units(read)
            .set_max_write_request_units(write)
            .build()
    };
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("gk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .on_demand_throughput(maxima(Some(1000), Some(500)))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-gk")
                .key_schema(key("gk", KeyType::Hash))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .on_demand_throughput(maxima(Some(50), None))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let described = || async {
        let table = client
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        let index = table.global_secondary_indexes()[0]
            .on_demand_throughput()
            .cloned();
        (table.on_demand_throughput().cloned(), index)
    };
    assert_eq!(
        described().await,
        (Some(maxima(Some(1000), Some(500))), Some(maxima(Some(50), None)))
    );
    // Each member given sets its maximum, -1 removes it; none left, none described.
    for (request, expected) in [
        (maxima(Some(2000), None), Some(maxima(Some(2000), Some(500)))),
        (maxima(Some(-1), None), Some(maxima(None, Some(500)))),
        (maxima(None, Some(-1)), None),
    ] {
        client
            .update_table()
            .table_name(&name)
            .on_demand_throughput(request)
            .send()
            .await
            .unwrap();
        assert_eq!(described().await.0, expected);
    }
    let refused = error_of(
        client
            .update_table()
            .table_name(&name)
            .on_demand_throughput(maxima(Some(0), None))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        refused,
        validation(
            "One or more parameter values were invalid: Requested MaxReadRequestUnits for OnDemandThroughput for \
             table is outside of valid range"
        )
    );
}

#[tokio::test]
async fn table_options_dynastream_does_not_implement_are_refused_by_name() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("options");
    let refused = error_of(
        bark_table(&client, &name)
            .warm_throughput(
                aws_sdk_dynamodb::types::WarmThroughput::builder()
                    .read_units_per_second(13000)
                    .build(),
            )
            .send()
            .await,
    )
    .await;
    assert_eq!(
        refused,
        validation("dynastream does not implement WarmThroughput in CreateTable")
    );
    let (code, _) = error_of(client.describe_table().table_name(&name).send().await).await;
    assert_eq!(code, "ResourceNotFoundException", "nothing was created");
}

#[tokio::test]
async fn update_table_changes_throughput_and_refuses_no_op_change() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("tp");
    bark_table(&client, &name).send().await.unwrap();
    let updated = client
        .update_table()
        .table_name(&name)
        .provisioned_throughput(throughput(10, 5))
        .send()
        .await
        .unwrap();
    let description = updated.table_description().unwrap();
    assert_eq!(description.table_status(), Some(&TableStatus::Updating));
    assert_eq!(
        description
            .provisioned_throughput()
            .unwrap()
            .read_capacity_units(),
        Some(10)
    );
    assert!(
        description
            .provisioned_throughput()
            .unwrap()
            .last_increase_date_time()
            .is_some()
    );
    let (code, message) = error_of(
        client
            .update_table()
            .table_name(&name)
            .provisioned_throughput(throughput(10, 5))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert!(message.starts_with(
        "The provisioned throughput for the table will not change. The requested value equals the current value. \
         Current ReadCapacityUnits provisioned for the table: 10. Requested ReadCapacityUnits: 10."
    ));
    let switched = client
        .update_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let summary = switched
        .table_description()
        .unwrap()
        .billing_mode_summary()
        .unwrap();
    assert_eq!(summary.billing_mode(), Some(&BillingMode::PayPerRequest));
}

#[tokio::test]
async fn update_table_turns_streams_off_and_on_with_a_new_label() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("streams");
    bark_table(&client, &name).send().await.unwrap();
    let first = client
        .update_table()
        .table_name(&name)
        .stream_specification(stream_on(StreamViewType::KeysOnly))
        .send()
        .await
        .unwrap();
    let first_arn = first
        .table_description()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned();

    let (code, message) = error_of(
        client
            .update_table()
            .table_name(&name)
            .stream_specification(stream_on(StreamViewType::NewImage))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        format!("Table already has an enabled stream: TableName: {name}")
    );

    let off = StreamSpecification::builder()
        .stream_enabled(false)
        .build()
        .unwrap();
    let disabled = client
        .update_table()
        .table_name(&name)
        .stream_specification(off)
        .send()
        .await
        .unwrap();
    let description = disabled.table_description().unwrap();
    assert!(!description.stream_specification().unwrap().stream_enabled());
    assert_eq!(
        description.latest_stream_arn(),
        Some(first_arn.as_str()),
        "the old stream stays described"
    );

    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = client
        .update_table()
        .table_name(&name)
        .stream_specification(stream_on(StreamViewType::NewImage))
        .send()
        .await
        .unwrap();
    let second_arn = again.table_description().unwrap().latest_stream_arn().unwrap();
    assert_ne!(second_arn, first_arn, "re-enabling creates a new stream");
}

#[tokio::test]
async fn update_table_creates_and_deletes_global_secondary_indexes() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("gsi");
    bark_table(&client, &name).send().await.unwrap();
    let created = client
        .update_table()
        .table_name(&name)
        .attribute_definitions(attr("Message", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                        .index_name("by-message")
                        .key_schema(key("Message", KeyType::Hash))
                        .projection(Projection::builder().projection_type(ProjectionType::All).build())
                        .provisioned_throughput(throughput(1, 1))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let gsi = &created.table_description().unwrap().global_secondary_indexes()[0];
    assert_eq!(gsi.index_status().map(|s| s.as_str()), Some("CREATING"));
    let described = client.describe_table().table_name(&name).send().await.unwrap();
    let table = described.table().unwrap();
    assert_eq!(
        table.global_secondary_indexes()[0]
            .index_status()
            .map(|s| s.as_str()),
        Some("ACTIVE")
    );
    assert_eq!(table.attribute_definitions().len(), 3);

    client
        .update_table()
        .table_name(&name)
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .delete(
                    aws_sdk_dynamodb::types::DeleteGlobalSecondaryIndexAction::builder()
                        .index_name("by-message")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let described = client.describe_table().table_name(&name).send().await.unwrap();
    assert!(described.table().unwrap().global_secondary_indexes().is_empty());
    assert_eq!(
        described.table().unwrap().attribute_definitions().len(),
        2,
        "unused definitions are dropped"
    );
}

#[tokio::test]
async fn describe_limits_and_endpoints_answer() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let limits = client.describe_limits().send().await.unwrap();
    assert_eq!(limits.table_max_read_capacity_units(), Some(40000));
    assert_eq!(limits.account_max_write_capacity_units(), Some(80000));
    let endpoints = client.describe_endpoints().send().await.unwrap();
    assert_eq!(endpoints.endpoints()[0].address(), emulator.addr.to_string());
    assert_eq!(endpoints.endpoints()[0].cache_period_in_minutes(), 1440);
}
