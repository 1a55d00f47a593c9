//! Lambda's REST JSON error: the HTTP status, an `x-amzn-ErrorType: <Code>` header and a body
//! `{"Type": "User", "message": "..."}` (botocore also reads `Message`, so both are sent).

use std::fmt;

use serde_json::{Map, Value};

/// An error as the Lambda API returns it.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct LambdaError {
    code: &'static str,
    status: u16,
    message: String,
    extra: Map<String, Value>,
}

impl LambdaError {
    /// An error with AWS's code, status and message.
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            extra: Map::new(),
        }
    }

    /// 404 ResourceNotFoundException.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", 404, message)
    }

    /// 409 ResourceConflictException.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ResourceConflictException", 409, message)
    }

    /// 400 InvalidParameterValueException.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValueException", 400, message)
    }

    /// 400 ValidationException (constraint errors: `1 validation error detected: ...`).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }

    /// 429 TooManyRequestsException with AWS's `Reason`.
    pub fn too_many_requests(reason: &str) -> Self {
        Self::new("TooManyRequestsException", 429, "Rate Exceeded.")
            .with("Reason", Value::String(reason.into()))
    }

    /// 500 ServiceException: the detail goes to the log, not to the client.
    #[track_caller]
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!(location = %std::panic::Location::caller(), "internal error: {detail}");
        Self::new(
            "ServiceException",
            500,
            "The service encountered an internal error.",
        )
    }

    /// 500 ServiceException that tells the client why: the emulator could not run an invocation for a reason
    /// its user can act on (an environment that would not start), unlike an internal fault.
    pub fn service(message: impl Into<String>) -> Self {
        let message = message.into();
        tracing::warn!("{message}");
        Self::new("ServiceException", 500, message)
    }

    /// InvalidParameterValueException naming the request members dynastream does not implement, if any asks for
    /// something.
    pub fn refuse_others(others: &crate::edge::OtherMembers, operation: &str) -> Result<(), Self> {
        others
            .refusal(operation)
            .map_or(Ok(()), |message| Err(Self::invalid_parameter(message)))
    }

    /// Adds a top-level member to the body.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// The error code (`x-amzn-ErrorType`).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut body = Map::new();
        body.insert("Type".into(), Value::String("User".into()));
        body.insert("message".into(), Value::String(self.message.clone()));
        body.insert("Message".into(), Value::String(self.message.clone()));
        body.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
    }
}

impl axum::response::IntoResponse for LambdaError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status)
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [
                ("x-amzn-errortype", self.code.to_owned()),
                ("x-amzn-requestid", uuid::Uuid::new_v4().to_string()),
                ("content-type", "application/json".to_owned()),
            ],
            self.to_body(),
        )
            .into_response()
    }
}
