//! The HTTP edge on port 4566: routes AWS's JSON 1.0 protocol by `X-Amz-Target`, takes the account and region
//! from the SigV4 credential scope, and answers with AWS's envelopes: `x-amzn-RequestId` and `x-amz-crc32` on every
//! JSON response, AWS's error bodies, and `GET /_dynastream/health`.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod error;
mod members;

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use rand::RngCore;

pub use error::{AwsError, ErrorCode};
pub use members::OtherMembers;

use crate::{
    dynamodb::{self, DynamoDb},
    streams,
};

/// Largest request body accepted (DynamoDB's limit is 16 MB).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Account used when the access key is not a 12-digit account id.
pub const DEFAULT_ACCOUNT: &str = "000000000000";
/// Region used when a request carries no SigV4 credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The health endpoint's path.
pub const HEALTH_PATH: &str = "/_dynastream/health";
/// Requests answered, by operation.
pub const REQUESTS_PATH: &str = "/_dynastream/requests";

const AMZ_JSON_1_0: &str = "application/x-amz-json-1.0";

/// Who is asking, and where: derived from each request.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// Account id: the access key id when it is 12 digits (as LocalStack does), else [`DEFAULT_ACCOUNT`].
    pub account: String,
    /// Region from the credential scope, else [`DEFAULT_REGION`].
    pub region: String,
    /// `x-amzn-RequestId` of this request.
    pub request_id: String,
    /// The `Host` the client addressed.
    pub host: String,
}

impl RequestContext {
    /// A context for the default account and region (tests and internal callers).
    pub fn default_scope() -> Self {
        Self {
            account: DEFAULT_ACCOUNT.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            request_id: new_request_id(),
            host: "localhost:4566".to_owned(),
        }
    }

    /// The context of a request: account and region from its SigV4 credential scope.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let (access_key, region) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(credential_scope)
            .unwrap_or(("", DEFAULT_REGION));
        let account = if access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit()) {
            access_key
        } else {
            DEFAULT_ACCOUNT
        };
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost:4566");
        Self {
            account: account.to_owned(),
            region: region.to_owned(),
            request_id: new_request_id(),
            host: host.to_owned(),
        }
    }
}

/// The access key id and region of a SigV4 `Authorization` header
/// (`AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`).
fn credential_scope(authorization: &str) -> Option<(&str, &str)> {
    let start = authorization.find("Credential=")? + "Credential=".len();
    let scope = authorization[start..].split([',', ' ']).next()?;
    let mut parts = scope.split('/');
    let key = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next().filter(|r| !r.is_empty())?;
    Some((key, region))
}

/// A request id in AWS's DynamoDB format: 52 characters of `[A-Z0-9]`.
pub fn new_request_id() -> String {
    const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    // NB: one fill of random bytes instead of 52 range draws: this runs on every request.
    let mut bytes = [0u8; 52];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// What the edge serves.
#[derive(Debug)]
pub struct Services {
    /// DynamoDB's state.
    pub dynamodb: DynamoDb,
    /// Lambda's state.
    pub lambda: crate::lambda::Lambda,
    /// Changes on every start, so clients (the operator) can tell a restart.
    pub boot_id: String,
    /// Requests answered, by operation: what a client (such as the operator) asked, at `/_dynastream/requests`.
    pub requests: parking_lot::Mutex<std::collections::HashMap<String, u64>>,
}

impl Services {
    /// Fresh, empty services.
    pub fn new() -> Self {
        Self::with_settings(
            streams::StreamSettings::default(),
            crate::lambda::LambdaSettings::default(),
        )
    }

    /// Fresh, empty services with these stream and Lambda settings.
    pub fn with_settings(
        stream_settings: streams::StreamSettings,
        lambda: crate::lambda::LambdaSettings,
    ) -> Self {
        Self {
            dynamodb: DynamoDb::new(stream_settings),
            lambda: crate::lambda::Lambda::new(lambda),
            boot_id: uuid::Uuid::new_v4().to_string(),
            requests: Default::default(),
        }
    }
}

impl Default for Services {
    fn default() -> Self {
        Self::new()
    }
}

/// The edge's router.
pub fn router(services: Arc<Services>) -> Router {
    Router::new()
        .route("/", get(root_health).post(aws_json).options(preflight))
        .route(HEALTH_PATH, get(health))
        .route(REQUESTS_PATH, get(requests))
        .merge(crate::lambda::api::router())
        .merge(crate::lambda::invoke::router())
        .merge(crate::lambda::esm::api::router())
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(services.clone(), count_request))
        .with_state(services)
}

/// Counts a request under its operation: the `X-Amz-Target` of the JSON protocols, else the method and route
/// pattern (Lambda's REST paths, such as `GET /2015-03-31/functions/{FunctionName}`).
async fn count_request(State(services): State<Arc<Services>>, request: Request, next: Next) -> Response {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok());
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let counted = match (target, route) {
        // NB: this runs on every request: the item operations' key is found without allocating.
        (Some(target), _) => services
            .requests
            .lock()
            .get_mut(target)
            .map(|count| *count += 1)
            .is_some(),
        _ => false,
    };
    if !counted {
        let operation = match (target, route) {
            (Some(target), _) => target.to_owned(),
            (None, Some(route)) => format!("{} {route}", request.method()),
            (None, None) => format!("{} (unrouted)", request.method()),
        };
        *services.requests.lock().entry(operation).or_insert(0) += 1;
    }
    next.run(request).await
}

/// `GET /_dynastream/requests`: requests answered since start, by operation.
async fn requests(State(services): State<Arc<Services>>) -> Response {
    let counts: std::collections::BTreeMap<String, u64> = services
        .requests
        .lock()
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    axum::Json(serde_json::json!({ "requests": counts })).into_response()
}

async fn aws_json(State(services): State<Arc<Services>>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type != AMZ_JSON_1_0 && media_type != "application/json" {
        return unknown_operation_xml();
    }
    let ctx = RequestContext::from_headers(&headers);
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let result = match target.split_once('.') {
        Some((dynamodb::TARGET_PREFIX, operation)) => {
            tracing::debug!(operation, request_id = %ctx.request_id, "dynamodb request");
            dynamodb::call(&services.dynamodb, &ctx, operation, &body)
        }
        Some((streams::TARGET_PREFIX, operation)) => {
            tracing::debug!(operation, request_id = %ctx.request_id, "dynamodb streams request");
            streams::api::call(&services.dynamodb, &ctx, operation, &body)
        }
        _ => Err(AwsError::bare(ErrorCode::UnknownOperationException)),
    };
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(err) => {
            tracing::debug!(target, code = %err.code(), message = err.message().unwrap_or(""), "error");
            (
                StatusCode::from_u16(err.code().status()).unwrap_or(StatusCode::BAD_REQUEST),
                err.to_body(),
            )
        }
    };
    json_response(status, media_type, &ctx.request_id, body)
}

/// A JSON 1.0 response with AWS's headers; the content type echoes the request's.
fn json_response(status: StatusCode, content_type: &str, request_id: &str, body: Vec<u8>) -> Response {
    let crc = crc32fast::hash(&body);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if content_type == "application/json" {
            "application/json"
        } else {
            AMZ_JSON_1_0
        }),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    headers.insert("x-amz-crc32", HeaderValue::from(crc));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

fn unknown_operation_xml() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/xml")],
        "<UnknownOperationException/>\n",
    )
        .into_response()
}

async fn unknown_operation(method: Method) -> Response {
    if method == Method::OPTIONS {
        return preflight().await;
    }
    unknown_operation_xml()
}

async fn preflight() -> Response {
    (
        StatusCode::OK,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH",
            ),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "*"),
            (
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                "x-amzn-RequestId,x-amz-crc32",
            ),
        ],
    )
        .into_response()
}

/// `GET /`: what DynamoDB answers, `healthy: dynamodb.<region>.amazonaws.com ` (with the trailing space).
async fn root_health(headers: HeaderMap) -> Response {
    let ctx = RequestContext::from_headers(&headers);
    (
        StatusCode::OK,
        format!("healthy: dynamodb.{}.amazonaws.com ", ctx.region),
    )
        .into_response()
}

/// `GET /_dynastream/health`: services, version and boot id.
async fn health(State(services): State<Arc<Services>>) -> Response {
    let body = serde_json::json!({
        "services": { "dynamodb": "running", "dynamodbstreams": "running", "lambda": "running" },
        "version": env!("CARGO_PKG_VERSION"),
        "bootId": services.boot_id,
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_scope_gives_access_key_and_region() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20261126/eu-west-1/dynamodb/aws4_request, \
                    SignedHeaders=host, Signature=abc";
        assert_eq!(credential_scope(auth), Some(("AKID", "eu-west-1")));
        assert_eq!(credential_scope("Bearer x"), None);
    }

    #[test]
    fn twelve_digit_access_key_selects_the_account() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=123456789012/20261126/ap-south-1/dynamodb/aws4_request",
            ),
        );
        let ctx = RequestContext::from_headers(&headers);
        assert_eq!(
            (ctx.account.as_str(), ctx.region.as_str()),
            ("123456789012", "ap-south-1")
        );
        let ctx = RequestContext::from_headers(&HeaderMap::new());
        assert_eq!(
            (ctx.account.as_str(), ctx.region.as_str()),
            (DEFAULT_ACCOUNT, DEFAULT_REGION)
        );
    }

    #[test]
    fn request_ids_have_aws_format() {
        let id = new_request_id();
        assert_eq!(id.len(), 52);
        assert!(id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    }
}
