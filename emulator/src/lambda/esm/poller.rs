//! The poller of one mapping: follows its stream's shards in order (parents before children), woken by the
//! stream's change notification; delivers batches of up to BatchSize records (waiting up to the batching window
//! to fill them), one batch in flight per shard (per partition-key group with ParallelizationFactor > 1), with
//! AWS's failure handling: retries that block the shard, MaximumRetryAttempts, MaximumRecordAgeInSeconds,
//! BisectBatchOnFunctionError, ReportBatchItemFailures, and failure records for discarded batches.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use serde_json::{Value, json};

use super::{Health, MAX_FAILURE_RECORDS, Mapping};
use crate::{
    edge::{RequestContext, Services},
    lambda::invoke,
    streams::{
        Record, Stream, StreamStatus,
        store::{IteratorKind, ShardInfo},
    },
};

/// Most bytes of records in one batch (Lambda's 6 MB payload limit).
const MAX_BATCH_BYTES: usize = 6 * 1024 * 1024;
/// Longest pause between retries of a failing batch.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A record with the event Lambda receives for it.
#[derive(Clone)]
struct Item {
    record: Arc<Record>,
    sequence: u128,
    event: Value,
}

/// Starts the poller of `mapping` on `stream`.
pub fn spawn(services: Arc<Services>, mapping: Arc<Mapping>, stream: Arc<Stream>) {
    // NB: LATEST means the end of the stream when the mapping is created, not when the poller first runs.
    let start = if mapping.config().starting_position == "LATEST" {
        stream.shards().last().and_then(|shard| {
            stream
                .iterator_position(&shard.id, IteratorKind::Latest, None)
                .ok()
                .map(|p| (shard.id.clone(), p))
        })
    } else {
        None
    };
    tokio::spawn(async move {
        let uuid = mapping.uuid.clone();
        run(services, mapping, stream, start).await;
        tracing::debug!(uuid = %uuid, "event source mapping poller stopped");
    });
}

async fn run(
    services: Arc<Services>,
    mapping: Arc<Mapping>,
    stream: Arc<Stream>,
    start: Option<(String, u128)>,
) {
    let mut changes = mapping.subscribe();
    let mut appended = stream.subscribe();
    if !begin(&mapping) {
        return;
    }
    let mut window: Option<Window> = None;
    let (mut shard, mut position) = match start {
        Some(start) => start,
        None => match first_position(&stream) {
            Some(start) => start,
            None => return,
        },
    };
    loop {
        if mapping.status().state == "Deleting" {
            return;
        }
        let config = mapping.config();
        if !config.enabled {
            if changes.changed().await.is_err() {
                return;
            }
            continue;
        }
        mapping.with_health(|h| h.current_shard = Some(shard.clone()));
        let read = match stream.read(&shard, position, config.batch_size as usize, MAX_BATCH_BYTES) {
            Ok(read) => read,
            Err(_) => {
                // The position was trimmed (or the shard expired): resume at the oldest record kept.
                match first_position(&stream) {
                    Some(start) => (shard, position) = start,
                    None => return,
                }
                continue;
            }
        };
        if read.records.is_empty() {
            if read.exhausted
                && let Some(child) = child_of(&stream.shards(), &shard)
            {
                position = child.starting;
                shard = child.id;
                continue;
            }
            if stream.status() == StreamStatus::Disabled && read.exhausted {
                // Nothing more will ever arrive; stay for updates or deletion.
                if changes.changed().await.is_err() {
                    return;
                }
                continue;
            }
            // An open tumbling window closes when its time is up, even if no record arrives.
            let window_end = window.as_ref().map(|w| {
                let now = crate::dynamodb::table::now_epoch_seconds();
                Duration::from_secs_f64((w.end as f64 - now).max(0.0))
            });
            tokio::select! {
                _ = appended.changed() => {}
                changed = changes.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(window_end.unwrap_or(Duration::from_secs(86_400))), if window_end.is_some() => {
                    close_window(&services, &mapping, &shard, &stream.arn, &mut window).await;
                }
            }
            continue;
        }
        let mut records = read.records;
        let mut next = read.next;
        // The batching window: wait for the batch to fill, at most this long.
        if records.len() < config.batch_size as usize && config.maximum_batching_window > 0 {
            let until = Instant::now() + Duration::from_secs(u64::from(config.maximum_batching_window));
            while records.len() < config.batch_size as usize {
                let remaining = until.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    break;
                }
                tokio::select! {
                    _ = appended.changed() => {}
                    () = tokio::time::sleep(remaining) => break,
                    _ = changes.changed() => break,
                }
                if let Ok(more) = stream.read(
                    &shard,
                    next,
                    config.batch_size as usize - records.len(),
                    MAX_BATCH_BYTES,
                ) {
                    next = more.next;
                    records.extend(more.records);
                }
            }
        }
        let newest = records.last().map(|r| r.created).unwrap_or_default();
        let age_ms = ((crate::dynamodb::table::now_epoch_seconds() - newest).max(0.0) * 1000.0) as u64;
        mapping.with_health(|h| h.iterator_age_ms = Some(age_ms));
        let items: Vec<Item> = records
            .iter()
            .map(|record| Item {
                record: record.clone(),
                sequence: record.sequence,
                event: record.lambda_event(&stream.arn),
            })
            .collect();
        let delivered = if config.tumbling_window > 0 {
            deliver_windowed(&services, &mapping, &shard, &stream.arn, items, &mut window).await
        } else {
            deliver(&services, &mapping, &shard, items).await
        };
        match delivered {
            Ok(()) => position = next,
            Err(checkpoint) => position = checkpoint,
        }
    }
}

/// Takes a new mapping out of `Creating`, into `Enabled` or `Disabled` as its settings say; false when it is
/// being deleted. The poller may first run after an update or a deletion already moved the state on: that state
/// stands (a deleted mapping must not come back to life, unseen, and keep invoking its function).
fn begin(mapping: &Mapping) -> bool {
    let ready = if mapping.config().enabled {
        "Enabled"
    } else {
        "Disabled"
    };
    mapping.transition("Creating", ready);
    mapping.status().state != "Deleting"
}

/// The oldest position of the stream: the first record kept in its oldest shard.
fn first_position(stream: &Stream) -> Option<(String, u128)> {
    let shards = stream.shards();
    let first = shards.first()?;
    let position = stream
        .iterator_position(&first.id, IteratorKind::TrimHorizon, None)
        .ok()?;
    Some((first.id.clone(), position))
}

fn child_of(shards: &[ShardInfo], parent: &str) -> Option<ShardInfo> {
    shards
        .iter()
        .find(|s| s.parent.as_deref() == Some(parent))
        .cloned()
}

/// Delivers a read batch: filters it, splits it by partition key when ParallelizationFactor > 1, and delivers
/// each group in order. `Err(checkpoint)` when delivery stopped (mapping disabled or deleted) before the end.
async fn deliver(
    services: &Arc<Services>,
    mapping: &Arc<Mapping>,
    shard: &str,
    items: Vec<Item>,
) -> Result<(), u128> {
    let config = mapping.config();
    let total = items.len();
    let kept: Vec<Item> = match &config.filters {
        Some((_, filters)) => items
            .into_iter()
            .filter(|item| filters.matches(&item.event))
            .collect(),
        None => items,
    };
    let filtered_out = (total - kept.len()) as u64;
    if filtered_out > 0 {
        mapping.with_health(|h| h.records_filtered_out += filtered_out);
    }
    if kept.is_empty() {
        return Ok(());
    }
    let factor = config.parallelization_factor.max(1) as usize;
    if factor == 1 {
        return deliver_in_order(services, mapping, shard, kept).await;
    }
    // Records of one partition key always go to the same group, so per-key order holds across groups.
    let mut groups: Vec<Vec<Item>> = vec![Vec::new(); factor];
    for item in kept {
        let slot = (item.record.key_hash % factor as u64) as usize;
        groups[slot].push(item);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for group in groups.into_iter().filter(|g| !g.is_empty()) {
        let (services, mapping, shard) = (services.clone(), mapping.clone(), shard.to_owned());
        tasks.spawn(async move { deliver_in_order(&services, &mapping, &shard, group).await });
    }
    let mut checkpoint: Option<u128> = None;
    while let Some(result) = tasks.join_next().await {
        if let Ok(Err(at)) = result {
            checkpoint = Some(checkpoint.map_or(at, |c| c.min(at)));
        }
    }
    checkpoint.map_or(Ok(()), Err)
}

/// How one invocation of a batch ended.
enum Attempt {
    /// The whole batch succeeded.
    Success,
    /// The records before this index succeeded; the rest failed (ReportBatchItemFailures).
    PartialFailure(usize),
    /// The function failed (error, timeout, crash): the whole batch failed.
    Failure,
    /// The invocation could not run (throttled, function missing): retry without counting an attempt.
    NotRun(String),
}

/// Delivers records in order with AWS's retry, bisection and discard rules.
async fn deliver_in_order(
    services: &Arc<Services>,
    mapping: &Arc<Mapping>,
    shard: &str,
    items: Vec<Item>,
) -> Result<(), u128> {
    let mut queue: VecDeque<Vec<Item>> = VecDeque::from([items]);
    while let Some(batch) = queue.pop_front() {
        let mut attempts: u64 = 0;
        let mut batch = batch;
        loop {
            let config = mapping.config();
            let status = mapping.status();
            if status.state == "Deleting" || !config.enabled {
                return Err(batch.first().map_or(0, |i| i.sequence));
            }
            if config.maximum_record_age >= 0 {
                let oldest = batch.first().map_or(0.0, |i| i.record.created);
                let age = crate::dynamodb::table::now_epoch_seconds() - oldest;
                if age > config.maximum_record_age as f64 {
                    discard(services, mapping, shard, &batch, "RecordAgeExceeded", attempts).await;
                    break;
                }
            }
            let attempt = invoke_batch(services, mapping, &batch).await;
            let (failed_from, counted) = match attempt {
                Attempt::Success => {
                    succeeded(mapping, batch.len());
                    break;
                }
                Attempt::PartialFailure(index) => {
                    succeeded(mapping, index);
                    (index, true)
                }
                Attempt::Failure => (0, true),
                Attempt::NotRun(reason) => {
                    tracing::warn!(uuid = %mapping.uuid, "could not invoke the function: {reason}");
                    mapping.set_last_processing_result("PROBLEM: Function call failed");
                    backoff(mapping, 1).await;
                    continue;
                }
            };
            mapping.set_last_processing_result("PROBLEM: Function call failed");
            record_batch(mapping, "PROBLEM: Function call failed", batch.len(), |h| {
                h.batches_failed += 1;
            });
            batch.drain(..failed_from);
            if config.bisect_batch_on_function_error && batch.len() > 1 {
                // Halves are retried separately, the first before the second; splitting costs no attempt.
                let right = batch.split_off(batch.len() / 2);
                queue.push_front(right);
                queue.push_front(batch);
                break;
            }
            if counted {
                attempts += 1;
            }
            mapping.with_health(|h| h.retries_in_progress = attempts);
            if config.maximum_retry_attempts >= 0 && attempts > config.maximum_retry_attempts as u64 {
                discard(
                    services,
                    mapping,
                    shard,
                    &batch,
                    "RetryAttemptsExhausted",
                    attempts,
                )
                .await;
                break;
            }
            backoff(mapping, attempts).await;
        }
        mapping.with_health(|h| h.retries_in_progress = 0);
    }
    Ok(())
}

fn succeeded(mapping: &Mapping, records: usize) {
    if records == 0 {
        return;
    }
    // The result first, then the counters in one step: whoever sees the count sees the result.
    mapping.set_last_processing_result("OK");
    record_batch(mapping, "OK", records, |h| {
        h.records_delivered += records as u64;
        h.batches_succeeded += 1;
    });
}

fn record_batch(mapping: &Mapping, result: &str, size: usize, counters: impl FnOnce(&mut Health)) {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    mapping.with_health(|h| {
        counters(h);
        h.last_batch_result = Some(result.to_owned());
        h.last_batch_time = Some(now);
        h.last_batch_size = Some(size);
    });
}

/// Waits before a retry (exponential, capped), returning early when the mapping changes.
async fn backoff(mapping: &Mapping, attempt: u64) {
    let delay = Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6))).min(MAX_BACKOFF);
    let mut changes = mapping.subscribe();
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        _ = changes.changed() => {}
    }
}

/// Invokes the mapping's function with a batch and classifies the outcome.
async fn invoke_batch(services: &Arc<Services>, mapping: &Arc<Mapping>, batch: &[Item]) -> Attempt {
    invoke_batch_in(services, mapping, batch, None).await.0
}

/// The tumbling window an invocation belongs to.
#[derive(Clone, Debug)]
struct Window {
    /// Window start, epoch seconds.
    start: i64,
    /// Window end, epoch seconds.
    end: i64,
    /// The state the handler returned last in this window.
    state: Value,
}

/// What a windowed invocation carries besides the records.
struct WindowEvent<'a> {
    shard: &'a str,
    stream_arn: &'a str,
    window: &'a Window,
    is_final: bool,
}

fn iso(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Invokes with a batch (and its tumbling window, if any); also returns the `state` the handler answered.
async fn invoke_batch_in(
    services: &Arc<Services>,
    mapping: &Arc<Mapping>,
    batch: &[Item],
    window: Option<WindowEvent<'_>>,
) -> (Attempt, Option<Value>) {
    let config = mapping.config();
    let ctx = RequestContext {
        account: mapping.account.clone(),
        region: mapping.region.clone(),
        request_id: String::new(),
        host: String::new(),
    };
    let (function, deployment) = match invoke::resolve(services, &ctx, &config.function_arn, None) {
        Ok(found) => found,
        Err(err) => return (Attempt::NotRun(err.to_string()), None),
    };
    let mut event = json!({ "Records": batch.iter().map(|i| i.event.clone()).collect::<Vec<_>>() });
    if let (Some(window), Value::Object(map)) = (&window, &mut event) {
        map.insert("shardId".into(), Value::String(window.shard.to_owned()));
        map.insert(
            "eventSourceARN".into(),
            Value::String(window.stream_arn.to_owned()),
        );
        map.insert(
            "window".into(),
            json!({ "start": iso(window.window.start), "end": iso(window.window.end) }),
        );
        map.insert("state".into(), window.window.state.clone());
        map.insert("isFinalInvokeForWindow".into(), Value::Bool(window.is_final));
        map.insert("isWindowTerminatedEarly".into(), Value::Bool(false));
    }
    let payload = Bytes::from(event.to_string());
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let outcome =
        match invoke::invoke_function(services, &function, &deployment, payload, request_id, None, false)
            .await
        {
            Ok(outcome) => outcome,
            Err(err) => return (Attempt::NotRun(err.to_string()), None),
        };
    let elapsed = started.elapsed();
    let attempt = if outcome.function_error.is_some() {
        Attempt::Failure
    } else if config
        .function_response_types
        .iter()
        .any(|t| t == "ReportBatchItemFailures")
    {
        partial_failure(&outcome.payload, batch)
    } else {
        Attempt::Success
    };
    tracing::info!(
        uuid = %mapping.uuid,
        function = %function.name,
        batch_size = batch.len(),
        result = match &attempt {
            Attempt::Success => "OK",
            Attempt::PartialFailure(_) => "partial failure",
            Attempt::Failure => "function error",
            Attempt::NotRun(_) => "not run",
        },
        duration_ms = format!("{:.2}", elapsed.as_secs_f64() * 1000.0),
        "delivered stream records"
    );
    let state = serde_json::from_slice::<Value>(&outcome.payload)
        .ok()
        .and_then(|response| response.get("state").cloned())
        .filter(Value::is_object);
    (attempt, state)
}

/// Delivers records in tumbling windows: the records of one window go out in order with the state the handler
/// returned last in that window; when a later window starts (or the window's time is up) the window gets its final
/// invocation, with no records and `isFinalInvokeForWindow: true`.
async fn deliver_windowed(
    services: &Arc<Services>,
    mapping: &Arc<Mapping>,
    shard: &str,
    stream_arn: &str,
    items: Vec<Item>,
    window: &mut Option<Window>,
) -> Result<(), u128> {
    let length = i64::from(mapping.config().tumbling_window.max(1));
    let mut rest = items.as_slice();
    while let Some(first) = rest.first() {
        let start = (first.record.created as i64).div_euclid(length) * length;
        let count = rest
            .iter()
            .take_while(|i| (i.record.created as i64).div_euclid(length) * length == start)
            .count();
        let (group, later) = rest.split_at(count);
        if window.as_ref().is_some_and(|w| w.start != start) {
            close_window(services, mapping, shard, stream_arn, window).await;
        }
        let current = window.get_or_insert_with(|| Window {
            start,
            end: start + length,
            state: json!({}),
        });
        let mut attempts: u64 = 0;
        loop {
            let config = mapping.config();
            if mapping.status().state == "Deleting" || !config.enabled {
                return Err(group.first().map_or(0, |i| i.sequence));
            }
            let event = WindowEvent {
                shard,
                stream_arn,
                window: current,
                is_final: false,
            };
            match invoke_batch_in(services, mapping, group, Some(event)).await {
                (Attempt::Success, state) => {
                    if let Some(state) = state {
                        current.state = state;
                    }
                    succeeded(mapping, group.len());
                    break;
                }
                (Attempt::NotRun(reason), _) => {
                    tracing::warn!(uuid = %mapping.uuid, "could not invoke the function: {reason}");
                    backoff(mapping, 1).await;
                }
                _ => {
                    mapping.with_health(|h| h.batches_failed += 1);
                    mapping.set_last_processing_result("PROBLEM: Function call failed");
                    attempts += 1;
                    if config.maximum_retry_attempts >= 0 && attempts > config.maximum_retry_attempts as u64 {
                        discard(
                            services,
                            mapping,
                            shard,
                            group,
                            "RetryAttemptsExhausted",
                            attempts,
                        )
                        .await;
                        break;
                    }
                    backoff(mapping, attempts).await;
                }
            }
        }
        rest = later;
    }
    Ok(())
}

/// The final invocation of a tumbling window: no records, the window's last state, `isFinalInvokeForWindow`.
async fn close_window(
    services: &Arc<Services>,
    mapping: &Arc<Mapping>,
    shard: &str,
    stream_arn: &str,
    window: &mut Option<Window>,
) {
    let Some(closing) = window.take() else { return };
    let event = WindowEvent {
        shard,
        stream_arn,
        window: &closing,
        is_final: true,
    };
    let (attempt, _) = invoke_batch_in(services, mapping, &[], Some(event)).await;
    if !matches!(attempt, Attempt::Success) {
        tracing::warn!(uuid = %mapping.uuid, "the final invocation of a tumbling window failed");
    }
}

/// Reads a ReportBatchItemFailures response: success when empty, else the index of the lowest failed record;
/// anything malformed fails the whole batch, as AWS does.
fn partial_failure(payload: &[u8], batch: &[Item]) -> Attempt {
    let response: Value = match serde_json::from_slice(payload) {
        Ok(value) => value,
        Err(_) => return Attempt::Failure,
    };
    let failures = match &response {
        Value::Null => return Attempt::Success,
        Value::Object(map) => match map.get("batchItemFailures") {
            None | Some(Value::Null) => return Attempt::Success,
            Some(Value::Array(failures)) if failures.is_empty() => return Attempt::Success,
            Some(Value::Array(failures)) => failures,
            Some(_) => return Attempt::Failure,
        },
        _ => return Attempt::Success,
    };
    let mut lowest: Option<usize> = None;
    for failure in failures {
        let Some(id) = failure
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Attempt::Failure;
        };
        let Some(index) = batch.iter().position(|i| i.record.sequence_number() == id) else {
            return Attempt::Failure;
        };
        lowest = Some(lowest.map_or(index, |l| l.min(index)));
    }
    match lowest {
        Some(index) => Attempt::PartialFailure(index),
        None => Attempt::Success,
    }
}

/// Gives up on a batch: a failure record (AWS's shape) is kept, logged, and sent to a Lambda destination.
async fn discard(
    services: &Arc<Services>,
    mapping: &Arc<Mapping>,
    shard: &str,
    batch: &[Item],
    condition: &str,
    attempts: u64,
) {
    let config = mapping.config();
    let arrival = |item: Option<&Item>| {
        item.and_then(|i| jiff::Timestamp::from_second(i.record.created as i64).ok())
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    let record = json!({
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": config.function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts.max(1),
        },
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
        "version": "1.0",
        "timestamp": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": batch.first().map(|i| i.record.sequence_number()),
            "endSequenceNumber": batch.last().map(|i| i.record.sequence_number()),
            "approximateArrivalOfFirstRecord": arrival(batch.first()),
            "approximateArrivalOfLastRecord": arrival(batch.last()),
            "batchSize": batch.len(),
            "streamArn": config.event_source_arn,
        },
    });
    tracing::warn!(uuid = %mapping.uuid, condition, records = batch.len(), "discarded a batch of stream records: {record}");
    mapping.with_health(|h| {
        h.records_discarded += batch.len() as u64;
        h.failure_records.push_back(record.clone());
        while h.failure_records.len() > MAX_FAILURE_RECORDS {
            h.failure_records.pop_front();
        }
    });
    if let Some(destination) = config.on_failure_destination.as_deref()
        && destination.contains(":lambda:")
        && destination.contains(":function:")
    {
        let ctx = RequestContext {
            account: mapping.account.clone(),
            region: mapping.region.clone(),
            request_id: String::new(),
            host: String::new(),
        };
        if let Ok((function, deployment)) = invoke::resolve(services, &ctx, destination, None) {
            let services = services.clone();
            let payload = Bytes::from(record.to_string());
            tokio::spawn(async move {
                let id = uuid::Uuid::new_v4().to_string();
                let _ = invoke::invoke_function(&services, &function, &deployment, payload, id, None, false)
                    .await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(enabled: bool) -> Mapping {
        Mapping::new(
            "000000000000",
            "us-east-1",
            super::super::MappingConfig {
                enabled,
                ..super::super::MappingConfig::new(
                    "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
                    "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000".into(),
                    "TRIM_HORIZON".into(),
                )
            },
        )
    }

    #[test]
    fn a_new_mapping_starts_enabled_or_disabled_as_configured() {
        let enabled = mapping(true);
        assert!(begin(&enabled));
        assert_eq!(enabled.status().state, "Enabled");
        let disabled = mapping(false);
        assert!(begin(&disabled));
        assert_eq!(disabled.status().state, "Disabled");
    }

    #[test]
    fn a_mapping_deleted_before_its_poller_starts_stays_deleted() {
        let mapping = mapping(true);
        mapping.set_state("Deleting");
        assert!(!begin(&mapping));
        assert_eq!(mapping.status().state, "Deleting");
    }

    #[test]
    fn an_update_made_before_the_poller_starts_stands() {
        let mapping = mapping(true);
        mapping.update_config(|c| c.enabled = false);
        mapping.set_state("Disabled");
        assert!(begin(&mapping));
        assert_eq!(mapping.status().state, "Disabled");
    }
}
