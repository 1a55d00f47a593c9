//! Secondary indexes through the official AWS SDK for Rust: maintained on every write, projections, sparse
//! indexes, index ordering and pagination keys, AWS's rules, and GSIs created on a table with data.

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeValue as Av, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
        GlobalSecondaryIndexUpdate, KeyType, LocalSecondaryIndex, Projection, ProjectionType,
        ScalarAttributeType, Select,
    },
};
use common::{TestEmulator, attr, error_of, key, n, s, unique};

/// Orders: hash `customer` (S), sort `order` (N); GSI `by-status` (status S, total N, KEYS_ONLY);
/// GSI `by-total` (total N, INCLUDE note); LSI `by-date` (customer, date S, ALL).
async fn orders_table(client: &Client) -> String {
    let name = unique("orders");
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("customer", ScalarAttributeType::S))
        .attribute_definitions(attr("order", ScalarAttributeType::N))
        .attribute_definitions(attr("status", ScalarAttributeType::S))
        .attribute_definitions(attr("total", ScalarAttributeType::N))
        .attribute_definitions(attr("date", ScalarAttributeType::S))
        .key_schema(key("customer", KeyType::Hash))
        .key_schema(key("order", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-status")
                .key_schema(key("status", KeyType::Hash))
                .key_schema(key("total", KeyType::Range))
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
                .index_name("by-total")
                .key_schema(key("total", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("note")
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by-date")
                .key_schema(key("customer", KeyType::Hash))
                .key_schema(key("date", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

async fn put_order(
    client: &Client,
    table: &str,
    customer: &str,
    order: u32,
    status: Option<&str>,
    total: u32,
) {
    let mut request = client
        .put_item()
        .table_name(table)
        .item("customer", s(customer))
        .item("order", n(order))
        .item("total", n(total))
        .item("note", s(&format!("note {order}")))
        .item("secret", s("not projected"))
        .item("date", s(&format!("2026-01-{order:02}")));
    if let Some(status) = status {
        request = request.item("status", s(status));
    }
    request.send().await.unwrap();
}

async fn query_status(client: &Client, table: &str, status: &str) -> Vec<HashMap<String, Av>> {
    client
        .query()
        .table_name(table)
        .index_name("by-status")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s(status))
        .send()
        .await
        .unwrap()
        .items
        .unwrap()
}

#[tokio::test]
async fn gsi_query_orders_by_index_sort_key_and_projects_keys_only() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = orders_table(&client).await;
    put_order(&client, &table, "ann", 1, Some("open"), 30).await;
    put_order(&client, &table, "bob", 2, Some("open"), 10).await;
    put_order(&client, &table, "cid", 3, Some("shipped"), 20).await;
    put_order(&client, &table, "dan", 4, None, 5).await; // sparse: absent from by-status
    let open = query_status(&client, &table, "open").await;
    let totals: Vec<&str> = open.iter().map(|i| i["total"].as_n().unwrap().as_str()).collect();
    assert_eq!(totals, ["10", "30"]);
    assert_eq!(
        open[0],
        HashMap::from([
            ("customer".to_owned(), s("bob")),
            ("order".to_owned(), n(2)),
            ("status".to_owned(), s("open")),
            ("total".to_owned(), n(10)),
        ]),
        "KEYS_ONLY carries the table and index keys"
    );
    let included = client
        .query()
        .table_name(&table)
        .index_name("by-total")
        .key_condition_expression("#t = :t")
        .expression_attribute_names("#t", "total")
        .expression_attribute_values(":t", n(5))
        .send()
        .await
        .unwrap();
    let item = &included.items()[0];
    assert_eq!(item["note"], s("note 4"));
    assert!(
        !item.contains_key("secret"),
        "INCLUDE carries only the named attributes"
    );
    let scanned = client
        .scan()
        .table_name(&table)
        .index_name("by-status")
        .send()
        .await
        .unwrap();
    assert_eq!(
        scanned.count(),
        3,
        "the sparse index holds only items with its key"
    );
}

#[tokio::test]
async fn index_follows_updates_and_deletes() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = orders_table(&client).await;
    put_order(&client, &table, "ann", 1, Some("open"), 30).await;
    client
        .update_item()
        .table_name(&table)
        .key("customer", s("ann"))
        .key("order", n(1))
        .update_expression("SET #s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("shipped"))
        .send()
        .await
        .unwrap();
    assert!(query_status(&client, &table, "open").await.is_empty());
    assert_eq!(query_status(&client, &table, "shipped").await.len(), 1);
    client
        .update_item()
        .table_name(&table)
        .key("customer", s("ann"))
        .key("order", n(1))
        .update_expression("REMOVE #s")
        .expression_attribute_names("#s", "status")
        .send()
        .await
        .unwrap();
    assert!(query_status(&client, &table, "shipped").await.is_empty());
    put_order(&client, &table, "bob", 2, Some("open"), 10).await;
    client
        .delete_item()
        .table_name(&table)
        .key("customer", s("bob"))
        .key("order", n(2))
        .send()
        .await
        .unwrap();
    assert!(query_status(&client, &table, "open").await.is_empty());
    let described = client.describe_table().table_name(&table).send().await.unwrap();
    let gsi = described
        .table()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some("by-total"))
        .unwrap();
    assert_eq!(gsi.item_count(), Some(1));
}

#[tokio::test]
async fn index_pagination_keys_carry_table_and_index_keys() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = orders_table(&client).await;
    for order in 0..7 {
        // Equal index sort keys: ties are broken by table key, and pages must not skip or repeat any.
        put_order(&client, &table, &format!("c{order}"), order, Some("open"), 100).await;
    }
    let first = client
        .query()
        .table_name(&table)
        .index_name("by-status")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("open"))
        .limit(3)
        .send()
        .await
        .unwrap();
    let last = first.last_evaluated_key().unwrap();
    let mut names: Vec<&str> = last.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["customer", "order", "status", "total"]);
    let all: Vec<String> = client
        .query()
        .table_name(&table)
        .index_name("by-status")
        .key_condition_expression("#s = :s")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":s", s("open"))
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|i| i["customer"].as_s().unwrap().clone())
        .collect();
    assert_eq!(all.len(), 7);
    let mut unique_customers = all.clone();
    unique_customers.sort();
    unique_customers.dedup();
    assert_eq!(unique_customers.len(), 7);
}

#[tokio::test]
async fn local_index_queries_in_its_sort_order_with_all_attributes() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = orders_table(&client).await;
    for order in [3, 1, 2] {
        put_order(&client, &table, "ann", order, Some("open"), order).await;
    }
    let output = client
        .query()
        .table_name(&table)
        .index_name("by-date")
        .key_condition_expression("customer = :c AND #d > :d")
        .expression_attribute_names("#d", "date")
        .expression_attribute_values(":c", s("ann"))
        .expression_attribute_values(":d", s("2026-01-01"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let dates: Vec<&str> = output
        .items()
        .iter()
        .map(|i| i["date"].as_s().unwrap().as_str())
        .collect();
    assert_eq!(dates, ["2026-01-02", "2026-01-03"]);
    assert!(output.items()[0].contains_key("secret"));
}

#[tokio::test]
async fn gsi_rules_use_aws_messages() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = orders_table(&client).await;
    let query = || {
        client
            .query()
            .table_name(&table)
            .index_name("by-status")
            .key_condition_expression("#s = :s")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", s("open"))
    };
    let (_, message) = error_of(query().consistent_read(true).send().await).await;
    assert_eq!(
        message,
        "Consistent reads are not supported on global secondary indexes"
    );
    let (_, message) = error_of(query().select(Select::AllAttributes).send().await).await;
    assert_eq!(
        message,
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary \
         index by-status because its projection type is not ALL"
    );
    let (code, message) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("customer", s("x"))
            .item("order", n(1))
            .item("status", n(5))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "One or more parameter values were invalid: Type mismatch for Index Key status Expected: S Actual: N \
         IndexName: by-status"
    );
}

#[tokio::test]
async fn gsi_created_on_a_table_with_data_is_backfilled_then_can_be_deleted() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = unique("backfill");
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attr("id", ScalarAttributeType::S))
        .key_schema(key("id", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    for i in 0..20 {
        client
            .put_item()
            .table_name(&table)
            .item("id", s(&format!("i{i}")))
            .item("colour", s(if i % 2 == 0 { "red" } else { "blue" }))
            .send()
            .await
            .unwrap();
    }
    client
        .update_table()
        .table_name(&table)
        .attribute_definitions(attr("colour", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name("by-colour")
                        .key_schema(key("colour", KeyType::Hash))
                        .projection(Projection::builder().projection_type(ProjectionType::All).build())
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let red = client
        .query()
        .table_name(&table)
        .index_name("by-colour")
        .key_condition_expression("colour = :c")
        .expression_attribute_values(":c", s("red"))
        .send()
        .await
        .unwrap();
    assert_eq!(red.count(), 10);
    client
        .update_table()
        .table_name(&table)
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .delete(
                    aws_sdk_dynamodb::types::DeleteGlobalSecondaryIndexAction::builder()
                        .index_name("by-colour")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (_, message) = error_of(
        client
            .query()
            .table_name(&table)
            .index_name("by-colour")
            .key_condition_expression("colour = :c")
            .expression_attribute_values(":c", s("red"))
            .send()
            .await,
    )
    .await;
    assert_eq!(message, "The table does not have the specified index: by-colour");
}
