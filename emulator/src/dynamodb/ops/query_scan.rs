//! Query and Scan, on tables and on secondary indexes: key conditions become byte ranges over the stored keys
//! (see [`crate::dynamodb::key`]), pages stop at `Limit` items evaluated or 1 MB read, filters apply after, and
//! `LastEvaluatedKey` / `ExclusiveStartKey` carry the table key plus the index key, as AWS's do.

use std::ops::Bound;

use crate::{
    dynamodb::{
        expr::{
            self, Comparator, CondExpr, Condition, ExpressionKind, Operand, Projection, Substitutions, legacy,
        },
        index::{IndexData, IndexProjection},
        key::{self, ItemKey, KeySchema},
        table::{Table, TableData, TableMeta},
        validate::{Constraints, enums},
        value::{AttributeValue, INVALID_PARAMETERS, Item, item_size},
        wire::{
            Capacity, ConsumedCapacity, ExpressionValues,
            query::{QueryInput, QueryOutput, ScanInput},
        },
    },
    edge::{AwsError, RequestContext},
};

use super::{
    Db,
    items::{ExpressionParams, data_table},
};

/// Most bytes one Query or Scan page reads.
const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// Select values, in AWS's declared order.
const SELECT: &[&str] = &[
    "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
    "SPECIFIC_ATTRIBUTES",
    "COUNT",
];

/// What a read returns of each item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Select {
    AllAttributes,
    AllProjectedAttributes,
    SpecificAttributes,
    Count,
}

/// The parts of a Query or Scan request that shape its results.
struct ReadRequest<'a> {
    table_name: Option<&'a str>,
    index_name: Option<&'a str>,
    select: Option<&'a str>,
    attributes_to_get: Option<&'a [String]>,
    projection_expression: Option<&'a String>,
    filter_expression: Option<&'a String>,
    legacy_filter: Option<(
        &'a std::collections::HashMap<String, crate::dynamodb::wire::legacy::Condition>,
        &'static str,
    )>,
    conditional_operator: Option<&'a str>,
    names: Option<&'a std::collections::HashMap<String, String>>,
    values: Option<&'a ExpressionValues>,
    consistent_read: bool,
    limit: Option<i64>,
    return_consumed_capacity: Option<&'a str>,
}

/// A validated read plan.
struct Plan {
    table: std::sync::Arc<Table>,
    meta: std::sync::Arc<TableMeta>,
    index: Option<IndexRef>,
    select: Select,
    projection: Option<Projection>,
    filter: Option<Condition>,
    limit: usize,
    consistent: bool,
    return_consumed_capacity: Option<String>,
}

/// The index a read addresses.
struct IndexRef {
    name: String,
    global: bool,
    key_schema: KeySchema,
    projection: IndexProjection,
}

fn check_constraints(c: &mut Constraints, request: &ReadRequest<'_>) {
    c.name("tableName", request.table_name, true);
    c.name("indexName", request.index_name, false);
    c.one_of("select", request.select, SELECT);
    c.at_least("limit", request.limit, 1);
    c.one_of(
        "returnConsumedCapacity",
        request.return_consumed_capacity,
        enums::RETURN_CONSUMED_CAPACITY,
    );
    c.one_of(
        "conditionalOperator",
        request.conditional_operator,
        enums::CONDITIONAL_OPERATOR,
    );
    if request.attributes_to_get.is_some_and(<[String]>::is_empty) {
        c.fail(
            Some("[]"),
            "attributesToGet",
            "Member must have length greater than or equal to 1",
        );
    }
}

/// Resolves the table, index, Select, projection and filter of a read, with AWS's validation.
fn plan(
    db: &Db,
    ctx: &RequestContext,
    request: &ReadRequest<'_>,
    subs: &mut Substitutions<'_>,
    filter_kind: ExpressionKind,
) -> Result<Plan, AwsError> {
    let projection = match (request.projection_expression, request.attributes_to_get) {
        (Some(text), _) => Some(expr::parse_projection(text, subs)?),
        (None, Some(names)) => Some(legacy::attributes_to_get(names)),
        (None, None) => None,
    };
    let filter = match (request.filter_expression, request.legacy_filter) {
        (Some(text), _) => Some(expr::parse_condition(text, filter_kind, subs)?),
        (None, Some((conditions, parameter))) => Some(legacy::conditions(
            conditions,
            request.conditional_operator,
            parameter,
        )?),
        (None, None) => None,
    };
    let asked = projection_parameter(request);
    let select = match request.select {
        None if asked.is_some() => Select::SpecificAttributes,
        None if request.index_name.is_some() => Select::AllProjectedAttributes,
        None => Select::AllAttributes,
        Some("ALL_ATTRIBUTES") => {
            if let Some(parameter) = asked {
                return Err(AwsError::validation(format!(
                    "Cannot specify the {parameter} when choosing to get ALL_ATTRIBUTES"
                )));
            }
            Select::AllAttributes
        }
        Some("ALL_PROJECTED_ATTRIBUTES") => {
            if let Some(parameter) = asked {
                return Err(AwsError::validation(format!(
                    "Cannot specify the {parameter} when choosing to get ALL_PROJECTED_ATTRIBUTES"
                )));
            }
            if request.index_name.is_none() {
                return Err(AwsError::validation(
                    "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
                ));
            }
            Select::AllProjectedAttributes
        }
        Some("COUNT") => {
            if let Some(parameter) = asked {
                return Err(AwsError::validation(format!(
                    "Cannot specify the {parameter} when choosing to get only the Count"
                )));
            }
            Select::Count
        }
        Some(_) => {
            if asked.is_none() {
                return Err(AwsError::validation(
                    "Must specify the AttributesToGet or ProjectionExpression when choosing to get \
                     SPECIFIC_ATTRIBUTES",
                ));
            }
            Select::SpecificAttributes
        }
    };

    let table = data_table(db, ctx, request.table_name.unwrap_or_default())?;
    let meta = table.meta();
    let index = match request.index_name {
        None => None,
        Some(name) => {
            let (definition, global) = match meta.local_indexes.iter().find(|i| i.name == name) {
                Some(local) => (local, false),
                None => match meta.global_indexes.iter().find(|i| i.name == name) {
                    Some(global) => (global, true),
                    None => {
                        return Err(AwsError::validation(format!(
                            "The table does not have the specified index: {name}"
                        )));
                    }
                },
            };
            Some(IndexRef {
                name: name.to_owned(),
                global,
                key_schema: definition.key_schema.clone(),
                projection: IndexProjection::from_wire(&definition.projection),
            })
        }
    };
    if let Some(index) = &index
        && index.global
    {
        if request.consistent_read {
            return Err(AwsError::validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        if select == Select::AllAttributes && index.projection != IndexProjection::All {
            return Err(AwsError::validation(format!(
                "{INVALID_PARAMETERS}Select type ALL_ATTRIBUTES is not supported for global secondary index {} \
                 because its projection type is not ALL",
                index.name
            )));
        }
    }
    let key_names: Vec<&str> = meta.key_schema.names().collect();
    if let Some(projection) = &projection {
        projection.check_key_attributes(&key_names)?;
    }
    Ok(Plan {
        table,
        meta: meta.clone(),
        index,
        select,
        projection,
        filter,
        limit: request.limit.map_or(usize::MAX, |l| l.max(1) as usize),
        consistent: request.consistent_read,
        return_consumed_capacity: request.return_consumed_capacity.map(str::to_owned),
    })
}

/// Which projection parameter a request used, as AWS names it in errors.
fn projection_parameter(request: &ReadRequest<'_>) -> Option<&'static str> {
    if request.attributes_to_get.is_some() {
        Some("AttributesToGet")
    } else if request.projection_expression.is_some() {
        Some("ProjectionExpression")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Key conditions

/// A condition on one key attribute, normalised so the attribute is on the left.
#[derive(Clone, Debug)]
enum KeyTest {
    Compare(Comparator, AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

/// Splits a key condition into per-attribute tests, with AWS's errors for shapes a key condition cannot take.
fn key_tests(expr: &CondExpr, out: &mut Vec<(String, KeyTest)>) -> Result<(), AwsError> {
    let invalid_operator =
        |op: &str| AwsError::validation(format!("Invalid operator used in KeyConditionExpression: {op}"));
    let attribute = |operand: &Operand| -> Result<Option<String>, AwsError> {
        match operand {
            Operand::Path(path) if path.is_nested() => Err(AwsError::validation(
                "KeyConditionExpressions cannot have conditions on nested attributes",
            )),
            Operand::Path(path) => Ok(Some(path.head().to_owned())),
            Operand::Size(_) => Err(AwsError::validation(
                "KeyConditionExpressions cannot contain nested operations",
            )),
            Operand::Value(_) => Ok(None),
        }
    };
    let value = |operand: &Operand| match operand {
        Operand::Value(v) => Some(v.clone()),
        _ => None,
    };
    let add = |name: String, test: KeyTest, out: &mut Vec<(String, KeyTest)>| {
        if out.iter().any(|(n, _)| *n == name) {
            return Err(AwsError::validation(
                "KeyConditionExpressions must only contain one condition per key",
            ));
        }
        out.push((name, test));
        Ok(())
    };
    match expr {
        CondExpr::And(parts) => {
            for part in parts {
                key_tests(part, out)?;
            }
            Ok(())
        }
        CondExpr::Or(_) => Err(invalid_operator("OR")),
        CondExpr::Not(_) => Err(invalid_operator("NOT")),
        CondExpr::In(..) => Err(invalid_operator("IN")),
        CondExpr::Compare(Comparator::Ne, ..) => Err(invalid_operator("<>")),
        CondExpr::AttributeExists(_) => Err(invalid_operator("attribute_exists")),
        CondExpr::AttributeNotExists(_) => Err(invalid_operator("attribute_not_exists")),
        CondExpr::AttributeType(..) => Err(invalid_operator("attribute_type")),
        CondExpr::Contains(..) => Err(invalid_operator("contains")),
        CondExpr::Compare(op, left, right) => {
            let (l, r) = (attribute(left)?, attribute(right)?);
            let (name, op, operand) = match (l, r) {
                (Some(_), Some(_)) => {
                    return Err(AwsError::validation(
                        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
                    ));
                }
                (None, None) => {
                    return Err(AwsError::validation(
                        "Invalid condition in KeyConditionExpression: No key attribute specified",
                    ));
                }
                (Some(name), None) => (name, *op, right),
                (None, Some(name)) => (name, flip(*op), left),
            };
            let value = value(operand).ok_or_else(|| invalid_operator(op.symbol()))?;
            add(name, KeyTest::Compare(op, value), out)
        }
        CondExpr::Between(subject, low, high) => {
            let Some(name) = attribute(subject)? else {
                return Err(AwsError::validation(
                    "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as \
                     its first operand",
                ));
            };
            if attribute(low)?.is_some() || attribute(high)?.is_some() {
                return Err(AwsError::validation(
                    "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
                ));
            }
            let (Some(low), Some(high)) = (value(low), value(high)) else {
                return Err(invalid_operator("BETWEEN"));
            };
            add(name, KeyTest::Between(low, high), out)
        }
        CondExpr::BeginsWith(subject, prefix) => {
            let Some(name) = attribute(subject)? else {
                return Err(AwsError::validation(
                    "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute \
                     as its first operand",
                ));
            };
            if attribute(prefix)?.is_some() {
                return Err(AwsError::validation(
                    "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
                ));
            }
            let prefix = value(prefix).ok_or_else(|| invalid_operator("begins_with"))?;
            add(name, KeyTest::BeginsWith(prefix), out)
        }
    }
}

fn flip(op: Comparator) -> Comparator {
    match op {
        Comparator::Lt => Comparator::Gt,
        Comparator::Le => Comparator::Ge,
        Comparator::Gt => Comparator::Lt,
        Comparator::Ge => Comparator::Le,
        other => other,
    }
}

/// The byte range of a partition, narrowed by a sort-key test.
struct KeyRange {
    partition: AttributeValue,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
}

/// The smallest byte string greater than every string that starts with `prefix`.
fn successor(prefix: &[u8]) -> Bound<Vec<u8>> {
    let mut bytes = prefix.to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0xFF {
            bytes.push(last + 1);
            return Bound::Excluded(bytes);
        }
    }
    Bound::Unbounded
}

fn with_value(prefix: &[u8], value: &AttributeValue) -> Vec<u8> {
    let mut bytes = prefix.to_vec();
    key::encode_key_value(&mut bytes, value);
    bytes
}

/// Checks a key condition against the key schema it queries and turns it into a byte range.
fn key_range(tests: Vec<(String, KeyTest)>, schema: &KeySchema) -> Result<KeyRange, AwsError> {
    let not_supported = || AwsError::validation("Query key condition not supported");
    let type_mismatch = || {
        AwsError::validation(format!(
            "{INVALID_PARAMETERS}Condition parameter type does not match schema type"
        ))
    };
    let mut partition = None;
    let mut sort = None;
    for (name, test) in tests {
        if name == schema.hash.name {
            match test {
                KeyTest::Compare(Comparator::Eq, value) => partition = Some(value),
                _ => return Err(not_supported()),
            }
        } else if schema.range.as_ref().is_some_and(|r| r.name == name) {
            sort = Some(test);
        } else {
            return Err(not_supported());
        }
    }
    let Some(partition) = partition else {
        return Err(AwsError::validation(format!(
            "Query condition missed key schema element: {}",
            schema.hash.name
        )));
    };
    if partition.attribute_type().as_str() != schema.hash.ty.as_str() {
        return Err(type_mismatch());
    }
    let prefix = key::partition_prefix(&partition);
    let whole = (Bound::Included(prefix.clone()), successor(&prefix));
    let (lower, upper) = match (sort, &schema.range) {
        (None, _) => whole,
        (Some(test), Some(range)) => {
            let values: Vec<&AttributeValue> = match &test {
                KeyTest::Compare(_, v) | KeyTest::BeginsWith(v) => vec![v],
                KeyTest::Between(a, b) => vec![a, b],
            };
            if values
                .iter()
                .any(|v| v.attribute_type().as_str() != range.ty.as_str())
            {
                return Err(type_mismatch());
            }
            match test {
                KeyTest::Compare(Comparator::Eq, v) => {
                    let at = with_value(&prefix, &v);
                    (Bound::Included(at.clone()), successor(&at))
                }
                KeyTest::Compare(Comparator::Lt, v) => (whole.0, Bound::Excluded(with_value(&prefix, &v))),
                KeyTest::Compare(Comparator::Le, v) => (whole.0, successor(&with_value(&prefix, &v))),
                KeyTest::Compare(Comparator::Gt, v) => (
                    successor(&with_value(&prefix, &v)).map_excluded_to_included(),
                    whole.1,
                ),
                KeyTest::Compare(Comparator::Ge, v) => (Bound::Included(with_value(&prefix, &v)), whole.1),
                KeyTest::Compare(Comparator::Ne, _) => return Err(not_supported()),
                KeyTest::Between(low, high) => {
                    if key_order(&low) > key_order(&high) {
                        return Err(AwsError::validation(format!(
                            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater \
                             than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound \
                             operand: AttributeValue: {}",
                            brief(&low),
                            brief(&high)
                        )));
                    }
                    (
                        Bound::Included(with_value(&prefix, &low)),
                        successor(&with_value(&prefix, &high)),
                    )
                }
                KeyTest::BeginsWith(p) => {
                    if matches!(p, AttributeValue::N(_)) {
                        return Err(AwsError::validation(
                            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; \
                             operator or function: begins_with, operand type: N",
                        ));
                    }
                    let mut start = prefix.clone();
                    key::encode_prefix(&mut start, &p);
                    let end = successor(&start);
                    (Bound::Included(start), end)
                }
            }
        }
        (Some(_), None) => return Err(not_supported()),
    };
    Ok(KeyRange {
        partition,
        lower,
        upper,
    })
}

/// An excluded successor bound used as a lower bound is an included one.
trait LowerBound {
    fn map_excluded_to_included(self) -> Bound<Vec<u8>>;
}

impl LowerBound for Bound<Vec<u8>> {
    fn map_excluded_to_included(self) -> Bound<Vec<u8>> {
        match self {
            Bound::Excluded(bytes) => Bound::Included(bytes),
            other => other,
        }
    }
}

fn key_order(value: &AttributeValue) -> Vec<u8> {
    let mut bytes = Vec::new();
    key::encode_key_value(&mut bytes, value);
    bytes
}

/// A value as AWS prints it in BETWEEN errors: `{S:a}`, `{N:1}`.
fn brief(value: &AttributeValue) -> String {
    match value {
        AttributeValue::S(s) => format!("{{S:{s}}}"),
        AttributeValue::N(n) => format!("{{N:{n}}}"),
        other => format!("{{{}:...}}", other.attribute_type().as_str()),
    }
}

/// Top-level attribute names a condition reads.
fn condition_attributes(expr: &CondExpr, out: &mut Vec<String>) {
    let operand = |operand: &Operand, out: &mut Vec<String>| {
        let mut current = operand;
        while let Operand::Size(inner) = current {
            current = inner;
        }
        if let Operand::Path(path) = current {
            out.push(path.head().to_owned());
        }
    };
    match expr {
        CondExpr::Compare(_, a, b) | CondExpr::BeginsWith(a, b) | CondExpr::Contains(a, b) => {
            operand(a, out);
            operand(b, out);
        }
        CondExpr::Between(a, b, c) => {
            operand(a, out);
            operand(b, out);
            operand(c, out);
        }
        CondExpr::In(a, list) => {
            operand(a, out);
            list.iter().for_each(|o| operand(o, out));
        }
        CondExpr::AttributeExists(path) | CondExpr::AttributeNotExists(path) => {
            out.push(path.head().to_owned())
        }
        CondExpr::AttributeType(a, _) => operand(a, out),
        CondExpr::Not(inner) => condition_attributes(inner, out),
        CondExpr::And(parts) | CondExpr::Or(parts) => parts.iter().for_each(|p| condition_attributes(p, out)),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading pages

/// The outcome of walking a range.
struct Page {
    items: Vec<Item>,
    count: u64,
    scanned: u64,
    read_bytes: usize,
    last_key: Option<Item>,
}

impl Plan {
    /// The key schemas whose attributes make up `LastEvaluatedKey`.
    fn start_key_item(&self, item: &Item) -> Item {
        let mut key = self.meta.key_schema.key_attributes(item);
        if let Some(index) = &self.index {
            key.extend(index.key_schema.key_attributes(item));
        }
        key
    }

    /// The stored-key bytes of an `ExclusiveStartKey`, checked against the schema.
    fn start_key_bytes(&self, start: &Item) -> Result<Vec<u8>, AwsError> {
        let invalid = || {
            AwsError::validation(
                "The provided starting key is invalid: The provided key element does not match the schema",
            )
        };
        let table_names: Vec<&str> = self.meta.key_schema.names().collect();
        let mut expected: Vec<&str> = table_names.clone();
        if let Some(index) = &self.index {
            expected.extend(index.key_schema.names().filter(|n| !table_names.contains(n)));
        }
        if start.len() != expected.len() || expected.iter().any(|n| !start.contains_key(*n)) {
            return Err(invalid());
        }
        let table_key: Item = table_names
            .iter()
            .filter_map(|n| start.get_key_value(*n))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let table_key = self.meta.key_schema.key_of_key_param(&table_key)?;
        match &self.index {
            None => Ok(table_key.as_bytes().to_vec()),
            Some(index) => {
                let index_key: Item = index
                    .key_schema
                    .names()
                    .filter_map(|n| start.get_key_value(n))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let index_key = index.key_schema.key_of_key_param(&index_key)?;
                let mut bytes = index_key.as_bytes().to_vec();
                bytes.extend_from_slice(table_key.as_bytes());
                Ok(bytes)
            }
        }
    }

    /// The item as this read returns it (index projection, Select, ProjectionExpression).
    fn shape(&self, item: &Item) -> Item {
        match &self.projection {
            Some(projection) => projection.apply(item),
            None => item.clone(),
        }
    }

    /// Walks `entries` (stored key bytes and items, already in read order), applying Limit, the 1 MB cap and
    /// the filter.
    fn read<'a>(&self, entries: impl Iterator<Item = (&'a [u8], &'a Item)>) -> Page {
        let mut page = Page {
            items: Vec::new(),
            count: 0,
            scanned: 0,
            read_bytes: 0,
            last_key: None,
        };
        let mut entries = entries.peekable();
        while let Some((_, stored)) = entries.next() {
            let visible = match &self.index {
                Some(index) if index.global || self.select == Select::AllProjectedAttributes => {
                    std::borrow::Cow::Owned(project_index(index, &self.meta.key_schema, stored))
                }
                _ => std::borrow::Cow::Borrowed(stored),
            };
            page.scanned += 1;
            page.read_bytes += item_size(&visible);
            let keep = match &self.filter {
                Some(filter) => filter.evaluate(&visible).unwrap_or(false),
                None => true,
            };
            if keep {
                page.count += 1;
                if self.select != Select::Count {
                    page.items.push(self.shape(&visible));
                }
            }
            if page.scanned as usize >= self.limit || page.read_bytes >= MAX_PAGE_BYTES {
                if entries.peek().is_some() || page.scanned as usize >= self.limit {
                    page.last_key = Some(self.start_key_item(stored));
                }
                break;
            }
        }
        page
    }

    fn output(&self, page: Page) -> QueryOutput {
        let units = page.read_bytes.div_ceil(4096).max(1) as f64;
        let units = if self.consistent { units } else { units / 2.0 };
        let consumed = match self.return_consumed_capacity.as_deref() {
            Some("TOTAL") | Some("INDEXES") => Some(ConsumedCapacity {
                table_name: self.table.name.clone(),
                capacity_units: units,
                read_capacity_units: None,
                write_capacity_units: None,
                table: (self.return_consumed_capacity.as_deref() == Some("INDEXES") && self.index.is_none())
                    .then_some(Capacity {
                        capacity_units: units,
                        read_capacity_units: None,
                        write_capacity_units: None,
                    }),
            }),
            _ => None,
        };
        QueryOutput {
            items: (self.select != Select::Count).then_some(page.items),
            count: page.count,
            scanned_count: page.scanned,
            last_evaluated_key: page.last_key,
            consumed_capacity: consumed,
        }
    }
}

fn project_index(index: &IndexRef, table_key: &KeySchema, item: &Item) -> Item {
    let include: &[String] = match &index.projection {
        IndexProjection::All => return item.clone(),
        IndexProjection::KeysOnly => &[],
        IndexProjection::Include(names) => names,
    };
    item.iter()
        .filter(|(name, _)| {
            table_key.contains(name) || index.key_schema.contains(name) || include.iter().any(|n| n == *name)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Items of the table or index in a byte range, as (stored key bytes, item).
fn range_entries<'a>(
    data: &'a TableData,
    index: Option<&'a IndexData>,
    lower: Bound<&'a [u8]>,
    upper: Bound<&'a [u8]>,
    forward: bool,
) -> Box<dyn Iterator<Item = (&'a [u8], &'a Item)> + 'a> {
    match index {
        None => Box::new(
            data.items_in((lower, upper), forward)
                .map(|(k, item)| (k.as_bytes(), item)),
        ),
        Some(index) => Box::new(index.entries_in((lower, upper), forward).filter_map(
            move |(entry, table_key): (&'a [u8], &'a ItemKey)| data.get(table_key).map(|item| (entry, item)),
        )),
    }
}

fn as_ref_bound(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(b) => Bound::Included(b.as_slice()),
        Bound::Excluded(b) => Bound::Excluded(b.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

/// Query.
pub fn query(db: &Db, ctx: &RequestContext, input: QueryInput) -> Result<QueryOutput, AwsError> {
    let request = ReadRequest {
        table_name: input.table_name.as_deref(),
        index_name: input.index_name.as_deref(),
        select: input.select.as_deref(),
        attributes_to_get: input.attributes_to_get.as_deref(),
        projection_expression: input.projection_expression.as_ref(),
        filter_expression: input.filter_expression.as_ref(),
        legacy_filter: input.query_filter.as_ref().map(|f| (f, "QueryFilter")),
        conditional_operator: input.conditional_operator.as_deref(),
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        consistent_read: input.consistent_read.unwrap_or(false),
        limit: input.limit,
        return_consumed_capacity: input.return_consumed_capacity.as_deref(),
    };
    let mut c = Constraints::new();
    check_constraints(&mut c, &request);
    c.finish()?;
    let expressions = [
        ("ProjectionExpression", input.projection_expression.as_ref()),
        ("FilterExpression", input.filter_expression.as_ref()),
        ("KeyConditionExpression", input.key_condition_expression.as_ref()),
    ];
    let legacy = [
        ("AttributesToGet", input.attributes_to_get.is_some()),
        ("QueryFilter", input.query_filter.is_some()),
        ("KeyConditions", input.key_conditions.is_some()),
    ];
    let mut subs = ExpressionParams {
        expressions: &expressions,
        legacy: &legacy,
        names: request.names,
        values: request.values,
        values_without_expressions: "KeyConditionExpression is null",
    }
    .check()?;
    let key_condition = match (&input.key_condition_expression, &input.key_conditions) {
        (Some(text), _) => expr::parse_condition(text, ExpressionKind::KeyCondition, &mut subs)?,
        (None, Some(conditions)) => legacy::conditions(conditions, None, "KeyConditions")?,
        (None, None) => {
            return Err(AwsError::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        }
    };
    let plan = plan(db, ctx, &request, &mut subs, ExpressionKind::Filter)?;
    subs.finish()?;

    let mut tests = Vec::new();
    key_tests(key_condition.expr(), &mut tests).map_err(|err| {
        if input.key_conditions.is_some()
            && err
                .message()
                .is_some_and(|m| m.starts_with("Invalid operator used"))
        {
            AwsError::validation("Attempted conditional constraint is not an indexable operation")
        } else {
            err
        }
    })?;
    let schema = plan
        .index
        .as_ref()
        .map_or(&plan.meta.key_schema, |i| &i.key_schema);
    let range = key_range(tests, schema)?;
    if let Some(filter) = &plan.filter {
        let mut read = Vec::new();
        condition_attributes(filter.expr(), &mut read);
        if let Some(key) = read.iter().find(|n| schema.contains(n)) {
            let parameter = if input.query_filter.is_some() {
                "QueryFilter"
            } else {
                "Filter Expression"
            };
            return Err(AwsError::validation(format!(
                "{parameter} can only contain non-primary key attributes: Primary key attribute: {key}"
            )));
        }
    }
    let forward = input.scan_index_forward.unwrap_or(true);
    let start = match &input.exclusive_start_key {
        Some(start) => {
            let bytes = plan.start_key_bytes(start)?;
            let prefix = key::partition_prefix(&range.partition);
            let inside_lower = match &range.lower {
                Bound::Included(b) => bytes.as_slice() >= b.as_slice(),
                Bound::Excluded(b) => bytes.as_slice() > b.as_slice(),
                Bound::Unbounded => true,
            };
            let inside_upper = match &range.upper {
                Bound::Included(b) => bytes.as_slice() <= b.as_slice(),
                Bound::Excluded(b) => bytes.as_slice() < b.as_slice(),
                Bound::Unbounded => true,
            };
            if !bytes.starts_with(&prefix) || !inside_lower || !inside_upper {
                return Err(AwsError::validation(
                    "The provided starting key is outside query boundaries based on provided conditions",
                ));
            }
            Some(bytes)
        }
        None => None,
    };
    let data = plan.table.read_data();
    let index = match &plan.index {
        Some(i) => Some(
            data.index(&i.name)
                .ok_or_else(|| AwsError::internal("index missing from table data"))?,
        ),
        None => None,
    };
    let (lower, upper) = match (&start, forward) {
        (Some(start), true) => (Bound::Excluded(start.as_slice()), as_ref_bound(&range.upper)),
        (Some(start), false) => (as_ref_bound(&range.lower), Bound::Excluded(start.as_slice())),
        (None, _) => (as_ref_bound(&range.lower), as_ref_bound(&range.upper)),
    };
    let page = plan.read(range_entries(&data, index, lower, upper, forward));
    drop(data);
    Ok(plan.output(page))
}

/// Scan, with parallel segments.
pub fn scan(db: &Db, ctx: &RequestContext, input: ScanInput) -> Result<QueryOutput, AwsError> {
    let request = ReadRequest {
        table_name: input.table_name.as_deref(),
        index_name: input.index_name.as_deref(),
        select: input.select.as_deref(),
        attributes_to_get: input.attributes_to_get.as_deref(),
        projection_expression: input.projection_expression.as_ref(),
        filter_expression: input.filter_expression.as_ref(),
        legacy_filter: input.scan_filter.as_ref().map(|f| (f, "ScanFilter")),
        conditional_operator: input.conditional_operator.as_deref(),
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        consistent_read: input.consistent_read.unwrap_or(false),
        limit: input.limit,
        return_consumed_capacity: input.return_consumed_capacity.as_deref(),
    };
    let mut c = Constraints::new();
    check_constraints(&mut c, &request);
    c.at_least("segment", input.segment, 0);
    c.at_most("segment", input.segment, 999_999);
    c.at_least("totalSegments", input.total_segments, 1);
    c.at_most("totalSegments", input.total_segments, 1_000_000);
    c.finish()?;
    let segment = match (input.segment, input.total_segments) {
        (Some(_), None) => {
            return Err(AwsError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter \
                 is present",
            ));
        }
        (None, Some(_)) => {
            return Err(AwsError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments \
                 is present",
            ));
        }
        (Some(segment), Some(total)) if segment >= total => {
            return Err(AwsError::validation(format!(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: \
                 {segment} is not less than TotalSegments: {total}"
            )));
        }
        (Some(segment), Some(total)) => Some((segment as u64, total as u64)),
        (None, None) => None,
    };
    let expressions = [
        ("ProjectionExpression", input.projection_expression.as_ref()),
        ("FilterExpression", input.filter_expression.as_ref()),
    ];
    let legacy = [
        ("AttributesToGet", input.attributes_to_get.is_some()),
        ("ScanFilter", input.scan_filter.is_some()),
    ];
    let mut subs = ExpressionParams {
        expressions: &expressions,
        legacy: &legacy,
        names: request.names,
        values: request.values,
        values_without_expressions: "FilterExpression is null",
    }
    .check()?;
    let plan = plan(db, ctx, &request, &mut subs, ExpressionKind::Filter)?;
    subs.finish()?;

    // A segment is a slice of the partition-hash space; entries start with that hash.
    let (segment_lower, segment_upper) = match segment {
        None => (Bound::Unbounded, Bound::Unbounded),
        Some((segment, total)) => {
            let at = |s: u64| ((u128::from(s) << 64) / u128::from(total)) as u64;
            let lower = Bound::Included(at(segment).to_be_bytes().to_vec());
            let upper = if segment + 1 == total {
                Bound::Unbounded
            } else {
                Bound::Excluded(at(segment + 1).to_be_bytes().to_vec())
            };
            (lower, upper)
        }
    };
    let start = match &input.exclusive_start_key {
        Some(start) => {
            let bytes = plan.start_key_bytes(start)?;
            let inside = match (&segment_lower, &segment_upper) {
                (Bound::Included(lo), upper) => {
                    bytes.as_slice() >= lo.as_slice()
                        && match upper {
                            Bound::Excluded(hi) => bytes.as_slice() < hi.as_slice(),
                            _ => true,
                        }
                }
                _ => true,
            };
            if !inside {
                let (s, t) = segment.unwrap_or((0, 1));
                return Err(AwsError::validation(format!(
                    "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey \
                     with correct Segment. TotalSegments: {t} Segment: {s}"
                )));
            }
            Some(bytes)
        }
        None => None,
    };
    let data = plan.table.read_data();
    let index = match &plan.index {
        Some(i) => Some(
            data.index(&i.name)
                .ok_or_else(|| AwsError::internal("index missing from table data"))?,
        ),
        None => None,
    };
    let lower = match &start {
        Some(start) => Bound::Excluded(start.as_slice()),
        None => as_ref_bound(&segment_lower),
    };
    let page = plan.read(range_entries(
        &data,
        index,
        lower,
        as_ref_bound(&segment_upper),
        true,
    ));
    drop(data);
    Ok(plan.output(page))
}
