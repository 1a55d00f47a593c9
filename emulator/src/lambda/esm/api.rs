//! The event source mapping API (`/2015-03-31/event-source-mappings/`) and the inspection endpoint
//! (`/_dynastream/event-source-mappings[/{UUID}]`) that shows each mapping's delivery health.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};

use super::{Mapping, MappingConfig, poller};
use crate::{
    edge::{RequestContext, Services},
    lambda::{
        LambdaError,
        filter::FilterCriteria,
        functions::{check_tag_count, parse_function_name},
        wire::OtherMembers,
    },
};

/// The mapping routes, merged into the edge's router.
pub fn router() -> Router<Arc<Services>> {
    Router::new()
        .route(
            "/2015-03-31/event-source-mappings/",
            get(list_event_source_mappings).post(create_event_source_mapping),
        )
        .route(
            "/2015-03-31/event-source-mappings",
            get(list_event_source_mappings).post(create_event_source_mapping),
        )
        .route(
            "/2015-03-31/event-source-mappings/{uuid}",
            get(get_event_source_mapping)
                .put(update_event_source_mapping)
                .delete(delete_event_source_mapping),
        )
        .route("/_dynastream/event-source-mappings", get(inspect_all))
        .route("/_dynastream/event-source-mappings/{uuid}", get(inspect))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationTarget {
    destination: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationConfigInput {
    on_failure: Option<DestinationTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FilterInput {
    pattern: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FilterCriteriaInput {
    filters: Option<Vec<FilterInput>>,
}

/// CreateEventSourceMapping / UpdateEventSourceMapping input.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MappingInput {
    function_name: Option<String>,
    event_source_arn: Option<String>,
    enabled: Option<bool>,
    batch_size: Option<i64>,
    maximum_batching_window_in_seconds: Option<i64>,
    starting_position: Option<String>,
    parallelization_factor: Option<i64>,
    maximum_retry_attempts: Option<i64>,
    maximum_record_age_in_seconds: Option<i64>,
    bisect_batch_on_function_error: Option<bool>,
    destination_config: Option<DestinationConfigInput>,
    function_response_types: Option<Vec<String>>,
    tumbling_window_in_seconds: Option<i64>,
    filter_criteria: Option<FilterCriteriaInput>,
    /// CreateEventSourceMapping only.
    tags: Option<BTreeMap<String, String>>,
    /// Members dynastream does not implement, refused by name.
    #[serde(flatten)]
    others: OtherMembers,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationConfigOut {
    on_failure: DestinationOut,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FilterOut {
    pattern: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FilterCriteriaOut {
    filters: Vec<FilterOut>,
}

/// A mapping as the API describes it (member order as AWS sends it).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MappingOut {
    batch_size: u32,
    bisect_batch_on_function_error: bool,
    destination_config: DestinationConfigOut,
    event_source_arn: String,
    event_source_mapping_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter_criteria: Option<FilterCriteriaOut>,
    function_arn: String,
    function_response_types: Vec<String>,
    last_modified: f64,
    last_processing_result: String,
    maximum_batching_window_in_seconds: u32,
    maximum_record_age_in_seconds: i64,
    maximum_retry_attempts: i64,
    parallelization_factor: u32,
    starting_position: String,
    state: &'static str,
    state_transition_reason: String,
    tumbling_window_in_seconds: u32,
    #[serde(rename = "UUID")]
    uuid: String,
}

fn describe(mapping: &Mapping, state: Option<&'static str>) -> MappingOut {
    let config = mapping.config();
    let status = mapping.status();
    MappingOut {
        batch_size: config.batch_size,
        bisect_batch_on_function_error: config.bisect_batch_on_function_error,
        destination_config: DestinationConfigOut {
            on_failure: DestinationOut {
                destination: config.on_failure_destination.clone(),
            },
        },
        event_source_arn: config.event_source_arn.clone(),
        event_source_mapping_arn: mapping.arn.clone(),
        filter_criteria: config.filters.as_ref().map(|(patterns, _)| FilterCriteriaOut {
            filters: patterns
                .iter()
                .map(|p| FilterOut { pattern: p.clone() })
                .collect(),
        }),
        function_arn: config.function_arn.clone(),
        function_response_types: config.function_response_types.clone(),
        last_modified: status.last_modified,
        last_processing_result: status.last_processing_result,
        maximum_batching_window_in_seconds: config.maximum_batching_window,
        maximum_record_age_in_seconds: config.maximum_record_age,
        maximum_retry_attempts: config.maximum_retry_attempts,
        parallelization_factor: config.parallelization_factor,
        starting_position: config.starting_position.clone(),
        state: state.unwrap_or(status.state),
        state_transition_reason: status.state_transition_reason,
        tumbling_window_in_seconds: config.tumbling_window,
        uuid: mapping.uuid.clone(),
    }
}

fn reply(status: StatusCode, body: &impl Serialize) -> Response {
    (
        status,
        [
            ("content-type", "application/json"),
            ("x-amzn-requestid", &uuid::Uuid::new_v4().to_string()),
        ],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

fn parse_input(body: &Bytes) -> Result<MappingInput, LambdaError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(MappingInput::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        LambdaError::new(
            "InvalidRequestContentException",
            400,
            format!("Could not parse request body into json: {e}"),
        )
    })
}

/// AWS's constraint error for one member.
fn range_error(name: &str, value: i64, min: i64, max: i64) -> Option<LambdaError> {
    let constraint = if value < min {
        format!("Member must have value greater than or equal to {min}")
    } else if value > max {
        format!("Member must have value less than or equal to {max}")
    } else {
        return None;
    };
    Some(LambdaError::validation(format!(
        "1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: {constraint}"
    )))
}

/// Applies and validates the settings of a create or update request onto `config`.
fn apply_settings(config: &mut MappingConfig, input: &MappingInput) -> Result<(), LambdaError> {
    for (name, value, min, max) in [
        ("batchSize", input.batch_size, 1, 10_000),
        (
            "maximumBatchingWindowInSeconds",
            input.maximum_batching_window_in_seconds,
            0,
            300,
        ),
        ("parallelizationFactor", input.parallelization_factor, 1, 10),
        ("maximumRetryAttempts", input.maximum_retry_attempts, -1, 10_000),
        (
            "maximumRecordAgeInSeconds",
            input.maximum_record_age_in_seconds,
            -1,
            604_800,
        ),
        (
            "tumblingWindowInSeconds",
            input.tumbling_window_in_seconds,
            0,
            900,
        ),
    ] {
        if let Some(value) = value
            && let Some(error) = range_error(name, value, min, max)
        {
            return Err(error);
        }
    }
    if let Some(age) = input.maximum_record_age_in_seconds
        && (0..60).contains(&age)
    {
        return Err(LambdaError::invalid_parameter(
            "MaximumRecordAgeInSeconds must be -1 (infinite) or between 60 and 604800 seconds.",
        ));
    }
    if let Some(types) = &input.function_response_types {
        if let Some(bad) = types.iter().find(|t| *t != "ReportBatchItemFailures") {
            return Err(LambdaError::validation(format!(
                "1 validation error detected: Value '[{bad}]' at 'functionResponseTypes' failed to satisfy \
                 constraint: Member must satisfy constraint: [Member must satisfy enum value set: \
                 [ReportBatchItemFailures]]"
            )));
        }
        config.function_response_types = types.clone();
    }
    if let Some(filters) = &input.filter_criteria {
        let mut patterns = Vec::new();
        for (i, filter) in filters.filters.iter().flatten().enumerate() {
            let Some(pattern) = &filter.pattern else {
                return Err(LambdaError::invalid_parameter(
                    crate::lambda::filter::INVALID_FILTER_PATTERN,
                ));
            };
            if pattern.chars().count() > crate::lambda::filter::MAX_PATTERN_LENGTH {
                return Err(LambdaError::validation(format!(
                    "1 validation error detected: Value '{pattern}' at 'filterCriteria.filters.{}.member.pattern' \
                     failed to satisfy constraint: Member must have length less than or equal to {}",
                    i + 1,
                    crate::lambda::filter::MAX_PATTERN_LENGTH
                )));
            }
            patterns.push(pattern.clone());
        }
        // NB: AWS's default quota is 5 filters per mapping; its exact error text is not recorded anywhere we
        // could check, so this one says plainly what the limit is.
        if patterns.len() > crate::lambda::filter::DEFAULT_MAX_FILTERS {
            return Err(LambdaError::invalid_parameter(format!(
                "The number of filters exceeds the limit of {} filters per event source mapping.",
                crate::lambda::filter::DEFAULT_MAX_FILTERS
            )));
        }
        config.filters = if patterns.is_empty() {
            None
        } else {
            let parsed = FilterCriteria::parse(&patterns).map_err(LambdaError::invalid_parameter)?;
            Some((patterns, Arc::new(parsed)))
        };
    }
    if let Some(size) = input.batch_size {
        config.batch_size = size as u32;
    }
    if let Some(window) = input.maximum_batching_window_in_seconds {
        config.maximum_batching_window = window as u32;
    }
    if let Some(factor) = input.parallelization_factor {
        config.parallelization_factor = factor as u32;
    }
    if let Some(retries) = input.maximum_retry_attempts {
        config.maximum_retry_attempts = retries;
    }
    if let Some(age) = input.maximum_record_age_in_seconds {
        config.maximum_record_age = age;
    }
    if let Some(bisect) = input.bisect_batch_on_function_error {
        config.bisect_batch_on_function_error = bisect;
    }
    if let Some(destination) = &input.destination_config {
        config.on_failure_destination = destination
            .on_failure
            .as_ref()
            .and_then(|t| t.destination.clone());
    }
    if let Some(window) = input.tumbling_window_in_seconds {
        config.tumbling_window = window as u32;
    }
    if let Some(enabled) = input.enabled {
        config.enabled = enabled;
    }
    Ok(())
}

/// The function a mapping names, as its ARN (qualified when the name carried a qualifier).
fn function_arn_of(
    services: &Services,
    ctx: &RequestContext,
    reference: &str,
) -> Result<String, LambdaError> {
    let (account, name, qualifier) = parse_function_name(reference)?;
    let account = account.unwrap_or(&ctx.account);
    let arn = crate::lambda::functions::function_arn(&ctx.region, account, name);
    let function = services.lambda.functions.region(account, &ctx.region).get(name);
    let found = function.is_some_and(|f| f.deployment(qualifier).is_some());
    let qualified = match qualifier {
        Some(q) => format!("{arn}:{q}"),
        None => arn,
    };
    if !found {
        return Err(LambdaError::not_found(format!("Function not found: {qualified}")));
    }
    Ok(qualified)
}

async fn create_event_source_mapping(
    State(services): State<Arc<Services>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    match create(&services, &ctx, &body) {
        Ok(mapping) => reply(StatusCode::ACCEPTED, &describe(&mapping, Some("Creating"))),
        Err(err) => err.into_response(),
    }
}

fn create(services: &Arc<Services>, ctx: &RequestContext, body: &Bytes) -> Result<Arc<Mapping>, LambdaError> {
    let input = parse_input(body)?;
    let Some(function_name) = input.function_name.as_deref() else {
        return Err(LambdaError::validation(
            "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not \
             be null",
        ));
    };
    let Some(source) = input.event_source_arn.clone() else {
        return Err(LambdaError::invalid_parameter(
            "Unrecognized event source, must be kinesis, dynamodb stream or sqs.",
        ));
    };
    // The ARN's third field names its service.
    if let Some(service @ ("kinesis" | "sqs" | "kafka" | "mq")) = source.split(':').nth(2) {
        return Err(LambdaError::invalid_parameter(format!(
            "Event source mappings for {service} are not implemented by dynastream, only for DynamoDB streams. \
             Event source arn: {source}"
        )));
    }
    if !source.contains(":dynamodb:") || !source.contains("/stream/") {
        return Err(LambdaError::invalid_parameter(format!(
            "Unrecognized event source, must be kinesis, dynamodb stream or sqs. Event source arn: {source}"
        )));
    }
    let starting_position = match input.starting_position.as_deref() {
        None => {
            return Err(LambdaError::invalid_parameter(
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member \
                 must not be null",
            ));
        }
        Some(p @ ("TRIM_HORIZON" | "LATEST")) => p.to_owned(),
        Some("AT_TIMESTAMP") => return Err(LambdaError::invalid_parameter("Unsupported starting position")),
        Some(other) => {
            return Err(LambdaError::validation(format!(
                "1 validation error detected: Value '{other}' at 'startingPosition' failed to satisfy constraint: \
                 Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
            )));
        }
    };
    LambdaError::refuse_others(&input.others, "CreateEventSourceMapping")?;
    let tags = input.tags.clone().unwrap_or_default();
    check_tag_count(&tags)?;
    let function_arn = function_arn_of(services, ctx, function_name)?;
    let stream = services
        .dynamodb
        .region(&ctx.account, &ctx.region)
        .streams
        .get(&source)
        .ok_or_else(|| LambdaError::invalid_parameter(format!("Stream not found: {source}")))?;
    let mut config = MappingConfig::new(function_arn.clone(), source.clone(), starting_position);
    apply_settings(&mut config, &input)?;
    let region = services.lambda.mappings.region(&ctx.account, &ctx.region);
    if let Some(existing) = region.list().into_iter().find(|m| {
        let c = m.config();
        c.event_source_arn == source && c.function_arn == function_arn
    }) {
        return Err(LambdaError::conflict(format!(
            "The event source arn (\" {source} \") and function (\" {function_name} \") provided mapping already \
             exists. Please update or delete the existing mapping with UUID {}",
            existing.uuid
        )));
    }
    let mapping = Arc::new(Mapping::new(&ctx.account, &ctx.region, config));
    *mapping.tags.lock() = tags;
    region.insert(mapping.clone());
    poller::spawn(services.clone(), mapping.clone(), stream);
    tracing::info!(uuid = %mapping.uuid, function = %function_arn, stream = %source, "created event source mapping");
    Ok(mapping)
}

fn mapping_or_not_found(
    services: &Services,
    ctx: &RequestContext,
    uuid: &str,
) -> Result<Arc<Mapping>, LambdaError> {
    services
        .lambda
        .mappings
        .region(&ctx.account, &ctx.region)
        .get(uuid)
        .ok_or_else(|| LambdaError::not_found("The resource you requested does not exist."))
}

async fn get_event_source_mapping(
    State(services): State<Arc<Services>>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    match mapping_or_not_found(&services, &ctx, &uuid) {
        Ok(mapping) => reply(StatusCode::OK, &describe(&mapping, None)),
        Err(err) => err.into_response(),
    }
}

async fn update_event_source_mapping(
    State(services): State<Arc<Services>>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let result = (|| {
        let mapping = mapping_or_not_found(&services, &ctx, &uuid)?;
        let input = parse_input(&body)?;
        if input.starting_position.is_some() {
            return Err(LambdaError::invalid_parameter(
                "StartingPosition cannot be updated.",
            ));
        }
        // NB: UpdateEventSourceMapping has no Tags member: TagResource changes them.
        if input.tags.is_some() {
            return Err(LambdaError::invalid_parameter(
                "UpdateEventSourceMapping does not take Tags: use TagResource",
            ));
        }
        LambdaError::refuse_others(&input.others, "UpdateEventSourceMapping")?;
        let mut config = mapping.config();
        let was_enabled = config.enabled;
        if let Some(name) = &input.function_name {
            config.function_arn = function_arn_of(&services, &ctx, name)?;
        }
        apply_settings(&mut config, &input)?;
        let transition = match (was_enabled, config.enabled) {
            (true, false) => ("Disabling", "Disabled"),
            (false, true) => ("Enabling", "Enabled"),
            (false, false) => ("Disabled", "Disabled"),
            (true, true) => ("Updating", "Enabled"),
        };
        mapping.update_config(|c| *c = config);
        mapping.set_state(transition.1);
        Ok(describe(&mapping, Some(transition.0)))
    })();
    match result {
        Ok(described) => reply(StatusCode::ACCEPTED, &described),
        Err(err) => err.into_response(),
    }
}

async fn delete_event_source_mapping(
    State(services): State<Arc<Services>>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    match mapping_or_not_found(&services, &ctx, &uuid) {
        Ok(mapping) => {
            let described = describe(&mapping, Some("Deleting"));
            services
                .lambda
                .mappings
                .region(&ctx.account, &ctx.region)
                .remove(&uuid);
            mapping.set_state("Deleting");
            tracing::info!(uuid = %uuid, "deleted event source mapping");
            reply(StatusCode::ACCEPTED, &described)
        }
        Err(err) => err.into_response(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListOut {
    event_source_mappings: Vec<MappingOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

async fn list_event_source_mappings(
    State(services): State<Arc<Services>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let result = (|| {
        let max_items = match query.get("MaxItems") {
            Some(text) => {
                let value: i64 = text.parse().map_err(|_| {
                    LambdaError::validation(format!(
                        "1 validation error detected: Value '{text}' at 'maxItems' failed to satisfy constraint: \
                         Member must have value greater than or equal to 1"
                    ))
                })?;
                if let Some(error) = range_error("maxItems", value, 1, 10_000) {
                    return Err(error);
                }
                value as usize
            }
            None => 100,
        };
        let function_arn = match query.get("FunctionName") {
            Some(name) => Some(function_arn_of(&services, &ctx, name)?),
            None => None,
        };
        let mappings: Vec<Arc<Mapping>> = services
            .lambda
            .mappings
            .region(&ctx.account, &ctx.region)
            .list()
            .into_iter()
            .filter(|m| {
                let c = m.config();
                query
                    .get("EventSourceArn")
                    .is_none_or(|s| c.event_source_arn == *s)
                    && function_arn
                        .as_ref()
                        .is_none_or(|f| c.function_arn == *f || c.function_arn.starts_with(&format!("{f}:")))
            })
            .collect();
        let start = match query.get("Marker") {
            Some(marker) => mappings
                .iter()
                .position(|m| m.uuid == *marker)
                .map_or(mappings.len(), |i| i + 1),
            None => 0,
        };
        let page: Vec<&Arc<Mapping>> = mappings.iter().skip(start).take(max_items).collect();
        let more = mappings.len() > start + page.len();
        Ok(ListOut {
            next_marker: if more {
                page.last().map(|m| m.uuid.clone())
            } else {
                None
            },
            event_source_mappings: page.into_iter().map(|m| describe(m, None)).collect(),
        })
    })();
    match result {
        Ok(list) => reply(StatusCode::OK, &list),
        Err(err) => err.into_response(),
    }
}

/// A mapping's delivery health, for people and for the operator.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Inspection {
    uuid: String,
    event_source_arn: String,
    function_arn: String,
    state: &'static str,
    last_processing_result: String,
    #[serde(flatten)]
    health: super::Health,
}

fn inspection(mapping: &Mapping) -> Inspection {
    let config = mapping.config();
    let status = mapping.status();
    Inspection {
        uuid: mapping.uuid.clone(),
        event_source_arn: config.event_source_arn,
        function_arn: config.function_arn,
        state: status.state,
        last_processing_result: status.last_processing_result,
        health: mapping.health(),
    }
}

async fn inspect(State(services): State<Arc<Services>>, Path(uuid): Path<String>) -> Response {
    match services
        .lambda
        .mappings
        .all()
        .into_iter()
        .find(|m| m.uuid == uuid)
    {
        Some(mapping) => Json(inspection(&mapping)).into_response(),
        None => LambdaError::not_found("The resource you requested does not exist.").into_response(),
    }
}

async fn inspect_all(State(services): State<Arc<Services>>) -> Response {
    let all: Vec<Inspection> = services
        .lambda
        .mappings
        .all()
        .iter()
        .map(|m| inspection(m))
        .collect();
    Json(serde_json::json!({ "eventSourceMappings": all })).into_response()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::{
        lambda::{
            LambdaSettings,
            functions::{Code, Deployment, Function, FunctionState, LATEST},
            wire::FunctionConfiguration,
        },
        streams::{Stream, StreamSettings},
    };

    const STREAM_ARN: &str = Stream::TEST_ARN;

    /// Services with function `f` and a stream holding one record. No environment can start: an invocation
    /// fails, which the mapping's health shows.
    fn services() -> Arc<Services> {
        let services = Arc::new(Services::with_settings(
            StreamSettings::default(),
            LambdaSettings {
                agent_program: Some("/nonexistent/dynastream".into()),
                ..Default::default()
            },
        ));
        let (account, region) = (crate::edge::DEFAULT_ACCOUNT, crate::edge::DEFAULT_REGION);
        let stream = Arc::new(Stream::for_tests(StreamSettings::default()));
        let item = serde_json::from_str(r#"{"pk":{"S":"a"}}"#).unwrap();
        stream.append(None, Some(&item), false);
        services.dynamodb.region(account, region).streams.add(stream);
        let latest = Deployment {
            config: FunctionConfiguration {
                function_name: "f".into(),
                version: LATEST.into(),
                ..Default::default()
            },
            code: Arc::new(Code::from_zip(Bytes::new())),
        };
        services
            .lambda
            .functions
            .region(account, region)
            .insert(Arc::new(Function::new(
                account,
                region,
                "f",
                FunctionState {
                    latest,
                    versions: Default::default(),
                    next_version: 1,
                    reserved_concurrency: None,
                    tags: Default::default(),
                },
            )));
        services
    }

    // NB: a current-thread runtime runs the poller that creation spawns only when the test awaits, so the
    // deletion lands before the poller's first run.
    #[tokio::test]
    async fn a_mapping_deleted_before_its_poller_first_runs_never_delivers_and_is_gone() {
        let services = services();
        let body = serde_json::json!({
            "FunctionName": "f",
            "EventSourceArn": STREAM_ARN,
            "StartingPosition": "TRIM_HORIZON",
        });
        let ctx = RequestContext::from_headers(&HeaderMap::new());
        let mapping = create(&services, &ctx, &Bytes::from(body.to_string())).unwrap();
        let deleted = delete_event_source_mapping(
            State(services.clone()),
            Path(mapping.uuid.clone()),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(deleted.status(), StatusCode::ACCEPTED);

        // The poller stops at its first run, dropping its reference to the mapping (the registry dropped its
        // own at the deletion).
        let began = Instant::now();
        while Arc::strong_count(&mapping) > 1 {
            assert!(
                began.elapsed() < Duration::from_secs(5),
                "the poller of a deleted mapping still runs: {:?}, {:?}",
                mapping.status(),
                mapping.health()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let status = mapping.status();
        assert_eq!(status.state, "Deleting");
        assert_eq!(status.last_processing_result, "No records processed");
        let health = mapping.health();
        assert_eq!(health.current_shard, None);
        assert_eq!(health.batches_succeeded + health.batches_failed, 0);

        let found = get_event_source_mapping(
            State(services.clone()),
            Path(mapping.uuid.clone()),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(found.status(), StatusCode::NOT_FOUND);
        assert!(services.lambda.mappings.all().is_empty());
    }
}
