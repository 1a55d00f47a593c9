//! Item operations: PutItem, GetItem, DeleteItem, UpdateItem, with condition, update and projection expressions
//! (or their legacy forms), ReturnValues, ReturnValuesOnConditionCheckFailure and ReturnConsumedCapacity.
//!
//! Also the one implementation of a write that every write path shares (these four operations, BatchWriteItem
//! and TransactWriteItems): an [`ItemWrite`] is the request part validated without a table, a [`PreparedWrite`]
//! is that write checked against its table's schema, and [`PreparedWrite::check`] then
//! [`PreparedWrite::commit`] evaluate the condition, work out the new item and store it, under the table's item
//! lock. Single-item writes run both steps under one lock; a transaction checks every action before it commits
//! any.

use std::{collections::HashMap, sync::Arc};

use serde::Serialize;
use serde_json::Value;

use crate::{
    aws_error,
    dynamodb::{
        expr::{self, Condition, ExpressionKind, Projection, Substitutions, Update, legacy},
        key::{ItemKey, KeySchema},
        table::{ChangeCause, Table, TableData, TableMeta},
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
/// AWS's message for a `Key` (or a batch's item) whose key attributes do not fit the table's key schema.
pub const SCHEMA_MISMATCH: &str = "The provided key element does not match the schema";
/// AWS's message for a failed condition (ConditionalCheckFailedException, and the transaction reason).
pub const CONDITION_FAILED: &str = "The conditional request failed";

/// The table a data-plane operation addresses; AWS answers a missing table with a bare "not found".
pub fn data_table(db: &Db, ctx: &RequestContext, name: &str) -> Result<Arc<Table>, AwsError> {
    db.region(&ctx.account, &ctx.region)
        .table(name)
        .ok_or_else(|| aws_error!(ResourceNotFoundException, "Requested resource not found"))
}

// ---------------------------------------------------------------------------------------------------------------
// Items and keys against the table's schema

/// Why an item or a key does not fit its table. Single-item operations report every kind as it is; batches and
/// transactions tell them apart (see [`ItemError::TableKey`]).
#[derive(Debug)]
pub enum ItemError {
    /// The table's key attributes are missing, extra or of the wrong type. BatchWriteItem reports this as
    /// [`SCHEMA_MISMATCH`] whatever PutItem would say, and transactions report it as a cancellation reason.
    TableKey(AwsError),
    /// A secondary index key attribute has the wrong type (transactions report it as a cancellation reason).
    IndexKey(AwsError),
    /// Anything else (an empty or oversized key value, an oversized or too deeply nested item, an expression
    /// that looks inside a key attribute): always a ValidationException of its own.
    Invalid(AwsError),
}

impl From<ItemError> for AwsError {
    fn from(error: ItemError) -> Self {
        match error {
            ItemError::TableKey(e) | ItemError::IndexKey(e) | ItemError::Invalid(e) => e,
        }
    }
}

/// Whether `item` holds every key attribute of `schema` with its declared type (whatever else it holds).
fn has_key_attributes(schema: &KeySchema, item: &Item) -> bool {
    std::iter::once(&schema.hash)
        .chain(&schema.range)
        .all(|attribute| {
            item.get(&attribute.name)
                .is_some_and(|v| v.attribute_type().as_str() == attribute.ty.as_str())
        })
}

/// The key of a `Key` parameter, telling a key that does not fit the schema from one with an invalid value.
pub fn key_of_key_param(meta: &TableMeta, key: &Item) -> Result<ItemKey, ItemError> {
    let schema = &meta.key_schema;
    schema.key_of_key_param(key).map_err(|error| {
        let fits = key.len() == 1 + usize::from(schema.range.is_some()) && has_key_attributes(schema, key);
        if fits {
            ItemError::Invalid(error)
        } else {
            ItemError::TableKey(error)
        }
    })
}

/// Checks the item-level rules of a whole item against the table: key, index keys, size, nesting.
pub fn check_item(meta: &TableMeta, item: &Item, for_update: bool) -> Result<ItemKey, AwsError> {
    check_item_parts(meta, item, for_update).map_err(AwsError::from)
}

/// [`check_item`], telling the kinds of failure apart.
pub fn check_item_parts(meta: &TableMeta, item: &Item, for_update: bool) -> Result<ItemKey, ItemError> {
    let key = meta.key_schema.key_of_item(item).map_err(|error| {
        if has_key_attributes(&meta.key_schema, item) {
            ItemError::Invalid(error)
        } else {
            ItemError::TableKey(error)
        }
    })?;
    check_index_keys(meta, item)?;
    if item_size(item) > MAX_ITEM_BYTES {
        return Err(ItemError::Invalid(AwsError::validation(if for_update {
            "Item size to update has exceeded the maximum allowed size"
        } else {
            "Item size has exceeded the maximum allowed size"
        })));
    }
    if item.values().any(|v| v.depth() > MAX_NESTING) {
        return Err(ItemError::Invalid(AwsError::validation(
            "Nesting Levels have exceeded supported limits",
        )));
    }
    Ok(key)
}

fn check_index_keys(meta: &TableMeta, item: &Item) -> Result<(), ItemError> {
    for (index_name, schema) in meta.index_key_schemas() {
        for attribute in std::iter::once(&schema.hash).chain(&schema.range) {
            let Some(value) = item.get(&attribute.name) else {
                continue;
            };
            let actual = value.attribute_type().as_str();
            if actual != attribute.ty.as_str() {
                return Err(ItemError::IndexKey(AwsError::validation(format!(
                    "{INVALID_PARAMETERS}Type mismatch for Index Key {} Expected: {} Actual: {actual} IndexName: \
                     {index_name}",
                    attribute.name,
                    attribute.ty.as_str()
                ))));
            }
            let empty = match value {
                AttributeValue::S(s) => s.is_empty(),
                AttributeValue::B(b) => b.is_empty(),
                _ => false,
            };
            if empty {
                return Err(ItemError::Invalid(AwsError::validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is \
                     not supported. The AttributeValue for a key attribute cannot contain an empty string value. \
                     IndexName: {index_name}, IndexKey: {}",
                    attribute.name
                ))));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Expression parameters

/// The expression-related parameters of a request, checked together as AWS checks them.
pub(super) struct ExpressionParams<'a> {
    /// (parameter name, expression) for each expression parameter the operation takes.
    pub expressions: &'a [(&'static str, Option<&'a String>)],
    /// (parameter name, present) for each legacy parameter the operation takes.
    pub legacy: &'a [(&'static str, bool)],
    pub names: Option<&'a HashMap<String, String>>,
    pub values: Option<&'a ExpressionValues>,
    /// What AWS says is null when values come without expressions, e.g. "ConditionExpression is null".
    pub values_without_expressions: &'static str,
}

impl<'a> ExpressionParams<'a> {
    pub fn check(&self) -> Result<Substitutions<'a>, AwsError> {
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

/// A read's projection: ProjectionExpression with ExpressionAttributeNames, or legacy AttributesToGet, checked
/// as GetItem, BatchGetItem and TransactGetItems check them.
pub fn read_projection(
    expression: Option<&String>,
    attributes_to_get: Option<&[String]>,
    names: Option<&HashMap<String, String>>,
) -> Result<Option<Projection>, AwsError> {
    let params = ExpressionParams {
        expressions: &[("ProjectionExpression", expression)],
        legacy: &[("AttributesToGet", attributes_to_get.is_some())],
        names,
        values: None,
        values_without_expressions: "",
    };
    let mut subs = params.check()?;
    let projection = match (expression, attributes_to_get) {
        (Some(text), _) => Some(expr::parse_projection(text, &mut subs)?),
        (None, attributes) => attributes.map(legacy::attributes_to_get),
    };
    subs.finish()?;
    Ok(projection)
}

/// The expression and legacy parameters of a write request (each write path fills in what it has).
#[derive(Default)]
pub struct WriteExpressions<'a> {
    /// ConditionExpression.
    pub condition_expression: Option<&'a String>,
    /// UpdateExpression (updates only).
    pub update_expression: Option<&'a String>,
    /// ExpressionAttributeNames.
    pub names: Option<&'a HashMap<String, String>>,
    /// ExpressionAttributeValues.
    pub values: Option<&'a ExpressionValues>,
    /// Legacy Expected.
    pub expected: Option<&'a HashMap<String, wire::legacy::ExpectedAttributeValue>>,
    /// Legacy AttributeUpdates (updates only).
    pub attribute_updates: Option<&'a HashMap<String, wire::legacy::AttributeValueUpdate>>,
    /// Legacy ConditionalOperator.
    pub conditional_operator: Option<&'a str>,
}

impl WriteExpressions<'_> {
    /// Parses the update (when `with_update`) and the condition, with AWS's checks of the parameters.
    fn parse(&self, with_update: bool) -> Result<(Option<Update>, Option<Condition>), AwsError> {
        let expressions = [
            ("UpdateExpression", self.update_expression),
            ("ConditionExpression", self.condition_expression),
        ];
        let legacy_params = [
            ("AttributeUpdates", self.attribute_updates.is_some()),
            ("Expected", self.expected.is_some()),
        ];
        let skip = usize::from(!with_update);
        let params = ExpressionParams {
            expressions: &expressions[skip..],
            legacy: &legacy_params[skip..],
            names: self.names,
            values: self.values,
            values_without_expressions: if with_update {
                "UpdateExpression and ConditionExpression are null"
            } else {
                "ConditionExpression is null"
            },
        };
        let mut subs = params.check()?;
        let update = match (with_update, self.update_expression, self.attribute_updates) {
            (false, _, _) => None,
            (true, Some(text), _) => Some(expr::parse_update(text, &mut subs)?),
            (true, None, Some(updates)) => Some(legacy::attribute_updates(updates)?),
            (true, None, None) => None,
        };
        let condition = write_condition(
            self.condition_expression,
            self.expected,
            self.conditional_operator,
            &mut subs,
        )?;
        subs.finish()?;
        Ok((update, condition))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The shared write

/// What a write does to its item.
#[derive(Debug)]
pub enum WriteKind {
    /// Replace the item (PutItem, a transaction's Put, a batch's PutRequest).
    Put(Item),
    /// Update the item, creating it from its key if absent (UpdateItem, a transaction's Update); UpdateItem
    /// may come without any update.
    Update(Option<Update>),
    /// Remove the item (DeleteItem, a transaction's Delete, a batch's DeleteRequest).
    Delete,
    /// Only check the condition (a transaction's ConditionCheck).
    ConditionCheck,
}

/// The part of a write request that needs no table: what to write, the `Key` parameter and the condition, all
/// validated and parsed.
#[derive(Debug)]
pub struct ItemWrite {
    kind: WriteKind,
    /// The `Key` parameter (empty for puts, whose key is in the item).
    key: Item,
    condition: Option<Condition>,
    /// ReturnValuesOnConditionCheckFailure is ALL_OLD.
    return_old_on_failure: bool,
}

impl ItemWrite {
    fn new(
        kind: WriteKind,
        key: Item,
        condition: Option<Condition>,
        return_values_on_condition_check_failure: Option<&str>,
    ) -> Self {
        Self {
            kind,
            key,
            condition,
            return_old_on_failure: return_values_on_condition_check_failure == Some("ALL_OLD"),
        }
    }

    /// A put of `item`.
    pub fn put(
        item: Item,
        expressions: &WriteExpressions<'_>,
        return_values_on_condition_check_failure: Option<&str>,
    ) -> Result<Self, AwsError> {
        let (_, condition) = expressions.parse(false)?;
        Ok(Self::new(
            WriteKind::Put(item),
            Item::new(),
            condition,
            return_values_on_condition_check_failure,
        ))
    }

    /// A delete of the item at `key`.
    pub fn delete(
        key: Item,
        expressions: &WriteExpressions<'_>,
        return_values_on_condition_check_failure: Option<&str>,
    ) -> Result<Self, AwsError> {
        let (_, condition) = expressions.parse(false)?;
        Ok(Self::new(
            WriteKind::Delete,
            key,
            condition,
            return_values_on_condition_check_failure,
        ))
    }

    /// An update of the item at `key`.
    pub fn update(
        key: Item,
        expressions: &WriteExpressions<'_>,
        return_values_on_condition_check_failure: Option<&str>,
    ) -> Result<Self, AwsError> {
        let (update, condition) = expressions.parse(true)?;
        Ok(Self::new(
            WriteKind::Update(update),
            key,
            condition,
            return_values_on_condition_check_failure,
        ))
    }

    /// A condition check of the item at `key`.
    pub fn condition_check(
        key: Item,
        expressions: &WriteExpressions<'_>,
        return_values_on_condition_check_failure: Option<&str>,
    ) -> Result<Self, AwsError> {
        let (_, condition) = expressions.parse(false)?;
        Ok(Self::new(
            WriteKind::ConditionCheck,
            key,
            condition,
            return_values_on_condition_check_failure,
        ))
    }

    /// What the write does.
    pub fn kind(&self) -> &WriteKind {
        &self.kind
    }

    /// Checks the write against its table's schema: the key (or, for a put, the whole item) and expressions
    /// that look inside key attributes.
    pub fn prepare(self, meta: &TableMeta) -> Result<PreparedWrite, ItemError> {
        let key = match &self.kind {
            WriteKind::Put(item) => check_item_parts(meta, item, false)?,
            _ => key_of_key_param(meta, &self.key)?,
        };
        let key_names: Vec<&str> = meta.key_schema.names().collect();
        if let WriteKind::Update(Some(update)) = &self.kind {
            update
                .check_key_attributes(&key_names)
                .map_err(ItemError::Invalid)?;
        }
        if let Some(condition) = &self.condition {
            condition
                .check_key_attributes(&key_names)
                .map_err(ItemError::Invalid)?;
        }
        Ok(PreparedWrite { write: self, key })
    }
}

/// A write checked against its table's schema, ready to run against the table's items.
#[derive(Debug)]
pub struct PreparedWrite {
    write: ItemWrite,
    key: ItemKey,
}

/// Why a write did not happen.
#[derive(Debug)]
pub enum WriteFailure {
    /// The condition was false; the item it was evaluated against, when ALL_OLD was asked for and it exists.
    ConditionalCheckFailed(Option<Item>),
    /// The write would make an invalid item (an update's runtime error, or an updated item that breaks a rule).
    Invalid(AwsError),
}

impl From<WriteFailure> for AwsError {
    fn from(failure: WriteFailure) -> Self {
        match failure {
            WriteFailure::ConditionalCheckFailed(item) => {
                let err = aws_error!(ConditionalCheckFailedException, "{CONDITION_FAILED}");
                match item {
                    Some(item) => err.with("Item", serde_json::to_value(item).unwrap_or(Value::Null)),
                    None => err,
                }
            }
            WriteFailure::Invalid(err) => err,
        }
    }
}

/// The outcome of [`PreparedWrite::check`]: what [`PreparedWrite::commit`] stores.
#[derive(Debug)]
pub struct Checked {
    /// The stored item before an update.
    old: Option<Item>,
    /// An update's new item.
    new: Option<Item>,
    /// Size of the item a condition check read.
    read_size: usize,
}

/// What a committed write did.
#[derive(Debug)]
pub struct Committed {
    /// The item before the write.
    pub old: Option<Item>,
    /// An update's new item (puts, deletes and condition checks leave it `None`).
    pub new: Option<Item>,
    /// The size capacity is charged on: the larger of the item before and after.
    pub size: usize,
}

impl Committed {
    /// Write capacity units of the write on its own (transactions double them).
    pub fn write_units(&self) -> f64 {
        self.size.div_ceil(1024).max(1) as f64
    }
}

impl PreparedWrite {
    /// Where the written item lives.
    pub fn key(&self) -> &ItemKey {
        &self.key
    }

    /// The update, for an update.
    pub fn update(&self) -> Option<&Update> {
        match &self.write.kind {
            WriteKind::Update(update) => update.as_ref(),
            _ => None,
        }
    }

    /// Evaluates the condition against the stored item and works out an update's new item, storing nothing.
    pub fn check(&self, meta: &TableMeta, data: &TableData) -> Result<Checked, WriteFailure> {
        let current = data.get(&self.key);
        if let Some(condition) = &self.write.condition {
            let empty = Item::new();
            if !condition
                .evaluate(current.unwrap_or(&empty))
                .map_err(WriteFailure::Invalid)?
            {
                let returned = current.filter(|_| self.write.return_old_on_failure).cloned();
                return Err(WriteFailure::ConditionalCheckFailed(returned));
            }
        }
        match &self.write.kind {
            WriteKind::Update(update) => {
                let old = current.cloned();
                let mut new = old.clone().unwrap_or_else(|| self.write.key.clone());
                match (update, &old) {
                    (Some(update), Some(_)) => update.apply(&mut new),
                    // NB: AWS ignores actions that make no sense on an absent item (e.g. REMOVE a.b) instead of
                    // failing.
                    (Some(update), None) => update.apply_to_new_item(&mut new),
                    (None, _) => Ok(()),
                }
                .map_err(WriteFailure::Invalid)?;
                check_item(meta, &new, true).map_err(WriteFailure::Invalid)?;
                Ok(Checked {
                    old,
                    new: Some(new),
                    read_size: 0,
                })
            }
            WriteKind::ConditionCheck => Ok(Checked {
                old: None,
                new: None,
                read_size: current.map_or(0, item_size),
            }),
            WriteKind::Put(_) | WriteKind::Delete => Ok(Checked {
                old: None,
                new: None,
                read_size: 0,
            }),
        }
    }

    /// Stores a checked write as a client's request.
    pub fn commit(self, checked: Checked, data: &mut TableData) -> Committed {
        match self.write.kind {
            WriteKind::Put(item) => {
                let new_size = item_size(&item);
                let old = data.put(self.key, item, ChangeCause::Request);
                let size = new_size.max(old.as_ref().map_or(0, item_size));
                Committed { old, new: None, size }
            }
            WriteKind::Delete => {
                let old = data.delete(&self.key, ChangeCause::Request);
                let size = old.as_ref().map_or(0, item_size);
                Committed { old, new: None, size }
            }
            WriteKind::Update(_) => {
                let Checked { old, new, .. } = checked;
                if let Some(new) = &new
                    && old.as_ref() != Some(new)
                {
                    data.put(self.key, new.clone(), ChangeCause::Request);
                }
                let size = old
                    .as_ref()
                    .map_or(0, item_size)
                    .max(new.as_ref().map_or(0, item_size));
                Committed { old, new, size }
            }
            WriteKind::ConditionCheck => Committed {
                old: None,
                new: None,
                size: checked.read_size,
            },
        }
    }

    /// Checks and commits under the table's item lock: a write on its own, atomic for its item.
    pub fn execute(self, table: &Table, meta: &TableMeta) -> Result<Committed, AwsError> {
        let mut data = table.data();
        let checked = self.check(meta, &data)?;
        Ok(self.commit(checked, &mut data))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Capacity and request printing

/// Which units a ConsumedCapacity names besides CapacityUnits: transactions report theirs as reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapacityAxis {
    /// CapacityUnits only (single-item operations and batches).
    Plain,
    /// Also ReadCapacityUnits (TransactGetItems, and a replayed TransactWriteItems).
    Read,
    /// Also WriteCapacityUnits (TransactWriteItems).
    Write,
}

/// ConsumedCapacity of `units` on one table, when the request asked for it (TOTAL or INDEXES).
pub fn table_capacity(
    table_name: &str,
    asked: Option<&str>,
    units: f64,
    axis: CapacityAxis,
) -> Option<ConsumedCapacity> {
    let with_table = match asked {
        Some("TOTAL") => false,
        Some("INDEXES") => true,
        _ => return None,
    };
    let (read, write) = match axis {
        CapacityAxis::Plain => (None, None),
        CapacityAxis::Read => (Some(units), None),
        CapacityAxis::Write => (None, Some(units)),
    };
    Some(ConsumedCapacity {
        table_name: table_name.to_owned(),
        capacity_units: units,
        read_capacity_units: read,
        write_capacity_units: write,
        table: with_table.then_some(Capacity {
            capacity_units: units,
            read_capacity_units: read,
            write_capacity_units: write,
        }),
    })
}

/// Capacity units per table of a multi-table operation, listed in the order the tables first appear.
#[derive(Clone, Debug, Default)]
pub struct TableUnits(Vec<(String, f64)>);

impl TableUnits {
    /// Adds `units` to `table`.
    pub fn add(&mut self, table: &str, units: f64) {
        match self.0.iter_mut().find(|(name, _)| name == table) {
            Some((_, total)) => *total += units,
            None => self.0.push((table.to_owned(), units)),
        }
    }

    /// The response's ConsumedCapacity list, when the request asked for it.
    pub fn consumed(&self, asked: Option<&str>, axis: CapacityAxis) -> Option<Vec<ConsumedCapacity>> {
        matches!(asked, Some("TOTAL" | "INDEXES")).then(|| {
            self.0
                .iter()
                .filter_map(|(table, units)| table_capacity(table, asked, *units, axis))
                .collect()
        })
    }
}

fn consumed(table: &Table, asked: Option<&str>, units: f64) -> Option<ConsumedCapacity> {
    table_capacity(&table.name, asked, units, CapacityAxis::Plain)
}

/// Read capacity units of reading an item of `size` bytes (a missing item counts as one unit's read).
pub fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

/// A request value as AWS's Java front end prints it in constraint errors: maps as `{k=v, ...}`, lists as
/// `[a, b]`, strings bare.
// NB: AWS prints its own model classes here; clients match these values loosely, and dynalite's recorded
// tests only pin them as `{.+}` and `[.+]`.
pub fn java_string(value: &impl Serialize) -> String {
    fn print(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                out.push('{');
                for (i, (key, value)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key);
                    out.push('=');
                    print(value, out);
                }
                out.push('}');
            }
            Value::Array(list) => {
                out.push('[');
                for (i, value) in list.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    print(value, out);
                }
                out.push(']');
            }
            Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    print(&serde_json::to_value(value).unwrap_or(Value::Null), &mut out);
    out
}

// ---------------------------------------------------------------------------------------------------------------
// The operations

fn check_common(c: &mut Constraints, table_name: Option<&str>, return_consumed_capacity: Option<&str>) {
    c.name("tableName", table_name, true);
    c.one_of(
        "returnConsumedCapacity",
        return_consumed_capacity,
        enums::RETURN_CONSUMED_CAPACITY,
    );
}

/// The constraints every single-item write shares.
fn check_write_enums(
    c: &mut Constraints,
    return_values: Option<&str>,
    return_item_collection_metrics: Option<&str>,
    return_values_on_condition_check_failure: Option<&str>,
    conditional_operator: Option<&str>,
) {
    c.one_of("returnValues", return_values, enums::RETURN_VALUES);
    c.one_of(
        "returnItemCollectionMetrics",
        return_item_collection_metrics,
        enums::RETURN_ITEM_COLLECTION_METRICS,
    );
    c.one_of(
        "returnValuesOnConditionCheckFailure",
        return_values_on_condition_check_failure,
        enums::RETURN_VALUES_ON_CONDITION_CHECK_FAILURE,
    );
    c.one_of(
        "conditionalOperator",
        conditional_operator,
        enums::CONDITIONAL_OPERATOR,
    );
}

/// PutItem and DeleteItem return the old item or nothing.
fn returns_old_item(return_values: Option<&str>) -> Result<bool, AwsError> {
    match return_values {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(_) => Err(AwsError::validation("ReturnValues can only be ALL_OLD or NONE")),
    }
}

/// PutItem.
pub fn put_item(
    db: &Db,
    ctx: &RequestContext,
    mut input: wire::PutItemInput,
) -> Result<wire::WriteItemOutput, AwsError> {
    let mut c = Constraints::new();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.return_consumed_capacity.as_deref(),
    );
    c.not_null("item", input.item.as_ref());
    check_write_enums(
        &mut c,
        input.return_values.as_deref(),
        input.return_item_collection_metrics.as_deref(),
        input.return_values_on_condition_check_failure.as_deref(),
        input.conditional_operator.as_deref(),
    );
    c.finish()?;
    let return_old = returns_old_item(input.return_values.as_deref())?;
    let write = ItemWrite::put(
        input.item.take().unwrap_or_default(),
        &WriteExpressions {
            condition_expression: input.condition_expression.as_ref(),
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
            expected: input.expected.as_ref(),
            conditional_operator: input.conditional_operator.as_deref(),
            ..WriteExpressions::default()
        },
        input.return_values_on_condition_check_failure.as_deref(),
    )?;

    let table = data_table(db, ctx, input.table_name.as_deref().unwrap_or_default())?;
    let meta = table.meta();
    let committed = write.prepare(&meta)?.execute(&table, &meta)?;
    Ok(wire::WriteItemOutput {
        consumed_capacity: consumed(
            &table,
            input.return_consumed_capacity.as_deref(),
            committed.write_units(),
        ),
        attributes: if return_old { committed.old } else { None },
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
    let projection = read_projection(
        input.projection_expression.as_ref(),
        input.attributes_to_get.as_deref(),
        input.expression_attribute_names.as_ref(),
    )?;

    let table = data_table(db, ctx, input.table_name.as_deref().unwrap_or_default())?;
    let meta = table.meta();
    let key = meta.key_schema.key_of_key_param(&input.key.unwrap_or_default())?;
    if let Some(projection) = &projection {
        projection.check_key_attributes(&meta.key_schema.names().collect::<Vec<_>>())?;
    }
    // NB: the answer is serialised from the stored item under the lock, instead of cloning the item first:
    // GetItem is the hottest read path.
    let (item, size) = {
        let data = table.read_data();
        match data.get(&key) {
            Some(stored) => {
                let raw = match &projection {
                    Some(projection) => serde_json::value::to_raw_value(&projection.apply(stored)),
                    None => serde_json::value::to_raw_value(stored),
                }
                .map_err(AwsError::internal)?;
                (Some(raw), item_size(stored))
            }
            None => (None, 0),
        }
    };
    let units = read_units(size, input.consistent_read.unwrap_or(false));
    Ok(wire::GetItemOutput {
        item,
        consumed_capacity: consumed(&table, input.return_consumed_capacity.as_deref(), units),
    })
}

/// DeleteItem.
pub fn delete_item(
    db: &Db,
    ctx: &RequestContext,
    mut input: wire::DeleteItemInput,
) -> Result<wire::WriteItemOutput, AwsError> {
    let mut c = Constraints::new();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.return_consumed_capacity.as_deref(),
    );
    c.not_null("key", input.key.as_ref());
    check_write_enums(
        &mut c,
        input.return_values.as_deref(),
        input.return_item_collection_metrics.as_deref(),
        input.return_values_on_condition_check_failure.as_deref(),
        input.conditional_operator.as_deref(),
    );
    c.finish()?;
    let return_old = returns_old_item(input.return_values.as_deref())?;
    let write = ItemWrite::delete(
        input.key.take().unwrap_or_default(),
        &WriteExpressions {
            condition_expression: input.condition_expression.as_ref(),
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
            expected: input.expected.as_ref(),
            conditional_operator: input.conditional_operator.as_deref(),
            ..WriteExpressions::default()
        },
        input.return_values_on_condition_check_failure.as_deref(),
    )?;

    let table = data_table(db, ctx, input.table_name.as_deref().unwrap_or_default())?;
    let meta = table.meta();
    let committed = write.prepare(&meta)?.execute(&table, &meta)?;
    Ok(wire::WriteItemOutput {
        consumed_capacity: consumed(
            &table,
            input.return_consumed_capacity.as_deref(),
            committed.write_units(),
        ),
        attributes: if return_old { committed.old } else { None },
    })
}

/// UpdateItem.
pub fn update_item(
    db: &Db,
    ctx: &RequestContext,
    mut input: wire::UpdateItemInput,
) -> Result<wire::WriteItemOutput, AwsError> {
    let mut c = Constraints::new();
    check_common(
        &mut c,
        input.table_name.as_deref(),
        input.return_consumed_capacity.as_deref(),
    );
    c.not_null("key", input.key.as_ref());
    check_write_enums(
        &mut c,
        input.return_values.as_deref(),
        input.return_item_collection_metrics.as_deref(),
        input.return_values_on_condition_check_failure.as_deref(),
        input.conditional_operator.as_deref(),
    );
    c.finish()?;
    let write = ItemWrite::update(
        input.key.take().unwrap_or_default(),
        &WriteExpressions {
            condition_expression: input.condition_expression.as_ref(),
            update_expression: input.update_expression.as_ref(),
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
            expected: input.expected.as_ref(),
            attribute_updates: input.attribute_updates.as_ref(),
            conditional_operator: input.conditional_operator.as_deref(),
        },
        input.return_values_on_condition_check_failure.as_deref(),
    )?;

    let table = data_table(db, ctx, input.table_name.as_deref().unwrap_or_default())?;
    let meta = table.meta();
    let prepared = write.prepare(&meta)?;
    let return_values = input.return_values.as_deref();
    let updated_paths = match return_values {
        Some("UPDATED_OLD" | "UPDATED_NEW") => prepared.update().map(Update::updated_paths),
        _ => None,
    };
    let committed = prepared.execute(&table, &meta)?;
    let units = committed.write_units();
    let attributes = match return_values {
        Some("ALL_OLD") => committed.old,
        Some("ALL_NEW") => committed.new,
        Some("UPDATED_OLD") => committed.old.zip(updated_paths).map(|(o, p)| p.apply(&o)),
        Some("UPDATED_NEW") => committed.new.zip(updated_paths).map(|(n, p)| p.apply(&n)),
        _ => None,
    }
    .filter(|attributes| !attributes.is_empty());
    Ok(wire::WriteItemOutput {
        attributes,
        consumed_capacity: consumed(&table, input.return_consumed_capacity.as_deref(), units),
    })
}
