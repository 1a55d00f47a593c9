//! AWS SDK clients for an emulator, and the errors the operator tells apart.

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::Builder as HttpClientBuilder;

/// The region a resource lives in when it names none (the emulator's default too).
pub const DEFAULT_REGION: &str = "us-east-1";
/// The account a resource belongs to when it names none (the emulator's default too).
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// Where a resource lives: the emulator's endpoint, the region and the account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Target {
    /// `http://<cluster IP>:4566`.
    pub endpoint: String,
    /// The region.
    pub region: String,
    /// The 12-digit account id (the emulator takes it from the access key id).
    pub account: String,
}

impl Target {
    /// A DynamoDB client for this target.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .endpoint_url(&self.endpoint)
            .region(aws_sdk_dynamodb::config::Region::new(self.region.clone()))
            .credentials_provider(self.credentials())
            .http_client(HttpClientBuilder::new().build_http())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// A Lambda client for this target.
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        let config = aws_sdk_lambda::Config::builder()
            .endpoint_url(&self.endpoint)
            .region(aws_sdk_lambda::config::Region::new(self.region.clone()))
            .credentials_provider(self.credentials())
            .http_client(HttpClientBuilder::new().build_http())
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(&self.account, "dynastream", None, None, "dynastream-operator")
    }
}

/// An error answered by the emulator's AWS API, or a failure to reach it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AwsError {
    /// AWS's error code, e.g. `ValidationException`; `RequestFailed` when there was no answer.
    pub code: String,
    /// AWS's message, verbatim.
    pub message: String,
}

impl AwsError {
    /// Whether retrying cannot help until the spec changes (ACK's terminal errors).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.code.as_str(),
            "ValidationException"
                | "InvalidParameterValueException"
                | "InvalidRequestContentException"
                | "SerializationException"
                | "RequestTooLargeException"
                | "CodeStorageExceededException"
                | "UnknownOperationException"
        )
    }

    /// Whether the error says the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.code == "ResourceNotFoundException"
    }
}

/// Turns an SDK error into the code and message the emulator answered.
pub fn error<E, R>(err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            AwsError {
                code: inner.code().unwrap_or("UnknownError").to_owned(),
                message: inner.message().unwrap_or_default().to_owned(),
            }
        }
        other => AwsError {
            code: "RequestFailed".into(),
            message: format!("{}", DisplayErrorContext(&other)),
        },
    }
}

/// A deletion's answer: a resource that is already gone is fine.
pub fn deleted<T, E, R>(answer: Result<T, SdkError<E, R>>) -> Result<(), AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match answer.map_err(error) {
        Ok(_) => Ok(()),
        Err(err) if err.is_not_found() => Ok(()),
        Err(err) => Err(err),
    }
}

/// What turns a resource's tags `have` into `want`: the keys to remove, and the tags to add or change.
pub fn tag_changes<'a>(
    want: impl IntoIterator<Item = (&'a str, &'a str)>,
    have: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (Vec<String>, Vec<(String, String)>) {
    let want: std::collections::BTreeMap<&str, &str> = want.into_iter().collect();
    let have: std::collections::BTreeMap<&str, &str> = have.into_iter().collect();
    let stale = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .map(|k| (*k).to_owned())
        .collect();
    let missing = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    (stale, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_changes_remove_stale_keys_and_set_missing_or_changed_values() {
        let (stale, missing) = tag_changes(
            [("keep", "1"), ("change", "new"), ("add", "x")],
            [("keep", "1"), ("change", "old"), ("drop", "y")],
        );
        assert_eq!(stale, ["drop"]);
        assert_eq!(
            missing,
            [
                ("add".to_owned(), "x".to_owned()),
                ("change".to_owned(), "new".to_owned())
            ]
        );
    }
}
