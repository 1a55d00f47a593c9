//! DynamoDB's expression languages: condition (and filter, key condition), update and projection expressions,
//! with ExpressionAttributeNames/Values substitution, AWS's validation and error texts, and evaluation against
//! items. Also the legacy parameters (Expected, AttributeUpdates, AttributesToGet, ConditionalOperator, and the
//! Condition maps of QueryFilter, ScanFilter and KeyConditions), which are translated into the same trees.
//!
//! Knows nothing of HTTP or tables: callers pass items and key attribute names.
//!
//! An expression is parsed once per request ([`parse_condition`], [`parse_update`], [`parse_projection`]) into
//! a tree of [`ast`] with its placeholders substituted; evaluation then borrows from the item and the tree.

use std::collections::{HashMap, HashSet};

use super::value::{AttributeValue, Item};
use crate::edge::AwsError;

pub mod ast;
mod check;
mod eval;
pub mod legacy;
mod lexer;
mod parser;
mod projection;
mod reserved;
mod update;

use self::parser::ExprError;
pub use self::{
    ast::{Comparator, CondExpr, Operand, Path, PathElement, SetValue, UpdateAction, UpdateOperand},
    projection::Projection,
    update::Update,
};

/// Longest expression AWS accepts, in UTF-16 code units (AWS measures with Java's String.length).
const MAX_EXPRESSION_SIZE: usize = 4096;

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
    used_names: HashSet<&'a str>,
    used_values: HashSet<&'a str>,
}

impl<'a> Substitutions<'a> {
    /// Wraps the request's maps (either may be absent).
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, AttributeValue>>,
    ) -> Self {
        Self {
            names,
            values,
            used_names: HashSet::new(),
            used_values: HashSet::new(),
        }
    }

    /// The attribute name a `#name` placeholder stands for, marking it used.
    fn name(&mut self, placeholder: &str) -> Option<&'a str> {
        let (key, name) = self.names?.get_key_value(placeholder)?;
        self.used_names.insert(key);
        Some(name)
    }

    /// The value a `:value` placeholder stands for, marking it used.
    fn value(&mut self, placeholder: &str) -> Option<&'a AttributeValue> {
        let (key, value) = self.values?.get_key_value(placeholder)?;
        self.used_values.insert(key);
        Some(value)
    }

    /// After every expression of the request is parsed: AWS's error for names or values no expression used.
    pub fn finish(self) -> Result<(), AwsError> {
        if let Some(names) = self.names {
            unused(
                "ExpressionAttributeNames",
                names.keys(),
                &self.used_names,
                names.len(),
            )?;
        }
        if let Some(values) = self.values {
            unused(
                "ExpressionAttributeValues",
                values.keys(),
                &self.used_values,
                values.len(),
            )?;
        }
        Ok(())
    }
}

/// AWS's error for placeholders no expression used, listed in the order of the Java HashSet AWS collects
/// them in (a copy of the whole map, emptied of the used ones).
fn unused<'k>(
    parameter: &str,
    keys: impl Iterator<Item = &'k String>,
    used: &HashSet<&str>,
    total: usize,
) -> Result<(), AwsError> {
    let mut unused: Vec<&str> = keys.map(String::as_str).filter(|k| !used.contains(k)).collect();
    if unused.is_empty() {
        return Ok(());
    }
    // NB: new HashSet<>(collection) sizes its table for the whole collection: max(n / .75 + 1, 16).
    let wanted = ((total as f32 / 0.75) as usize + 1).max(16);
    let capacity = wanted.next_power_of_two();
    unused.sort_by(|a, b| {
        let bucket = |k: &str| java_bucket(java_string_hash(k), capacity);
        bucket(a).cmp(&bucket(b)).then_with(|| a.cmp(b))
    });
    Err(AwsError::validation(format!(
        "Value provided in {parameter} unused in expressions: keys: {{{}}}",
        unused.join(", ")
    )))
}

/// Java's `String.hashCode`.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// The bucket a Java `HashMap` of `capacity` slots puts a key of this hash in.
pub(crate) fn java_bucket(hash: i32, capacity: usize) -> usize {
    let h = hash as u32;
    ((h ^ (h >> 16)) as usize) & capacity.saturating_sub(1)
}

/// The table size of a Java `HashMap` that started at `initial` slots after `entries` puts.
pub(crate) fn java_table_size(entries: usize, initial: usize) -> usize {
    let mut capacity = initial.max(1);
    while entries > capacity / 4 * 3 {
        capacity *= 2;
    }
    capacity
}

/// AWS's error for an expression that looks inside a key attribute.
fn check_nested_keys(nested: &[String], keys: &[&str]) -> Result<(), AwsError> {
    match keys.iter().find(|key| nested.iter().any(|n| n == *key)) {
        Some(key) => Err(AwsError::validation(format!(
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: {key}"
        ))),
        None => Ok(()),
    }
}

/// A parsed condition (ConditionExpression, FilterExpression, KeyConditionExpression, or a legacy condition).
#[derive(Clone, Debug)]
pub struct Condition {
    expr: CondExpr,
    /// Top-level attributes a path looks inside.
    nested: Vec<String>,
}

impl Condition {
    /// A condition from its tree (legacy conditions are built this way).
    pub fn new(expr: CondExpr) -> Self {
        Self {
            expr,
            nested: Vec::new(),
        }
    }

    /// The condition's tree, e.g. for a Query to find its key conditions.
    pub fn expr(&self) -> &CondExpr {
        &self.expr
    }

    /// Top-level attributes the condition looks inside (`a.b`, `a[0]`).
    pub fn nested_attributes(&self) -> &[String] {
        &self.nested
    }

    /// AWS's error for a condition that looks inside a key attribute (`keys` are the key attribute names).
    pub fn check_key_attributes(&self, keys: &[&str]) -> Result<(), AwsError> {
        check_nested_keys(&self.nested, keys)
    }

    /// Evaluates the condition against an item (an absent item is an empty one).
    pub fn evaluate(&self, item: &Item) -> Result<bool, AwsError> {
        Ok(eval::evaluate(&self.expr, item))
    }
}

/// AWS's checks on an expression's text before parsing: not empty, at most 4 KB.
fn check_text(text: &str, kind: ExpressionKind) -> Result<(), ExprError> {
    if text.is_empty() {
        return Err(ExprError::Empty);
    }
    // NB: UTF-16 length never exceeds UTF-8 length, so short texts need no count.
    if text.len() > MAX_EXPRESSION_SIZE {
        let size = text.encode_utf16().count();
        if size > MAX_EXPRESSION_SIZE {
            // NB: AWS gives the size only for condition-like expressions.
            return Err(match kind {
                ExpressionKind::Update | ExpressionKind::Projection => ExprError::TooLarge,
                _ => ExprError::TooLargeWithSize(size),
            });
        }
    }
    Ok(())
}

fn invalid(kind: ExpressionKind, error: ExprError) -> AwsError {
    AwsError::validation(format!("Invalid {}: {error}", kind.parameter()))
}

/// Parses a condition-like expression.
pub fn parse_condition(
    text: &str,
    kind: ExpressionKind,
    subs: &mut Substitutions<'_>,
) -> Result<Condition, AwsError> {
    check_text(text, kind)
        .and_then(|()| check::condition(text, subs))
        .map(|parsed| Condition {
            expr: parsed.expr,
            nested: parsed.nested,
        })
        .map_err(|error| invalid(kind, error))
}

/// Parses an UpdateExpression.
pub fn parse_update(text: &str, subs: &mut Substitutions<'_>) -> Result<Update, AwsError> {
    check_text(text, ExpressionKind::Update)
        .and_then(|()| check::update(text, subs))
        .map(|parsed| Update::new(parsed.actions, false, parsed.nested))
        .map_err(|error| invalid(ExpressionKind::Update, error))
}

/// Parses a ProjectionExpression.
pub fn parse_projection(text: &str, subs: &mut Substitutions<'_>) -> Result<Projection, AwsError> {
    check_text(text, ExpressionKind::Projection)
        .and_then(|()| check::projection(text, subs))
        .map(|parsed| Projection::from_paths(parsed.paths, parsed.nested))
        .map_err(|error| invalid(ExpressionKind::Projection, error))
}

#[cfg(test)]
mod tests;
