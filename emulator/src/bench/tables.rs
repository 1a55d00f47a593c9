//! The tables that scenarios beyond the item ones run against: how each is
//! laid out, created and loaded.
//!
//! Tables are loaded with BatchWriteItem (25 items a request) on many
//! connections, in chunks, so that a slow target can be stopped after a time
//! budget: a scenario then runs against what was loaded, and the reports say
//! how much that was.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::http::{CommonHeaders, Connection, amz_target, call};
use crate::load::{self, ClientRuntime, LoadSpec, Stop};
use crate::scenario::{Requests, Verdict, payload, to_bytes};

/// Items per BatchWriteItem request (DynamoDB's maximum).
pub const BATCH_SIZE: u64 = 25;

/// BatchWriteItem requests per loading chunk; the time budget is checked
/// between chunks.
const CHUNK_BATCHES: u64 = 2_000;

/// A table a scenario needs.
#[derive(Debug)]
pub struct TableSpec {
    /// Table name.
    pub name: &'static str,
    /// Whether the key has the range key `sk` (N) besides the hash key `pk` (S).
    pub sort_key: bool,
    /// Whether the table has a stream (NEW_AND_OLD_IMAGES).
    pub stream: bool,
    /// What the table is loaded with before the scenario runs.
    pub population: Population,
    /// Bytes of each item's `payload` attribute.
    pub payload_bytes: usize,
}

/// The items of a table.
#[derive(Debug)]
pub enum Population {
    /// Nothing.
    Empty,
    /// Partitions of items keyed `pk` = `<prefix>-<partition>`, `sk` = 0, 1…;
    /// the sets' items are numbered consecutively, set after set.
    Partitions(Vec<PartitionSet>),
    /// Accounts `acct-0000`… with a numeric `balance`.
    Accounts {
        /// Number of accounts.
        count: u64,
        /// Starting balance of each.
        balance: u64,
    },
}

/// Equal-sized partitions sharing a key prefix.
#[derive(Debug, Clone, Copy)]
pub struct PartitionSet {
    /// Prefix of the partition keys.
    pub prefix: &'static str,
    /// Number of partitions.
    pub partitions: u64,
    /// Items in each.
    pub size: u64,
}

/// What a table holds once loaded: the first `items` items of its
/// population (all of them unless loading ran out of time).
#[derive(Debug, Clone, Copy, Default)]
pub struct Loaded {
    /// Items written.
    pub items: u64,
}

impl TableSpec {
    /// Items of the full population.
    pub fn items(&self) -> u64 {
        match &self.population {
            Population::Empty => 0,
            Population::Partitions(sets) => sets.iter().map(|s| s.partitions * s.size).sum(),
            Population::Accounts { count, .. } => *count,
        }
    }

    /// The CreateTable body: on-demand, with a stream if asked for.
    pub fn create_table(&self) -> Bytes {
        let mut attributes = vec![json!({ "AttributeName": "pk", "AttributeType": "S" })];
        let mut key = vec![json!({ "AttributeName": "pk", "KeyType": "HASH" })];
        if self.sort_key {
            attributes.push(json!({ "AttributeName": "sk", "AttributeType": "N" }));
            key.push(json!({ "AttributeName": "sk", "KeyType": "RANGE" }));
        }
        let mut body = json!({
            "TableName": self.name,
            "AttributeDefinitions": attributes,
            "KeySchema": key,
            "BillingMode": "PAY_PER_REQUEST",
        });
        if self.stream {
            body["StreamSpecification"] = json!({
                "StreamEnabled": true,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            });
        }
        to_bytes(&body)
    }

    /// Item number `j` of the population.
    pub fn item(&self, j: u64) -> Value {
        match &self.population {
            Population::Empty => json!({}),
            Population::Partitions(sets) => {
                let mut j_in_set = j;
                for set in sets {
                    let set_items = set.partitions * set.size;
                    if j_in_set < set_items {
                        return json!({
                            "pk": { "S": partition_key(set.prefix, j_in_set / set.size) },
                            "sk": { "N": (j_in_set % set.size).to_string() },
                            "payload": { "S": payload(j, self.payload_bytes) },
                        });
                    }
                    j_in_set -= set_items;
                }
                json!({})
            }
            Population::Accounts { balance, .. } => json!({
                "pk": { "S": account_key(j) },
                "balance": { "N": balance.to_string() },
            }),
        }
    }

    /// How many partitions of set number `set` were completely written.
    pub fn partitions_loaded(&self, set: usize, loaded: &Loaded) -> u64 {
        let Population::Partitions(sets) = &self.population else {
            return 0;
        };
        let before: u64 = sets[..set].iter().map(|s| s.partitions * s.size).sum();
        let Some(this) = sets.get(set) else {
            return 0;
        };
        (loaded.items.saturating_sub(before) / this.size.max(1)).min(this.partitions)
    }
}

/// The partition key of partition `p` of a set.
pub fn partition_key(prefix: &str, p: u64) -> String {
    format!("{prefix}-{p:06}")
}

/// The key of account `i`.
pub fn account_key(i: u64) -> String {
    format!("acct-{i:04}")
}

/// Classifies a BatchWriteItem response: its items count, minus any that came
/// back unprocessed (which DynamoDB returns when throttled; a local emulator
/// should not, so they are errors).
pub fn check_batch_write(status: StatusCode, body: &Bytes) -> Verdict {
    if status != StatusCode::OK {
        return Verdict::Error(format!("HTTP {status}: {}", String::from_utf8_lossy(body)));
    }
    // Fast path for the usual answer, so the client spends no CPU parsing it.
    let compact = body.as_ref() == br#"{"UnprocessedItems":{}}"#;
    if compact {
        return Verdict::Ok { items: BATCH_SIZE };
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => {
            let unprocessed: usize = value["UnprocessedItems"].as_object().map_or(0, |tables| {
                tables.values().filter_map(Value::as_array).map(Vec::len).sum()
            });
            if unprocessed == 0 {
                Verdict::Ok { items: BATCH_SIZE }
            } else {
                Verdict::Error(format!("{unprocessed} UnprocessedItems"))
            }
        }
        Err(err) => Verdict::Error(format!("unparsable BatchWriteItem answer: {err}")),
    }
}

/// CreateTable, then DescribeTable until the table is ACTIVE.
pub async fn create(addr: SocketAddr, name: &str, create_body: Bytes) -> Result<()> {
    let headers = CommonHeaders::new(addr)?;
    let mut conn = Connection::open(addr).await?;
    let request = headers.dynamodb_request(&amz_target("CreateTable")?, create_body);
    let (status, body) = conn.send(request).await?;
    if !status.is_success() {
        bail!(
            "CreateTable {name} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let target = amz_target("DescribeTable")?;
    for _ in 0..1000 {
        let description = call(&mut conn, &headers, &target, &json!({ "TableName": name })).await?;
        if description["Table"]["TableStatus"] == "ACTIVE" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("table {name} did not become ACTIVE")
}

/// How to load tables.
#[derive(Debug, Clone, Copy)]
pub struct LoadSettings {
    /// Client threading.
    pub client: ClientRuntime,
    /// Concurrent BatchWriteItem connections.
    pub connections: usize,
    /// Loading stops after the chunk during which this much time passed.
    pub budget: Duration,
}

/// Creates `spec`'s table and writes its population; returns what was loaded.
pub async fn create_and_load(
    addr: SocketAddr,
    target_name: &str,
    spec: &Arc<TableSpec>,
    settings: LoadSettings,
) -> Result<Loaded> {
    create(addr, spec.name, spec.create_table()).await?;
    let items = spec.items();
    if items == 0 {
        return Ok(Loaded::default());
    }
    let batches = items.div_ceil(BATCH_SIZE);
    let started = Instant::now();
    let mut busy = Duration::ZERO;
    let mut done = 0;
    while done < batches {
        if started.elapsed() >= settings.budget {
            eprintln!(
                "[{target_name}] stopped loading {} after the {} s budget (--load-budget): \
                 {} of {items} items",
                spec.name,
                settings.budget.as_secs(),
                (done * BATCH_SIZE).min(items)
            );
            break;
        }
        let chunk = CHUNK_BATCHES.min(batches - done);
        let first = done;
        let table = Arc::clone(spec);
        let requests = Requests {
            check: check_batch_write,
            ..Requests::new("BatchWriteItem", move |_, i| batch_body(&table, first + i, items))
        };
        let pool = requests.pool(chunk, &Loaded::default())?;
        let load = LoadSpec {
            client: settings.client,
            connections: settings.connections,
            warmup: Duration::ZERO,
            stop: Stop::Count(chunk),
        };
        let result = load::run(addr, pool, load, None).await?;
        if result.errors > 0 {
            let first = result
                .error_samples
                .first()
                .map_or("", |(message, _)| message.as_str());
            bail!(
                "loading {} failed {} times, e.g. {first}",
                spec.name,
                result.errors
            );
        }
        busy += result.elapsed;
        done += chunk;
    }
    let loaded = (done * BATCH_SIZE).min(items);
    eprintln!(
        "[{target_name}] loaded {} with {loaded} items in {:.2} s ({:.0} items/s, BatchWriteItem on {} connections)",
        spec.name,
        busy.as_secs_f64(),
        loaded as f64 / busy.as_secs_f64().max(1e-9),
        settings.connections,
    );
    Ok(Loaded { items: loaded })
}

/// The BatchWriteItem body writing items `25 b..25 b + 25` (fewer at the end).
fn batch_body(spec: &TableSpec, b: u64, items: u64) -> Bytes {
    let first = b * BATCH_SIZE;
    let requests: Vec<Value> = (first..(first + BATCH_SIZE).min(items))
        .map(|j| json!({ "PutRequest": { "Item": spec.item(j) } }))
        .collect();
    to_bytes(&json!({ "RequestItems": { spec.name: requests } }))
}
