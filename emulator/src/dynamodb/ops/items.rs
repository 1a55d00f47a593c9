//! Item operations: PutItem, GetItem, DeleteItem, UpdateItem, with condition, update and projection expressions
//! (or their legacy forms), ReturnValues, ReturnValuesOnConditionCheckFailure and ReturnConsumedCapacity.
//!
//! Each write reads, checks and stores under the table's item lock, so a conditional write is atomic per item.

use std::{collections::HashMap, sync::Arc};

use serde_json::Value;

use crate::{
    aws_error,
    dynamodb::{
        expr::{self, Condition, ExpressionKind, Projection, Substitutions, Update, legacy},
        key::ItemKey,
        table::{Table, TableMeta},
        validate::{Constraints, enums},
        value::{AttributeValue, INVALID_PARAMETERS, Item, item_size},
        wire::{self, Capacity, ConsumedCapacity, ExpressionValues},
    },
    edge::{AwsError, RequestContext},
};

use super::Db;

/// Largest item, in bytes as AWS counts them.
pub const MAX_ITEM_BYTES: usize = 409_600;
/// Deepest nesting of maps and lists.
pub const MAX_NESTING: usize = 32;

/// The table a data-plane operation addresses; AWS answers a missing table with a bare "not found".
pub fn data_table(db: &Db, ctx: &RequestContext, name: &str) -> Result<Arc<Table>, AwsError> {
    db.region(&ctx.account, &ctx.region)
        .table(name)
        .ok_or_else(|| aws_error!(ResourceNotFoundException, "Requested resource not found"))
}

/// Checks the item-level rules of a whole item against the table: key, index keys, size, nesting.
pub fn check_item(meta: &TableMeta, item: &Item, for_update: bool) -> Result<ItemKey, AwsError> {
    let key = meta.key_schema.key_of_item(item)?;
    check_index_keys(meta, item)?;
    if item_size(item) > MAX_ITEM_BYTES {
        return Err(AwsError::validation(if for_update {
            "Item size to update has exceeded the maximum allowed size"
        } else {
            "Item size has exceeded the maximum allowed size"
        }));
    }
    if item.values().any(|v| v.depth() > MAX_NESTING) {
        return Err(AwsError::validation(
            "Nesting Levels have exceeded supported limits",
        ));
    }
    Ok(key)
}

fn check_index_keys(meta: &TableMeta, item: &Item) -> Result<(), AwsError> {
    for (index_name, schema) in meta.index_key_schemas() {
        for attribute in std::iter::once(&schema.hash).chain(&schema.range) {
            let Some(value) = item.get(&attribute.name) else {
                continue;
            };
            let actual = value.attribute_type().as_str();
            if actual != attribute.ty.as_str() {
                return Err(AwsError::validation(format!(
                    "{INVALID_PARAMETERS}Type mismatch for Index Key {} Expected: {} Actual: {actual} IndexName: \
                     {index_name}",
                    attribute.name,
                    attribute.ty.as_str()
                )));
            }
            let empty = match value {
                AttributeValue::S(s) => s.is_empty(),
                AttributeValue::B(b) => b.is_empty(),
                _ => false,
            };
            if empty {
                return Err(AwsError::validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is \
                     not supported. The AttributeValue for a key attribute cannot contain an empty string value. \
                     IndexName: {index_name}, IndexKey: {}",
                    attribute.name
                )));
            }
        }
    }
    Ok(())
}

/// The expression-related parameters of a request, checked together as AWS checks them.
struct ExpressionParams<'a> {
    /// (parameter name, expression) for each expression parameter the operation takes.
    expressions: &'a [(&'static str, Option<&'a String>)],
    /// (parameter name, present) for each legacy parameter the operation takes.
    legacy: &'a [(&'static str, bool)],
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a ExpressionValues>,
    /// What AWS says is null when values come without expressions, e.g. "ConditionExpression is null".
    values_without_expressions: &'static str,
}

impl<'a> ExpressionParams<'a> {
    fn check(&self) -> Result<Substitutions<'a>, AwsError> {
        let used_expressions: Vec<&str> = self
            .expressions
            .iter()
            .filter(|(_, e)| e.is_some())
            .map(|(n, _)| *n)
            .collect();
        let used_legacy: Vec<&str> = self
            .legacy
            .iter()
            .filter(|(_, present)| *present)
            .map(|(n, _)| *n)
            .collect();
        if !used_expressions.is_empty() && !used_legacy.is_empty() {
            return Err(AwsError::validation(format!(
                "Can not use both expression and non-expression parameters in the same request: Non-expression \
                 parameters: {{{}}} Expression parameters: {{{}}}",
                used_legacy.join(", "),
                used_expressions.join(", ")
            )));
        }
        if used_expressions.is_empty() {
            if self.names.is_some() {
                return Err(AwsError::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            if self.values.is_some() {
                return Err(AwsError::validation(format!(
                    "ExpressionAttributeValues can only be specified when using expressions: {}",
                    self.values_without_expressions
                )));
            }
        }
        if let Some(names) = self.names {
            if names.is_empty() {
                return Err(AwsError::validation("ExpressionAttributeNames must not be empty"));
            }
            if let Some(bad) = names.keys().find(|k| !is_placeholder(k, '#')) {
                return Err(AwsError::validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\""
                )));
            }
        }
        if let Some(values) = self.values {
            if values.0.is_empty() {
                return Err(AwsError::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            if let Some(bad) = values.0.keys().find(|k| !is_placeholder(k, ':')) {
                return Err(AwsError::validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{bad}\""
                )));
            }
        }
        Ok(Substitutions::new(self.names, self.values.map(|v| &v.0)))
    }
}

fn is_placeholder(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// A write's condition: ConditionExpression, or legacy Expected with ConditionalOperator.
fn write_condition(
    expression: Option<&String>,
    expected: Option<&HashMap<String, wire::legacy::ExpectedAttributeValue>>,
    conditional_operator: Option<&str>,
    subs: &mut Substitutions<'_>,
) -> Result<Option<Condition>, AwsError> {
    if let Some(text) = expression {
        return expr::parse_condition(text, ExpressionKind::Condition, subs).map(Some);
    }
    if let Some(expected) = expected {
        return legacy::expected(expected, conditional_operator).map(Some);
    }
    if conditional_operator.is_some() {
        return Err(AwsError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        ));
    }
    Ok(None)
}

fn check_common(c: &mut Constraints, table_name: Option<&str>, return_consumed_capacity: Option<&str>) {
    c.name("tableName", table_name, true);
    c.one_of(
        "returnConsumedCapacity",
        return_consumed_capacity,
        enums::RETURN_CONSUMED_CAPACITY,
    );
}

/// ConsumedCapacity for `units`, when the request asked for it.
fn consumed(table: &Table, asked: Option<&str>, units: f64) -> Option<ConsumedCapacity> {
    let total = match asked {
        Some("TOTAL") => false,
        Some("INDEXES") => true,
        _ => return None,
    };
    Some(ConsumedCapacity {
        table_name: table.name.clone(),
        capacity_units: units,
        read_capacity_units: None,
        write_capacity_units: None,
        table: total.then_some(Capacity {
            capacity_units: units,
            read_capacity_units: None,
            write_capacity_units: None,
        }),
    })
}

fn write_units(old: Option<&Item>, new: Option<&Item>) -> f64 {
    let size = old.map_or(0, item_size).max(new.map_or(0, item_size));
    size.div_ceil(1024).max(1) as f64
}

fn read_units(item: Option<&Item>, consistent: bool) -> f64 {
    let units = item.map_or(0, item_size).div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

fn condition_failed(old: Option<&Item>, return_on_failure: Option<&str>) -> AwsError {
    let err = aws_error!(ConditionalCheckFailedException, "The conditional request failed");
    match (return_on_failure, old) {
        (Some("ALL_OLD"), Some(item)) => err.with("Item", serde_json::to_value(item).unwrap_or(Value::Null)),
        _ => err,
    }
}

/// PutItem.
pub fn put_item(
    db: &Db,
    ctx: &RequestContext,
    input: wire::PutItemInput,
) -> Result<wire::WriteItemOutput, AwsError> {
    let mut c = Constraints::new();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.return_consumed_capacity.as_deref(),
    );
    c.not_null("item", input.item.as_ref());
    c.one_of(
        "returnValues",
        input.return_values.as_deref(),
        enums::RETURN_VALUES,
    );
    c.one_of(
        "returnItemCollectionMetrics",
        input.return_item_collection_metrics.as_deref(),
        enums::RETURN_ITEM_COLLECTION_METRICS,
    );
    c.one_of(
        "returnValuesOnConditionCheckFailure",
        input.return_values_on_condition_check_failure.as_deref(),
        enums::RETURN_VALUES_ON_CONDITION_CHECK_FAILURE,
    );
    c.one_of(
        "conditionalOperator",
        input.conditional_operator.as_deref(),
        enums::CONDITIONAL_OPERATOR,
    );
    c.finish()?;
    let return_old = match input.return_values.as_deref() {
        None | Some("NONE") => false,
        Some("ALL_OLD") => true,
        Some(_) => return Err(AwsError::validation("ReturnValues can only be ALL_OLD or NONE")),
    };
    let params = ExpressionParams {
        expressions: &[("ConditionExpression", input.condition_expression.as_ref())],
        legacy: &[("Expected", input.expected.is_some())],
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        values_without_expressions: "ConditionExpression is null",
    };
    let mut subs = params.check()?;
    let condition = write_condition(
        input.condition_expression.as_ref(),
        input.expected.as_ref(),
        input.conditional_operator.as_deref(),
        &mut subs,
    )?;
    subs.finish()?;

    let table = data_table(db, ctx, input.table_name.as_deref().unwrap_or_default())?;
    let item = input.item.unwrap_or_default();
    let meta = table.meta();
    let key = check_item(&meta, &item, false)?;
    if let Some(condition) = &condition {
        condition.check_key_attributes(&meta.key_schema.names().collect::<Vec<_>>())?;
    }
    let new_units = write_units(None, Some(&item));
    let old = {
        let mut data = table.data();
        if let Some(condition) = &condition {
            let empty = Item::new();
            let current = data.get(&key);
            if !condition.evaluate(current.unwrap_or(&empty))? {
                return Err(condition_failed(
                    current,
                    input.return_values_on_condition_check_failure.as_deref(),
                ));
            }
        }
        data.put(key, item)
    };
    let units = new_units.max(old.as_ref().map_or(0.0, |o| write_units(Some(o), None)));
    Ok(wire::WriteItemOutput {
        attributes: if return_old { old } else { None },
        consumed_capacity: consumed(&table, input.return_consumed_capacity.as_deref(), units),
    })
}

/// GetItem.
pub fn get_item(
    db: &Db,
    ctx: &RequestContext,
    input: wire::GetItemInput,
) -> Result<wire::GetItemOutput, AwsError> {
    let mut c = Constraints::new();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.return_consumed_capacity.as_deref(),
    );
    c.not_null("key", input.key.as_ref());
    if input.attributes_to_get.as_ref().is_some_and(Vec::is_empty) {
        c.fail(
            Some("[]"),
            "attributesToGet",
            "Member must have length greater than or equal to 1",
        );
    }
    c.finish()?;
    let params = ExpressionParams {
        expressions: &[("ProjectionExpression", input.projection_expression.as_ref())],
        legacy: &[("AttributesToGet", input.attributes_to_get.is_some())],
        names: input.expression_attribute_names.as_ref(),
        values: None,
        values_without_expressions: "",
    };
    let mut subs = params.check()?;
    let projection = projection(
        input.projection_expression.as_ref(),
        input.attributes_to_get.as_deref(),
        &mut subs,
    )?;
    subs.finish()?;

    let table = data_table(db, ctx, input.table_name.as_deref().unwrap_or_default())?;
    let meta = table.meta();
    let key = meta.key_schema.key_of_key_param(&input.key.unwrap_or_default())?;
    if let Some(projection) = &projection {
        projection.check_key_attributes(&meta.key_schema.names().collect::<Vec<_>>())?;
    }
    let item = table.data().get(&key).cloned();
    let units = read_units(item.as_ref(), input.consistent_read.unwrap_or(false));
    Ok(wire::GetItemOutput {
        item: item.map(|item| match &projection {
            Some(projection) => projection.apply(&item),
            None => item,
        }),
        consumed_capacity: consumed(&table, input.return_consumed_capacity.as_deref(), units),
    })
}

fn projection(
    expression: Option<&String>,
    attributes_to_get: Option<&[String]>,
    subs: &mut Substitutions<'_>,
) -> Result<Option<Projection>, AwsError> {
    if let Some(text) = expression {
        return expr::parse_projection(text, subs).map(Some);
    }
    Ok(attributes_to_get.map(legacy::attributes_to_get))
}

/// DeleteItem.
pub fn delete_item(
    db: &Db,
    ctx: &RequestContext,
    input: wire::DeleteItemInput,
) -> Result<wire::WriteItemOutput, AwsError> {
    let mut c = Constraints::new();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.return_consumed_capacity.as_deref(),
    );
    c.not_null("key", input.key.as_ref());
    c.one_of(
        "returnValues",
        input.return_values.as_deref(),
        enums::RETURN_VALUES,
    );
    c.one_of(
        "returnItemCollectionMetrics",
        input.return_item_collection_metrics.as_deref(),
        enums::RETURN_ITEM_COLLECTION_METRICS,
    );
    c.one_of(
        "returnValuesOnConditionCheckFailure",
        input.return_values_on_condition_check_failure.as_deref(),
        enums::RETURN_VALUES_ON_CONDITION_CHECK_FAILURE,
    );
    c.one_of(
        "conditionalOperator",
        input.conditional_operator.as_deref(),
        enums::CONDITIONAL_OPERATOR,
    );
    c.finish()?;
    let return_old = match input.return_values.as_deref() {
        None | Some("NONE") => false,
        Some("ALL_OLD") => true,
        Some(_) => return Err(AwsError::validation("ReturnValues can only be ALL_OLD or NONE")),
    };
    let params = ExpressionParams {
        expressions: &[("ConditionExpression", input.condition_expression.as_ref())],
        legacy: &[("Expected", input.expected.is_some())],
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        values_without_expressions: "ConditionExpression is null",
    };
    let mut subs = params.check()?;
    let condition = write_condition(
        input.condition_expression.as_ref(),
        input.expected.as_ref(),
        input.conditional_operator.as_deref(),
        &mut subs,
    )?;
    subs.finish()?;

    let table = data_table(db, ctx, input.table_name.as_deref().unwrap_or_default())?;
    let meta = table.meta();
    let key = meta.key_schema.key_of_key_param(&input.key.unwrap_or_default())?;
    if let Some(condition) = &condition {
        condition.check_key_attributes(&meta.key_schema.names().collect::<Vec<_>>())?;
    }
    let old = {
        let mut data = table.data();
        if let Some(condition) = &condition {
            let empty = Item::new();
            let current = data.get(&key);
            if !condition.evaluate(current.unwrap_or(&empty))? {
                return Err(condition_failed(
                    current,
                    input.return_values_on_condition_check_failure.as_deref(),
                ));
            }
        }
        data.delete(&key)
    };
    let units = write_units(old.as_ref(), None);
    Ok(wire::WriteItemOutput {
        consumed_capacity: consumed(&table, input.return_consumed_capacity.as_deref(), units),
        attributes: if return_old { old } else { None },
    })
}

/// UpdateItem.
pub fn update_item(
    db: &Db,
    ctx: &RequestContext,
    input: wire::UpdateItemInput,
) -> Result<wire::WriteItemOutput, AwsError> {
    let mut c = Constraints::new();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.return_consumed_capacity.as_deref(),
    );
    c.not_null("key", input.key.as_ref());
    c.one_of(
        "returnValues",
        input.return_values.as_deref(),
        enums::RETURN_VALUES,
    );
    c.one_of(
        "returnItemCollectionMetrics",
        input.return_item_collection_metrics.as_deref(),
        enums::RETURN_ITEM_COLLECTION_METRICS,
    );
    c.one_of(
        "returnValuesOnConditionCheckFailure",
        input.return_values_on_condition_check_failure.as_deref(),
        enums::RETURN_VALUES_ON_CONDITION_CHECK_FAILURE,
    );
    c.one_of(
        "conditionalOperator",
        input.conditional_operator.as_deref(),
        enums::CONDITIONAL_OPERATOR,
    );
    c.finish()?;
    let params = ExpressionParams {
        expressions: &[
            ("UpdateExpression", input.update_expression.as_ref()),
            ("ConditionExpression", input.condition_expression.as_ref()),
        ],
        legacy: &[
            ("AttributeUpdates", input.attribute_updates.is_some()),
            ("Expected", input.expected.is_some()),
        ],
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        values_without_expressions: "UpdateExpression and ConditionExpression are null",
    };
    let mut subs = params.check()?;
    let update: Option<Update> = match (&input.update_expression, &input.attribute_updates) {
        (Some(text), _) => Some(expr::parse_update(text, &mut subs)?),
        (None, Some(updates)) => Some(legacy::attribute_updates(updates)?),
        (None, None) => None,
    };
    let condition = write_condition(
        input.condition_expression.as_ref(),
        input.expected.as_ref(),
        input.conditional_operator.as_deref(),
        &mut subs,
    )?;
    subs.finish()?;

    let table = data_table(db, ctx, input.table_name.as_deref().unwrap_or_default())?;
    let meta = table.meta();
    let key_param = input.key.unwrap_or_default();
    let key = meta.key_schema.key_of_key_param(&key_param)?;
    let key_names: Vec<&str> = meta.key_schema.names().collect();
    if let Some(update) = &update {
        update.check_key_attributes(&key_names)?;
    }
    if let Some(condition) = &condition {
        condition.check_key_attributes(&key_names)?;
    }
    let (old, new) = {
        let mut data = table.data();
        let current = data.get(&key);
        if let Some(condition) = &condition {
            let empty = Item::new();
            if !condition.evaluate(current.unwrap_or(&empty))? {
                return Err(condition_failed(
                    current,
                    input.return_values_on_condition_check_failure.as_deref(),
                ));
            }
        }
        let old = current.cloned();
        let mut new = old.clone().unwrap_or_else(|| key_param.clone());
        match (&update, &old) {
            (Some(update), Some(_)) => update.apply(&mut new)?,
            // NB: AWS ignores actions that make no sense on an absent item (e.g. REMOVE a.b) instead of failing.
            (Some(update), None) => update.apply_to_new_item(&mut new)?,
            (None, _) => {}
        }
        check_item(&meta, &new, true)?;
        if old.as_ref() != Some(&new) {
            data.put(key, new.clone());
        }
        (old, new)
    };
    let attributes = match input.return_values.as_deref() {
        Some("ALL_OLD") => old.clone(),
        Some("ALL_NEW") => Some(new.clone()),
        Some("UPDATED_OLD") => old
            .as_ref()
            .zip(update.as_ref())
            .map(|(o, u)| u.updated_paths().apply(o)),
        Some("UPDATED_NEW") => update.as_ref().map(|u| u.updated_paths().apply(&new)),
        _ => None,
    }
    .filter(|attributes| !attributes.is_empty());
    let units = write_units(old.as_ref(), Some(&new));
    Ok(wire::WriteItemOutput {
        attributes,
        consumed_capacity: consumed(&table, input.return_consumed_capacity.as_deref(), units),
    })
}
