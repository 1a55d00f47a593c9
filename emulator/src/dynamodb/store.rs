//! Where tables live: one namespace of tables per account and region, as on AWS.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use parking_lot::RwLock;

use crate::streams::{StreamRegistry, StreamSettings};

use super::{ops::transactions::ClientTokens, table::Table};

/// All DynamoDB state of the emulator.
#[derive(Debug, Default)]
pub struct DynamoDb {
    /// account -> region -> tables
    accounts: RwLock<HashMap<String, HashMap<String, Arc<Region>>>>,
    /// Shard lifetime and retention of the streams of every table.
    pub stream_settings: StreamSettings,
}

/// The tables of one account in one region.
#[derive(Debug)]
pub struct Region {
    /// Account id.
    pub account: String,
    /// Region name.
    pub region: String,
    /// Tables by name; ordered, because ListTables returns names in order.
    tables: RwLock<BTreeMap<String, Arc<Table>>>,
    /// The streams of this account and region, including disabled ones until their retention ends.
    pub streams: StreamRegistry,
    /// TransactWriteItems' recent ClientRequestTokens (scoped per account and region, as on AWS).
    pub client_tokens: ClientTokens,
}

impl DynamoDb {
    /// No tables yet; table streams will use `stream_settings`.
    pub fn new(stream_settings: StreamSettings) -> Self {
        Self {
            accounts: RwLock::default(),
            stream_settings,
        }
    }

    /// The tables of `account` in `region`, created on first use.
    pub fn region(&self, account: &str, region: &str) -> Arc<Region> {
        if let Some(found) = self
            .accounts
            .read()
            .get(account)
            .and_then(|regions| regions.get(region))
        {
            return found.clone();
        }
        let mut accounts = self.accounts.write();
        accounts
            .entry(account.to_owned())
            .or_default()
            .entry(region.to_owned())
            .or_insert_with(|| {
                Arc::new(Region {
                    account: account.to_owned(),
                    region: region.to_owned(),
                    tables: RwLock::default(),
                    streams: StreamRegistry::default(),
                    client_tokens: ClientTokens::default(),
                })
            })
            .clone()
    }

    /// Every table of every account and region: a snapshot, for background work such as the TTL sweeper.
    pub fn tables(&self) -> Vec<Arc<Table>> {
        let regions: Vec<Arc<Region>> = self
            .accounts
            .read()
            .values()
            .flat_map(|r| r.values().cloned())
            .collect();
        regions
            .iter()
            .flat_map(|region| region.tables.read().values().cloned().collect::<Vec<_>>())
            .collect()
    }
}

impl Region {
    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<Arc<Table>> {
        self.tables.read().get(name).cloned()
    }

    /// Adds a table unless one of that name exists; returns whether it was added.
    pub fn insert(&self, table: Arc<Table>) -> bool {
        let mut tables = self.tables.write();
        if tables.contains_key(&table.name) {
            return false;
        }
        tables.insert(table.name.clone(), table);
        true
    }

    /// Removes the table called `name`.
    pub fn remove(&self, name: &str) -> Option<Arc<Table>> {
        self.tables.write().remove(name)
    }

    /// Table names after `start` (exclusive), in order, at most `limit`, and whether more follow.
    pub fn table_names(&self, start: Option<&str>, limit: usize) -> (Vec<String>, bool) {
        let tables = self.tables.read();
        let mut names = tables
            .keys()
            .filter(|name| start.is_none_or(|start| name.as_str() > start))
            .take(limit + 1)
            .cloned()
            .collect::<Vec<_>>();
        let more = names.len() > limit;
        names.truncate(limit);
        (names, more)
    }
}
