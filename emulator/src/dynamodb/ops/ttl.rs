//! Time to live: UpdateTimeToLive and DescribeTimeToLive. The deletions themselves are the sweeper's
//! ([`crate::dynamodb::ttl`]).
//!
//! NB: AWS shows ENABLING/DISABLING only in theory: measured against AWS, DescribeTimeToLive already shows the
//! settled ENABLED/DISABLED within a second of UpdateTimeToLive, so dynastream settles at once and never shows
//! the transitional states.
//!
//! NB: AWS refuses a second effective change within about 30 minutes ("Time to live has been modified multiple
//! times within a fixed interval"). dynastream does not copy that cooldown: it would only slow down local
//! development and tests, and nothing can observe it except by waiting half an hour.

use std::sync::Arc;

use crate::{
    aws_error,
    dynamodb::{
        table::Table,
        validate::Constraints,
        wire::{
            DescribeTimeToLiveOutput, TableNameInput, TimeToLiveDescription, TimeToLiveSpecification,
            UpdateTimeToLiveInput, UpdateTimeToLiveOutput,
        },
    },
    edge::{AwsError, RequestContext},
};

use super::Db;

/// Shortest and longest TTL attribute name.
const ATTRIBUTE_NAME_LENGTH: (usize, usize) = (1, 255);

/// TimeToLiveStatus of a table whose TTL is on.
pub const ENABLED: &str = "ENABLED";
/// TimeToLiveStatus of a table whose TTL is off (or was never configured: AWS does not tell them apart).
pub const DISABLED: &str = "DISABLED";

/// UpdateTimeToLive: turns TTL on with an attribute, or off again; answers with the specification as sent.
pub fn update_time_to_live(
    db: &Db,
    ctx: &RequestContext,
    input: UpdateTimeToLiveInput,
) -> Result<UpdateTimeToLiveOutput, AwsError> {
    let mut c = Constraints::new();
    c.name("tableName", input.table_name.as_deref(), true);
    c.not_null(
        "timeToLiveSpecification",
        input.time_to_live_specification.as_ref(),
    );
    if let Some(spec) = &input.time_to_live_specification {
        c.not_null(
            "timeToLiveSpecification.attributeName",
            spec.attribute_name.as_ref(),
        );
        if let Some(name) = &spec.attribute_name {
            let (min, max) = ATTRIBUTE_NAME_LENGTH;
            c.length("timeToLiveSpecification.attributeName", name, min, max);
        }
        c.not_null("timeToLiveSpecification.enabled", spec.enabled.as_ref());
    }
    c.finish()?;
    let (Some(table_name), Some(spec)) = (input.table_name, input.time_to_live_specification) else {
        return Err(AwsError::internal("constraints let a required member through"));
    };
    let (Some(attribute), Some(enabled)) = (spec.attribute_name.clone(), spec.enabled) else {
        return Err(AwsError::internal("constraints let a required member through"));
    };

    let table = table_or_not_found(db, ctx, &table_name)?;
    table.update_meta(|meta| {
        match (&meta.time_to_live, enabled) {
            (Some(current), true) if *current == attribute => {
                Err(AwsError::validation("TimeToLive is already enabled"))
            }
            (None, false) => Err(AwsError::validation("TimeToLive is already disabled")),
            // NB: AWS names the current attribute both when enabling another one and when disabling with the
            // wrong one: disabling must name the attribute in use.
            (Some(current), _) if *current != attribute => Err(AwsError::validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {current}"
            ))),
            _ => {
                meta.time_to_live = enabled.then(|| attribute.clone());
                Ok(())
            }
        }
    })?;
    tracing::info!(table = %table.name, attribute = %attribute, enabled, "updated time to live");
    Ok(UpdateTimeToLiveOutput {
        time_to_live_specification: TimeToLiveSpecification {
            attribute_name: Some(attribute),
            enabled: Some(enabled),
        },
    })
}

/// DescribeTimeToLive: ENABLED with the attribute, or DISABLED without one.
pub fn describe_time_to_live(
    db: &Db,
    ctx: &RequestContext,
    input: TableNameInput,
) -> Result<DescribeTimeToLiveOutput, AwsError> {
    let mut c = Constraints::new();
    c.name("tableName", input.table_name.as_deref(), true);
    c.finish()?;
    let name = input.table_name.unwrap_or_default();
    let table = table_or_not_found(db, ctx, &name)?;
    let attribute = table.meta().time_to_live.clone();
    Ok(DescribeTimeToLiveOutput {
        time_to_live_description: TimeToLiveDescription {
            time_to_live_status: if attribute.is_some() { ENABLED } else { DISABLED }.to_owned(),
            attribute_name: attribute,
        },
    })
}

/// The table called `name`, or AWS's control-plane "not found" (which, unlike the data plane's, names it).
fn table_or_not_found(db: &Db, ctx: &RequestContext, name: &str) -> Result<Arc<Table>, AwsError> {
    db.region(&ctx.account, &ctx.region).table(name).ok_or_else(|| {
        aws_error!(
            ResourceNotFoundException,
            "Requested resource not found: Table: {name} not found"
        )
    })
}
