//! The read scenarios: Query of one partition (`query`), the same narrow
//! Query on a small and a large table (`query-growth`), and paging through a
//! whole table with Scan (`scans`).
//!
//! Every table here has the key `pk` (S) + `sk` (N) and a ~100-byte payload,
//! so that the figures differ by the access pattern alone.

use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::scenario::{Kind, Requests, Scenario, TableRef, Verdict, Workloads, to_bytes};
use crate::tables::{Loaded, PartitionSet, Population, TableSpec, partition_key};

/// Bodies per query pool: random partitions, so a pool this size repeats no
/// pattern a cache could exploit more than real traffic would allow.
const QUERY_POOL: u64 = 10_000;

/// Items of each partition of the `query-growth` tables.
const GROWTH_PARTITION: u64 = 100;

/// Items a narrow `sk BETWEEN` range selects.
const NARROW: u64 = 10;

/// The read scenarios, in the order they run under `all`.
pub fn scenarios(w: &Workloads) -> Vec<Scenario> {
    // One table for both partition sizes: 1000 partitions of 10 items and 50
    // of 1000 (60k items).
    let query_table = Arc::new(TableSpec {
        name: "query",
        sort_key: true,
        stream: false,
        population: Population::Partitions(vec![
            PartitionSet {
                prefix: "small",
                partitions: 1_000,
                size: 10,
            },
            PartitionSet {
                prefix: "large",
                partitions: 50,
                size: 1_000,
            },
        ]),
        payload_bytes: w.payload_bytes,
    });
    let growth_table = |name, items: u64| {
        Arc::new(TableSpec {
            name,
            sort_key: true,
            stream: false,
            population: Population::Partitions(vec![PartitionSet {
                prefix: "g",
                partitions: items.div_ceil(GROWTH_PARTITION).max(1),
                size: GROWTH_PARTITION.min(items.max(1)),
            }]),
            payload_bytes: w.payload_bytes,
        })
    };
    let small = growth_table("growth-small", w.growth_items[0]);
    let large = growth_table("growth-large", w.growth_items[1]);
    let scan_table = Arc::new(TableSpec {
        name: "scan",
        sort_key: true,
        stream: false,
        population: Population::Partitions(vec![PartitionSet {
            prefix: "s",
            partitions: w.scan_items.div_ceil(10).max(1),
            size: 10.min(w.scan_items.max(1)),
        }]),
        payload_bytes: w.payload_bytes,
    });

    let query = |name, group, description, table: &Arc<TableSpec>, shape: QueryShape| Scenario {
        name,
        group,
        operation: "Query",
        description,
        table: TableRef::Spec(Arc::clone(table)),
        kind: Kind::Load(query_requests(Arc::clone(table), shape)),
    };
    let scan = |name, description, segments| Scenario {
        name,
        group: "scans",
        operation: "Scan",
        description,
        table: TableRef::Spec(Arc::clone(&scan_table)),
        kind: Kind::Scan { segments },
    };
    vec![
        query(
            "query-part10",
            "query",
            "Query (pk = :p) of a whole random 10-item partition",
            &query_table,
            QueryShape {
                set: 0,
                limit: None,
                narrow: None,
            },
        ),
        query(
            "query-part1000-page",
            "query",
            "Query (pk = :p, Limit 100) of the first page of a random 1000-item partition",
            &query_table,
            QueryShape {
                set: 1,
                limit: Some(100),
                narrow: None,
            },
        ),
        query(
            "query-part1000-range",
            "query",
            "Query (pk = :p AND sk BETWEEN) of 10 items of a random 1000-item partition",
            &query_table,
            QueryShape {
                set: 1,
                limit: None,
                narrow: Some(1_000),
            },
        ),
        query(
            "query-table-small",
            "query-growth",
            "Query (sk BETWEEN, 10 items) of a 100-item partition in the small table (--growth-items)",
            &small,
            QueryShape {
                set: 0,
                limit: None,
                narrow: Some(GROWTH_PARTITION),
            },
        ),
        query(
            "query-table-large",
            "query-growth",
            "the same Query in the large table (--growth-items; loading stops at --load-budget)",
            &large,
            QueryShape {
                set: 0,
                limit: None,
                narrow: Some(GROWTH_PARTITION),
            },
        ),
        scan(
            "scan",
            "Scan the whole table page by page (1 MB pages, ExclusiveStartKey), like an SDK paginator",
            1,
        ),
        scan(
            "scan-parallel",
            "the same with 4 segments (TotalSegments 4) paged in parallel",
            4,
        ),
    ]
}

/// Which Query a scenario sends.
#[derive(Clone, Copy)]
struct QueryShape {
    /// The partition set queried.
    set: usize,
    /// `Limit`, if any.
    limit: Option<u64>,
    /// `sk BETWEEN s AND s + 9` at a random `s` below this partition size,
    /// rather than the whole partition.
    narrow: Option<u64>,
}

fn query_requests(table: Arc<TableSpec>, shape: QueryShape) -> Requests {
    let prefix = match &table.population {
        Population::Partitions(sets) => sets.get(shape.set).map_or("", |s| s.prefix),
        _ => "",
    };
    Requests {
        pool_size: Some(QUERY_POOL),
        check: check_query,
        reports_items: true,
        ..Requests::new("Query", move |loaded: &Loaded, i| {
            // Only completely loaded partitions, should loading have stopped
            // early.
            let partitions = table.partitions_loaded(shape.set, loaded).max(1);
            let mut rng = StdRng::seed_from_u64(i);
            let pk = partition_key(prefix, rng.random_range(0..partitions));
            query_body(table.name, &pk, shape, &mut rng)
        })
    }
}

fn query_body(table: &str, pk: &str, shape: QueryShape, rng: &mut StdRng) -> Bytes {
    let mut body = json!({
        "TableName": table,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": { ":p": { "S": pk } },
    });
    if let Some(size) = shape.narrow {
        let start = rng.random_range(0..=size.saturating_sub(NARROW));
        body["KeyConditionExpression"] = json!("pk = :p AND sk BETWEEN :lo AND :hi");
        body["ExpressionAttributeValues"][":lo"] = json!({ "N": start.to_string() });
        body["ExpressionAttributeValues"][":hi"] = json!({ "N": (start + NARROW - 1).to_string() });
    }
    if let Some(limit) = shape.limit {
        body["Limit"] = json!(limit);
    }
    to_bytes(&body)
}

/// A Query or Scan answer's `Count`, found without parsing the items: the
/// client shares the machine with the server, so it should spend as little
/// CPU as it can.
pub fn count_of(body: &[u8]) -> Option<u64> {
    const KEY: &[u8] = br#""Count""#;
    // `"ScannedCount"` does not match: the quote must come right before `C`.
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = &body[at..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace() && *b != b':')?..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Classifies a Query answer: success with its `Count` as the items read.
fn check_query(status: StatusCode, body: &Bytes) -> Verdict {
    if status != StatusCode::OK {
        return Verdict::Error(format!("HTTP {status}: {}", String::from_utf8_lossy(body)));
    }
    match count_of(body) {
        Some(items) => Verdict::Ok { items },
        None => Verdict::Error(format!(
            "Query answer without Count: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::count_of;

    #[test]
    fn count_is_found_whatever_the_field_order() {
        assert_eq!(
            count_of(br#"{"Count":10,"Items":[],"ScannedCount":10}"#),
            Some(10)
        );
        assert_eq!(count_of(br#"{"Items":[],"ScannedCount":7,"Count": 3}"#), Some(3));
        assert_eq!(count_of(br#"{"ScannedCount":7}"#), None);
    }
}
