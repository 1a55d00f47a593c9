//! Printing results: aligned tables for people and JSON for tooling.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::load::LoadResult;
use crate::procfs::Memory;
use crate::scan::ScanRun;
use crate::streams::Visibility;

/// Start-up and memory figures of one target.
#[derive(Debug)]
pub struct TargetFigures {
    /// Target name.
    pub target: String,
    /// Binary or jar measured.
    pub origin: String,
    /// Spawn-to-first-answer times of each run.
    pub startup: Vec<Duration>,
    /// Memory once started and idle.
    pub idle: Option<Memory>,
    /// Memory after all scenarios.
    pub after_load: Option<Memory>,
}

impl TargetFigures {
    /// The median start-up time.
    pub fn startup_median(&self) -> Option<Duration> {
        let mut sorted = self.startup.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(sorted[n / 2]),
            _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
        }
    }
}

/// One measured scenario at one concurrency.
#[derive(Debug)]
pub struct Row {
    /// Target name.
    pub target: String,
    /// Scenario name.
    pub scenario: String,
    /// Concurrent connections.
    pub connections: usize,
    /// The run with the median throughput.
    pub result: LoadResult,
    /// Throughput of every run, in run order.
    pub runs_rps: Vec<f64>,
    /// Errors over all runs.
    pub errors: u64,
    /// Distinct errors over all runs with their counts, most frequent first.
    pub error_samples: Vec<(String, u64)>,
    /// Expected refusals (cancelled transactions) over all runs.
    pub rejected: u64,
    /// Distinct refusal reasons over all runs with their counts.
    pub rejected_samples: Vec<(String, u64)>,
    /// Whether the scenario counts items (adds items/s columns).
    pub reports_items: bool,
    /// Whether the scenario can be refused (adds a `rejected` column).
    pub can_reject: bool,
    /// Items in the scenario's table, when it has a table of its own.
    pub table_items: Option<u64>,
}

impl Row {
    /// Summarises repeated runs of one scenario by the median-throughput run.
    pub fn from_runs(target: &str, scenario: &str, connections: usize, mut runs: Vec<LoadResult>) -> Self {
        let runs_rps: Vec<f64> = runs.iter().map(LoadResult::throughput).collect();
        let errors = runs.iter().map(|r| r.errors).sum();
        let rejected = runs.iter().map(|r| r.rejected).sum();
        let error_samples = merge(runs.iter().map(|r| &r.error_samples));
        let rejected_samples = merge(runs.iter().map(|r| &r.rejected_samples));
        runs.sort_by(|a, b| a.throughput().total_cmp(&b.throughput()));
        // The lower median for an even count: a real run, not an average.
        let result = runs.swap_remove((runs.len().max(1) - 1) / 2);
        Self {
            target: target.to_owned(),
            scenario: scenario.to_owned(),
            connections,
            result,
            runs_rps,
            errors,
            error_samples,
            rejected,
            rejected_samples,
            reports_items: false,
            can_reject: false,
            table_items: None,
        }
    }
}

/// Adds up per-run message counts, most frequent first.
fn merge<'a>(runs: impl Iterator<Item = &'a Vec<(String, u64)>>) -> Vec<(String, u64)> {
    let mut merged: HashMap<String, u64> = HashMap::new();
    for samples in runs {
        for (message, count) in samples {
            *merged.entry(message.clone()).or_default() += count;
        }
    }
    let mut samples: Vec<_> = merged.into_iter().collect();
    samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    samples
}

/// Repeated passes of one Scan scenario.
#[derive(Debug)]
pub struct ScanRow {
    /// Target name.
    pub target: String,
    /// Scenario name.
    pub scenario: String,
    /// Parallel segments.
    pub segments: u32,
    /// Items loaded into the table.
    pub table_items: u64,
    /// Every pass, in run order.
    pub runs: Vec<ScanRun>,
}

impl ScanRow {
    /// The pass with the median time (the lower median for an even count).
    pub fn median(&self) -> Option<&ScanRun> {
        let mut sorted: Vec<&ScanRun> = self.runs.iter().collect();
        sorted.sort_by_key(|r| r.elapsed);
        sorted.get((sorted.len().max(1) - 1) / 2).copied()
    }
}

/// A stream visibility measurement of one target.
#[derive(Debug)]
pub struct VisibilityRow {
    /// Target name.
    pub target: String,
    /// What was measured.
    pub result: Visibility,
}

/// Formats an aligned table: the first two columns (names) left-aligned, the
/// others (numbers) right-aligned.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    let mut out = line(headers, &widths);
    for row in std::iter::once(&rule).chain(rows) {
        out.push_str(&line(row, &widths));
    }
    out
}

fn line<S: AsRef<str>>(cells: &[S], widths: &[usize]) -> String {
    let mut out = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let cell = cell.as_ref();
        let pad = " ".repeat(width - cell.chars().count());
        if i > 0 {
            out.push_str("  ");
        }
        if i < 2 {
            out.push_str(cell);
            out.push_str(&pad);
        } else {
            out.push_str(&pad);
            out.push_str(cell);
        }
    }
    let mut out = out.trim_end().to_owned();
    out.push('\n');
    out
}

/// `min-max` of repeated runs' throughput, or `-` for a single run.
fn rps_range(runs: &[f64]) -> String {
    if runs.len() < 2 {
        return "-".to_owned();
    }
    let min = runs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = runs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{min:.0}-{max:.0}")
}

fn us(value: Option<u32>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// Other processes' CPU (percent of one CPU) above which the scenarios table
/// shows it: below, it is background noise not worth a column.
const OTHER_CPU_SHOWN: f64 = 10.0;

/// The throughput and latency table. The items, rejection and other-CPU
/// columns only appear when a row has them (so the item scenarios' table on a
/// quiet machine is as it was).
pub fn scenarios_table(rows: &[Row]) -> String {
    let items = rows.iter().any(|r| r.reports_items);
    let rejections = rows.iter().any(|r| r.can_reject);
    let other = rows
        .iter()
        .any(|r| r.result.other_cpu_percent().is_some_and(|p| p > OTHER_CPU_SHOWN));
    let mut headers = vec!["target", "scenario", "conns", "requests", "errors"];
    if rejections {
        headers.push("rejected");
    }
    headers.extend(["req/s", "req/s range"]);
    if items {
        headers.extend(["items/req", "items/s"]);
    }
    headers.extend(["p50 µs", "p90 µs", "p99 µs", "max µs", "srv cpu µs/req"]);
    if other {
        headers.push("other cpu %");
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let r = &row.result;
            let h = &r.latencies;
            let mut cells = vec![
                row.target.clone(),
                row.scenario.clone(),
                row.connections.to_string(),
                r.requests.to_string(),
                row.errors.to_string(),
            ];
            if rejections {
                cells.push(if row.can_reject {
                    r.rejected.to_string()
                } else {
                    "-".to_owned()
                });
            }
            cells.extend([format!("{:.0}", r.throughput()), rps_range(&row.runs_rps)]);
            if items {
                if row.reports_items && r.requests > 0 {
                    cells.push(format!("{:.1}", r.items as f64 / r.requests as f64));
                    cells.push(format!("{:.0}", r.items_per_second()));
                } else {
                    cells.extend(["-".to_owned(), "-".to_owned()]);
                }
            }
            cells.extend([
                us(h.percentile(50.0)),
                us(h.percentile(90.0)),
                us(h.percentile(99.0)),
                us(h.max()),
                r.server_cpu_us_per_request()
                    .map_or_else(|| "-".to_owned(), |v| format!("{v:.1}")),
            ]);
            if other {
                cells.push(
                    r.other_cpu_percent()
                        .map_or_else(|| "-".to_owned(), |v| format!("{v:.0}")),
                );
            }
            cells
        })
        .collect();
    table(&headers, &body)
}

/// The `query-growth` pair side by side: the same Query on the small and the
/// large table, per target and concurrency. Empty without such a pair.
pub fn growth_table(rows: &[Row]) -> String {
    let headers = [
        "target",
        "conns",
        "small items",
        "req/s",
        "p50 µs",
        "p99 µs",
        "large items",
        "req/s",
        "p50 µs",
        "p99 µs",
        "p50 large/small",
    ];
    let mut body = Vec::new();
    for small in rows.iter().filter(|r| r.scenario == "query-table-small") {
        let Some(large) = rows.iter().find(|r| {
            r.scenario == "query-table-large"
                && r.target == small.target
                && r.connections == small.connections
        }) else {
            continue;
        };
        let (s, l) = (&small.result.latencies, &large.result.latencies);
        let ratio = match (s.percentile(50.0), l.percentile(50.0)) {
            (Some(s), Some(l)) if s > 0 => format!("{:.2}", f64::from(l) / f64::from(s)),
            _ => "-".to_owned(),
        };
        let items = |row: &Row| row.table_items.map_or_else(|| "-".to_owned(), |n| n.to_string());
        body.push(vec![
            small.target.clone(),
            small.connections.to_string(),
            items(small),
            format!("{:.0}", small.result.throughput()),
            us(s.percentile(50.0)),
            us(s.percentile(99.0)),
            items(large),
            format!("{:.0}", large.result.throughput()),
            us(l.percentile(50.0)),
            us(l.percentile(99.0)),
            ratio,
        ]);
    }
    if body.is_empty() {
        return String::new();
    }
    table(&headers, &body)
}

/// The Scan table: the median pass of each scenario, and the range of times.
pub fn scans_table(rows: &[ScanRow]) -> String {
    let headers = [
        "target",
        "scenario",
        "segments",
        "table items",
        "items read",
        "pages",
        "seconds",
        "seconds range",
        "items/s",
        "srv cpu s",
        "client parse s",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .filter_map(|row| {
            let run = row.median()?;
            let range = if row.runs.len() < 2 {
                "-".to_owned()
            } else {
                let secs = row.runs.iter().map(|r| r.elapsed.as_secs_f64());
                let min = secs.clone().fold(f64::INFINITY, f64::min);
                let max = secs.fold(f64::NEG_INFINITY, f64::max);
                format!("{min:.3}-{max:.3}")
            };
            Some(vec![
                row.target.clone(),
                row.scenario.clone(),
                row.segments.to_string(),
                row.table_items.to_string(),
                run.items.to_string(),
                run.pages.to_string(),
                format!("{:.3}", run.elapsed.as_secs_f64()),
                range,
                format!("{:.0}", run.items_per_second()),
                run.server_cpu
                    .map_or_else(|| "-".to_owned(), |d| format!("{:.3}", d.as_secs_f64())),
                format!("{:.3}", run.parsing.as_secs_f64()),
            ])
        })
        .collect();
    table(&headers, &body)
}

/// The stream visibility table.
pub fn visibility_table(rows: &[VisibilityRow]) -> String {
    let headers = [
        "target",
        "samples",
        "missed",
        "polls/sample",
        "put p50 µs",
        "resp→visible p50 µs",
        "p90",
        "p99",
        "max",
        "visible before resp",
        "put→visible p50 µs",
        "p99",
    ];
    let signed = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let v = &row.result;
            let a = &v.after_response;
            vec![
                row.target.clone(),
                a.count().to_string(),
                v.missed.to_string(),
                format!("{:.1}", v.polls_per_sample),
                us(v.put_latency.percentile(50.0)),
                signed(a.percentile(50.0)),
                signed(a.percentile(90.0)),
                signed(a.percentile(99.0)),
                signed(a.percentile(100.0)),
                format!("{:.0}%", a.negative_share() * 100.0),
                us(v.after_request.percentile(50.0)),
                us(v.after_request.percentile(99.0)),
            ]
        })
        .collect();
    table(&headers, &body)
}

/// The start-up and memory table.
pub fn targets_table(targets: &[TargetFigures]) -> String {
    let headers = [
        "target",
        "start-up",
        "median ms",
        "min ms",
        "max ms",
        "idle RSS MiB",
        "RSS after load MiB",
        "peak RSS MiB",
    ];
    let body: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            vec![
                t.target.clone(),
                format!("{} runs", t.startup.len()),
                t.startup_median().map_or_else(|| "-".to_owned(), ms),
                t.startup.iter().min().copied().map_or_else(|| "-".to_owned(), ms),
                t.startup.iter().max().copied().map_or_else(|| "-".to_owned(), ms),
                t.idle.map_or_else(|| "-".to_owned(), |m| mib(m.rss_kib)),
                t.after_load.map_or_else(|| "-".to_owned(), |m| mib(m.rss_kib)),
                t.after_load.map_or_else(|| "-".to_owned(), |m| mib(m.peak_kib)),
            ]
        })
        .collect();
    table(&headers, &body)
}

/// Every error seen, grouped by run; empty when there were none.
pub fn errors_section(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows.iter().filter(|row| row.errors > 0) {
        out.push_str(&format!(
            "{} {} ×{}: {} errors\n",
            row.target, row.scenario, row.connections, row.errors
        ));
        for (message, count) in &row.error_samples {
            out.push_str(&format!("  {count:>8} × {message}\n"));
        }
    }
    out
}

/// Every expected refusal (cancelled transaction) seen, grouped by run and
/// reason; empty when there were none.
pub fn rejections_section(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows.iter().filter(|row| row.rejected > 0) {
        out.push_str(&format!(
            "{} {} ×{}: {} rejected (all runs)\n",
            row.target, row.scenario, row.connections, row.rejected
        ));
        for (message, count) in &row.rejected_samples {
            out.push_str(&format!("  {count:>8} × {message}\n"));
        }
    }
    out
}

/// The whole run as JSON.
pub fn json(
    config: Value,
    targets: &[TargetFigures],
    rows: &[Row],
    scans: &[ScanRow],
    visibility: &[VisibilityRow],
) -> Value {
    let memory = |m: Option<Memory>| m.map(|m| json!({ "rss_kib": m.rss_kib, "peak_kib": m.peak_kib }));
    let targets: Vec<Value> = targets
        .iter()
        .map(|t| {
            json!({
                "target": t.target,
                "origin": t.origin,
                "startup_ms": {
                    "median": t.startup_median().map(|d| d.as_secs_f64() * 1e3),
                    "runs": t.startup.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
                },
                "memory_idle": memory(t.idle),
                "memory_after_load": memory(t.after_load),
            })
        })
        .collect();
    let scenarios: Vec<Value> = rows
        .iter()
        .map(|row| {
            let r = &row.result;
            let h = &r.latencies;
            let mut entry = json!({
                "target": row.target,
                "scenario": row.scenario,
                "connections": row.connections,
                "requests": r.requests,
                "errors_all_runs": row.errors,
                "runs_throughput_rps": row.runs_rps,
                "elapsed_s": r.elapsed.as_secs_f64(),
                "throughput_rps": r.throughput(),
                "latency_us": {
                    "p50": h.percentile(50.0),
                    "p90": h.percentile(90.0),
                    "p99": h.percentile(99.0),
                    "max": h.max(),
                    "mean": h.mean(),
                },
                "server_cpu_s": r.server_cpu.map(|d| d.as_secs_f64()),
                "server_cpu_us_per_request": r.server_cpu_us_per_request(),
                "other_cpu_percent": r.other_cpu_percent(),
                "error_samples": samples(&row.error_samples),
            });
            if row.reports_items {
                entry["items"] = json!(r.items);
                entry["items_per_s"] = json!(r.items_per_second());
            }
            if row.can_reject {
                entry["rejected"] = json!(r.rejected);
                entry["rejected_all_runs"] = json!(row.rejected);
                entry["rejected_samples"] = samples(&row.rejected_samples);
            }
            if let Some(items) = row.table_items {
                entry["table_items"] = json!(items);
            }
            entry
        })
        .collect();
    let mut out = json!({ "config": config, "targets": targets, "scenarios": scenarios });
    if !scans.is_empty() {
        out["scans"] = scans
            .iter()
            .map(|row| {
                json!({
                    "target": row.target,
                    "scenario": row.scenario,
                    "segments": row.segments,
                    "table_items": row.table_items,
                    "runs": row.runs.iter().map(|r| json!({
                        "items": r.items,
                        "pages": r.pages,
                        "seconds": r.elapsed.as_secs_f64(),
                        "items_per_s": r.items_per_second(),
                        "server_cpu_s": r.server_cpu.map(|d| d.as_secs_f64()),
                        "client_parse_s": r.parsing.as_secs_f64(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
    }
    if !visibility.is_empty() {
        out["stream_visibility"] = visibility
            .iter()
            .map(|row| {
                let v = &row.result;
                let a = &v.after_response;
                json!({
                    "target": row.target,
                    "samples": a.count(),
                    "missed": v.missed,
                    "errors": v.errors,
                    "polls_per_sample": v.polls_per_sample,
                    "put_latency_us": { "p50": v.put_latency.percentile(50.0), "p99": v.put_latency.percentile(99.0) },
                    "response_to_visible_us": {
                        "p50": a.percentile(50.0),
                        "p90": a.percentile(90.0),
                        "p99": a.percentile(99.0),
                        "max": a.percentile(100.0),
                        "before_response_share": a.negative_share(),
                    },
                    "request_to_visible_us": {
                        "p50": v.after_request.percentile(50.0),
                        "p90": v.after_request.percentile(90.0),
                        "p99": v.after_request.percentile(99.0),
                        "max": v.after_request.max(),
                    },
                })
            })
            .collect();
    }
    out
}

fn samples(samples: &[(String, u64)]) -> Value {
    samples
        .iter()
        .map(|(message, count)| json!({ "message": message, "count": count }))
        .collect()
}
