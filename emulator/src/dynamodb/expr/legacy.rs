//! The legacy (pre-expression) parameters, translated into expression trees: Expected with ConditionalOperator,
//! AttributeUpdates, AttributesToGet.

use std::collections::HashMap;

use super::{Condition, Projection, Update};
use crate::{
    dynamodb::wire::legacy::{AttributeValueUpdate, ExpectedAttributeValue},
    edge::AwsError,
};

/// `Expected` (with `ConditionalOperator`, AND by default) as a condition.
pub fn expected(
    expected: &HashMap<String, ExpectedAttributeValue>,
    conditional_operator: Option<&str>,
) -> Result<Condition, AwsError> {
    let _ = (expected, conditional_operator);
    Err(AwsError::validation("Expected is not implemented yet"))
}

/// `AttributeUpdates` as an update.
pub fn attribute_updates(updates: &HashMap<String, AttributeValueUpdate>) -> Result<Update, AwsError> {
    let _ = updates;
    Err(AwsError::validation("AttributeUpdates is not implemented yet"))
}

/// `AttributesToGet` as a projection.
pub fn attributes_to_get(names: &[String]) -> Projection {
    let _ = names;
    Projection {}
}
