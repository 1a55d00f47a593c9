//! `Function`: a Lambda function (ACK's `lambda.services.k8s.aws` Function).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AckResourceMetadata, Reference, Variables, any_value, set_fields, string_map};

/// A Lambda function, created in the namespace's emulator.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "dynastream.dev",
    version = "v1alpha1",
    kind = "Function",
    doc = "A Lambda function in the namespace's dynastream emulator (ACK's Function fields).",
    namespaced,
    status = "FunctionStatus",
    shortname = "lambdafn",
    category = "dynastream",
    printcolumn(name = "Function", type_ = "string", json_path = ".spec.name"),
    printcolumn(name = "Runtime", type_ = "string", json_path = ".spec.runtime"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "ARN",
        type_ = "string",
        json_path = ".status.ackResourceMetadata.arn",
        priority = "1"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct FunctionSpec {
    /// The function's name.
    pub name: String,
    /// The function's code.
    pub code: FunctionCode,
    /// The runtime, e.g. `nodejs18.x` or `python3.12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The handler, e.g. `index.handler`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// The execution role's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// ACK's reference to an IAM Role resource (not supported by dynastream: give `role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_ref: Option<Reference>,
    /// Memory in MB (128 to 10240).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<i64>,
    /// Timeout in seconds (1 to 900).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `x86_64` or `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architectures: Option<Vec<String>>,
    /// `Zip` (the only kind dynastream runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_type: Option<String>,
    /// Layer version ARNs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    /// Whether to publish a version on create and code updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    /// Reserved concurrency, applied with PutFunctionConcurrency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<i64>,
    /// Where failed asynchronous invocations go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// The size of `/tmp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// X-Ray tracing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<TracingConfig>,
    /// The KMS key for environment variables.
    #[serde(default, rename = "kmsKeyARN", skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// Tags, as a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "string_map")]
    pub tags: Option<BTreeMap<String, String>>,
    /// ACK's image configuration (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub image_config: Option<serde_json::Value>,
    /// ACK's logging configuration (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub logging_config: Option<serde_json::Value>,
    /// ACK's KMS key reference (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub kms_key_ref: Option<serde_json::Value>,
    /// ACK's VPC configuration (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub vpc_config: Option<serde_json::Value>,
    /// ACK's file systems (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub file_system_configs: Option<serde_json::Value>,
    /// ACK's SnapStart setting (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub snap_start: Option<serde_json::Value>,
    /// ACK's code signing configuration (not supported by dynastream).
    #[serde(
        default,
        rename = "codeSigningConfigARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub code_signing_config_arn: Option<String>,
    /// ACK's code signing configuration reference (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub code_signing_config_ref: Option<serde_json::Value>,
    /// ACK's asynchronous invocation settings (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub function_event_invoke_config: Option<serde_json::Value>,
    /// ACK's durable execution settings (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub durable_config: Option<serde_json::Value>,
    /// ACK's tenancy settings (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub tenancy_config: Option<serde_json::Value>,
}

impl FunctionSpec {
    /// The ACK fields that are set but that dynastream does not apply.
    pub fn unsupported_fields(&self) -> Vec<&'static str> {
        let code = &self.code;
        set_fields(&[
            ("spec.roleRef", self.role_ref.is_some()),
            ("spec.imageConfig", self.image_config.is_some()),
            ("spec.loggingConfig", self.logging_config.is_some()),
            ("spec.kmsKeyRef", self.kms_key_ref.is_some()),
            ("spec.vpcConfig", self.vpc_config.is_some()),
            ("spec.fileSystemConfigs", self.file_system_configs.is_some()),
            ("spec.snapStart", self.snap_start.is_some()),
            (
                "spec.codeSigningConfigARN",
                self.code_signing_config_arn.is_some(),
            ),
            (
                "spec.codeSigningConfigRef",
                self.code_signing_config_ref.is_some(),
            ),
            (
                "spec.functionEventInvokeConfig",
                self.function_event_invoke_config.is_some(),
            ),
            ("spec.durableConfig", self.durable_config.is_some()),
            ("spec.tenancyConfig", self.tenancy_config.is_some()),
            ("spec.code.s3Bucket", code.s3_bucket.is_some()),
            ("spec.code.s3BucketRef", code.s3_bucket_ref.is_some()),
            ("spec.code.s3Key", code.s3_key.is_some()),
            ("spec.code.s3ObjectVersion", code.s3_object_version.is_some()),
            ("spec.code.imageURI", code.image_uri.is_some()),
        ])
    }
}

/// The function's code: exactly one of `zipFile`, `inline` and `configMapRef` (S3 and images are ACK's too, but
/// dynastream has neither).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCode {
    /// A zip archive, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_file: Option<String>,
    /// dynastream: the code as files, file name to source, zipped by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "string_map")]
    pub inline: Option<BTreeMap<String, String>>,
    /// dynastream: a ConfigMap whose keys are file names and whose values are the files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<ConfigMapReference>,
    /// The expected SHA-256 of the zip archive (hex or base64), checked when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// ACK's S3 bucket (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    /// ACK's S3 bucket reference (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub s3_bucket_ref: Option<serde_json::Value>,
    /// ACK's S3 key (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    /// ACK's S3 object version (not supported by dynastream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_object_version: Option<String>,
    /// ACK's container image (not supported by dynastream).
    #[serde(default, rename = "imageURI", skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
}

/// A ConfigMap in the function's namespace (or the one given).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigMapReference {
    /// The ConfigMap's name.
    pub name: String,
    /// Its namespace; the function's by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Environment variables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// Name to value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "string_map")]
    pub variables: Option<Variables>,
}

/// Where failed asynchronous invocations go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetterConfig {
    /// An SQS queue's or SNS topic's ARN.
    #[serde(default, rename = "targetARN", skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
}

/// The size of `/tmp`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EphemeralStorage {
    /// MB, 512 to 10240.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// X-Ray tracing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TracingConfig {
    /// `Active` or `PassThrough`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// What the emulator reports about the function, in ACK's names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionStatus {
    /// The function's ARN, account and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_resource_metadata: Option<AckResourceMetadata>,
    /// `Ready`, `ACK.ResourceSynced`, `ACK.Terminal`.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// The generation these conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Pending`, `Active`, `Inactive` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Why the function is in its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// The state reason's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason_code: Option<String>,
    /// `Successful`, `Failed` or `InProgress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<String>,
    /// Why the last update has its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<String>,
    /// When the function last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The code's SHA-256, base64.
    #[serde(default, rename = "codeSHA256", skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    /// The code's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_size: Option<i64>,
    /// The version (`$LATEST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The revision id.
    #[serde(default, rename = "revisionID", skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}
