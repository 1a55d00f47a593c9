//! DynamoDB Streams wire types (JSON 1.0, target prefix `DynamoDBStreams_20120810`).
#![allow(missing_docs)] // members carry AWS's names; their documentation is AWS's API reference

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::record::Record;
use crate::dynamodb::wire::KeySchemaElement;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamsInput {
    pub table_name: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_stream_arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSummary {
    pub stream_arn: String,
    pub table_name: String,
    pub stream_label: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamsOutput {
    pub streams: Vec<StreamSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_stream_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamInput {
    pub stream_arn: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_shard_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SequenceNumberRange {
    pub starting_sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending_sequence_number: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShardDescription {
    pub shard_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_shard_id: Option<String>,
    pub sequence_number_range: SequenceNumberRange,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDescription {
    pub stream_arn: String,
    pub stream_label: String,
    pub stream_status: &'static str,
    pub stream_view_type: &'static str,
    pub creation_request_date_time: f64,
    pub table_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub shards: Vec<ShardDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_shard_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamOutput {
    pub stream_description: StreamDescription,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetShardIteratorInput {
    pub stream_arn: Option<String>,
    pub shard_id: Option<String>,
    pub shard_iterator_type: Option<String>,
    pub sequence_number: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetShardIteratorOutput {
    pub shard_iterator: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRecordsInput {
    pub shard_iterator: Option<String>,
    pub limit: Option<i64>,
}

/// GetRecords output; its records are already JSON, so the body is assembled rather than serialised.
#[derive(Debug)]
pub struct GetRecordsOutput {
    pub records: Vec<Arc<Record>>,
    pub next_shard_iterator: Option<String>,
}

impl GetRecordsOutput {
    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        let mut body =
            String::with_capacity(64 + self.records.iter().map(|r| r.json().len() + 1).sum::<usize>());
        body.push_str("{\"Records\":[");
        for (i, record) in self.records.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(record.json());
        }
        body.push(']');
        if let Some(next) = &self.next_shard_iterator {
            body.push_str(",\"NextShardIterator\":");
            body.push_str(&serde_json::to_string(next).unwrap_or_default());
        }
        body.push('}');
        body.into_bytes()
    }
}
