//! Wire types of Query and Scan.
#![allow(missing_docs)] // members carry AWS's names; their documentation is AWS's API reference

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{ConsumedCapacity, ExpressionValues, legacy};
use crate::dynamodb::value::Item;

/// Query input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryInput {
    pub table_name: Option<String>,
    pub index_name: Option<String>,
    pub select: Option<String>,
    pub attributes_to_get: Option<Vec<String>>,
    pub limit: Option<i64>,
    pub consistent_read: Option<bool>,
    pub key_conditions: Option<HashMap<String, legacy::Condition>>,
    pub query_filter: Option<HashMap<String, legacy::Condition>>,
    pub conditional_operator: Option<String>,
    pub scan_index_forward: Option<bool>,
    pub exclusive_start_key: Option<Item>,
    pub return_consumed_capacity: Option<String>,
    pub projection_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub key_condition_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<ExpressionValues>,
}

/// Scan input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScanInput {
    pub table_name: Option<String>,
    pub index_name: Option<String>,
    pub attributes_to_get: Option<Vec<String>>,
    pub limit: Option<i64>,
    pub select: Option<String>,
    pub scan_filter: Option<HashMap<String, legacy::Condition>>,
    pub conditional_operator: Option<String>,
    pub exclusive_start_key: Option<Item>,
    pub return_consumed_capacity: Option<String>,
    pub total_segments: Option<i64>,
    pub segment: Option<i64>,
    pub projection_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub expression_attribute_names: Option<HashMap<String, String>>,
    pub expression_attribute_values: Option<ExpressionValues>,
    pub consistent_read: Option<bool>,
}

/// Query and Scan output.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Item>>,
    pub count: u64,
    pub scanned_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_key: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
}
