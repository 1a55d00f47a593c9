//! The official Lambda Runtime API (`/2018-06-01/runtime/...`), served by the agent inside an execution
//! environment to the language runtime: `GET invocation/next` long-polls for the next event, `POST
//! invocation/{id}/response` and `.../error` answer it, `POST init/error` reports a failed start.
//!
//! One environment runs one invocation at a time: [`RuntimeHandle::invoke`] hands an event over and waits for
//! its outcome.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

/// The path prefix of the Runtime API.
pub const RUNTIME_API_PREFIX: &str = "/2018-06-01/runtime";
/// Largest response a runtime may post (6 MiB + 100 bytes, as AWS's emulator allows).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// One event handed to the runtime.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The event.
    pub payload: Bytes,
    /// `Lambda-Runtime-Deadline-Ms`: epoch milliseconds at which the invocation times out.
    pub deadline_ms: i64,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: Option<String>,
    /// `Lambda-Runtime-Client-Context` (JSON text).
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity` (JSON text).
    pub cognito_identity: Option<String>,
}

/// What the runtime answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `POST invocation/{id}/response`.
    Response(Bytes),
    /// `POST invocation/{id}/error`: the body and the `Lambda-Runtime-Function-Error-Type` header.
    Error {
        /// The error type header, if sent.
        error_type: Option<String>,
        /// The error JSON.
        body: Bytes,
    },
    /// `POST init/error`: the runtime failed to start the handler.
    InitError {
        /// The error type header, if sent.
        error_type: Option<String>,
        /// The error JSON.
        body: Bytes,
    },
}

/// The handed-over event and where its outcome goes.
struct Pending {
    invocation: Invocation,
    outcome: oneshot::Sender<Outcome>,
}

struct Shared {
    next: Mutex<mpsc::Receiver<Pending>>,
    /// Set when the runtime first asks for an invocation: its init is done.
    ready: watch::Sender<bool>,
    /// The invocation the runtime is working on.
    current: parking_lot::Mutex<Option<(String, oneshot::Sender<Outcome>)>>,
    /// The init error, once the runtime reported one.
    init: watch::Sender<Option<Outcome>>,
}

/// Hands invocations to the runtime served by [`serve`].
#[derive(Clone)]
pub struct RuntimeHandle {
    sender: mpsc::Sender<Pending>,
    shared: Arc<Shared>,
}

impl RuntimeHandle {
    /// Hands `invocation` to the runtime and waits for its outcome; `None` if the runtime went away.
    pub async fn invoke(&self, invocation: Invocation) -> Option<Outcome> {
        // An init error, whenever it was reported, answers the invocation, as on AWS.
        let mut init = self.shared.init.subscribe();
        if let Some(error) = init.borrow_and_update().clone() {
            return Some(error);
        }
        let (outcome, receiver) = oneshot::channel();
        self.sender.send(Pending { invocation, outcome }).await.ok()?;
        tokio::select! {
            outcome = receiver => outcome.ok(),
            _ = init.changed() => init.borrow().clone(),
        }
    }

    /// Waits until the runtime has started and asks for its first invocation (its init phase is over).
    pub async fn ready(&self) {
        let mut ready = self.shared.ready.subscribe();
        while !*ready.borrow_and_update() {
            if ready.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Waits until the runtime reports an init error (never returns while the runtime is healthy).
    pub async fn init_error(&self) -> Outcome {
        let mut init = self.shared.init.subscribe();
        loop {
            if let Some(error) = init.borrow_and_update().clone() {
                return error;
            }
            if init.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// Binds the Runtime API on `addr` (port 0 picks one) and serves it until the returned task is dropped or aborted.
pub async fn serve(
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, RuntimeHandle, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let (sender, receiver) = mpsc::channel(1);
    let shared = Arc::new(Shared {
        next: Mutex::new(receiver),
        current: parking_lot::Mutex::new(None),
        init: watch::channel(None).0,
        ready: watch::channel(false).0,
    });
    let router = Router::new()
        .route(&format!("{RUNTIME_API_PREFIX}/invocation/next"), get(next))
        .route(
            &format!("{RUNTIME_API_PREFIX}/invocation/{{id}}/response"),
            post(response),
        )
        .route(
            &format!("{RUNTIME_API_PREFIX}/invocation/{{id}}/error"),
            post(error),
        )
        .route(&format!("{RUNTIME_API_PREFIX}/init/error"), post(init_error))
        // NB: larger responses are read so the invocation can end with AWS's size error (see `response`).
        .layer(DefaultBodyLimit::max(MAX_RESPONSE_BYTES * 2))
        .with_state(shared.clone());
    let task = tokio::spawn(async move {
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let _ = axum::serve(listener, router).await;
    });
    Ok((local, RuntimeHandle { sender, shared }, task))
}

fn error_json(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    if shared.current.lock().is_some() {
        return error_json(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Running to Ready failed for runtime. Error: an invocation is outstanding",
        );
    }
    shared
        .ready
        .send_if_modified(|ready| !std::mem::replace(ready, true));
    let pending = {
        let mut receiver = shared.next.lock().await;
        match receiver.recv().await {
            Some(pending) => pending,
            None => {
                return error_json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "Internal Server Error",
                );
            }
        }
    };
    let invocation = pending.invocation;
    *shared.current.lock() = Some((invocation.request_id.clone(), pending.outcome));
    let mut response = Response::new(axum::body::Body::from(invocation.payload));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &invocation.request_id);
    set("lambda-runtime-deadline-ms", &invocation.deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        &invocation.invoked_function_arn,
    );
    set("content-type", "application/json");
    if let Some(trace) = &invocation.trace_id {
        set("lambda-runtime-trace-id", trace);
    }
    if let Some(context) = &invocation.client_context {
        set("lambda-runtime-client-context", context);
    }
    if let Some(identity) = &invocation.cognito_identity {
        set("lambda-runtime-cognito-identity", identity);
    }
    response
}

/// Completes the current invocation if `id` is it.
fn complete(shared: &Shared, id: &str, outcome: Outcome) -> Response {
    let mut current = shared.current.lock();
    match current.take() {
        Some((request_id, sender)) if request_id == id => {
            let _ = sender.send(outcome);
            accepted()
        }
        other => {
            *current = other;
            error_json(StatusCode::BAD_REQUEST, "InvalidRequestID", "Invalid request ID")
        }
    }
}

fn error_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    if body.len() > MAX_RESPONSE_BYTES {
        // The invocation ends with AWS's error rather than staying outstanding.
        let error = serde_json::json!({
            "errorMessage": format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
            ),
            "errorType": "Function.ResponseSizeTooLarge",
        });
        let outcome = Outcome::Error {
            error_type: Some("Function.ResponseSizeTooLarge".into()),
            body: Bytes::from(error.to_string()),
        };
        complete(&shared, &id, outcome);
        return error_json(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
        );
    }
    complete(&shared, &id, Outcome::Response(body))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    complete(
        &shared,
        &id,
        Outcome::Error {
            error_type: error_type(&headers),
            body,
        },
    )
}

async fn init_error(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.init.send_replace(Some(Outcome::InitError {
        error_type: error_type(&headers),
        body,
    }));
    accepted()
}

/// How long a runtime has to start and import its handler before the first `next` (AWS: 10 s).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
