//! Tags: TagResource, UntagResource and ListTagsOfResource on table (and stream) ARNs, and the tags of
//! CreateTable, with AWS's limits and messages.
//!
//! Measured against AWS: every tag rule is a synchronous, all-or-nothing ValidationException (the 50-tag limit
//! too, checked on the set after the merge, never LimitExceededException); TagResource upserts; untagging an
//! absent key is a no-op; `aws:` keys are refused in any case, even by UntagResource; a stream ARN carries its
//! own tags, apart from its table's; ListTagsOfResource returns every tag (at most 50) in one page.
//!
//! NB: on AWS a tag change is visible to ListTagsOfResource only after about two seconds and holds a per-table
//! lock meanwhile ("Table tags are being updated"). dynastream applies tags at once and has no such lock: a
//! read-after-write that AWS would serve stale is served fresh here.

use std::sync::Arc;

use crate::{
    aws_error,
    dynamodb::{
        table::{Table, TableMeta},
        validate::Constraints,
        value::INVALID_PARAMETERS,
        wire::{
            ListTagsOfResourceInput, ListTagsOfResourceOutput, Tag, TagResourceInput, UntagResourceInput,
        },
    },
    edge::{AwsError, RequestContext},
};

use super::Db;

/// Most tags a table (or stream) may carry.
pub const MAX_TAGS: usize = 50;
/// Longest tag key, in characters.
pub const MAX_KEY_CHARS: usize = 128;
/// Longest tag value, in characters.
pub const MAX_VALUE_CHARS: usize = 256;
/// Most bytes of keys and values together on one resource.
pub const MAX_TAG_SET_BYTES: usize = 10_240;
/// Longest resource ARN AWS accepts.
const MAX_ARN_CHARS: usize = 1283;
/// The prefix AWS keeps for its own tags.
const RESERVED_PREFIX: &str = "aws:";
/// Punctuation allowed in keys and values besides letters, numbers and spaces (AWS's tag pattern
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`).
const ALLOWED_PUNCTUATION: &str = "_.:/=+-@";

/// A tag set: keys and values in insertion order.
type Tags = Vec<(String, String)>;

/// TagResource: adds tags, replacing the values of keys already present.
pub fn tag_resource(db: &Db, ctx: &RequestContext, input: TagResourceInput) -> Result<(), AwsError> {
    let mut c = Constraints::new();
    check_arn_constraints(&mut c, input.resource_arn.as_ref());
    c.not_null("tags", input.tags.as_ref());
    c.finish()?;
    let arn = input.resource_arn.unwrap_or_default();
    let target = Target::parse(&arn, ctx)?;
    let tags = input.tags.unwrap_or_default();
    if tags.is_empty() {
        return Err(AwsError::validation(
            "Atleast one Tag needs to be provided as Input.",
        ));
    }
    let tags = checked_tags(tags)?;
    let (table, stream) = target.resolve(db, ctx, &arn)?;
    table.update_meta(|meta| {
        let mut merged = current_tags(meta, stream.as_deref()).to_vec();
        for (key, value) in tags {
            match merged.iter_mut().find(|(k, _)| *k == key) {
                Some(existing) => existing.1 = value,
                None => merged.push((key, value)),
            }
        }
        check_tag_set(&merged)?;
        *tags_of(meta, stream.as_deref()) = merged;
        Ok::<_, AwsError>(())
    })?;
    tracing::debug!(resource = %arn, "tagged resource");
    Ok(())
}

/// UntagResource: removes the tags with the given keys; keys not present are ignored.
pub fn untag_resource(db: &Db, ctx: &RequestContext, input: UntagResourceInput) -> Result<(), AwsError> {
    let mut c = Constraints::new();
    check_arn_constraints(&mut c, input.resource_arn.as_ref());
    c.not_null("tagKeys", input.tag_keys.as_ref());
    c.finish()?;
    let arn = input.resource_arn.unwrap_or_default();
    let target = Target::parse(&arn, ctx)?;
    let keys = input.tag_keys.unwrap_or_default();
    if keys.is_empty() {
        return Err(AwsError::validation(
            "Atleast one Tag Key needs to be provided as Input.",
        ));
    }
    for key in &keys {
        check_key(Some(key))?;
    }
    // NB: AWS applies the tag-count limit to the keys of an UntagResource too, although it only removes tags.
    if keys.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    let (table, stream) = target.resolve(db, ctx, &arn)?;
    table.update_meta(|meta| tags_of(meta, stream.as_deref()).retain(|(k, _)| !keys.contains(k)));
    tracing::debug!(resource = %arn, "untagged resource");
    Ok(())
}

/// ListTagsOfResource: every tag of the resource, in the order they were first set.
pub fn list_tags_of_resource(
    db: &Db,
    ctx: &RequestContext,
    input: ListTagsOfResourceInput,
) -> Result<ListTagsOfResourceOutput, AwsError> {
    let mut c = Constraints::new();
    check_arn_constraints(&mut c, input.resource_arn.as_ref());
    c.finish()?;
    let arn = input.resource_arn.unwrap_or_default();
    let (table, stream) = Target::parse(&arn, ctx)?.resolve(db, ctx, &arn)?;
    let meta = table.meta();
    let tags = current_tags(&meta, stream.as_deref());
    // NB: AWS answers all of a resource's tags (at most 50) in one page and never sends a NextToken (measured at
    // 50 tags), so there is no second page to ask for: an incoming NextToken is accepted and ignored.
    let _ = input.next_token;
    Ok(ListTagsOfResourceOutput {
        tags: tags
            .iter()
            .map(|(key, value)| Tag {
                key: Some(key.clone()),
                value: Some(value.clone()),
            })
            .collect(),
        next_token: None,
    })
}

/// The tags of CreateTable, checked as TagResource checks them (an invalid tag means no table).
pub fn create_table_tags(tags: Option<Vec<Tag>>) -> Result<Tags, AwsError> {
    let tags = checked_tags(tags.unwrap_or_default())?;
    check_tag_set(&tags)?;
    Ok(tags)
}

/// The resource an ARN names, once its form, region and account are checked.
#[derive(Debug, PartialEq, Eq)]
struct Target<'a> {
    /// The table's name.
    table: &'a str,
    /// The stream's label, when the ARN names the table's stream.
    stream: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// Parses `arn:aws:dynamodb:<region>:<account>:table/<name>[/stream/<label>]` with AWS's messages for
    /// every other form.
    fn parse(arn: &'a str, ctx: &RequestContext) -> Result<Self, AwsError> {
        if !arn.starts_with("arn:") {
            return Err(invalid(format!("ARNs must start with 'arn:': {arn}")));
        }
        let not_dynamodb = || invalid(format!("Provided Arn is not a DynamoDB resource arn: {arn}"));
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, partition, service, region, account, resource] = parts[..] else {
            return Err(not_dynamodb());
        };
        if service != "dynamodb" {
            return Err(not_dynamodb());
        }
        let target = match resource.split('/').collect::<Vec<_>>()[..] {
            ["table", table] => Target { table, stream: None },
            ["table", table, "stream", label] => Target {
                table,
                stream: Some(label),
            },
            ["table", _, "index", ..] => {
                return Err(invalid(format!(
                    "Invalid resource arn provided, only table or stream is accepted. Provided resource arn: {arn}"
                )));
            }
            _ => return Err(not_dynamodb()),
        };
        let valid_name = (3..=255).contains(&target.table.len())
            && target
                .table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        // NB: a table of another region (or partition) is "invalid" to AWS; one of another account is forbidden.
        if !valid_name || partition != "aws" || region != ctx.region {
            return Err(AwsError::validation(format!(
                "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
            )));
        }
        if account != ctx.account {
            return Err(aws_error!(AccessDeniedException, "Access is denied"));
        }
        Ok(target)
    }

    /// The table, and the stream's label when the ARN names a stream, or AWS's "not found" naming the ARN.
    fn resolve(
        &self,
        db: &Db,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<(Arc<Table>, Option<String>), AwsError> {
        let not_found = || {
            aws_error!(
                ResourceNotFoundException,
                "Requested resource not found: ResourceArn: {arn} not found"
            )
        };
        let table = db
            .region(&ctx.account, &ctx.region)
            .table(self.table)
            .ok_or_else(not_found)?;
        match self.stream {
            None => Ok((table, None)),
            // NB: only the table's latest stream can be named: AWS keeps older streams readable for 24 hours,
            // which dynastream does not model yet.
            Some(label) if table.meta().stream.as_ref().is_some_and(|s| s.label == label) => {
                Ok((table, Some(label.to_owned())))
            }
            Some(_) => Err(not_found()),
        }
    }
}

/// The tags of the table, or of its stream with `label`.
fn current_tags<'m>(meta: &'m TableMeta, label: Option<&str>) -> &'m [(String, String)] {
    match label {
        None => &meta.tags,
        Some(label) => meta
            .stream_tags
            .iter()
            .find(|(l, _)| l == label)
            .map_or(&[], |(_, tags)| tags.as_slice()),
    }
}

/// The tag set of the table, or of its stream with `label` (created empty on first use), to change.
fn tags_of<'m>(meta: &'m mut TableMeta, label: Option<&str>) -> &'m mut Tags {
    let Some(label) = label else {
        return &mut meta.tags;
    };
    let at = match meta.stream_tags.iter().position(|(l, _)| l == label) {
        Some(at) => at,
        None => {
            meta.stream_tags.push((label.to_owned(), Vec::new()));
            meta.stream_tags.len() - 1
        }
    };
    &mut meta.stream_tags[at].1
}

fn check_arn_constraints(c: &mut Constraints, arn: Option<&String>) {
    c.not_null("resourceArn", arn);
    if let Some(arn) = arn {
        c.length("resourceArn", arn, 1, MAX_ARN_CHARS);
    }
}

/// Checks each tag of a request in order, then the request as a whole: no key twice, at most 50 tags.
fn checked_tags(tags: Vec<Tag>) -> Result<Tags, AwsError> {
    let mut checked: Tags = Vec::with_capacity(tags.len());
    for tag in tags {
        let key = check_key(tag.key.as_deref())?.to_owned();
        let value = check_value(tag.value.as_deref())?.to_owned();
        checked.push((key, value));
    }
    for (i, (key, _)) in checked.iter().enumerate() {
        if checked[..i].iter().any(|(k, _)| k == key) {
            return Err(AwsError::validation(format!(
                "Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}"
            )));
        }
    }
    if checked.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    Ok(checked)
}

/// The limits on a resource's whole tag set: at most 50 tags and 10240 bytes of keys and values.
fn check_tag_set(tags: &Tags) -> Result<(), AwsError> {
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    let bytes: usize = tags.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_TAG_SET_BYTES {
        return Err(AwsError::validation(format!(
            "Tag set size {bytes} bytes is above max size limit of {MAX_TAG_SET_BYTES} bytes"
        )));
    }
    Ok(())
}

/// A tag key: 1 to 128 allowed characters, not starting with `aws:` in any case.
fn check_key(key: Option<&str>) -> Result<&str, AwsError> {
    let Some(key) = key else {
        return Err(AwsError::validation("The Tag Key provided is invalid, Key: null"));
    };
    let chars = key.chars().count();
    if chars == 0 || chars > MAX_KEY_CHARS || !key.chars().all(allowed) {
        return Err(AwsError::validation(format!(
            "The Tag Key provided is invalid, Key: {key}"
        )));
    }
    if key
        .get(..RESERVED_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(RESERVED_PREFIX))
    {
        return Err(AwsError::validation(format!(
            "Tag Key cannot be prefixed with aws:, Key: {key}"
        )));
    }
    Ok(key)
}

/// A tag value: 0 to 256 allowed characters (empty is fine, absent is not).
fn check_value(value: Option<&str>) -> Result<&str, AwsError> {
    let Some(value) = value else {
        return Err(AwsError::validation(
            "The Tag Value provided is invalid, Value: null",
        ));
    };
    if value.chars().count() > MAX_VALUE_CHARS || !value.chars().all(allowed) {
        return Err(AwsError::validation(format!(
            "The Tag Value provided is invalid, Value: {value}"
        )));
    }
    Ok(value)
}

/// AWS's tag characters: letters and numbers of any script, space separators, and `_ . : / = + - @`.
///
/// NB: `\p{Z}` is exactly Unicode White_Space minus the control characters; `is_alphabetic` is a superset of
/// `\p{L}` by a few combining marks, which AWS would refuse.
fn allowed(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || ALLOWED_PUNCTUATION.contains(c)
}

fn too_many_tags() -> AwsError {
    AwsError::validation("Number of Tags exceed the current limit for the provided ResourceArn")
}

fn invalid(message: impl std::fmt::Display) -> AwsError {
    AwsError::validation(format!("{INVALID_PARAMETERS}{message}"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::default_scope()
    }

    fn message(err: AwsError) -> String {
        err.message().unwrap_or_default().to_owned()
    }

    #[test]
    fn table_and_stream_arns_name_their_targets() {
        let table = "arn:aws:dynamodb:us-east-1:000000000000:table/bark";
        assert_eq!(
            Target::parse(table, &ctx()).unwrap(),
            Target {
                table: "bark",
                stream: None
            }
        );
        let stream = "arn:aws:dynamodb:us-east-1:000000000000:table/bark/stream/2026-01-01T00:00:00.000";
        assert_eq!(
            Target::parse(stream, &ctx()).unwrap(),
            Target {
                table: "bark",
                stream: Some("2026-01-01T00:00:00.000")
            }
        );
    }

    #[test]
    fn arn_of_other_forms_gets_the_message_for_its_form() {
        let cases = [
            (
                "bark",
                "One or more parameter values were invalid: ARNs must start with 'arn:': bark",
            ),
            (
                "arn:aws:s3:::bucket",
                "One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: \
                 arn:aws:s3:::bucket",
            ),
            (
                "arn:aws:dynamodb:us-east-1:000000000000:table/bark/index/gsi",
                "One or more parameter values were invalid: Invalid resource arn provided, only table or stream \
                 is accepted. Provided resource arn: arn:aws:dynamodb:us-east-1:000000000000:table/bark/index/gsi",
            ),
            (
                "arn:aws:dynamodb:eu-west-1:000000000000:table/bark",
                "Invalid TableArn: Invalid ResourceArn provided as input \
                 arn:aws:dynamodb:eu-west-1:000000000000:table/bark",
            ),
            (
                "arn:aws:dynamodb:us-east-1:000000000000:table/ab",
                "Invalid TableArn: Invalid ResourceArn provided as input \
                 arn:aws:dynamodb:us-east-1:000000000000:table/ab",
            ),
        ];
        for (arn, expected) in cases {
            assert_eq!(
                message(Target::parse(arn, &ctx()).unwrap_err()),
                expected,
                "{arn}"
            );
        }
        let foreign =
            Target::parse("arn:aws:dynamodb:us-east-1:123456789012:table/bark", &ctx()).unwrap_err();
        assert_eq!(foreign.code(), crate::edge::ErrorCode::AccessDeniedException);
        assert_eq!(message(foreign), "Access is denied");
    }

    #[test]
    fn tag_characters_are_letters_numbers_spaces_and_a_few_marks() {
        for ok in ["ключ", "café", "表", "a b", "a\u{a0}b", "a+b-c=d.e_f:g/h@i", "7"] {
            assert!(check_key(Some(ok)).is_ok(), "{ok}");
        }
        for bad in ["hi!", "d%g", "\"q\"", "a,b", "a|b", "🔑", "tab\there", "bad#char"] {
            assert_eq!(
                message(check_key(Some(bad)).unwrap_err()),
                format!("The Tag Key provided is invalid, Key: {bad}")
            );
        }
    }

    #[test]
    fn reserved_prefix_is_refused_in_any_case_but_only_as_a_prefix() {
        assert_eq!(
            message(check_key(Some("AWS:foo")).unwrap_err()),
            "Tag Key cannot be prefixed with aws:, Key: AWS:foo"
        );
        assert!(check_key(Some("myaws:foo")).is_ok());
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check_key(Some(&"א".repeat(128))).is_ok());
        assert!(check_key(Some(&"x".repeat(129))).is_err());
        assert!(check_value(Some(&"א".repeat(256))).is_ok());
        assert!(check_value(Some("")).is_ok());
        assert_eq!(
            message(check_value(None).unwrap_err()),
            "The Tag Value provided is invalid, Value: null"
        );
    }

    #[test]
    fn tag_set_over_the_byte_limit_is_refused_with_its_size() {
        let tags: Tags = (0..41).map(|i| (format!("{i:0>6}"), "v".repeat(250))).collect();
        assert_eq!(
            message(check_tag_set(&tags).unwrap_err()),
            "Tag set size 10496 bytes is above max size limit of 10240 bytes"
        );
    }

    /// Arbitrary JSON, biased towards the members of the tag and time-to-live operations.
    fn json_value() -> impl Strategy<Value = Value> {
        let names = prop::sample::select(vec![
            "TableName",
            "ResourceArn",
            "Tags",
            "TagKeys",
            "Key",
            "Value",
            "NextToken",
            "TimeToLiveSpecification",
            "AttributeName",
            "Enabled",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop::sample::select(vec![
                "tbl",
                "",
                "aws:x",
                "arn:",
                "arn:aws:dynamodb:us-east-1:000000000000:table/tbl",
                "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/stream/x",
                "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/index/i",
                "arn:aws:dynamodb:us-east-1:000000000000:table",
                "arn:aws:dynamodb:::",
            ])
            .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::vec((names.clone(), inner), 0..5).prop_map(|pairs| Value::Object(
                    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// No request body, however malformed, panics a tag or time-to-live operation.
        #[test]
        fn no_input_panics_the_tag_and_time_to_live_operations(body in json_value(), op in prop::sample::select(vec![
            "TagResource", "UntagResource", "ListTagsOfResource", "UpdateTimeToLive", "DescribeTimeToLive",
        ])) {
            let db = Db::default();
            let ctx = ctx();
            let table = json!({
                "TableName": "tbl",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"},
            });
            super::super::call(&db, &ctx, "CreateTable", table.to_string().as_bytes()).unwrap();
            let _ = super::super::call(&db, &ctx, op, body.to_string().as_bytes());
        }
    }
}
