//! BatchGetItem and BatchWriteItem: many keys or writes across tables in one request.
//!
//! As on AWS, the whole request is validated (constraints, expressions, tables, keys, duplicates) before anything
//! is read or written. The writes then go through the same [`PreparedWrite`](super::items::PreparedWrite) as
//! PutItem and DeleteItem, one table's item lock at a time: a batch is not a transaction, but every write in it is
//! atomic for its item. dynastream processes every request, so UnprocessedItems is always `{}`; BatchGetItem
//! stops at AWS's 16 MB response limit and hands the remaining keys back in UnprocessedKeys.

use std::{collections::HashSet, sync::Arc};

use serde::Serialize;

use crate::{
    dynamodb::{
        expr::Projection,
        key::ItemKey,
        table::Table,
        validate::{Constraints, enums},
        value::item_size,
        wire::{self, KeysAndAttributes, TableMap},
    },
    edge::{AwsError, RequestContext},
};

use super::{
    Db,
    items::{
        CapacityAxis, ItemError, ItemWrite, MAX_ITEM_BYTES, SCHEMA_MISMATCH, TableUnits, WriteExpressions,
        data_table, java_string, read_projection, read_units,
    },
};

/// Most keys one BatchGetItem reads, per table and in all.
pub const MAX_BATCH_GET_KEYS: usize = 100;
/// Most writes one BatchWriteItem makes, per table and in all.
pub const MAX_BATCH_WRITES: usize = 25;
/// Largest BatchGetItem response, as the sizes of the items returned; the keys beyond it are left unprocessed.
pub const MAX_BATCH_GET_BYTES: usize = 16 * 1024 * 1024;

const MAP_KEYS_CONSTRAINT: &str = "Map keys must satisfy constraint: [Member must have length less than or equal \
                                   to 255, Member must have length greater than or equal to 3, Member must \
                                   satisfy regular expression pattern: [a-zA-Z0-9_.-]+]";
const MAP_VALUE_CONSTRAINT: &str = "Map value must satisfy constraint: [Member must have length less than or \
                                    equal to 25, Member must have length greater than or equal to 1]";
const DUPLICATE_KEYS: &str = "Provided list of item keys contains duplicates";

/// Whether a table name has 3 to 255 characters of [`NAME_PATTERN`](crate::dynamodb::validate::NAME_PATTERN).
fn is_table_name(name: &str) -> bool {
    (3..=255).contains(&name.chars().count())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The constraints on RequestItems itself: present, not empty, table names valid.
fn check_request_items<T: Serialize>(c: &mut Constraints, request_items: Option<&TableMap<T>>) {
    let Some(request_items) = request_items else {
        c.not_null::<()>("requestItems", None);
        return;
    };
    if request_items.0.is_empty() {
        c.fail(
            Some("{}"),
            "requestItems",
            "Member must have length greater than or equal to 1",
        );
    }
    if request_items.0.iter().any(|(name, _)| !is_table_name(name)) {
        c.fail(
            Some(&java_string(request_items)),
            "requestItems",
            MAP_KEYS_CONSTRAINT,
        );
    }
}

/// One table's part of a BatchGetItem, validated.
struct TableRead {
    table: Arc<Table>,
    request: KeysAndAttributes,
    projection: Option<Projection>,
    keys: Vec<ItemKey>,
}

/// BatchGetItem.
pub fn batch_get_item(
    db: &Db,
    ctx: &RequestContext,
    input: wire::BatchGetItemInput,
) -> Result<wire::BatchGetItemOutput, AwsError> {
    let mut c = Constraints::new();
    c.one_of(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        enums::RETURN_CONSUMED_CAPACITY,
    );
    check_request_items(&mut c, input.request_items.as_ref());
    for (name, request) in input.request_items.iter().flat_map(|items| &items.0) {
        let path = format!("requestItems.{name}.member");
        match &request.keys {
            None => c.not_null::<()>(&format!("{path}.keys"), None),
            Some(keys) if keys.is_empty() => c.fail(
                Some("[]"),
                &format!("{path}.keys"),
                "Member must have length greater than or equal to 1",
            ),
            Some(keys) if keys.len() > MAX_BATCH_GET_KEYS => c.fail(
                Some(&java_string(keys)),
                &format!("{path}.keys"),
                "Member must have length less than or equal to 100",
            ),
            Some(_) => {}
        }
        if let Some(attributes) = &request.attributes_to_get {
            let path = format!("{path}.attributesToGet");
            if attributes.is_empty() {
                c.fail(
                    Some("[]"),
                    &path,
                    "Member must have length greater than or equal to 1",
                );
            } else if attributes.len() > 255 {
                c.fail(
                    Some(&java_string(attributes)),
                    &path,
                    "Member must have length less than or equal to 255",
                );
            }
        }
    }
    c.finish()?;
    let request_items = input.request_items.unwrap_or_default();

    // NB: AWS refuses ProjectionExpression in one table's part and AttributesToGet in another's as it refuses
    // both in one part.
    let expression = request_items
        .0
        .iter()
        .any(|(_, r)| r.projection_expression.is_some());
    let legacy = request_items.0.iter().any(|(_, r)| r.attributes_to_get.is_some());
    if expression && legacy {
        return Err(AwsError::validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression \
             parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        ));
    }
    let mut projections = Vec::with_capacity(request_items.0.len());
    let mut total = 0;
    for (_, request) in &request_items.0 {
        projections.push(read_projection(
            request.projection_expression.as_ref(),
            request.attributes_to_get.as_deref(),
            request.expression_attribute_names.as_ref(),
        )?);
        if let Some(attributes) = &request.attributes_to_get
            && let Some(duplicate) = attributes
                .iter()
                .enumerate()
                .find_map(|(i, a)| attributes[..i].contains(a).then_some(a))
        {
            return Err(AwsError::validation(format!(
                "One or more parameter values were invalid: Duplicate value in attribute name: {duplicate}"
            )));
        }
        let keys = request.keys.as_deref().unwrap_or_default();
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                return Err(AwsError::validation(DUPLICATE_KEYS));
            }
            total += 1;
            if total > MAX_BATCH_GET_KEYS {
                return Err(AwsError::validation(
                    "Too many items requested for the BatchGetItem call",
                ));
            }
        }
    }

    let mut reads = Vec::with_capacity(request_items.0.len());
    for ((name, request), projection) in request_items.0.into_iter().zip(projections) {
        let table = data_table(db, ctx, &name)?;
        let meta = table.meta();
        let keys = request
            .keys
            .iter()
            .flatten()
            .map(|key| meta.key_schema.key_of_key_param(key))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(projection) = &projection {
            projection.check_key_attributes(&meta.key_schema.names().collect::<Vec<_>>())?;
        }
        reads.push(TableRead {
            table,
            request,
            projection,
            keys,
        });
    }

    let mut responses = TableMap::default();
    let mut unprocessed = TableMap::default();
    let mut units = TableUnits::default();
    let mut bytes = 0;
    let mut full = false;
    for read in reads {
        let consistent = read.request.consistent_read.unwrap_or(false);
        let mut items = Vec::new();
        let mut left = Vec::new();
        units.add(&read.table.name, 0.0);
        {
            let data = read.table.read_data();
            let key_params = read.request.keys.iter().flatten();
            for (key, key_param) in read.keys.iter().zip(key_params) {
                if full {
                    left.push(key_param.clone());
                    continue;
                }
                let Some(stored) = data.get(key) else {
                    units.add(&read.table.name, read_units(0, consistent));
                    continue;
                };
                let item = match &read.projection {
                    Some(projection) => projection.apply(stored),
                    None => stored.clone(),
                };
                let size = item_size(&item);
                if bytes + size > MAX_BATCH_GET_BYTES {
                    full = true;
                    left.push(key_param.clone());
                    continue;
                }
                bytes += size;
                units.add(&read.table.name, read_units(item_size(stored), consistent));
                items.push(item);
            }
        }
        if !left.is_empty() {
            // NB: AWS hands back each table's part as it was asked for, with only the keys left to read.
            unprocessed.0.push((
                read.table.name.clone(),
                KeysAndAttributes {
                    keys: Some(left),
                    ..read.request
                },
            ));
        }
        responses.0.push((read.table.name.clone(), items));
    }
    Ok(wire::BatchGetItemOutput {
        responses,
        unprocessed_keys: unprocessed,
        consumed_capacity: units.consumed(input.return_consumed_capacity.as_deref(), CapacityAxis::Plain),
    })
}

/// BatchWriteItem.
pub fn batch_write_item(
    db: &Db,
    ctx: &RequestContext,
    input: wire::BatchWriteItemInput,
) -> Result<wire::BatchWriteItemOutput, AwsError> {
    let mut c = Constraints::new();
    c.one_of(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        enums::RETURN_CONSUMED_CAPACITY,
    );
    c.one_of(
        "returnItemCollectionMetrics",
        input.return_item_collection_metrics.as_deref(),
        enums::RETURN_ITEM_COLLECTION_METRICS,
    );
    check_request_items(&mut c, input.request_items.as_ref());
    if let Some(request_items) = &input.request_items {
        if request_items
            .0
            .iter()
            .any(|(_, requests)| requests.is_empty() || requests.len() > MAX_BATCH_WRITES)
        {
            c.fail(
                Some(&java_string(request_items)),
                "requestItems",
                MAP_VALUE_CONSTRAINT,
            );
        }
        for (name, requests) in &request_items.0 {
            for (i, request) in requests.iter().enumerate() {
                let path = format!("requestItems.{name}.member.{}.member", i + 1);
                if let Some(delete) = &request.delete_request {
                    c.not_null(&format!("{path}.deleteRequest.key"), delete.key.as_ref());
                }
                if let Some(put) = &request.put_request {
                    c.not_null(&format!("{path}.putRequest.item"), put.item.as_ref());
                }
            }
        }
    }
    c.finish()?;
    let request_items = input.request_items.unwrap_or_default();

    if request_items
        .0
        .iter()
        .map(|(_, requests)| requests.len())
        .sum::<usize>()
        > MAX_BATCH_WRITES
    {
        return Err(AwsError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    let mut parsed = Vec::with_capacity(request_items.0.len());
    for (name, requests) in request_items.0 {
        let mut writes = Vec::with_capacity(requests.len());
        for request in requests {
            let write = match (request.put_request, request.delete_request) {
                (Some(put), None) => {
                    let item = put.item.unwrap_or_default();
                    if item_size(&item) > MAX_ITEM_BYTES {
                        return Err(AwsError::validation(
                            "Item size has exceeded the maximum allowed size",
                        ));
                    }
                    ItemWrite::put(item, &WriteExpressions::default(), None)?
                }
                (None, Some(delete)) => {
                    ItemWrite::delete(delete.key.unwrap_or_default(), &WriteExpressions::default(), None)?
                }
                // NB: AWS's text for a WriteRequest with neither (or both) of its members, as recorded by dynalite.
                _ => {
                    return Err(AwsError::validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the \
                         supported datatypes",
                    ));
                }
            };
            writes.push(write);
        }
        parsed.push((name, writes));
    }

    let mut prepared = Vec::with_capacity(parsed.len());
    for (name, writes) in parsed {
        let table = data_table(db, ctx, &name)?;
        let meta = table.meta();
        let mut seen = HashSet::with_capacity(writes.len());
        let mut ready = Vec::with_capacity(writes.len());
        for write in writes {
            let write = write.prepare(&meta).map_err(|error| match error {
                // NB: in a batch AWS words every key that does not fit the schema alike, even a put's.
                ItemError::TableKey(_) => AwsError::validation(SCHEMA_MISMATCH),
                other => other.into(),
            })?;
            if !seen.insert(write.key().clone()) {
                return Err(AwsError::validation(DUPLICATE_KEYS));
            }
            ready.push(write);
        }
        prepared.push((table, meta, ready));
    }

    let mut units = TableUnits::default();
    for (table, meta, writes) in prepared {
        let mut data = table.data();
        for write in writes {
            let checked = write.check(&meta, &data)?;
            let committed = write.commit(checked, &mut data);
            units.add(&table.name, committed.write_units());
        }
    }
    Ok(wire::BatchWriteItemOutput {
        unprocessed_items: TableMap::default(),
        consumed_capacity: units.consumed(input.return_consumed_capacity.as_deref(), CapacityAxis::Plain),
    })
}
