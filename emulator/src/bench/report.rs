//! Printing results: aligned tables for people and JSON for tooling.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::load::LoadResult;
use crate::procfs::Memory;

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
}

impl Row {
    /// Summarises repeated runs of one scenario by the median-throughput run.
    pub fn from_runs(target: &str, scenario: &str, connections: usize, mut runs: Vec<LoadResult>) -> Self {
        let runs_rps: Vec<f64> = runs.iter().map(LoadResult::throughput).collect();
        let errors = runs.iter().map(|r| r.errors).sum();
        let mut merged: HashMap<String, u64> = HashMap::new();
        for run in &runs {
            for (message, count) in &run.error_samples {
                *merged.entry(message.clone()).or_default() += count;
            }
        }
        let mut error_samples: Vec<_> = merged.into_iter().collect();
        error_samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
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
        }
    }
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

/// The throughput and latency table.
pub fn scenarios_table(rows: &[Row]) -> String {
    let headers = [
        "target",
        "scenario",
        "conns",
        "requests",
        "errors",
        "req/s",
        "req/s range",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "max µs",
        "srv cpu µs/req",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let r = &row.result;
            let h = &r.latencies;
            vec![
                row.target.clone(),
                row.scenario.clone(),
                row.connections.to_string(),
                r.requests.to_string(),
                row.errors.to_string(),
                format!("{:.0}", r.throughput()),
                rps_range(&row.runs_rps),
                us(h.percentile(50.0)),
                us(h.percentile(90.0)),
                us(h.percentile(99.0)),
                us(h.max()),
                r.server_cpu_us_per_request()
                    .map_or_else(|| "-".to_owned(), |v| format!("{v:.1}")),
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

/// The whole run as JSON.
pub fn json(config: Value, targets: &[TargetFigures], rows: &[Row]) -> Value {
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
            json!({
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
                "error_samples": row.error_samples.iter()
                    .map(|(message, count)| json!({ "message": message, "count": count }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "config": config, "targets": targets, "scenarios": scenarios })
}
