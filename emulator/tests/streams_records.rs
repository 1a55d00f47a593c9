//! DynamoDB Streams records through the official SDKs: every write path captures its change with AWS's record
//! contents, view types and sequence numbers, and writes that change nothing capture nothing.

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::StreamViewType;
use aws_sdk_dynamodbstreams::types::{AttributeValue as Sv, OperationType};
use common::{TestEmulator, pk_table_request, read_all, s, stream_on, table_with_stream, unique};

fn ss(v: &str) -> Sv {
    Sv::S(v.to_owned())
}

#[tokio::test]
async fn put_update_delete_produce_insert_modify_remove_with_both_images() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("streamed");
    let arn = table_with_stream(&client, &table, StreamViewType::NewAndOldImages).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s("1"))
        .send()
        .await
        .unwrap();
    client
        .update_item()
        .table_name(&table)
        .key("pk", s("a"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", s("2"))
        .send()
        .await
        .unwrap();
    client
        .delete_item()
        .table_name(&table)
        .key("pk", s("a"))
        .send()
        .await
        .unwrap();
    let records = read_all(&streams, &arn).await;
    let names: Vec<_> = records.iter().map(|r| r.event_name().unwrap().clone()).collect();
    assert_eq!(
        names,
        [
            OperationType::Insert,
            OperationType::Modify,
            OperationType::Remove
        ]
    );
    let insert = records[0].dynamodb().unwrap();
    assert_eq!(
        insert.keys().unwrap(),
        &HashMap::from([("pk".to_owned(), ss("a"))])
    );
    assert_eq!(insert.new_image().unwrap()["v"], ss("1"));
    assert!(insert.old_image().is_none());
    let modify = records[1].dynamodb().unwrap();
    assert_eq!(modify.old_image().unwrap()["v"], ss("1"));
    assert_eq!(modify.new_image().unwrap()["v"], ss("2"));
    let remove = records[2].dynamodb().unwrap();
    assert_eq!(remove.old_image().unwrap()["v"], ss("2"));
    assert!(remove.new_image().is_none());
    assert!(
        records[2].user_identity().is_none(),
        "only TTL deletions carry a user identity"
    );

    let record = &records[0];
    assert_eq!(record.event_id().unwrap().len(), 32);
    assert!(
        record
            .event_id()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(record.event_version(), Some("1.1"));
    assert_eq!(record.event_source(), Some("aws:dynamodb"));
    assert_eq!(record.aws_region(), Some("us-east-1"));
    assert_eq!(
        insert.stream_view_type().map(|v| v.as_str()),
        Some("NEW_AND_OLD_IMAGES")
    );
    assert!(insert.size_bytes().unwrap() > 0);
    assert!(insert.approximate_creation_date_time().is_some());
    let sequences: Vec<u128> = records
        .iter()
        .map(|r| r.dynamodb().unwrap().sequence_number().unwrap().parse().unwrap())
        .collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing: {sequences:?}"
    );
    assert!(
        records
            .iter()
            .all(|r| r.dynamodb().unwrap().sequence_number().unwrap().len() >= 21)
    );
}

#[tokio::test]
async fn view_types_carry_the_images_they_name() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    for (view, new, old) in [
        (StreamViewType::KeysOnly, false, false),
        (StreamViewType::NewImage, true, false),
        (StreamViewType::OldImage, false, true),
        (StreamViewType::NewAndOldImages, true, true),
    ] {
        let table = unique("streamed");
        let arn = table_with_stream(&client, &table, view.clone()).await;
        client
            .put_item()
            .table_name(&table)
            .item("pk", s("a"))
            .item("v", s("1"))
            .send()
            .await
            .unwrap();
        client
            .put_item()
            .table_name(&table)
            .item("pk", s("a"))
            .item("v", s("2"))
            .send()
            .await
            .unwrap();
        let records = read_all(&streams, &arn).await;
        assert_eq!(records.len(), 2, "{view:?}");
        let modify = records[1].dynamodb().unwrap();
        assert_eq!(
            records[1].event_name(),
            Some(&OperationType::Modify),
            "a replacing put is one MODIFY"
        );
        assert_eq!(modify.new_image().is_some(), new, "{view:?}");
        assert_eq!(modify.old_image().is_some(), old, "{view:?}");
        assert_eq!(modify.keys().unwrap().len(), 1);
        assert_eq!(modify.stream_view_type().map(|v| v.as_str()), Some(view.as_str()));
    }
}

#[tokio::test]
async fn writes_that_change_nothing_produce_no_record() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let table = unique("streamed");
    let arn = table_with_stream(&client, &table, StreamViewType::NewAndOldImages).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s("1"))
        .send()
        .await
        .unwrap();
    // The same item again, a delete of an absent item, a failed condition, an update to the same value.
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s("1"))
        .send()
        .await
        .unwrap();
    client
        .delete_item()
        .table_name(&table)
        .key("pk", s("nobody"))
        .send()
        .await
        .unwrap();
    let failed = client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s("3"))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    assert!(failed.is_err());
    client
        .update_item()
        .table_name(&table)
        .key("pk", s("a"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", s("1"))
        .send()
        .await
        .unwrap();
    let records = read_all(&streams, &arn).await;
    assert_eq!(records.len(), 1, "only the first put changed anything");
}

#[tokio::test]
async fn table_without_stream_has_no_stream_and_stream_is_added_later() {
    let emulator = TestEmulator::start().await;
    let (client, streams) = (emulator.dynamodb(), emulator.streams());
    let name = unique("later");
    pk_table_request(&client, &name).send().await.unwrap();
    client
        .put_item()
        .table_name(&name)
        .item("pk", s("before"))
        .send()
        .await
        .unwrap();
    let listed = streams.list_streams().table_name(&name).send().await.unwrap();
    assert!(listed.streams().is_empty());
    let updated = client
        .update_table()
        .table_name(&name)
        .stream_specification(stream_on(StreamViewType::KeysOnly))
        .send()
        .await
        .unwrap();
    let arn = updated
        .table_description()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned();
    client
        .put_item()
        .table_name(&name)
        .item("pk", s("after"))
        .send()
        .await
        .unwrap();
    let records = read_all(&streams, &arn).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].dynamodb().unwrap().keys().unwrap()["pk"], ss("after"));
}
