//! Invoke (`POST /2015-03-31/functions/{FunctionName}/invocations`) and the emulator's side of the agent
//! protocol (`/_dynastream/agent/{environment}/config | next | result/{requestId}`).

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;

use super::{
    LambdaError,
    environments::{
        AcquireError, AgentConfig, AgentResult, Dispatch, Handover, base64_decode, base64_encode,
    },
    functions::{Deployment, Function, LATEST, parse_function_name},
    runtime_api::Invocation,
};
use crate::edge::{RequestContext, Services};

/// Largest synchronous request payload (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;
/// Largest asynchronous (Event) request payload (256 KB).
pub const MAX_ASYNC_PAYLOAD: usize = 262_144;
/// The log tail returned with `LogType: Tail`.
const LOG_TAIL_BYTES: usize = 4096;
/// How long an environment that stopped before taking an invocation has to answer it (its exit does, at once,
/// when it had seen it).
const STOPPED_GRACE: Duration = Duration::from_secs(1);

/// Invoke and the agent protocol, merged into the edge's router.
pub fn router() -> Router<Arc<Services>> {
    Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .route("/_dynastream/agent/{environment}/config", get(agent_config_route))
        .route("/_dynastream/agent/{environment}/next", get(agent_next))
        .route(
            "/_dynastream/agent/{environment}/result/{request}",
            post(agent_result),
        )
        .layer(DefaultBodyLimit::max(MAX_SYNC_PAYLOAD + 1024 * 1024))
}

/// How a caller asked to invoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// The outcome of one synchronous invocation.
pub struct InvokeOutcome {
    /// The request id (also `x-amzn-RequestId`).
    pub request_id: String,
    /// `$LATEST` or the version run.
    pub executed_version: String,
    /// The handler's result or AWS's error JSON.
    pub payload: Bytes,
    /// `Unhandled` when the function failed.
    pub function_error: Option<&'static str>,
    /// The invocation's log lines.
    pub logs: String,
}

async fn invoke(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match invoke_request(&services, &name, &query, &headers, body).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn invoke_request(
    services: &Arc<Services>,
    name: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, LambdaError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let invocation_type = match header("x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => InvocationType::RequestResponse,
        "Event" => InvocationType::Event,
        "DryRun" => InvocationType::DryRun,
        other => {
            return Err(LambdaError::validation(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: \
                 Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )));
        }
    };
    let wants_logs = match header("x-amz-log-type").unwrap_or("None") {
        "None" => false,
        "Tail" => true,
        other => {
            return Err(LambdaError::validation(format!(
                "1 validation error detected: Value '{other}' at 'logType' failed to satisfy constraint: Member \
                 must satisfy enum value set: [Tail, None]"
            )));
        }
    };
    let client_context = match header("x-amz-client-context") {
        Some(encoded) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    LambdaError::invalid_parameter(
                        "Client context must be a valid Base64-encoded JSON object.",
                    )
                })?,
        ),
        None => None,
    };
    let limit = if invocation_type == InvocationType::Event {
        MAX_ASYNC_PAYLOAD
    } else {
        MAX_SYNC_PAYLOAD
    };
    if body.len() > limit {
        let operation = if invocation_type == InvocationType::Event {
            "InvokeAsync"
        } else {
            "InvokeFunction"
        };
        return Err(LambdaError::new(
            "RequestTooLargeException",
            413,
            format!("Request must be smaller than {limit} bytes for the {operation} operation"),
        ));
    }
    let payload = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    if let Err(err) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        return Err(LambdaError::new(
            "InvalidRequestContentException",
            400,
            format!("Could not parse request body into json: Could not parse payload into json: {err}"),
        ));
    }
    let ctx = RequestContext::from_headers(headers);
    let (function, deployment) = resolve(services, &ctx, name, query.get("Qualifier").map(String::as_str))?;
    let reserved = function.read(|state| state.reserved_concurrency);
    if reserved == Some(0) {
        return Err(LambdaError::too_many_requests(
            "ReservedFunctionConcurrentInvocationLimitExceeded",
        ));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    match invocation_type {
        InvocationType::DryRun => {
            Ok((StatusCode::NO_CONTENT, [("x-amzn-requestid", request_id)]).into_response())
        }
        InvocationType::Event => {
            let services = services.clone();
            let id = request_id.clone();
            tokio::spawn(async move {
                match invoke_function(
                    &services,
                    &function,
                    &deployment,
                    payload,
                    id,
                    client_context,
                    false,
                )
                .await
                {
                    Ok(outcome) if outcome.function_error.is_some() => tracing::warn!(
                        function = %function.name, request_id = %outcome.request_id,
                        "asynchronous invocation failed: {}", String::from_utf8_lossy(&outcome.payload)
                    ),
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(function = %function.name, "asynchronous invocation failed: {err}")
                    }
                }
            });
            Ok((StatusCode::ACCEPTED, [("x-amzn-requestid", request_id)]).into_response())
        }
        InvocationType::RequestResponse => {
            // The invocation runs to its end even when the caller goes away (as on AWS), so that its environment
            // is released rather than held by a dropped request.
            let services = services.clone();
            let outcome = tokio::spawn(async move {
                invoke_function(
                    &services,
                    &function,
                    &deployment,
                    payload,
                    request_id,
                    client_context,
                    wants_logs,
                )
                .await
            })
            .await
            .map_err(|err| LambdaError::internal(format!("the invocation failed: {err}")))??;
            let mut response = Response::new(axum::body::Body::from(outcome.payload));
            let headers = response.headers_mut();
            let mut set = |name: &'static str, value: &str| {
                if let Ok(value) = HeaderValue::from_str(value) {
                    headers.insert(name, value);
                }
            };
            set("content-type", "application/json");
            set("x-amzn-requestid", &outcome.request_id);
            set("x-amz-executed-version", &outcome.executed_version);
            if let Some(error) = outcome.function_error {
                set("x-amz-function-error", error);
            }
            if wants_logs {
                set(
                    "x-amz-log-result",
                    &base64_encode(log_tail(&outcome.logs).as_bytes()),
                );
            }
            Ok(response)
        }
    }
}

/// The last 4 KB of a log, cut at a character boundary.
fn log_tail(logs: &str) -> &str {
    let start = logs.len().saturating_sub(LOG_TAIL_BYTES);
    let start = (start..logs.len())
        .find(|i| logs.is_char_boundary(*i))
        .unwrap_or(logs.len());
    &logs[start..]
}

/// The function and deployment a reference names, with AWS's not-found errors.
pub fn resolve(
    services: &Services,
    ctx: &RequestContext,
    reference: &str,
    qualifier: Option<&str>,
) -> Result<(Arc<Function>, Deployment), LambdaError> {
    let (account, name, in_name) = parse_function_name(reference)?;
    let qualifier = match (in_name, qualifier) {
        (Some(a), Some(b)) if a != b => {
            return Err(LambdaError::invalid_parameter(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (a, b) => a.or(b),
    };
    let account = account.unwrap_or(&ctx.account);
    let arn = super::functions::function_arn(&ctx.region, account, name);
    let not_found = || match qualifier {
        Some(q) => LambdaError::not_found(format!("Function not found: {arn}:{q}")),
        None => LambdaError::not_found(format!("Function not found: {arn}")),
    };
    let function = services
        .lambda
        .functions
        .region(account, &ctx.region)
        .get(name)
        .ok_or_else(not_found)?;
    let deployment = function.deployment(qualifier).ok_or_else(not_found)?;
    if deployment.config.state != "Active" {
        return Err(LambdaError::conflict(format!(
            "The operation cannot be performed at this time. The function is currently in the following state: {}",
            deployment.config.state
        )));
    }
    Ok((function, deployment))
}

/// Runs one invocation to its end in an execution environment. Used by Invoke and by event source mappings.
pub async fn invoke_function(
    services: &Services,
    function: &Arc<Function>,
    deployment: &Deployment,
    payload: Bytes,
    request_id: String,
    client_context: Option<String>,
    wants_logs: bool,
) -> Result<InvokeOutcome, LambdaError> {
    let environments = &services.lambda.environments;
    let reserved = function.read(|state| state.reserved_concurrency);
    let config = &deployment.config;
    let lease = environments
        .acquire(function, deployment, reserved, || {
            agent_config(function, deployment, environments.emulator_url())
        })
        .map_err(|err| match err {
            AcquireError::ReservedConcurrency => {
                LambdaError::too_many_requests("ReservedFunctionConcurrentInvocationLimitExceeded")
            }
            AcquireError::AccountConcurrency => {
                LambdaError::too_many_requests("ConcurrentInvocationLimitExceeded")
            }
            AcquireError::Start(reason) => LambdaError::service(reason),
        })?;
    let executed_version = config.version.clone();
    let invoked_function_arn = if config.version == LATEST {
        function.arn.clone()
    } else {
        config.function_arn.clone()
    };
    let invocation = Invocation {
        request_id: request_id.clone(),
        payload,
        deadline_ms: 0,
        invoked_function_arn,
        trace_id: Some(trace_id()),
        client_context,
        cognito_identity: None,
    };
    let (result_tx, result_rx) = tokio::sync::oneshot::channel();
    let (taken_tx, taken_rx) = tokio::sync::oneshot::channel();
    if !environments
        .dispatch(
            &lease,
            Dispatch {
                invocation,
                wants_logs,
                taken: taken_tx,
                result: result_tx,
            },
        )
        .await
    {
        environments.kill(lease);
        return Err(LambdaError::internal(
            "the execution environment went away before the invocation",
        ));
    }
    // A new environment is starting until its agent takes the invocation (a pod scheduled and its image
    // pulled, the runtime's init): as in AWS, the function's timeout counts only from there. The agent enforces
    // it; the bound below only guards against an agent that hangs.
    let handover = environments.handover(&lease, taken_rx).await;
    let limit = match handover {
        Handover::Taken => Duration::from_secs(u64::from(config.timeout)) + Duration::from_secs(5),
        // Its exit answers the invocation at once if it had seen it; otherwise nothing will.
        Handover::Stopped => STOPPED_GRACE,
        Handover::StartTimedOut => {
            environments.kill(lease);
            return Err(LambdaError::service(format!(
                "the execution environment of {} did not start within {} seconds",
                function.name,
                environments.start_timeout().as_secs_f64()
            )));
        }
    };
    let result = tokio::time::timeout(limit, result_rx).await;
    let result = match result {
        Ok(Ok(result)) => {
            let healthy = result.environment_survives();
            environments.release(lease, healthy);
            result
        }
        Ok(Err(_)) | Err(_) if handover == Handover::Stopped => {
            environments.kill(lease);
            return Err(LambdaError::service(format!(
                "the execution environment of {} stopped before it took the invocation",
                function.name
            )));
        }
        Ok(Err(_)) | Err(_) => {
            environments.kill(lease);
            let message = format!(
                "{} {request_id} Task timed out after {:.2} seconds",
                jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
                f64::from(config.timeout)
            );
            AgentResult {
                outcome: "timeout".into(),
                error_type: None,
                payload: base64_encode(
                    serde_json::json!({ "errorMessage": message })
                        .to_string()
                        .as_bytes(),
                ),
                logs: format!(
                    "START RequestId: {request_id} Version: {executed_version}\n{message}\nEND RequestId: {request_id}\n"
                ),
                duration_ms: limit.as_secs_f64() * 1000.0,
                init_duration_ms: None,
            }
        }
    };
    let function_error = (result.outcome != "response").then_some("Unhandled");
    tracing::info!(
        function = %function.name,
        request_id = %request_id,
        outcome = %result.outcome,
        duration_ms = format!("{:.2}", result.duration_ms),
        "invocation finished"
    );
    Ok(InvokeOutcome {
        request_id,
        executed_version,
        payload: base64_decode(&result.payload),
        function_error,
        logs: result.logs,
    })
}

/// An X-Ray trace header, as Lambda passes one to every invocation.
fn trace_id() -> String {
    let now = jiff::Timestamp::now().as_second();
    format!(
        "Root=1-{now:08x}-{:024x};Parent={:016x};Sampled=0",
        rand::random::<u128>() & ((1u128 << 96) - 1),
        rand::random::<u64>()
    )
}

/// What an environment's agent needs to run `deployment` (started for an invocation; a warm pool sets
/// `prestarted`).
pub(crate) fn agent_config(function: &Function, deployment: &Deployment, emulator_url: &str) -> AgentConfig {
    let config = &deployment.config;
    let date = jiff::Timestamp::now().strftime("%Y/%m/%d");
    AgentConfig {
        function_name: function.name.clone(),
        function_arn: function.arn.clone(),
        version: config.version.clone(),
        runtime: config.runtime.clone().unwrap_or_default(),
        handler: config.handler.clone().unwrap_or_default(),
        memory_size: config.memory_size,
        timeout: config.timeout,
        environment: config
            .environment
            .as_ref()
            .map(|e| e.variables.clone())
            .unwrap_or_default(),
        code_url: format!(
            "{emulator_url}/_dynastream/lambda/code/{}/{}/{}/{}",
            function.account, function.region, function.name, config.version
        ),
        region: function.region.clone(),
        account: function.account.clone(),
        log_group: format!("/aws/lambda/{}", function.name),
        log_stream: format!("{date}/[{}]{}", config.version, uuid::Uuid::new_v4().simple()),
        endpoint_url: emulator_url.to_owned(),
        prestarted: false,
    }
}

async fn agent_config_handler(services: &Services, environment: &str) -> Result<Response, LambdaError> {
    let environment = services
        .lambda
        .environments
        .get(environment)
        .ok_or_else(|| LambdaError::not_found(format!("no execution environment {environment}")))?;
    Ok(axum::Json(environment.config.clone()).into_response())
}

async fn agent_config_route(
    State(services): State<Arc<Services>>,
    Path(environment): Path<String>,
) -> Response {
    agent_config_handler(&services, &environment)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn agent_next(State(services): State<Arc<Services>>, Path(environment): Path<String>) -> Response {
    let Some(environment) = services.lambda.environments.get(&environment) else {
        return LambdaError::not_found("no such execution environment").into_response();
    };
    let Some((invocation, wants_logs)) = environment.next().await else {
        return LambdaError::not_found("the execution environment was stopped").into_response();
    };
    axum::Json(serde_json::json!({
        "requestId": invocation.request_id,
        "payload": base64_encode(&invocation.payload),
        "invokedFunctionArn": invocation.invoked_function_arn,
        "traceId": invocation.trace_id,
        "clientContext": invocation.client_context,
        "cognitoIdentity": invocation.cognito_identity,
        "wantsLogs": wants_logs,
    }))
    .into_response()
}

async fn agent_result(
    State(services): State<Arc<Services>>,
    Path((environment, request)): Path<(String, String)>,
    axum::Json(result): axum::Json<AgentResult>,
) -> Response {
    let Some(environment) = services.lambda.environments.get(&environment) else {
        return LambdaError::not_found("no such execution environment").into_response();
    };
    if environment.complete(&request, result) {
        StatusCode::ACCEPTED.into_response()
    } else {
        LambdaError::validation(format!("no pending invocation {request}")).into_response()
    }
}
