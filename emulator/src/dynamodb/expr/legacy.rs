//! The legacy (pre-expression) parameters, translated into expression trees: Expected with ConditionalOperator,
//! the Condition maps of QueryFilter, ScanFilter and KeyConditions, AttributeUpdates, and AttributesToGet.
//!
//! Legacy operators mean what their expression counterparts mean, with one exception kept by the translation:
//! NOT_CONTAINS is false for a missing attribute (`attribute_exists(a) AND NOT contains(a, v)`).

use std::collections::HashMap;

use super::{
    Condition, Projection, Update,
    ast::{Comparator, CondExpr, Operand, Path, SetValue, UpdateAction, UpdateOperand},
    eval::order,
};
use crate::{
    dynamodb::{
        value::{AttributeType, AttributeValue, INVALID_PARAMETERS},
        wire::legacy::{AttributeValueUpdate, Condition as WireCondition, ExpectedAttributeValue},
    },
    edge::AwsError,
};

/// The ComparisonOperator values, in the order AWS lists them in its enum constraint error.
const COMPARISON_OPERATORS: &str =
    "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]";

/// A legacy comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Le,
    Lt,
    Ge,
    Gt,
    NotNull,
    Null,
    Contains,
    NotContains,
    BeginsWith,
    In,
    Between,
}

impl Op {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "EQ" => Op::Eq,
            "NE" => Op::Ne,
            "LE" => Op::Le,
            "LT" => Op::Lt,
            "GE" => Op::Ge,
            "GT" => Op::Gt,
            "NOT_NULL" => Op::NotNull,
            "NULL" => Op::Null,
            "CONTAINS" => Op::Contains,
            "NOT_CONTAINS" => Op::NotContains,
            "BEGINS_WITH" => Op::BeginsWith,
            "IN" => Op::In,
            "BETWEEN" => Op::Between,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Op::Eq => "EQ",
            Op::Ne => "NE",
            Op::Le => "LE",
            Op::Lt => "LT",
            Op::Ge => "GE",
            Op::Gt => "GT",
            Op::NotNull => "NOT_NULL",
            Op::Null => "NULL",
            Op::Contains => "CONTAINS",
            Op::NotContains => "NOT_CONTAINS",
            Op::BeginsWith => "BEGINS_WITH",
            Op::In => "IN",
            Op::Between => "BETWEEN",
        }
    }

    fn takes(self, count: usize) -> bool {
        match self {
            Op::NotNull | Op::Null => count == 0,
            Op::In => count >= 1,
            Op::Between => count == 2,
            _ => count == 1,
        }
    }

    fn accepts(self, t: AttributeType) -> bool {
        use AttributeType as T;
        match self {
            Op::Eq | Op::Ne | Op::NotNull | Op::Null => true,
            Op::Le | Op::Lt | Op::Ge | Op::Gt | Op::In | Op::Between => matches!(t, T::S | T::N | T::B),
            Op::Contains | Op::NotContains => matches!(t, T::S | T::N | T::B | T::Bool | T::Null),
            Op::BeginsWith => matches!(t, T::S | T::B),
        }
    }
}

fn invalid(message: impl std::fmt::Display) -> AwsError {
    AwsError::validation(format!("{INVALID_PARAMETERS}{message}"))
}

/// AWS's generic constraint error for a value outside an enum.
fn not_in_enum(value: &str, at: &str, values: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: Member must satisfy \
         enum value set: {values}"
    ))
}

/// Keys in a fixed order, so the same request always reports the same first error.
fn sorted<V>(map: &HashMap<String, V>) -> Vec<(&String, &V)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// Whether conditions combine with OR (default AND), with AWS's checks on ConditionalOperator.
fn combine_with_or(conditional_operator: Option<&str>, count: usize) -> Result<bool, AwsError> {
    let or = match conditional_operator {
        None => return Ok(false),
        Some("AND") => false,
        Some("OR") => true,
        Some(other) => return Err(not_in_enum(other, "conditionalOperator", "[OR, AND]")),
    };
    match count {
        0 => Err(AwsError::validation(
            "ConditionalOperator cannot be used without Filter or Expected",
        )),
        1 => Err(AwsError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        )),
        _ => Ok(or),
    }
}

fn combine(conditions: Vec<CondExpr>, or: bool) -> Condition {
    Condition::new(if or && !conditions.is_empty() {
        CondExpr::Or(conditions)
    } else {
        CondExpr::And(conditions)
    })
}

/// AWS's checks on a comparison's operands: their number, their types, one type for all, ordered BETWEEN bounds.
fn check_operands(op: Op, values: &[AttributeValue]) -> Result<(), AwsError> {
    if !op.takes(values.len()) {
        return Err(invalid(format_args!(
            "Invalid number of argument(s) for the {} ComparisonOperator",
            op.name()
        )));
    }
    let Some(first) = values.first() else {
        return Ok(());
    };
    for value in values {
        let t = value.attribute_type();
        if !op.accepts(t) {
            return Err(invalid(format_args!(
                "ComparisonOperator {} is not valid for {t} AttributeValue type",
                op.name()
            )));
        }
        if t != first.attribute_type() {
            return Err(invalid(
                "AttributeValues inside AttributeValueList must be of same type",
            ));
        }
    }
    if let [low, high] = values
        && op == Op::Between
        && order(low, high) == Some(std::cmp::Ordering::Greater)
    {
        return Err(AwsError::validation(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    Ok(())
}

/// The condition a legacy comparison on attribute `name` stands for.
fn comparison(name: &str, op: Op, values: &[AttributeValue]) -> CondExpr {
    let path = || Path::attribute(name);
    let attribute = || Operand::Path(path());
    let value = |i: usize| Operand::Value(values.get(i).cloned().unwrap_or(AttributeValue::Null));
    let compare = |c: Comparator| CondExpr::Compare(c, attribute(), value(0));
    match op {
        Op::Eq => compare(Comparator::Eq),
        Op::Ne => compare(Comparator::Ne),
        Op::Le => compare(Comparator::Le),
        Op::Lt => compare(Comparator::Lt),
        Op::Ge => compare(Comparator::Ge),
        Op::Gt => compare(Comparator::Gt),
        Op::NotNull => CondExpr::AttributeExists(path()),
        Op::Null => CondExpr::AttributeNotExists(path()),
        Op::Contains => CondExpr::Contains(attribute(), value(0)),
        Op::NotContains => CondExpr::And(vec![
            CondExpr::AttributeExists(path()),
            CondExpr::Not(Box::new(CondExpr::Contains(attribute(), value(0)))),
        ]),
        Op::BeginsWith => CondExpr::BeginsWith(attribute(), value(0)),
        Op::In => CondExpr::In(attribute(), values.iter().cloned().map(Operand::Value).collect()),
        Op::Between => CondExpr::Between(attribute(), value(0), value(1)),
    }
}

/// `Expected` (with `ConditionalOperator`, AND by default) as a condition.
pub fn expected(
    expected: &HashMap<String, ExpectedAttributeValue>,
    conditional_operator: Option<&str>,
) -> Result<Condition, AwsError> {
    let or = combine_with_or(conditional_operator, expected.len())?;
    let mut conditions = Vec::with_capacity(expected.len());
    for (name, entry) in sorted(expected) {
        conditions.push(expected_entry(name, entry)?);
    }
    Ok(combine(conditions, or))
}

fn expected_entry(name: &str, entry: &ExpectedAttributeValue) -> Result<CondExpr, AwsError> {
    let list = entry.attribute_value_list.as_deref();
    if entry.exists.is_some() && entry.comparison_operator.is_some() {
        return Err(invalid(format_args!(
            "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
        )));
    }
    if entry.value.is_some() && list.is_some() {
        return Err(invalid(format_args!(
            "Value and AttributeValueList cannot be used together for Attribute: {name}"
        )));
    }
    let Some(op_name) = entry.comparison_operator.as_deref() else {
        if list.is_some() {
            return Err(invalid(format_args!(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
            )));
        }
        return match (entry.exists, &entry.value) {
            (Some(false), Some(_)) => Err(invalid(format_args!(
                "Value cannot be used when Exists is false for Attribute: {name}"
            ))),
            (Some(false), None) => Ok(CondExpr::AttributeNotExists(Path::attribute(name))),
            (exists, None) => Err(invalid(format_args!(
                "Value must be provided when Exists is {} for Attribute: {name}",
                if exists.is_some() { "true" } else { "null" }
            ))),
            (_, Some(value)) => Ok(CondExpr::Compare(
                Comparator::Eq,
                Operand::Path(Path::attribute(name)),
                Operand::Value(value.clone()),
            )),
        };
    };
    let op = Op::parse(op_name).ok_or_else(|| {
        not_in_enum(
            op_name,
            &format!("expected.{name}.member.comparisonOperator"),
            COMPARISON_OPERATORS,
        )
    })?;
    if entry.value.is_none() && list.is_none() && !matches!(op, Op::Null | Op::NotNull) {
        return Err(invalid(format_args!(
            "Value or AttributeValueList must be used with ComparisonOperator: {op_name} for Attribute: {name}"
        )));
    }
    let values: &[AttributeValue] = match (&entry.value, list) {
        (Some(value), _) => std::slice::from_ref(value),
        (None, Some(list)) => list,
        (None, None) => &[],
    };
    check_operands(op, values)?;
    Ok(comparison(name, op, values))
}

/// A `QueryFilter`, `ScanFilter` or `KeyConditions` map (with `ConditionalOperator`, AND by default) as a
/// condition. `parameter` is the request parameter, e.g. `QueryFilter`, for AWS's constraint errors.
pub fn conditions(
    conditions: &HashMap<String, WireCondition>,
    conditional_operator: Option<&str>,
    parameter: &str,
) -> Result<Condition, AwsError> {
    let or = combine_with_or(conditional_operator, conditions.len())?;
    let mut at = String::with_capacity(parameter.len());
    let mut chars = parameter.chars();
    if let Some(first) = chars.next() {
        at.extend(first.to_lowercase());
        at.push_str(chars.as_str());
    }
    let mut out = Vec::with_capacity(conditions.len());
    for (name, condition) in sorted(conditions) {
        let at = format!("{at}.{name}.member.comparisonOperator");
        let Some(op_name) = condition.comparison_operator.as_deref() else {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value null at '{at}' failed to satisfy constraint: Member must not \
                 be null"
            )));
        };
        let op = Op::parse(op_name).ok_or_else(|| not_in_enum(op_name, &at, COMPARISON_OPERATORS))?;
        let values = condition.attribute_value_list.as_deref().unwrap_or_default();
        check_operands(op, values)?;
        out.push(comparison(name, op, values));
    }
    Ok(combine(out, or))
}

/// `AttributeUpdates` as an update.
pub fn attribute_updates(updates: &HashMap<String, AttributeValueUpdate>) -> Result<Update, AwsError> {
    let mut actions = Vec::with_capacity(updates.len());
    for (name, update) in sorted(updates) {
        let action = update.action.as_deref().unwrap_or("PUT");
        if !matches!(action, "PUT" | "ADD" | "DELETE") {
            return Err(not_in_enum(
                action,
                &format!("attributeUpdates.{name}.member.action"),
                "[ADD, PUT, DELETE]",
            ));
        }
        let path = Path::attribute(name.as_str());
        let Some(value) = &update.value else {
            if action != "DELETE" {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ));
            }
            actions.push(UpdateAction::Remove(path));
            continue;
        };
        let t = value.attribute_type();
        let set = matches!(t, AttributeType::Ss | AttributeType::Ns | AttributeType::Bs);
        actions.push(match action {
            "DELETE" if !set => {
                return Err(invalid(format_args!(
                    "DELETE action with value is not supported for the type {t}"
                )));
            }
            "DELETE" => UpdateAction::Delete(path, value.clone()),
            "ADD" if !set && !matches!(t, AttributeType::N | AttributeType::L) => {
                return Err(invalid(format_args!(
                    "ADD action is not supported for the type {t}"
                )));
            }
            "ADD" => UpdateAction::Add(path, value.clone()),
            _ => UpdateAction::Set(path, SetValue::Operand(UpdateOperand::Value(value.clone()))),
        });
    }
    Ok(Update::new(actions, true, Vec::new()))
}

/// `AttributesToGet` as a projection.
pub fn attributes_to_get(names: &[String]) -> Projection {
    Projection::from_paths(
        names.iter().map(|name| Path::attribute(name.as_str())).collect(),
        Vec::new(),
    )
}
