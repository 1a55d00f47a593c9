//! Benchmark scenarios: each is a named DynamoDB operation plus a generator
//! that produces the JSON body of request number `i`.
//!
//! Bodies are materialised up front into a [`RequestPool`] so that the request
//! loop only clones a `Bytes` handle; the generator itself may be as slow as it
//! likes. New scenarios (Query, Scan, batch, transactions, streams) are added to
//! [`catalogue`]; a scenario that needs more table state than the shared
//! [`Fixture`] provides can extend it.

use std::sync::Arc;

use anyhow::{Result, bail};
use bytes::Bytes;
use hyper::header::HeaderValue;
use rand::SeedableRng;
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

use crate::http::amz_target;

/// The table and data every scenario runs against.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Table name.
    pub table: String,
    /// Number of items written before the scenarios run (keys `item-000000`…).
    pub items: u64,
    /// Size in bytes of each item's `payload` string attribute.
    pub payload_bytes: usize,
}

impl Fixture {
    /// The key of pre-populated item `i`.
    pub fn item_key(&self, i: u64) -> String {
        format!("item-{i:06}")
    }

    /// A deterministic pseudo-random payload for item `i`, so that items differ
    /// (as real data does) while runs stay reproducible.
    pub fn payload(&self, i: u64) -> String {
        let mut rng = StdRng::seed_from_u64(i);
        Alphanumeric.sample_string(&mut rng, self.payload_bytes)
    }

    /// A full item: hash key, counter `c` (which the update scenario
    /// increments, so it must exist) and payload.
    pub fn item(&self, key: &str, i: u64) -> Value {
        json!({
            "pk": { "S": key },
            "c": { "N": "0" },
            "payload": { "S": self.payload(i) },
        })
    }

    /// The CreateTable body: on-demand, hash key `pk` of type S. DynamoDB Local
    /// accepts PAY_PER_REQUEST, so no provisioned throughput is needed.
    pub fn create_table(&self) -> Bytes {
        to_bytes(&json!({
            "TableName": self.table,
            "AttributeDefinitions": [{ "AttributeName": "pk", "AttributeType": "S" }],
            "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }],
            "BillingMode": "PAY_PER_REQUEST",
        }))
    }

    /// The scenario that writes the pre-populated items `0..items` exactly once.
    pub fn populate(&self) -> Scenario {
        let fixture = self.clone();
        Scenario {
            name: "populate",
            operation: "PutItem",
            description: "PutItem of the pre-populated items",
            shuffle: false,
            body: Arc::new(move |i| {
                let key = fixture.item_key(i);
                to_bytes(&json!({ "TableName": fixture.table, "Item": fixture.item(&key, i) }))
            }),
        }
    }
}

/// Generates the body of request number `i` of a scenario.
pub type BodyGenerator = Arc<dyn Fn(u64) -> Bytes + Send + Sync>;

/// One named scenario.
#[derive(Clone)]
pub struct Scenario {
    /// Short name used on the command line and in reports (`put`).
    pub name: &'static str,
    /// The DynamoDB operation, i.e. the `X-Amz-Target` suffix (`PutItem`).
    pub operation: &'static str,
    /// One line for `--help`-like listings.
    pub description: &'static str,
    /// Whether to visit the pool in a random order; spreads keys over the
    /// table the way real traffic does rather than walking it in key order.
    pub shuffle: bool,
    /// The body generator.
    pub body: BodyGenerator,
}

impl Scenario {
    /// Materialises `size` request bodies (requests `0..size`).
    pub fn pool(&self, size: u64) -> Result<Arc<RequestPool>> {
        if size == 0 {
            bail!("scenario {} needs a non-empty request pool", self.name);
        }
        let mut bodies: Vec<Bytes> = (0..size).map(|i| (self.body)(i)).collect();
        if self.shuffle {
            // Fixed seed: every target sees the same request sequence.
            bodies.shuffle(&mut StdRng::seed_from_u64(0x5eed));
        }
        Ok(Arc::new(RequestPool {
            target: amz_target(self.operation)?,
            bodies,
        }))
    }
}

/// Pre-built requests of one scenario; request `i` uses `bodies[i % len]`.
pub struct RequestPool {
    /// `X-Amz-Target` value.
    pub target: HeaderValue,
    /// Request bodies.
    pub bodies: Vec<Bytes>,
}

impl RequestPool {
    /// The body of request number `i`.
    pub fn body(&self, i: u64) -> Bytes {
        // `usize` is 64 bits on every platform this bench targets, and the
        // remainder is below `len` anyway.
        let index = (i % self.bodies.len() as u64) as usize;
        self.bodies[index].clone()
    }
}

/// All scenarios, in the order they run. Scenarios that read or update
/// pre-populated items rely on [`Fixture::populate`] having run first.
pub fn catalogue(fixture: &Fixture) -> Vec<Scenario> {
    let put = {
        let f = fixture.clone();
        Scenario {
            name: "put",
            operation: "PutItem",
            description: "PutItem of a ~payload-sized item (inserts, then overwrites)",
            shuffle: true,
            // A key space of its own so that puts never reset the counters the
            // update scenario increments; the pool size bounds the table growth.
            body: Arc::new(move |i| {
                let key = format!("put-{i:06}");
                to_bytes(&json!({ "TableName": f.table, "Item": f.item(&key, i) }))
            }),
        }
    };
    let get = {
        let f = fixture.clone();
        Scenario {
            name: "get",
            operation: "GetItem",
            description: "GetItem of a pre-populated item",
            shuffle: true,
            body: Arc::new(move |i| {
                let key = f.item_key(i % f.items.max(1));
                to_bytes(&json!({ "TableName": f.table, "Key": { "pk": { "S": key } } }))
            }),
        }
    };
    let update = {
        let f = fixture.clone();
        Scenario {
            name: "update",
            operation: "UpdateItem",
            description: "UpdateItem counter increment (SET #c = #c + :one) of a pre-populated item",
            shuffle: true,
            body: Arc::new(move |i| {
                let key = f.item_key(i % f.items.max(1));
                to_bytes(&json!({
                    "TableName": f.table,
                    "Key": { "pk": { "S": key } },
                    "UpdateExpression": "SET #c = #c + :one",
                    "ExpressionAttributeNames": { "#c": "c" },
                    "ExpressionAttributeValues": { ":one": { "N": "1" } },
                }))
            }),
        }
    };
    vec![put, get, update]
}

/// Picks scenarios by name, in the order given on the command line.
pub fn select(all: &[Scenario], names: &[String]) -> Result<Vec<Scenario>> {
    names
        .iter()
        .map(|name| match all.iter().find(|s| s.name == name) {
            Some(scenario) => Ok(scenario.clone()),
            None => {
                let known: Vec<_> = all.iter().map(|s| s.name).collect();
                bail!("unknown scenario {name:?}; known: {}", known.join(", "))
            }
        })
        .collect()
}

fn to_bytes(value: &Value) -> Bytes {
    // Serialising a `Value` cannot fail: keys are strings and there are no
    // non-finite floats.
    Bytes::from(value.to_string())
}
