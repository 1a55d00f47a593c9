//! Item operations through the official AWS SDK for Rust: PutItem, GetItem, DeleteItem and UpdateItem with
//! expressions, legacy parameters, ReturnValues, capacity and AWS's errors.

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeAction, AttributeValue as Av, AttributeValueUpdate, ComparisonOperator,
        ExpectedAttributeValue, KeyType, ReturnConsumedCapacity, ReturnValue,
        ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
    },
};
use common::{
    TestEmulator, attr, error_of,
    items::{get, key},
    n, pk_table_request, s, unique,
};

/// A table with hash key `pk` (S) and, when `with_sort`, sort key `sk` (N).
async fn table(client: &Client, with_sort: bool) -> String {
    let name = unique("items");
    let mut request = pk_table_request(client, &name);
    if with_sort {
        request = request
            .attribute_definitions(attr("sk", ScalarAttributeType::N))
            .key_schema(common::key("sk", KeyType::Range));
    }
    request.send().await.unwrap();
    name
}

/// Whether `expression` uses the placeholder `token` (not just a longer one starting with it).
fn uses(expression: &str, token: &str) -> bool {
    expression.match_indices(token).any(|(at, _)| {
        !expression[at + token.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[tokio::test]
async fn put_then_get_round_trips_every_attribute_type_with_normalised_numbers() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    let item = HashMap::from([
        ("pk".to_owned(), s("a")),
        ("n".to_owned(), n("+0001.2300")),
        ("big".to_owned(), n("1e+5")),
        ("b".to_owned(), Av::B(vec![0, 1, 254].into())),
        ("t".to_owned(), Av::Bool(true)),
        ("z".to_owned(), Av::Null(true)),
        ("l".to_owned(), Av::L(vec![s("x"), n("2")])),
        (
            "m".to_owned(),
            Av::M(HashMap::from([(
                "inner".to_owned(),
                Av::Ss(vec!["p".into(), "q".into()]),
            )])),
        ),
        ("ns".to_owned(), Av::Ns(vec!["3".into(), "-1.5".into()])),
        ("bs".to_owned(), Av::Bs(vec![vec![1].into(), vec![2].into()])),
        ("empty".to_owned(), s("")),
    ]);
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(item.clone()))
        .send()
        .await
        .unwrap();
    let got = get(&client, &table, "a").await.unwrap();
    assert_eq!(got["n"], n("1.23"));
    assert_eq!(got["big"], n("100000"));
    assert_eq!(got["b"], item["b"]);
    assert_eq!(got["m"], item["m"]);
    assert_eq!(got["l"], item["l"]);
    assert_eq!(got["ns"], Av::Ns(vec!["3".into(), "-1.5".into()]));
    assert_eq!(got["empty"], s(""));
    assert_eq!(got.len(), item.len());
}

#[tokio::test]
async fn get_of_absent_item_returns_no_item() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    assert!(get(&client, &table, "nobody").await.is_none());
}

#[tokio::test]
async fn item_operations_on_missing_table_are_resource_not_found() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let (code, message) = error_of(
        client
            .get_item()
            .table_name("missing")
            .set_key(Some(key("a")))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", "Requested resource not found")
    );
    let (code, _) = error_of(
        client
            .put_item()
            .table_name("missing")
            .set_item(Some(key("a")))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn key_validation_uses_aws_messages() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, true).await;
    let p = "One or more parameter values were invalid: ";
    let (_, message) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("pk", s("a"))
            .send()
            .await,
    )
    .await;
    assert_eq!(message, format!("{p}Missing the key sk in the item"));
    let (_, message) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("pk", n("1"))
            .item("sk", n("1"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        format!("{p}Type mismatch for key pk expected: S actual: N")
    );
    let (_, message) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("pk", s(""))
            .item("sk", n("1"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an \
         empty string value. Key: pk"
    );
    let (code, message) = error_of(
        client
            .get_item()
            .table_name(&table)
            .key("pk", s("a"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "The provided key element does not match the schema"
        )
    );
    let long = "x".repeat(2049);
    let (_, message) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("pk", s(&long))
            .item("sk", n("1"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        format!("{p}Size of hashkey has exceeded the maximum size limit of2048 bytes")
    );
}

#[tokio::test]
async fn invalid_attribute_values_are_rejected_with_aws_messages() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    let p = "One or more parameter values were invalid: ";
    let cases = [
        (Av::Ss(vec![]), format!("{p}An string set  may not be empty")),
        (
            Av::Ss(vec!["a".into(), "a".into()]),
            format!("{p}Input collection [a, a] contains duplicates."),
        ),
        (
            Av::Ns(vec!["1".into(), "1.0".into()]),
            "Input collection contains duplicates".to_owned(),
        ),
        (
            n("abc"),
            "The parameter cannot be converted to a numeric value: abc".to_owned(),
        ),
        (
            n("9".repeat(39)),
            "Attempting to store more than 38 significant digits in a Number".to_owned(),
        ),
        (
            n("1e126"),
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
                .to_owned(),
        ),
        (
            Av::Null(false),
            format!("{p}Null attribute value types must have the value of true"),
        ),
    ];
    for (value, expected) in cases {
        let (code, message) = error_of(
            client
                .put_item()
                .table_name(&table)
                .item("pk", s("a"))
                .item("v", value.clone())
                .send()
                .await,
        )
        .await;
        assert_eq!(code, "ValidationException", "{value:?}");
        assert_eq!(message, expected, "{value:?}");
    }
    assert!(get(&client, &table, "a").await.is_none(), "nothing was stored");
}

#[tokio::test]
async fn item_size_limit_is_400_kb_counted_the_aws_way() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    // pk: 2 + 1 bytes; v: 1 + len bytes
    let fits = "x".repeat(409_600 - 3 - 1);
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s(&fits))
        .send()
        .await
        .unwrap();
    let too_big = "x".repeat(409_600 - 3);
    let (code, message) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("pk", s("a"))
            .item("v", s(&too_big))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "Item size has exceeded the maximum allowed size"
        )
    );
}

#[tokio::test]
async fn put_and_delete_return_old_item_when_asked() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    let first = client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", n("1"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert!(first.attributes.is_none());
    let second = client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", n("2"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(second.attributes.unwrap()["v"], n("1"));
    let deleted = client
        .delete_item()
        .table_name(&table)
        .key("pk", s("a"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.attributes.unwrap()["v"], n("2"));
    assert!(get(&client, &table, "a").await.is_none());
    let (code, message) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("pk", s("a"))
            .return_values(ReturnValue::AllNew)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationException", "ReturnValues can only be ALL_OLD or NONE")
    );
}

#[tokio::test]
async fn put_with_failed_condition_leaves_item_unchanged() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", n("1"))
        .send()
        .await
        .unwrap();
    let result = client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", n("2"))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    let err = result.unwrap_err().into_service_error();
    assert_eq!(err.meta().code(), Some("ConditionalCheckFailedException"));
    assert_eq!(err.meta().message(), Some("The conditional request failed"));
    match err {
        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => {
            assert_eq!(
                e.item().unwrap()["v"],
                n("1"),
                "ALL_OLD returns the current item with the error"
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(get(&client, &table, "a").await.unwrap()["v"], n("1"));
}

#[tokio::test]
async fn conditions_cover_comparators_functions_and_logic() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("n", n("10"))
        .item("name", s("dynastream"))
        .item("tags", Av::Ss(vec!["x".into(), "y".into()]))
        .item("list", Av::L(vec![s("one"), s("two")]))
        .send()
        .await
        .unwrap();
    let values = HashMap::from([
        (":five".to_owned(), n("5")),
        (":ten".to_owned(), n("10")),
        (":twenty".to_owned(), n("20")),
        (":pre".to_owned(), s("dyna")),
        (":x".to_owned(), s("x")),
        (":two".to_owned(), s("two")),
        (":str".to_owned(), s("S")),
        (":three".to_owned(), n("3")),
    ]);
    let holds = [
        "#n > :five",
        "#n >= :ten AND #n <= :ten",
        "#n BETWEEN :five AND :twenty",
        "#n IN (:five, :ten)",
        "#n <> :five",
        "begins_with(#name, :pre)",
        "contains(tags, :x)",
        "contains(#list, :two)",
        "attribute_type(#name, :str)",
        "size(tags) < :three",
        "attribute_exists(#name) AND NOT attribute_exists(absent)",
        "#n < :five OR (#n = :ten AND size(#name) = :ten)",
    ];
    let names = HashMap::from([("#n", "n"), ("#name", "name"), ("#list", "list")]);
    for condition in holds {
        let used_names: HashMap<String, String> = names
            .iter()
            .filter(|(k, _)| uses(condition, k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut used_values: HashMap<String, Av> = values
            .iter()
            .filter(|(k, _)| uses(condition, k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        used_values.insert(":ten".into(), n("10")); // the update expression's value
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET touched = :ten")
            .condition_expression(condition)
            .set_expression_attribute_names(Some(used_names).filter(|m| !m.is_empty()))
            .set_expression_attribute_values(Some(used_values))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{condition}: {:?}", e.into_service_error()));
    }
    let (code, _) = error_of(
        client
            .delete_item()
            .table_name(&table)
            .key("pk", s("a"))
            .condition_expression("n > :twenty")
            .expression_attribute_values(":twenty", n("20"))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ConditionalCheckFailedException");
}

#[tokio::test]
async fn update_expression_set_remove_add_delete_apply_as_aws_does() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("count", n("1"))
        .item("entries", Av::L(vec![n("1"), n("2")]))
        .item(
            "map",
            Av::M(HashMap::from([
                ("deep".to_owned(), s("old")),
                ("stale".to_owned(), s("x")),
            ])),
        )
        .item("tags", Av::Ss(vec!["a".into(), "b".into()]))
        .item("labels", Av::Ss(vec!["a".into(), "b".into()]))
        .item("gone", s("bye"))
        .send()
        .await
        .unwrap();
    let output = client
        .update_item()
        .table_name(&table)
        .key("pk", s("a"))
        .update_expression(
            "SET #c = #c + :one, entries = list_append(entries, :more), #m.deep = :new, fresh = if_not_exists(fresh, :zero) \
             REMOVE gone, #m.stale ADD tags :c, tally :one DELETE labels :a",
        )
        .expression_attribute_names("#c", "count")
        .expression_attribute_names("#m", "map")
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":more", Av::L(vec![n("3")]))
        .expression_attribute_values(":new", s("new"))
        .expression_attribute_values(":zero", n("0"))
        .expression_attribute_values(":c", Av::Ss(vec!["c".into()]))
        .expression_attribute_values(":a", Av::Ss(vec!["a".into()]))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let item = output.attributes.unwrap();
    assert_eq!(item["count"], n("2"));
    assert_eq!(item["entries"], Av::L(vec![n("1"), n("2"), n("3")]));
    assert_eq!(item["map"], Av::M(HashMap::from([("deep".to_owned(), s("new"))])));
    assert_eq!(item["fresh"], n("0"));
    assert_eq!(item["tally"], n("1"));
    let Av::Ss(mut tags) = item["tags"].clone() else {
        panic!("tags is a string set")
    };
    tags.sort();
    assert_eq!(tags, ["a", "b", "c"]);
    assert_eq!(item["labels"], Av::Ss(vec!["b".into()]));
    assert!(!item.contains_key("gone"));
    assert_eq!(get(&client, &table, "a").await.unwrap(), item);
}

#[tokio::test]
async fn update_return_values_updated_old_and_new_show_only_changed_attributes() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("x", n("1"))
        .item("y", n("5"))
        .send()
        .await
        .unwrap();
    let update = |rv: ReturnValue| {
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET x = x + :one")
            .expression_attribute_values(":one", n("1"))
            .return_values(rv)
            .send()
    };
    let old = update(ReturnValue::UpdatedOld).await.unwrap().attributes.unwrap();
    assert_eq!(old, HashMap::from([("x".to_owned(), n("1"))]));
    let new = update(ReturnValue::UpdatedNew).await.unwrap().attributes.unwrap();
    assert_eq!(new, HashMap::from([("x".to_owned(), n("3"))]));
    let all_old = update(ReturnValue::AllOld).await.unwrap().attributes.unwrap();
    assert_eq!(all_old.len(), 3);
    assert_eq!(all_old["x"], n("3"));
}

#[tokio::test]
async fn update_of_absent_item_creates_it_with_its_key() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, true).await;
    client
        .update_item()
        .table_name(&table)
        .key("pk", s("new"))
        .key("sk", n("7"))
        .update_expression("ADD visits :one")
        .expression_attribute_values(":one", n("1"))
        .send()
        .await
        .unwrap();
    let item = client
        .get_item()
        .table_name(&table)
        .key("pk", s("new"))
        .key("sk", n("7"))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        item,
        HashMap::from([
            ("pk".to_owned(), s("new")),
            ("sk".to_owned(), n("7")),
            ("visits".to_owned(), n("1"))
        ])
    );
}

#[tokio::test]
async fn update_of_key_attribute_is_refused() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    let (code, message) = error_of(
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET pk = :v")
            .expression_attribute_values(":v", s("b"))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    );
}

#[tokio::test]
async fn expression_attribute_errors_use_aws_messages() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    let (_, message) = error_of(
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET a = :missing")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute \
         value: :missing"
    );
    let (_, message) = error_of(
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET a = :v")
            .expression_attribute_values(":v", n("1"))
            .expression_attribute_values(":unused", n("1"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    );
    let (_, message) = error_of(
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET size = :v")
            .expression_attribute_values(":v", n("1"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: size"
    );
    let (_, message) = error_of(
        client
            .get_item()
            .table_name(&table)
            .key("pk", s("a"))
            .expression_attribute_names("#a", "a")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "ExpressionAttributeNames can only be specified when using expressions"
    );
    let (_, message) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("pk", s("a"))
            .condition_expression("a = :v")
            .expected("a", ExpectedAttributeValue::builder().exists(false).build())
            .expression_attribute_values(":v", n("1"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "Can not use both expression and non-expression parameters in the same request: Non-expression \
         parameters: {Expected} Expression parameters: {ConditionExpression}"
    );
    let (_, message) = error_of(
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "Invalid UpdateExpression: The expression can not be empty;"
    );
    let (_, message) = error_of(
        client
            .update_item()
            .table_name(&table)
            .key("pk", s("a"))
            .update_expression("SET entries = :v REMOVE entries[0]")
            .expression_attribute_values(":v", n("1"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these \
         paths; path one: [entries], path two: [entries, [0]]"
    );
}

#[tokio::test]
async fn projection_expression_returns_only_the_named_paths() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("keep", s("yes"))
        .item("drop", s("no"))
        .item(
            "nested",
            Av::M(HashMap::from([
                ("in".to_owned(), n("1")),
                ("out".to_owned(), n("2")),
            ])),
        )
        .item("entries", Av::L(vec![s("zero"), s("one"), s("two")]))
        .send()
        .await
        .unwrap();
    let item = client
        .get_item()
        .table_name(&table)
        .key("pk", s("a"))
        .projection_expression("keep, #n.#i, entries[1]")
        .expression_attribute_names("#n", "nested")
        .expression_attribute_names("#i", "in")
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        item,
        HashMap::from([
            ("keep".to_owned(), s("yes")),
            (
                "nested".to_owned(),
                Av::M(HashMap::from([("in".to_owned(), n("1"))]))
            ),
            ("entries".to_owned(), Av::L(vec![s("one")])),
        ])
    );
}

#[tokio::test]
async fn legacy_expected_attribute_updates_and_attributes_to_get_work() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", n("1"))
        .expected("pk", ExpectedAttributeValue::builder().exists(false).build())
        .send()
        .await
        .unwrap();
    let (code, _) = error_of(
        client
            .put_item()
            .table_name(&table)
            .item("pk", s("a"))
            .expected("pk", ExpectedAttributeValue::builder().exists(false).build())
            .send()
            .await,
    )
    .await;
    assert_eq!(code, "ConditionalCheckFailedException");
    client
        .update_item()
        .table_name(&table)
        .key("pk", s("a"))
        .attribute_updates(
            "v",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Add)
                .value(n("2"))
                .build(),
        )
        .attribute_updates("w", AttributeValueUpdate::builder().value(s("put")).build())
        .expected(
            "v",
            ExpectedAttributeValue::builder()
                .comparison_operator(ComparisonOperator::Lt)
                .attribute_value_list(n("5"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let item = client
        .get_item()
        .table_name(&table)
        .key("pk", s("a"))
        .attributes_to_get("v")
        .attributes_to_get("w")
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        item,
        HashMap::from([("v".to_owned(), n("3")), ("w".to_owned(), s("put"))])
    );
}

#[tokio::test]
async fn consumed_capacity_is_reported_when_asked() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, false).await;
    let put = client
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s(&"x".repeat(1500)))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let capacity = put.consumed_capacity.unwrap();
    assert_eq!(capacity.table_name(), Some(table.as_str()));
    assert_eq!(capacity.capacity_units(), Some(2.0));
    let read = client
        .get_item()
        .table_name(&table)
        .key("pk", s("a"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let capacity = read.consumed_capacity.unwrap();
    assert_eq!(capacity.capacity_units(), Some(0.5));
    assert_eq!(capacity.table().unwrap().capacity_units(), Some(0.5));
}
