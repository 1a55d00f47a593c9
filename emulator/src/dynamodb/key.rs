//! Primary keys: key schemas, key values with DynamoDB's ordering (bytewise for S and B, numeric for N), and the
//! stored key that orders a table's items as DynamoDB scans them (by a stable hash of the partition key, then by
//! sort key within a partition).

use std::cmp::Ordering;

use super::{
    number::Number,
    value::{AttributeValue, INVALID_PARAMETERS, Item},
};
use crate::edge::AwsError;

/// Largest partition key value, in bytes.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// Largest sort key value, in bytes.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

/// The scalar types a key attribute may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl ScalarType {
    /// Parses `S`, `N` or `B`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }

    /// The descriptor as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }
}

/// A key attribute: name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAttribute {
    /// Attribute name.
    pub name: String,
    /// Declared type.
    pub ty: ScalarType,
}

/// A table's or index's key schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySchema {
    /// The partition (HASH) key.
    pub hash: KeyAttribute,
    /// The sort (RANGE) key, if any.
    pub range: Option<KeyAttribute>,
}

/// A key attribute's value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyValue {
    /// String key, ordered bytewise (UTF-8).
    S(String),
    /// Number key, ordered numerically.
    N(Number),
    /// Binary key, ordered bytewise (unsigned).
    B(Vec<u8>),
}

impl KeyValue {
    fn from_attribute(value: &AttributeValue) -> Option<Self> {
        match value {
            AttributeValue::S(s) => Some(KeyValue::S(s.clone())),
            AttributeValue::N(n) => Some(KeyValue::N(n.clone())),
            AttributeValue::B(b) => Some(KeyValue::B(b.clone())),
            _ => None,
        }
    }

    /// Back to an attribute value.
    pub fn to_attribute(&self) -> AttributeValue {
        match self {
            KeyValue::S(s) => AttributeValue::S(s.clone()),
            KeyValue::N(n) => AttributeValue::N(n.clone()),
            KeyValue::B(b) => AttributeValue::B(b.clone()),
        }
    }

    fn byte_len(&self) -> usize {
        match self {
            KeyValue::S(s) => s.len(),
            KeyValue::N(_) => 0, // NB: numbers never fail the key size limits
            KeyValue::B(b) => b.len(),
        }
    }

    /// A stable 64-bit hash (FNV-1a), so scan order is the same on every run and after a restart.
    fn stable_hash(&self) -> u64 {
        let (tag, bytes): (u8, &[u8]) = match self {
            KeyValue::S(s) => (b'S', s.as_bytes()),
            KeyValue::N(n) => (b'N', n.as_str().as_bytes()),
            KeyValue::B(b) => (b'B', b),
        };
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in std::iter::once(&tag).chain(bytes) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    }
}

/// An item's position in its table: partition hash, partition key, sort key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoredKey {
    /// Stable hash of the partition key; scans walk partitions in this order, as DynamoDB's do.
    pub hash: u64,
    /// Partition key value.
    pub partition: KeyValue,
    /// Sort key value, for tables with a sort key.
    pub sort: Option<KeyValue>,
}

impl Ord for StoredKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.hash
            .cmp(&other.hash)
            .then_with(|| self.partition.cmp(&other.partition))
            .then_with(|| self.sort.cmp(&other.sort))
    }
}

impl PartialOrd for StoredKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl KeySchema {
    /// The key attribute names, hash first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.name.as_str()).chain(self.range.as_ref().map(|r| r.name.as_str()))
    }

    /// Whether `name` is one of the key attributes.
    pub fn contains(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }

    /// The key of a `Key` parameter (GetItem, DeleteItem, UpdateItem): exactly the key attributes, right types.
    pub fn key_of_key_param(&self, key: &Item) -> Result<StoredKey, AwsError> {
        let expected = 1 + usize::from(self.range.is_some());
        if key.len() != expected {
            return Err(schema_mismatch());
        }
        let partition = key_value(key, &self.hash).ok_or_else(schema_mismatch)?;
        let sort = match &self.range {
            Some(range) => Some(key_value(key, range).ok_or_else(schema_mismatch)?),
            None => None,
        };
        check_key_values(
            &self.hash,
            &partition,
            self.range.as_ref(),
            sort.as_ref(),
            KeyParam::Key,
        )?;
        Ok(StoredKey {
            hash: partition.stable_hash(),
            partition,
            sort,
        })
    }

    /// The key of a whole item (PutItem), with AWS's messages for missing or mistyped key attributes.
    pub fn key_of_item(&self, item: &Item) -> Result<StoredKey, AwsError> {
        let partition = item_key_value(item, &self.hash)?;
        let sort = match &self.range {
            Some(range) => Some(item_key_value(item, range)?),
            None => None,
        };
        check_key_values(
            &self.hash,
            &partition,
            self.range.as_ref(),
            sort.as_ref(),
            KeyParam::Item,
        )?;
        Ok(StoredKey {
            hash: partition.stable_hash(),
            partition,
            sort,
        })
    }

    /// The key attributes of a stored key, as an item.
    pub fn key_item(&self, key: &StoredKey) -> Item {
        let mut item = Item::with_capacity(2);
        item.insert(self.hash.name.clone(), key.partition.to_attribute());
        if let (Some(range), Some(sort)) = (&self.range, &key.sort) {
            item.insert(range.name.clone(), sort.to_attribute());
        }
        item
    }
}

fn schema_mismatch() -> AwsError {
    AwsError::validation("The provided key element does not match the schema")
}

fn key_value(key: &Item, attribute: &KeyAttribute) -> Option<KeyValue> {
    let value = key.get(&attribute.name)?;
    (value.attribute_type().as_str() == attribute.ty.as_str()).then(|| KeyValue::from_attribute(value))?
}

fn item_key_value(item: &Item, attribute: &KeyAttribute) -> Result<KeyValue, AwsError> {
    let Some(value) = item.get(&attribute.name) else {
        return Err(AwsError::validation(format!(
            "{INVALID_PARAMETERS}Missing the key {} in the item",
            attribute.name
        )));
    };
    let actual = value.attribute_type().as_str();
    if actual != attribute.ty.as_str() {
        return Err(AwsError::validation(format!(
            "{INVALID_PARAMETERS}Type mismatch for key {} expected: {} actual: {actual}",
            attribute.name,
            attribute.ty.as_str()
        )));
    }
    KeyValue::from_attribute(value).ok_or_else(schema_mismatch)
}

/// Where a key came from: AWS words the empty-key error differently for items and `Key` parameters.
#[derive(Clone, Copy)]
enum KeyParam {
    Item,
    Key,
}

fn check_key_values(
    hash: &KeyAttribute,
    partition: &KeyValue,
    range: Option<&KeyAttribute>,
    sort: Option<&KeyValue>,
    param: KeyParam,
) -> Result<(), AwsError> {
    for (attribute, value) in std::iter::once((hash, partition)).chain(range.zip(sort)) {
        if value.byte_len() == 0 && !matches!(value, KeyValue::N(_)) {
            let kind = if matches!(value, KeyValue::B(_)) {
                "binary"
            } else {
                "string"
            };
            let prefix = match param {
                KeyParam::Item => "One or more parameter values are not valid. ",
                KeyParam::Key => INVALID_PARAMETERS,
            };
            return Err(AwsError::validation(format!(
                "{prefix}The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {}",
                attribute.name
            )));
        }
    }
    if partition.byte_len() > MAX_PARTITION_KEY_BYTES {
        return Err(AwsError::validation(format!(
            "{INVALID_PARAMETERS}Size of hashkey has exceeded the maximum size limit of{MAX_PARTITION_KEY_BYTES} bytes"
        )));
    }
    if sort.is_some_and(|s| s.byte_len() > MAX_SORT_KEY_BYTES) {
        return Err(AwsError::validation(format!(
            "{INVALID_PARAMETERS}Aggregated size of all range keys has exceeded the size limit of \
             {MAX_SORT_KEY_BYTES} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> KeySchema {
        KeySchema {
            hash: KeyAttribute {
                name: "pk".into(),
                ty: ScalarType::S,
            },
            range: Some(KeyAttribute {
                name: "sk".into(),
                ty: ScalarType::N,
            }),
        }
    }

    fn item(json: &str) -> Item {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn sort_keys_order_numerically_within_a_partition() {
        let s = schema();
        let a = s
            .key_of_item(&item(r#"{"pk":{"S":"p"},"sk":{"N":"9"}}"#))
            .unwrap();
        let b = s
            .key_of_item(&item(r#"{"pk":{"S":"p"},"sk":{"N":"10"}}"#))
            .unwrap();
        assert!(a < b);
    }

    #[test]
    fn key_param_with_extra_attribute_does_not_match_schema() {
        let err = schema()
            .key_of_key_param(&item(r#"{"pk":{"S":"p"},"sk":{"N":"1"},"x":{"S":"y"}}"#))
            .unwrap_err();
        assert_eq!(
            err.message(),
            Some("The provided key element does not match the schema")
        );
    }

    #[test]
    fn item_with_mistyped_key_names_expected_and_actual_types() {
        let err = schema()
            .key_of_item(&item(r#"{"pk":{"N":"1"},"sk":{"N":"1"}}"#))
            .unwrap_err();
        assert_eq!(
            err.message(),
            Some("One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N")
        );
    }

    #[test]
    fn empty_string_key_is_rejected() {
        let err = schema()
            .key_of_item(&item(r#"{"pk":{"S":""},"sk":{"N":"1"}}"#))
            .unwrap_err();
        assert_eq!(
            err.message(),
            Some(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot \
                 contain an empty string value. Key: pk"
            )
        );
    }
}
