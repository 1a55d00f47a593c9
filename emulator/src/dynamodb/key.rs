//! Primary keys: key schemas, their validation, and [`ItemKey`], the byte string under which an item is stored.
//!
//! An item key is `hash(partition) ++ enc(partition) ++ enc(sort)`, where `enc` preserves DynamoDB's ordering
//! bytewise (S and B by unsigned bytes, N numerically). So a table's items, kept in one ordered map, come out as
//! DynamoDB scans them (partitions in a stable hash order, sort keys in order within a partition), a partition is
//! one key prefix, and a sort-key condition is a byte range. The same bytes serve as keys of an embedded store.

use super::value::{AttributeValue, INVALID_PARAMETERS, Item};
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

/// Where an item lives in its table: see the module documentation for the layout.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemKey(Box<[u8]>);

impl ItemKey {
    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The partition's stable hash, the first eight bytes (parallel scans split on it).
    pub fn partition_hash(&self) -> u64 {
        let mut hash = [0u8; 8];
        hash.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(hash)
    }

    /// A key from encoded bytes (at least the eight hash bytes).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        debug_assert!(bytes.len() >= 8, "an item key starts with its partition hash");
        Self(bytes.into_boxed_slice())
    }
}

impl std::borrow::Borrow<[u8]> for ItemKey {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

/// Appends the order-preserving encoding of a key value (S, N or B; other types encode nothing).
pub fn encode_key_value(out: &mut Vec<u8>, value: &AttributeValue) {
    match value {
        AttributeValue::S(s) => encode_bytes(out, s.as_bytes()),
        AttributeValue::B(b) => encode_bytes(out, b),
        AttributeValue::N(n) => n.encode_ordered(out),
        _ => {}
    }
}

/// Byte strings escape 0x00 as 0x00 0xFF and end with 0x00 0x00, so that a string sorts before its extensions
/// and the encoding of a prefix is a prefix of the encoding.
fn encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    for &byte in bytes {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// The encoding of a string or binary prefix, without its terminator: every key value that begins with the prefix
/// has an encoding beginning with these bytes (`begins_with` on a sort key).
pub fn encode_prefix(out: &mut Vec<u8>, value: &AttributeValue) {
    let bytes: &[u8] = match value {
        AttributeValue::S(s) => s.as_bytes(),
        AttributeValue::B(b) => b,
        _ => return,
    };
    for &byte in bytes {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
}

/// A stable 64-bit hash (FNV-1a) of a partition key's encoding, so scan order is the same on every run.
fn stable_hash(encoded: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in encoded {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `hash(partition) ++ enc(partition)`: the prefix shared by every item of a partition.
pub fn partition_prefix(partition: &AttributeValue) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(24);
    encode_key_value(&mut encoded, partition);
    let mut out = Vec::with_capacity(8 + encoded.len() + 16);
    out.extend_from_slice(&stable_hash(&encoded).to_be_bytes());
    out.extend_from_slice(&encoded);
    out
}

/// The item key of a partition and optional sort value.
pub fn item_key(partition: &AttributeValue, sort: Option<&AttributeValue>) -> ItemKey {
    let mut out = partition_prefix(partition);
    if let Some(sort) = sort {
        encode_key_value(&mut out, sort);
    }
    ItemKey::from_bytes(out)
}

fn byte_len(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        _ => 0, // NB: numbers never fail the key size limits
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
    pub fn key_of_key_param(&self, key: &Item) -> Result<ItemKey, AwsError> {
        let expected = 1 + usize::from(self.range.is_some());
        if key.len() != expected {
            return Err(schema_mismatch());
        }
        let partition = key_value(key, &self.hash).ok_or_else(schema_mismatch)?;
        let sort = match &self.range {
            Some(range) => Some(key_value(key, range).ok_or_else(schema_mismatch)?),
            None => None,
        };
        check_key_values(&self.hash, partition, self.range.as_ref(), sort, KeyParam::Key)?;
        Ok(item_key(partition, sort))
    }

    /// The key of a whole item (PutItem), with AWS's messages for missing or mistyped key attributes.
    pub fn key_of_item(&self, item: &Item) -> Result<ItemKey, AwsError> {
        let partition = item_key_value(item, &self.hash)?;
        let sort = match &self.range {
            Some(range) => Some(item_key_value(item, range)?),
            None => None,
        };
        check_key_values(&self.hash, partition, self.range.as_ref(), sort, KeyParam::Item)?;
        Ok(item_key(partition, sort))
    }

    /// The key attributes of an item that has them all, as an item (LastEvaluatedKey, stream record Keys).
    pub fn key_attributes(&self, item: &Item) -> Item {
        self.names()
            .filter_map(|name| item.get_key_value(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn schema_mismatch() -> AwsError {
    AwsError::validation("The provided key element does not match the schema")
}

fn key_value<'i>(key: &'i Item, attribute: &KeyAttribute) -> Option<&'i AttributeValue> {
    let value = key.get(&attribute.name)?;
    (value.attribute_type().as_str() == attribute.ty.as_str()).then_some(value)
}

fn item_key_value<'i>(item: &'i Item, attribute: &KeyAttribute) -> Result<&'i AttributeValue, AwsError> {
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
    Ok(value)
}

/// Where a key came from: AWS words the empty-key error differently for items and `Key` parameters.
#[derive(Clone, Copy)]
enum KeyParam {
    Item,
    Key,
}

fn check_key_values(
    hash: &KeyAttribute,
    partition: &AttributeValue,
    range: Option<&KeyAttribute>,
    sort: Option<&AttributeValue>,
    param: KeyParam,
) -> Result<(), AwsError> {
    for (attribute, value) in std::iter::once((hash, partition)).chain(range.zip(sort)) {
        if byte_len(value) == 0 && !matches!(value, AttributeValue::N(_)) {
            let kind = if matches!(value, AttributeValue::B(_)) {
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
    if byte_len(partition) > MAX_PARTITION_KEY_BYTES {
        return Err(AwsError::validation(format!(
            "{INVALID_PARAMETERS}Size of hashkey has exceeded the maximum size limit of{MAX_PARTITION_KEY_BYTES} bytes"
        )));
    }
    if sort.is_some_and(|s| byte_len(s) > MAX_SORT_KEY_BYTES) {
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
    fn string_keys_order_bytewise_and_prefixes_first() {
        let s = |v: &str| AttributeValue::S(v.into());
        let mut keys: Vec<Vec<u8>> = ["b", "a\u{0}", "a", "ab", ""]
            .iter()
            .map(|v| {
                let mut out = Vec::new();
                encode_key_value(&mut out, &s(v));
                out
            })
            .collect();
        keys.sort();
        let mut expected: Vec<Vec<u8>> = ["", "a", "a\u{0}", "ab", "b"]
            .iter()
            .map(|v| {
                let mut out = Vec::new();
                encode_key_value(&mut out, &s(v));
                out
            })
            .collect();
        expected.sort();
        assert_eq!(keys, expected);
        let mut a = Vec::new();
        encode_key_value(&mut a, &s("a"));
        let mut ab = Vec::new();
        encode_key_value(&mut ab, &s("ab"));
        assert!(a < ab);
        let mut prefix = Vec::new();
        encode_prefix(&mut prefix, &s("a"));
        assert!(ab.starts_with(&prefix) && a.starts_with(&prefix));
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
