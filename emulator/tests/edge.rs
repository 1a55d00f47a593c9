//! The edge's protocol behaviour, checked on the wire: envelopes, headers, routing, malformed input.

mod common;

use common::TestEmulator;

#[tokio::test]
async fn health_reports_services_version_and_boot_id() {
    let emulator = TestEmulator::start().await;
    let response = emulator.raw("GET", "/_dynastream/health", &[], b"").await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["services"]["dynamodb"], "running");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["bootId"].as_str().unwrap().len(), 36);
    let again = TestEmulator::start()
        .await
        .raw("GET", "/_dynastream/health", &[], b"")
        .await
        .json();
    assert_ne!(again["bootId"], body["bootId"], "a new start has a new boot id");
}

#[tokio::test]
async fn every_json_response_carries_request_id_and_crc32_of_body() {
    let emulator = TestEmulator::start().await;
    for (operation, body) in [
        ("ListTables", "{}"),
        ("DescribeTable", r#"{"TableName":"missing"}"#),
    ] {
        let response = emulator.dynamodb_raw(operation, body).await;
        let id = response.header("x-amzn-requestid").unwrap();
        assert_eq!(id.len(), 52);
        assert!(id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        let crc: u32 = response.header("x-amz-crc32").unwrap().parse().unwrap();
        assert_eq!(crc, crc32fast::hash(response.body.as_bytes()));
        assert_eq!(
            response.header("content-type"),
            Some("application/x-amz-json-1.0")
        );
    }
}

#[tokio::test]
async fn unknown_target_is_unknown_operation_exception() {
    let emulator = TestEmulator::start().await;
    for target in [
        "DynamoDB_20120810.Frobnicate",
        "Nonsense",
        "Kinesis_20131202.ListStreams",
    ] {
        let response = emulator
            .raw(
                "POST",
                "/",
                &[
                    ("Content-Type", "application/x-amz-json-1.0"),
                    ("X-Amz-Target", target),
                ],
                b"{}",
            )
            .await;
        assert_eq!(response.status, 400, "{target}");
        assert_eq!(
            response.json(),
            serde_json::json!({"__type": "com.amazon.coral.service#UnknownOperationException"})
        );
    }
}

#[tokio::test]
async fn unimplemented_operation_names_itself() {
    let emulator = TestEmulator::start().await;
    let response = emulator.dynamodb_raw("RestoreTableFromBackup", "{}").await;
    assert_eq!(response.status, 400);
    let body = response.json();
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#UnknownOperationException"
    );
    assert_eq!(
        body["message"],
        "DynamoDB operation RestoreTableFromBackup is not implemented by dynastream"
    );
}

#[tokio::test]
async fn malformed_json_is_serialization_exception_without_message() {
    let emulator = TestEmulator::start().await;
    for body in ["", "{", "not json", "[1,2"] {
        let response = emulator.dynamodb_raw("ListTables", body).await;
        assert_eq!(response.status, 400, "{body:?}");
        assert_eq!(
            response.json(),
            serde_json::json!({"__type": "com.amazon.coral.service#SerializationException"})
        );
    }
}

#[tokio::test]
async fn wrong_member_types_get_aws_serialization_texts() {
    let emulator = TestEmulator::start().await;
    let cases = [
        (
            r#"{"TableName": 5}"#,
            "NUMBER_VALUE cannot be converted to String",
        ),
        (
            r#"{"TableName": 5.5}"#,
            "DECIMAL_VALUE cannot be converted to String",
        ),
        (
            r#"{"TableName": true}"#,
            "TRUE_VALUE cannot be converted to String",
        ),
        (
            r#"{"TableName": {}}"#,
            "Start of structure or map found where not expected",
        ),
    ];
    for (body, message) in cases {
        let response = emulator.dynamodb_raw("DescribeTable", body).await;
        assert_eq!(response.status, 400);
        let json = response.json();
        assert_eq!(json["__type"], "com.amazon.coral.service#SerializationException");
        assert_eq!(json["Message"], message, "{body}");
    }
    let response = emulator.dynamodb_raw("ListTables", r#"{"Limit": "x"}"#).await;
    assert_eq!(
        response.json()["Message"],
        "STRING_VALUE cannot be converted to Long"
    );
}

#[tokio::test]
async fn other_content_types_and_methods_get_xml_404() {
    let emulator = TestEmulator::start().await;
    let response = emulator
        .raw(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            ],
            b"{}",
        )
        .await;
    assert_eq!(response.status, 404);
    assert_eq!(response.body, "<UnknownOperationException/>\n");
    let response = emulator.raw("PUT", "/", &[], b"").await;
    assert_eq!(response.status, 404);
}

#[tokio::test]
async fn get_root_answers_like_dynamodb() {
    let emulator = TestEmulator::start().await;
    let response = emulator.raw("GET", "/", &[], b"").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "healthy: dynamodb.us-east-1.amazonaws.com ");
}

#[tokio::test]
async fn oversized_body_is_refused_without_reading_it_all() {
    let emulator = TestEmulator::start().await;
    let body = vec![b' '; 16 * 1024 * 1024 + 1];
    let response = emulator
        .dynamodb_raw("ListTables", std::str::from_utf8(&body).unwrap())
        .await;
    assert_eq!(response.status, 413);
}

#[tokio::test]
async fn state_is_kept_per_account_and_region() {
    let emulator = TestEmulator::start().await;
    let east = emulator.dynamodb();
    let west = emulator.dynamodb_in("eu-west-1", "test");
    let other_account = emulator.dynamodb_in("us-east-1", "111122223333");
    let name = common::unique("scoped");
    common::pk_table_request(&east, &name).send().await.unwrap();
    let described = east.describe_table().table_name(&name).send().await.unwrap();
    assert_eq!(
        described.table().unwrap().table_arn(),
        Some(format!("arn:aws:dynamodb:us-east-1:000000000000:table/{name}").as_str())
    );
    assert!(west.describe_table().table_name(&name).send().await.is_err());
    assert!(
        other_account
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .is_err()
    );
    let west_tables = west.list_tables().send().await.unwrap();
    assert!(west_tables.table_names().is_empty());
}

#[tokio::test]
async fn requests_are_counted_by_operation() {
    let emulator = TestEmulator::start().await;
    let dynamodb = emulator.dynamodb();
    dynamodb.list_tables().send().await.unwrap();
    dynamodb.list_tables().send().await.unwrap();
    emulator.lambda().list_functions().send().await.unwrap();
    let counts = emulator
        .raw("GET", "/_dynastream/requests", &[], b"")
        .await
        .json();
    assert_eq!(counts["requests"]["DynamoDB_20120810.ListTables"], 2, "{counts}");
    assert_eq!(counts["requests"]["GET /2015-03-31/functions"], 1, "{counts}");
}
