//! `EventSourceMapping`: a Lambda event source mapping (ACK's `lambda.services.k8s.aws` EventSourceMapping).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AckResourceMetadata, Reference, any_value, set_fields, string_map};

/// An event source mapping from a DynamoDB stream to a function, created in the namespace's emulator.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "dynastream.dev",
    version = "v1alpha1",
    kind = "EventSourceMapping",
    doc = "A Lambda event source mapping in the namespace's dynastream emulator (ACK's fields, plus tableRef).",
    namespaced,
    status = "EventSourceMappingStatus",
    shortname = "esm",
    category = "dynastream",
    printcolumn(
        name = "Function",
        type_ = "string",
        json_path = ".status.functionARN",
        priority = "1"
    ),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Last-Result",
        type_ = "string",
        json_path = ".status.lastProcessingResult"
    ),
    printcolumn(
        name = "Delivered",
        type_ = "integer",
        json_path = ".status.delivery.recordsDelivered"
    ),
    printcolumn(name = "UUID", type_ = "string", json_path = ".status.uuid", priority = "1"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct EventSourceMappingSpec {
    /// The function's name or ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// ACK's reference to a `Function` resource (resolves to its `spec.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_ref: Option<Reference>,
    /// The stream's ARN.
    #[serde(default, rename = "eventSourceARN", skip_serializing_if = "Option::is_none")]
    pub event_source_arn: Option<String>,
    /// dynastream: a reference to a `Table` resource, whose latest stream is the event source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_ref: Option<Reference>,
    /// `TRIM_HORIZON` or `LATEST`. It cannot change once the mapping exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_position: Option<String>,
    /// Records per batch (1 to 10000; 100 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<i64>,
    /// Seconds to gather records before invoking (0 to 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_batching_window_in_seconds: Option<i64>,
    /// Retries of a failing batch (-1 for unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<i64>,
    /// Oldest record age sent to the function (-1 for unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_record_age_in_seconds: Option<i64>,
    /// Whether a failing batch is split in two and retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bisect_batch_on_function_error: Option<bool>,
    /// Concurrent batches per shard (1 to 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelization_factor: Option<i64>,
    /// Tumbling window length in seconds (0 to 900).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tumbling_window_in_seconds: Option<i64>,
    /// `ReportBatchItemFailures`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_response_types: Option<Vec<String>>,
    /// Event filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_criteria: Option<FilterCriteria>,
    /// Where discarded batches are described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_config: Option<DestinationConfig>,
    /// Whether the mapping delivers records (true by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Tags, as a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "string_map")]
    pub tags: Option<BTreeMap<String, String>>,
    /// ACK's reference to an MSK cluster (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub event_source_ref: Option<serde_json::Value>,
    /// ACK's starting timestamp, for Kinesis and Kafka (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_position_timestamp: Option<String>,
    /// ACK's scaling settings, for SQS (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub scaling_config: Option<serde_json::Value>,
    /// ACK's MQ queues (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub queues: Option<serde_json::Value>,
    /// ACK's MQ queue references (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub queue_refs: Option<serde_json::Value>,
    /// ACK's Kafka topics (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub topics: Option<serde_json::Value>,
    /// ACK's self-managed event source (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub self_managed_event_source: Option<serde_json::Value>,
    /// ACK's source access configurations (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub source_access_configurations: Option<serde_json::Value>,
    /// ACK's MSK settings (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub amazon_managed_kafka_event_source_config: Option<serde_json::Value>,
    /// ACK's self-managed Kafka settings (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub self_managed_kafka_event_source_config: Option<serde_json::Value>,
    /// ACK's logging settings (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub logging_config: Option<serde_json::Value>,
}

impl EventSourceMappingSpec {
    /// The ACK fields that are set but that dynastream does not apply.
    pub fn unsupported_fields(&self) -> Vec<&'static str> {
        set_fields(&[
            ("spec.eventSourceRef", self.event_source_ref.is_some()),
            (
                "spec.startingPositionTimestamp",
                self.starting_position_timestamp.is_some(),
            ),
            ("spec.scalingConfig", self.scaling_config.is_some()),
            ("spec.queues", self.queues.is_some()),
            ("spec.queueRefs", self.queue_refs.is_some()),
            ("spec.topics", self.topics.is_some()),
            (
                "spec.selfManagedEventSource",
                self.self_managed_event_source.is_some(),
            ),
            (
                "spec.sourceAccessConfigurations",
                self.source_access_configurations.is_some(),
            ),
            (
                "spec.amazonManagedKafkaEventSourceConfig",
                self.amazon_managed_kafka_event_source_config.is_some(),
            ),
            (
                "spec.selfManagedKafkaEventSourceConfig",
                self.self_managed_kafka_event_source_config.is_some(),
            ),
            ("spec.loggingConfig", self.logging_config.is_some()),
        ])
    }
}

/// Event filters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FilterCriteria {
    /// Up to five filters; a record matching any of them is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// One event filter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Filter {
    /// The filter pattern, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// Where the mapping describes discarded batches.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationConfig {
    /// On failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Destination>,
    /// On success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<Destination>,
}

/// A destination's ARN.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Destination {
    /// An SQS queue's, SNS topic's or S3 bucket's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

/// What the emulator reports about the mapping, in ACK's names, plus its delivery health.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventSourceMappingStatus {
    /// The mapping's ARN, account and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_resource_metadata: Option<AckResourceMetadata>,
    /// `Ready`, `ACK.ResourceSynced`, `ACK.Terminal`, `ACK.ReferencesResolved`.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// The generation these conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The mapping's UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// `Creating`, `Enabled`, `Disabled`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Why the mapping is in its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_transition_reason: Option<String>,
    /// When the mapping last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// `OK`, `No records processed` or the last problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_processing_result: Option<String>,
    /// The function's ARN.
    #[serde(default, rename = "functionARN", skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    /// The stream the mapping reads (resolved from `tableRef` or `eventSourceARN`).
    #[serde(default, rename = "eventSourceARN", skip_serializing_if = "Option::is_none")]
    pub event_source_arn: Option<String>,
    /// dynastream: how delivery is going, as the emulator sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// Delivery health of a mapping.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Records handed to the function in successful batches.
    pub records_delivered: u64,
    /// Successful batches.
    pub batches_succeeded: u64,
    /// Failed invocations (each retry counts).
    pub batches_failed: u64,
    /// Records discarded after their retries or age ran out.
    pub records_discarded: u64,
    /// Records that matched no filter.
    pub records_filtered_out: u64,
    /// The last batch's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_batch_result: Option<String>,
    /// When the last batch finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_batch_time: Option<String>,
    /// Milliseconds between the newest record read and its reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterator_age_milliseconds: Option<u64>,
    /// Retries of the batch being delivered (0 when none is failing).
    pub retries_in_progress: u64,
}
