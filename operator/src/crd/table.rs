//! `Table`: a DynamoDB table (ACK's `dynamodb.services.k8s.aws` Table).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AckResourceMetadata, Tag, any_value, set_fields};

/// A DynamoDB table, created in the namespace's emulator.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "dynastream.dev",
    version = "v1alpha1",
    kind = "Table",
    doc = "A DynamoDB table in the namespace's dynastream emulator (ACK's Table fields).",
    namespaced,
    status = "TableStatus",
    shortname = "ddbtable",
    category = "dynastream",
    printcolumn(name = "Table", type_ = "string", json_path = ".spec.tableName"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.tableStatus"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "ARN",
        type_ = "string",
        json_path = ".status.ackResourceMetadata.arn",
        priority = "1"
    ),
    printcolumn(
        name = "Stream",
        type_ = "string",
        json_path = ".status.latestStreamARN",
        priority = "1"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct TableSpec {
    /// The table's name.
    pub table_name: String,
    /// The attributes of the table's and its indexes' key schemas.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// The table's primary key. It cannot change once the table exists.
    pub key_schema: Vec<KeySchemaElement>,
    /// `PROVISIONED` (the default) or `PAY_PER_REQUEST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_mode: Option<String>,
    /// Read and write capacity, for `PROVISIONED` tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    /// Maximum request units, for `PAY_PER_REQUEST` tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// Global secondary indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<Vec<GlobalSecondaryIndex>>,
    /// Local secondary indexes. They cannot change once the table exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_secondary_indexes: Option<Vec<LocalSecondaryIndex>>,
    /// The table's stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_specification: Option<StreamSpecification>,
    /// Time to live, applied with UpdateTimeToLive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_live: Option<TimeToLiveSpecification>,
    /// Server-side encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_specification: Option<SseSpecification>,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_class: Option<String>,
    /// Whether DeleteTable is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<bool>,
    /// Tags, as a list of `{key, value}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// ACK's point-in-time recovery setting (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub continuous_backups: Option<serde_json::Value>,
    /// ACK's contributor insights setting (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub contributor_insights: Option<serde_json::Value>,
    /// ACK's resource policy (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub resource_policy: Option<serde_json::Value>,
    /// ACK's global table replicas (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub table_replicas: Option<serde_json::Value>,
}

impl TableSpec {
    /// The ACK fields that are set but that dynastream does not apply.
    pub fn unsupported_fields(&self) -> Vec<&'static str> {
        let kms_ref = self
            .sse_specification
            .as_ref()
            .is_some_and(|s| s.kms_master_key_ref.is_some());
        set_fields(&[
            ("spec.continuousBackups", self.continuous_backups.is_some()),
            ("spec.contributorInsights", self.contributor_insights.is_some()),
            ("spec.resourcePolicy", self.resource_policy.is_some()),
            ("spec.tableReplicas", self.table_replicas.is_some()),
            ("spec.sseSpecification.kmsMasterKeyRef", kms_ref),
        ])
    }
}

/// An attribute of a key schema.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDefinition {
    /// The attribute's name.
    pub attribute_name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

/// One element of a key schema.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeySchemaElement {
    /// The attribute's name.
    pub attribute_name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

/// Provisioned capacity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedThroughput {
    /// Read capacity units.
    pub read_capacity_units: i64,
    /// Write capacity units.
    pub write_capacity_units: i64,
}

/// On-demand maximum request units.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnDemandThroughput {
    /// Maximum read request units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_read_request_units: Option<i64>,
    /// Maximum write request units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_write_request_units: Option<i64>,
}

/// Which attributes an index holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Projection {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection_type: Option<String>,
    /// The attributes an `INCLUDE` projection adds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_key_attributes: Option<Vec<String>>,
}

/// A global secondary index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GlobalSecondaryIndex {
    /// The index's name.
    pub index_name: String,
    /// The index's key.
    pub key_schema: Vec<KeySchemaElement>,
    /// The attributes it holds.
    pub projection: Projection,
    /// Its capacity, for `PROVISIONED` tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    /// Its maximum request units, for `PAY_PER_REQUEST` tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
}

/// A local secondary index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalSecondaryIndex {
    /// The index's name.
    pub index_name: String,
    /// The index's key.
    pub key_schema: Vec<KeySchemaElement>,
    /// The attributes it holds.
    pub projection: Projection,
}

/// The table's stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamSpecification {
    /// Whether the table has a stream.
    pub stream_enabled: bool,
    /// `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE` or `NEW_AND_OLD_IMAGES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_view_type: Option<String>,
}

/// Time to live.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeToLiveSpecification {
    /// The attribute holding the expiry time (seconds since the epoch).
    pub attribute_name: String,
    /// Whether expired items are deleted.
    pub enabled: bool,
}

/// Server-side encryption.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SseSpecification {
    /// Whether encryption uses a KMS key (true) or an AWS owned key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `KMS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_type: Option<String>,
    /// The KMS key.
    #[serde(default, rename = "kmsMasterKeyID", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
    /// ACK's reference to a KMS Key resource (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub kms_master_key_ref: Option<serde_json::Value>,
}

/// What the emulator reports about the table, in ACK's names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TableStatus {
    /// The table's ARN, account and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_resource_metadata: Option<AckResourceMetadata>,
    /// `Ready`, `ACK.ResourceSynced`, `ACK.Terminal`.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// The generation these conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `CREATING`, `ACTIVE`, `UPDATING`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_status: Option<String>,
    /// The table's id.
    #[serde(default, rename = "tableID", skip_serializing_if = "Option::is_none")]
    pub table_id: Option<String>,
    /// The ARN of the table's latest stream.
    #[serde(default, rename = "latestStreamARN", skip_serializing_if = "Option::is_none")]
    pub latest_stream_arn: Option<String>,
    /// The label of the table's latest stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_stream_label: Option<String>,
    /// Items in the table (as DescribeTable reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<i64>,
    /// The table's size in bytes (as DescribeTable reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_size_bytes: Option<i64>,
    /// When the table was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date_time: Option<String>,
}
