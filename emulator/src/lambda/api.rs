//! The Lambda REST API (the control plane under `/2015-03-31/` and its sister date prefixes), and the
//! emulator's code download endpoint that GetFunction's `Code.Location` points at.
//!
//! Each route is a thin axum handler: it reads the request (path, query, JSON body), calls the operation of the
//! same name below, which knows nothing of HTTP, and writes AWS's envelope: `x-amzn-RequestId` (a UUID) on
//! every response, and for errors `x-amzn-ErrorType` with the JSON body of [`LambdaError`]. Lambda paths that
//! dynastream does not implement answer an error naming the operation, never a fake success.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::{MethodRouter, any, get, post, put},
};
use base64::Engine;
use serde::{Serialize, de::DeserializeOwned};

use super::{
    Lambda, LambdaError,
    functions::{
        self, CREATING_REASON, Code, Deployment, Function, FunctionRef, FunctionState, LATEST, MAX_LAYERS,
        NameShape,
    },
    wire::{
        Concurrency, CreateFunctionRequest, DeadLetterConfig, EnvironmentResponse, EphemeralStorage,
        FunctionCodeLocation, FunctionConfiguration, GetFunctionResponse, Layer, ListFunctionsResponse,
        ListTagsResponse, ListVersionsByFunctionResponse, LoggingConfig, LoggingConfigRequest,
        PublishVersionRequest, PutFunctionConcurrencyRequest, RuntimeVersionConfig, SnapStart,
        TagResourceRequest, TracingConfig, UpdateFunctionCodeRequest, UpdateFunctionConfigurationRequest,
    },
};
use crate::edge::{RequestContext, Services};

/// Largest CreateFunction and UpdateFunctionCode request (a 50 MB zip, base64 in JSON).
pub const MAX_CODE_REQUEST_BYTES: usize = 70_167_211;
/// Largest request of the other control-plane operations.
pub const MAX_REQUEST_BYTES: usize = 6_291_456;
/// ListFunctions and ListVersionsByFunction return at most this many items a page, whatever `MaxItems` says.
pub const MAX_PAGE_ITEMS: usize = 50;
/// The account's concurrency (AWS's default quota).
pub const ACCOUNT_CONCURRENCY: u32 = 1000;
/// Concurrency that reserved concurrency must leave unreserved.
pub const MIN_UNRESERVED_CONCURRENCY: u32 = 100;
/// The path prefix of the code download endpoint.
pub const CODE_PATH_PREFIX: &str = "/_dynastream/lambda/code";

/// The date prefixes of Lambda's REST paths: requests under them that no route takes are Lambda operations
/// dynastream does not implement.
const LAMBDA_PATH_PREFIXES: &[&str] = &[
    "2014-11-13",
    "2015-03-31",
    "2016-08-19",
    "2017-03-31",
    "2017-10-31",
    "2018-10-31",
    "2019-09-25",
    "2019-09-30",
    "2020-04-22",
    "2020-06-30",
    "2021-07-20",
    "2021-10-31",
    "2021-11-15",
    "2024-08-31",
    "2025-11-30",
    "2025-12-01",
];

/// The Lambda routes, merged into the edge's router.
pub fn router() -> Router<Arc<Services>> {
    let mut router = Router::new()
        .route(
            "/2015-03-31/functions",
            lambda(post(create_function).get(list_functions)),
        )
        .route("/2015-03-31/functions/", lambda(get(list_functions)))
        .route(
            "/2015-03-31/functions/{FunctionName}",
            lambda(get(get_function).delete(delete_function)),
        )
        .route(
            "/2015-03-31/functions/{FunctionName}/configuration",
            lambda(get(get_function_configuration).put(update_function_configuration)),
        )
        .route(
            "/2015-03-31/functions/{FunctionName}/code",
            lambda(put(update_function_code)),
        )
        .route(
            "/2015-03-31/functions/{FunctionName}/versions",
            lambda(get(list_versions_by_function).post(publish_version)),
        )
        .route(
            "/2017-10-31/functions/{FunctionName}/concurrency",
            lambda(put(put_function_concurrency).delete(delete_function_concurrency)),
        )
        .route(
            "/2019-09-30/functions/{FunctionName}/concurrency",
            lambda(get(get_function_concurrency)),
        )
        .route(
            "/2017-03-31/tags/{Resource}",
            lambda(get(list_tags).post(tag_resource).delete(untag_resource)),
        )
        .route(
            &format!("{CODE_PATH_PREFIX}/{{account}}/{{region}}/{{function}}/{{version}}"),
            get(get_code),
        );
    for prefix in LAMBDA_PATH_PREFIXES {
        router = router.route(&format!("/{prefix}/{{*rest}}"), any(not_implemented));
    }
    router
}

/// A Lambda route whose other methods name the operation dynastream lacks.
fn lambda(method_router: MethodRouter<Arc<Services>>) -> MethodRouter<Arc<Services>> {
    method_router.fallback(not_implemented)
}

// ---- the HTTP envelope ----

/// An operation's successful answer: status and JSON body (none for 204).
type Reply = Result<(StatusCode, Option<Vec<u8>>), LambdaError>;

fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    let body = serde_json::to_vec(value).map_err(LambdaError::internal)?;
    Ok((status, Some(body)))
}

/// Writes AWS's envelope around an operation's outcome.
fn finish(operation: &str, reply: Reply) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (status, body, error_type) = match reply {
        Ok((status, body)) => (status, body, None),
        Err(err) => {
            tracing::debug!(
                operation,
                code = err.code(),
                message = err.message(),
                "lambda error"
            );
            let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Some(err.to_body()), Some(err.code()))
        }
    };
    let mut response = match body {
        Some(body) => Response::new(Body::from(body)),
        None => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if status != StatusCode::NO_CONTENT {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    if let Some(code) = error_type
        && let Ok(value) = HeaderValue::from_str(code)
    {
        headers.insert("x-amzn-errortype", value);
    }
    response
}

/// The request body, at most `limit` bytes (else AWS's 413 naming the operation).
async fn read_body(body: Body, limit: usize, operation: &str) -> Result<axum::body::Bytes, LambdaError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        LambdaError::new(
            "RequestEntityTooLargeException",
            413,
            format!("Request must be smaller than {limit} bytes for the {operation} operation"),
        )
    })
}

/// The JSON body as `T`; an empty body reads as `{}`.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, LambdaError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        LambdaError::new(
            "InvalidRequestContentException",
            400,
            format!("Could not parse request body into json: {e}"),
        )
    })
}

/// The query string's parameters, percent-decoded, in order (a name may repeat, as `tagKeys` does).
fn query_params(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn query_param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- handlers ----

async fn create_function(State(services): State<Arc<Services>>, headers: HeaderMap, body: Body) -> Response {
    const OPERATION: &str = "CreateFunction";
    let ctx = RequestContext::from_headers(&headers);
    let reply = async {
        let body = read_body(body, MAX_CODE_REQUEST_BYTES, OPERATION).await?;
        let config = ops::create_function(&services.lambda, &ctx, parse_json(&body)?)?;
        json(StatusCode::CREATED, &config)
    }
    .await;
    finish(OPERATION, reply)
}

async fn list_functions(State(services): State<Arc<Services>>, headers: HeaderMap, uri: Uri) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let reply = ops::list_functions(&services.lambda, &ctx, &query_params(&uri))
        .and_then(|out| json(StatusCode::OK, &out));
    finish("ListFunctions", reply)
}

async fn get_function(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let params = query_params(&uri);
    let reply = ops::get_function(&services.lambda, &ctx, &name, query_param(&params, "Qualifier"))
        .and_then(|out| json(StatusCode::OK, &out));
    finish("GetFunction", reply)
}

async fn get_function_configuration(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let params = query_params(&uri);
    let reply = ops::get_function(&services.lambda, &ctx, &name, query_param(&params, "Qualifier"))
        .and_then(|out| json(StatusCode::OK, &out.configuration));
    finish("GetFunctionConfiguration", reply)
}

async fn delete_function(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let params = query_params(&uri);
    let reply = ops::delete_function(&services.lambda, &ctx, &name, query_param(&params, "Qualifier"))
        .map(|()| (StatusCode::NO_CONTENT, None));
    finish("DeleteFunction", reply)
}

async fn update_function_code(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const OPERATION: &str = "UpdateFunctionCode";
    let ctx = RequestContext::from_headers(&headers);
    let reply = async {
        let body = read_body(body, MAX_CODE_REQUEST_BYTES, OPERATION).await?;
        let config = ops::update_function_code(&services.lambda, &ctx, &name, parse_json(&body)?)?;
        json(StatusCode::OK, &config)
    }
    .await;
    finish(OPERATION, reply)
}

async fn update_function_configuration(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const OPERATION: &str = "UpdateFunctionConfiguration";
    let ctx = RequestContext::from_headers(&headers);
    let reply = async {
        let body = read_body(body, MAX_REQUEST_BYTES, OPERATION).await?;
        let config = ops::update_function_configuration(&services.lambda, &ctx, &name, parse_json(&body)?)?;
        json(StatusCode::OK, &config)
    }
    .await;
    finish(OPERATION, reply)
}

async fn publish_version(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const OPERATION: &str = "PublishVersion";
    let ctx = RequestContext::from_headers(&headers);
    let reply = async {
        let body = read_body(body, MAX_REQUEST_BYTES, OPERATION).await?;
        let config = ops::publish_version(&services.lambda, &ctx, &name, parse_json(&body)?)?;
        json(StatusCode::CREATED, &config)
    }
    .await;
    finish(OPERATION, reply)
}

async fn list_versions_by_function(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let reply = ops::list_versions_by_function(&services.lambda, &ctx, &name, &query_params(&uri))
        .and_then(|out| json(StatusCode::OK, &out));
    finish("ListVersionsByFunction", reply)
}

async fn put_function_concurrency(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const OPERATION: &str = "PutFunctionConcurrency";
    let ctx = RequestContext::from_headers(&headers);
    let reply = async {
        let body = read_body(body, MAX_REQUEST_BYTES, OPERATION).await?;
        let out = ops::put_function_concurrency(&services.lambda, &ctx, &name, parse_json(&body)?)?;
        json(StatusCode::OK, &out)
    }
    .await;
    finish(OPERATION, reply)
}

async fn delete_function_concurrency(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let reply = ops::delete_function_concurrency(&services.lambda, &ctx, &name)
        .map(|()| (StatusCode::NO_CONTENT, None));
    finish("DeleteFunctionConcurrency", reply)
}

async fn get_function_concurrency(
    State(services): State<Arc<Services>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let reply = ops::get_function_concurrency(&services.lambda, &ctx, &name)
        .and_then(|out| json(StatusCode::OK, &out));
    finish("GetFunctionConcurrency", reply)
}

async fn tag_resource(
    State(services): State<Arc<Services>>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const OPERATION: &str = "TagResource";
    let ctx = RequestContext::from_headers(&headers);
    let reply = async {
        let body = read_body(body, MAX_REQUEST_BYTES, OPERATION).await?;
        ops::tag_resource(&services.lambda, &ctx, &resource, parse_json(&body)?)?;
        Ok((StatusCode::NO_CONTENT, None))
    }
    .await;
    finish(OPERATION, reply)
}

async fn untag_resource(
    State(services): State<Arc<Services>>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let params = query_params(&uri);
    let keys: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v.as_str())
        .collect();
    let reply = ops::untag_resource(&services.lambda, &ctx, &resource, &keys)
        .map(|()| (StatusCode::NO_CONTENT, None));
    finish("UntagResource", reply)
}

async fn list_tags(
    State(services): State<Arc<Services>>,
    Path(resource): Path<String>,
    headers: HeaderMap,
) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    let reply = ops::list_tags(&services.lambda, &ctx, &resource).and_then(|out| json(StatusCode::OK, &out));
    finish("ListTags", reply)
}

/// `GET /_dynastream/lambda/code/{account}/{region}/{function}/{version}`: the deployment's zip.
async fn get_code(
    State(services): State<Arc<Services>>,
    Path((account, region, function, version)): Path<(String, String, String, String)>,
) -> Response {
    let code = services
        .lambda
        .functions
        .region(&account, &region)
        .get(&function)
        .and_then(|f| f.deployment(Some(&version)))
        .map(|deployment| deployment.code);
    match code {
        Some(code) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (
                    HeaderName::from_static("x-amzn-requestid"),
                    uuid::Uuid::new_v4().to_string(),
                ),
            ],
            Body::from(code.zip.clone()),
        )
            .into_response(),
        None => finish(
            "GetCode",
            Err(functions::function_not_found(
                &region,
                &account,
                &function,
                Some(&version),
            )),
        ),
    }
}

/// Any other Lambda path: an error naming the operation dynastream does not implement.
async fn not_implemented(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let message = match operation_name(&method, path) {
        Some(operation) => format!("Lambda operation {operation} is not implemented by dynastream"),
        None => format!("Lambda operation {method} {path} is not implemented by dynastream"),
    };
    finish(
        "NotImplemented",
        Err(LambdaError::new("UnknownOperationException", 400, message)),
    )
}

/// The Lambda operation a method and path name (AWS's API model), for the not-implemented message.
fn operation_name(method: &Method, path: &str) -> Option<&'static str> {
    // "<method> <path template> <operation>", from AWS's API model; `*` is one path segment.
    const OPERATIONS: &[&str] = &[
        "POST /2014-11-13/functions/*/invoke-async InvokeAsync",
        "DELETE /2015-03-31/event-source-mappings/* DeleteEventSourceMapping",
        "GET /2015-03-31/event-source-mappings ListEventSourceMappings",
        "GET /2015-03-31/event-source-mappings/ ListEventSourceMappings",
        "GET /2015-03-31/event-source-mappings/* GetEventSourceMapping",
        "POST /2015-03-31/event-source-mappings CreateEventSourceMapping",
        "POST /2015-03-31/event-source-mappings/ CreateEventSourceMapping",
        "PUT /2015-03-31/event-source-mappings/* UpdateEventSourceMapping",
        "DELETE /2015-03-31/functions/*/aliases/* DeleteAlias",
        "GET /2015-03-31/functions/*/aliases ListAliases",
        "GET /2015-03-31/functions/*/aliases/* GetAlias",
        "POST /2015-03-31/functions/*/aliases CreateAlias",
        "PUT /2015-03-31/functions/*/aliases/* UpdateAlias",
        "DELETE /2015-03-31/functions/*/policy/* RemovePermission",
        "GET /2015-03-31/functions/*/policy GetPolicy",
        "POST /2015-03-31/functions/*/policy AddPermission",
        "POST /2015-03-31/functions/*/invocations Invoke",
        "GET /2016-08-19/account-settings GetAccountSettings",
        "GET /2016-08-19/account-settings/ GetAccountSettings",
        "DELETE /2018-10-31/layers/*/versions/* DeleteLayerVersion",
        "DELETE /2018-10-31/layers/*/versions/*/policy/* RemoveLayerVersionPermission",
        "GET /2018-10-31/layers ListLayers",
        "GET /2018-10-31/layers/*/versions ListLayerVersions",
        "GET /2018-10-31/layers/*/versions/* GetLayerVersion",
        "GET /2018-10-31/layers/*/versions/*/policy GetLayerVersionPolicy",
        "POST /2018-10-31/layers/*/versions PublishLayerVersion",
        "POST /2018-10-31/layers/*/versions/*/policy AddLayerVersionPermission",
        "DELETE /2019-09-25/functions/*/event-invoke-config DeleteFunctionEventInvokeConfig",
        "GET /2019-09-25/functions/*/event-invoke-config GetFunctionEventInvokeConfig",
        "GET /2019-09-25/functions/*/event-invoke-config/list ListFunctionEventInvokeConfigs",
        "POST /2019-09-25/functions/*/event-invoke-config UpdateFunctionEventInvokeConfig",
        "PUT /2019-09-25/functions/*/event-invoke-config PutFunctionEventInvokeConfig",
        "DELETE /2019-09-30/functions/*/provisioned-concurrency DeleteProvisionedConcurrencyConfig",
        "GET /2019-09-30/functions/*/provisioned-concurrency GetProvisionedConcurrencyConfig",
        "PUT /2019-09-30/functions/*/provisioned-concurrency PutProvisionedConcurrencyConfig",
        "DELETE /2020-04-22/code-signing-configs/* DeleteCodeSigningConfig",
        "GET /2020-04-22/code-signing-configs ListCodeSigningConfigs",
        "GET /2020-04-22/code-signing-configs/* GetCodeSigningConfig",
        "GET /2020-04-22/code-signing-configs/*/functions ListFunctionsByCodeSigningConfig",
        "POST /2020-04-22/code-signing-configs CreateCodeSigningConfig",
        "PUT /2020-04-22/code-signing-configs/* UpdateCodeSigningConfig",
        "DELETE /2020-06-30/functions/*/code-signing-config DeleteFunctionCodeSigningConfig",
        "GET /2020-06-30/functions/*/code-signing-config GetFunctionCodeSigningConfig",
        "PUT /2020-06-30/functions/*/code-signing-config PutFunctionCodeSigningConfig",
        "GET /2021-07-20/functions/*/runtime-management-config GetRuntimeManagementConfig",
        "PUT /2021-07-20/functions/*/runtime-management-config PutRuntimeManagementConfig",
        "DELETE /2021-10-31/functions/*/url DeleteFunctionUrlConfig",
        "GET /2021-10-31/functions/*/url GetFunctionUrlConfig",
        "GET /2021-10-31/functions/*/urls ListFunctionUrlConfigs",
        "POST /2021-10-31/functions/*/url CreateFunctionUrlConfig",
        "PUT /2021-10-31/functions/*/url UpdateFunctionUrlConfig",
        "POST /2021-11-15/functions/*/response-streaming-invocations InvokeWithResponseStream",
        "GET /2024-08-31/functions/*/recursion-config GetFunctionRecursionConfig",
        "PUT /2024-08-31/functions/*/recursion-config PutFunctionRecursionConfig",
        "DELETE /2025-11-30/capacity-providers/* DeleteCapacityProvider",
        "GET /2025-11-30/capacity-providers ListCapacityProviders",
        "GET /2025-11-30/capacity-providers/* GetCapacityProvider",
        "GET /2025-11-30/capacity-providers/*/function-versions ListFunctionVersionsByCapacityProvider",
        "POST /2025-11-30/capacity-providers CreateCapacityProvider",
        "PUT /2025-11-30/capacity-providers/* UpdateCapacityProvider",
        "GET /2025-11-30/functions/*/function-scaling-config GetFunctionScalingConfig",
        "PUT /2025-11-30/functions/*/function-scaling-config PutFunctionScalingConfig",
        "GET /2025-12-01/durable-executions/* GetDurableExecution",
        "GET /2025-12-01/durable-executions/*/history GetDurableExecutionHistory",
        "GET /2025-12-01/durable-executions/*/state GetDurableExecutionState",
        "GET /2025-12-01/functions/*/durable-executions ListDurableExecutionsByFunction",
        "POST /2025-12-01/durable-execution-callbacks/*/fail SendDurableExecutionCallbackFailure",
        "POST /2025-12-01/durable-execution-callbacks/*/heartbeat SendDurableExecutionCallbackHeartbeat",
        "POST /2025-12-01/durable-execution-callbacks/*/succeed SendDurableExecutionCallbackSuccess",
        "POST /2025-12-01/durable-executions/*/checkpoint CheckpointDurableExecution",
        "POST /2025-12-01/durable-executions/*/stop StopDurableExecution",
    ];
    let segments: Vec<&str> = path.split('/').collect();
    OPERATIONS.iter().find_map(|entry| {
        let mut parts = entry.split(' ');
        let (m, template, name) = (parts.next()?, parts.next()?, parts.next()?);
        let template: Vec<&str> = template.split('/').collect();
        let matches = m == method.as_str()
            && template.len() == segments.len()
            && template
                .iter()
                .zip(&segments)
                .all(|(t, s)| (*t == "*" && !s.is_empty()) || t == s);
        matches.then_some(name)
    })
}

// ---- operations (HTTP-free) ----

/// A dead-letter setting for this target; none for no target or an empty one.
fn dead_letter(target: Option<&str>) -> Option<DeadLetterConfig> {
    target.filter(|t| !t.is_empty()).map(|t| DeadLetterConfig {
        target_arn: Some(t.to_owned()),
    })
}

/// The operations, one per AWS operation, free of HTTP: they take the caller's context and the parsed input and
/// return the output or AWS's error.
mod ops {
    use super::*;

    /// What the stored `$LATEST` and versions say once a change has been applied: Active, or Failed when this
    /// emulator cannot run the runtime (`Lambda::runtime_problem`).
    pub(super) fn settle(lambda: &Lambda, config: &mut FunctionConfiguration) {
        let problem = config
            .runtime
            .as_deref()
            .and_then(|runtime| lambda.runtime_problem(runtime));
        match problem {
            Some(reason) => {
                config.state = "Failed".into();
                config.state_reason = Some(reason.clone());
                config.state_reason_code = Some("InvalidRuntime".into());
                config.last_update_status = Some("Failed".into());
                config.last_update_status_reason = Some(reason);
                config.last_update_status_reason_code = Some("InvalidRuntime".into());
            }
            None => {
                config.state = "Active".into();
                config.state_reason = None;
                config.state_reason_code = None;
                config.last_update_status = Some("Successful".into());
                config.last_update_status_reason = None;
                config.last_update_status_reason_code = None;
            }
        }
    }

    /// How CreateFunction answers: the function as it is being created.
    // NB: AWS answers `Pending` with its reason and no LastUpdateStatus, and the RevisionId changes again when the
    // function turns Active; the stored function is Active at once, so the answer's RevisionId is a fresh one.
    pub(super) fn as_creating(config: &FunctionConfiguration) -> FunctionConfiguration {
        let mut config = config.clone();
        config.state = "Pending".into();
        config.state_reason = Some(CREATING_REASON.into());
        config.state_reason_code = Some("Creating".into());
        config.last_update_status = None;
        config.last_update_status_reason = None;
        config.last_update_status_reason_code = None;
        config.revision_id = new_revision_id();
        config
    }

    /// How the update operations answer: the update in progress, on top of the state before it.
    // NB: as with creation, AWS's RevisionId changes again when the update completes.
    pub(super) fn as_updating(
        config: &FunctionConfiguration,
        before: &FunctionConfiguration,
    ) -> FunctionConfiguration {
        let mut config = config.clone();
        config.state = before.state.clone();
        config.state_reason = before.state_reason.clone();
        config.state_reason_code = before.state_reason_code.clone();
        config.last_update_status = Some("InProgress".into());
        config.last_update_status_reason = Some(CREATING_REASON.into());
        config.last_update_status_reason_code = Some("Creating".into());
        config.revision_id = new_revision_id();
        config
    }

    pub(super) fn new_revision_id() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// A version published from `$LATEST`.
    pub(super) fn version_from(latest: &Deployment, number: u64, description: Option<&str>) -> Deployment {
        let mut config = latest.config.clone();
        config.version = number.to_string();
        config.function_arn = format!("{}:{number}", latest.config.function_arn);
        if let Some(description) = description {
            config.description = description.to_owned();
        }
        config.revision_id = new_revision_id();
        Deployment {
            config,
            code: latest.code.clone(),
        }
    }

    /// A configuration as read through a qualifier: `$LATEST` asked for by name shows the qualified ARN.
    pub(super) fn as_read(config: &FunctionConfiguration, qualifier: Option<&str>) -> FunctionConfiguration {
        let mut config = config.clone();
        if qualifier == Some(LATEST) {
            config.function_arn = format!("{}:{LATEST}", config.function_arn);
        }
        config
    }

    /// A configuration as the list operations show it: without state, update status and runtime version.
    pub(super) fn list_entry(config: &FunctionConfiguration) -> serde_json::Value {
        const OMITTED: &[&str] = &[
            "State",
            "StateReason",
            "StateReasonCode",
            "LastUpdateStatus",
            "LastUpdateStatusReason",
            "LastUpdateStatusReasonCode",
            "RuntimeVersionConfig",
        ];
        let mut value = serde_json::to_value(config).unwrap_or(serde_json::Value::Null);
        if let Some(members) = value.as_object_mut() {
            for member in OMITTED {
                members.remove(*member);
            }
        }
        value
    }

    /// Parses a reference and checks it points into the caller's account and region.
    pub(super) fn resolve<'a>(
        ctx: &RequestContext,
        reference: &'a str,
        qualifier: Option<&'a str>,
        shape: NameShape,
    ) -> Result<FunctionRef<'a>, LambdaError> {
        let parsed = functions::parse_function_reference(reference, qualifier, shape)?;
        parsed.check_scope(&ctx.account, &ctx.region)?;
        Ok(parsed)
    }

    /// The function a reference names, or AWS's 404 (with the ARN qualified when `qualified_404`).
    pub(super) fn find(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &FunctionRef<'_>,
        qualified_404: bool,
    ) -> Result<Arc<Function>, LambdaError> {
        lambda
            .functions
            .region(&ctx.account, &ctx.region)
            .get(reference.name)
            .ok_or_else(|| {
                let qualifier = if qualified_404 { reference.qualifier } else { None };
                functions::function_not_found(&ctx.region, &ctx.account, reference.name, qualifier)
            })
    }

    /// Collects AWS's model constraint violations, in member order.
    #[derive(Default)]
    pub(super) struct Constraints(Vec<String>);

    impl Constraints {
        fn not_null<T>(&mut self, member: &str, value: &Option<T>) {
            if value.is_none() {
                self.0.push(format!(
                    "Value null at '{member}' failed to satisfy constraint: Member must not be null"
                ));
            }
        }

        fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: Option<i64>) {
            let Some(value) = value else { return };
            if value < min {
                self.0.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must have value greater than or \
                 equal to {min}"
            ));
            } else if let Some(max) = max
                && value > max
            {
                self.0.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must have value less than or \
                 equal to {max}"
            ));
            }
        }

        fn max_len(&mut self, member: &str, value: Option<&str>, max: usize) {
            if let Some(value) = value
                && value.chars().count() > max
            {
                self.0.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less than or \
                 equal to {max}"
            ));
            }
        }

        fn one_of(&mut self, member: &str, value: Option<&str>, allowed: &[&str]) {
            if let Some(value) = value
                && !allowed.contains(&value)
            {
                self.0.push(format!(
                "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ));
            }
        }

        /// DeadLetterConfig and KMSKeyArn; the dead-letter target, if any.
        fn dead_letter_and_key<'a>(
            &mut self,
            dead_letter: &'a Option<DeadLetterConfig>,
            key: &Option<String>,
        ) -> Option<&'a str> {
            let target = dead_letter.as_ref().and_then(|d| d.target_arn.as_deref());
            self.optional_arn("deadLetterConfig.targetArn", target);
            self.optional_arn("kMSKeyArn", key.as_deref());
            target
        }

        /// An ARN or nothing, as DeadLetterConfig.TargetArn and KMSKeyArn take.
        fn optional_arn(&mut self, member: &str, value: Option<&str>) {
            if let Some(value) = value
                && !(value.is_empty() || functions::is_any_arn(value))
            {
                let pattern = functions::OPTIONAL_ARN_PATTERN;
                self.0.push(format!(
                    "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular \
                     expression pattern: {pattern}"
                ));
            }
        }

        fn role(&mut self, role: Option<&str>) {
            if let Some(role) = role
                && !functions::is_role_arn(role)
            {
                self.0.push(format!(
                "Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression \
                 pattern: {}",
                functions::ROLE_PATTERN
            ));
            }
        }

        fn handler(&mut self, handler: Option<&str>) {
            let Some(handler) = handler else { return };
            self.max_len("handler", Some(handler), 128);
            if handler.chars().any(char::is_whitespace) {
                self.0.push(format!(
                "Value '{handler}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression \
                 pattern: [^\\s]+"
            ));
            }
        }

        fn architectures(&mut self, architectures: Option<&[String]>) {
            let Some(architectures) = architectures else {
                return;
            };
            let listed = format!("[{}]", architectures.join(", "));
            if architectures.is_empty() {
                self.0.push(format!(
                "Value '{listed}' at 'architectures' failed to satisfy constraint: Member must have length greater \
                 than or equal to 1"
            ));
            } else if architectures.len() > 1 {
                self.0.push(format!(
                "Value '{listed}' at 'architectures' failed to satisfy constraint: Member must have length less than \
                 or equal to 1"
            ));
            } else if !architectures.iter().all(|a| a == "x86_64" || a == "arm64") {
                self.0.push(format!(
                "Value '{listed}' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: \
                 [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"
            ));
            }
        }

        fn layers(&mut self, layers: Option<&[String]>) {
            let Some(layers) = layers else { return };
            if let Some(bad) = layers.iter().find(|layer| !is_layer_version_arn(layer)) {
                self.0.push(format!(
                "Value '[{bad}]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member \
                 must have length less than or equal to 2048, Member must have length greater than or equal to 1, \
                 Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), \
                 Member must not be null]"
            ));
            }
        }

        fn logging(&mut self, logging: Option<&LoggingConfigRequest>) {
            let Some(logging) = logging else { return };
            self.one_of(
                "loggingConfig.logFormat",
                logging.log_format.as_deref(),
                &["JSON", "Text"],
            );
            self.one_of(
                "loggingConfig.applicationLogLevel",
                logging.application_log_level.as_deref(),
                &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"],
            );
            self.one_of(
                "loggingConfig.systemLogLevel",
                logging.system_log_level.as_deref(),
                &["DEBUG", "INFO", "WARN"],
            );
            if let Some(group) = logging.log_group.as_deref() {
                self.max_len("loggingConfig.logGroup", Some(group), 512);
                let valid = !group.is_empty()
                    && group
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'));
                if !valid {
                    self.0.push(format!(
                    "Value '{group}' at 'loggingConfig.logGroup' failed to satisfy constraint: Member must satisfy \
                     regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
                ));
                }
            }
        }

        fn finish(self) -> Result<(), LambdaError> {
            if self.0.is_empty() {
                Ok(())
            } else {
                Err(LambdaError::validation(functions::validation_message(&self.0)))
            }
        }
    }

    /// `arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>` or `arn:<partition>:lambda:::awslayer:<name>`.
    pub(super) fn is_layer_version_arn(arn: &str) -> bool {
        let name_ok = |name: &str| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        };
        match arn.split(':').collect::<Vec<_>>().as_slice() {
            ["arn", partition, "lambda", "", "", "awslayer", name] => {
                !partition.is_empty()
                    && partition.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && name_ok(name)
            }
            [
                "arn",
                partition,
                "lambda",
                region,
                account,
                "layer",
                name,
                version,
            ] => {
                (partition.is_empty() || partition.starts_with("aws"))
                    && !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && name_ok(name)
                    && !version.is_empty()
                    && version.bytes().all(|b| b.is_ascii_digit())
                    && arn.len() <= 2048
            }
            _ => false,
        }
    }

    /// Layers as a function describes them; dynastream does not store layer contents, so their size is 0.
    pub(super) fn describe_layers(layers: &[String]) -> Result<Option<Vec<Layer>>, LambdaError> {
        if layers.len() > MAX_LAYERS {
            return Err(LambdaError::invalid_parameter(
                "Cannot reference more than 5 layers.",
            ));
        }
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for layer in layers {
            let unversioned = layer.rsplit_once(':').map_or(layer.as_str(), |(head, _)| head);
            if let Some(first) = seen.insert(unversioned, layer) {
                return Err(LambdaError::invalid_parameter(format!(
                    "Two different versions of the same layer are not allowed to be referenced in the same function. \
                 {first} and {layer} are versions of the same layer."
                )));
            }
        }
        Ok((!layers.is_empty()).then(|| {
            layers
                .iter()
                .map(|arn| Layer {
                    arn: arn.clone(),
                    code_size: 0,
                })
                .collect()
        }))
    }

    /// The logging configuration of a new function.
    pub(super) fn new_logging(
        name: &str,
        request: Option<&LoggingConfigRequest>,
    ) -> Result<LoggingConfig, LambdaError> {
        let base = LoggingConfig {
            log_format: "Text".into(),
            application_log_level: None,
            system_log_level: None,
            log_group: format!("/aws/lambda/{name}"),
        };
        match request {
            Some(request) => merge_logging(&base, request),
            None => Ok(base),
        }
    }

    /// A logging configuration with a request's members applied: switching to JSON sets both levels to INFO unless
    /// given, switching to Text drops them, and levels with Text are refused as AWS does.
    pub(super) fn merge_logging(
        current: &LoggingConfig,
        request: &LoggingConfigRequest,
    ) -> Result<LoggingConfig, LambdaError> {
        let format = request
            .log_format
            .clone()
            .unwrap_or_else(|| current.log_format.clone());
        if format == "Text" && (request.application_log_level.is_some() || request.system_log_level.is_some())
        {
            return Err(LambdaError::invalid_parameter(
                "LogLevel is not supported when LogFormat is set to \"Text\". Remove LogLevel from your request or \
             change the LogFormat to \"JSON\" and try again.",
            ));
        }
        let mut merged = current.clone();
        merged.log_format = format.clone();
        if let Some(group) = &request.log_group {
            merged.log_group = group.clone();
        }
        if format == "JSON" {
            merged.application_log_level = request
                .application_log_level
                .clone()
                .or(merged.application_log_level)
                .or_else(|| Some("INFO".into()));
            merged.system_log_level = request
                .system_log_level
                .clone()
                .or(merged.system_log_level)
                .or_else(|| Some("INFO".into()));
        } else {
            merged.application_log_level = None;
            merged.system_log_level = None;
        }
        Ok(merged)
    }

    /// The zip of a request's code, or why there is none dynastream can take.
    pub(super) fn request_zip(
        zip_file: Option<&str>,
        s3_bucket: Option<&str>,
        image_uri: Option<&str>,
    ) -> Result<bytes::Bytes, LambdaError> {
        if let Some(zip_file) = zip_file {
            return functions::check_zip(zip_file);
        }
        if s3_bucket.is_some() {
            return Err(LambdaError::invalid_parameter(
                "dynastream does not implement code from Amazon S3 (S3Bucket/S3Key): upload the deployment package \
             with ZipFile",
            ));
        }
        if image_uri.is_some() {
            return Err(LambdaError::invalid_parameter(
                "Please don't provide ImageUri when updating a function with packageType Zip.",
            ));
        }
        Err(LambdaError::invalid_parameter(
            "Please provide a source for function code.",
        ))
    }

    /// CreateFunction.
    pub(super) fn create_function(
        lambda: &Lambda,
        ctx: &RequestContext,
        input: CreateFunctionRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let Some(reference) = input.function_name.as_deref() else {
            return Err(LambdaError::validation(functions::validation_message(&[
                "Value null at 'functionName' failed to satisfy constraint: Member must not be null"
                    .to_owned(),
            ])));
        };
        let parsed = resolve(ctx, reference, None, NameShape::Create)?;
        let name = parsed.name.to_owned();

        let mut constraints = Constraints::default();
        constraints.not_null("role", &input.role);
        constraints.not_null("code", &input.code);
        constraints.role(input.role.as_deref());
        constraints.handler(input.handler.as_deref());
        constraints.max_len("description", input.description.as_deref(), 256);
        constraints.range("timeout", input.timeout, 1, Some(900));
        constraints.range("memorySize", input.memory_size, 128, Some(10240));
        constraints.one_of("packageType", input.package_type.as_deref(), &["Zip", "Image"]);
        let tracing_mode = input.tracing_config.as_ref().and_then(|t| t.mode.as_deref());
        constraints.one_of("tracingConfig.mode", tracing_mode, &["Active", "PassThrough"]);
        constraints.layers(input.layers.as_deref());
        constraints.architectures(input.architectures.as_deref());
        let storage = input.ephemeral_storage.as_ref().and_then(|s| s.size);
        constraints.range("ephemeralStorage.size", storage, 512, Some(10240));
        let apply_on = input.snap_start.as_ref().and_then(|s| s.apply_on.as_deref());
        constraints.one_of("snapStart.applyOn", apply_on, &["PublishedVersions", "None"]);
        constraints.logging(input.logging_config.as_ref());
        let dead_letter_target =
            constraints.dead_letter_and_key(&input.dead_letter_config, &input.kms_key_arn);
        constraints.finish()?;
        LambdaError::refuse_others(&input.others, "CreateFunction")?;

        if input.package_type.as_deref() == Some("Image") {
            return Err(LambdaError::invalid_parameter(
                "dynastream runs only Zip deployment packages: PackageType Image (container images) is not supported",
            ));
        }
        let (Some(runtime), Some(handler)) = (input.runtime.clone(), input.handler.clone()) else {
            return Err(LambdaError::invalid_parameter(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
            ));
        };
        if let Some(err) = functions::runtime_error(&runtime) {
            return Err(err);
        }
        let environment = match input.environment.as_ref() {
            Some(environment) => Some(EnvironmentResponse {
                variables: functions::check_environment(&environment.variables.clone().unwrap_or_default())?,
            }),
            None => None,
        };
        let layers = describe_layers(input.layers.as_deref().unwrap_or_default())?;
        let tags = input.tags.clone().unwrap_or_default();
        functions::check_tag_count(&tags)?;
        let logging_config = new_logging(&name, input.logging_config.as_ref())?;
        let code = input.code.as_ref();
        let zip = request_zip(
            code.and_then(|c| c.zip_file.as_deref()),
            code.and_then(|c| c.s3_bucket.as_deref()),
            code.and_then(|c| c.image_uri.as_deref()),
        )?;
        let code = Arc::new(Code::from_zip(zip));

        let mut config = FunctionConfiguration {
            function_name: name.clone(),
            function_arn: functions::function_arn(&ctx.region, &ctx.account, &name),
            runtime: Some(runtime.clone()),
            role: input.role.clone().unwrap_or_default(),
            handler: Some(handler),
            code_size: code.size,
            description: input.description.clone().unwrap_or_default(),
            timeout: input.timeout.map_or(3, |t| t as u32),
            memory_size: input.memory_size.map_or(128, |m| m as u32),
            last_modified: functions::last_modified_now(),
            code_sha256: code.sha256.clone(),
            version: LATEST.into(),
            environment,
            tracing_config: TracingConfig {
                mode: tracing_mode.unwrap_or("PassThrough").into(),
            },
            revision_id: new_revision_id(),
            layers,
            package_type: "Zip".into(),
            architectures: input
                .architectures
                .clone()
                .unwrap_or_else(|| vec!["x86_64".into()]),
            ephemeral_storage: EphemeralStorage {
                size: storage.map_or(512, |s| s as u32),
            },
            snap_start: SnapStart {
                apply_on: apply_on.unwrap_or("None").into(),
                optimization_status: "Off".into(),
            },
            logging_config,
            runtime_version_config: Some(RuntimeVersionConfig {
                runtime_version_arn: functions::runtime_version_arn(&ctx.region, &runtime),
            }),
            dead_letter_config: dead_letter(dead_letter_target),
            kms_key_arn: input.kms_key_arn.clone().filter(|arn| !arn.is_empty()),
            ..FunctionConfiguration::default()
        };
        settle(lambda, &mut config);
        let state = FunctionState {
            latest: Deployment { config, code },
            versions: BTreeMap::new(),
            next_version: 1,
            reserved_concurrency: None,
            tags,
        };
        let function = Arc::new(Function::new(&ctx.account, &ctx.region, &name, state));
        let published = if input.publish == Some(true) {
            Some(function.write(|state| {
                function
                    .publish(state, |latest, n| version_from(latest, n, None))
                    .0
            }))
        } else {
            None
        };
        if !lambda
            .functions
            .region(&ctx.account, &ctx.region)
            .insert(function.clone())
        {
            return Err(LambdaError::conflict(format!("Function already exist: {name}")));
        }
        tracing::info!(function = %function.arn, runtime = %runtime, "created function");
        lambda.keep_warm(&function);
        let mut answer = function.read(|state| as_creating(&state.latest.config));
        if let Some(version) = published {
            // NB: AWS answers a CreateFunction with Publish with the new version number and the unqualified ARN.
            answer.version = version.config.version;
        }
        Ok(answer)
    }

    /// GetFunction (and, through its `configuration`, GetFunctionConfiguration).
    pub(super) fn get_function(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
        qualifier: Option<&str>,
    ) -> Result<GetFunctionResponse, LambdaError> {
        let parsed = resolve(ctx, reference, qualifier, NameShape::Namespaced)?;
        let function = find(lambda, ctx, &parsed, true)?;
        let deployment = function.deployment(parsed.qualifier).ok_or_else(|| {
            functions::function_not_found(&ctx.region, &ctx.account, parsed.name, parsed.qualifier)
        })?;
        let (tags, reserved) = function.read(|state| (state.tags.clone(), state.reserved_concurrency));
        let location = format!(
            "http://{}{}",
            ctx.host,
            functions::code_path(
                &ctx.account,
                &ctx.region,
                &function.name,
                &deployment.config.version
            )
        );
        Ok(GetFunctionResponse {
            configuration: as_read(&deployment.config, parsed.qualifier),
            code: FunctionCodeLocation {
                repository_type: "S3".into(),
                location,
            },
            tags: (!tags.is_empty()).then_some(tags),
            concurrency: reserved.map(|n| Concurrency {
                reserved_concurrent_executions: Some(n),
            }),
        })
    }

    /// `MaxItems` of the list operations: 1..=10000, and pages hold at most 50 items whatever it says.
    pub(super) fn page_size(params: &[(String, String)]) -> Result<usize, LambdaError> {
        let Some(max_items) = query_param(params, "MaxItems") else {
            return Ok(MAX_PAGE_ITEMS);
        };
        let Ok(value) = max_items.parse::<i64>() else {
            return Err(LambdaError::validation(functions::validation_message(&[
                format!(
                    "Value '{max_items}' at 'maxItems' failed to satisfy constraint: Member must be a number"
                ),
            ])));
        };
        let mut constraints = Constraints::default();
        constraints.range("maxItems", Some(value), 1, Some(10000));
        constraints.finish()?;
        Ok(usize::try_from(value)
            .unwrap_or(MAX_PAGE_ITEMS)
            .min(MAX_PAGE_ITEMS))
    }

    /// The key a page resumes after, from a `Marker` this emulator issued.
    pub(super) fn decode_marker(params: &[(String, String)]) -> Result<Option<String>, LambdaError> {
        let Some(marker) = query_param(params, "Marker") else {
            return Ok(None);
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(marker)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Some)
            .ok_or_else(|| LambdaError::invalid_parameter(format!("Invalid marker: {marker}")))
    }

    pub(super) fn encode_marker(key: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    }

    /// One page of keyed entries, after the marker's key; the next marker if more follow.
    pub(super) fn paginate<T>(
        entries: Vec<(String, T)>,
        after: Option<&str>,
        size: usize,
    ) -> (Vec<T>, Option<String>) {
        let mut rest = entries
            .into_iter()
            .filter(|(key, _)| after.is_none_or(|after| key.as_str() > after))
            .peekable();
        let mut page = Vec::new();
        let mut last_key = None;
        while page.len() < size {
            let Some((key, entry)) = rest.next() else { break };
            last_key = Some(key);
            page.push(entry);
        }
        let next = if rest.peek().is_some() {
            last_key.map(|k| encode_marker(&k))
        } else {
            None
        };
        (page, next)
    }

    /// A sort key for `$LATEST` and the versions of a function: name, then version order.
    pub(super) fn version_key(name: &str, version: Option<u64>) -> String {
        // NB: NUL sorts before every character a name may hold, so keys sort as names do; zero-padding keeps
        // versions in numeric order. Markers are base64, so the NUL never reaches the wire raw.
        match version {
            None => format!("{name}\0"),
            Some(n) => format!("{name}\0{n:020}"),
        }
    }

    /// ListFunctions.
    pub(super) fn list_functions(
        lambda: &Lambda,
        ctx: &RequestContext,
        params: &[(String, String)],
    ) -> Result<ListFunctionsResponse, LambdaError> {
        let mut constraints = Constraints::default();
        let all = query_param(params, "FunctionVersion");
        constraints.one_of("functionVersion", all, &["ALL"]);
        constraints.finish()?;
        let all = all.is_some();
        let size = page_size(params)?;
        let after = decode_marker(params)?;
        let mut entries = Vec::new();
        for function in lambda.functions.region(&ctx.account, &ctx.region).list() {
            function.read(|state| {
                if all {
                    entries.push((
                        version_key(&function.name, None),
                        list_entry(&as_read(&state.latest.config, Some(LATEST))),
                    ));
                    for (n, version) in &state.versions {
                        entries.push((version_key(&function.name, Some(*n)), list_entry(&version.config)));
                    }
                } else {
                    entries.push((
                        version_key(&function.name, None),
                        list_entry(&state.latest.config),
                    ));
                }
            });
        }
        let (functions, next_marker) = paginate(entries, after.as_deref(), size);
        Ok(ListFunctionsResponse {
            functions,
            next_marker,
        })
    }

    /// ListVersionsByFunction.
    pub(super) fn list_versions_by_function(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
        params: &[(String, String)],
    ) -> Result<ListVersionsByFunctionResponse, LambdaError> {
        let parsed = resolve(ctx, reference, None, NameShape::Namespaced)?;
        let size = page_size(params)?;
        let after = decode_marker(params)?;
        let function = find(lambda, ctx, &parsed, false)?;
        let entries =
            function.read(|state| {
                let mut entries = vec![(
                    version_key(&function.name, None),
                    list_entry(&as_read(&state.latest.config, Some(LATEST))),
                )];
                entries.extend(state.versions.iter().map(|(n, version)| {
                    (version_key(&function.name, Some(*n)), list_entry(&version.config))
                }));
                entries
            });
        let (versions, next_marker) = paginate(entries, after.as_deref(), size);
        Ok(ListVersionsByFunctionResponse {
            versions,
            next_marker,
        })
    }

    pub(super) fn check_revision(expected: Option<&str>, current: &str) -> Result<(), LambdaError> {
        match expected {
            Some(expected) if expected != current => Err(LambdaError::new(
                "PreconditionFailedException",
                412,
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to \
             retrieve the latest Revision Id",
            )),
            _ => Ok(()),
        }
    }

    /// UpdateFunctionCode.
    pub(super) fn update_function_code(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
        input: UpdateFunctionCodeRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let parsed = resolve(ctx, reference, None, NameShape::Function)?;
        let mut constraints = Constraints::default();
        constraints.architectures(input.architectures.as_deref());
        constraints.finish()?;
        LambdaError::refuse_others(&input.others, "UpdateFunctionCode")?;
        let function = find(lambda, ctx, &parsed, false)?;
        let zip = request_zip(
            input.zip_file.as_deref(),
            input.s3_bucket.as_deref(),
            input.image_uri.as_deref(),
        )?;
        let code = Arc::new(Code::from_zip(zip));
        let dry_run = input.dry_run == Some(true);
        let answer = function.write(|state| {
            check_revision(input.revision_id.as_deref(), &state.latest.config.revision_id)?;
            let before = state.latest.config.clone();
            let mut config = before.clone();
            config.code_sha256 = code.sha256.clone();
            config.code_size = code.size;
            if let Some(architectures) = &input.architectures {
                config.architectures = architectures.clone();
            }
            config.last_modified = functions::last_modified_now();
            config.revision_id = new_revision_id();
            settle(lambda, &mut config);
            let answer = as_updating(&config, &before);
            if dry_run {
                return Ok(answer);
            }
            state.latest = Deployment {
                config,
                code: code.clone(),
            };
            if input.publish == Some(true) {
                let (version, created) = function.publish(state, |latest, n| version_from(latest, n, None));
                if created {
                    state.latest.config.revision_id = new_revision_id();
                }
                // NB: AWS answers an update with Publish with the new version, qualified, as being created.
                let mut answer = as_creating(&version.config);
                answer.revision_id = version.config.revision_id;
                return Ok(answer);
            }
            Ok(answer)
        })?;
        if !dry_run {
            lambda.on_function_changed(&function);
        }
        Ok(answer)
    }

    /// UpdateFunctionConfiguration.
    pub(super) fn update_function_configuration(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
        input: UpdateFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let parsed = resolve(ctx, reference, None, NameShape::Function)?;
        let mut constraints = Constraints::default();
        constraints.role(input.role.as_deref());
        constraints.handler(input.handler.as_deref());
        constraints.max_len("description", input.description.as_deref(), 256);
        constraints.range("timeout", input.timeout, 1, Some(900));
        constraints.range("memorySize", input.memory_size, 128, Some(10240));
        let tracing_mode = input.tracing_config.as_ref().and_then(|t| t.mode.as_deref());
        constraints.one_of("tracingConfig.mode", tracing_mode, &["Active", "PassThrough"]);
        constraints.layers(input.layers.as_deref());
        let storage = input.ephemeral_storage.as_ref().and_then(|s| s.size);
        constraints.range("ephemeralStorage.size", storage, 512, Some(10240));
        let apply_on = input.snap_start.as_ref().and_then(|s| s.apply_on.as_deref());
        constraints.one_of("snapStart.applyOn", apply_on, &["PublishedVersions", "None"]);
        constraints.logging(input.logging_config.as_ref());
        let dead_letter_target =
            constraints.dead_letter_and_key(&input.dead_letter_config, &input.kms_key_arn);
        constraints.finish()?;
        LambdaError::refuse_others(&input.others, "UpdateFunctionConfiguration")?;
        let function = find(lambda, ctx, &parsed, false)?;
        if let Some(err) = input.runtime.as_deref().and_then(functions::runtime_error) {
            return Err(err);
        }
        let environment = match input.environment.as_ref() {
            Some(environment) => Some(EnvironmentResponse {
                variables: functions::check_environment(&environment.variables.clone().unwrap_or_default())?,
            }),
            None => None,
        };
        let layers = match input.layers.as_deref() {
            Some(layers) => Some(describe_layers(layers)?),
            None => None,
        };
        let answer = function.write(|state| {
            check_revision(input.revision_id.as_deref(), &state.latest.config.revision_id)?;
            let before = state.latest.config.clone();
            let mut config = before.clone();
            if let Some(role) = &input.role {
                config.role = role.clone();
            }
            if let Some(handler) = &input.handler {
                config.handler = Some(handler.clone());
            }
            if let Some(description) = &input.description {
                config.description = description.clone();
            }
            if let Some(timeout) = input.timeout {
                config.timeout = timeout as u32;
            }
            if let Some(memory) = input.memory_size {
                config.memory_size = memory as u32;
            }
            if let Some(runtime) = &input.runtime {
                config.runtime = Some(runtime.clone());
                config.runtime_version_config = Some(RuntimeVersionConfig {
                    runtime_version_arn: functions::runtime_version_arn(&ctx.region, runtime),
                });
            }
            if environment.is_some() {
                config.environment = environment.clone();
            }
            if let Some(mode) = tracing_mode {
                config.tracing_config.mode = mode.to_owned();
            }
            if let Some(layers) = &layers {
                config.layers = layers.clone();
            }
            if let Some(size) = storage {
                config.ephemeral_storage.size = size as u32;
            }
            if let Some(apply_on) = apply_on {
                config.snap_start.apply_on = apply_on.to_owned();
            }
            if let Some(logging) = &input.logging_config {
                config.logging_config = merge_logging(&config.logging_config, logging)?;
            }
            // An empty TargetArn or KMSKeyArn removes the setting.
            if input.dead_letter_config.is_some() {
                config.dead_letter_config = dead_letter(dead_letter_target);
            }
            if let Some(arn) = &input.kms_key_arn {
                config.kms_key_arn = Some(arn.clone()).filter(|arn| !arn.is_empty());
            }
            config.last_modified = functions::last_modified_now();
            config.revision_id = new_revision_id();
            settle(lambda, &mut config);
            let answer = as_updating(&config, &before);
            state.latest.config = config;
            Ok::<_, LambdaError>(answer)
        })?;
        lambda.on_function_changed(&function);
        Ok(answer)
    }

    /// DeleteFunction: the function, or with a qualifier one version (idempotently).
    pub(super) fn delete_function(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
        qualifier: Option<&str>,
    ) -> Result<(), LambdaError> {
        let parsed = resolve(ctx, reference, qualifier, NameShape::Namespaced)?;
        let version = match parsed.qualifier {
            None => None,
            Some(LATEST) => {
                return Err(LambdaError::invalid_parameter(
                    "$LATEST version cannot be deleted without deleting the function.",
                ));
            }
            Some(qualifier) => match functions::parse_version(qualifier) {
                Some(n) => Some(n),
                None if qualifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')) =>
                {
                    return Err(LambdaError::invalid_parameter(
                        "Deletion of aliases is not currently supported.",
                    ));
                }
                // A qualifier that is neither a version nor an alias names nothing there is to delete.
                None => Some(u64::MAX),
            },
        };
        let region = lambda.functions.region(&ctx.account, &ctx.region);
        let function = find(lambda, ctx, &parsed, false)?;
        match version {
            Some(n) => {
                let removed = function.write(|state| state.versions.remove(&n));
                if removed.is_some() {
                    lambda.on_version_deleted(&function, &n.to_string());
                }
            }
            None => {
                if let Some(removed) = region.remove(&function.name) {
                    tracing::info!(function = %removed.arn, "deleted function");
                    lambda.on_function_deleted(&removed);
                }
            }
        }
        Ok(())
    }

    /// PublishVersion.
    pub(super) fn publish_version(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
        input: PublishVersionRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let parsed = resolve(ctx, reference, None, NameShape::Function)?;
        let mut constraints = Constraints::default();
        constraints.max_len("description", input.description.as_deref(), 256);
        constraints.finish()?;
        LambdaError::refuse_others(&input.others, "PublishVersion")?;
        let function = find(lambda, ctx, &parsed, false)?;
        let (version, created) = function.write(|state| {
        check_revision(input.revision_id.as_deref(), &state.latest.config.revision_id)?;
        if let Some(expected) = input.code_sha256.as_deref()
            && expected != state.latest.config.code_sha256
        {
            return Err(LambdaError::invalid_parameter(format!(
                "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST ({}). Please try again \
                 with the CodeSHA256 in $LATEST.",
                state.latest.config.code_sha256
            )));
        }
        let (version, created) =
            function.publish(state, |latest, n| version_from(latest, n, input.description.as_deref()));
        if created {
            // NB: publishing changes $LATEST's RevisionId on AWS (LocalStack's AWS-validated revision tests).
            state.latest.config.revision_id = new_revision_id();
            tracing::info!(function = %function.arn, version = %version.config.version, "published version");
        }
        Ok::<_, LambdaError>((version.config, created))
    })?;
        if created {
            // $LATEST's environments are keyed by its RevisionId, which publishing changed: without this, a warm
            // pool would keep environments no invocation of $LATEST can use.
            lambda.on_function_changed(&function);
        }
        Ok(version)
    }

    /// A reference for the concurrency operations, which refuse qualified ones.
    pub(super) fn unqualified<'a>(
        ctx: &RequestContext,
        reference: &'a str,
    ) -> Result<FunctionRef<'a>, LambdaError> {
        let parsed = resolve(ctx, reference, None, NameShape::Function)?;
        if parsed.qualifier.is_some() {
            return Err(LambdaError::invalid_parameter(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this \
             operation. Please specify either a function name or an unqualified function ARN.",
            ));
        }
        Ok(parsed)
    }

    /// PutFunctionConcurrency.
    pub(super) fn put_function_concurrency(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
        input: PutFunctionConcurrencyRequest,
    ) -> Result<Concurrency, LambdaError> {
        let parsed = unqualified(ctx, reference)?;
        let mut constraints = Constraints::default();
        constraints.not_null(
            "reservedConcurrentExecutions",
            &input.reserved_concurrent_executions,
        );
        constraints.range(
            "reservedConcurrentExecutions",
            input.reserved_concurrent_executions,
            0,
            None,
        );
        constraints.finish()?;
        let requested = input.reserved_concurrent_executions.unwrap_or_default();
        let region = lambda.functions.region(&ctx.account, &ctx.region);
        // NB: AWS names the function's $LATEST in this operation's 404.
        let function = region.get(parsed.name).ok_or_else(|| {
            functions::function_not_found(&ctx.region, &ctx.account, parsed.name, Some(LATEST))
        })?;
        let reserved_elsewhere: u64 = region
            .list()
            .iter()
            .filter(|other| other.name != function.name)
            .map(|other| u64::from(other.read(|state| state.reserved_concurrency).unwrap_or(0)))
            .sum();
        let unreserved = i64::from(ACCOUNT_CONCURRENCY) - reserved_elsewhere as i64 - requested;
        if unreserved < i64::from(MIN_UNRESERVED_CONCURRENCY) {
            return Err(LambdaError::invalid_parameter(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution \
             below its minimum value of [{MIN_UNRESERVED_CONCURRENCY}]."
            )));
        }
        let requested = requested as u32;
        function.write(|state| state.reserved_concurrency = Some(requested));
        lambda.keep_warm(&function);
        Ok(Concurrency {
            reserved_concurrent_executions: Some(requested),
        })
    }

    /// DeleteFunctionConcurrency.
    pub(super) fn delete_function_concurrency(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
    ) -> Result<(), LambdaError> {
        let parsed = unqualified(ctx, reference)?;
        let function = find(lambda, ctx, &parsed, false)?;
        function.write(|state| state.reserved_concurrency = None);
        lambda.keep_warm(&function);
        Ok(())
    }

    /// GetFunctionConcurrency.
    pub(super) fn get_function_concurrency(
        lambda: &Lambda,
        ctx: &RequestContext,
        reference: &str,
    ) -> Result<Concurrency, LambdaError> {
        let parsed = resolve(ctx, reference, None, NameShape::Function)?;
        let function = find(lambda, ctx, &parsed, false)?;
        Ok(Concurrency {
            reserved_concurrent_executions: function.read(|state| state.reserved_concurrency),
        })
    }

    /// The `TaggableResource` pattern, as AWS prints it.
    const TAGGABLE_RESOURCE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)";

    /// A resource tag operations work on.
    pub(super) enum Tagged {
        Function(Arc<Function>),
        Mapping(Arc<crate::lambda::esm::Mapping>),
    }

    impl Tagged {
        fn tags(&self) -> BTreeMap<String, String> {
            match self {
                Self::Function(function) => function.read(|state| state.tags.clone()),
                Self::Mapping(mapping) => mapping.tags.lock().clone(),
            }
        }

        /// Changes the tags (`f` may refuse); a function's warm pool follows its `dynastream:min-warm` tag.
        fn update_tags(
            &self,
            lambda: &Lambda,
            f: impl FnOnce(&mut BTreeMap<String, String>) -> Result<(), LambdaError>,
        ) -> Result<(), LambdaError> {
            match self {
                Self::Function(function) => {
                    function.write(|state| f(&mut state.tags))?;
                    lambda.keep_warm(function);
                    Ok(())
                }
                Self::Mapping(mapping) => f(&mut mapping.tags.lock()),
            }
        }
    }

    /// The function or event source mapping a tag operation's resource ARN names.
    pub(super) fn tagged(
        lambda: &Lambda,
        ctx: &RequestContext,
        resource: &str,
    ) -> Result<Tagged, LambdaError> {
        let invalid = || {
            LambdaError::validation(functions::validation_message(&[format!(
                "Value '{resource}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression \
             pattern: {TAGGABLE_RESOURCE_PATTERN}"
            )]))
        };
        let parts: Vec<&str> = resource.split(':').collect();
        let ["arn", partition, "lambda", _, account, kind, ..] = parts.as_slice() else {
            return Err(invalid());
        };
        if !partition.starts_with("aws")
            || account.len() != 12
            || !account.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        match *kind {
            "function" => {}
            "event-source-mapping" => {
                let [_, _, _, _, _, _, uuid] = parts.as_slice() else {
                    return Err(invalid());
                };
                if uuid.len() != 36 || uuid::Uuid::try_parse(uuid).is_err() {
                    return Err(invalid());
                }
                // NB: a mapping of another region or account is not found here, as by its UUID.
                return lambda
                    .mappings
                    .region(&ctx.account, &ctx.region)
                    .get(uuid)
                    .filter(|mapping| mapping.arn == resource)
                    .map(Tagged::Mapping)
                    .ok_or_else(|| LambdaError::not_found("The resource you requested does not exist."));
            }
            "layer" | "code-signing-config" | "capacity-provider" => {
                return Err(LambdaError::new(
                    "UnknownOperationException",
                    400,
                    format!("Tagging Lambda {kind} resources is not implemented by dynastream"),
                ));
            }
            _ => return Err(invalid()),
        }
        let parsed = functions::parse_function_reference(resource, None, NameShape::Function)
            .map_err(|_| invalid())?;
        if parsed.region.is_none() {
            return Err(invalid());
        }
        if parsed.qualifier.is_some() {
            return Err(LambdaError::invalid_parameter(
                "Tags on function aliases and versions are not supported. Please specify a function ARN.",
            ));
        }
        parsed.check_scope(&ctx.account, &ctx.region)?;
        find(lambda, ctx, &parsed, false).map(Tagged::Function)
    }

    /// TagResource.
    pub(super) fn tag_resource(
        lambda: &Lambda,
        ctx: &RequestContext,
        resource: &str,
        input: TagResourceRequest,
    ) -> Result<(), LambdaError> {
        let mut constraints = Constraints::default();
        constraints.not_null("tags", &input.tags);
        constraints.finish()?;
        let tagged = tagged(lambda, ctx, resource)?;
        let tags = input.tags.unwrap_or_default();
        if tags.is_empty() {
            return Err(LambdaError::invalid_parameter(
                "An error occurred and the request cannot be processed.",
            ));
        }
        tagged.update_tags(lambda, |current| {
            let mut merged = current.clone();
            merged.extend(tags);
            functions::check_tag_count(&merged)?;
            *current = merged;
            Ok(())
        })
    }

    /// UntagResource.
    pub(super) fn untag_resource(
        lambda: &Lambda,
        ctx: &RequestContext,
        resource: &str,
        keys: &[&str],
    ) -> Result<(), LambdaError> {
        if keys.is_empty() {
            return Err(LambdaError::validation(functions::validation_message(&[
                "Value null at 'tagKeys' failed to satisfy constraint: Member must not be null".to_owned(),
            ])));
        }
        tagged(lambda, ctx, resource)?.update_tags(lambda, |current| {
            for key in keys {
                current.remove(*key);
            }
            Ok(())
        })
    }

    /// ListTags.
    pub(super) fn list_tags(
        lambda: &Lambda,
        ctx: &RequestContext,
        resource: &str,
    ) -> Result<ListTagsResponse, LambdaError> {
        Ok(ListTagsResponse {
            tags: tagged(lambda, ctx, resource)?.tags(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{ops::*, *};

    #[test]
    fn router_merges_with_the_invoke_and_mapping_routes() {
        // NB: the edge merges other Lambda routers whose parameters are named differently at the same position.
        let others: Router<Arc<Services>> = Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(|| async { "" }))
            .route("/2015-03-31/event-source-mappings/{uuid}", get(|| async { "" }));
        let _merged = router().merge(others);
    }

    #[test]
    fn operation_names_come_from_method_and_path() {
        assert_eq!(
            operation_name(&Method::POST, "/2015-03-31/functions/f/aliases"),
            Some("CreateAlias")
        );
        assert_eq!(
            operation_name(&Method::GET, "/2018-10-31/layers"),
            Some("ListLayers")
        );
        assert_eq!(
            operation_name(&Method::GET, "/2015-03-31/functions//aliases"),
            None
        );
        assert_eq!(operation_name(&Method::PATCH, "/2015-03-31/functions/f"), None);
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let uri: Uri = "/x?Qualifier=%24LATEST&tagKeys=a+b&tagKeys=c%3D".parse().unwrap();
        let params = query_params(&uri);
        assert_eq!(query_param(&params, "Qualifier"), Some("$LATEST"));
        assert_eq!(params[1], ("tagKeys".into(), "a b".into()));
        assert_eq!(params[2], ("tagKeys".into(), "c=".into()));
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn pages_resume_after_the_marker() {
        let entries: Vec<(String, u32)> = (0..5).map(|i| (format!("k{i}"), i)).collect();
        let (page, next) = paginate(entries.clone(), None, 2);
        assert_eq!(page, vec![0, 1]);
        let after = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(next.unwrap())
                .unwrap(),
        )
        .unwrap();
        let (page, next) = paginate(entries.clone(), Some(&after), 3);
        assert_eq!((page, next), (vec![2, 3, 4], None));
    }

    #[test]
    fn version_keys_sort_latest_first_then_numerically() {
        let mut keys = [
            version_key("f", Some(10)),
            version_key("f", Some(2)),
            version_key("f", None),
            version_key("f-a", None),
        ];
        keys.sort();
        assert_eq!(keys[0], version_key("f", None));
        assert_eq!(keys[1], version_key("f", Some(2)));
        assert_eq!(keys[2], version_key("f", Some(10)));
        assert_eq!(keys[3], version_key("f-a", None));
    }

    #[test]
    fn layer_arns_match_aws_pattern() {
        assert!(is_layer_version_arn(
            "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"
        ));
        assert!(!is_layer_version_arn(
            "arn:aws:lambda:us-east-1:123456789012:layer:deps"
        ));
        assert!(is_layer_version_arn(
            "arn:aws:lambda:::awslayer:AWSLambdaSnapStart"
        ));
    }

    #[test]
    fn switching_logs_to_json_sets_info_levels() {
        let text = new_logging("f", None).unwrap();
        let json = merge_logging(
            &text,
            &LoggingConfigRequest {
                log_format: Some("JSON".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(json.application_log_level.as_deref(), Some("INFO"));
        assert_eq!(json.system_log_level.as_deref(), Some("INFO"));
        let back = merge_logging(
            &json,
            &LoggingConfigRequest {
                log_format: Some("Text".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(back.application_log_level, None);
        let refused = merge_logging(
            &text,
            &LoggingConfigRequest {
                application_log_level: Some("DEBUG".into()),
                ..Default::default()
            },
        );
        assert!(refused.is_err());
    }
}
