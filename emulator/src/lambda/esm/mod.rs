//! Event source mappings for DynamoDB streams: the mappings themselves (configuration, state, delivery health),
//! their REST API ([`api`]) and the pollers that deliver stream records to functions ([`poller`]).
//!
//! A poller follows its stream's shards in order and is woken by the stream's change notification, not by a
//! timer, so a record reaches its handler within milliseconds of the write.

pub mod api;
pub mod poller;

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::sync::watch;

use super::filter::FilterCriteria;

/// Most failure records kept per mapping for inspection.
pub const MAX_FAILURE_RECORDS: usize = 100;

/// A mapping's settings, as CreateEventSourceMapping and UpdateEventSourceMapping set them.
#[derive(Clone, Debug)]
pub struct MappingConfig {
    /// The function's ARN (qualified when the mapping names a version).
    pub function_arn: String,
    /// The stream's ARN.
    pub event_source_arn: String,
    /// Records per batch (1..10000, default 100).
    pub batch_size: u32,
    /// Seconds to wait for a batch to fill (0..300).
    pub maximum_batching_window: u32,
    /// TRIM_HORIZON or LATEST.
    pub starting_position: String,
    /// Concurrent batches per shard (1..10).
    pub parallelization_factor: u32,
    /// Retries of a failed batch, -1 for until the records expire.
    pub maximum_retry_attempts: i64,
    /// Oldest record (seconds) still delivered, -1 for no limit.
    pub maximum_record_age: i64,
    /// Split a failed batch in two and retry each half.
    pub bisect_batch_on_function_error: bool,
    /// Where discarded batches are reported.
    pub on_failure_destination: Option<String>,
    /// `ReportBatchItemFailures` or nothing.
    pub function_response_types: Vec<String>,
    /// Tumbling window length in seconds (0: none).
    pub tumbling_window: u32,
    /// The filter patterns as the client sent them, and their parsed form.
    pub filters: Option<(Vec<String>, Arc<FilterCriteria>)>,
    /// Whether records are delivered.
    pub enabled: bool,
}

impl MappingConfig {
    /// A mapping of `event_source_arn` to `function_arn` with AWS's defaults for everything else.
    pub fn new(function_arn: String, event_source_arn: String, starting_position: String) -> Self {
        Self {
            function_arn,
            event_source_arn,
            batch_size: 100,
            maximum_batching_window: 0,
            starting_position,
            parallelization_factor: 1,
            maximum_retry_attempts: -1,
            maximum_record_age: -1,
            bisect_batch_on_function_error: false,
            on_failure_destination: None,
            function_response_types: Vec::new(),
            tumbling_window: 0,
            filters: None,
            enabled: true,
        }
    }
}

/// A mapping's lifecycle state, as AWS names it.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Creating, Enabled, Disabling, Disabled, Enabling, Updating, Deleting.
    pub state: &'static str,
    /// `User action`.
    pub state_transition_reason: String,
    /// Epoch seconds of the last change.
    pub last_modified: f64,
    /// `No records processed`, `OK`, `PROBLEM: ...`.
    pub last_processing_result: String,
}

/// A failure record, kept as AWS would send it to an on-failure destination.
pub type FailureRecord = serde_json::Value;

/// What a mapping has done, for the inspection endpoint (and the operator's status).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Records handed to the function in successful batches.
    pub records_delivered: u64,
    /// Successful batches.
    pub batches_succeeded: u64,
    /// Failed invocations (each retry counts).
    pub batches_failed: u64,
    /// Records matching no filter (checkpointed without invoking the function).
    pub records_filtered_out: u64,
    /// Records discarded after their retries or age ran out.
    pub records_discarded: u64,
    /// The last batch's result: OK or the problem.
    pub last_batch_result: Option<String>,
    /// When the last batch finished (ISO 8601).
    pub last_batch_time: Option<String>,
    /// Size of the last batch.
    pub last_batch_size: Option<usize>,
    /// Milliseconds between the newest record read and now, when it was read.
    pub iterator_age_ms: Option<u64>,
    /// Retries of the batch being delivered (0 when none is failing).
    pub retries_in_progress: u64,
    /// The shard being read.
    pub current_shard: Option<String>,
    /// Records discarded, as sent (or as they would be sent) to the on-failure destination, newest last.
    pub failure_records: VecDeque<FailureRecord>,
}

/// One event source mapping.
#[derive(Debug)]
pub struct Mapping {
    /// UUID.
    pub uuid: String,
    /// `arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>`.
    pub arn: String,
    /// Owning account.
    pub account: String,
    /// Owning region.
    pub region: String,
    config: RwLock<MappingConfig>,
    status: Mutex<Status>,
    health: Mutex<Health>,
    /// Bumped on every change the poller must react to (update, disable, delete).
    changes: watch::Sender<u64>,
    /// Its tags (CreateEventSourceMapping's `Tags`, TagResource).
    pub tags: Mutex<BTreeMap<String, String>>,
}

impl Mapping {
    /// A new mapping in state `Creating`.
    pub fn new(account: &str, region: &str, config: MappingConfig) -> Self {
        let uuid = uuid::Uuid::new_v4().to_string();
        Self {
            arn: format!("arn:aws:lambda:{region}:{account}:event-source-mapping:{uuid}"),
            uuid,
            account: account.to_owned(),
            region: region.to_owned(),
            config: RwLock::new(config),
            status: Mutex::new(Status {
                state: "Creating",
                state_transition_reason: "USER_INITIATED".into(),
                last_modified: crate::dynamodb::table::now_epoch_seconds(),
                last_processing_result: "No records processed".into(),
            }),
            health: Mutex::new(Health::default()),
            changes: watch::channel(0).0,
            tags: Mutex::new(BTreeMap::new()),
        }
    }

    /// The settings.
    pub fn config(&self) -> MappingConfig {
        self.config.read().clone()
    }

    /// Changes the settings and tells the poller.
    pub fn update_config(&self, f: impl FnOnce(&mut MappingConfig)) {
        f(&mut self.config.write());
        self.changes.send_modify(|n| *n += 1);
    }

    /// The lifecycle state.
    pub fn status(&self) -> Status {
        self.status.lock().clone()
    }

    /// Sets the lifecycle state.
    pub fn set_state(&self, state: &'static str) {
        let mut status = self.status.lock();
        status.state = state;
        status.last_modified = crate::dynamodb::table::now_epoch_seconds();
        drop(status);
        self.changes.send_modify(|n| *n += 1);
    }

    /// Sets the lifecycle state to `to` only if it is still `from`; whether it did. A change made meanwhile
    /// (an update, a deletion) wins over a transition that was decided before it.
    pub fn transition(&self, from: &str, to: &'static str) -> bool {
        let mut status = self.status.lock();
        if status.state != from {
            return false;
        }
        status.state = to;
        status.last_modified = crate::dynamodb::table::now_epoch_seconds();
        drop(status);
        self.changes.send_modify(|n| *n += 1);
        true
    }

    /// Records the outcome of a batch.
    pub fn set_last_processing_result(&self, result: &str) {
        self.status.lock().last_processing_result = result.to_owned();
    }

    /// Delivery health.
    pub fn health(&self) -> Health {
        self.health.lock().clone()
    }

    /// Updates delivery health.
    pub fn with_health(&self, f: impl FnOnce(&mut Health)) {
        f(&mut self.health.lock());
    }

    /// A receiver that changes whenever the mapping changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

/// The mappings of one account and region.
#[derive(Debug, Default)]
pub struct RegionMappings {
    mappings: RwLock<BTreeMap<String, Arc<Mapping>>>,
}

impl RegionMappings {
    /// The mapping with this UUID.
    pub fn get(&self, uuid: &str) -> Option<Arc<Mapping>> {
        self.mappings.read().get(uuid).cloned()
    }

    /// Adds a mapping.
    pub fn insert(&self, mapping: Arc<Mapping>) {
        self.mappings.write().insert(mapping.uuid.clone(), mapping);
    }

    /// Removes a mapping.
    pub fn remove(&self, uuid: &str) -> Option<Arc<Mapping>> {
        self.mappings.write().remove(uuid)
    }

    /// All mappings, in UUID order.
    pub fn list(&self) -> Vec<Arc<Mapping>> {
        self.mappings.read().values().cloned().collect()
    }
}

/// Every mapping, per account and region.
#[derive(Debug, Default)]
pub struct Mappings {
    regions: RwLock<std::collections::HashMap<(String, String), Arc<RegionMappings>>>,
}

impl Mappings {
    /// The mappings of `account` in `region`.
    pub fn region(&self, account: &str, region: &str) -> Arc<RegionMappings> {
        let key = (account.to_owned(), region.to_owned());
        if let Some(found) = self.regions.read().get(&key) {
            return found.clone();
        }
        self.regions.write().entry(key).or_default().clone()
    }

    /// Every mapping of every account and region.
    pub fn all(&self) -> Vec<Arc<Mapping>> {
        self.regions.read().values().flat_map(|r| r.list()).collect()
    }
}
