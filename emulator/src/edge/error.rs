//! The AWS JSON 1.0 error (DynamoDB and DynamoDB Streams): `{"__type": "<namespace>#<Code>", "message": "..."}`
//! with the code's HTTP status. Messages are AWS's exact texts; internal details go to the log, never to clients.

use std::fmt;

use serde_json::{Map, Value};

/// An error as AWS returns it over the JSON 1.0 protocol.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", .0.code, .0.message.as_deref().unwrap_or(""))]
pub struct AwsError(Box<Inner>); // NB: boxed so that Result<T, AwsError> stays one pointer wide.

#[derive(Debug)]
struct Inner {
    code: ErrorCode,
    message: Option<String>,
    /// Extra top-level members, e.g. `Item` on ConditionalCheckFailedException or `CancellationReasons`.
    extra: Map<String, Value>,
}

/// The error codes dynastream returns, spelled as AWS spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // the names are AWS's and self-describing
pub enum ErrorCode {
    SerializationException,
    UnknownOperationException,
    ValidationException,
    ResourceNotFoundException,
    ResourceInUseException,
    ConditionalCheckFailedException,
    LimitExceededException,
    TransactionCanceledException,
    TransactionConflictException,
    TransactionInProgressException,
    IdempotentParameterMismatchException,
    ItemCollectionSizeLimitExceededException,
    ProvisionedThroughputExceededException,
    ExpiredIteratorException,
    TrimmedDataAccessException,
    InternalServerError,
    AccessDeniedException,
}

impl ErrorCode {
    /// The `__type` namespace AWS uses for this code.
    fn namespace(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ValidationException => "com.amazon.coral.validate",
            SerializationException | UnknownOperationException | AccessDeniedException => {
                "com.amazon.coral.service"
            }
            _ => "com.amazonaws.dynamodb.v20120810",
        }
    }

    /// The member that carries the message: coral's type errors and transaction cancellations use `Message`.
    fn message_key(self) -> &'static str {
        match self {
            ErrorCode::SerializationException | ErrorCode::TransactionCanceledException => "Message",
            _ => "message",
        }
    }

    /// The HTTP status AWS answers with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InternalServerError => 500,
            _ => 400,
        }
    }

    /// The code as spelled on the wire.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            SerializationException => "SerializationException",
            UnknownOperationException => "UnknownOperationException",
            ValidationException => "ValidationException",
            ResourceNotFoundException => "ResourceNotFoundException",
            ResourceInUseException => "ResourceInUseException",
            ConditionalCheckFailedException => "ConditionalCheckFailedException",
            LimitExceededException => "LimitExceededException",
            TransactionCanceledException => "TransactionCanceledException",
            TransactionConflictException => "TransactionConflictException",
            TransactionInProgressException => "TransactionInProgressException",
            IdempotentParameterMismatchException => "IdempotentParameterMismatchException",
            ItemCollectionSizeLimitExceededException => "ItemCollectionSizeLimitExceededException",
            ProvisionedThroughputExceededException => "ProvisionedThroughputExceededException",
            ExpiredIteratorException => "ExpiredIteratorException",
            TrimmedDataAccessException => "TrimmedDataAccessException",
            InternalServerError => "InternalServerError",
            AccessDeniedException => "AccessDeniedException",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AwsError {
    /// An error with AWS's message text.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            code,
            message: Some(message.into()),
            extra: Map::new(),
        }))
    }

    /// An error that AWS sends without any message (e.g. SerializationException for malformed JSON).
    pub fn bare(code: ErrorCode) -> Self {
        Self(Box::new(Inner {
            code,
            message: None,
            extra: Map::new(),
        }))
    }

    /// A ValidationException, the most common error.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationException, message)
    }

    /// An internal failure: the detail is logged here and the client sees only AWS's generic text.
    #[track_caller]
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!(location = %std::panic::Location::caller(), "internal error: {detail}");
        Self::new(ErrorCode::InternalServerError, "Internal server error")
    }

    /// Adds a top-level member to the error body.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extra.insert(key.to_owned(), value);
        self
    }

    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The error's message, if it has one.
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// The JSON body AWS sends for this error.
    pub fn to_body(&self) -> Vec<u8> {
        let mut body = Map::new();
        let code = self.0.code;
        body.insert(
            "__type".into(),
            Value::String(format!("{}#{}", code.namespace(), code.as_str())),
        );
        if let Some(message) = &self.0.message {
            body.insert(code.message_key().into(), Value::String(message.clone()));
        }
        body.extend(self.0.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
    }
}

/// Builds an [`AwsError`] at the point of failure: `aws_error!(ResourceNotFoundException, "... {name} ...")`.
#[macro_export]
macro_rules! aws_error {
    ($code:ident, $($fmt:tt)+) => {
        $crate::edge::AwsError::new($crate::edge::ErrorCode::$code, format!($($fmt)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_error_uses_coral_validate_namespace_and_lowercase_message() {
        let body: Value = serde_json::from_slice(&AwsError::validation("bad").to_body()).unwrap();
        assert_eq!(body["__type"], "com.amazon.coral.validate#ValidationException");
        assert_eq!(body["message"], "bad");
    }

    #[test]
    fn serialization_error_without_message_has_only_type() {
        let body = AwsError::bare(ErrorCode::SerializationException).to_body();
        assert_eq!(
            body,
            br#"{"__type":"com.amazon.coral.service#SerializationException"}"#
        );
    }

    #[test]
    fn resource_errors_use_dynamodb_namespace() {
        let err = aws_error!(
            ResourceNotFoundException,
            "Requested resource not found: Table: {} not found",
            "t"
        );
        let body: Value = serde_json::from_slice(&err.to_body()).unwrap();
        assert_eq!(
            body["__type"],
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
        );
        assert_eq!(
            body["message"],
            "Requested resource not found: Table: t not found"
        );
        assert_eq!(err.code().status(), 400);
    }
}
