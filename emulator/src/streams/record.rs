//! A stream record as DynamoDB Streams and Lambda see it, built from one item change.

use serde::Serialize;

use crate::dynamodb::{
    key::KeySchema,
    value::{Item, item_size},
};

/// What a stream record carries besides the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewType {
    /// Only the key attributes.
    KeysOnly,
    /// The item after the change.
    NewImage,
    /// The item before the change.
    OldImage,
    /// Both.
    NewAndOldImages,
}

impl ViewType {
    /// Parses AWS's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "KEYS_ONLY" => ViewType::KeysOnly,
            "NEW_IMAGE" => ViewType::NewImage,
            "OLD_IMAGE" => ViewType::OldImage,
            "NEW_AND_OLD_IMAGES" => ViewType::NewAndOldImages,
            _ => return None,
        })
    }

    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewType::KeysOnly => "KEYS_ONLY",
            ViewType::NewImage => "NEW_IMAGE",
            ViewType::OldImage => "OLD_IMAGE",
            ViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    fn new_image(self) -> bool {
        matches!(self, ViewType::NewImage | ViewType::NewAndOldImages)
    }

    fn old_image(self) -> bool {
        matches!(self, ViewType::OldImage | ViewType::NewAndOldImages)
    }
}

/// A record's `userIdentity`: present only on deletions made by the TTL service.
///
/// NB: the Streams API spells its members `Type` and `PrincipalId`; Lambda events spell them `type` and
/// `principalId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserIdentity {
    /// `Service`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// `dynamodb.amazonaws.com`.
    #[serde(rename = "PrincipalId")]
    pub principal_id: &'static str,
}

/// The TTL service's identity.
pub const TTL_IDENTITY: UserIdentity = UserIdentity {
    kind: "Service",
    principal_id: "dynamodb.amazonaws.com",
};

/// A stream record, kept in its GetRecords JSON form: serialised once, when the change happens, so a record
/// costs its JSON text in memory (not a copy of both images' object trees) and reads need no re-serialisation.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Position in the shard.
    pub sequence: u128,
    /// `ApproximateCreationDateTime`, epoch seconds (whole).
    pub created: f64,
    /// INSERT, MODIFY or REMOVE.
    pub event_name: &'static str,
    /// Size of keys and images, as `SizeBytes` reports it.
    pub size_bytes: u64,
    /// A stable hash of the item's key attributes (records of one item share it).
    pub key_hash: u64,
    /// The record as GetRecords returns it.
    json: Box<str>,
}

/// The `dynamodb` member of a record, borrowing the images.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamData<'a> {
    approximate_creation_date_time: f64,
    keys: Keys<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_image: Option<&'a Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_image: Option<&'a Item>,
    sequence_number: String,
    size_bytes: u64,
    stream_view_type: &'static str,
}

/// The key attributes of an item, borrowed.
struct Keys<'a>(Vec<(&'a str, &'a crate::dynamodb::value::AttributeValue)>);

impl Serialize for Keys<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A record in GetRecords' form.
#[derive(Serialize)]
struct RecordOut<'a> {
    #[serde(rename = "eventID")]
    event_id: String,
    #[serde(rename = "eventName")]
    event_name: &'static str,
    #[serde(rename = "eventVersion")]
    event_version: &'static str,
    #[serde(rename = "eventSource")]
    event_source: &'static str,
    #[serde(rename = "awsRegion")]
    aws_region: &'a str,
    dynamodb: StreamData<'a>,
    #[serde(rename = "userIdentity", skip_serializing_if = "Option::is_none")]
    user_identity: Option<UserIdentity>,
}

impl Record {
    /// The record of a change from `old` to `new` (at least one present, and different), or `None` when the
    /// change is not one (AWS writes no record for a write that changes nothing).
    #[allow(clippy::too_many_arguments)] // NB: each is one fact of the change; a struct would only rename them
    pub fn of_change(
        key_schema: &KeySchema,
        view_type: ViewType,
        region: &str,
        sequence: u128,
        created_secs: f64,
        old: Option<&Item>,
        new: Option<&Item>,
        by_ttl: bool,
    ) -> Option<Self> {
        let event_name = match (old, new) {
            (None, Some(_)) => "INSERT",
            (Some(old), Some(new)) if old != new => "MODIFY",
            (Some(_), None) => "REMOVE",
            _ => return None,
        };
        let any = new.or(old)?;
        let keys: Vec<(&str, &crate::dynamodb::value::AttributeValue)> = key_schema
            .names()
            .filter_map(|name| any.get_key_value(name))
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        let new_image = new.filter(|_| view_type.new_image());
        let old_image = old.filter(|_| view_type.old_image());
        let keys_size: usize = keys.iter().map(|(k, v)| k.len() + v.size()).sum();
        let size_bytes = (keys_size + new_image.map_or(0, item_size) + old_image.map_or(0, item_size)) as u64;
        let key_hash = keys.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, (_, value)| {
            let mut bytes = Vec::new();
            crate::dynamodb::key::encode_key_value(&mut bytes, value);
            bytes
                .iter()
                .fold(hash, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
        });
        let created = created_secs.floor();
        let out = RecordOut {
            event_id: format!("{:032x}", rand::random::<u128>()),
            event_name,
            event_version: "1.1",
            event_source: "aws:dynamodb",
            aws_region: region,
            dynamodb: StreamData {
                approximate_creation_date_time: created,
                keys: Keys(keys),
                new_image,
                old_image,
                sequence_number: sequence_text(sequence),
                size_bytes,
                stream_view_type: view_type.as_str(),
            },
            user_identity: (by_ttl && event_name == "REMOVE").then_some(TTL_IDENTITY),
        };
        let json = serde_json::to_string(&out).ok()?.into_boxed_str();
        Some(Record {
            sequence,
            created,
            event_name,
            size_bytes,
            key_hash,
            json,
        })
    }

    /// The record as GetRecords returns it (JSON).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// `SequenceNumber` as AWS prints it.
    pub fn sequence_number(&self) -> String {
        sequence_text(self.sequence)
    }

    /// The record as Lambda receives it from an event source mapping: GetRecords' record plus
    /// `eventSourceARN`, with `userIdentity`'s members spelt as Lambda spells them.
    pub fn lambda_event(&self, stream_arn: &str) -> serde_json::Value {
        let mut value: serde_json::Value =
            serde_json::from_str(&self.json).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut value {
            if map.contains_key("userIdentity") {
                map.insert(
                    "userIdentity".into(),
                    serde_json::json!({ "type": TTL_IDENTITY.kind, "principalId": TTL_IDENTITY.principal_id }),
                );
            }
            map.insert(
                "eventSourceARN".into(),
                serde_json::Value::String(stream_arn.to_owned()),
            );
        }
        value
    }
}

/// Sequence numbers are printed with at least 21 digits, as AWS's are.
pub fn sequence_text(sequence_number: u128) -> String {
    format!("{sequence_number:021}")
}
