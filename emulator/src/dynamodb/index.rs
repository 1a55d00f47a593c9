//! Secondary indexes as stored: for each item that has the index's key attributes, an entry under
//! `item_key(index partition, index sort) ++ table key`, pointing at the table key. Items without the index key are
//! absent (sparse indexes). Entries order as the index's key orders, ties by table key, so Query and Scan on an
//! index read a byte range exactly as they do on the table.

use std::{collections::BTreeMap, ops::Bound};

use super::{
    key::{ItemKey, KeySchema, item_key},
    value::{Item, item_size},
    wire,
};

/// Which attributes an index carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexProjection {
    /// Every attribute.
    All,
    /// The table's and the index's key attributes.
    KeysOnly,
    /// The keys plus these attributes.
    Include(Vec<String>),
}

impl IndexProjection {
    /// From the wire form (validated at CreateTable/UpdateTable).
    pub fn from_wire(projection: &wire::Projection) -> Self {
        match projection.projection_type.as_deref() {
            Some("KEYS_ONLY") => IndexProjection::KeysOnly,
            Some("INCLUDE") => {
                IndexProjection::Include(projection.non_key_attributes.clone().unwrap_or_default())
            }
            _ => IndexProjection::All,
        }
    }
}

/// One secondary index's entries.
#[derive(Debug)]
pub struct IndexData {
    /// Index name.
    pub name: String,
    /// The index's key schema.
    pub key_schema: KeySchema,
    /// The table's key schema (part of every projection).
    pub table_key_schema: KeySchema,
    /// What the index carries.
    pub projection: IndexProjection,
    entries: BTreeMap<Box<[u8]>, ItemKey>,
    size_bytes: u64,
}

impl IndexData {
    /// An empty index.
    pub fn new(
        name: String,
        key_schema: KeySchema,
        table_key_schema: KeySchema,
        projection: IndexProjection,
    ) -> Self {
        Self {
            name,
            key_schema,
            table_key_schema,
            projection,
            entries: BTreeMap::new(),
            size_bytes: 0,
        }
    }

    /// The entry key of `item` (stored at `table_key`), if the item has the index's key attributes.
    pub fn entry_key(&self, item: &Item, table_key: &ItemKey) -> Option<Box<[u8]>> {
        let partition = item.get(&self.key_schema.hash.name)?;
        let sort = match &self.key_schema.range {
            Some(range) => Some(item.get(&range.name)?),
            None => None,
        };
        let mut bytes = item_key(partition, sort).as_bytes().to_vec();
        bytes.extend_from_slice(table_key.as_bytes());
        Some(bytes.into_boxed_slice())
    }

    /// Records that the item at `table_key` changed from `old` to `new` (either may be absent).
    pub fn update(&mut self, table_key: &ItemKey, old: Option<&Item>, new: Option<&Item>) {
        if let Some(old) = old
            && let Some(entry) = self.entry_key(old, table_key)
            && self.entries.remove(&entry).is_some()
        {
            self.size_bytes -= self.projected_size(old);
        }
        if let Some(new) = new
            && let Some(entry) = self.entry_key(new, table_key)
        {
            self.size_bytes += self.projected_size(new);
            self.entries.insert(entry, table_key.clone());
        }
    }

    fn projected_size(&self, item: &Item) -> u64 {
        match &self.projection {
            IndexProjection::All => item_size(item) as u64,
            _ => item_size(&self.project(item)) as u64,
        }
    }

    /// The attributes of `item` this index carries.
    pub fn project(&self, item: &Item) -> Item {
        let include: &[String] = match &self.projection {
            IndexProjection::All => return item.clone(),
            IndexProjection::KeysOnly => &[],
            IndexProjection::Include(names) => names,
        };
        item.iter()
            .filter(|(name, _)| {
                self.table_key_schema.contains(name)
                    || self.key_schema.contains(name)
                    || include.iter().any(|n| n == *name)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Entries whose keys fall in `range`, in key order or reversed.
    pub fn entries_in<'a>(
        &'a self,
        range: (Bound<&'a [u8]>, Bound<&'a [u8]>),
        forward: bool,
    ) -> Box<dyn Iterator<Item = (&'a [u8], &'a ItemKey)> + 'a> {
        let iter = self.entries.range::<[u8], _>(range).map(|(k, v)| (k.as_ref(), v));
        if forward {
            Box::new(iter)
        } else {
            Box::new(iter.rev())
        }
    }

    /// Number of entries.
    pub fn item_count(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Total size of the projected items.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }
}
