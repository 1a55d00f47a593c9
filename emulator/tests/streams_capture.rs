//! Every write path feeds the stream: BatchWriteItem, TransactWriteItems, and TTL deletions (marked as the
//! service's with AWS's `userIdentity`).

mod common;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeValue as Av, Delete, Put, PutRequest, StreamViewType, TimeToLiveSpecification,
    TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodbstreams::types::OperationType;
use common::{TestEmulator, read_all, s, table_with_stream, unique};

fn keys_of(records: &[aws_sdk_dynamodbstreams::types::Record]) -> Vec<(String, OperationType)> {
    records
        .iter()
        .map(|r| {
            (
                r.dynamodb().unwrap().keys().unwrap()["pk"]
                    .as_s()
                    .unwrap()
                    .clone(),
                r.event_name().unwrap().clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn batch_writes_are_captured_in_request_order() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("captured");
    let arn = table_with_stream(&client, &table, StreamViewType::NewAndOldImages).await;
    let puts: Vec<WriteRequest> = ["a", "b", "c"]
        .iter()
        .map(|pk| {
            WriteRequest::builder()
                .put_request(PutRequest::builder().item("pk", s(pk)).build().unwrap())
                .build()
        })
        .collect();
    client
        .batch_write_item()
        .request_items(&table, puts)
        .send()
        .await
        .unwrap();
    let records = read_all(&streams, &arn).await;
    assert_eq!(
        keys_of(&records),
        [
            ("a".into(), OperationType::Insert),
            ("b".into(), OperationType::Insert),
            ("c".into(), OperationType::Insert)
        ]
    );
}

#[tokio::test]
async fn transactions_are_captured_and_cancelled_ones_are_not() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("captured");
    let arn = table_with_stream(&client, &table, StreamViewType::NewAndOldImages).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("old"))
        .send()
        .await
        .unwrap();
    client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&table)
                        .item("pk", s("new"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&table)
                        .key("pk", s("old"))
                        .update_expression("SET v = :v")
                        .expression_attribute_values(":v", s("1"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let cancelled = client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&table)
                        .key("pk", s("new"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&table)
                        .item("pk", s("old"))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await;
    assert!(cancelled.is_err());
    let records = read_all(&streams, &arn).await;
    assert_eq!(
        keys_of(&records),
        [
            ("old".into(), OperationType::Insert),
            ("new".into(), OperationType::Insert),
            ("old".into(), OperationType::Modify)
        ],
        "nothing of the cancelled transaction is captured"
    );
}

#[tokio::test]
async fn ttl_deletions_carry_the_service_identity() {
    let emulator = TestEmulator::start_with(dynastream::server::Settings {
        ttl_sweep_interval: Duration::from_millis(50),
        ..Default::default()
    })
    .await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("captured");
    let arn = table_with_stream(&client, &table, StreamViewType::NewAndOldImages).await;
    client
        .update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let past = (jiff::Timestamp::now().as_second() - 10).to_string();
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("ephemeral"))
        .item("expires", Av::N(past))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("user-deleted"))
        .send()
        .await
        .unwrap();
    client
        .delete_item()
        .table_name(&table)
        .key("pk", s("user-deleted"))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let records = loop {
        let records = read_all(&streams, &arn).await;
        if records.len() >= 4 || Instant::now() > deadline {
            break records;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let removals: Vec<_> = records
        .iter()
        .filter(|r| r.event_name() == Some(&OperationType::Remove))
        .collect();
    assert_eq!(removals.len(), 2);
    for removal in removals {
        let key = removal.dynamodb().unwrap().keys().unwrap()["pk"]
            .as_s()
            .unwrap()
            .clone();
        match key.as_str() {
            "ephemeral" => {
                let identity = removal.user_identity().expect("TTL deletions carry userIdentity");
                assert_eq!(identity.r#type(), Some("Service"));
                assert_eq!(identity.principal_id(), Some("dynamodb.amazonaws.com"));
            }
            _ => assert!(
                removal.user_identity().is_none(),
                "a client's delete carries none"
            ),
        }
    }
}
