//! DynamoDB's JSON 1.0 wire types (serde only, no logic) and [`from_json`], which turns serde's failures into
//! the SerializationException / ValidationException AWS would send.
//!
//! Members carry AWS's names; their documentation is AWS's API reference, so they are not documented again here.
#![allow(missing_docs)]

use std::collections::HashMap;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::value::{AttributeValue, Item, SERIALIZATION, VALIDATION};
use crate::edge::{AwsError, ErrorCode, OtherMembers};

pub mod legacy;
pub mod query;

/// Parses a request body, mapping serde's errors to AWS's.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    // Every request is a JSON object; anything else is unparseable to AWS, whatever serde would make of it.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AwsError::bare(ErrorCode::SerializationException));
    }
    serde_json::from_slice(body).map_err(serde_error)
}

/// Maps a serde_json error to the error AWS sends for the same input.
pub fn serde_error(err: serde_json::Error) -> AwsError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => AwsError::bare(ErrorCode::SerializationException),
        Category::Data => {
            let text = err.to_string();
            let text = strip_position(&text);
            if let Some(message) = text.strip_prefix(VALIDATION) {
                AwsError::validation(message)
            } else if let Some(message) = text.strip_prefix(SERIALIZATION) {
                AwsError::new(ErrorCode::SerializationException, message)
            } else {
                AwsError::new(ErrorCode::SerializationException, type_error_text(text))
            }
        }
    }
}

/// serde_json appends " at line L column C"; AWS's texts have no position.
fn strip_position(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(at) if text[at..].contains(" column ") => &text[..at],
        _ => text,
    }
}

/// Translates serde's "invalid type: <got>, expected <want>" into the Java-flavoured text AWS sends.
fn type_error_text(text: &str) -> String {
    let Some(rest) = text.strip_prefix("invalid type: ") else {
        return text.to_owned();
    };
    let (got, want) = rest.split_once(", expected ").unwrap_or((rest, ""));
    let got_kind = if got.starts_with("integer") {
        "NUMBER_VALUE"
    } else if got.starts_with("floating point") {
        "DECIMAL_VALUE"
    } else if got == "boolean `true`" {
        "TRUE_VALUE"
    } else if got == "boolean `false`" {
        "FALSE_VALUE"
    } else if got.starts_with("string") {
        "STRING_VALUE"
    } else if got == "map" {
        return "Start of structure or map found where not expected".into();
    } else if got == "sequence" {
        return if want.contains("map") || want.contains("struct") {
            "Unrecognized collection type java.util.Map<java.lang.String, \
             com.amazonaws.dynamodb.v20120810.AttributeValue>"
                .into()
        } else {
            "Unrecognized collection type class java.lang.String".into()
        };
    } else {
        "VALUE"
    };
    if want == "an AttributeValue" || want.starts_with("struct") || want.contains("map") {
        return "Unexpected value type in payload".into();
    }
    if want.contains("sequence") {
        return "Unexpected field type".into();
    }
    let want_kind = if want.contains("string") {
        "String"
    } else if want.starts_with("i32") || want.starts_with("u32") {
        "Integer"
    } else if want.starts_with('i') || want.starts_with('u') {
        "Long"
    } else if want.contains("boolean") {
        "Boolean"
    } else {
        "String"
    };
    format!("{got_kind} cannot be converted to {want_kind}")
}

/// ExpressionAttributeValues, whose invalid values AWS reports with the placeholder's name.
#[derive(Clone, Debug, Default)]
pub struct ExpressionValues(pub HashMap<String, AttributeValue>);

impl<'de> Deserialize<'de> for ExpressionValues {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor;
        impl<'de> serde::de::Visitor<'de> for ValuesVisitor {
            type Value = ExpressionValues;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                let mut values = HashMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    match map.next_value::<AttributeValue>() {
                        Ok(value) => {
                            values.insert(key, value);
                        }
                        Err(err) => {
                            let text = err.to_string();
                            let text = strip_position(&text);
                            return Err(match text.strip_prefix(VALIDATION) {
                                Some(message) => A::Error::custom(format_args!(
                                    "{VALIDATION}ExpressionAttributeValues contains invalid value: {message} \
                                     for key {key}"
                                )),
                                None => A::Error::custom(text),
                            });
                        }
                    }
                }
                Ok(ExpressionValues(values))
            }
        }
        deserializer.deserialize_map(ValuesVisitor)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared structures

/// An attribute definition of a table.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    /// Attribute name.
    pub attribute_name: Option<String>,
    /// S, N or B.
    pub attribute_type: Option<String>,
}

/// A key schema element.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    /// Attribute name.
    pub attribute_name: Option<String>,
    /// HASH or RANGE.
    pub key_type: Option<String>,
}

/// Provisioned throughput as requested.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedThroughput {
    /// Read capacity units.
    pub read_capacity_units: Option<i64>,
    /// Write capacity units.
    pub write_capacity_units: Option<i64>,
}

/// An index projection.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    /// ALL, KEYS_ONLY or INCLUDE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_type: Option<String>,
    /// Attributes projected with INCLUDE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_key_attributes: Option<Vec<String>>,
}

/// A secondary index in CreateTable.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecondaryIndex {
    /// Index name.
    pub index_name: Option<String>,
    /// Index key schema.
    pub key_schema: Option<Vec<KeySchemaElement>>,
    /// Projection.
    pub projection: Option<Projection>,
    /// Throughput (GSIs of provisioned tables only).
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    /// Most request units (GSIs only).
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// Members dynastream does not implement (WarmThroughput), refused by name.
    #[serde(flatten)]
    pub others: OtherMembers,
}

/// OnDemandThroughput: a table's most request units per second; -1 in a request removes a maximum.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct OnDemandThroughput {
    /// Most read request units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_read_request_units: Option<i64>,
    /// Most write request units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_write_request_units: Option<i64>,
}

/// A stream specification.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    /// Whether the stream is on.
    pub stream_enabled: Option<bool>,
    /// KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_view_type: Option<String>,
}

/// A tag.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: Option<String>,
}

/// SSE specification (accepted and described).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct SseSpecification {
    /// Whether SSE with a KMS key is on.
    pub enabled: Option<bool>,
    /// KMS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sse_type: Option<String>,
    /// Key id.
    #[serde(rename = "KMSMasterKeyId", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------------------------
// Table operations

/// CreateTable input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTableInput {
    pub table_name: Option<String>,
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    pub key_schema: Option<Vec<KeySchemaElement>>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    pub local_secondary_indexes: Option<Vec<SecondaryIndex>>,
    pub global_secondary_indexes: Option<Vec<SecondaryIndex>>,
    pub stream_specification: Option<StreamSpecification>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
    pub tags: Option<Vec<Tag>>,
    pub table_class: Option<String>,
    pub deletion_protection_enabled: Option<bool>,
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// Members dynastream does not implement (WarmThroughput, ResourcePolicy, ...), refused by name.
    #[serde(flatten)]
    pub others: OtherMembers,
}

/// Input of the operations that take only a table name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableNameInput {
    pub table_name: Option<String>,
}

/// ListTables input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTablesInput {
    pub exclusive_start_table_name: Option<String>,
    pub limit: Option<i64>,
}

/// ListTables output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTablesOutput {
    pub table_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_table_name: Option<String>,
}

/// A GSI change in UpdateTable.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndexUpdate {
    pub create: Option<SecondaryIndex>,
    pub update: Option<SecondaryIndex>,
    pub delete: Option<SecondaryIndex>,
}

/// UpdateTable input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTableInput {
    pub table_name: Option<String>,
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    pub global_secondary_index_updates: Option<Vec<GlobalSecondaryIndexUpdate>>,
    pub stream_specification: Option<StreamSpecification>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
    pub table_class: Option<String>,
    pub deletion_protection_enabled: Option<bool>,
    pub replica_updates: Option<Value>,
    pub on_demand_throughput: Option<OnDemandThroughput>,
    /// Members dynastream does not implement (WarmThroughput, ...), refused by name.
    #[serde(flatten)]
    pub others: OtherMembers,
}

// ---------------------------------------------------------------------------------------------------------------
// Item operations

/// PutItem input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutItemInput {
    pub table_name: Option<String>,
    pub item: Option<Item>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<ExpressionValues>,
    pub return_values: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub expected: Option<HashMap<String, legacy::ExpectedAttributeValue>>,
    pub conditional_operator: Option<String>,
}

/// GetItem input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetItemInput {
    pub table_name: Option<String>,
    pub key: Option<Item>,
    pub consistent_read: Option<bool>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub attributes_to_get: Option<Vec<String>>,
    pub return_consumed_capacity: Option<String>,
}

/// DeleteItem input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteItemInput {
    pub table_name: Option<String>,
    pub key: Option<Item>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<ExpressionValues>,
    pub return_values: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub expected: Option<HashMap<String, legacy::ExpectedAttributeValue>>,
    pub conditional_operator: Option<String>,
}

/// UpdateItem input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateItemInput {
    pub table_name: Option<String>,
    pub key: Option<Item>,
    pub update_expression: Option<String>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<ExpressionValues>,
    pub return_values: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub expected: Option<HashMap<String, legacy::ExpectedAttributeValue>>,
    pub attribute_updates: Option<HashMap<String, legacy::AttributeValueUpdate>>,
    pub conditional_operator: Option<String>,
}

/// Consumed capacity, when ReturnConsumedCapacity asks for it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumedCapacity {
    pub table_name: String,
    pub capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Capacity>,
}

/// Capacity of one table or index.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Capacity {
    pub capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_capacity_units: Option<f64>,
}

/// Output of PutItem, DeleteItem and UpdateItem.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WriteItemOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
}

/// GetItem output.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetItemOutput {
    /// The item, serialised while the table's lock was held (no copy of the stored item is made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Box<serde_json::value::RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
}

// ---------------------------------------------------------------------------------------------------------------
// Table descriptions

/// A table as DescribeTable (and CreateTable, UpdateTable, DeleteTable) describe it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDescription {
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub table_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub table_status: String,
    pub creation_date_time: f64,
    pub provisioned_throughput: ProvisionedThroughputDescription,
    pub table_size_bytes: u64,
    pub item_count: u64,
    pub table_arn: String,
    pub table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_mode_summary: Option<BillingModeSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_secondary_indexes: Option<Vec<LocalSecondaryIndexDescription>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<Vec<GlobalSecondaryIndexDescription>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_specification: Option<StreamSpecification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_stream_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_stream_arn: Option<String>,
    #[serde(rename = "SSEDescription", skip_serializing_if = "Option::is_none")]
    pub sse_description: Option<SseDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_class_summary: Option<TableClassSummary>,
    pub deletion_protection_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
}

/// Throughput as described.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedThroughputDescription {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_increase_date_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_decrease_date_time: Option<f64>,
    pub number_of_decreases_today: i64,
    pub read_capacity_units: i64,
    pub write_capacity_units: i64,
}

/// Billing mode summary.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BillingModeSummary {
    pub billing_mode: String,
    pub last_update_to_pay_per_request_date_time: f64,
}

/// A local secondary index as described.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LocalSecondaryIndexDescription {
    pub index_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Projection,
    pub index_size_bytes: u64,
    pub item_count: u64,
    pub index_arn: String,
}

/// A global secondary index as described.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndexDescription {
    pub index_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Projection,
    pub index_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfilling: Option<bool>,
    pub provisioned_throughput: ProvisionedThroughputDescription,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
    pub index_size_bytes: u64,
    pub item_count: u64,
    pub index_arn: String,
}

/// SSE as described.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SseDescription {
    pub status: String,
    #[serde(rename = "SSEType")]
    pub sse_type: String,
    #[serde(rename = "KMSMasterKeyArn")]
    pub kms_master_key_arn: String,
}

/// Table class summary.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableClassSummary {
    pub table_class: String,
}

/// `{"Table": ...}` (DescribeTable).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTableOutput {
    pub table: TableDescription,
}

/// `{"TableDescription": ...}` (CreateTable, UpdateTable, DeleteTable).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDescriptionOutput {
    pub table_description: TableDescription,
}

// ---------------------------------------------------------------------------------------------------------------
// Time to live and tags

/// TimeToLiveSpecification: UpdateTimeToLive's input, echoed as its output.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLiveSpecification {
    pub attribute_name: Option<String>,
    pub enabled: Option<bool>,
}

/// UpdateTimeToLive input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTimeToLiveInput {
    pub table_name: Option<String>,
    pub time_to_live_specification: Option<TimeToLiveSpecification>,
}

/// UpdateTimeToLive output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTimeToLiveOutput {
    pub time_to_live_specification: TimeToLiveSpecification,
}

/// TimeToLiveDescription.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLiveDescription {
    pub time_to_live_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_name: Option<String>,
}

/// DescribeTimeToLive output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTimeToLiveOutput {
    pub time_to_live_description: TimeToLiveDescription,
}

/// TagResource input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    pub resource_arn: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

/// UntagResource input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

/// ListTagsOfResource input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOfResourceInput {
    pub resource_arn: Option<String>,
    pub next_token: Option<String>,
}

/// ListTagsOfResource output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOfResourceOutput {
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---------------------------------------------------------------------------------------------------------------
// Batch and transaction operations (BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems)

/// A JSON object keyed by table name, kept in request order (`RequestItems`, `Responses`, `UnprocessedKeys`).
/// A name given twice keeps its last value, in the first one's place, as AWS's JSON parser does.
#[derive(Clone, Debug, PartialEq)]
pub struct TableMap<T>(pub Vec<(String, T)>);

impl<T> Default for TableMap<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TableMap<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for MapVisitor<T> {
            type Value = TableMap<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, T)> = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, T>()? {
                    match entries.iter_mut().find(|(n, _)| *n == name) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((name, value)),
                    }
                }
                Ok(TableMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

impl<T: Serialize> Serialize for TableMap<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Serializes ExpressionAttributeValues (kept for UnprocessedKeys and idempotency fingerprints).
fn serialize_expression_values<S: serde::Serializer>(
    values: &Option<ExpressionValues>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    values.as_ref().map(|v| &v.0).serialize(serializer)
}

/// The keys of one table in BatchGetItem (and in its UnprocessedKeys).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeysAndAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<Item>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes_to_get: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistent_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<HashMap<String, String>>,
}

/// BatchGetItem input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetItemInput {
    pub request_items: Option<TableMap<KeysAndAttributes>>,
    pub return_consumed_capacity: Option<String>,
}

/// BatchGetItem output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetItemOutput {
    pub responses: TableMap<Vec<Item>>,
    pub unprocessed_keys: TableMap<KeysAndAttributes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

/// A PutRequest of BatchWriteItem.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// A DeleteRequest of BatchWriteItem.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Item>,
}

/// One write of BatchWriteItem (and of its UnprocessedItems).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WriteRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub put_request: Option<PutRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_request: Option<DeleteRequest>,
}

/// BatchWriteItem input.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteItemInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_items: Option<TableMap<Vec<WriteRequest>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_consumed_capacity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_item_collection_metrics: Option<String>,
}

/// BatchWriteItem output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteItemOutput {
    pub unprocessed_items: TableMap<Vec<WriteRequest>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

/// A Put of TransactWriteItems.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactPut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<HashMap<String, String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_expression_values"
    )]
    pub expression_attribute_values: Option<ExpressionValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_values_on_condition_check_failure: Option<String>,
}

/// An Update of TransactWriteItems.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<HashMap<String, String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_expression_values"
    )]
    pub expression_attribute_values: Option<ExpressionValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_values_on_condition_check_failure: Option<String>,
}

/// A Delete or ConditionCheck of TransactWriteItems (the same members; ConditionCheck requires its expression).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactKeyed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<HashMap<String, String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_expression_values"
    )]
    pub expression_attribute_values: Option<ExpressionValues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_values_on_condition_check_failure: Option<String>,
}

/// One action of TransactWriteItems: exactly one member is set.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_check: Option<TransactKeyed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub put: Option<TransactPut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete: Option<TransactKeyed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<TransactUpdate>,
}

/// TransactWriteItems input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItemsInput {
    pub transact_items: Option<Vec<TransactWriteItem>>,
    pub client_request_token: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub return_item_collection_metrics: Option<String>,
}

/// TransactWriteItems output.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItemsOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

/// A Get of TransactGetItems.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGet {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<HashMap<String, String>>,
}

/// One action of TransactGetItems.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub get: Option<TransactGet>,
}

/// TransactGetItems input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItemsInput {
    pub transact_items: Option<Vec<TransactGetItem>>,
    pub return_consumed_capacity: Option<String>,
}

/// One entry of TransactGetItems' Responses: `{}` when the item does not exist.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// TransactGetItems output.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItemsOutput {
    pub responses: Vec<ItemResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

/// One reason of a TransactionCanceledException's CancellationReasons, in request order.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancellationReason {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}
