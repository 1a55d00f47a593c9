//! The item model: DynamoDB's AttributeValue in all ten types, its wire form (DynamoDB JSON), AWS's validation of
//! values as they are read off the wire, and item size as AWS counts it.
//!
//! Validation happens while deserialising, so a request is checked in one pass. Failures carry a marker that
//! [`crate::dynamodb::wire::from_json`] turns into the right AWS error (see [`VALIDATION`], [`SERIALIZATION`]).

use std::{collections::HashMap, fmt};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{self, MapAccess, Visitor},
    ser::{SerializeMap, SerializeSeq},
};

use super::number::Number;

/// Marks a deserialisation error that AWS reports as a ValidationException.
pub const VALIDATION: char = '\u{1}';
/// Marks a deserialisation error that AWS reports as a SerializationException with this message.
pub const SERIALIZATION: char = '\u{2}';

/// Prefix of most item-level validation messages.
pub const INVALID_PARAMETERS: &str = "One or more parameter values were invalid: ";

/// An item: attribute names to values.
pub type Item = HashMap<String, AttributeValue>;

/// A DynamoDB attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeValue {
    /// String.
    S(String),
    /// Number.
    N(Number),
    /// Binary (raw bytes; base64 on the wire).
    B(Vec<u8>),
    /// Boolean.
    Bool(bool),
    /// Null (always true).
    Null,
    /// Map.
    M(HashMap<String, AttributeValue>),
    /// List.
    L(Vec<AttributeValue>),
    /// String set (non-empty, no duplicates; order as given).
    Ss(Vec<String>),
    /// Number set.
    Ns(Vec<Number>),
    /// Binary set.
    Bs(Vec<Vec<u8>>),
}

/// The type descriptors, as AWS spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum AttributeType {
    S,
    N,
    B,
    Bool,
    Null,
    M,
    L,
    Ss,
    Ns,
    Bs,
}

impl AttributeType {
    /// The descriptor as AWS writes it (`S`, `BOOL`, `SS`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::S => "S",
            AttributeType::N => "N",
            AttributeType::B => "B",
            AttributeType::Bool => "BOOL",
            AttributeType::Null => "NULL",
            AttributeType::M => "M",
            AttributeType::L => "L",
            AttributeType::Ss => "SS",
            AttributeType::Ns => "NS",
            AttributeType::Bs => "BS",
        }
    }

    /// Parses a descriptor as used by `attribute_type(path, :t)` and the legacy API.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "S" => AttributeType::S,
            "N" => AttributeType::N,
            "B" => AttributeType::B,
            "BOOL" => AttributeType::Bool,
            "NULL" => AttributeType::Null,
            "M" => AttributeType::M,
            "L" => AttributeType::L,
            "SS" => AttributeType::Ss,
            "NS" => AttributeType::Ns,
            "BS" => AttributeType::Bs,
            _ => return None,
        })
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AttributeValue {
    /// This value's type.
    pub fn attribute_type(&self) -> AttributeType {
        match self {
            AttributeValue::S(_) => AttributeType::S,
            AttributeValue::N(_) => AttributeType::N,
            AttributeValue::B(_) => AttributeType::B,
            AttributeValue::Bool(_) => AttributeType::Bool,
            AttributeValue::Null => AttributeType::Null,
            AttributeValue::M(_) => AttributeType::M,
            AttributeValue::L(_) => AttributeType::L,
            AttributeValue::Ss(_) => AttributeType::Ss,
            AttributeValue::Ns(_) => AttributeType::Ns,
            AttributeValue::Bs(_) => AttributeType::Bs,
        }
    }

    /// Size in bytes as DynamoDB counts it (names of nested map keys included).
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.size(),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
            AttributeValue::Ns(v) => v.iter().map(Number::size).sum(),
            AttributeValue::Bs(v) => v.iter().map(Vec::len).sum(),
            AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + e.size()).sum::<usize>(),
            AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + v.size()).sum::<usize>(),
        }
    }

    /// Nesting depth of maps and lists (a scalar is 0).
    pub fn depth(&self) -> usize {
        match self {
            AttributeValue::L(v) => 1 + v.iter().map(AttributeValue::depth).max().unwrap_or(0),
            AttributeValue::M(m) => 1 + m.values().map(AttributeValue::depth).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// Size of an item as DynamoDB counts it: attribute name bytes plus value sizes.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

// ---------------------------------------------------------------------------------------------------------------
// Wire form

fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", n.as_str())?,
            AttributeValue::B(b) => map.serialize_entry("B", &b64(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::Ss(v) => map.serialize_entry("SS", v)?,
            AttributeValue::Ns(v) => map.serialize_entry("NS", &NumberList(v))?,
            AttributeValue::Bs(v) => map.serialize_entry("BS", &BinaryList(v))?,
        }
        map.end()
    }
}

struct NumberList<'a>(&'a [Number]);
impl Serialize for NumberList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for n in self.0 {
            seq.serialize_element(n.as_str())?;
        }
        seq.end()
    }
}

struct BinaryList<'a>(&'a [Vec<u8>]);
impl Serialize for BinaryList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for b in self.0 {
            seq.serialize_element(&b64(b))?;
        }
        seq.end()
    }
}

/// A validation failure found while reading the wire, reported as a ValidationException.
pub fn validation_error<E: de::Error>(message: impl fmt::Display) -> E {
    E::custom(format_args!("{VALIDATION}{message}"))
}

fn serialization_error<E: de::Error>(message: impl fmt::Display) -> E {
    E::custom(format_args!("{SERIALIZATION}{message}"))
}

fn decode_base64<E: de::Error>(text: &str) -> Result<Vec<u8>, E> {
    if !text.len().is_multiple_of(4) {
        return Err(serialization_error(format_args!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        )));
    }
    BASE64
        .decode(text)
        .map_err(|_| serialization_error("Invalid Base64 character"))
}

fn parse_number<E: de::Error>(text: &str) -> Result<Number, E> {
    Number::parse(text).map_err(validation_error)
}

/// A string-or-null, since `null` means absent on AWS's wire.
type Opt<T> = Option<T>;

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AttributeValueVisitor)
    }
}

struct AttributeValueVisitor;

/// The members of an AttributeValue; unknown members are ignored, as AWS does.
#[derive(Deserialize)]
enum Field {
    S,
    N,
    B,
    #[serde(rename = "BOOL")]
    Bool,
    #[serde(rename = "NULL")]
    Null,
    M,
    L,
    #[serde(rename = "SS")]
    Ss,
    #[serde(rename = "NS")]
    Ns,
    #[serde(rename = "BS")]
    Bs,
    #[serde(other)]
    Other,
}

impl<'de> Visitor<'de> for AttributeValueVisitor {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AttributeValue")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Option<AttributeValue> = None;
        let mut count = 0;
        while let Some(key) = map.next_key::<Field>()? {
            let value = match key {
                Field::S => map.next_value::<Opt<String>>()?.map(AttributeValue::S),
                Field::N => match map.next_value::<Opt<String>>()? {
                    Some(text) => Some(AttributeValue::N(parse_number(&text)?)),
                    None => None,
                },
                Field::B => match map.next_value::<Opt<String>>()? {
                    Some(text) => Some(AttributeValue::B(decode_base64(&text)?)),
                    None => None,
                },
                Field::Bool => map.next_value::<Opt<bool>>()?.map(AttributeValue::Bool),
                Field::Null => match map.next_value::<Opt<bool>>()? {
                    Some(true) => Some(AttributeValue::Null),
                    Some(false) => {
                        return Err(validation_error(format_args!(
                            "{INVALID_PARAMETERS}Null attribute value types must have the value of true"
                        )));
                    }
                    None => None,
                },
                Field::M => map
                    .next_value::<Opt<HashMap<String, AttributeValue>>>()?
                    .map(AttributeValue::M),
                Field::L => map
                    .next_value::<Opt<Vec<AttributeValue>>>()?
                    .map(AttributeValue::L),
                Field::Ss => match map.next_value::<Opt<Vec<String>>>()? {
                    Some(set) => Some(AttributeValue::Ss(check_string_set(set)?)),
                    None => None,
                },
                Field::Ns => match map.next_value::<Opt<Vec<String>>>()? {
                    Some(set) => Some(AttributeValue::Ns(check_number_set(&set)?)),
                    None => None,
                },
                Field::Bs => match map.next_value::<Opt<Vec<String>>>()? {
                    Some(set) => Some(AttributeValue::Bs(check_binary_set(&set)?)),
                    None => None,
                },
                Field::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                    None
                }
            };
            if let Some(value) = value {
                count += 1;
                found = Some(value);
            }
        }
        match (count, found) {
            (1, Some(value)) => Ok(value),
            (0, _) => Err(validation_error(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            )),
            _ => Err(validation_error(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the \
                 supported datatypes",
            )),
        }
    }
}

fn check_string_set<E: de::Error>(set: Vec<String>) -> Result<Vec<String>, E> {
    if set.is_empty() {
        return Err(validation_error(format_args!(
            "{INVALID_PARAMETERS}An string set  may not be empty"
        )));
    }
    if has_duplicates(&set) {
        return Err(validation_error(format_args!(
            "{INVALID_PARAMETERS}Input collection [{}] contains duplicates.",
            set.join(", ")
        )));
    }
    Ok(set)
}

fn check_number_set<E: de::Error>(set: &[String]) -> Result<Vec<Number>, E> {
    if set.is_empty() {
        return Err(validation_error(format_args!(
            "{INVALID_PARAMETERS}An number set  may not be empty"
        )));
    }
    let numbers = set
        .iter()
        .map(|t| parse_number(t))
        .collect::<Result<Vec<_>, E>>()?;
    if has_duplicates(&numbers) {
        return Err(validation_error("Input collection contains duplicates"));
    }
    Ok(numbers)
}

fn check_binary_set<E: de::Error>(set: &[String]) -> Result<Vec<Vec<u8>>, E> {
    if set.is_empty() {
        return Err(validation_error(format_args!(
            "{INVALID_PARAMETERS}Binary sets should not be empty"
        )));
    }
    let values = set
        .iter()
        .map(|t| decode_base64(t))
        .collect::<Result<Vec<_>, E>>()?;
    if has_duplicates(&values) {
        return Err(validation_error(format_args!(
            "{INVALID_PARAMETERS}Input collection [{}]of type BS contains duplicates.",
            set.join(", ")
        )));
    }
    Ok(values)
}

fn has_duplicates<T: Eq + std::hash::Hash>(values: &[T]) -> bool {
    if values.len() < 16 {
        return values.iter().enumerate().any(|(i, v)| values[..i].contains(v));
    }
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    !values.iter().all(|v| seen.insert(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<AttributeValue, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn all_ten_types_round_trip() {
        let json = r#"{"M":{"s":{"S":"x"},"n":{"N":"1.50"},"b":{"B":"AAE="},"t":{"BOOL":true},"z":{"NULL":true},
            "l":{"L":[{"S":"a"},{"N":"2"}]},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["AA=="]}}}"#;
        let value = parse(json).unwrap();
        let again: AttributeValue = serde_json::from_value(serde_json::to_value(&value).unwrap()).unwrap();
        assert_eq!(value, again);
        let AttributeValue::M(m) = &value else {
            panic!("not a map")
        };
        assert_eq!(m["n"], AttributeValue::N(Number::parse("1.5").unwrap()));
        assert_eq!(m["b"], AttributeValue::B(vec![0, 1]));
    }

    #[test]
    fn empty_and_ambiguous_values_are_rejected_with_aws_text() {
        assert!(
            parse("{}")
                .unwrap_err()
                .contains("Supplied AttributeValue is empty")
        );
        assert!(
            parse(r#"{"S":"a","N":"1"}"#)
                .unwrap_err()
                .contains("more than one datatypes")
        );
        assert!(parse(r#"{"S":null}"#).unwrap_err().contains("is empty"));
        assert!(
            parse(r#"{"NULL":false}"#)
                .unwrap_err()
                .contains("Null attribute value types must have the value of true")
        );
        assert!(
            parse(r#"{"SS":[]}"#)
                .unwrap_err()
                .contains("An string set  may not be empty")
        );
        assert!(
            parse(r#"{"SS":["a","a"]}"#)
                .unwrap_err()
                .contains("Input collection [a, a] contains duplicates.")
        );
        assert!(
            parse(r#"{"NS":["1","1.0"]}"#)
                .unwrap_err()
                .contains("Input collection contains duplicates")
        );
        assert!(
            parse(r#"{"B":"abc"}"#)
                .unwrap_err()
                .contains("multiple of 4 bytes but found: 3")
        );
    }

    #[test]
    fn sizes_follow_aws_rules() {
        let item: Item = serde_json::from_str(
            r#"{"ab":{"S":"xyz"},"l":{"L":[{"BOOL":true}]},"m":{"M":{"k":{"NULL":true}}}}"#,
        )
        .unwrap();
        // ab: 2 + 3; l: 1 + 3 + (1 + 1); m: 1 + 3 + (1 + 1 + 1)
        assert_eq!(item_size(&item), 5 + 6 + 7);
    }
}
