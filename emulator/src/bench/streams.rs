//! The stream scenarios: PutItem throughput on a table with a stream
//! (NEW_AND_OLD_IMAGES) and on one without (`stream-writes`), and how soon a
//! written record becomes visible to a reader polling GetRecords over HTTP
//! (`stream-visibility`).
//!
//! The visibility measurement writes one item at a time while a reader, on a
//! connection of its own, calls GetRecords on the latest `NextShardIterator`
//! in a tight loop. A sample is the time from the PutItem's response to the
//! GetRecords response that carries the item's record; it can be negative, as
//! the reader may see the record before the writer has read its response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::http::{CommonHeaders, Connection, amz_target, call, streams_target};
use crate::load::{Histogram, nearest_rank};
use crate::scenario::{Kind, Requests, STAMP, Scenario, TableRef, Workloads, payload, to_bytes};
use crate::tables::{Population, TableSpec};

/// Distinct keys the stream write scenarios write.
const WRITE_POOL: u64 = 10_000;

/// How long a written record may take to show up before it counts as missed.
const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// The stream scenarios, in the order they run under `all`.
pub fn scenarios(w: &Workloads) -> Vec<Scenario> {
    let table = |name, stream| {
        Arc::new(TableSpec {
            name,
            sort_key: false,
            stream,
            population: Population::Empty,
            payload_bytes: w.payload_bytes,
        })
    };
    let put = |name, description, table: Arc<TableSpec>| {
        let payload_bytes = table.payload_bytes;
        let table_name = table.name;
        Scenario {
            name,
            group: "stream-writes",
            operation: "PutItem",
            description,
            table: TableRef::Spec(table),
            kind: Kind::Load(Requests {
                shuffle: true,
                pool_size: Some(WRITE_POOL),
                // Every put changes the item (a new `v`), so that every put
                // appends a stream record: DynamoDB Streams records nothing
                // for a write that leaves the item as it was.
                stamped: true,
                ..Requests::new("PutItem", move |_, i| {
                    to_bytes(&json!({
                        "TableName": table_name,
                        "Item": {
                            "pk": { "S": format!("w-{i:06}") },
                            "v": { "N": STAMP },
                            "payload": { "S": payload(i, payload_bytes) },
                        },
                    }))
                })
            }),
        }
    };
    vec![
        put(
            "put-no-stream",
            "PutItem of a ~payload-sized item, every put a change, on a table without a stream",
            table("stream-off", false),
        ),
        put(
            "put-stream",
            "the same on a table with a NEW_AND_OLD_IMAGES stream",
            table("stream-on", true),
        ),
        Scenario {
            name: "stream-visibility",
            group: "stream-visibility",
            operation: "PutItem+GetRecords",
            description: "time from a PutItem's response until a reader tight-polling GetRecords \
                          gets its record (sequential puts, --stream-samples)",
            table: TableRef::Spec(table("visibility", true)),
            kind: Kind::StreamVisibility,
        },
    ]
}

/// The stream ARN of `table`, from DescribeTable.
pub async fn stream_arn(conn: &mut Connection, headers: &CommonHeaders, table: &str) -> Result<String> {
    let description = call(
        conn,
        headers,
        &amz_target("DescribeTable")?,
        &json!({ "TableName": table }),
    )
    .await?;
    description["Table"]["LatestStreamArn"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("table {table} has no LatestStreamArn"))
}

/// A LATEST shard iterator on the stream's open shard.
async fn latest_iterator(conn: &mut Connection, headers: &CommonHeaders, arn: &str) -> Result<String> {
    let description = call(
        conn,
        headers,
        &streams_target("DescribeStream")?,
        &json!({ "StreamArn": arn }),
    )
    .await?;
    let shards = description["StreamDescription"]["Shards"]
        .as_array()
        .context("DescribeStream without Shards")?;
    let open = shards
        .iter()
        .rev()
        .find(|s| s["SequenceNumberRange"]["EndingSequenceNumber"].is_null())
        .context("the stream has no open shard")?;
    let shard_id = open["ShardId"].as_str().context("a shard without ShardId")?;
    let iterator = call(
        conn,
        headers,
        &streams_target("GetShardIterator")?,
        &json!({ "StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "LATEST" }),
    )
    .await?;
    iterator["ShardIterator"]
        .as_str()
        .map(str::to_owned)
        .context("GetShardIterator without ShardIterator")
}

/// Signed microseconds from `earlier` to `later` (negative when `later` is
/// in fact earlier).
pub fn signed_us(later: Instant, earlier: Instant) -> i64 {
    match later.checked_duration_since(earlier) {
        Some(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        None => -i64::try_from(earlier.duration_since(later).as_micros()).unwrap_or(i64::MAX),
    }
}

/// Signed latencies in microseconds, sorted ascending.
#[derive(Debug, Default, Clone)]
pub struct SignedSamples {
    sorted: Vec<i64>,
}

impl SignedSamples {
    /// Sorts the samples.
    pub fn from_unsorted(mut samples: Vec<i64>) -> Self {
        samples.sort_unstable();
        Self { sorted: samples }
    }

    /// Number of samples.
    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    /// The nearest-rank percentile `p` (0–100).
    pub fn percentile(&self, p: f64) -> Option<i64> {
        nearest_rank(&self.sorted, p)
    }

    /// The share (0–1) of samples below zero.
    pub fn negative_share(&self) -> f64 {
        let negative = self.sorted.partition_point(|&s| s < 0);
        negative as f64 / self.sorted.len().max(1) as f64
    }
}

/// The outcome of a visibility run.
#[derive(Debug)]
pub struct Visibility {
    /// PutItem response to the GetRecords response carrying its record.
    pub after_response: SignedSamples,
    /// PutItem request sent to the GetRecords response carrying its record.
    pub after_request: Histogram,
    /// The PutItem round trips.
    pub put_latency: Histogram,
    /// Puts whose record did not show up within the timeout.
    pub missed: u64,
    /// GetRecords calls per measured sample.
    pub polls_per_sample: f64,
    /// Failed PutItem requests.
    pub errors: u64,
}

/// Measures `samples` sequential puts into `table` (which has a stream),
/// after `warmup` of the same whose samples are dropped.
pub async fn measure_visibility(
    addr: SocketAddr,
    table: &str,
    samples: usize,
    warmup: Duration,
    payload_bytes: usize,
) -> Result<Visibility> {
    let headers = CommonHeaders::new(addr)?;
    let mut conn = Connection::open(addr).await?;
    let arn = stream_arn(&mut conn, &headers, table).await?;
    let iterator = latest_iterator(&mut conn, &headers, &arn).await?;

    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicU64::new(0));
    let reader = tokio::spawn(read_records(
        addr,
        iterator,
        seen_tx,
        Arc::clone(&stop),
        Arc::clone(&polls),
    ));

    let put_target = amz_target("PutItem")?;
    let warmup_end = Instant::now() + warmup;
    let mut polls_at_start = None;
    let (mut after_response, mut after_request, mut put_latency) = (Vec::new(), Vec::new(), Vec::new());
    let (mut missed, mut errors, mut missed_in_a_row) = (0u64, 0u64, 0u32);
    let mut n: u64 = 0;
    while after_response.len() < samples {
        let measuring = Instant::now() >= warmup_end;
        if measuring && polls_at_start.is_none() {
            polls_at_start = Some(polls.load(Ordering::Relaxed));
        }
        let body = to_bytes(&json!({
            "TableName": table,
            "Item": {
                "pk": { "S": format!("vis-{n}") },
                "payload": { "S": payload(n, payload_bytes) },
            },
        }));
        let sent = Instant::now();
        let (status, answer) = conn.send(headers.dynamodb_request(&put_target, body)).await?;
        let answered = Instant::now();
        if !status.is_success() {
            errors += 1;
            if errors > 100 {
                bail!(
                    "PutItem keeps failing: {status}: {}",
                    String::from_utf8_lossy(&answer)
                );
            }
            n += 1;
            continue;
        }
        let visible = loop {
            match tokio::time::timeout_at((answered + VISIBILITY_TIMEOUT).into(), seen.recv()).await {
                Ok(Some((m, at))) if m == n => break Some(at),
                // An earlier put's record, seen after its own wait timed out.
                Ok(Some(_)) => {}
                Ok(None) => {
                    // The reader stopped: report why.
                    reader.await.context("stream reader panicked")??;
                    bail!("the stream reader stopped");
                }
                Err(_) => break None,
            }
        };
        n += 1;
        let Some(visible) = visible else {
            missed += 1;
            missed_in_a_row += 1;
            if missed_in_a_row >= 10 {
                bail!("10 records in a row did not show up within {VISIBILITY_TIMEOUT:?} of their PutItem");
            }
            continue;
        };
        missed_in_a_row = 0;
        if measuring {
            after_response.push(signed_us(visible, answered));
            after_request.push(micros(visible.saturating_duration_since(sent)));
            put_latency.push(micros(answered - sent));
        }
    }
    stop.store(true, Ordering::Relaxed);
    // The reader notices the flag after its current GetRecords.
    reader.await.context("stream reader panicked")??;
    let polls = polls.load(Ordering::Relaxed) - polls_at_start.unwrap_or(0);
    Ok(Visibility {
        polls_per_sample: polls as f64 / after_response.len().max(1) as f64,
        after_response: SignedSamples::from_unsorted(after_response),
        after_request: Histogram::from_unsorted(after_request),
        put_latency: Histogram::from_unsorted(put_latency),
        missed,
        errors,
    })
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Polls GetRecords as fast as the server answers, reporting each record's
/// put number (`vis-<n>`) and when its answer arrived.
async fn read_records(
    addr: SocketAddr,
    mut iterator: String,
    seen: mpsc::UnboundedSender<(u64, Instant)>,
    stop: Arc<AtomicBool>,
    polls: Arc<AtomicU64>,
) -> Result<()> {
    let headers = CommonHeaders::new(addr)?;
    let target = streams_target("GetRecords")?;
    let mut conn = Connection::open(addr).await?;
    while !stop.load(Ordering::Relaxed) {
        let body = Bytes::from(json!({ "ShardIterator": iterator }).to_string());
        let (status, answer) = conn.send(headers.dynamodb_request(&target, body)).await?;
        let at = Instant::now();
        polls.fetch_add(1, Ordering::Relaxed);
        if !status.is_success() {
            bail!(
                "GetRecords answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        let answer: Value = serde_json::from_slice(&answer).context("parse GetRecords")?;
        for record in answer["Records"].as_array().into_iter().flatten() {
            let n = record["dynamodb"]["Keys"]["pk"]["S"]
                .as_str()
                .and_then(|key| key.strip_prefix("vis-"))
                .and_then(|n| n.parse().ok());
            if let Some(n) = n {
                // The writer may have finished; nothing then waits for this.
                let _ = seen.send((n, at));
            }
        }
        match answer["NextShardIterator"].as_str() {
            Some(next) => iterator = next.to_owned(),
            None => bail!("the stream's shard closed during the measurement"),
        }
    }
    Ok(())
}
