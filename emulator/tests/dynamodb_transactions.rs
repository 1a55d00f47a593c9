//! TransactWriteItems and TransactGetItems through the official AWS SDK for Rust: all-or-nothing writes,
//! cancellation reasons, ClientRequestToken idempotency, capacity, AWS's errors, and atomicity under concurrent
//! transfers.

mod common;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use aws_sdk_dynamodb::{
    Client,
    error::ProvideErrorMetadata,
    operation::transact_write_items::TransactWriteItemsError,
    types::{
        AttributeValue as Av, ConditionCheck, Delete, Get, Put, ReturnConsumedCapacity,
        ReturnValuesOnConditionCheckFailure, TransactGetItem, TransactWriteItem, Update,
    },
};
use common::{
    TestEmulator, error_of,
    items::{Item, get, item, key},
    n, pk_table, s, unique,
};

/// A cancellation reason as (Code, Message, Item).
type Reason = (String, Option<String>, Option<Item>);

const CANCELLED: &str = "Transaction cancelled, please refer cancellation reasons for specific reasons";

/// A table with hash key `pk` (S).
async fn table(client: &Client) -> String {
    pk_table(client, "transact").await
}

async fn put_item(client: &Client, table: &str, item: Item) {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

fn put(table: &str, item: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .build()
                .unwrap(),
        )
        .build()
}

fn delete(table: &str, pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .build()
                .unwrap(),
        )
        .build()
}

fn check(table: &str, pk: &str, condition: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .condition_expression(condition)
                .build()
                .unwrap(),
        )
        .build()
}

fn add(table: &str, pk: &str, amount: i64) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .update_expression("ADD balance :amount")
                .expression_attribute_values(":amount", n(amount))
                .build()
                .unwrap(),
        )
        .build()
}

fn get_of(table: &str, pk: &str) -> TransactGetItem {
    TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .build()
                .unwrap(),
        )
        .build()
}

/// The cancellation reasons of a failed TransactWriteItems, as (Code, Message) pairs.
fn reasons_of<T>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>>,
) -> (String, Vec<Reason>) {
    let Err(err) = result else {
        panic!("the transaction succeeded")
    };
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = err.into_service_error() else {
        panic!("not a TransactionCanceledException")
    };
    let reasons = cancelled
        .cancellation_reasons()
        .iter()
        .map(|r| {
            (
                r.code().unwrap_or("").to_owned(),
                r.message().map(str::to_owned),
                r.item().cloned(),
            )
        })
        .collect();
    (cancelled.message().unwrap_or("").to_owned(), reasons)
}

#[tokio::test]
async fn transact_write_applies_put_update_delete_and_condition_check_together() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    put_item(&client, &first, item("account", &[("balance", n(10))])).await;
    put_item(&client, &first, item("old", &[])).await;
    put_item(&client, &second, item("flag", &[("open", Av::Bool(true))])).await;
    let condition_check = TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(&second)
                .set_key(Some(key("flag")))
                .condition_expression("#o = :t")
                .expression_attribute_names("#o", "open")
                .expression_attribute_values(":t", Av::Bool(true))
                .build()
                .unwrap(),
        )
        .build();
    client
        .transact_write_items()
        .transact_items(put(&second, item("new", &[("v", s("x"))])))
        .transact_items(add(&first, "account", 5))
        .transact_items(delete(&first, "old"))
        .transact_items(condition_check)
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&client, &second, "new").await,
        Some(item("new", &[("v", s("x"))]))
    );
    assert_eq!(get(&client, &first, "account").await.unwrap()["balance"], n(15));
    assert!(get(&client, &first, "old").await.is_none());
    assert_eq!(
        get(&client, &second, "flag").await,
        Some(item("flag", &[("open", Av::Bool(true))]))
    );
}

#[tokio::test]
async fn transact_write_with_an_invalid_expression_is_rejected_outright_and_applies_nothing() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .transact_write_items()
        .transact_items(put(&table, item("new", &[])))
        .transact_items(check(&table, "flag", "ready = :t"))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; \
             attribute value: :t"
                .into()
        )
    );
    assert!(get(&client, &table, "new").await.is_none());
}

#[tokio::test]
async fn transact_write_with_a_failed_condition_is_cancelled_with_reasons_in_order_and_applies_nothing() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    put_item(&client, &table, item("a", &[("balance", n(1))])).await;
    let result = client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&table)
                        .set_key(Some(key("a")))
                        .update_expression("SET balance = balance - :amount")
                        .condition_expression("balance >= :amount")
                        .expression_attribute_values(":amount", n(5))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(put(&table, item("b", &[])))
        .send()
        .await;
    let (message, reasons) = reasons_of(result);
    assert_eq!(message, format!("{CANCELLED} [ConditionalCheckFailed, None]"));
    assert_eq!(
        reasons,
        vec![
            (
                "ConditionalCheckFailed".to_owned(),
                Some("The conditional request failed".to_owned()),
                None
            ),
            ("None".to_owned(), None, None),
        ]
    );
    assert_eq!(get(&client, &table, "a").await.unwrap()["balance"], n(1));
    assert!(get(&client, &table, "b").await.is_none());
}

#[tokio::test]
async fn transact_write_cancellation_carries_the_item_when_all_old_is_asked() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let stored = item("a", &[("state", s("closed"))]);
    put_item(&client, &table, stored.clone()).await;
    let conditional_delete = |pk: &str| {
        TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(&table)
                    .set_key(Some(key(pk)))
                    .condition_expression("attribute_not_exists(pk)")
                    .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                    .build()
                    .unwrap(),
            )
            .build()
    };
    put_item(&client, &table, item("b", &[])).await;
    let result = client
        .transact_write_items()
        .transact_items(check(&table, "missing", "attribute_exists(pk)"))
        .transact_items(conditional_delete("a"))
        .transact_items(conditional_delete("nobody"))
        .send()
        .await;
    let (message, reasons) = reasons_of(result);
    assert_eq!(
        message,
        format!("{CANCELLED} [ConditionalCheckFailed, ConditionalCheckFailed, None]")
    );
    let failed = (
        "ConditionalCheckFailed".to_owned(),
        Some("The conditional request failed".to_owned()),
    );
    assert_eq!((reasons[0].0.clone(), reasons[0].1.clone()), failed);
    // No item exists to return for the first action.
    assert_eq!(reasons[0].2, None);
    assert_eq!(reasons[1], (failed.0, failed.1, Some(stored.clone())));
    assert_eq!(get(&client, &table, "a").await, Some(stored));
}

#[tokio::test]
async fn transact_write_with_two_actions_on_one_item_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .transact_write_items()
        .transact_items(put(&table, item("a", &[])))
        .transact_items(put(&table, item("other", &[])))
        .transact_items(check(&table, "a", "attribute_not_exists(pk)"))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Transaction request cannot include multiple operations on one item".into()
        )
    );
    assert!(get(&client, &table, "other").await.is_none());
}

#[tokio::test]
async fn transact_write_of_more_than_100_actions_fails_the_length_constraint() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let (code, message) = error_of(
        client
            .transact_write_items()
            .set_transact_items(Some((0..101).map(|i| put(&table, key(&i.to_string()))).collect()))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with("1 validation error detected: Value '[")
            && message.ends_with(
                "]' at 'transactItems' failed to satisfy constraint: Member must have length less than or \
                 equal to 100"
            ),
        "{message}"
    );
}

#[tokio::test]
async fn transact_write_repeated_with_the_same_client_token_is_applied_once() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    put_item(&client, &table, item("counter", &[("balance", n(0))])).await;
    for _ in 0..3 {
        let response = client
            .transact_write_items()
            .client_request_token("token-1")
            .transact_items(add(&table, "counter", 1))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .unwrap();
        assert_eq!(response.consumed_capacity().len(), 1);
    }
    assert_eq!(get(&client, &table, "counter").await.unwrap()["balance"], n(1));

    // Member order is not part of the comparison: the same request written differently is a repeat.
    let body = format!(
        r#"{{"TransactItems":[{{"Update":{{"UpdateExpression":"ADD balance :amount","Key":{{"pk":{{"S":"counter"}}}},"TableName":"{table}","ExpressionAttributeValues":{{":amount":{{"N":"1"}}}}}}}}],"ClientRequestToken":"token-1"}}"#
    );
    let response = emulator.dynamodb_raw("TransactWriteItems", &body).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(get(&client, &table, "counter").await.unwrap()["balance"], n(1));

    // Without a token, or with another, the transaction applies again.
    client
        .transact_write_items()
        .transact_items(add(&table, "counter", 1))
        .send()
        .await
        .unwrap();
    client
        .transact_write_items()
        .client_request_token("token-2")
        .transact_items(add(&table, "counter", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&client, &table, "counter").await.unwrap()["balance"], n(3));
}

#[tokio::test]
async fn transact_write_repeat_is_charged_read_capacity() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let send = || {
        client
            .transact_write_items()
            .client_request_token("capacity")
            .transact_items(put(&table, item("a", &[("v", s(&"x".repeat(1500)))])))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
    };
    let first = send().await.unwrap();
    let capacity = &first.consumed_capacity()[0];
    assert_eq!(capacity.capacity_units(), Some(4.0));
    assert_eq!(capacity.write_capacity_units(), Some(4.0));
    assert_eq!(capacity.read_capacity_units(), None);
    let repeat = send().await.unwrap();
    let capacity = &repeat.consumed_capacity()[0];
    assert_eq!(capacity.capacity_units(), Some(2.0));
    assert_eq!(capacity.read_capacity_units(), Some(2.0));
    assert_eq!(capacity.write_capacity_units(), None);
}

#[tokio::test]
async fn transact_write_with_a_reused_client_token_and_another_request_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    client
        .transact_write_items()
        .client_request_token("reused")
        .transact_items(put(&table, item("a", &[])))
        .send()
        .await
        .unwrap();
    let result = client
        .transact_write_items()
        .client_request_token("reused")
        .transact_items(put(&table, item("b", &[])))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "IdempotentParameterMismatchException".into(),
            "DynamoDB rejected the request because you retried a request with a different payload but with an \
             idempotent token that was already used."
                .into()
        )
    );
    assert!(get(&client, &table, "b").await.is_none());
}

#[tokio::test]
async fn transact_write_cancelled_with_a_client_token_can_be_retried_with_it() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let send = || {
        client
            .transact_write_items()
            .client_request_token("retry")
            .transact_items(check(&table, "gate", "attribute_exists(pk)"))
            .transact_items(put(&table, item("a", &[])))
            .send()
    };
    let (message, _) = reasons_of(send().await);
    assert_eq!(message, format!("{CANCELLED} [ConditionalCheckFailed, None]"));
    put_item(&client, &table, key("gate")).await;
    send().await.unwrap();
    assert!(get(&client, &table, "a").await.is_some());
}

#[tokio::test]
async fn transact_write_update_that_fails_at_run_time_is_a_validation_error_reason() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    put_item(&client, &table, item("a", &[("balance", s("not a number"))])).await;
    let result = client
        .transact_write_items()
        .transact_items(put(&table, item("b", &[])))
        .transact_items(add(&table, "a", 1))
        .send()
        .await;
    let (message, reasons) = reasons_of(result);
    assert_eq!(message, format!("{CANCELLED} [None, ValidationError]"));
    assert_eq!(
        reasons[1],
        (
            "ValidationError".to_owned(),
            Some("An operand in the update expression has an incorrect data type".to_owned()),
            None
        )
    );
    assert!(get(&client, &table, "b").await.is_none());
}

#[tokio::test]
async fn transact_write_key_not_matching_the_schema_is_a_validation_error_reason() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let wrong_key = TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(&table)
                .key("pk", n(1))
                .build()
                .unwrap(),
        )
        .build();
    let result = client
        .transact_write_items()
        .transact_items(wrong_key)
        .transact_items(put(&table, item("b", &[])))
        .send()
        .await;
    let (message, reasons) = reasons_of(result);
    assert_eq!(message, format!("{CANCELLED} [ValidationError, None]"));
    assert_eq!(
        reasons[0].1.as_deref(),
        Some("The provided key element does not match the schema")
    );
    assert!(get(&client, &table, "b").await.is_none());
}

#[tokio::test]
async fn transact_write_with_an_empty_key_value_is_rejected_outright() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .transact_write_items()
        .transact_items(put(&table, key("")))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain \
             an empty string value. Key: pk"
                .into()
        )
    );
}

#[tokio::test]
async fn transact_write_of_an_oversized_put_is_rejected_before_running() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .transact_write_items()
        .transact_items(put(&table, item("a", &[("v", s(&"x".repeat(409_600)))])))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Item size has exceeded the maximum allowed size".into()
        )
    );
}

#[tokio::test]
async fn transact_write_on_a_missing_table_is_resource_not_found() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .transact_write_items()
        .transact_items(put(&table, key("a")))
        .transact_items(put(&unique("nothere"), key("a")))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found".into()
        )
    );
    assert!(get(&client, &table, "a").await.is_none());
}

#[tokio::test]
async fn transact_write_malformed_actions_are_rejected_with_aws_texts() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let two = format!(
        r#"{{"TransactItems":[{{"Put":{{"TableName":"{table}","Item":{{"pk":{{"S":"a"}}}}}},"Delete":{{"TableName":"{table}","Key":{{"pk":{{"S":"a"}}}}}}}}]}}"#
    );
    let response = emulator.dynamodb_raw("TransactWriteItems", &two).await;
    assert_eq!(
        response.json()["message"],
        "TransactItems can only contain one of Check, Put, Update or Delete"
    );
    let missing = format!(
        r#"{{"TransactItems":[{{"Update":{{"TableName":"{table}","Key":{{"pk":{{"S":"a"}}}}}}}},{{"ConditionCheck":{{"Key":{{"pk":{{"S":"a"}}}}}}}}]}}"#
    );
    let response = emulator.dynamodb_raw("TransactWriteItems", &missing).await;
    let message = response.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("3 validation errors detected: "), "{message}");
    for expected in [
        "Value null at 'transactItems.1.member.update.updateExpression' failed to satisfy constraint: Member \
         must not be null",
        "Value null at 'transactItems.2.member.conditionCheck.tableName' failed to satisfy constraint: Member \
         must not be null",
        "Value null at 'transactItems.2.member.conditionCheck.conditionExpression' failed to satisfy \
         constraint: Member must not be null",
    ] {
        assert!(message.contains(expected), "{message}");
    }
    let response = emulator
        .dynamodb_raw("TransactWriteItems", r#"{"TransactItems":[]}"#)
        .await;
    assert_eq!(
        response.json()["message"],
        "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must \
         have length greater than or equal to 1"
    );
}

#[tokio::test]
async fn transact_write_reports_twice_the_write_capacity_per_table() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    put_item(&client, &second, item("gate", &[])).await;
    let response = client
        .transact_write_items()
        .transact_items(put(&first, item("a", &[("v", s(&"x".repeat(1500)))])))
        .transact_items(put(&first, item("b", &[])))
        .transact_items(check(&second, "gate", "attribute_exists(pk)"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let capacity: Vec<(String, f64, Option<f64>, Option<f64>)> = response
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap().to_owned(),
                c.capacity_units().unwrap(),
                c.write_capacity_units(),
                c.table().and_then(|t| t.write_capacity_units()),
            )
        })
        .collect();
    assert_eq!(
        capacity,
        vec![
            (first, 6.0, Some(6.0), Some(6.0)),
            (second, 2.0, Some(2.0), Some(2.0))
        ]
    );
}

#[tokio::test]
async fn transact_get_returns_items_in_request_order_with_empty_entries_for_missing_ones() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    put_item(&client, &first, item("a", &[("x", s("1")), ("y", s("2"))])).await;
    put_item(&client, &second, item("b", &[("z", s("3"))])).await;
    let projected = TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(&first)
                .set_key(Some(key("a")))
                .projection_expression("#y")
                .expression_attribute_names("#y", "y")
                .build()
                .unwrap(),
        )
        .build();
    let response = client
        .transact_get_items()
        .transact_items(get_of(&second, "b"))
        .transact_items(get_of(&first, "missing"))
        .transact_items(projected)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let items: Vec<Option<Item>> = response.responses().iter().map(|r| r.item().cloned()).collect();
    assert_eq!(
        items,
        vec![
            Some(item("b", &[("z", s("3"))])),
            None,
            Some(HashMap::from([("y".to_owned(), s("2"))]))
        ]
    );
    let capacity: Vec<(String, f64, Option<f64>)> = response
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap().to_owned(),
                c.capacity_units().unwrap(),
                c.read_capacity_units(),
            )
        })
        .collect();
    // Two units per item read, a missing one included.
    assert_eq!(capacity, vec![(second, 2.0, Some(2.0)), (first, 4.0, Some(4.0))]);
}

#[tokio::test]
async fn transact_get_of_one_item_twice_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .transact_get_items()
        .transact_items(get_of(&table, "a"))
        .transact_items(get_of(&table, "a"))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Transaction request cannot include multiple operations on one item".into()
        )
    );
}

#[tokio::test]
async fn transact_get_key_not_matching_the_schema_cancels_with_a_validation_error() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let wrong = TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(&table)
                .key("other", s("x"))
                .build()
                .unwrap(),
        )
        .build();
    let result = client
        .transact_get_items()
        .transact_items(get_of(&table, "a"))
        .transact_items(wrong)
        .send()
        .await;
    let Err(err) = result else {
        panic!("the read succeeded")
    };
    let service_error = err.into_service_error();
    assert_eq!(
        service_error.message(),
        Some(format!("{CANCELLED} [None, ValidationError]").as_str())
    );
    let aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError::TransactionCanceledException(
        cancelled,
    ) = service_error
    else {
        panic!("not a TransactionCanceledException")
    };
    assert_eq!(
        cancelled.cancellation_reasons()[1].message(),
        Some("The provided key element does not match the schema")
    );
}

/// A small deterministic pseudo-random sequence (xorshift), so the test needs no extra crate.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transfers_keep_the_total_and_every_transact_get_sees_it() {
    const ACCOUNTS: usize = 10;
    const INITIAL: i64 = 1000;
    const TOTAL: i64 = ACCOUNTS as i64 * INITIAL;
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    // Two tables, so transactions lock more than one table's items.
    let tables = [table(&client).await, table(&client).await];
    let account = |i: usize| (tables[i % 2].clone(), format!("account-{i}"));
    for i in 0..ACCOUNTS {
        let (table, pk) = account(i);
        put_item(&client, &table, item(&pk, &[("balance", n(INITIAL))])).await;
    }
    let accounts: Arc<Vec<(String, String)>> = Arc::new((0..ACCOUNTS).map(account).collect());

    let writing = Arc::new(AtomicBool::new(true));
    let applied = Arc::new(AtomicUsize::new(0));
    let snapshots = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..2 {
        let (client, accounts, writing, snapshots) = (
            client.clone(),
            accounts.clone(),
            writing.clone(),
            snapshots.clone(),
        );
        readers.push(tokio::spawn(async move {
            while writing.load(Ordering::Relaxed) {
                let gets = accounts.iter().map(|(table, pk)| get_of(table, pk)).collect();
                let response = client
                    .transact_get_items()
                    .set_transact_items(Some(gets))
                    .send()
                    .await
                    .unwrap();
                let sum: i64 = response
                    .responses()
                    .iter()
                    .map(|r| {
                        r.item().unwrap()["balance"]
                            .as_n()
                            .unwrap()
                            .parse::<i64>()
                            .unwrap()
                    })
                    .sum();
                assert_eq!(sum, TOTAL, "a snapshot saw half a transfer");
                snapshots.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let mut writers = Vec::new();
    for task in 0..8u64 {
        let (client, accounts, applied) = (client.clone(), accounts.clone(), applied.clone());
        writers.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (task + 1));
            for _ in 0..50 {
                let from = rng.below(ACCOUNTS as u64) as usize;
                let to = (from + 1 + rng.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
                let amount = 1 + rng.below(300) as i64;
                let (from_table, from_pk) = &accounts[from];
                let (to_table, to_pk) = &accounts[to];
                let debit = TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(from_table)
                            .set_key(Some(key(from_pk)))
                            .update_expression("SET balance = balance - :amount")
                            .condition_expression("balance >= :amount")
                            .expression_attribute_values(":amount", n(amount))
                            .build()
                            .unwrap(),
                    )
                    .build();
                let result = client
                    .transact_write_items()
                    .transact_items(debit)
                    .transact_items(add(to_table, to_pk, amount))
                    .send()
                    .await;
                match result {
                    Ok(_) => {
                        applied.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(err) => {
                        let (message, reasons) = reasons_of::<()>(Err(err));
                        assert_eq!(message, format!("{CANCELLED} [ConditionalCheckFailed, None]"));
                        assert_eq!(reasons[0].0, "ConditionalCheckFailed");
                    }
                }
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    writing.store(false, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }

    let mut total = 0;
    for (table, pk) in accounts.iter() {
        let balance: i64 = get(&client, table, pk).await.unwrap()["balance"]
            .as_n()
            .unwrap()
            .parse()
            .unwrap();
        assert!(balance >= 0, "{pk} went negative: {balance}");
        total += balance;
    }
    assert_eq!(total, TOTAL);
    assert!(applied.load(Ordering::Relaxed) > 0);
    assert!(snapshots.load(Ordering::Relaxed) > 0);
}
