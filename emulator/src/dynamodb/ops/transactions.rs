//! TransactWriteItems and TransactGetItems: all-or-nothing writes and consistent reads across items and tables.
//!
//! Atomicity comes from locks, not from optimistic concurrency: a transaction locks the items of every table it
//! touches ([`Table::data`]) in one global order, by table ARN, and holds them all for the whole check-then-apply
//! (or the whole read). Every other reader and writer takes the same locks, so nothing can see half a
//! transaction, two transactions cannot deadlock, and AWS's TransactionConflictException never arises.
//!
//! Each action goes through the same [`PreparedWrite`] as the single-item operations: every action is checked
//! against the locked items first, and only when all pass are they committed. A failed check cancels the
//! transaction with one reason per action, in request order.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use parking_lot::{Mutex, RwLockWriteGuard};
use serde_json::Value;

use crate::{
    aws_error,
    dynamodb::{
        expr::Projection,
        key::ItemKey,
        table::{Table, TableData, TableMeta},
        validate::{Constraints, enums},
        value::{Item, item_size},
        wire::{self, CancellationReason, ItemResponse, TransactWriteItem},
    },
    edge::{AwsError, RequestContext},
};

use super::{
    Db,
    items::{
        CONDITION_FAILED, CapacityAxis, ItemError, ItemWrite, MAX_ITEM_BYTES, PreparedWrite, TableUnits,
        WriteExpressions, WriteFailure, data_table, java_string, key_of_key_param, read_projection,
        read_units,
    },
};

/// Most actions in one transaction.
pub const MAX_TRANSACT_ITEMS: usize = 100;
/// How long after a TransactWriteItems completes its ClientRequestToken makes a repeat of it a no-op.
pub const CLIENT_TOKEN_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Transactions cost twice the capacity of the same reads and writes done singly.
const TRANSACTION_FACTOR: f64 = 2.0;

const MULTIPLE_OPERATIONS: &str = "Transaction request cannot include multiple operations on one item";
// NB: AWS's text for this case is not recorded anywhere we could find; this is the API reference's description
// of the exception.
const IDEMPOTENT_MISMATCH: &str = "DynamoDB rejected the request because you retried a request with a different \
                                   payload but with an idempotent token that was already used.";

// ---------------------------------------------------------------------------------------------------------------
// ClientRequestToken

/// The ClientRequestTokens of recent TransactWriteItems calls in one account and region.
#[derive(Debug, Default)]
pub struct ClientTokens(Mutex<HashMap<String, TokenUse>>);

/// A token's first request, as later requests with the token are compared with and answered from.
#[derive(Debug)]
struct TokenUse {
    /// The request's parameters, compared as JSON values (so member order does not matter, as on AWS).
    fingerprint: Value,
    /// `None` while the first request runs; then when it completed and what a repeat is charged.
    done: Option<(Instant, TableUnits)>,
}

/// What a request with a token may do.
enum TokenClaim<'a> {
    /// Run: the token is new (or expired). The guard forgets the token unless the transaction succeeds.
    Run(TokenGuard<'a>),
    /// Answer as the first request was answered, without applying anything: a repeat reads, so it is charged
    /// these read units.
    Replay(TableUnits),
}

/// A token claimed by a running transaction.
struct TokenGuard<'a> {
    tokens: &'a ClientTokens,
    token: String,
    finished: bool,
}

impl ClientTokens {
    fn claim(&self, token: &str, fingerprint: Value) -> Result<TokenClaim<'_>, AwsError> {
        let mut uses = self.0.lock();
        uses.retain(|_, u| {
            u.done
                .as_ref()
                .is_none_or(|(at, _)| at.elapsed() < CLIENT_TOKEN_WINDOW)
        });
        match uses.get(token) {
            Some(earlier) if earlier.fingerprint != fingerprint => Err(aws_error!(
                IdempotentParameterMismatchException,
                "{IDEMPOTENT_MISMATCH}"
            )),
            Some(TokenUse {
                done: Some((_, units)),
                ..
            }) => Ok(TokenClaim::Replay(units.clone())),
            Some(TokenUse { done: None, .. }) => Err(aws_error!(
                TransactionInProgressException,
                "Transaction from previous request is still in progress"
            )),
            None => {
                uses.insert(
                    token.to_owned(),
                    TokenUse {
                        fingerprint,
                        done: None,
                    },
                );
                Ok(TokenClaim::Run(TokenGuard {
                    tokens: self,
                    token: token.to_owned(),
                    finished: false,
                }))
            }
        }
    }
}

impl TokenGuard<'_> {
    /// Records that the transaction succeeded, and what a repeat of it is charged.
    fn finish(mut self, replay_units: TableUnits) {
        if let Some(token_use) = self.tokens.0.lock().get_mut(&self.token) {
            token_use.done = Some((Instant::now(), replay_units));
        }
        self.finished = true;
    }
}

impl Drop for TokenGuard<'_> {
    fn drop(&mut self) {
        // NB: a transaction that did not succeed applied nothing, so a retry with its token runs afresh.
        if !self.finished {
            self.tokens.0.lock().remove(&self.token);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared parts

/// The tables of a transaction, each once, in order of first use, with the definition the request is checked
/// against.
#[derive(Default)]
struct Tables(Vec<(Arc<Table>, Arc<TableMeta>)>);

impl Tables {
    /// The index of the table called `name`, looked up on first use.
    fn resolve(&mut self, db: &Db, ctx: &RequestContext, name: &str) -> Result<usize, AwsError> {
        if let Some(index) = self.0.iter().position(|(table, _)| table.name == name) {
            return Ok(index);
        }
        let table = data_table(db, ctx, name)?;
        let meta = table.meta();
        self.0.push((table, meta));
        Ok(self.0.len() - 1)
    }

    /// Locks every table's items, in the global order (by ARN), returning the guards by table index.
    fn lock(&self) -> Vec<RwLockWriteGuard<'_, TableData>> {
        let mut order: Vec<usize> = (0..self.0.len()).collect();
        order.sort_by(|a, b| self.0[*a].0.arn.cmp(&self.0[*b].0.arn));
        let mut guards: Vec<Option<RwLockWriteGuard<'_, TableData>>> =
            (0..self.0.len()).map(|_| None).collect();
        for index in order {
            guards[index] = Some(self.0[index].0.data());
        }
        guards.into_iter().flatten().collect()
    }
}

/// The constraints on TransactItems itself: present, 1 to 100 actions.
fn check_transact_items<T: serde::Serialize>(c: &mut Constraints, items: Option<&Vec<T>>) {
    match items {
        None => c.not_null::<()>("transactItems", None),
        Some(items) if items.is_empty() => c.fail(
            Some("[]"),
            "transactItems",
            "Member must have length greater than or equal to 1",
        ),
        Some(items) if items.len() > MAX_TRANSACT_ITEMS => c.fail(
            Some(&java_string(items)),
            "transactItems",
            "Member must have length less than or equal to 100",
        ),
        Some(_) => {}
    }
}

/// The constraints on one action's members.
fn check_action(
    c: &mut Constraints,
    path: &str,
    table_name: Option<&str>,
    required: &[(&str, bool)],
    return_values_on_condition_check_failure: Option<&str>,
) {
    c.name(&format!("{path}.tableName"), table_name, true);
    for (member, present) in required {
        if !present {
            c.not_null::<()>(&format!("{path}.{member}"), None);
        }
    }
    c.one_of(
        &format!("{path}.returnValuesOnConditionCheckFailure"),
        return_values_on_condition_check_failure,
        enums::RETURN_VALUES_ON_CONDITION_CHECK_FAILURE,
    );
}

fn reason(code: &str, message: Option<String>, item: Option<Item>) -> CancellationReason {
    CancellationReason {
        code: code.to_owned(),
        message,
        item,
    }
}

/// The cancellation reason of an action that broke a rule.
fn invalid_reason(error: &AwsError) -> CancellationReason {
    reason("ValidationError", error.message().map(str::to_owned), None)
}

/// The cancellation reason of an action whose check failed.
fn failure_reason(failure: WriteFailure) -> CancellationReason {
    match failure {
        WriteFailure::ConditionalCheckFailed(item) => {
            reason("ConditionalCheckFailed", Some(CONDITION_FAILED.to_owned()), item)
        }
        WriteFailure::Invalid(error) => invalid_reason(&error),
    }
}

/// TransactionCanceledException with one reason per action, named in its message as AWS names them.
fn cancelled(reasons: &[CancellationReason]) -> AwsError {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    aws_error!(
        TransactionCanceledException,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
        codes.join(", ")
    )
    .with(
        "CancellationReasons",
        serde_json::to_value(reasons).unwrap_or(Value::Null),
    )
}

/// Where an action stands after its checks against the schema.
enum Action<T> {
    /// Ready to run against the table at this index.
    Ready(usize, T),
    /// Its key does not fit the schema: AWS reports this as the action's cancellation reason.
    Invalid(AwsError),
}

/// An action's key error: a cancellation reason when the key does not fit the schema, a ValidationException of
/// its own otherwise.
fn action_key_error(error: ItemError) -> Result<AwsError, AwsError> {
    match error {
        ItemError::TableKey(e) | ItemError::IndexKey(e) => Ok(e),
        ItemError::Invalid(e) => Err(e),
    }
}

/// AWS's error for two actions on one item (actions whose key is invalid are left out).
fn check_distinct<'a>(
    targets: impl Iterator<Item = Option<(usize, &'a ItemKey)>>,
    count: usize,
) -> Result<(), AwsError> {
    let mut seen = HashSet::with_capacity(count);
    for target in targets.flatten() {
        if !seen.insert(target) {
            return Err(AwsError::validation(MULTIPLE_OPERATIONS));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// TransactWriteItems

/// Which action a TransactWriteItem holds, checked to be exactly one.
fn parse_action(item: TransactWriteItem) -> Result<(String, ItemWrite), AwsError> {
    let TransactWriteItem {
        condition_check,
        put,
        delete,
        update,
    } = item;
    let count = [
        condition_check.is_some(),
        put.is_some(),
        delete.is_some(),
        update.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count();
    // NB: the texts for two actions in one TransactWriteItem (as moto records it) and for none (as dynalite
    // records it) come from emulators that copy AWS; neither is in an AWS-validated capture.
    if count > 1 {
        return Err(AwsError::validation(
            "TransactItems can only contain one of Check, Put, Update or Delete",
        ));
    }
    if let Some(mut put) = put {
        let item = put.item.take().unwrap_or_default();
        // NB: a put's size is known from the request, so AWS refuses it before the transaction starts.
        if item_size(&item) > MAX_ITEM_BYTES {
            return Err(AwsError::validation(
                "Item size has exceeded the maximum allowed size",
            ));
        }
        let write = ItemWrite::put(
            item,
            &WriteExpressions {
                condition_expression: put.condition_expression.as_ref(),
                names: put.expression_attribute_names.as_ref(),
                values: put.expression_attribute_values.as_ref(),
                ..WriteExpressions::default()
            },
            put.return_values_on_condition_check_failure.as_deref(),
        )?;
        return Ok((put.table_name.unwrap_or_default(), write));
    }
    if let Some(mut update) = update {
        let write = ItemWrite::update(
            update.key.take().unwrap_or_default(),
            &WriteExpressions {
                condition_expression: update.condition_expression.as_ref(),
                update_expression: update.update_expression.as_ref(),
                names: update.expression_attribute_names.as_ref(),
                values: update.expression_attribute_values.as_ref(),
                ..WriteExpressions::default()
            },
            update.return_values_on_condition_check_failure.as_deref(),
        )?;
        return Ok((update.table_name.unwrap_or_default(), write));
    }
    let (mut keyed, is_delete) = match (delete, condition_check) {
        (Some(delete), _) => (delete, true),
        (None, Some(check)) => (check, false),
        (None, None) => {
            return Err(AwsError::validation(
                "The action or operation requested is invalid. Verify that the action is typed correctly.",
            ));
        }
    };
    let key = keyed.key.take().unwrap_or_default();
    let expressions = WriteExpressions {
        condition_expression: keyed.condition_expression.as_ref(),
        names: keyed.expression_attribute_names.as_ref(),
        values: keyed.expression_attribute_values.as_ref(),
        ..WriteExpressions::default()
    };
    let on_failure = keyed.return_values_on_condition_check_failure.as_deref();
    let write = if is_delete {
        ItemWrite::delete(key, &expressions, on_failure)?
    } else {
        ItemWrite::condition_check(key, &expressions, on_failure)?
    };
    Ok((keyed.table_name.unwrap_or_default(), write))
}

/// TransactWriteItems.
pub fn transact_write_items(
    db: &Db,
    ctx: &RequestContext,
    input: wire::TransactWriteItemsInput,
) -> Result<wire::TransactWriteItemsOutput, AwsError> {
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
    if let Some(token) = &input.client_request_token {
        c.length("clientRequestToken", token, 1, 36);
    }
    check_transact_items(&mut c, input.transact_items.as_ref());
    for (i, item) in input.transact_items.iter().flatten().enumerate() {
        let path = format!("transactItems.{}.member", i + 1);
        if let Some(check) = &item.condition_check {
            check_action(
                &mut c,
                &format!("{path}.conditionCheck"),
                check.table_name.as_deref(),
                &[
                    ("key", check.key.is_some()),
                    ("conditionExpression", check.condition_expression.is_some()),
                ],
                check.return_values_on_condition_check_failure.as_deref(),
            );
        }
        if let Some(put) = &item.put {
            check_action(
                &mut c,
                &format!("{path}.put"),
                put.table_name.as_deref(),
                &[("item", put.item.is_some())],
                put.return_values_on_condition_check_failure.as_deref(),
            );
        }
        if let Some(delete) = &item.delete {
            check_action(
                &mut c,
                &format!("{path}.delete"),
                delete.table_name.as_deref(),
                &[("key", delete.key.is_some())],
                delete.return_values_on_condition_check_failure.as_deref(),
            );
        }
        if let Some(update) = &item.update {
            check_action(
                &mut c,
                &format!("{path}.update"),
                update.table_name.as_deref(),
                &[
                    ("key", update.key.is_some()),
                    ("updateExpression", update.update_expression.is_some()),
                ],
                update.return_values_on_condition_check_failure.as_deref(),
            );
        }
    }
    c.finish()?;
    let items = input.transact_items.unwrap_or_default();
    // NB: AWS compares a repeat's parameters as values, not as bytes: member order does not matter.
    let fingerprint = match &input.client_request_token {
        Some(_) => Some(
            serde_json::to_value((&items, &input.return_item_collection_metrics))
                .map_err(AwsError::internal)?,
        ),
        None => None,
    };

    let parsed = items
        .into_iter()
        .map(parse_action)
        .collect::<Result<Vec<_>, _>>()?;
    let mut tables = Tables::default();
    let mut actions = Vec::with_capacity(parsed.len());
    for (table_name, write) in parsed {
        let index = tables.resolve(db, ctx, &table_name)?;
        actions.push(match write.prepare(&tables.0[index].1) {
            Ok(write) => Action::Ready(index, write),
            Err(error) => Action::Invalid(action_key_error(error)?),
        });
    }
    check_distinct(
        actions.iter().map(|action| match action {
            Action::Ready(table, write) => Some((*table, write.key())),
            Action::Invalid(_) => None,
        }),
        actions.len(),
    )?;

    let region = db.region(&ctx.account, &ctx.region);
    let claim = match (&input.client_request_token, fingerprint) {
        (Some(token), Some(fingerprint)) => Some(region.client_tokens.claim(token, fingerprint)?),
        _ => None,
    };
    let asked = input.return_consumed_capacity.as_deref();
    let guard = match claim {
        Some(TokenClaim::Replay(units)) => {
            return Ok(wire::TransactWriteItemsOutput {
                consumed_capacity: units.consumed(asked, CapacityAxis::Read),
            });
        }
        Some(TokenClaim::Run(guard)) => Some(guard),
        None => None,
    };

    let (units, replay_units) = run_writes(&tables, actions)?;
    if let Some(guard) = guard {
        guard.finish(replay_units);
    }
    Ok(wire::TransactWriteItemsOutput {
        consumed_capacity: units.consumed(asked, CapacityAxis::Write),
    })
}

/// Checks every action under the tables' locks and, when all pass, commits them all before unlocking. Returns
/// the write units consumed and the read units a repeat of the request is charged.
fn run_writes(
    tables: &Tables,
    actions: Vec<Action<PreparedWrite>>,
) -> Result<(TableUnits, TableUnits), AwsError> {
    let mut guards = tables.lock();
    let mut reasons = Vec::with_capacity(actions.len());
    let mut checked = Vec::with_capacity(actions.len());
    let mut cancelled_any = false;
    for action in &actions {
        let outcome = match action {
            Action::Ready(table, write) => write.check(&tables.0[*table].1, &guards[*table]),
            Action::Invalid(error) => {
                cancelled_any = true;
                reasons.push(invalid_reason(error));
                checked.push(None);
                continue;
            }
        };
        match outcome {
            Ok(outcome) => {
                reasons.push(reason("None", None, None));
                checked.push(Some(outcome));
            }
            Err(failure) => {
                cancelled_any = true;
                reasons.push(failure_reason(failure));
                checked.push(None);
            }
        }
    }
    if cancelled_any {
        return Err(cancelled(&reasons));
    }

    let mut units = TableUnits::default();
    let mut replay_units = TableUnits::default();
    for (action, outcome) in actions.into_iter().zip(checked) {
        let (Action::Ready(table, write), Some(outcome)) = (action, outcome) else {
            continue;
        };
        let committed = write.commit(outcome, &mut guards[table]);
        let name = &tables.0[table].0.name;
        units.add(name, TRANSACTION_FACTOR * committed.write_units());
        replay_units.add(name, TRANSACTION_FACTOR * read_units(committed.size, true));
    }
    Ok((units, replay_units))
}

// ---------------------------------------------------------------------------------------------------------------
// TransactGetItems

/// One Get, checked against its table.
struct Get {
    key: ItemKey,
    projection: Option<Projection>,
}

/// TransactGetItems.
pub fn transact_get_items(
    db: &Db,
    ctx: &RequestContext,
    input: wire::TransactGetItemsInput,
) -> Result<wire::TransactGetItemsOutput, AwsError> {
    let mut c = Constraints::new();
    c.one_of(
        "returnConsumedCapacity",
        input.return_consumed_capacity.as_deref(),
        enums::RETURN_CONSUMED_CAPACITY,
    );
    check_transact_items(&mut c, input.transact_items.as_ref());
    for (i, item) in input.transact_items.iter().flatten().enumerate() {
        let path = format!("transactItems.{}.member.get", i + 1);
        match &item.get {
            None => c.not_null::<()>(&path, None),
            Some(get) => {
                c.name(&format!("{path}.tableName"), get.table_name.as_deref(), true);
                c.not_null(&format!("{path}.key"), get.key.as_ref());
            }
        }
    }
    c.finish()?;

    let gets: Vec<wire::TransactGet> = input
        .transact_items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|item| item.get)
        .collect();
    let mut projections = Vec::with_capacity(gets.len());
    for get in &gets {
        projections.push(read_projection(
            get.projection_expression.as_ref(),
            None,
            get.expression_attribute_names.as_ref(),
        )?);
    }
    let mut tables = Tables::default();
    let mut actions = Vec::with_capacity(gets.len());
    for (get, projection) in gets.into_iter().zip(projections) {
        let index = tables.resolve(db, ctx, get.table_name.as_deref().unwrap_or_default())?;
        let meta = &tables.0[index].1;
        if let Some(projection) = &projection {
            projection.check_key_attributes(&meta.key_schema.names().collect::<Vec<_>>())?;
        }
        actions.push(match key_of_key_param(meta, &get.key.unwrap_or_default()) {
            Ok(key) => Action::Ready(index, Get { key, projection }),
            Err(error) => Action::Invalid(action_key_error(error)?),
        });
    }
    check_distinct(
        actions.iter().map(|action| match action {
            Action::Ready(table, get) => Some((*table, &get.key)),
            Action::Invalid(_) => None,
        }),
        actions.len(),
    )?;
    if actions.iter().any(|action| matches!(action, Action::Invalid(_))) {
        let reasons: Vec<CancellationReason> = actions
            .iter()
            .map(|action| match action {
                Action::Ready(..) => reason("None", None, None),
                Action::Invalid(error) => invalid_reason(error),
            })
            .collect();
        return Err(cancelled(&reasons));
    }

    let mut responses = Vec::with_capacity(actions.len());
    let mut units = TableUnits::default();
    {
        let guards = tables.lock();
        for action in &actions {
            let Action::Ready(table, get) = action else {
                continue;
            };
            let stored = guards[*table].get(&get.key);
            units.add(
                &tables.0[*table].0.name,
                TRANSACTION_FACTOR * read_units(stored.map_or(0, item_size), true),
            );
            let item = stored.map(|item| match &get.projection {
                Some(projection) => projection.apply(item),
                None => item.clone(),
            });
            // NB: AWS leaves Item out when a projection selects nothing of an existing item.
            responses.push(ItemResponse {
                item: item.filter(|item| !item.is_empty()),
            });
        }
    }
    Ok(wire::TransactGetItemsOutput {
        responses,
        consumed_capacity: units.consumed(input.return_consumed_capacity.as_deref(), CapacityAxis::Read),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::super::call;
    use super::*;

    /// Arbitrary JSON, biased towards the members of the batch and transaction operations.
    fn json_value() -> impl Strategy<Value = Value> {
        let names = prop::sample::select(vec![
            "RequestItems",
            "tbl",
            "other",
            "Keys",
            "AttributesToGet",
            "ConsistentRead",
            "ProjectionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
            "PutRequest",
            "DeleteRequest",
            "Item",
            "Key",
            "TransactItems",
            "Put",
            "Update",
            "Delete",
            "ConditionCheck",
            "Get",
            "TableName",
            "UpdateExpression",
            "ConditionExpression",
            "ClientRequestToken",
            "ReturnConsumedCapacity",
            "ReturnValuesOnConditionCheckFailure",
            "S",
            "N",
            "L",
            "M",
            "pk",
            "#a",
            ":v",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop::sample::select(vec![
                "tbl",
                "",
                "1",
                "a",
                "TOTAL",
                "ALL_OLD",
                "pk = :v",
                "SET #a = :v",
                "ADD a :v",
                "#a",
                "token",
            ])
            .prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::vec((names.clone(), inner), 0..5).prop_map(|pairs| Value::Object(
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// No request body, however malformed, panics a batch or transaction operation.
        #[test]
        fn no_input_panics_batch_or_transaction_operations(body in json_value(), op in prop::sample::select(vec![
            "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
        ])) {
            let db = Db::default();
            let ctx = RequestContext::default_scope();
            for name in ["tbl", "other"] {
                let table = json!({
                    "TableName": name,
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                });
                call(&db, &ctx, "CreateTable", table.to_string().as_bytes()).unwrap();
            }
            let _ = call(&db, &ctx, op, body.to_string().as_bytes());
        }
    }

    #[test]
    fn tables_are_resolved_once_and_locked_by_table_index() {
        let db = Db::default();
        let ctx = RequestContext::default_scope();
        for name in ["zzz", "aaa"] {
            let table = json!({
                "TableName": name,
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            });
            call(&db, &ctx, "CreateTable", table.to_string().as_bytes()).unwrap();
        }
        let mut tables = Tables::default();
        assert_eq!(tables.resolve(&db, &ctx, "zzz").unwrap(), 0);
        assert_eq!(tables.resolve(&db, &ctx, "aaa").unwrap(), 1);
        assert_eq!(tables.resolve(&db, &ctx, "zzz").unwrap(), 0);
        assert_eq!(tables.lock().len(), 2);
    }
}
