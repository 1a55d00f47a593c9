//! Wire types of the legacy (pre-expression) parameters: Expected, AttributeUpdates, and the Condition maps of
//! QueryFilter, ScanFilter and KeyConditions.

use serde::Deserialize;

use crate::dynamodb::value::AttributeValue;

/// An entry of `Expected`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExpectedAttributeValue {
    /// The value to compare with (the older form, without ComparisonOperator).
    pub value: Option<AttributeValue>,
    /// Whether the attribute must exist.
    pub exists: Option<bool>,
    /// The comparison (EQ, NE, LE, LT, GE, GT, NOT_NULL, NULL, CONTAINS, NOT_CONTAINS, BEGINS_WITH, IN, BETWEEN).
    pub comparison_operator: Option<String>,
    /// The operands of ComparisonOperator.
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// An entry of `AttributeUpdates`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeValueUpdate {
    /// The new value, or the operand of ADD / DELETE.
    pub value: Option<AttributeValue>,
    /// PUT (default), ADD or DELETE.
    pub action: Option<String>,
}

/// An entry of `QueryFilter`, `ScanFilter` or `KeyConditions`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Condition {
    /// The comparison (as in [`ExpectedAttributeValue::comparison_operator`]); required by AWS.
    pub comparison_operator: Option<String>,
    /// The operands of ComparisonOperator.
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}
