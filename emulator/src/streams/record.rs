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

/// The `dynamodb` member of a record.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamData {
    /// Epoch seconds, whole.
    pub approximate_creation_date_time: f64,
    /// The item's key attributes.
    pub keys: Item,
    /// The item after the change, when the view type carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_image: Option<Item>,
    /// The item before the change, when the view type carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_image: Option<Item>,
    /// Decimal digits, increasing within a shard.
    pub sequence_number: String,
    /// Size of keys and images.
    pub size_bytes: u64,
    /// The stream's view type.
    pub stream_view_type: &'static str,
}

/// A stream record in GetRecords' form (Lambda adds `eventSourceARN`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record {
    /// 32 lowercase hex digits.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// INSERT, MODIFY or REMOVE.
    #[serde(rename = "eventName")]
    pub event_name: &'static str,
    /// Always `1.1`.
    #[serde(rename = "eventVersion")]
    pub event_version: &'static str,
    /// Always `aws:dynamodb`.
    #[serde(rename = "eventSource")]
    pub event_source: &'static str,
    /// The table's region.
    #[serde(rename = "awsRegion")]
    pub aws_region: String,
    /// Keys, images and sequence number.
    pub dynamodb: StreamData,
    /// Set on TTL deletions only.
    #[serde(rename = "userIdentity", skip_serializing_if = "Option::is_none")]
    pub user_identity: Option<UserIdentity>,
}

impl Record {
    /// The record of a change from `old` to `new` (at least one present, and different), or `None` when the
    /// change is not one (AWS writes no record for a write that changes nothing).
    #[allow(clippy::too_many_arguments)] // NB: each is one fact of the change; a struct would only rename them
    pub fn of_change(
        key_schema: &KeySchema,
        view_type: ViewType,
        region: &str,
        sequence_number: u128,
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
        let keys = key_schema.key_attributes(any);
        let new_image = new.filter(|_| view_type.new_image()).cloned();
        let old_image = old.filter(|_| view_type.old_image()).cloned();
        let size_bytes = (item_size(&keys)
            + new_image.as_ref().map_or(0, item_size)
            + old_image.as_ref().map_or(0, item_size)) as u64;
        Some(Record {
            event_id: format!("{:032x}", rand::random::<u128>()),
            event_name,
            event_version: "1.1",
            event_source: "aws:dynamodb",
            aws_region: region.to_owned(),
            dynamodb: StreamData {
                approximate_creation_date_time: created_secs.floor(),
                keys,
                new_image,
                old_image,
                sequence_number: sequence_text(sequence_number),
                size_bytes,
                stream_view_type: view_type.as_str(),
            },
            user_identity: (by_ttl && event_name == "REMOVE").then_some(TTL_IDENTITY),
        })
    }
}

/// Sequence numbers are printed with at least 21 digits, as AWS's are.
pub fn sequence_text(sequence_number: u128) -> String {
    format!("{sequence_number:021}")
}
