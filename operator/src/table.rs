//! Applying a `Table` to the emulator: CreateTable, then UpdateTable, UpdateTimeToLive and tagging for what AWS
//! lets change; a change AWS forbids (key schema, local secondary indexes) is refused, not applied.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types as ddb;

use crate::aws::{AwsError, Target, deleted, error};
use crate::conditions::Outcome;
use crate::crd::{self, AckResourceMetadata, TableSpec, TableStatus};

/// Applies the spec and returns the new status fields and the outcome.
pub async fn apply(spec: &TableSpec, target: &Target) -> Result<(TableStatus, Outcome), AwsError> {
    let client = target.dynamodb();
    let described = match client.describe_table().table_name(&spec.table_name).send().await {
        Ok(out) => out.table,
        Err(err) => {
            let err = error(err);
            if !err.is_not_found() {
                return Err(err);
            }
            None
        }
    };
    let table = match described {
        None => create(&client, spec).await?,
        Some(table) => {
            if let Err(message) = check_immutable(spec, &table) {
                return Ok((
                    status_from(&table, target),
                    Outcome::Terminal {
                        reason: "ImmutableField".into(),
                        message,
                    },
                ));
            }
            update(&client, spec, &table).await?
        }
    };
    apply_time_to_live(&client, spec).await?;
    if let Some(arn) = &table.table_arn {
        apply_tags(&client, arn, spec).await?;
    }
    let status = status_from(&table, target);
    let outcome = match table.table_status {
        Some(ddb::TableStatus::Active) => Outcome::Synced,
        ref other => Outcome::Progressing {
            reason: "TableNotActive".into(),
            message: format!(
                "the table is {}",
                other.as_ref().map_or("being created", |s| s.as_str())
            ),
        },
    };
    Ok((status, outcome))
}

/// Deletes the table; a table that is already gone is fine.
pub async fn delete(spec: &TableSpec, target: &Target) -> Result<(), AwsError> {
    deleted(
        target
            .dynamodb()
            .delete_table()
            .table_name(&spec.table_name)
            .send()
            .await,
    )
}

async fn create(client: &Client, spec: &TableSpec) -> Result<ddb::TableDescription, AwsError> {
    let out = client
        .create_table()
        .table_name(&spec.table_name)
        .set_attribute_definitions(Some(attribute_definitions(spec)))
        .set_key_schema(Some(key_schema(&spec.key_schema)))
        .set_billing_mode(spec.billing_mode.as_deref().map(ddb::BillingMode::from))
        .set_provisioned_throughput(spec.provisioned_throughput.as_ref().map(throughput))
        .set_on_demand_throughput(spec.on_demand_throughput.as_ref().map(on_demand))
        .set_global_secondary_indexes(
            spec.global_secondary_indexes
                .as_ref()
                .map(|gsis| gsis.iter().map(gsi).collect()),
        )
        .set_local_secondary_indexes(
            spec.local_secondary_indexes
                .as_ref()
                .map(|lsis| lsis.iter().map(lsi).collect()),
        )
        .set_stream_specification(spec.stream_specification.as_ref().map(stream))
        .set_sse_specification(spec.sse_specification.as_ref().map(sse))
        .set_table_class(spec.table_class.as_deref().map(ddb::TableClass::from))
        .set_deletion_protection_enabled(spec.deletion_protection_enabled)
        .set_tags(spec.tags.as_ref().map(|tags| tags.iter().map(tag).collect()))
        .send()
        .await
        .map_err(error)?;
    out.table_description.ok_or_else(|| AwsError {
        code: "InvalidResponse".into(),
        message: "CreateTable answered no TableDescription".into(),
    })
}

/// The changes AWS does not allow, as the message shown in the `Ready` condition.
pub fn check_immutable(spec: &TableSpec, table: &ddb::TableDescription) -> Result<(), String> {
    let want = key_schema(&spec.key_schema);
    if table.key_schema() != want.as_slice() {
        return Err(format!(
            "spec.keySchema cannot change once the table exists (it is {}); delete and recreate the Table to change it",
            describe_keys(table.key_schema())
        ));
    }
    let mut want_lsis: Vec<(String, String)> = spec
        .local_secondary_indexes
        .iter()
        .flatten()
        .map(|l| (l.index_name.clone(), describe_keys(&key_schema(&l.key_schema))))
        .collect();
    let mut have_lsis: Vec<(String, String)> = table
        .local_secondary_indexes()
        .iter()
        .map(|l| {
            (
                l.index_name().unwrap_or_default().to_owned(),
                describe_keys(l.key_schema()),
            )
        })
        .collect();
    want_lsis.sort();
    have_lsis.sort();
    if want_lsis != have_lsis {
        return Err("spec.localSecondaryIndexes cannot change once the table exists; delete and recreate the Table to change them".into());
    }
    Ok(())
}

fn describe_keys(keys: &[ddb::KeySchemaElement]) -> String {
    keys.iter()
        .map(|k| format!("{} {}", k.attribute_name(), k.key_type().as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One UpdateTable call each: AWS takes one index change per call, and a stream's view type can only change by
/// turning the stream off and on again.
pub fn plan_updates(spec: &TableSpec, table: &ddb::TableDescription) -> Vec<UpdateTable> {
    let mut updates = Vec::new();
    let mut base = UpdateTable::default();
    let have_mode = table
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .cloned()
        .unwrap_or(ddb::BillingMode::Provisioned);
    let want_mode = spec
        .billing_mode
        .as_deref()
        .map(ddb::BillingMode::from)
        .unwrap_or(ddb::BillingMode::Provisioned);
    if want_mode != have_mode {
        base.billing_mode = Some(want_mode.clone());
    }
    if want_mode == ddb::BillingMode::Provisioned
        && let Some(want) = &spec.provisioned_throughput
    {
        let have = table.provisioned_throughput();
        let same = have.is_some_and(|h| {
            h.read_capacity_units() == Some(want.read_capacity_units)
                && h.write_capacity_units() == Some(want.write_capacity_units)
        });
        if !same || base.billing_mode.is_some() {
            base.provisioned_throughput = Some(throughput(want));
        }
    }
    if let Some(want) = spec.deletion_protection_enabled
        && table.deletion_protection_enabled() != Some(want)
    {
        base.deletion_protection_enabled = Some(want);
    }
    if let Some(want) = &spec.on_demand_throughput {
        base.on_demand = on_demand_change(want, table.on_demand_throughput());
    }
    if let Some(want) = &spec.table_class {
        let have = table
            .table_class_summary()
            .and_then(|c| c.table_class())
            .map_or("STANDARD", |c| c.as_str());
        if have != want {
            base.table_class = Some(ddb::TableClass::from(want.as_str()));
        }
    }
    if let Some(want) = &spec.sse_specification {
        let have_enabled = table
            .sse_description()
            .and_then(|d| d.status())
            .is_some_and(|s| s.as_str() == "ENABLED");
        if want.enabled.unwrap_or(false) != have_enabled {
            base.sse = Some(sse(want));
        }
    }
    // Streams.
    let have_stream = table.stream_specification().filter(|s| s.stream_enabled());
    let want_stream = spec.stream_specification.as_ref().filter(|s| s.stream_enabled);
    match (want_stream, have_stream) {
        (Some(want), Some(have))
            if want.stream_view_type.as_deref() != have.stream_view_type().map(|v| v.as_str()) =>
        {
            updates.push(UpdateTable {
                stream: Some(stream_off()),
                ..Default::default()
            });
            base.stream = Some(stream(want));
        }
        (Some(want), None) => base.stream = Some(stream(want)),
        (None, Some(_)) => base.stream = Some(stream_off()),
        _ => {}
    }
    if base != UpdateTable::default() {
        updates.push(base);
    }
    // Global secondary indexes: create, delete, or change throughput, one per call.
    let want_gsis = spec.global_secondary_indexes.clone().unwrap_or_default();
    for have in table.global_secondary_indexes() {
        let name = have.index_name().unwrap_or_default();
        match want_gsis.iter().find(|g| g.index_name == name) {
            None => updates.push(UpdateTable {
                gsi: Some(
                    ddb::GlobalSecondaryIndexUpdate::builder()
                        .delete(
                            ddb::DeleteGlobalSecondaryIndexAction::builder()
                                .index_name(name)
                                .build()
                                .expect("the index name is set"),
                        )
                        .build(),
                ),
                ..Default::default()
            }),
            Some(want) if want_mode == ddb::BillingMode::Provisioned => {
                if let Some(wt) = &want.provisioned_throughput {
                    let same = have.provisioned_throughput().is_some_and(|h| {
                        h.read_capacity_units() == Some(wt.read_capacity_units)
                            && h.write_capacity_units() == Some(wt.write_capacity_units)
                    });
                    if !same {
                        let action = ddb::UpdateGlobalSecondaryIndexAction::builder()
                            .index_name(name)
                            .provisioned_throughput(throughput(wt))
                            .build()
                            .ok();
                        if let Some(action) = action {
                            updates.push(UpdateTable {
                                gsi: Some(ddb::GlobalSecondaryIndexUpdate::builder().update(action).build()),
                                ..Default::default()
                            });
                        }
                    }
                }
            }
            Some(_) => {}
        }
    }
    for want in &want_gsis {
        if !table
            .global_secondary_indexes()
            .iter()
            .any(|h| h.index_name() == Some(want.index_name.as_str()))
        {
            let action = ddb::CreateGlobalSecondaryIndexAction::builder()
                .index_name(&want.index_name)
                .set_key_schema(Some(key_schema(&want.key_schema)))
                .projection(projection(&want.projection))
                .set_provisioned_throughput(want.provisioned_throughput.as_ref().map(throughput))
                .set_on_demand_throughput(want.on_demand_throughput.as_ref().map(on_demand))
                .build()
                .ok();
            if let Some(action) = action {
                updates.push(UpdateTable {
                    attribute_definitions: Some(attribute_definitions(spec)),
                    gsi: Some(ddb::GlobalSecondaryIndexUpdate::builder().create(action).build()),
                    ..Default::default()
                });
            }
        }
    }
    updates
}

/// One UpdateTable request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateTable {
    /// New billing mode.
    pub billing_mode: Option<ddb::BillingMode>,
    /// New capacity.
    pub provisioned_throughput: Option<ddb::ProvisionedThroughput>,
    /// New deletion protection.
    pub deletion_protection_enabled: Option<bool>,
    /// New table class.
    pub table_class: Option<ddb::TableClass>,
    /// New encryption.
    pub sse: Option<ddb::SseSpecification>,
    /// New stream setting.
    pub stream: Option<ddb::StreamSpecification>,
    /// Attribute definitions, for an index creation.
    pub attribute_definitions: Option<Vec<ddb::AttributeDefinition>>,
    /// New on-demand maxima.
    pub on_demand: Option<ddb::OnDemandThroughput>,
    /// One index change.
    pub gsi: Option<ddb::GlobalSecondaryIndexUpdate>,
}

/// The OnDemandThroughput request that turns `have` into `want`, if they differ: a member the spec leaves out
/// is removed (-1), as AWS takes it.
fn on_demand_change(
    want: &crd::OnDemandThroughput,
    have: Option<&ddb::OnDemandThroughput>,
) -> Option<ddb::OnDemandThroughput> {
    let member = |want: Option<i64>, have: Option<i64>| match (want.filter(|units| *units != -1), have) {
        // -1 asks for no maximum, which the table then describes by leaving the member out.
        (want, have) if want == have => None,
        (Some(want), _) => Some(want),
        (None, Some(_)) => Some(-1),
        (None, None) => None,
    };
    let read = member(
        want.max_read_request_units,
        have.and_then(|h| h.max_read_request_units()),
    );
    let write = member(
        want.max_write_request_units,
        have.and_then(|h| h.max_write_request_units()),
    );
    (read.is_some() || write.is_some()).then(|| {
        ddb::OnDemandThroughput::builder()
            .set_max_read_request_units(read)
            .set_max_write_request_units(write)
            .build()
    })
}

async fn update(
    client: &Client,
    spec: &TableSpec,
    table: &ddb::TableDescription,
) -> Result<ddb::TableDescription, AwsError> {
    let mut latest = table.clone();
    for change in plan_updates(spec, table) {
        let out = client
            .update_table()
            .table_name(&spec.table_name)
            .set_billing_mode(change.billing_mode)
            .set_provisioned_throughput(change.provisioned_throughput)
            .set_deletion_protection_enabled(change.deletion_protection_enabled)
            .set_table_class(change.table_class)
            .set_sse_specification(change.sse)
            .set_stream_specification(change.stream)
            .set_on_demand_throughput(change.on_demand)
            .set_attribute_definitions(change.attribute_definitions)
            .set_global_secondary_index_updates(change.gsi.map(|g| vec![g]))
            .send()
            .await
            .map_err(error)?;
        if let Some(description) = out.table_description {
            latest = description;
        }
    }
    Ok(latest)
}

async fn apply_time_to_live(client: &Client, spec: &TableSpec) -> Result<(), AwsError> {
    let Some(want) = &spec.time_to_live else {
        return Ok(());
    };
    let have = client
        .describe_time_to_live()
        .table_name(&spec.table_name)
        .send()
        .await
        .map_err(error)?;
    let have = have.time_to_live_description();
    let enabled = have.and_then(|d| d.time_to_live_status()).is_some_and(|s| {
        matches!(
            s,
            ddb::TimeToLiveStatus::Enabled | ddb::TimeToLiveStatus::Enabling
        )
    });
    let attribute = have.and_then(|d| d.attribute_name());
    if enabled == want.enabled && (!want.enabled || attribute == Some(want.attribute_name.as_str())) {
        return Ok(());
    }
    let specification = ddb::TimeToLiveSpecification::builder()
        .attribute_name(&want.attribute_name)
        .enabled(want.enabled)
        .build()
        .map_err(|err| AwsError {
            code: "ValidationException".into(),
            message: err.to_string(),
        })?;
    client
        .update_time_to_live()
        .table_name(&spec.table_name)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(error)?;
    Ok(())
}

async fn apply_tags(client: &Client, arn: &str, spec: &TableSpec) -> Result<(), AwsError> {
    let Some(want) = &spec.tags else { return Ok(()) };
    let have = client
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(error)?;
    let (stale, missing) = crate::aws::tag_changes(
        want.iter().map(|t| (t.key.as_str(), t.value.as_str())),
        have.tags().iter().map(|t| (t.key(), t.value())),
    );
    if !stale.is_empty() {
        client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(error)?;
    }
    if !missing.is_empty() {
        client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(
                missing.iter().map(|(key, value)| tag_of(key, value)).collect(),
            ))
            .send()
            .await
            .map_err(error)?;
    }
    Ok(())
}

/// The status fields DescribeTable tells.
pub fn status_from(table: &ddb::TableDescription, target: &Target) -> TableStatus {
    TableStatus {
        ack_resource_metadata: Some(AckResourceMetadata {
            arn: table.table_arn().map(str::to_owned),
            owner_account_id: target.account.clone(),
            region: target.region.clone(),
        }),
        table_status: table.table_status().map(|s| s.as_str().to_owned()),
        table_id: table.table_id().map(str::to_owned),
        latest_stream_arn: table.latest_stream_arn().map(str::to_owned),
        latest_stream_label: table.latest_stream_label().map(str::to_owned),
        item_count: table.item_count(),
        table_size_bytes: table.table_size_bytes(),
        creation_date_time: table
            .creation_date_time()
            .and_then(|t| t.fmt(aws_sdk_dynamodb::primitives::DateTimeFormat::DateTime).ok()),
        ..Default::default()
    }
}

fn attribute_definitions(spec: &TableSpec) -> Vec<ddb::AttributeDefinition> {
    spec.attribute_definitions
        .iter()
        .filter_map(|a| {
            ddb::AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ddb::ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .ok()
        })
        .collect()
}

fn key_schema(keys: &[crd::KeySchemaElement]) -> Vec<ddb::KeySchemaElement> {
    keys.iter()
        .filter_map(|k| {
            ddb::KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(ddb::KeyType::from(k.key_type.as_str()))
                .build()
                .ok()
        })
        .collect()
}

fn throughput(t: &crd::ProvisionedThroughput) -> ddb::ProvisionedThroughput {
    ddb::ProvisionedThroughput::builder()
        .read_capacity_units(t.read_capacity_units)
        .write_capacity_units(t.write_capacity_units)
        .build()
        .expect("both capacities are set")
}

fn on_demand(t: &crd::OnDemandThroughput) -> ddb::OnDemandThroughput {
    ddb::OnDemandThroughput::builder()
        .set_max_read_request_units(t.max_read_request_units)
        .set_max_write_request_units(t.max_write_request_units)
        .build()
}

fn projection(p: &crd::Projection) -> ddb::Projection {
    ddb::Projection::builder()
        .set_projection_type(p.projection_type.as_deref().map(ddb::ProjectionType::from))
        .set_non_key_attributes(p.non_key_attributes.clone())
        .build()
}

fn gsi(g: &crd::GlobalSecondaryIndex) -> ddb::GlobalSecondaryIndex {
    ddb::GlobalSecondaryIndex::builder()
        .index_name(&g.index_name)
        .set_key_schema(Some(key_schema(&g.key_schema)))
        .projection(projection(&g.projection))
        .set_provisioned_throughput(g.provisioned_throughput.as_ref().map(throughput))
        .set_on_demand_throughput(g.on_demand_throughput.as_ref().map(on_demand))
        .build()
        .expect("index name and key schema are set")
}

fn lsi(l: &crd::LocalSecondaryIndex) -> ddb::LocalSecondaryIndex {
    ddb::LocalSecondaryIndex::builder()
        .index_name(&l.index_name)
        .set_key_schema(Some(key_schema(&l.key_schema)))
        .projection(projection(&l.projection))
        .build()
        .expect("index name and key schema are set")
}

fn stream(s: &crd::StreamSpecification) -> ddb::StreamSpecification {
    ddb::StreamSpecification::builder()
        .stream_enabled(s.stream_enabled)
        .set_stream_view_type(s.stream_view_type.as_deref().map(ddb::StreamViewType::from))
        .build()
        .expect("stream_enabled is set")
}

fn stream_off() -> ddb::StreamSpecification {
    ddb::StreamSpecification::builder()
        .stream_enabled(false)
        .build()
        .expect("stream_enabled is set")
}

fn sse(s: &crd::SseSpecification) -> ddb::SseSpecification {
    ddb::SseSpecification::builder()
        .set_enabled(s.enabled)
        .set_sse_type(s.sse_type.as_deref().map(ddb::SseType::from))
        .set_kms_master_key_id(s.kms_master_key_id.clone())
        .build()
}

fn tag(t: &crd::Tag) -> ddb::Tag {
    tag_of(&t.key, &t.value)
}

fn tag_of(key: &str, value: &str) -> ddb::Tag {
    ddb::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("key and value are set")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{KeySchemaElement as Key, LocalSecondaryIndex, StreamSpecification};

    fn bark() -> TableSpec {
        serde_json::from_value(serde_json::json!({
            "tableName": "BarkTable",
            "attributeDefinitions": [
                { "attributeName": "Username", "attributeType": "S" },
                { "attributeName": "Timestamp", "attributeType": "S" },
            ],
            "keySchema": [
                { "attributeName": "Username", "keyType": "HASH" },
                { "attributeName": "Timestamp", "keyType": "RANGE" },
            ],
            "provisionedThroughput": { "readCapacityUnits": 5, "writeCapacityUnits": 5 },
            "streamSpecification": { "streamEnabled": true, "streamViewType": "NEW_IMAGE" },
        }))
        .unwrap()
    }

    /// What DescribeTable answers for a table created from `spec`.
    fn described(spec: &TableSpec) -> ddb::TableDescription {
        describing(spec).build()
    }

    /// [`described`], to add to.
    fn describing(spec: &TableSpec) -> ddb::builders::TableDescriptionBuilder {
        ddb::TableDescription::builder()
            .table_name(&spec.table_name)
            .table_arn("arn:aws:dynamodb:us-east-1:000000000000:table/BarkTable")
            .table_status(ddb::TableStatus::Active)
            .set_key_schema(Some(key_schema(&spec.key_schema)))
            .set_attribute_definitions(Some(attribute_definitions(spec)))
            .provisioned_throughput(
                ddb::ProvisionedThroughputDescription::builder()
                    .read_capacity_units(5)
                    .write_capacity_units(5)
                    .build(),
            )
            .stream_specification(stream(spec.stream_specification.as_ref().unwrap()))
            .latest_stream_arn(
                "arn:aws:dynamodb:us-east-1:000000000000:table/BarkTable/stream/2026-11-26T00:00:00.000",
            )
            .latest_stream_label("2026-11-26T00:00:00.000")
    }

    #[test]
    fn a_table_as_specified_needs_no_update() {
        let spec = bark();
        assert_eq!(plan_updates(&spec, &described(&spec)), Vec::new());
        assert_eq!(check_immutable(&spec, &described(&spec)), Ok(()));
    }

    #[test]
    fn changed_throughput_and_a_disabled_stream_are_one_update() {
        let spec = bark();
        let mut changed = spec.clone();
        changed
            .provisioned_throughput
            .as_mut()
            .unwrap()
            .read_capacity_units = 10;
        changed.stream_specification = None;
        let updates = plan_updates(&changed, &described(&spec));
        assert_eq!(updates.len(), 1, "{updates:?}");
        assert_eq!(
            updates[0]
                .provisioned_throughput
                .as_ref()
                .unwrap()
                .read_capacity_units(),
            10
        );
        assert!(!updates[0].stream.as_ref().unwrap().stream_enabled());
    }

    #[test]
    fn on_demand_maxima_follow_the_spec_and_one_left_out_is_removed() {
        let mut spec = bark();
        spec.billing_mode = Some("PAY_PER_REQUEST".into());
        spec.provisioned_throughput = None;
        spec.on_demand_throughput = Some(crd::OnDemandThroughput {
            max_read_request_units: Some(100),
            max_write_request_units: None,
        });
        let have = ddb::OnDemandThroughput::builder()
            .max_read_request_units(100)
            .max_write_request_units(50)
            .build();
        let table = describing(&spec)
            .billing_mode_summary(
                ddb::BillingModeSummary::builder()
                    .billing_mode(ddb::BillingMode::PayPerRequest)
                    .build(),
            )
            .on_demand_throughput(have.clone())
            .build();
        let updates = plan_updates(&spec, &table);
        assert_eq!(updates.len(), 1, "{updates:?}");
        let change = updates[0].on_demand.as_ref().unwrap();
        assert_eq!(
            (change.max_read_request_units(), change.max_write_request_units()),
            (None, Some(-1))
        );
        spec.on_demand_throughput
            .as_mut()
            .unwrap()
            .max_write_request_units = Some(50);
        assert_eq!(plan_updates(&spec, &table), Vec::new());
        // -1 is "no maximum": met by a table without one, applied as -1 to one that has one.
        spec.on_demand_throughput
            .as_mut()
            .unwrap()
            .max_write_request_units = Some(-1);
        let change = plan_updates(&spec, &table)[0].on_demand.clone().unwrap();
        assert_eq!(change.max_write_request_units(), Some(-1));
        let without = describing(&spec)
            .billing_mode_summary(
                ddb::BillingModeSummary::builder()
                    .billing_mode(ddb::BillingMode::PayPerRequest)
                    .build(),
            )
            .on_demand_throughput(
                ddb::OnDemandThroughput::builder()
                    .max_read_request_units(100)
                    .build(),
            )
            .build();
        assert_eq!(plan_updates(&spec, &without), Vec::new());
    }

    #[test]
    fn a_new_stream_view_type_turns_the_stream_off_then_on() {
        let spec = bark();
        let mut changed = spec.clone();
        changed.stream_specification = Some(StreamSpecification {
            stream_enabled: true,
            stream_view_type: Some("NEW_AND_OLD_IMAGES".into()),
        });
        let updates = plan_updates(&changed, &described(&spec));
        let streams: Vec<_> = updates
            .iter()
            .map(|u| u.stream.as_ref().map(|s| s.stream_enabled()))
            .collect();
        assert_eq!(streams, [Some(false), Some(true)]);
        assert_eq!(
            updates[1]
                .stream
                .as_ref()
                .unwrap()
                .stream_view_type()
                .unwrap()
                .as_str(),
            "NEW_AND_OLD_IMAGES"
        );
    }

    #[test]
    fn each_new_global_index_is_its_own_update_with_the_attribute_definitions() {
        let spec = bark();
        let mut changed = spec.clone();
        changed.attribute_definitions.push(crd::AttributeDefinition {
            attribute_name: "Message".into(),
            attribute_type: "S".into(),
        });
        changed.global_secondary_indexes = Some(
            ["ByMessage", "ByTime"]
                .iter()
                .map(|name| crd::GlobalSecondaryIndex {
                    index_name: (*name).into(),
                    key_schema: vec![Key {
                        attribute_name: "Message".into(),
                        key_type: "HASH".into(),
                    }],
                    projection: crd::Projection {
                        projection_type: Some("ALL".into()),
                        non_key_attributes: None,
                    },
                    provisioned_throughput: spec.provisioned_throughput.clone(),
                    on_demand_throughput: None,
                })
                .collect(),
        );
        let updates = plan_updates(&changed, &described(&spec));
        assert_eq!(updates.len(), 2);
        for update in &updates {
            assert!(update.gsi.as_ref().unwrap().create().is_some());
            assert_eq!(update.attribute_definitions.as_ref().unwrap().len(), 3);
        }
    }

    #[test]
    fn a_new_key_schema_or_local_index_is_refused() {
        let spec = bark();
        let mut changed = spec.clone();
        changed.key_schema.pop();
        let message = check_immutable(&changed, &described(&spec)).unwrap_err();
        assert!(
            message.starts_with(
                "spec.keySchema cannot change once the table exists (it is Username HASH, Timestamp RANGE)"
            ),
            "{message}"
        );
        let mut changed = spec.clone();
        changed.local_secondary_indexes = Some(vec![LocalSecondaryIndex {
            index_name: "ByMessage".into(),
            key_schema: spec.key_schema.clone(),
            projection: crd::Projection::default(),
        }]);
        assert!(
            check_immutable(&changed, &described(&spec))
                .unwrap_err()
                .starts_with("spec.localSecondaryIndexes")
        );
    }

    #[test]
    fn status_carries_the_arn_stream_and_state_in_acks_names() {
        let spec = bark();
        let target = Target {
            endpoint: String::new(),
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let status = status_from(&described(&spec), &target);
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json["ackResourceMetadata"]["arn"],
            "arn:aws:dynamodb:us-east-1:000000000000:table/BarkTable"
        );
        assert_eq!(json["ackResourceMetadata"]["ownerAccountID"], "000000000000");
        assert_eq!(json["tableStatus"], "ACTIVE");
        assert_eq!(json["latestStreamLabel"], "2026-11-26T00:00:00.000");
        assert!(
            json["latestStreamARN"]
                .as_str()
                .unwrap()
                .ends_with("/stream/2026-11-26T00:00:00.000")
        );
    }
}
