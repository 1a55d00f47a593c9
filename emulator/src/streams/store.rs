//! Streams as stored: shards of records in sequence order, rolled over after a configurable lifetime, trimmed
//! after the retention period, with a change notification that wakes readers the moment a record is appended.
//!
//! Records are appended by the table's write path while it holds the table's item lock, so a stream's order of
//! changes to one key is their write order.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use super::record::{Record, ViewType, sequence_text};
use crate::{
    aws_error,
    dynamodb::{key::KeySchema, value::Item},
    edge::AwsError,
};

/// How long a shard iterator stays valid.
pub const ITERATOR_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The first sequence number of every stream: 21 digits, as AWS's are at least.
const FIRST_SEQUENCE: u128 = 100_000_000_000_000_000_000;

/// Stream timing settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamSettings {
    /// How long a shard stays open before a child replaces it (AWS: about four hours).
    pub shard_lifetime: Duration,
    /// How long records (and disabled streams) are kept (AWS: 24 hours).
    pub retention: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            shard_lifetime: Duration::from_secs(4 * 3600),
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

/// ENABLED or DISABLED (AWS's transitional ENABLING/DISABLING states pass at once here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamStatus {
    /// Capturing changes.
    Enabled,
    /// No longer capturing; readable until retention ends.
    Disabled,
}

impl StreamStatus {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Enabled => "ENABLED",
            StreamStatus::Disabled => "DISABLED",
        }
    }
}

/// A record with the facts the store needs.
#[derive(Debug)]
struct Stored {
    sequence: u128,
    at: Instant,
    record: Arc<Record>,
}

/// One shard.
#[derive(Debug)]
struct Shard {
    id: String,
    parent: Option<String>,
    starting: u128,
    ending: Option<u128>,
    opened: Instant,
    records: VecDeque<Stored>,
    /// Every position below this was trimmed away (`starting` while nothing was).
    trimmed_to: u128,
}

#[derive(Debug)]
struct State {
    status: StreamStatus,
    disabled_at: Option<Instant>,
    shards: Vec<Shard>,
    next_sequence: u128,
}

/// A shard as DescribeStream and readers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardInfo {
    /// `shardId-<20-digit epoch ms>-<8 hex>`.
    pub id: String,
    /// The shard this one continues.
    pub parent: Option<String>,
    /// First sequence number of the shard.
    pub starting: u128,
    /// Last sequence number, once the shard is closed.
    pub ending: Option<u128>,
}

/// What a read of a shard returned.
#[derive(Debug)]
pub struct ShardRead {
    /// Records in sequence order.
    pub records: Vec<Arc<Record>>,
    /// Where the next read starts.
    pub next: u128,
    /// The shard is closed and every record up to its end has been read.
    pub exhausted: bool,
}

/// One stream of one table.
#[derive(Debug)]
pub struct Stream {
    /// `arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label>`.
    pub arn: String,
    /// Creation time, `YYYY-MM-DDTHH:MM:SS.mmm`.
    pub label: String,
    /// The table's name.
    pub table_name: String,
    /// The table's region.
    pub region: String,
    /// What records carry.
    pub view_type: ViewType,
    /// The table's key schema.
    pub key_schema: KeySchema,
    /// Epoch seconds at creation.
    pub created: f64,
    settings: StreamSettings,
    state: Mutex<State>,
    changes: watch::Sender<u128>,
}

fn new_shard_id() -> String {
    let millis = jiff::Timestamp::now().as_millisecond().max(0);
    format!("shardId-{millis:020}-{:08x}", rand::random::<u32>())
}

impl Stream {
    /// A new, enabled stream with one open shard.
    pub fn new(
        arn: String,
        label: String,
        table_name: String,
        region: String,
        view_type: ViewType,
        key_schema: KeySchema,
        settings: StreamSettings,
    ) -> Self {
        let shard = Shard {
            id: new_shard_id(),
            parent: None,
            starting: FIRST_SEQUENCE,
            ending: None,
            opened: Instant::now(),
            records: VecDeque::new(),
            trimmed_to: FIRST_SEQUENCE,
        };
        let (changes, _) = watch::channel(FIRST_SEQUENCE);
        Self {
            arn,
            label,
            table_name,
            region,
            view_type,
            key_schema,
            created: crate::dynamodb::table::now_epoch_seconds(),
            settings,
            state: Mutex::new(State {
                status: StreamStatus::Enabled,
                disabled_at: None,
                shards: vec![shard],
                next_sequence: FIRST_SEQUENCE,
            }),
            changes,
        }
    }

    /// Appends the record of a change (nothing when the change is none). Called under the table's item lock.
    pub fn append(&self, old: Option<&Item>, new: Option<&Item>, by_ttl: bool) {
        let appended = {
            let mut state = self.state.lock();
            if state.status == StreamStatus::Disabled {
                return;
            }
            let now = Instant::now();
            self.roll_over(&mut state, now);
            self.trim(&mut state, now);
            let sequence = state.next_sequence;
            let Some(record) = Record::of_change(
                &self.key_schema,
                self.view_type,
                &self.region,
                sequence,
                crate::dynamodb::table::now_epoch_seconds(),
                old,
                new,
                by_ttl,
            ) else {
                return;
            };
            state.next_sequence += 1;
            if let Some(shard) = state.shards.last_mut() {
                shard.records.push_back(Stored {
                    sequence,
                    at: now,
                    record: Arc::new(record),
                });
            }
            sequence
        };
        // NB: send_replace never fails, whether or not anyone listens.
        self.changes.send_replace(appended);
    }

    /// Closes the open shard after its lifetime and opens its child.
    fn roll_over(&self, state: &mut State, now: Instant) {
        let next_sequence = state.next_sequence;
        let Some(open) = state.shards.last_mut() else {
            return;
        };
        if open.ending.is_some() || now.duration_since(open.opened) < self.settings.shard_lifetime {
            return;
        }
        // An empty shard ends just before where it started, so its range is empty but well-formed.
        open.ending = Some(next_sequence.saturating_sub(1).max(open.starting));
        let parent = open.id.clone();
        state.shards.push(Shard {
            id: new_shard_id(),
            parent: Some(parent),
            starting: next_sequence,
            ending: None,
            opened: now,
            records: VecDeque::new(),
            trimmed_to: next_sequence,
        });
    }

    /// Drops records (and closed, emptied shards) older than the retention period.
    fn trim(&self, state: &mut State, now: Instant) {
        let retention = self.settings.retention;
        for shard in &mut state.shards {
            while shard
                .records
                .front()
                .is_some_and(|r| now.duration_since(r.at) > retention)
            {
                if let Some(gone) = shard.records.pop_front() {
                    shard.trimmed_to = gone.sequence + 1;
                }
            }
        }
        let open_count = state.shards.len();
        let mut index = 0;
        state.shards.retain(|shard| {
            index += 1;
            // Keep the open shard, and closed shards younger than retention or still holding records.
            index == open_count || !shard.records.is_empty() || now.duration_since(shard.opened) <= retention
        });
    }

    /// Stops capturing (the table's stream was turned off or the table deleted); the open shard closes.
    pub fn disable(&self) {
        let mut state = self.state.lock();
        if state.status == StreamStatus::Disabled {
            return;
        }
        state.status = StreamStatus::Disabled;
        state.disabled_at = Some(Instant::now());
        let next_sequence = state.next_sequence;
        if let Some(open) = state.shards.last_mut()
            && open.ending.is_none()
        {
            open.ending = Some(next_sequence.saturating_sub(1).max(open.starting));
        }
        drop(state);
        self.changes.send_modify(|_| {});
    }

    /// Current status.
    pub fn status(&self) -> StreamStatus {
        self.state.lock().status
    }

    /// Whether the stream was disabled longer ago than the retention period (it is then forgotten).
    pub fn expired(&self, now: Instant) -> bool {
        self.state
            .lock()
            .disabled_at
            .is_some_and(|at| now.duration_since(at) > self.settings.retention)
    }

    /// The shards, oldest first, after applying rollover and trimming.
    pub fn shards(&self) -> Vec<ShardInfo> {
        let mut state = self.state.lock();
        let now = Instant::now();
        if state.status == StreamStatus::Enabled {
            self.roll_over(&mut state, now);
        }
        self.trim(&mut state, now);
        state
            .shards
            .iter()
            .map(|s| ShardInfo {
                id: s.id.clone(),
                parent: s.parent.clone(),
                starting: s.starting,
                ending: s.ending,
            })
            .collect()
    }

    /// A receiver that changes whenever a record is appended (or the stream is disabled).
    pub fn subscribe(&self) -> watch::Receiver<u128> {
        self.changes.subscribe()
    }

    /// The position of a new iterator in `shard_id`.
    pub fn iterator_position(
        &self,
        shard_id: &str,
        kind: IteratorKind,
        sequence: Option<u128>,
    ) -> Result<u128, AwsError> {
        let mut state = self.state.lock();
        let now = Instant::now();
        self.trim(&mut state, now);
        let next_sequence = state.next_sequence;
        let Some(shard) = state.shards.iter().find(|s| s.id == shard_id) else {
            return Err(aws_error!(
                ResourceNotFoundException,
                "Requested resource not found: Shard does not exist"
            ));
        };
        let first_available = shard.trimmed_to;
        let end_of_shard = shard.ending.map_or(next_sequence, |e| e + 1);
        Ok(match (kind, sequence) {
            (IteratorKind::TrimHorizon, _) => first_available,
            (IteratorKind::Latest, _) => end_of_shard,
            (IteratorKind::AtSequenceNumber | IteratorKind::AfterSequenceNumber, Some(sequence)) => {
                if sequence < shard.starting || shard.ending.is_some_and(|e| sequence > e) {
                    return Err(AwsError::validation("Invalid SequenceNumber for the shard"));
                }
                if sequence < first_available {
                    return Err(trimmed());
                }
                if kind == IteratorKind::AfterSequenceNumber {
                    sequence + 1
                } else {
                    sequence
                }
            }
            (_, None) => return Err(AwsError::validation("Invalid SequenceNumber")),
        })
    }

    /// Reads up to `limit` records (and at most `max_bytes` of them, at least one) of `shard_id` from `position`.
    pub fn read(
        &self,
        shard_id: &str,
        position: u128,
        limit: usize,
        max_bytes: usize,
    ) -> Result<ShardRead, AwsError> {
        let mut state = self.state.lock();
        let now = Instant::now();
        if state.status == StreamStatus::Enabled {
            self.roll_over(&mut state, now);
        }
        self.trim(&mut state, now);
        let Some(shard) = state.shards.iter().find(|s| s.id == shard_id) else {
            return Err(aws_error!(
                ResourceNotFoundException,
                "Requested resource not found: Shard does not exist"
            ));
        };
        if position < shard.trimmed_to {
            return Err(trimmed());
        }
        let start = shard.records.partition_point(|r| r.sequence < position);
        let mut records = Vec::new();
        let mut bytes = 0usize;
        let mut next = position;
        for stored in shard.records.iter().skip(start) {
            if records.len() >= limit {
                break;
            }
            let size = stored.record.size_bytes as usize;
            if !records.is_empty() && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            next = stored.sequence + 1;
            records.push(stored.record.clone());
        }
        // A closed shard is exhausted once its last record has been read.
        let exhausted = shard.ending.is_some() && start + records.len() == shard.records.len();
        let next = match shard.ending {
            Some(end) if exhausted => next.max(end + 1),
            _ => next,
        };
        Ok(ShardRead {
            records,
            next,
            exhausted,
        })
    }
}

fn trimmed() -> AwsError {
    aws_error!(
        TrimmedDataAccessException,
        "The operation attempted to read past the oldest stream record in a shard."
    )
}

/// GetShardIterator's ShardIteratorType.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IteratorKind {
    /// The oldest record still kept.
    TrimHorizon,
    /// Just after the most recent record.
    Latest,
    /// At a sequence number.
    AtSequenceNumber,
    /// Just after a sequence number.
    AfterSequenceNumber,
}

impl IteratorKind {
    /// Parses AWS's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "TRIM_HORIZON" => IteratorKind::TrimHorizon,
            "LATEST" => IteratorKind::Latest,
            "AT_SEQUENCE_NUMBER" => IteratorKind::AtSequenceNumber,
            "AFTER_SEQUENCE_NUMBER" => IteratorKind::AfterSequenceNumber,
            _ => return None,
        })
    }
}

/// A shard iterator's content: `<StreamArn>|1|<base64 of "shard|position|issued ms">`, AWS's outer form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardIterator {
    /// The stream.
    pub stream_arn: String,
    /// The shard.
    pub shard_id: String,
    /// Next sequence number to read.
    pub position: u128,
    /// When it was issued, epoch milliseconds.
    pub issued_ms: i64,
}

impl ShardIterator {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        let inner = format!("{}|{}|{}", self.shard_id, self.position, self.issued_ms);
        format!("{}|1|{}", self.stream_arn, BASE64.encode(inner))
    }

    /// Parses an iterator; `None` when it is not one of ours.
    pub fn decode(text: &str) -> Option<Self> {
        let mut outer = text.rsplitn(3, '|');
        let blob = outer.next()?;
        let version = outer.next()?;
        let stream_arn = outer.next()?;
        if version != "1" {
            return None;
        }
        let inner = String::from_utf8(BASE64.decode(blob).ok()?).ok()?;
        let mut parts = inner.split('|');
        let shard_id = parts.next()?.to_owned();
        let position = parts.next()?.parse().ok()?;
        let issued_ms = parts.next()?.parse().ok()?;
        Some(Self {
            stream_arn: stream_arn.to_owned(),
            shard_id,
            position,
            issued_ms,
        })
    }
}

/// The streams of one account and region, including disabled ones until their retention ends.
#[derive(Debug, Default)]
pub struct StreamRegistry {
    streams: RwLock<Vec<Arc<Stream>>>,
}

impl StreamRegistry {
    /// Registers a new stream.
    pub fn add(&self, stream: Arc<Stream>) {
        let mut streams = self.streams.write();
        let now = Instant::now();
        streams.retain(|s| !s.expired(now));
        streams.push(stream);
    }

    /// The stream with this ARN.
    pub fn get(&self, arn: &str) -> Option<Arc<Stream>> {
        let now = Instant::now();
        self.streams
            .read()
            .iter()
            .find(|s| s.arn == arn && !s.expired(now))
            .cloned()
    }

    /// Streams in creation order, optionally of one table.
    pub fn list(&self, table_name: Option<&str>) -> Vec<Arc<Stream>> {
        let now = Instant::now();
        self.streams
            .read()
            .iter()
            .filter(|s| table_name.is_none_or(|t| s.table_name == t) && !s.expired(now))
            .cloned()
            .collect()
    }
}

/// A sequence number as a client sends it.
pub fn parse_sequence(text: &str) -> Option<u128> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// A sequence number as AWS prints it.
pub fn print_sequence(sequence: u128) -> String {
    sequence_text(sequence)
}

#[cfg(test)]
impl Stream {
    /// The ARN of [`Stream::for_tests`].
    pub(crate) const TEST_ARN: &'static str =
        "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-11-26T00:00:00.000";

    /// The stream of table `t` in us-east-1 (hash key `pk` of type S, new and old images), for unit tests.
    pub(crate) fn for_tests(settings: StreamSettings) -> Self {
        use crate::dynamodb::key::{KeyAttribute, ScalarType};
        Stream::new(
            Self::TEST_ARN.into(),
            "2026-11-26T00:00:00.000".into(),
            "t".into(),
            "us-east-1".into(),
            ViewType::NewAndOldImages,
            KeySchema {
                hash: KeyAttribute {
                    name: "pk".into(),
                    ty: ScalarType::S,
                },
                range: None,
            },
            settings,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(settings: StreamSettings) -> Stream {
        Stream::for_tests(settings)
    }

    fn item(pk: &str, v: &str) -> Item {
        serde_json::from_str(&format!(r#"{{"pk":{{"S":"{pk}"}},"v":{{"S":"{v}"}}}}"#)).unwrap()
    }

    #[tokio::test]
    async fn subscriber_is_woken_by_an_append() {
        let stream = stream(StreamSettings::default());
        let mut changes = stream.subscribe();
        let waiter = tokio::spawn(async move {
            changes.changed().await.unwrap();
            *changes.borrow()
        });
        tokio::task::yield_now().await;
        stream.append(None, Some(&item("a", "1")), false);
        let sequence = tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sequence, FIRST_SEQUENCE);
    }

    #[test]
    fn unchanged_item_appends_no_record() {
        let stream = stream(StreamSettings::default());
        stream.append(Some(&item("a", "1")), Some(&item("a", "1")), false);
        stream.append(None, None, false);
        let shard = &stream.shards()[0];
        assert!(
            stream
                .read(&shard.id, shard.starting, 10, usize::MAX)
                .unwrap()
                .records
                .is_empty()
        );
    }

    /// Long enough that the calls below, which roll over and trim at `Instant::now()`, never reach it: the tests
    /// drive `roll_over` and `trim` with explicit instants instead, so OS preemption cannot change the outcome.
    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn shard_rolls_over_after_its_lifetime_with_lineage_and_contiguous_sequences() {
        let stream = stream(StreamSettings {
            shard_lifetime: LONG,
            ..StreamSettings::default()
        });
        stream.append(None, Some(&item("a", "1")), false);
        {
            let mut state = stream.state.lock();
            let opened = state.shards[0].opened;
            stream.roll_over(&mut state, opened + LONG - Duration::from_millis(1));
            assert_eq!(state.shards.len(), 1, "no rollover before the lifetime is up");
            stream.roll_over(&mut state, opened + LONG);
            assert_eq!(state.shards.len(), 2, "rollover once the lifetime is up");
        }
        // NB: the child opened at `opened + LONG`, in the future, so appending now does not roll it over.
        stream.append(None, Some(&item("b", "1")), false);
        let shards = stream.shards();
        assert_eq!(shards.len(), 2);
        assert_eq!(shards[1].parent.as_deref(), Some(shards[0].id.as_str()));
        assert_eq!(shards[0].ending, Some(FIRST_SEQUENCE));
        assert_eq!(shards[1].starting, FIRST_SEQUENCE + 1);
        let first = stream
            .read(&shards[0].id, shards[0].starting, 10, usize::MAX)
            .unwrap();
        assert_eq!(first.records.len(), 1);
        assert!(first.exhausted, "a closed shard read to its end is exhausted");
        let second = stream
            .read(&shards[1].id, shards[1].starting, 10, usize::MAX)
            .unwrap();
        let record: serde_json::Value = serde_json::from_str(second.records[0].json()).unwrap();
        assert_eq!(record["dynamodb"]["Keys"]["pk"]["S"], "b");
        assert!(!second.exhausted);
    }

    #[test]
    fn records_past_retention_are_trimmed_and_reading_them_is_refused() {
        let stream = stream(StreamSettings {
            retention: LONG,
            ..StreamSettings::default()
        });
        stream.append(None, Some(&item("a", "1")), false);
        let shard = stream.shards()[0].clone();
        // NB: a sleep only ever lasts at least this long, so "b" is stored strictly later than "a".
        std::thread::sleep(Duration::from_millis(2));
        stream.append(None, Some(&item("b", "1")), false);
        {
            let mut state = stream.state.lock();
            let b_at = state.shards[0].records[1].at;
            // The instant "b" is exactly as old as retention: it is kept, "a" (older) is not.
            stream.trim(&mut state, b_at + LONG);
            assert_eq!(state.shards[0].records.len(), 1);
        }
        let err = stream
            .read(&shard.id, shard.starting, 10, usize::MAX)
            .unwrap_err();
        assert_eq!(err.code(), crate::edge::ErrorCode::TrimmedDataAccessException);
        let position = stream
            .iterator_position(&shard.id, IteratorKind::TrimHorizon, None)
            .unwrap();
        let read = stream.read(&shard.id, position, 10, usize::MAX).unwrap();
        assert_eq!(read.records.len(), 1, "only the record within retention is left");
        let record: serde_json::Value = serde_json::from_str(read.records[0].json()).unwrap();
        assert_eq!(record["dynamodb"]["Keys"]["pk"]["S"], "b");
    }

    #[test]
    fn iterators_round_trip_and_garbage_is_rejected() {
        let iterator = ShardIterator {
            stream_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x".into(),
            shard_id: "shardId-00000001700000000000-0badcafe".into(),
            position: FIRST_SEQUENCE + 7,
            issued_ms: 1_700_000_000_000,
        };
        assert_eq!(ShardIterator::decode(&iterator.encode()), Some(iterator));
        for garbage in ["", "x", "a|1|!!!", "arn|2|AAAA", "arn|1|QUJD"] {
            assert_eq!(ShardIterator::decode(garbage), None, "{garbage}");
        }
    }
}
