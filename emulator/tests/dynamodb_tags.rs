//! Tags through the official AWS SDK for Rust: TagResource, UntagResource, ListTagsOfResource and the tags of
//! CreateTable, with AWS's limits, messages and ARN handling.

mod common;

use aws_sdk_dynamodb::{
    Client,
    types::{StreamViewType, Tag},
};
use common::{TestEmulator, aws, code_and_message, pk_table_request, stream_on, unique, validation};

/// A hash-only, on-demand table with partition key `pk`, tagged with `tags`; returns its ARN.
async fn table_with_tags(client: &Client, name: &str, tags: &[(&str, &str)]) -> String {
    let mut create = pk_table_request(client, name);
    for (key, value) in tags {
        create = create.tags(tag(key, value));
    }
    let created = create.send().await.unwrap();
    created
        .table_description()
        .unwrap()
        .table_arn()
        .unwrap()
        .to_owned()
}

async fn table(client: &Client) -> String {
    table_with_tags(client, &unique("tags"), &[]).await
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

fn tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
    pairs.iter().map(|(k, v)| tag(k, v)).collect()
}

fn numbered(range: std::ops::Range<usize>) -> Vec<Tag> {
    range
        .map(|i| tag(&format!("k{i:02}"), &format!("v{i:02}")))
        .collect()
}

async fn listed(client: &Client, arn: &str) -> Vec<(String, String)> {
    let listed = client
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.next_token(), None);
    listed
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn tag_resource(client: &Client, arn: &str, tags: Vec<Tag>) -> Result<(), (String, String)> {
    match client
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) => Err(code_and_message(&err)),
    }
}

async fn untag_resource(client: &Client, arn: &str, keys: &[&str]) -> Result<(), (String, String)> {
    let keys = keys.iter().map(|k| (*k).to_owned()).collect();
    match client
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) => Err(code_and_message(&err)),
    }
}

const TOO_MANY_TAGS: &str = "Number of Tags exceed the current limit for the provided ResourceArn";

// ---------------------------------------------------------------------------------------------------------------
// What tags do

#[tokio::test]
async fn tags_given_to_create_table_are_listed_by_table_arn() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table_with_tags(&client, &unique("tags"), &[("team", "bark"), ("env", "dev")]).await;
    assert_eq!(
        listed(&client, &arn).await,
        pairs(&[("team", "bark"), ("env", "dev")])
    );
}

#[tokio::test]
async fn new_table_has_no_tags() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    assert_eq!(listed(&client, &arn).await, pairs(&[]));
}

#[tokio::test]
async fn tag_resource_adds_tags_and_replaces_values_of_existing_keys() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table_with_tags(&client, &unique("tags"), &[("team", "bark")]).await;
    tag_resource(&client, &arn, tags(&[("env", "dev"), ("team", "woof")]))
        .await
        .unwrap();
    assert_eq!(
        listed(&client, &arn).await,
        pairs(&[("team", "woof"), ("env", "dev")])
    );
}

#[tokio::test]
async fn untag_resource_removes_keys_and_ignores_absent_ones() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table_with_tags(&client, &unique("tags"), &[("a", "1"), ("b", "2"), ("c", "3")]).await;
    untag_resource(&client, &arn, &["b", "never-set"]).await.unwrap();
    assert_eq!(listed(&client, &arn).await, pairs(&[("a", "1"), ("c", "3")]));
}

#[tokio::test]
async fn empty_tag_value_is_kept_and_keys_are_case_sensitive() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    tag_resource(&client, &arn, tags(&[("Env", ""), ("env", "x"), (" env", "y")]))
        .await
        .unwrap();
    assert_eq!(
        listed(&client, &arn).await,
        pairs(&[("Env", ""), ("env", "x"), (" env", "y")])
    );
}

#[tokio::test]
async fn tags_of_unicode_letters_and_allowed_marks_are_accepted() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    let accepted = [
        ("ключ", "значение"),
        ("表", "café"),
        ("sp ace", "a b+c-d=e.f_g:h/i@j"),
    ];
    tag_resource(&client, &arn, tags(&accepted)).await.unwrap();
    assert_eq!(listed(&client, &arn).await, pairs(&accepted));
}

#[tokio::test]
async fn list_tags_of_resource_returns_all_fifty_tags_without_next_token() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    tag_resource(&client, &arn, numbered(0..50)).await.unwrap();
    // `listed` asserts that no NextToken comes back.
    assert_eq!(listed(&client, &arn).await.len(), 50);
}

#[tokio::test]
async fn stream_arn_carries_its_own_tags() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("tags");
    let table_arn = table_with_tags(&client, &name, &[("team", "bark")]).await;
    let updated = client
        .update_table()
        .table_name(&name)
        .stream_specification(stream_on(StreamViewType::NewImage))
        .send()
        .await
        .unwrap();
    let stream_arn = updated
        .table_description()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned();
    assert_eq!(listed(&client, &stream_arn).await, pairs(&[]));
    tag_resource(&client, &stream_arn, tags(&[("kind", "stream")]))
        .await
        .unwrap();
    assert_eq!(listed(&client, &stream_arn).await, pairs(&[("kind", "stream")]));
    assert_eq!(listed(&client, &table_arn).await, pairs(&[("team", "bark")]));
}

#[tokio::test]
async fn recreated_table_does_not_inherit_the_tags_of_the_deleted_one() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("tags");
    let arn = table_with_tags(&client, &name, &[("team", "bark")]).await;
    client.delete_table().table_name(&name).send().await.unwrap();
    assert_eq!(table_with_tags(&client, &name, &[]).await, arn);
    assert_eq!(listed(&client, &arn).await, pairs(&[]));
}

#[tokio::test]
async fn tag_resource_answers_with_an_empty_body() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    for (operation, body) in [
        (
            "TagResource",
            format!(r#"{{"ResourceArn":"{arn}","Tags":[{{"Key":"a","Value":"b"}}]}}"#),
        ),
        (
            "UntagResource",
            format!(r#"{{"ResourceArn":"{arn}","TagKeys":["a"]}}"#),
        ),
    ] {
        let response = emulator.dynamodb_raw(operation, &body).await;
        assert_eq!(
            (response.status, response.body.as_str()),
            (200, ""),
            "{operation}"
        );
    }
}

#[tokio::test]
async fn aws_cli_tags_and_lists_tags_of_a_table() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    let Some(tagged) = aws(
        &emulator,
        &[
            "dynamodb",
            "tag-resource",
            "--resource-arn",
            &arn,
            "--tags",
            "Key=team,Value=bark",
        ],
    )
    .await
    else {
        return;
    };
    assert!(
        tagged.status.success(),
        "{}",
        String::from_utf8_lossy(&tagged.stderr)
    );
    let listed = aws(
        &emulator,
        &["dynamodb", "list-tags-of-resource", "--resource-arn", &arn],
    )
    .await
    .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        listed,
        serde_json::json!({"Tags": [{"Key": "team", "Value": "bark"}]})
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Limits

#[tokio::test]
async fn tag_resource_beyond_fifty_tags_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    tag_resource(&client, &arn, numbered(0..50)).await.unwrap();
    let result = tag_resource(&client, &arn, numbered(50..51)).await;
    assert_eq!(result, Err(validation(TOO_MANY_TAGS)));
    // The limit applies to the merged set: new values for the 50 keys present are fine.
    let renamed = (0..50).map(|i| tag(&format!("k{i:02}"), "new")).collect();
    tag_resource(&client, &arn, renamed).await.unwrap();
    assert!(listed(&client, &arn).await.iter().all(|(_, v)| v == "new"));
}

#[tokio::test]
async fn tag_resource_with_fifty_one_tags_in_one_call_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    let result = tag_resource(&client, &arn, numbered(0..51)).await;
    assert_eq!(result, Err(validation(TOO_MANY_TAGS)));
    assert_eq!(listed(&client, &arn).await, pairs(&[]));
}

#[tokio::test]
async fn untag_resource_of_more_than_fifty_keys_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    let keys: Vec<String> = (0..51).map(|i| format!("k{i:02}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_eq!(
        untag_resource(&client, &arn, &keys).await,
        Err(validation(TOO_MANY_TAGS))
    );
}

#[tokio::test]
async fn create_table_with_more_than_fifty_tags_is_rejected_and_creates_no_table() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("tags");
    let result = pk_table_request(&client, &name)
        .set_tags(Some(numbered(0..100)))
        .send()
        .await;
    assert_eq!(
        result.map(|_| ()).map_err(|e| code_and_message(&e)),
        Err(validation(TOO_MANY_TAGS))
    );
    let described = client.describe_table().table_name(&name).send().await;
    assert_eq!(
        described
            .map(|_| ())
            .map_err(|e| code_and_message(&e))
            .unwrap_err()
            .0,
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn tag_set_larger_than_10240_bytes_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    // 40 tags of 6 + 250 bytes: 10240 bytes, exactly the limit.
    let big = |range: std::ops::Range<usize>| {
        range
            .map(|i| tag(&format!("{i:0>6}"), &"v".repeat(250)))
            .collect()
    };
    tag_resource(&client, &arn, big(0..40)).await.unwrap();
    let result = tag_resource(&client, &arn, big(40..41)).await;
    assert_eq!(
        result,
        Err(validation(
            "Tag set size 10496 bytes is above max size limit of 10240 bytes"
        ))
    );
}

#[tokio::test]
async fn tag_key_longer_than_128_characters_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    tag_resource(&client, &arn, tags(&[(&"k".repeat(128), "v")]))
        .await
        .unwrap();
    let long = "k".repeat(129);
    let result = tag_resource(&client, &arn, tags(&[(&long, "v")])).await;
    assert_eq!(
        result,
        Err(validation(&format!(
            "The Tag Key provided is invalid, Key: {long}"
        )))
    );
    let result = untag_resource(&client, &arn, &[&long]).await;
    assert_eq!(
        result,
        Err(validation(&format!(
            "The Tag Key provided is invalid, Key: {long}"
        )))
    );
}

#[tokio::test]
async fn tag_value_longer_than_256_characters_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    tag_resource(&client, &arn, tags(&[("k", &"v".repeat(256))]))
        .await
        .unwrap();
    let long = "v".repeat(257);
    let result = tag_resource(&client, &arn, tags(&[("k", &long)])).await;
    assert_eq!(
        result,
        Err(validation(&format!(
            "The Tag Value provided is invalid, Value: {long}"
        )))
    );
}

#[tokio::test]
async fn empty_tag_key_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    let result = tag_resource(&client, &arn, tags(&[("", "dog")])).await;
    assert_eq!(result, Err(validation("The Tag Key provided is invalid, Key: ")));
}

#[tokio::test]
async fn tag_with_characters_outside_aws_set_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    for bad in ["hi!", "d%g", "\"hello\"", "a,b", "bad#char", "🔑"] {
        let result = tag_resource(&client, &arn, tags(&[(bad, "dog")])).await;
        assert_eq!(
            result,
            Err(validation(&format!(
                "The Tag Key provided is invalid, Key: {bad}"
            )))
        );
        let result = tag_resource(&client, &arn, tags(&[("dog", bad)])).await;
        assert_eq!(
            result,
            Err(validation(&format!(
                "The Tag Value provided is invalid, Value: {bad}"
            )))
        );
    }
}

#[tokio::test]
async fn tag_key_with_aws_prefix_is_rejected_in_any_case_even_by_untag() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    for reserved in ["aws:foo", "AWS:foo"] {
        let expected = Err(validation(&format!(
            "Tag Key cannot be prefixed with aws:, Key: {reserved}"
        )));
        assert_eq!(
            tag_resource(&client, &arn, tags(&[(reserved, "x")])).await,
            expected
        );
        assert_eq!(untag_resource(&client, &arn, &[reserved]).await, expected);
    }
    tag_resource(&client, &arn, tags(&[("myaws:foo", "x")]))
        .await
        .unwrap();
}

#[tokio::test]
async fn duplicate_tag_keys_in_one_request_are_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    let result = tag_resource(&client, &arn, tags(&[("dup", "1"), ("other", "x"), ("dup", "2")])).await;
    assert_eq!(
        result,
        Err(validation(
            "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"
        ))
    );
    assert_eq!(listed(&client, &arn).await, pairs(&[]));
}

#[tokio::test]
async fn request_with_one_invalid_tag_applies_none_of_its_tags() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    let result = tag_resource(&client, &arn, tags(&[("good", "1"), ("aws:zzz", "2")])).await;
    assert_eq!(
        result,
        Err(validation("Tag Key cannot be prefixed with aws:, Key: aws:zzz"))
    );
    assert_eq!(listed(&client, &arn).await, pairs(&[]));
}

#[tokio::test]
async fn empty_tag_and_key_lists_are_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    assert_eq!(
        tag_resource(&client, &arn, Vec::new()).await,
        Err(validation("Atleast one Tag needs to be provided as Input."))
    );
    assert_eq!(
        untag_resource(&client, &arn, &[]).await,
        Err(validation("Atleast one Tag Key needs to be provided as Input."))
    );
}

#[tokio::test]
async fn missing_members_are_constraint_errors() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = table(&client).await;
    let cases = [
        (
            "TagResource",
            format!(r#"{{"ResourceArn":"{arn}"}}"#),
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"
                .to_owned(),
        ),
        (
            "UntagResource",
            format!(r#"{{"ResourceArn":"{arn}"}}"#),
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be \
             null"
                .to_owned(),
        ),
        (
            "ListTagsOfResource",
            "{}".to_owned(),
            "1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not \
             be null"
                .to_owned(),
        ),
        (
            "TagResource",
            format!(r#"{{"ResourceArn":"{arn}","Tags":[{{"Key":"k"}}]}}"#),
            "The Tag Value provided is invalid, Value: null".to_owned(),
        ),
        (
            "TagResource",
            format!(r#"{{"ResourceArn":"{arn}","Tags":[{{"Value":"v"}}]}}"#),
            "The Tag Key provided is invalid, Key: null".to_owned(),
        ),
    ];
    for (operation, body, message) in cases {
        let response = emulator.dynamodb_raw(operation, &body).await;
        assert_eq!(response.status, 400, "{body}");
        let body = response.json();
        assert_eq!(body["__type"], "com.amazon.coral.validate#ValidationException");
        assert_eq!(body["message"], message.as_str());
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Which resource an ARN names

#[tokio::test]
async fn tags_of_missing_table_are_resource_not_found_naming_the_arn() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let arn = format!(
        "arn:aws:dynamodb:us-east-1:000000000000:table/{}",
        unique("missing")
    );
    let expected = (
        "ResourceNotFoundException".to_owned(),
        format!("Requested resource not found: ResourceArn: {arn} not found"),
    );
    assert_eq!(
        tag_resource(&client, &arn, tags(&[("a", "b")])).await,
        Err(expected.clone())
    );
    assert_eq!(untag_resource(&client, &arn, &["a"]).await, Err(expected.clone()));
    let listed = client.list_tags_of_resource().resource_arn(&arn).send().await;
    assert_eq!(
        listed.map(|_| ()).map_err(|e| code_and_message(&e)),
        Err(expected)
    );
}

#[tokio::test]
async fn tags_of_an_older_stream_label_are_resource_not_found() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let table_arn = table(&client).await;
    let arn = format!("{table_arn}/stream/2020-01-01T00:00:00.000");
    assert_eq!(
        tag_resource(&client, &arn, tags(&[("a", "b")])).await,
        Err((
            "ResourceNotFoundException".to_owned(),
            format!("Requested resource not found: ResourceArn: {arn} not found")
        ))
    );
}

#[tokio::test]
async fn tagging_a_table_of_another_account_is_access_denied() {
    let emulator = TestEmulator::start().await;
    let owner = emulator.dynamodb();
    let arn = table(&owner).await;
    let stranger = emulator.dynamodb_in("us-east-1", "123456789012");
    let denied = Err(("AccessDeniedException".to_owned(), "Access is denied".to_owned()));
    assert_eq!(tag_resource(&stranger, &arn, tags(&[("a", "b")])).await, denied);
    let listed = stranger.list_tags_of_resource().resource_arn(&arn).send().await;
    assert_eq!(listed.map(|_| ()).map_err(|e| code_and_message(&e)), denied);
}

#[tokio::test]
async fn tagging_a_table_of_another_region_is_an_invalid_table_arn() {
    let emulator = TestEmulator::start().await;
    let arn = table(&emulator.dynamodb()).await;
    let elsewhere = emulator.dynamodb_in("eu-west-1", "test");
    let invalid = Err(validation(&format!(
        "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
    )));
    assert_eq!(tag_resource(&elsewhere, &arn, tags(&[("a", "b")])).await, invalid);
    let listed = elsewhere.list_tags_of_resource().resource_arn(&arn).send().await;
    assert_eq!(listed.map(|_| ()).map_err(|e| code_and_message(&e)), invalid);
}

#[tokio::test]
async fn arn_that_is_not_a_table_or_stream_arn_is_rejected() {
    let emulator = TestEmulator::start().await;
    let client = emulator.dynamodb();
    let name = unique("tags");
    let table_arn = table_with_tags(&client, &name, &[]).await;
    let index_arn = format!("{table_arn}/index/gsi");
    let cases = [
        (
            name.clone(),
            format!("One or more parameter values were invalid: ARNs must start with 'arn:': {name}"),
        ),
        (
            "arn:aws:s3:::bucket".to_owned(),
            "One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: \
             arn:aws:s3:::bucket"
                .to_owned(),
        ),
        (
            index_arn.clone(),
            format!(
                "One or more parameter values were invalid: Invalid resource arn provided, only table or stream is \
                 accepted. Provided resource arn: {index_arn}"
            ),
        ),
    ];
    for (arn, message) in cases {
        assert_eq!(
            tag_resource(&client, &arn, tags(&[("a", "b")])).await,
            Err(validation(&message)),
            "{arn}"
        );
        let listed = client.list_tags_of_resource().resource_arn(&arn).send().await;
        assert_eq!(
            listed.map(|_| ()).map_err(|e| code_and_message(&e)),
            Err(validation(&message))
        );
    }
}
