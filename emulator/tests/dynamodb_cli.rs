//! The AWS CLI v2 against the emulator: its requests (shorthand syntax, waiters, paginated lists) must parse and
//! its output must read as it does against AWS.

mod common;

use common::{TestEmulator, aws, unique};
use serde_json::Value;

fn json(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "aws failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_creates_table_puts_and_gets_item_as_the_guide_writes_it() {
    let emulator = TestEmulator::start().await;
    let table = unique("BarkTable");
    let Some(created) = aws(
        &emulator,
        &[
            "dynamodb",
            "create-table",
            "--table-name",
            &table,
            "--attribute-definitions",
            "AttributeName=Username,AttributeType=S",
            "AttributeName=Timestamp,AttributeType=S",
            "--key-schema",
            "AttributeName=Username,KeyType=HASH",
            "AttributeName=Timestamp,KeyType=RANGE",
            "--provisioned-throughput",
            "ReadCapacityUnits=5,WriteCapacityUnits=5",
            "--stream-specification",
            "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES",
        ],
    )
    .await
    else {
        return;
    };
    let created = json(&created);
    let arn = created["TableDescription"]["LatestStreamArn"].as_str().unwrap();
    assert!(arn.starts_with(&format!(
        "arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/"
    )));

    let waited = aws(
        &emulator,
        &["dynamodb", "wait", "table-exists", "--table-name", &table],
    )
    .await
    .unwrap();
    assert!(
        waited.status.success(),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );

    let put = aws(
        &emulator,
        &[
            "dynamodb",
            "put-item",
            "--table-name",
            &table,
            "--item",
            r#"Username={S="Jane Doe"},Timestamp={S="2016-11-18:14:32:17"},Message={S="Testing...1...2...3"}"#,
        ],
    )
    .await
    .unwrap();
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));

    let got = json(
        &aws(
            &emulator,
            &[
                "dynamodb",
                "get-item",
                "--table-name",
                &table,
                "--key",
                r#"{"Username": {"S": "Jane Doe"}, "Timestamp": {"S": "2016-11-18:14:32:17"}}"#,
            ],
        )
        .await
        .unwrap(),
    );
    assert_eq!(got["Item"]["Message"]["S"], "Testing...1...2...3");

    let described = json(
        &aws(&emulator, &["dynamodb", "describe-table", "--table-name", &table])
            .await
            .unwrap(),
    );
    assert_eq!(described["Table"]["TableStatus"], "ACTIVE");
    assert_eq!(described["Table"]["ItemCount"], 1);
    assert_eq!(described["Table"]["LatestStreamArn"], arn);

    let listed = json(&aws(&emulator, &["dynamodb", "list-tables"]).await.unwrap());
    assert_eq!(listed["TableNames"], serde_json::json!([table]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_shows_aws_error_for_missing_table() {
    let emulator = TestEmulator::start().await;
    let Some(output) = aws(
        &emulator,
        &["dynamodb", "describe-table", "--table-name", "missing"],
    )
    .await
    else {
        return;
    };
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "An error occurred (ResourceNotFoundException) when calling the DescribeTable operation: Requested \
             resource not found: Table: missing not found"
        ),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_update_item_with_expression_returns_new_values() {
    let emulator = TestEmulator::start().await;
    let table = unique("cli");
    let Some(created) = aws(
        &emulator,
        &[
            "dynamodb",
            "create-table",
            "--table-name",
            &table,
            "--attribute-definitions",
            "AttributeName=pk,AttributeType=S",
            "--key-schema",
            "AttributeName=pk,KeyType=HASH",
            "--billing-mode",
            "PAY_PER_REQUEST",
        ],
    )
    .await
    else {
        return;
    };
    json(&created);
    let updated = json(
        &aws(
            &emulator,
            &[
                "dynamodb",
                "update-item",
                "--table-name",
                &table,
                "--key",
                r#"{"pk": {"S": "k"}}"#,
                "--update-expression",
                "SET #c = if_not_exists(#c, :zero) + :one",
                "--expression-attribute-names",
                r##"{"#c": "count"}"##,
                "--expression-attribute-values",
                r#"{":zero": {"N": "0"}, ":one": {"N": "1"}}"#,
                "--return-values",
                "UPDATED_NEW",
            ],
        )
        .await
        .unwrap(),
    );
    assert_eq!(updated["Attributes"]["count"]["N"], "1");
}
