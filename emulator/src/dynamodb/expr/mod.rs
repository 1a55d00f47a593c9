//! DynamoDB's expression languages: condition (and filter, key condition), update and projection expressions,
//! with ExpressionAttributeNames/Values substitution, AWS's validation and error texts, and evaluation against
//! items. Also the legacy parameters (Expected, AttributeUpdates, AttributesToGet, ConditionalOperator), which
//! are translated into the same trees.
//!
//! Knows nothing of HTTP or tables: callers pass items and key attribute names.

use std::collections::HashMap;

use super::value::{AttributeValue, Item};
use crate::edge::AwsError;

pub mod legacy;

/// Which request parameter an expression came from; AWS prefixes its errors with `Invalid <name>: `.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpressionKind {
    /// `ConditionExpression`.
    Condition,
    /// `FilterExpression`.
    Filter,
    /// `KeyConditionExpression`.
    KeyCondition,
    /// `UpdateExpression`.
    Update,
    /// `ProjectionExpression`.
    Projection,
}

impl ExpressionKind {
    /// The parameter name, as AWS prints it in errors.
    pub fn parameter(self) -> &'static str {
        match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Update => "UpdateExpression",
            ExpressionKind::Projection => "ProjectionExpression",
        }
    }
}

/// A request's ExpressionAttributeNames and ExpressionAttributeValues, tracking which ones its expressions use.
pub struct Substitutions<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, AttributeValue>>,
}

impl<'a> Substitutions<'a> {
    /// Wraps the request's maps (either may be absent).
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, AttributeValue>>,
    ) -> Self {
        Self { names, values }
    }

    /// After every expression of the request is parsed: AWS's error for names or values no expression used.
    pub fn finish(self) -> Result<(), AwsError> {
        let _ = (self.names, self.values);
        Ok(())
    }
}

/// A parsed condition (ConditionExpression, FilterExpression, KeyConditionExpression, or a legacy condition).
#[derive(Clone, Debug)]
pub struct Condition {}

impl Condition {
    /// Evaluates the condition against an item (an absent item is an empty one).
    pub fn evaluate(&self, item: &Item) -> Result<bool, AwsError> {
        let _ = item;
        Err(AwsError::validation(
            "condition expressions are not implemented yet",
        ))
    }
}

/// A parsed update (UpdateExpression or legacy AttributeUpdates).
#[derive(Clone, Debug)]
pub struct Update {}

impl Update {
    /// AWS's errors for an update that touches a key attribute (`keys` are the table's key attribute names).
    pub fn check_key_attributes(&self, keys: &[&str]) -> Result<(), AwsError> {
        let _ = keys;
        Ok(())
    }

    /// Applies the update to an item (an empty item when none existed), with AWS's runtime errors.
    pub fn apply(&self, item: &mut Item) -> Result<(), AwsError> {
        let _ = item;
        Err(AwsError::validation("update expressions are not implemented yet"))
    }

    /// The document paths this update sets or removes, for ReturnValues UPDATED_OLD / UPDATED_NEW.
    pub fn updated_paths(&self) -> Projection {
        Projection {}
    }
}

/// A parsed projection (ProjectionExpression or legacy AttributesToGet).
#[derive(Clone, Debug)]
pub struct Projection {}

impl Projection {
    /// The item with only the projected paths.
    pub fn apply(&self, item: &Item) -> Item {
        item.clone()
    }
}

/// Parses a condition-like expression.
pub fn parse_condition(
    text: &str,
    kind: ExpressionKind,
    subs: &mut Substitutions<'_>,
) -> Result<Condition, AwsError> {
    let _ = (text, kind, subs);
    Ok(Condition {})
}

/// Parses an UpdateExpression.
pub fn parse_update(text: &str, subs: &mut Substitutions<'_>) -> Result<Update, AwsError> {
    let _ = (text, subs);
    Ok(Update {})
}

/// Parses a ProjectionExpression.
pub fn parse_projection(text: &str, subs: &mut Substitutions<'_>) -> Result<Projection, AwsError> {
    let _ = (text, subs);
    Ok(Projection {})
}
