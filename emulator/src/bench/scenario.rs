//! Benchmark scenarios: each is a named measurement against a table, grouped
//! by what it exercises, and runnable by name or group on the command line.
//!
//! Most scenarios are request loads: a DynamoDB operation plus a generator that
//! produces the JSON body of request number `i`, driven by [`crate::load`].
//! Bodies are materialised up front into a [`RequestPool`] so that the request
//! loop only clones a `Bytes` handle; the generator itself may be as slow as it
//! likes. A few scenarios are not loads (paging through a table, timing stream
//! record visibility) and have runners of their own ([`crate::scan`],
//! [`crate::streams`]).
//!
//! The item scenarios (`put`, `get`, `update`) run against the shared
//! [`Fixture`] table; the others declare the table they need as a
//! [`TableSpec`], which the bench creates and loads the first time a selected
//! scenario needs it. The definitions of the query, scan, batch, transaction
//! and stream scenarios live in [`crate::reads`], [`crate::writes`] and
//! [`crate::streams`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Result, bail};
use bytes::{Bytes, BytesMut};
use hyper::StatusCode;
use hyper::header::HeaderValue;
use rand::SeedableRng;
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

use crate::http::amz_target;
use crate::tables::{Loaded, TableSpec};

/// The table and data every item scenario runs against.
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

    /// A deterministic pseudo-random payload for item `i`.
    pub fn payload(&self, i: u64) -> String {
        payload(i, self.payload_bytes)
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

    /// The requests that write the pre-populated items `0..items` exactly once.
    pub fn populate(&self) -> Requests {
        let fixture = self.clone();
        Requests::new("PutItem", move |_, i| {
            let key = fixture.item_key(i);
            to_bytes(&json!({ "TableName": fixture.table, "Item": fixture.item(&key, i) }))
        })
    }
}

/// A deterministic pseudo-random alphanumeric payload of `len` bytes for item
/// `seed`, so that items differ (as real data does) while runs stay
/// reproducible.
pub fn payload(seed: u64, len: usize) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    Alphanumeric.sample_string(&mut rng, len)
}

/// Generates the body of request number `i` of a load, given what the
/// scenario's table holds.
pub type BodyGenerator = Arc<dyn Fn(&Loaded, u64) -> Bytes + Send + Sync>;

/// Classifies a response.
pub type ResponseCheck = fn(StatusCode, &Bytes) -> Verdict;

/// What a response means for the measurement.
#[derive(Debug)]
pub enum Verdict {
    /// Success; `items` is the number of items read or written, for
    /// scenarios that report items per second.
    Ok {
        /// Items the request read or wrote.
        items: u64,
    },
    /// An expected refusal that is not a failure of the server (a
    /// transaction cancelled by its condition): counted apart from errors.
    Rejected(String),
    /// A failure.
    Error(String),
}

/// The default check: HTTP 200 is success, anything else an error.
pub fn expect_ok(status: StatusCode, body: &Bytes) -> Verdict {
    if status == StatusCode::OK {
        Verdict::Ok { items: 1 }
    } else {
        Verdict::Error(format!("HTTP {status}: {}", String::from_utf8_lossy(body)))
    }
}

/// Which table a scenario runs against.
#[derive(Clone)]
pub enum TableRef {
    /// The shared [`Fixture`] table. These scenarios also run on the ceiling,
    /// which keeps no table but answers every request.
    Fixture,
    /// A table of its own, created and loaded before the scenario first runs.
    Spec(Arc<TableSpec>),
}

/// A marker that stamped bodies carry where the request's stamp goes.
pub const STAMP: &str = "@@stamp@@";

/// Source of stamps: unique over the whole process, so that no two requests
/// (in any run) write the same value.
static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);

/// A request load: the operation and how to build its bodies.
#[derive(Clone)]
pub struct Requests {
    /// The DynamoDB operation, i.e. the `X-Amz-Target` suffix (`PutItem`).
    pub operation: &'static str,
    /// Whether to visit the pool in a random order; spreads keys over the
    /// table the way real traffic does rather than walking it in key order.
    pub shuffle: bool,
    /// Number of distinct bodies [default: the fixture's item count].
    pub pool_size: Option<u64>,
    /// Whether bodies carry [`STAMP`], replaced on every request by a number
    /// unique to that request. DynamoDB Streams records nothing for a write
    /// that changes nothing, so stream scenarios must never repeat a write.
    pub stamped: bool,
    /// How to classify responses.
    pub check: ResponseCheck,
    /// Whether to report items per second (the check's item counts).
    pub reports_items: bool,
    /// Whether the check can answer [`Verdict::Rejected`] (adds a column).
    pub can_reject: bool,
    /// The body generator.
    pub body: BodyGenerator,
}

impl Requests {
    /// A load of `operation` with the default settings and this body
    /// generator.
    pub fn new(
        operation: &'static str,
        body: impl Fn(&Loaded, u64) -> Bytes + Send + Sync + 'static,
    ) -> Self {
        Self {
            operation,
            shuffle: false,
            pool_size: None,
            stamped: false,
            check: expect_ok,
            reports_items: false,
            can_reject: false,
            body: Arc::new(body),
        }
    }

    /// Materialises `size` request bodies (requests `0..size`) for a table
    /// holding `loaded`.
    pub fn pool(&self, size: u64, loaded: &Loaded) -> Result<Arc<RequestPool>> {
        if size == 0 {
            bail!("a {} load needs a non-empty request pool", self.operation);
        }
        let mut bodies: Vec<Bytes> = (0..size).map(|i| (self.body)(loaded, i)).collect();
        if self.shuffle {
            // Fixed seed: every target sees the same request sequence.
            bodies.shuffle(&mut StdRng::seed_from_u64(0x5eed));
        }
        let bodies = if self.stamped {
            let mut parts = Vec::with_capacity(bodies.len());
            for body in bodies {
                let Some(at) = body.windows(STAMP.len()).position(|w| w == STAMP.as_bytes()) else {
                    bail!("a stamped {} body has no {STAMP} marker", self.operation);
                };
                parts.push((body.slice(..at), body.slice(at + STAMP.len()..)));
            }
            Bodies::Stamped(parts)
        } else {
            Bodies::Fixed(bodies)
        };
        Ok(Arc::new(RequestPool {
            target: amz_target(self.operation)?,
            bodies,
            check: self.check,
        }))
    }
}

/// What a scenario measures.
#[derive(Clone)]
pub enum Kind {
    /// Requests on N connections with one in flight each ([`crate::load`]).
    Load(Requests),
    /// Paging through the whole table with Scan, `segments` segments at once
    /// ([`crate::scan`]).
    Scan {
        /// Parallel scan segments (1: the plain SDK paging loop).
        segments: u32,
    },
    /// The delay from a PutItem's response to a GetRecords that returns its
    /// stream record ([`crate::streams`]).
    StreamVisibility,
}

/// One named scenario.
#[derive(Clone)]
pub struct Scenario {
    /// Short name used on the command line and in reports (`put`).
    pub name: &'static str,
    /// The group it belongs to, also selectable by name (`reads`…).
    pub group: &'static str,
    /// The DynamoDB operation(s) measured, for listings.
    pub operation: &'static str,
    /// One line for `--list-scenarios`.
    pub description: &'static str,
    /// The table it runs against.
    pub table: TableRef,
    /// What it measures.
    pub kind: Kind,
}

impl Scenario {
    /// Whether the scenario means anything against the ceiling (which keeps
    /// no table): only the item scenarios, whose requests it answers like any
    /// server would, do.
    pub fn runs_on_ceiling(&self) -> bool {
        matches!(self.table, TableRef::Fixture) && matches!(self.kind, Kind::Load(_))
    }
}

/// Pre-built requests of one scenario; request `i` uses body `i % len`.
pub struct RequestPool {
    /// `X-Amz-Target` value.
    pub target: HeaderValue,
    bodies: Bodies,
    /// How to classify responses.
    pub check: ResponseCheck,
}

enum Bodies {
    Fixed(Vec<Bytes>),
    /// Each body split around its [`STAMP`] marker.
    Stamped(Vec<(Bytes, Bytes)>),
}

impl RequestPool {
    /// The body of request number `i`.
    pub fn body(&self, i: u64) -> Bytes {
        match &self.bodies {
            Bodies::Fixed(bodies) => bodies[index(i, bodies.len())].clone(),
            Bodies::Stamped(parts) => {
                let (head, tail) = &parts[index(i, parts.len())];
                let stamp = NEXT_STAMP.fetch_add(1, Ordering::Relaxed).to_string();
                let mut body = BytesMut::with_capacity(head.len() + stamp.len() + tail.len());
                body.extend_from_slice(head);
                body.extend_from_slice(stamp.as_bytes());
                body.extend_from_slice(tail);
                body.freeze()
            }
        }
    }
}

fn index(i: u64, len: usize) -> usize {
    // `usize` is 64 bits on every platform this bench targets, and the
    // remainder is below `len` anyway.
    (i % len as u64) as usize
}

/// Settings of the scenarios beyond the shared fixture.
#[derive(Debug, Clone)]
pub struct Workloads {
    /// Bytes of each item's payload.
    pub payload_bytes: usize,
    /// Item counts of the small and the large table of `query-growth`.
    pub growth_items: [u64; 2],
    /// Items of the table that `scan` and `scan-parallel` page through.
    pub scan_items: u64,
    /// Accounts that `transact` transfers between.
    pub accounts: u64,
}

/// All scenarios, in the order they run under `all`. Scenarios that read or
/// update pre-populated items rely on their table having been loaded first.
pub fn catalogue(fixture: &Fixture, workloads: &Workloads) -> Vec<Scenario> {
    let mut all = item_scenarios(fixture);
    all.extend(crate::reads::scenarios(workloads));
    all.extend(crate::writes::scenarios(workloads));
    all.extend(crate::streams::scenarios(workloads));
    all
}

/// `put`, `get` and `update` on the shared fixture table.
fn item_scenarios(fixture: &Fixture) -> Vec<Scenario> {
    let item = |name, description, requests: Requests| Scenario {
        name,
        group: "items",
        operation: requests.operation,
        description,
        table: TableRef::Fixture,
        kind: Kind::Load(Requests {
            shuffle: true,
            ..requests
        }),
    };
    let put = {
        let f = fixture.clone();
        // A key space of its own so that puts never reset the counters the
        // update scenario increments; the pool size bounds the table growth.
        let requests = Requests::new("PutItem", move |_, i| {
            let key = format!("put-{i:06}");
            to_bytes(&json!({ "TableName": f.table, "Item": f.item(&key, i) }))
        });
        item(
            "put",
            "PutItem of a ~payload-sized item (inserts, then overwrites)",
            requests,
        )
    };
    let get = {
        let f = fixture.clone();
        let requests = Requests::new("GetItem", move |_, i| {
            let key = f.item_key(i % f.items.max(1));
            to_bytes(&json!({ "TableName": f.table, "Key": { "pk": { "S": key } } }))
        });
        item("get", "GetItem of a pre-populated item", requests)
    };
    let update = {
        let f = fixture.clone();
        let requests = Requests::new("UpdateItem", move |_, i| {
            let key = f.item_key(i % f.items.max(1));
            to_bytes(&json!({
                "TableName": f.table,
                "Key": { "pk": { "S": key } },
                "UpdateExpression": "SET #c = #c + :one",
                "ExpressionAttributeNames": { "#c": "c" },
                "ExpressionAttributeValues": { ":one": { "N": "1" } },
            }))
        });
        item(
            "update",
            "UpdateItem counter increment (SET #c = #c + :one) of a pre-populated item",
            requests,
        )
    };
    vec![put, get, update]
}

/// Groups selectable by name besides each scenario's own group, as the groups
/// they stand for.
const SUPERGROUPS: &[(&str, &[&str])] = &[
    ("reads", &["query", "query-growth", "scans"]),
    ("writes", &["batch", "transact"]),
    ("streams", &["stream-writes", "stream-visibility"]),
];

/// The names that select several scenarios at once, with what they select,
/// for `--list-scenarios`.
pub fn groups(all: &[Scenario]) -> Vec<(String, Vec<&'static str>)> {
    let mut groups: Vec<(String, Vec<&'static str>)> = Vec::new();
    for scenario in all {
        match groups.iter_mut().find(|(g, _)| g == scenario.group) {
            Some((_, names)) => names.push(scenario.name),
            None => groups.push((scenario.group.to_owned(), vec![scenario.name])),
        }
    }
    for (name, members) in SUPERGROUPS {
        let names = all
            .iter()
            .filter(|s| members.contains(&s.group))
            .map(|s| s.name)
            .collect();
        groups.push(((*name).to_owned(), names));
    }
    groups.push(("all".to_owned(), all.iter().map(|s| s.name).collect()));
    groups
}

/// Picks scenarios by name or group, in the order given on the command line
/// (a group's scenarios in catalogue order), each at most once.
pub fn select(all: &[Scenario], names: &[String]) -> Result<Vec<Scenario>> {
    let groups = groups(all);
    let mut chosen: Vec<Scenario> = Vec::new();
    for name in names {
        let picked: Vec<&'static str> = match all.iter().find(|s| s.name == name) {
            Some(scenario) => vec![scenario.name],
            None => match groups.iter().find(|(g, _)| g == name) {
                Some((_, members)) => members.clone(),
                None => {
                    let known: Vec<_> = all.iter().map(|s| s.name).collect();
                    let group_names: Vec<_> = groups.iter().map(|(g, _)| g.as_str()).collect();
                    bail!(
                        "unknown scenario {name:?}; scenarios: {}; groups: {}",
                        known.join(", "),
                        group_names.join(", ")
                    )
                }
            },
        };
        for name in picked {
            if !chosen.iter().any(|s| s.name == name)
                && let Some(scenario) = all.iter().find(|s| s.name == name)
            {
                chosen.push(scenario.clone());
            }
        }
    }
    Ok(chosen)
}

/// Serialises a JSON value into a request body.
pub fn to_bytes(value: &Value) -> Bytes {
    // Serialising a `Value` cannot fail: keys are strings and there are no
    // non-finite floats.
    Bytes::from(value.to_string())
}
