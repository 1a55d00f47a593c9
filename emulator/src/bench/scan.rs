//! Paging through a whole table with Scan, the way an SDK paginator does:
//! Scan without `Limit` (so the server's 1 MB page size applies), then again
//! from each page's `LastEvaluatedKey` until a page has none. With several
//! segments, each segment is paged on a connection of its own, all at once
//! (a parallel scan), and the table counts as read when the last one ends.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{CommonHeaders, Connection, amz_target};
use crate::procfs;

/// One pass over the table.
#[derive(Debug, Clone)]
pub struct ScanRun {
    /// Items returned, over all pages and segments.
    pub items: u64,
    /// Pages (Scan requests), over all segments.
    pub pages: u64,
    /// From the first request to the last segment's last page.
    pub elapsed: Duration,
    /// Time this client spent parsing pages, over all segments: part of
    /// `elapsed` that is not the server's (less, with segments in parallel).
    pub parsing: Duration,
    /// CPU time the server used during the pass, if known.
    pub server_cpu: Option<Duration>,
}

impl ScanRun {
    /// Items per second.
    pub fn items_per_second(&self) -> f64 {
        self.items as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The parts of a Scan answer the loop needs. The items themselves are
/// skipped, not built: the client shares the machine with the server.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    count: u64,
    #[serde(default)]
    last_evaluated_key: Option<Value>,
}

/// Scans `table` once with `segments` segments in parallel; `server_pid`, if
/// known, is sampled for CPU time.
pub async fn run(addr: SocketAddr, table: &str, segments: u32, server_pid: Option<u32>) -> Result<ScanRun> {
    let segments = segments.max(1);
    let cpu_before = server_pid.map(procfs::cpu_time).transpose()?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..segments)
        .map(|segment| {
            let table = table.to_owned();
            tokio::spawn(async move { scan_segment(addr, &table, segment, segments).await })
        })
        .collect();
    let mut run = ScanRun {
        items: 0,
        pages: 0,
        elapsed: Duration::ZERO,
        parsing: Duration::ZERO,
        server_cpu: None,
    };
    for task in tasks {
        let segment = task.await.context("scan task panicked")??;
        run.items += segment.items;
        run.pages += segment.pages;
        run.parsing += segment.parsing;
    }
    run.elapsed = started.elapsed();
    if let (Some(pid), Some(before)) = (server_pid, cpu_before) {
        run.server_cpu = Some(procfs::cpu_time(pid)?.saturating_sub(before));
    }
    Ok(run)
}

/// What paging through one segment took.
struct Segment {
    items: u64,
    pages: u64,
    parsing: Duration,
}

/// Pages through one segment.
async fn scan_segment(addr: SocketAddr, table: &str, segment: u32, segments: u32) -> Result<Segment> {
    let headers = CommonHeaders::new(addr)?;
    let target = amz_target("Scan")?;
    let mut conn = Connection::open(addr).await?;
    let mut start_key: Option<Value> = None;
    let (mut items, mut pages, mut parsing) = (0, 0, Duration::ZERO);
    loop {
        let mut body = json!({ "TableName": table });
        if segments > 1 {
            body["Segment"] = json!(segment);
            body["TotalSegments"] = json!(segments);
        }
        if let Some(key) = start_key.take() {
            body["ExclusiveStartKey"] = key;
        }
        let request = headers.dynamodb_request(&target, bytes::Bytes::from(body.to_string()));
        let (status, answer) = conn.send(request).await?;
        if !status.is_success() {
            bail!(
                "Scan page {pages} of segment {segment} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        let parse_start = Instant::now();
        let page: Page = serde_json::from_slice(&answer).context("parse a Scan page")?;
        parsing += parse_start.elapsed();
        items += page.count;
        pages += 1;
        match page.last_evaluated_key {
            Some(key) if !key.is_null() => start_key = Some(key),
            _ => {
                return Ok(Segment {
                    items,
                    pages,
                    parsing,
                });
            }
        }
    }
}
