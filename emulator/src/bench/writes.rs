//! The multi-item write scenarios: BatchWriteItem loads (`batch`) and
//! TransactWriteItems transfers between accounts (`transact`).

use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::scenario::{Kind, Requests, Scenario, TableRef, Verdict, Workloads, payload, to_bytes};
use crate::tables::{BATCH_SIZE, Population, TableSpec, account_key, check_batch_write};

/// Distinct BatchWriteItem bodies: 50k distinct items, inserted on the first
/// pass and overwritten after, which bounds the table's growth.
const BATCH_POOL: u64 = 2_000;

/// Distinct transfers.
const TRANSFER_POOL: u64 = 10_000;

/// Each account's starting balance; transfers move 1–100 and every transfer
/// is followed by its reverse (see [`transfer_body`]), so balances stay near
/// this and the condition holds unless the server cancels for a reason of its
/// own.
const STARTING_BALANCE: u64 = 1_000;

/// The write scenarios, in the order they run under `all`.
pub fn scenarios(w: &Workloads) -> Vec<Scenario> {
    let batch_table = Arc::new(TableSpec {
        name: "batch-write",
        sort_key: false,
        stream: false,
        population: Population::Empty,
        payload_bytes: w.payload_bytes,
    });
    let accounts = Arc::new(TableSpec {
        name: "accounts",
        sort_key: false,
        stream: false,
        population: Population::Accounts {
            count: w.accounts,
            balance: STARTING_BALANCE,
        },
        payload_bytes: w.payload_bytes,
    });
    let payload_bytes = w.payload_bytes;
    let batch = Requests {
        pool_size: Some(BATCH_POOL),
        check: check_batch_write,
        reports_items: true,
        ..Requests::new("BatchWriteItem", move |_, i| {
            let items: Vec<Value> = (i * BATCH_SIZE..(i + 1) * BATCH_SIZE)
                .map(|j| {
                    json!({ "PutRequest": { "Item": {
                        "pk": { "S": format!("bw-{j:07}") },
                        "payload": { "S": payload(j, payload_bytes) },
                    } } })
                })
                .collect();
            to_bytes(&json!({ "RequestItems": { "batch-write": items } }))
        })
    };
    let count = w.accounts.max(2);
    let transfer = Requests {
        pool_size: Some(TRANSFER_POOL),
        check: check_transaction,
        can_reject: true,
        ..Requests::new("TransactWriteItems", move |_, i| transfer_body(i, count))
    };
    vec![
        Scenario {
            name: "batch-write",
            group: "batch",
            operation: "BatchWriteItem",
            description: "BatchWriteItem of 25 ~payload-sized puts (inserts, then overwrites)",
            table: TableRef::Spec(batch_table),
            kind: Kind::Load(batch),
        },
        Scenario {
            name: "transact",
            group: "transact",
            operation: "TransactWriteItems",
            description: "TransactWriteItems transfer: 2 Updates (balance -/+ :a, condition balance >= :a) \
                          between random accounts (--accounts)",
            table: TableRef::Spec(accounts),
            kind: Kind::Load(transfer),
        },
    ]
}

/// Transfer number `i`: a random amount between two distinct random
/// accounts, odd transfers undoing the even one before them. Without the
/// reversal, a pool replayed over and over repeats the same net flows, which
/// drain the same accounts: the share of cancelled transfers would then grow
/// with the number of requests served, and a faster target would be
/// measured on a workload with more cancellations than a slower one.
fn transfer_body(i: u64, accounts: u64) -> Bytes {
    let mut rng = StdRng::seed_from_u64(i / 2);
    let mut from = rng.random_range(0..accounts);
    let mut to = rng.random_range(0..accounts - 1);
    if to >= from {
        to += 1;
    }
    if i % 2 == 1 {
        std::mem::swap(&mut from, &mut to);
    }
    let amount = json!({ ":a": { "N": rng.random_range(1..=100u32).to_string() } });
    to_bytes(&json!({
        "TransactItems": [
            { "Update": {
                "TableName": "accounts",
                "Key": { "pk": { "S": account_key(from) } },
                "UpdateExpression": "SET balance = balance - :a",
                "ConditionExpression": "balance >= :a",
                "ExpressionAttributeValues": amount,
            } },
            { "Update": {
                "TableName": "accounts",
                "Key": { "pk": { "S": account_key(to) } },
                "UpdateExpression": "SET balance = balance + :a",
                "ExpressionAttributeValues": amount,
            } },
        ],
    }))
}

/// Classifies a TransactWriteItems answer: a cancelled transaction (or one
/// refused for a conflicting transaction in flight) is an outcome of the
/// workload, not a server failure, so it is counted apart, by reason.
fn check_transaction(status: StatusCode, body: &Bytes) -> Verdict {
    if status == StatusCode::OK {
        return Verdict::Ok { items: 2 };
    }
    let error = || Verdict::Error(format!("HTTP {status}: {}", String::from_utf8_lossy(body)));
    if status != StatusCode::BAD_REQUEST {
        return error();
    }
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return error();
    };
    let kind = answer["__type"]
        .as_str()
        .and_then(|t| t.rsplit('#').next())
        .unwrap_or("");
    match kind {
        "TransactionCanceledException" => {
            let reasons: Vec<&str> = answer["CancellationReasons"]
                .as_array()
                .map(|reasons| {
                    reasons
                        .iter()
                        .map(|r| r["Code"].as_str().unwrap_or("?"))
                        .collect()
                })
                .unwrap_or_default();
            Verdict::Rejected(format!("{kind} [{}]", reasons.join(", ")))
        }
        "TransactionConflictException" => Verdict::Rejected(kind.to_owned()),
        _ => error(),
    }
}
