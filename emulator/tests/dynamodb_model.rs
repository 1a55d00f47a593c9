//! A model-based test: random puts, updates and deletes applied both to dynastream and to a simple in-test model
//! of the same table; Query (every sort-key condition, both directions, paginated), Scan and GSI queries must agree
//! with the model in contents and order.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeValue as Av, BillingMode, GlobalSecondaryIndex, KeyType, Projection, ProjectionType,
        ScalarAttributeType,
    },
};
use common::{TestEmulator, attr, key, unique};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// The model: partition -> sort key -> (group, value).
type Model = BTreeMap<String, BTreeMap<i64, (Option<String>, i64)>>;

const PARTITIONS: usize = 4;
const SORT_KEYS: i64 = 24;
const GROUPS: [&str; 3] = ["a", "b", "c"];

async fn create(client: &Client) -> String {
    let name = unique("model");
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .attribute_definitions(attr("grp", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-grp")
                .key_schema(key("grp", KeyType::Hash))
                .key_schema(key("sk", KeyType::Range))
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

async fn collect_query(
    client: &Client,
    table: &str,
    condition: &str,
    values: HashMap<String, Av>,
    index: Option<&str>,
    forward: bool,
    limit: i32,
) -> Vec<HashMap<String, Av>> {
    client
        .query()
        .table_name(table)
        .set_index_name(index.map(str::to_owned))
        .key_condition_expression(condition)
        .set_expression_attribute_values(Some(values))
        .scan_index_forward(forward)
        .limit(limit)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
}

fn row(item: &HashMap<String, Av>) -> (String, i64, Option<String>, i64) {
    (
        item["pk"].as_s().unwrap().clone(),
        item["sk"].as_n().unwrap().parse().unwrap(),
        item.get("grp").map(|g| g.as_s().unwrap().clone()),
        item["v"].as_n().unwrap().parse().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_writes_agree_with_a_model_on_query_scan_and_index_contents() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table = create(&client).await;
    let mut model = Model::new();
    let mut rng = StdRng::seed_from_u64(0x0d15_ea5e);

    for round in 0..6 {
        for _ in 0..120 {
            let pk = format!("p{}", rng.random_range(0..PARTITIONS));
            let sk = rng.random_range(-SORT_KEYS / 2..SORT_KEYS / 2);
            match rng.random_range(0..4) {
                0 | 1 => {
                    let group =
                        (rng.random_range(0..4) < 3).then(|| GROUPS[rng.random_range(0..3)].to_owned());
                    let value = rng.random_range(0..1000);
                    let mut request = client
                        .put_item()
                        .table_name(&table)
                        .item("pk", Av::S(pk.clone()))
                        .item("sk", Av::N(sk.to_string()))
                        .item("v", Av::N(value.to_string()));
                    if let Some(group) = &group {
                        request = request.item("grp", Av::S(group.clone()));
                    }
                    request.send().await.unwrap();
                    model.entry(pk).or_default().insert(sk, (group, value));
                }
                2 => {
                    let exists = model.get(&pk).is_some_and(|p| p.contains_key(&sk));
                    let result = client
                        .update_item()
                        .table_name(&table)
                        .key("pk", Av::S(pk.clone()))
                        .key("sk", Av::N(sk.to_string()))
                        .update_expression("SET v = v + :one REMOVE grp")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":one", Av::N("1".into()))
                        .send()
                        .await;
                    assert_eq!(
                        result.is_ok(),
                        exists,
                        "the condition holds exactly when the item exists"
                    );
                    if let Some(entry) = model.get_mut(&pk).and_then(|p| p.get_mut(&sk)) {
                        entry.0 = None;
                        entry.1 += 1;
                    }
                }
                _ => {
                    client
                        .delete_item()
                        .table_name(&table)
                        .key("pk", Av::S(pk.clone()))
                        .key("sk", Av::N(sk.to_string()))
                        .send()
                        .await
                        .unwrap();
                    if let Some(partition) = model.get_mut(&pk) {
                        partition.remove(&sk);
                    }
                }
            }
        }

        // Query every partition with a random sort-key condition, direction and page size.
        for p in 0..PARTITIONS {
            let pk = format!("p{p}");
            let a = rng.random_range(-SORT_KEYS / 2..SORT_KEYS / 2);
            let b = rng.random_range(a..SORT_KEYS / 2 + 1);
            let (condition, keep): (&str, Box<dyn Fn(i64) -> bool>) = match rng.random_range(0..6) {
                0 => ("pk = :p", Box::new(|_| true)),
                1 => ("pk = :p AND sk < :a", Box::new(move |s| s < a)),
                2 => ("pk = :p AND sk <= :a", Box::new(move |s| s <= a)),
                3 => ("pk = :p AND sk > :a", Box::new(move |s| s > a)),
                4 => ("pk = :p AND sk >= :a", Box::new(move |s| s >= a)),
                _ => (
                    "pk = :p AND sk BETWEEN :a AND :b",
                    Box::new(move |s| s >= a && s <= b),
                ),
            };
            let mut values = HashMap::from([(":p".to_owned(), Av::S(pk.clone()))]);
            if condition.contains(":a") {
                values.insert(":a".into(), Av::N(a.to_string()));
            }
            if condition.contains(":b") {
                values.insert(":b".into(), Av::N(b.to_string()));
            }
            let forward = rng.random_bool(0.5);
            let limit = rng.random_range(1..10);
            let got: Vec<_> = collect_query(&client, &table, condition, values, None, forward, limit)
                .await
                .iter()
                .map(row)
                .collect();
            let mut expected: Vec<_> = model
                .get(&pk)
                .into_iter()
                .flatten()
                .filter(|(s, _)| keep(**s))
                .map(|(s, (g, v))| (pk.clone(), *s, g.clone(), *v))
                .collect();
            if !forward {
                expected.reverse();
            }
            assert_eq!(
                got, expected,
                "round {round}: {condition} a={a} b={b} forward={forward} limit={limit}"
            );
        }

        // Scan sees exactly the model's items.
        let scanned: BTreeSet<_> = client
            .scan()
            .table_name(&table)
            .limit(rng.random_range(1..30))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap()
            .iter()
            .map(row)
            .collect();
        let expected: BTreeSet<_> = model
            .iter()
            .flat_map(|(pk, items)| {
                items
                    .iter()
                    .map(move |(s, (g, v))| (pk.clone(), *s, g.clone(), *v))
            })
            .collect();
        assert_eq!(scanned, expected, "round {round}: scan");

        // The GSI holds exactly the items with a group, ordered by sort key within a group.
        for group in GROUPS {
            let got: Vec<_> = collect_query(
                &client,
                &table,
                "grp = :g",
                HashMap::from([(":g".to_owned(), Av::S(group.to_owned()))]),
                Some("by-grp"),
                true,
                rng.random_range(1..8),
            )
            .await
            .iter()
            .map(row)
            .collect();
            assert!(
                got.windows(2).all(|w| w[0].1 <= w[1].1),
                "round {round}: index order for {group}"
            );
            let got: BTreeSet<_> = got.into_iter().collect();
            let expected: BTreeSet<_> = expected
                .iter()
                .filter(|r| r.2.as_deref() == Some(group))
                .cloned()
                .collect();
            assert_eq!(got, expected, "round {round}: index contents for {group}");
        }
    }
}
