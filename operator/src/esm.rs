//! Applying an `EventSourceMapping` to the emulator: resolving `functionRef` and `tableRef`, then
//! CreateEventSourceMapping or UpdateEventSourceMapping; a mapping whose stream was replaced (its table was
//! recreated) is replaced too, since AWS cannot move a mapping to another stream.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::types as lambda;
use serde::Deserialize;

use crate::aws::{AwsError, Target, deleted, error};
use crate::conditions::Outcome;
use crate::crd::{
    AckResourceMetadata, Delivery, EventSourceMappingSpec, EventSourceMappingStatus, Reference,
};

/// The function and stream a mapping connects, once its references are resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Resolved {
    /// The function's name (or ARN, when given so).
    pub function_name: String,
    /// The stream's ARN.
    pub event_source_arn: String,
}

/// What the operator knows of a referenced `Table`.
#[derive(Clone, Debug, Default)]
pub struct TableInfo {
    /// Its `status.latestStreamARN`, when its stream is enabled.
    pub stream_arn: Option<String>,
    /// Whether it was applied to the emulator as it runs now.
    pub applied: bool,
}

/// What the operator knows of a referenced `Function`.
#[derive(Clone, Debug, Default)]
pub struct FunctionInfo {
    /// Its `spec.name`.
    pub name: String,
    /// Whether it was applied to the emulator as it runs now.
    pub applied: bool,
}

/// What the operator reads of a mapping, from any answer that carries it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    uuid: Option<String>,
    arn: Option<String>,
    event_source_arn: Option<String>,
    function_arn: Option<String>,
    starting_position: Option<lambda::EventSourcePosition>,
    batch_size: Option<i32>,
    maximum_batching_window_in_seconds: Option<i32>,
    maximum_retry_attempts: Option<i32>,
    maximum_record_age_in_seconds: Option<i32>,
    bisect_batch_on_function_error: Option<bool>,
    parallelization_factor: Option<i32>,
    tumbling_window_in_seconds: Option<i32>,
    function_response_types: Vec<String>,
    filter_patterns: Vec<Option<String>>,
    on_failure: Option<String>,
    on_success: Option<String>,
    state: Option<String>,
    state_transition_reason: Option<String>,
    last_modified: Option<String>,
    last_processing_result: Option<String>,
}

// Create, Get, Update and List answer the same fields in different types.
macro_rules! mapping {
    ($answer:expr) => {{
        let m = $answer;
        Mapping {
            uuid: m.uuid().map(str::to_owned),
            arn: m.event_source_mapping_arn().map(str::to_owned),
            event_source_arn: m.event_source_arn().map(str::to_owned),
            function_arn: m.function_arn().map(str::to_owned),
            starting_position: m.starting_position().cloned(),
            batch_size: m.batch_size(),
            maximum_batching_window_in_seconds: m.maximum_batching_window_in_seconds(),
            maximum_retry_attempts: m.maximum_retry_attempts(),
            maximum_record_age_in_seconds: m.maximum_record_age_in_seconds(),
            bisect_batch_on_function_error: m.bisect_batch_on_function_error(),
            parallelization_factor: m.parallelization_factor(),
            tumbling_window_in_seconds: m.tumbling_window_in_seconds(),
            function_response_types: m
                .function_response_types()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            filter_patterns: m
                .filter_criteria()
                .map(|c| {
                    c.filters()
                        .iter()
                        .map(|f| f.pattern().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            on_failure: m
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|d| d.destination())
                .map(str::to_owned),
            on_success: m
                .destination_config()
                .and_then(|d| d.on_success())
                .and_then(|d| d.destination())
                .map(str::to_owned),
            state: m.state().map(str::to_owned),
            state_transition_reason: m.state_transition_reason().map(str::to_owned),
            last_modified: m
                .last_modified()
                .and_then(|t| t.fmt(aws_sdk_lambda::primitives::DateTimeFormat::DateTime).ok()),
            last_processing_result: m.last_processing_result().map(str::to_owned),
        }
    }};
}
/// Resolves the spec's references. `Err` is a message for the `ACK.ReferencesResolved` condition.
pub fn resolve(
    spec: &EventSourceMappingSpec,
    namespace: &str,
    table: impl Fn(&str, &str) -> Option<TableInfo>,
    function: impl Fn(&str, &str) -> Option<FunctionInfo>,
) -> Result<Resolved, String> {
    let target = |r: &Reference| {
        (
            r.from.namespace.clone().unwrap_or_else(|| namespace.to_owned()),
            r.from.name.clone(),
        )
    };
    let function_name = match (&spec.function_name, &spec.function_ref) {
        (Some(name), None) => name.clone(),
        (None, Some(reference)) => {
            let (ns, name) = target(reference);
            match function(&ns, &name) {
                None => return Err(format!("Function {ns}/{name} (spec.functionRef) does not exist")),
                Some(info) if !info.applied => {
                    return Err(format!(
                        "Function {ns}/{name} (spec.functionRef) is not ready yet"
                    ));
                }
                Some(info) => info.name,
            }
        }
        _ => return Err("spec must set exactly one of functionName and functionRef".into()),
    };
    let event_source_arn = match (&spec.event_source_arn, &spec.table_ref) {
        (Some(arn), None) => arn.clone(),
        (None, Some(reference)) => {
            let (ns, name) = target(reference);
            match table(&ns, &name) {
                None => return Err(format!("Table {ns}/{name} (spec.tableRef) does not exist")),
                Some(info) if !info.applied => {
                    return Err(format!("Table {ns}/{name} (spec.tableRef) is not ready yet"));
                }
                Some(TableInfo { stream_arn: None, .. }) => {
                    return Err(format!(
                        "Table {ns}/{name} (spec.tableRef) has no stream: set its spec.streamSpecification.streamEnabled"
                    ));
                }
                Some(TableInfo {
                    stream_arn: Some(arn),
                    ..
                }) => arn,
            }
        }
        _ => return Err("spec must set exactly one of eventSourceARN and tableRef".into()),
    };
    Ok(Resolved {
        function_name,
        event_source_arn,
    })
}

/// Applies the spec; `known_uuid` is the mapping the status names, if any.
pub async fn apply(
    spec: &EventSourceMappingSpec,
    resolved: &Resolved,
    known_uuid: Option<&str>,
    target: &Target,
) -> Result<(EventSourceMappingStatus, Outcome), AwsError> {
    let client = target.lambda();
    let existing = find(&client, resolved, known_uuid).await?;
    let mapping = match existing {
        Some(existing)
            if existing.event_source_arn.as_deref() != Some(resolved.event_source_arn.as_str()) =>
        {
            // The stream was replaced (the table was recreated): AWS cannot move a mapping, so replace it.
            delete_uuid(&client, existing.uuid.as_deref().unwrap_or_default()).await?;
            create(&client, spec, resolved).await?
        }
        Some(existing) => {
            let have_position = existing.starting_position.as_ref().map(|p| p.as_str());
            if let Some(want) = &spec.starting_position
                && have_position.is_some_and(|have| have != want)
            {
                let status = status_from(&existing, target);
                let message = format!(
                    "spec.startingPosition cannot change once the mapping exists (it is {}); delete and recreate the EventSourceMapping to change it",
                    have_position.unwrap_or_default()
                );
                return Ok((
                    status,
                    Outcome::Terminal {
                        reason: "ImmutableField".into(),
                        message,
                    },
                ));
            }
            if let (Some(want), Some(arn)) = (&spec.tags, existing.arn.as_deref()) {
                let have = client.list_tags().resource(arn).send().await.map_err(error)?;
                crate::function::apply_tags(&client, arn, want, have.tags()).await?;
            }
            if differs(spec, resolved, &existing) {
                update(
                    &client,
                    spec,
                    resolved,
                    existing.uuid.as_deref().unwrap_or_default(),
                )
                .await?
            } else {
                existing
            }
        }
        None => create(&client, spec, resolved).await?,
    };
    let status = status_from(&mapping, target);
    let outcome = outcome(&mapping);
    Ok((status, outcome))
}

/// Deletes the mapping; one that is already gone is fine.
pub async fn delete(uuid: &str, target: &Target) -> Result<(), AwsError> {
    delete_uuid(&target.lambda(), uuid).await
}

async fn delete_uuid(client: &Client, uuid: &str) -> Result<(), AwsError> {
    deleted(client.delete_event_source_mapping().uuid(uuid).send().await)
}

/// The mapping as the emulator has it: by the UUID the status names, else the one connecting the same function
/// and stream (a status write that was lost must not lead to a second mapping).
async fn find(
    client: &Client,
    resolved: &Resolved,
    known_uuid: Option<&str>,
) -> Result<Option<Mapping>, AwsError> {
    if let Some(uuid) = known_uuid {
        match client.get_event_source_mapping().uuid(uuid).send().await {
            Ok(out) => return Ok(Some(mapping!(out))),
            Err(err) => match error(err) {
                err if err.is_not_found() => {}
                err => return Err(err),
            },
        }
    }
    let listed = client
        .list_event_source_mappings()
        .function_name(&resolved.function_name)
        .event_source_arn(&resolved.event_source_arn)
        .send()
        .await;
    match listed {
        Ok(out) => Ok(out.event_source_mappings().first().map(|m| mapping!(m))),
        Err(err) => match error(err) {
            // The function does not exist (yet): there is nothing to find, and CreateEventSourceMapping says why.
            err if err.is_not_found() => Ok(None),
            err => Err(err),
        },
    }
}

async fn create(
    client: &Client,
    spec: &EventSourceMappingSpec,
    resolved: &Resolved,
) -> Result<Mapping, AwsError> {
    let out = client
        .create_event_source_mapping()
        .function_name(&resolved.function_name)
        .event_source_arn(&resolved.event_source_arn)
        .set_starting_position(
            spec.starting_position
                .as_deref()
                .map(lambda::EventSourcePosition::from),
        )
        .set_batch_size(spec.batch_size.map(|v| v as i32))
        .set_maximum_batching_window_in_seconds(spec.maximum_batching_window_in_seconds.map(|v| v as i32))
        .set_maximum_retry_attempts(spec.maximum_retry_attempts.map(|v| v as i32))
        .set_maximum_record_age_in_seconds(spec.maximum_record_age_in_seconds.map(|v| v as i32))
        .set_bisect_batch_on_function_error(spec.bisect_batch_on_function_error)
        .set_parallelization_factor(spec.parallelization_factor.map(|v| v as i32))
        .set_tumbling_window_in_seconds(spec.tumbling_window_in_seconds.map(|v| v as i32))
        .set_function_response_types(response_types(spec))
        .set_filter_criteria(filter_criteria(spec))
        .set_destination_config(destination_config(spec))
        .set_enabled(spec.enabled)
        .set_tags(spec.tags.clone().map(|t| t.into_iter().collect()))
        .send()
        .await
        .map_err(error)?;
    Ok(mapping!(out))
}

async fn update(
    client: &Client,
    spec: &EventSourceMappingSpec,
    resolved: &Resolved,
    uuid: &str,
) -> Result<Mapping, AwsError> {
    let out = client
        .update_event_source_mapping()
        .uuid(uuid)
        .function_name(&resolved.function_name)
        .set_batch_size(spec.batch_size.map(|v| v as i32))
        .set_maximum_batching_window_in_seconds(spec.maximum_batching_window_in_seconds.map(|v| v as i32))
        .set_maximum_retry_attempts(spec.maximum_retry_attempts.map(|v| v as i32))
        .set_maximum_record_age_in_seconds(spec.maximum_record_age_in_seconds.map(|v| v as i32))
        .set_bisect_batch_on_function_error(spec.bisect_batch_on_function_error)
        .set_parallelization_factor(spec.parallelization_factor.map(|v| v as i32))
        .set_tumbling_window_in_seconds(spec.tumbling_window_in_seconds.map(|v| v as i32))
        .set_function_response_types(response_types(spec))
        .set_filter_criteria(filter_criteria(spec))
        .set_destination_config(destination_config(spec))
        .set_enabled(spec.enabled)
        .send()
        .await
        .map_err(error)?;
    Ok(mapping!(out))
}

fn response_types(spec: &EventSourceMappingSpec) -> Option<Vec<lambda::FunctionResponseType>> {
    spec.function_response_types.as_ref().map(|types| {
        types
            .iter()
            .map(|t| lambda::FunctionResponseType::from(t.as_str()))
            .collect()
    })
}

fn filter_criteria(spec: &EventSourceMappingSpec) -> Option<lambda::FilterCriteria> {
    let filters = spec.filter_criteria.as_ref()?.filters.as_ref()?;
    Some(
        lambda::FilterCriteria::builder()
            .set_filters(Some(
                filters
                    .iter()
                    .map(|f| lambda::Filter::builder().set_pattern(f.pattern.clone()).build())
                    .collect(),
            ))
            .build(),
    )
}

fn destination_config(spec: &EventSourceMappingSpec) -> Option<lambda::DestinationConfig> {
    let config = spec.destination_config.as_ref()?;
    let destination = |d: &Option<crate::crd::Destination>| d.as_ref().and_then(|d| d.destination.clone());
    Some(
        lambda::DestinationConfig::builder()
            .set_on_failure(
                destination(&config.on_failure).map(|d| lambda::OnFailure::builder().destination(d).build()),
            )
            .set_on_success(
                destination(&config.on_success).map(|d| lambda::OnSuccess::builder().destination(d).build()),
            )
            .build(),
    )
}

/// Whether a setting the spec gives differs from the mapping's.
pub fn differs(spec: &EventSourceMappingSpec, resolved: &Resolved, have: &Mapping) -> bool {
    fn given<T: PartialEq>(want: Option<i64>, have: Option<T>, convert: impl Fn(i64) -> T) -> bool {
        want.is_some_and(|w| Some(convert(w)) != have)
    }
    let function_name = resolved.function_name.rsplit(':').next().unwrap_or_default();
    let function_differs = !have.function_arn.as_deref().is_some_and(|arn| {
        arn == resolved.function_name || arn.ends_with(&format!(":function:{function_name}"))
    });
    let enabled_differs = spec.enabled.is_some_and(|want| {
        let enabled = matches!(have.state.as_deref(), Some("Enabled" | "Enabling" | "Creating"));
        want != enabled
    });
    let patterns: Option<Vec<Option<String>>> = spec
        .filter_criteria
        .as_ref()
        .map(|c| c.filters.iter().flatten().map(|f| f.pattern.clone()).collect());
    let destination = |d: &Option<crate::crd::Destination>| d.as_ref().and_then(|d| d.destination.clone());
    let destinations = spec
        .destination_config
        .as_ref()
        .map(|c| (destination(&c.on_failure), destination(&c.on_success)));
    function_differs
        || enabled_differs
        || given(spec.batch_size, have.batch_size, |v| v as i32)
        || given(
            spec.maximum_batching_window_in_seconds,
            have.maximum_batching_window_in_seconds,
            |v| v as i32,
        )
        || given(spec.maximum_retry_attempts, have.maximum_retry_attempts, |v| {
            v as i32
        })
        || given(
            spec.maximum_record_age_in_seconds,
            have.maximum_record_age_in_seconds,
            |v| v as i32,
        )
        || given(spec.parallelization_factor, have.parallelization_factor, |v| {
            v as i32
        })
        || given(
            spec.tumbling_window_in_seconds,
            have.tumbling_window_in_seconds,
            |v| v as i32,
        )
        || spec
            .bisect_batch_on_function_error
            .is_some_and(|b| Some(b) != have.bisect_batch_on_function_error)
        || spec
            .function_response_types
            .as_ref()
            .is_some_and(|t| t != &have.function_response_types)
        || patterns.is_some_and(|p| p != have.filter_patterns)
        || destinations
            .is_some_and(|(failure, success)| failure != have.on_failure || success != have.on_success)
}

fn status_from(mapping: &Mapping, target: &Target) -> EventSourceMappingStatus {
    EventSourceMappingStatus {
        ack_resource_metadata: Some(AckResourceMetadata {
            arn: mapping.arn.clone(),
            owner_account_id: target.account.clone(),
            region: target.region.clone(),
        }),
        uuid: mapping.uuid.clone(),
        state: mapping.state.clone(),
        state_transition_reason: mapping.state_transition_reason.clone(),
        last_modified: mapping.last_modified.clone(),
        last_processing_result: mapping.last_processing_result.clone(),
        function_arn: mapping.function_arn.clone(),
        event_source_arn: mapping.event_source_arn.clone(),
        ..Default::default()
    }
}

fn outcome(mapping: &Mapping) -> Outcome {
    match mapping.state.as_deref() {
        Some("Enabled" | "Disabled") => Outcome::Synced,
        other => Outcome::Progressing {
            reason: "MappingNotSettled".into(),
            message: format!("the mapping is {}", other.unwrap_or("being created")),
        },
    }
}

/// The emulator's view of a mapping at `/_dynastream/event-source-mappings/{uuid}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    /// `Enabled`, `Disabled`, ...
    pub state: String,
    /// `OK`, `No records processed` or the last problem.
    pub last_processing_result: String,
    records_delivered: u64,
    batches_succeeded: u64,
    batches_failed: u64,
    records_discarded: u64,
    records_filtered_out: u64,
    last_batch_result: Option<String>,
    last_batch_time: Option<String>,
    iterator_age_ms: Option<u64>,
    retries_in_progress: u64,
}

impl Inspection {
    /// The delivery health shown in `status.delivery`.
    pub fn delivery(&self) -> Delivery {
        Delivery {
            records_delivered: self.records_delivered,
            batches_succeeded: self.batches_succeeded,
            batches_failed: self.batches_failed,
            records_discarded: self.records_discarded,
            records_filtered_out: self.records_filtered_out,
            last_batch_result: self.last_batch_result.clone(),
            last_batch_time: self.last_batch_time.clone(),
            iterator_age_milliseconds: self.iterator_age_ms,
            retries_in_progress: self.retries_in_progress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ReferenceFrom;

    fn reference(name: &str) -> Option<Reference> {
        Some(Reference {
            from: ReferenceFrom {
                name: name.into(),
                namespace: None,
            },
        })
    }

    #[test]
    fn references_resolve_to_the_function_name_and_the_tables_latest_stream() {
        let spec = EventSourceMappingSpec {
            function_ref: reference("publish-new-bark"),
            table_ref: reference("bark"),
            ..Default::default()
        };
        let resolved = resolve(
            &spec,
            "ns",
            |ns, name| {
                ((ns, name) == ("ns", "bark")).then(|| TableInfo {
                    stream_arn: Some("arn:stream".into()),
                    applied: true,
                })
            },
            |_, _| {
                Some(FunctionInfo {
                    name: "publishNewBark".into(),
                    applied: true,
                })
            },
        )
        .unwrap();
        assert_eq!(
            resolved,
            Resolved {
                function_name: "publishNewBark".into(),
                event_source_arn: "arn:stream".into()
            }
        );
    }

    #[test]
    fn unresolved_references_say_what_they_wait_for() {
        let spec = EventSourceMappingSpec {
            function_name: Some("f".into()),
            table_ref: reference("bark"),
            ..Default::default()
        };
        assert_eq!(
            resolve(&spec, "ns", |_, _| None, |_, _| None).unwrap_err(),
            "Table ns/bark (spec.tableRef) does not exist"
        );
        let no_stream = |_: &str, _: &str| {
            Some(TableInfo {
                stream_arn: None,
                applied: true,
            })
        };
        assert!(
            resolve(&spec, "ns", no_stream, |_, _| None)
                .unwrap_err()
                .contains("has no stream")
        );
        let pending = |_: &str, _: &str| {
            Some(TableInfo {
                stream_arn: Some("s".into()),
                applied: false,
            })
        };
        assert!(
            resolve(&spec, "ns", pending, |_, _| None)
                .unwrap_err()
                .ends_with("is not ready yet")
        );
        let both = EventSourceMappingSpec {
            function_name: Some("f".into()),
            function_ref: reference("g"),
            ..spec
        };
        assert_eq!(
            resolve(&both, "ns", no_stream, |_, _| None).unwrap_err(),
            "spec must set exactly one of functionName and functionRef"
        );
    }

    #[test]
    fn an_unchanged_mapping_needs_no_update() {
        let spec = EventSourceMappingSpec {
            batch_size: Some(1),
            enabled: Some(true),
            ..Default::default()
        };
        let resolved = Resolved {
            function_name: "publishNewBark".into(),
            event_source_arn: "s".into(),
        };
        let mut have = Mapping {
            function_arn: Some("arn:aws:lambda:us-east-1:000000000000:function:publishNewBark".into()),
            batch_size: Some(1),
            state: Some("Enabled".into()),
            ..Default::default()
        };
        assert!(!differs(&spec, &resolved, &have));
        have.batch_size = Some(100);
        assert!(differs(&spec, &resolved, &have));
    }
}
