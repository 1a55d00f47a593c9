//! BatchGetItem and BatchWriteItem through the official AWS SDK for Rust (and raw JSON where the SDK cannot send
//! the malformed request): multi-table reads and writes, projections, capacity, the 16 MB response limit, and
//! AWS's errors.

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeValue as Av, DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity,
        WriteRequest,
    },
};
use common::{
    TestEmulator, error_of,
    items::{Item, get, item, key},
    pk_table, s, unique,
};

/// A table with hash key `pk` (S).
async fn table(client: &Client) -> String {
    pk_table(client, "batch").await
}

fn put(item: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
        .build()
}

fn delete(key: Item) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(DeleteRequest::builder().set_key(Some(key)).build().unwrap())
        .build()
}

fn keys(keys: Vec<Item>) -> KeysAndAttributes {
    KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .unwrap()
}

/// Sorts items by their `pk`, since BatchGetItem's order is unspecified.
fn by_pk(mut items: Vec<Item>) -> Vec<Item> {
    items.sort_by(|a, b| a["pk"].as_s().unwrap().cmp(b["pk"].as_s().unwrap()));
    items
}

#[tokio::test]
async fn batch_write_puts_and_deletes_across_tables_and_batch_get_reads_them_back() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    client
        .put_item()
        .table_name(&second)
        .set_item(Some(item("gone", &[])))
        .send()
        .await
        .unwrap();
    let written = client
        .batch_write_item()
        .request_items(
            &first,
            vec![put(item("a", &[("v", s("1"))])), put(item("b", &[("v", s("2"))]))],
        )
        .request_items(&second, vec![put(item("c", &[])), delete(key("gone"))])
        .send()
        .await
        .unwrap();
    assert_eq!(written.unprocessed_items(), Some(&HashMap::new()));
    assert!(get(&client, &second, "gone").await.is_none());

    let read = client
        .batch_get_item()
        .request_items(&first, keys(vec![key("a"), key("b"), key("absent")]))
        .request_items(&second, keys(vec![key("c")]))
        .send()
        .await
        .unwrap();
    assert_eq!(read.unprocessed_keys(), Some(&HashMap::new()));
    let responses = read.responses().unwrap();
    assert_eq!(
        by_pk(responses[&first].clone()),
        vec![item("a", &[("v", s("1"))]), item("b", &[("v", s("2"))])]
    );
    assert_eq!(responses[&second], vec![item("c", &[])]);
}

#[tokio::test]
async fn batch_get_of_only_missing_keys_returns_an_empty_list_for_the_table() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let read = client
        .batch_get_item()
        .request_items(&table, keys(vec![key("nobody")]))
        .send()
        .await
        .unwrap();
    assert_eq!(read.responses().unwrap()[&table], Vec::<Item>::new());
}

#[tokio::test]
async fn batch_get_applies_each_tables_projection() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    let full = item("a", &[("name", s("n")), ("size", s("big")), ("other", s("o"))]);
    for table in [&first, &second] {
        client
            .put_item()
            .table_name(table)
            .set_item(Some(full.clone()))
            .send()
            .await
            .unwrap();
    }
    let read = client
        .batch_get_item()
        .request_items(
            &first,
            KeysAndAttributes::builder()
                .keys(key("a"))
                .projection_expression("#n, #s")
                .expression_attribute_names("#n", "name")
                .expression_attribute_names("#s", "size")
                .build()
                .unwrap(),
        )
        .request_items(&second, keys(vec![key("a")]))
        .send()
        .await
        .unwrap();
    let responses = read.responses().unwrap();
    assert_eq!(
        responses[&first],
        vec![HashMap::from([
            ("name".to_owned(), s("n")),
            ("size".to_owned(), s("big"))
        ])]
    );
    assert_eq!(responses[&second], vec![full]);
}

#[tokio::test]
async fn batch_get_with_attributes_to_get_returns_only_those_attributes() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(item("a", &[("x", s("1")), ("y", s("2"))])))
        .send()
        .await
        .unwrap();
    let read = client
        .batch_get_item()
        .request_items(
            &table,
            KeysAndAttributes::builder()
                .keys(key("a"))
                .attributes_to_get("pk")
                .attributes_to_get("y")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.responses().unwrap()[&table],
        vec![item("a", &[("y", s("2"))])]
    );
}

#[tokio::test]
async fn batch_get_with_duplicate_keys_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .batch_get_item()
        .request_items(&table, keys(vec![key("a"), key("b"), key("a")]))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Provided list of item keys contains duplicates".into()
        )
    );
}

#[tokio::test]
async fn batch_get_of_more_than_100_keys_across_tables_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    let result = client
        .batch_get_item()
        .request_items(&first, keys((0..60).map(|i| key(&i.to_string())).collect()))
        .request_items(&second, keys((0..41).map(|i| key(&i.to_string())).collect()))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Too many items requested for the BatchGetItem call".into()
        )
    );
}

#[tokio::test]
async fn batch_get_of_more_than_100_keys_in_one_table_fails_the_length_constraint() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let (code, message) = error_of(
        client
            .batch_get_item()
            .request_items(&table, keys((0..101).map(|i| key(&i.to_string())).collect()))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with("1 validation error detected: Value '[")
            && message.ends_with(&format!(
                "]' at 'requestItems.{table}.member.keys' failed to satisfy constraint: Member must have \
                 length less than or equal to 100"
            )),
        "{message}"
    );
}

#[tokio::test]
async fn batch_requests_with_empty_or_misnamed_request_items_fail_their_constraints() {
    let emulator = TestEmulator::start().await;
    for operation in ["BatchGetItem", "BatchWriteItem"] {
        let response = emulator.dynamodb_raw(operation, r#"{"RequestItems":{}}"#).await;
        assert_eq!(response.status, 400);
        assert_eq!(
            response.json()["message"],
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member \
             must have length greater than or equal to 1"
        );
        let response = emulator.dynamodb_raw(operation, "{}").await;
        assert_eq!(
            response.json()["message"],
            "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member \
             must not be null"
        );
    }
    let response = emulator
        .dynamodb_raw(
            "BatchGetItem",
            r#"{"RequestItems":{"a":{"Keys":[{"pk":{"S":"x"}}]}}}"#,
        )
        .await;
    let message = response.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("1 validation error detected: Value '{a=")
            && message.ends_with(
                "}' at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint: [Member \
                 must have length less than or equal to 255, Member must have length greater than or equal to \
                 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]"
            ),
        "{message}"
    );
    let response = emulator
        .dynamodb_raw(
            "BatchWriteItem",
            r#"{"RequestItems":{"aa;":[{"PutRequest":{},"DeleteRequest":{}}]},"ReturnConsumedCapacity":"hi"}"#,
        )
        .await;
    let message = response.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("4 validation errors detected: "), "{message}");
    for expected in [
        "Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value \
         set: [INDEXES, TOTAL, NONE]",
        "at 'requestItems' failed to satisfy constraint: Map keys must satisfy constraint",
        "Value null at 'requestItems.aa;.member.1.member.deleteRequest.key' failed to satisfy constraint: \
         Member must not be null",
        "Value null at 'requestItems.aa;.member.1.member.putRequest.item' failed to satisfy constraint: Member \
         must not be null",
    ] {
        assert!(message.contains(expected), "{message}");
    }
}

#[tokio::test]
async fn batch_get_on_a_missing_table_is_resource_not_found() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let result = client
        .batch_get_item()
        .request_items(unique("nothere"), keys(vec![key("a")]))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found".into()
        )
    );
}

#[tokio::test]
async fn batch_get_with_a_key_not_matching_the_schema_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let wrong = HashMap::from([("pk".to_owned(), Av::N("1".into()))]);
    let result = client
        .batch_get_item()
        .request_items(&table, keys(vec![key("a"), wrong]))
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "The provided key element does not match the schema".into()
        )
    );
}

#[tokio::test]
async fn batch_get_and_write_report_consumed_capacity_per_table() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    let written = client
        .batch_write_item()
        .request_items(
            &first,
            vec![
                put(item("a", &[])),
                put(item("big", &[("v", s(&"x".repeat(1500)))])),
            ],
        )
        .request_items(&second, vec![put(item("c", &[]))])
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    // The SDK sends RequestItems in hash order, so the tables are compared as a map.
    let capacity: HashMap<String, f64> = written
        .consumed_capacity()
        .iter()
        .map(|c| (c.table_name().unwrap().to_owned(), c.capacity_units().unwrap()))
        .collect();
    assert_eq!(
        capacity,
        HashMap::from([(first.clone(), 3.0), (second.clone(), 1.0)])
    );

    let read = client
        .batch_get_item()
        .request_items(
            &first,
            KeysAndAttributes::builder()
                .keys(key("a"))
                .keys(key("big"))
                .keys(key("absent"))
                .build()
                .unwrap(),
        )
        .request_items(&second, keys(vec![key("c")]))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let capacity: HashMap<String, (f64, Option<f64>)> = read
        .consumed_capacity()
        .iter()
        .map(|c| {
            (
                c.table_name().unwrap().to_owned(),
                (
                    c.capacity_units().unwrap(),
                    c.table().and_then(|t| t.capacity_units()),
                ),
            )
        })
        .collect();
    // Eventually consistent reads cost half a unit per 4 KB item, missing items included.
    assert_eq!(
        capacity,
        HashMap::from([(first, (1.5, Some(1.5))), (second, (1.0, Some(1.0)))])
    );
}

#[tokio::test]
async fn batch_get_beyond_16_mb_returns_the_remaining_keys_as_unprocessed() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    // 45 items of about 390 KB: more than 16 MB in all.
    let filler = s(&"x".repeat(390 * 1024));
    let pks: Vec<String> = (0..45).map(|i| format!("k{i:02}")).collect();
    for chunk in pks.chunks(25) {
        let requests = chunk
            .iter()
            .map(|pk| put(item(pk, &[("v", filler.clone())])))
            .collect();
        let written = client
            .batch_write_item()
            .request_items(&table, requests)
            .send()
            .await
            .unwrap();
        assert_eq!(written.unprocessed_items(), Some(&HashMap::new()));
    }
    let read = client
        .batch_get_item()
        .request_items(
            &table,
            KeysAndAttributes::builder()
                .set_keys(Some(pks.iter().map(|pk| key(pk)).collect()))
                .consistent_read(true)
                .projection_expression("pk, v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let returned = read.responses().unwrap()[&table].len();
    let unprocessed = &read.unprocessed_keys().unwrap()[&table];
    assert!(returned > 0 && returned < 45, "{returned} items returned");
    assert_eq!(returned + unprocessed.keys().len(), 45);
    // The unprocessed part repeats the table's request, with only the keys left.
    assert_eq!(unprocessed.consistent_read(), Some(true));
    assert_eq!(unprocessed.projection_expression(), Some("pk, v"));

    let rest = client
        .batch_get_item()
        .request_items(&table, unprocessed.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.responses().unwrap()[&table].len(), 45 - returned);
    assert_eq!(rest.unprocessed_keys(), Some(&HashMap::new()));
}

#[tokio::test]
async fn batch_write_with_duplicate_keys_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .batch_write_item()
        .request_items(
            &table,
            vec![put(item("new", &[])), put(item("a", &[])), delete(key("a"))],
        )
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Provided list of item keys contains duplicates".into()
        )
    );
    assert!(get(&client, &table, "new").await.is_none());
}

#[tokio::test]
async fn batch_write_of_the_same_key_in_two_tables_is_not_a_duplicate() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    client
        .batch_write_item()
        .request_items(&first, vec![put(item("a", &[("t", s("1"))]))])
        .request_items(&second, vec![put(item("a", &[("t", s("2"))]))])
        .send()
        .await
        .unwrap();
    assert_eq!(get(&client, &first, "a").await.unwrap()["t"], s("1"));
    assert_eq!(get(&client, &second, "a").await.unwrap()["t"], s("2"));
}

#[tokio::test]
async fn batch_write_of_more_than_25_requests_to_one_table_fails_the_map_value_constraint() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let (code, message) = error_of(
        client
            .batch_write_item()
            .request_items(&table, (0..26).map(|i| put(key(&i.to_string()))).collect())
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with(&format!("1 validation error detected: Value '{{{table}=["))
            && message.ends_with(
                "]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member \
                 must have length less than or equal to 25, Member must have length greater than or equal to 1]"
            ),
        "{message}"
    );
    assert!(get(&client, &table, "0").await.is_none());
}

#[tokio::test]
async fn batch_write_of_more_than_25_requests_across_tables_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (first, second) = (table(&client).await, table(&client).await);
    let result = client
        .batch_write_item()
        .request_items(&first, (0..13).map(|i| put(key(&i.to_string()))).collect())
        .request_items(&second, (0..13).map(|i| put(key(&i.to_string()))).collect())
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Too many items requested for the BatchWriteItem call".into()
        )
    );
}

#[tokio::test]
async fn batch_write_with_an_invalid_item_writes_nothing() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    for invalid in [
        HashMap::from([("pk".to_owned(), Av::N("3".into()))]),
        HashMap::from([("other".to_owned(), s("x"))]),
    ] {
        let result = client
            .batch_write_item()
            .request_items(
                &table,
                vec![put(item("first", &[])), put(invalid), put(item("last", &[]))],
            )
            .send()
            .await;
        // NB: in a batch AWS words a put's missing or mistyped key like a Key parameter's.
        assert_eq!(
            error_of(result).await,
            (
                "ValidationException".into(),
                "The provided key element does not match the schema".into()
            )
        );
    }
    assert!(get(&client, &table, "first").await.is_none());
    assert!(get(&client, &table, "last").await.is_none());
}

#[tokio::test]
async fn batch_write_validates_items_as_put_item_does() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .batch_write_item()
        .request_items(&table, vec![put(item("a", &[("v", s(&"x".repeat(409_600)))]))])
        .send()
        .await;
    assert_eq!(
        error_of(result).await,
        (
            "ValidationException".into(),
            "Item size has exceeded the maximum allowed size".into()
        )
    );
    let result = client
        .batch_write_item()
        .request_items(&table, vec![put(key(""))])
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
async fn batch_write_request_with_neither_put_nor_delete_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let response = emulator
        .dynamodb_raw(
            "BatchWriteItem",
            &format!(r#"{{"RequestItems":{{"{table}":[{{}}]}}}}"#),
        )
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.json()["message"],
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported \
         datatypes"
    );
}

#[tokio::test]
async fn batch_write_to_a_missing_table_is_resource_not_found_and_writes_nothing() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let result = client
        .batch_write_item()
        .request_items(&table, vec![put(key("a"))])
        .request_items(unique("nothere"), vec![put(key("a"))])
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
async fn batch_write_response_has_an_empty_unprocessed_items_map() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client).await;
    let response = emulator
        .dynamodb_raw(
            "BatchWriteItem",
            &format!(
                r#"{{"RequestItems":{{"{table}":[{{"PutRequest":{{"Item":{{"pk":{{"S":"a"}}}}}}}}]}}}}"#
            ),
        )
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, r#"{"UnprocessedItems":{}}"#);
}
