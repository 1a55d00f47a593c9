//! The time-to-live sweeper: a background task that deletes the expired items of every table whose TTL is
//! enabled, as DynamoDB's own background process does.
//!
//! An item is expired when its TTL attribute is a top-level Number of epoch seconds that lies in the past, but
//! not more than five years in the past ([`is_expired`]); any other value, or none, never expires. Like AWS,
//! dynastream deletes expired items some time after they expire (here: within one sweep interval), and until
//! then reads still return them.
//!
//! Deletions go through [`TableData::delete`] with [`ChangeCause::TimeToLive`], under the table's item lock and
//! after checking expiry under that same lock, so a write that renews an item just before the sweep reaches it
//! keeps it alive, and change capture (streams) sees the deletion as the service's. A table is swept in chunks
//! of [`CHUNK`] items, releasing its lock between chunks, so writers never wait long behind a big table.

use std::{ops::Bound, sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinHandle};

use super::{
    key::ItemKey,
    store::DynamoDb,
    table::{ChangeCause, Table, now_epoch_seconds},
    value::AttributeValue,
};

/// How often the sweeper runs unless configured otherwise: often enough that tests and local runs see expired
/// items go within a second, rarely enough to cost nothing when no table has TTL enabled.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Items examined per hold of a table's item lock.
pub const CHUNK: usize = 1000;

/// How far in the past an expiry time may lie and still count: AWS ignores TTL values more than five years old
/// (taken here as five Julian years), since they are most likely not epoch seconds at all (e.g. milliseconds
/// would be far in the future; a date like 20260101 far in the past).
pub const MAX_AGE_SECONDS: f64 = 5.0 * 365.25 * 86_400.0;

/// Whether an item whose TTL attribute holds `value` has expired at `now` (epoch seconds).
pub fn is_expired(value: Option<&AttributeValue>, now: f64) -> bool {
    let Some(AttributeValue::N(number)) = value else {
        return false;
    };
    // NB: numbers are stored in canonical decimal form, which always parses; anything else never expires.
    let Ok(expiry) = number.as_str().parse::<f64>() else {
        return false;
    };
    expiry < now && expiry >= now - MAX_AGE_SECONDS
}

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepSummary {
    /// Tables with TTL enabled that were swept.
    pub tables: usize,
    /// Items examined.
    pub examined: usize,
    /// Items deleted.
    pub deleted: usize,
}

impl SweepSummary {
    fn add(&mut self, other: SweepSummary) {
        self.tables += other.tables;
        self.examined += other.examined;
        self.deleted += other.deleted;
    }
}

/// Where a sweep of one table has got to: the last key examined, or the start.
#[derive(Debug, Default)]
pub struct Cursor(Option<ItemKey>);

/// Sweeps the next chunk of at most `chunk` items of `table` after `cursor`, deleting those expired at `now`.
/// Returns what it did and whether the table is done (its end was reached, or its TTL is no longer enabled).
pub fn sweep_chunk(table: &Table, cursor: &mut Cursor, now: f64, chunk: usize) -> (SweepSummary, bool) {
    let meta = table.meta();
    let Some(attribute) = meta.time_to_live.as_deref() else {
        return (SweepSummary::default(), true);
    };
    let mut data = table.data();
    let start = match &cursor.0 {
        Some(key) => Bound::Excluded(key.as_bytes()),
        None => Bound::Unbounded,
    };
    let mut examined = 0;
    let mut last = None;
    let mut expired = Vec::new();
    for (key, item) in data.items_in((start, Bound::Unbounded), true).take(chunk) {
        examined += 1;
        last = Some(key);
        if is_expired(item.get(attribute), now) {
            expired.push(key.clone());
        }
    }
    let done = examined < chunk;
    cursor.0 = last.cloned();
    // NB: still under the lock that saw them expired, so no write can have renewed them in between.
    let mut deleted = 0;
    for key in expired {
        if let Some(item) = data.delete(&key, ChangeCause::TimeToLive) {
            deleted += 1;
            tracing::debug!(
                table = %table.name,
                key = %serde_json::to_string(&meta.key_schema.key_attributes(&item)).unwrap_or_default(),
                expiry = number_text(item.get(attribute)),
                "time to live deleted item"
            );
        }
    }
    let summary = SweepSummary {
        tables: 0,
        examined,
        deleted,
    };
    (summary, done)
}

/// The text of a number attribute, for logs.
fn number_text(value: Option<&AttributeValue>) -> &str {
    match value {
        Some(AttributeValue::N(number)) => number.as_str(),
        _ => "",
    }
}

/// Sweeps every table of `db` whose TTL is enabled, one chunk at a time, yielding to other tasks between chunks.
pub async fn sweep(db: &DynamoDb) -> SweepSummary {
    let mut summary = SweepSummary::default();
    for table in db.tables() {
        if table.meta().time_to_live.is_none() {
            continue;
        }
        summary.tables += 1;
        let mut cursor = Cursor::default();
        loop {
            let (chunk, done) = sweep_chunk(&table, &mut cursor, now_epoch_seconds(), CHUNK);
            summary.add(chunk);
            if done {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    summary
}

/// A running sweeper; [`SweeperHandle::stop`] ends it.
#[derive(Debug)]
pub struct SweeperHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SweeperHandle {
    /// Stops the sweeper and waits for it to finish (after the chunk it is sweeping, if any).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.task.await {
            tracing::warn!("time to live sweeper ended abnormally: {err}");
        }
    }
}

/// Starts a sweeper over the DynamoDB state that `dynamodb` finds in `state`, sweeping every `every`.
pub fn spawn<S>(state: Arc<S>, dynamodb: fn(&S) -> &DynamoDb, every: Duration) -> SweeperHandle
where
    S: Send + Sync + 'static,
{
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        // NB: a sweep that overruns its interval delays the next one instead of being followed by a burst.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                _ = ticks.tick() => {}
            }
            let started = std::time::Instant::now();
            let summary = sweep(dynamodb(&state)).await;
            if summary.tables > 0 {
                tracing::debug!(
                    tables = summary.tables,
                    examined = summary.examined,
                    deleted = summary.deleted,
                    elapsed = ?started.elapsed(),
                    "time to live sweep"
                );
            }
        }
    });
    SweeperHandle { stop, task }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{
        dynamodb::{number::Number, ops, value::Item},
        edge::RequestContext,
    };

    const NOW: f64 = 1_800_000_000.5;

    fn n(text: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(text).unwrap())
    }

    #[test]
    fn number_in_the_past_has_expired() {
        assert!(is_expired(Some(&n("1800000000")), NOW));
        assert!(is_expired(Some(&n("1799999999.9")), NOW));
        assert!(is_expired(Some(&n("17999999e2")), NOW));
    }

    #[test]
    fn number_now_or_in_the_future_has_not_expired() {
        assert!(!is_expired(Some(&n("1800000000.5")), NOW));
        assert!(!is_expired(Some(&n("1800000001")), NOW));
        // Milliseconds instead of seconds: far in the future.
        assert!(!is_expired(Some(&n("1800000000000")), NOW));
    }

    #[test]
    fn number_more_than_five_years_in_the_past_never_expires() {
        assert!(is_expired(
            Some(&n(&(NOW - MAX_AGE_SECONDS + 1.0).to_string())),
            NOW
        ));
        assert!(!is_expired(
            Some(&n(&(NOW - MAX_AGE_SECONDS - 1.0).to_string())),
            NOW
        ));
        assert!(!is_expired(Some(&n("162777600")), NOW));
        assert!(!is_expired(Some(&n("0")), NOW));
        assert!(!is_expired(Some(&n("-5")), NOW));
    }

    #[test]
    fn value_that_is_not_a_number_never_expires() {
        assert!(!is_expired(None, NOW));
        assert!(!is_expired(Some(&AttributeValue::S("1700000000".into())), NOW));
        assert!(!is_expired(
            Some(&AttributeValue::Ns(vec![Number::parse("1700000000").unwrap()])),
            NOW
        ));
        assert!(!is_expired(Some(&AttributeValue::L(vec![n("1700000000")])), NOW));
    }

    /// A table `t` with TTL on attribute `exp` and `count` items, every third of which has expired.
    fn table_with_items(count: usize) -> Arc<Table> {
        let db = ops::Db::default();
        let ctx = RequestContext::default_scope();
        let create = json!({
            "TableName": "ttl",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        });
        ops::call(&db, &ctx, "CreateTable", create.to_string().as_bytes()).unwrap();
        let ttl =
            json!({"TableName": "ttl", "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": true}});
        ops::call(&db, &ctx, "UpdateTimeToLive", ttl.to_string().as_bytes()).unwrap();
        let table = db.region(&ctx.account, &ctx.region).table("ttl").unwrap();
        {
            let meta = table.meta();
            let mut data = table.data();
            for i in 0..count {
                let expiry = if i % 3 == 0 { NOW - 60.0 } else { NOW + 60.0 };
                let item: Item = [
                    ("pk".to_owned(), n(&i.to_string())),
                    ("exp".to_owned(), n(&expiry.to_string())),
                ]
                .into();
                let key = meta.key_schema.key_of_item(&item).unwrap();
                data.put(key, item, ChangeCause::Request);
            }
        }
        table
    }

    #[test]
    fn chunked_sweep_deletes_exactly_the_expired_items() {
        let table = table_with_items(10);
        let mut cursor = Cursor::default();
        let mut total = SweepSummary::default();
        let mut chunks = 0;
        loop {
            let (summary, done) = sweep_chunk(&table, &mut cursor, NOW, 3);
            chunks += 1;
            total.add(summary);
            if done {
                break;
            }
        }
        assert_eq!(chunks, 4, "10 items in chunks of 3");
        assert_eq!((total.examined, total.deleted), (10, 4));
        assert_eq!(table.data().item_count(), 6);
        let data = table.data();
        let left: Vec<_> = data
            .items_in((Bound::Unbounded, Bound::Unbounded), true)
            .collect();
        assert!(left.iter().all(|(_, item)| !is_expired(item.get("exp"), NOW)));
    }

    #[test]
    fn sweep_of_table_whose_ttl_is_disabled_deletes_nothing() {
        let table = table_with_items(4);
        table.update_meta(|meta| meta.time_to_live = None);
        let (summary, done) = sweep_chunk(&table, &mut Cursor::default(), NOW, CHUNK);
        assert!(done);
        assert_eq!(summary, SweepSummary::default());
        assert_eq!(table.data().item_count(), 4);
    }
}
