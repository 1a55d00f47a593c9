//! Query and Scan through the official AWS SDK for Rust: key conditions, ordering, pagination, the 1 MB page,
//! filters, Select, parallel scans and AWS's validation errors.

mod common;

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue as Av, KeyType, ScalarAttributeType, Select},
};
use common::{TestEmulator, attr, error_of, key, n, pk_table_request, s, unique};

/// A table with hash key `pk` (S) and sort key `sk` of type `sort_type`.
async fn table(client: &Client, sort_type: ScalarAttributeType) -> String {
    let name = unique("qs");
    pk_table_request(client, &name)
        .attribute_definitions(attr("sk", sort_type))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
    name
}

async fn put(client: &Client, table: &str, pk: &str, sk: Av, extra: &[(&str, Av)]) {
    let mut request = client
        .put_item()
        .table_name(table)
        .item("pk", s(pk))
        .item("sk", sk);
    for (name, value) in extra {
        request = request.item(*name, value.clone());
    }
    request.send().await.unwrap();
}

fn sort_keys(items: &[HashMap<String, Av>]) -> Vec<String> {
    items
        .iter()
        .map(|i| match &i["sk"] {
            Av::N(v) | Av::S(v) => v.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn query_returns_partition_in_numeric_sort_order_forward_and_backward() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    for sk in ["10", "9", "-1", "2.5", "100"] {
        put(&client, &table, "p", n(sk), &[]).await;
    }
    put(&client, &table, "other", n(1), &[]).await;
    let query = || {
        client
            .query()
            .table_name(&table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
    };
    let forward = query().send().await.unwrap();
    assert_eq!(sort_keys(forward.items()), ["-1", "2.5", "9", "10", "100"]);
    assert_eq!((forward.count(), forward.scanned_count()), (5, 5));
    assert!(forward.last_evaluated_key().is_none());
    let backward = query().scan_index_forward(false).send().await.unwrap();
    assert_eq!(sort_keys(backward.items()), ["100", "10", "9", "2.5", "-1"]);
}

#[tokio::test]
async fn sort_key_conditions_select_the_right_items() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::S).await;
    for sk in ["a", "ab", "abc", "b", "ba", "c"] {
        put(&client, &table, "p", s(sk), &[]).await;
    }
    // (sort-key condition, its values, the sort keys it selects)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 8] = [
        ("sk = :x", &[(":x", "ab")], &["ab"]),
        ("sk < :x", &[(":x", "b")], &["a", "ab", "abc"]),
        ("sk <= :x", &[(":x", "b")], &["a", "ab", "abc", "b"]),
        ("sk > :x", &[(":x", "ab")], &["abc", "b", "ba", "c"]),
        ("sk >= :x", &[(":x", "b")], &["b", "ba", "c"]),
        (
            "sk BETWEEN :x AND :y",
            &[(":x", "ab"), (":y", "b")],
            &["ab", "abc", "b"],
        ),
        ("begins_with(sk, :x)", &[(":x", "ab")], &["ab", "abc"]),
        (":x < sk", &[(":x", "b")], &["ba", "c"]),
    ];
    for (condition, values, expected) in cases {
        let mut request = client
            .query()
            .table_name(&table)
            .key_condition_expression(format!("pk = :p AND {condition}"))
            .expression_attribute_values(":p", s("p"));
        for (placeholder, value) in values {
            request = request.expression_attribute_values(*placeholder, s(value));
        }
        let output = request.send().await.unwrap();
        assert_eq!(sort_keys(output.items()), expected, "{condition}");
    }
}

#[tokio::test]
async fn query_paginator_walks_every_item_exactly_once_in_order() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    for i in 0..250 {
        put(&client, &table, "p", n(i), &[]).await;
    }
    let first = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .limit(100)
        .send()
        .await
        .unwrap();
    assert_eq!(first.count(), 100);
    let last = first.last_evaluated_key().unwrap();
    assert_eq!(last.len(), 2);
    assert_eq!(last["sk"], n(99));
    let seen: Vec<String> = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .limit(33)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|item| item["sk"].as_n().unwrap().clone())
        .collect();
    let expected: Vec<String> = (0..250).map(|i| i.to_string()).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn full_page_returns_last_evaluated_key_even_when_nothing_follows() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    for i in 0..3 {
        put(&client, &table, "p", n(i), &[]).await;
    }
    let page = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .limit(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page.count(), 3);
    let next = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .set_exclusive_start_key(page.last_evaluated_key)
        .send()
        .await
        .unwrap();
    assert_eq!(next.count(), 0);
    assert!(next.last_evaluated_key().is_none());
}

#[tokio::test]
async fn pages_stop_at_one_megabyte_read() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    let payload = "x".repeat(300_000);
    for i in 0..8 {
        put(&client, &table, "p", n(i), &[("data", s(&payload))]).await;
    }
    let page = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.count(), 4, "four 300 KB items cross 1 MB");
    assert_eq!(page.last_evaluated_key().unwrap()["sk"], n(3));
    let scanned = client.scan().table_name(&table).send().await.unwrap();
    assert_eq!(scanned.count(), 4);
}

#[tokio::test]
async fn filter_applies_after_limit_and_counts_differ() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    for i in 0..10 {
        put(&client, &table, "p", n(i), &[("even", Av::Bool(i % 2 == 0))]).await;
    }
    let page = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .filter_expression("even = :t")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":t", Av::Bool(true))
        .limit(5)
        .send()
        .await
        .unwrap();
    assert_eq!((page.count(), page.scanned_count()), (3, 5));
    assert_eq!(sort_keys(page.items()), ["0", "2", "4"]);
    let counted = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .filter_expression("even = :t")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":t", Av::Bool(false))
        .select(Select::Count)
        .send()
        .await
        .unwrap();
    assert_eq!((counted.count(), counted.scanned_count()), (5, 10));
    assert!(counted.items.is_none(), "COUNT returns no Items member");
}

#[tokio::test]
async fn projection_and_legacy_key_conditions_work() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    put(&client, &table, "p", n(1), &[("a", s("x")), ("b", s("y"))]).await;
    let projected = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .projection_expression("b")
        .expression_attribute_values(":p", s("p"))
        .send()
        .await
        .unwrap();
    assert_eq!(projected.items(), [HashMap::from([("b".to_owned(), s("y"))])]);
    let legacy = client
        .query()
        .table_name(&table)
        .key_conditions(
            "pk",
            aws_sdk_dynamodb::types::Condition::builder()
                .comparison_operator(aws_sdk_dynamodb::types::ComparisonOperator::Eq)
                .attribute_value_list(s("p"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.count(), 1);
}

#[tokio::test]
async fn key_condition_errors_use_aws_messages() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    // (key condition, its values, AWS's message)
    type Case<'a> = (&'a str, &'a [(&'a str, Av)], &'a str);
    let cases: [Case; 8] = [
        (
            "sk = :n",
            &[(":n", n(1))],
            "Query condition missed key schema element: pk",
        ),
        (
            "pk = :p OR sk = :n",
            &[(":p", s("p")), (":n", n(1))],
            "Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            "pk = :p AND colour = :n",
            &[(":p", s("p")), (":n", n(1))],
            "Query key condition not supported",
        ),
        ("pk > :p", &[(":p", s("p"))], "Query key condition not supported"),
        (
            "pk = :n",
            &[(":n", n(1))],
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :p AND sk > :n AND sk < :n",
            &[(":p", s("p")), (":n", n(1))],
            "KeyConditionExpressions must only contain one condition per key",
        ),
        (
            "pk.x = :p",
            &[(":p", s("p"))],
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        (
            "attribute_exists(pk)",
            &[],
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
    ];
    for (condition, values, expected) in cases {
        let mut request = client
            .query()
            .table_name(&table)
            .key_condition_expression(condition);
        for (placeholder, value) in values {
            request = request.expression_attribute_values(*placeholder, value.clone());
        }
        let (code, message) = error_of(request.send().await).await;
        assert_eq!(code, "ValidationException", "{condition}");
        assert_eq!(message, expected, "{condition}");
    }
    let (_, message) = error_of(client.query().table_name(&table).send().await).await;
    assert_eq!(
        message,
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
    );
    let (_, message) = error_of(
        client
            .query()
            .table_name(&table)
            .key_condition_expression("pk = :p")
            .filter_expression("sk > :n")
            .expression_attribute_values(":p", s("p"))
            .expression_attribute_values(":n", n(1))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    );
    let (_, message) = error_of(
        client
            .query()
            .table_name(&table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .select(Select::AllProjectedAttributes)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
    );
    let (code, message) = error_of(
        client
            .query()
            .table_name(&table)
            .index_name("nope")
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ValidationException",
            "The table does not have the specified index: nope"
        )
    );
    let (_, message) = error_of(
        client
            .query()
            .table_name(&table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .exclusive_start_key("pk", s("elsewhere"))
            .exclusive_start_key("sk", n(1))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "The provided starting key is outside query boundaries based on provided conditions"
    );
}

#[tokio::test]
async fn scan_paginator_and_parallel_segments_see_every_item_exactly_once() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    let mut expected = BTreeSet::new();
    for p in 0..40 {
        for sk in 0..5 {
            put(&client, &table, &format!("p{p}"), n(sk), &[]).await;
            expected.insert(format!("p{p}/{sk}"));
        }
    }
    let key_of =
        |item: &HashMap<String, Av>| format!("{}/{}", item["pk"].as_s().unwrap(), item["sk"].as_n().unwrap());
    let all: Vec<String> = client
        .scan()
        .table_name(&table)
        .limit(17)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(key_of)
        .collect();
    assert_eq!(all.len(), expected.len(), "no duplicates");
    assert_eq!(all.iter().cloned().collect::<BTreeSet<_>>(), expected);

    let mut union = Vec::new();
    for segment in 0..4 {
        let items: Vec<String> = client
            .scan()
            .table_name(&table)
            .segment(segment)
            .total_segments(4)
            .limit(7)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap()
            .iter()
            .map(key_of)
            .collect();
        union.extend(items);
    }
    assert_eq!(union.len(), expected.len(), "every item in exactly one segment");
    assert_eq!(union.into_iter().collect::<BTreeSet<_>>(), expected);

    let (_, message) = error_of(
        client
            .scan()
            .table_name(&table)
            .segment(4)
            .total_segments(4)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        message,
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less \
         than TotalSegments: 4"
    );
    let (_, message) = error_of(client.scan().table_name(&table).segment(1).send().await).await;
    assert_eq!(
        message,
        "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
    );
}

#[tokio::test]
async fn scan_filter_and_legacy_scan_filter_agree() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = table(&client, ScalarAttributeType::N).await;
    for i in 0..20 {
        put(&client, &table, &format!("p{i}"), n(i), &[("v", n(i * 10))]).await;
    }
    let by_expression = client
        .scan()
        .table_name(&table)
        .filter_expression("v >= :min")
        .expression_attribute_values(":min", n(150))
        .send()
        .await
        .unwrap();
    let by_legacy = client
        .scan()
        .table_name(&table)
        .scan_filter(
            "v",
            aws_sdk_dynamodb::types::Condition::builder()
                .comparison_operator(aws_sdk_dynamodb::types::ComparisonOperator::Ge)
                .attribute_value_list(n(150))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!((by_expression.count(), by_expression.scanned_count()), (5, 20));
    assert_eq!(by_legacy.count(), 5);
}
