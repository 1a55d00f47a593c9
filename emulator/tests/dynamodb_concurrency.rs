//! Concurrency: item writes are atomic per item, and conditional writes under contention never lose an update.

mod common;

use aws_sdk_dynamodb::{Client, types::AttributeValue as Av};
use common::{TestEmulator, pk_table};

async fn counter_table(client: &Client) -> String {
    pk_table(client, "counters").await
}

async fn read_counter(client: &Client, table: &str, field: &str) -> String {
    let item = client
        .get_item()
        .table_name(table)
        .key("pk", Av::S("c".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item[field].as_n().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_add_increments_are_all_counted() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = counter_table(&client).await;
    let (tasks, each) = (32, 50);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, table) = (client.clone(), table.clone());
        handles.push(tokio::spawn(async move {
            for _ in 0..each {
                client
                    .update_item()
                    .table_name(&table)
                    .key("pk", Av::S("c".into()))
                    .update_expression("ADD hits :one")
                    .expression_attribute_values(":one", Av::N("1".into()))
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(
        read_counter(&client, &table, "hits").await,
        (tasks * each).to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conditional_increments_never_lose_an_update() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = counter_table(&client).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", Av::S("c".into()))
        .item("version", Av::N("0".into()))
        .send()
        .await
        .unwrap();
    let (tasks, each) = (8, 25);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, table) = (client.clone(), table.clone());
        handles.push(tokio::spawn(async move {
            let (mut successes, mut conflicts) = (0, 0);
            while successes < each {
                let current: u64 = read_counter(&client, &table, "version").await.parse().unwrap();
                let result = client
                    .update_item()
                    .table_name(&table)
                    .key("pk", Av::S("c".into()))
                    .update_expression("SET version = :next")
                    .condition_expression("version = :current")
                    .expression_attribute_values(":current", Av::N(current.to_string()))
                    .expression_attribute_values(":next", Av::N((current + 1).to_string()))
                    .send()
                    .await;
                match result {
                    Ok(_) => successes += 1,
                    Err(err) => {
                        assert!(err.into_service_error().is_conditional_check_failed_exception());
                        conflicts += 1;
                    }
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for handle in handles {
        conflicts += handle.await.unwrap();
    }
    // Every success moved the version by exactly one, whatever the interleaving.
    assert_eq!(
        read_counter(&client, &table, "version").await,
        (tasks * each).to_string()
    );
    eprintln!("{conflicts} conditional conflicts were retried");
}
