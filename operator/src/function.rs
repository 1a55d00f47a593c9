//! Applying a `Function` to the emulator: CreateFunction, then UpdateFunctionCode and
//! UpdateFunctionConfiguration when the code or the configuration changed, PutFunctionConcurrency and tags.

use std::collections::BTreeMap;
use std::io::Write;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types as lambda;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::aws::{AwsError, Target, deleted, error};
use crate::conditions::Outcome;
use crate::crd::{AckResourceMetadata, FunctionCode, FunctionSpec, FunctionStatus};

/// Where the code comes from, once read: the zip archive to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// The archive.
    pub zip: Vec<u8>,
    /// Its SHA-256, base64, as Lambda reports `CodeSha256`.
    pub sha256: String,
}

impl Code {
    /// Wraps an archive.
    pub fn new(zip: Vec<u8>) -> Self {
        let sha256 = BASE64.encode(Sha256::digest(&zip));
        Self { zip, sha256 }
    }
}

/// The code given inline or as `zipFile` (a ConfigMap's files are read by the caller and passed as `files`).
/// Errors are messages for the `Ready` condition.
pub fn code(
    spec: &FunctionCode,
    config_map_files: Option<BTreeMap<String, Vec<u8>>>,
) -> Result<Code, String> {
    let given = [
        spec.zip_file.is_some(),
        spec.inline.is_some(),
        spec.config_map_ref.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err("spec.code must set exactly one of zipFile, inline and configMapRef".into());
    }
    let code = if let Some(zip_file) = &spec.zip_file {
        let zip = BASE64
            .decode(zip_file.trim())
            .map_err(|err| format!("spec.code.zipFile is not valid base64: {err}"))?;
        Code::new(zip)
    } else if let Some(files) = &spec.inline {
        let files = files
            .iter()
            .map(|(name, text)| (name.clone(), text.clone().into_bytes()))
            .collect();
        Code::new(zip_files(&files)?)
    } else {
        let files = config_map_files.ok_or("spec.code.configMapRef: the ConfigMap was not read")?;
        if files.is_empty() {
            return Err("spec.code.configMapRef: the ConfigMap has no files".into());
        }
        Code::new(zip_files(&files)?)
    };
    if let Some(expected) = &spec.sha256 {
        let hex: String = BASE64
            .decode(&code.sha256)
            .unwrap_or_default()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if expected != &code.sha256 && !expected.eq_ignore_ascii_case(&hex) {
            return Err(format!(
                "spec.code.sha256 is {expected}, but the code's SHA-256 is {hex} ({})",
                code.sha256
            ));
        }
    }
    Ok(code)
}

/// Zips files in name order with fixed timestamps, so that the same files always give the same archive (and the
/// same `CodeSha256`, which is how an unchanged function is recognised).
pub fn zip_files(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, contents) in files {
        writer
            .start_file(name.as_str(), options)
            .map_err(|err| format!("zipping {name}: {err}"))?;
        writer
            .write_all(contents)
            .map_err(|err| format!("zipping {name}: {err}"))?;
    }
    let cursor = writer
        .finish()
        .map_err(|err| format!("zipping the code: {err}"))?;
    Ok(cursor.into_inner())
}

/// What the status shows of a function's configuration, from any answer that carries it.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    arn: Option<String>,
    state: Option<lambda::State>,
    state_reason: Option<String>,
    state_reason_code: Option<String>,
    last_update_status: Option<lambda::LastUpdateStatus>,
    last_update_status_reason: Option<String>,
    last_modified: Option<String>,
    code_sha256: Option<String>,
    code_size: i64,
    version: Option<String>,
    revision_id: Option<String>,
}

// CreateFunction, GetFunctionConfiguration and GetFunction's `Configuration` answer the same fields in
// different types.
macro_rules! snapshot {
    ($config:expr) => {{
        let c = $config;
        Snapshot {
            arn: c.function_arn().map(str::to_owned),
            state: c.state().cloned(),
            state_reason: c.state_reason().map(str::to_owned),
            state_reason_code: c.state_reason_code().map(|r| r.as_str().to_owned()),
            last_update_status: c.last_update_status().cloned(),
            last_update_status_reason: c.last_update_status_reason().map(str::to_owned),
            last_modified: c.last_modified().map(str::to_owned),
            code_sha256: c.code_sha256().map(str::to_owned),
            code_size: c.code_size(),
            version: c.version().map(str::to_owned),
            revision_id: c.revision_id().map(str::to_owned),
        }
    }};
}

/// Applies the spec with the given code and returns the new status fields and the outcome.
pub async fn apply(
    spec: &FunctionSpec,
    code: &Code,
    target: &Target,
) -> Result<(FunctionStatus, Outcome), AwsError> {
    let client = target.lambda();
    let existing = match client.get_function().function_name(&spec.name).send().await {
        Ok(out) => Some(out),
        Err(err) => match error(err) {
            err if err.is_not_found() => None,
            err => return Err(err),
        },
    };
    let Some(existing) = existing else {
        let created = create(&client, spec, code).await?;
        if let Some(reserved) = spec.reserved_concurrent_executions {
            put_concurrency(&client, &spec.name, reserved).await?;
        }
        return Ok(result(&created, target));
    };
    let have = existing
        .configuration()
        .cloned()
        .unwrap_or_else(|| lambda::FunctionConfiguration::builder().build());
    let mut changed = false;
    let architectures_differ = spec.architectures.as_ref().is_some_and(|want| {
        have.architectures()
            .iter()
            .map(|a| a.as_str())
            .ne(want.iter().map(String::as_str))
    });
    if have.code_sha256() != Some(code.sha256.as_str()) || architectures_differ {
        client
            .update_function_code()
            .function_name(&spec.name)
            .zip_file(Blob::new(code.zip.clone()))
            .set_architectures(
                spec.architectures
                    .as_ref()
                    .map(|a| a.iter().map(|a| lambda::Architecture::from(a.as_str())).collect()),
            )
            .set_publish(spec.publish)
            .send()
            .await
            .map_err(error)?;
        changed = true;
    }
    if configuration_differs(spec, &have) {
        update_configuration(&client, spec).await?;
        changed = true;
    }
    if let Some(reserved) = spec.reserved_concurrent_executions
        && existing
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions())
            != Some(reserved as i32)
    {
        put_concurrency(&client, &spec.name, reserved).await?;
    }
    if let (Some(want), Some(arn)) = (&spec.tags, have.function_arn()) {
        apply_tags(&client, arn, want, existing.tags()).await?;
    }
    let latest = if changed {
        snapshot!(
            client
                .get_function_configuration()
                .function_name(&spec.name)
                .send()
                .await
                .map_err(error)?
        )
    } else {
        snapshot!(&have)
    };
    Ok(result(&latest, target))
}

/// Deletes the function; a function that is already gone is fine.
pub async fn delete(spec: &FunctionSpec, target: &Target) -> Result<(), AwsError> {
    deleted(
        target
            .lambda()
            .delete_function()
            .function_name(&spec.name)
            .send()
            .await,
    )
}

async fn create(client: &Client, spec: &FunctionSpec, code: &Code) -> Result<Snapshot, AwsError> {
    let out = client
        .create_function()
        .function_name(&spec.name)
        .code(
            lambda::FunctionCode::builder()
                .zip_file(Blob::new(code.zip.clone()))
                .build(),
        )
        .set_runtime(spec.runtime.as_deref().map(lambda::Runtime::from))
        .set_handler(spec.handler.clone())
        .set_role(spec.role.clone())
        .set_memory_size(spec.memory_size.map(|m| m as i32))
        .set_timeout(spec.timeout.map(|t| t as i32))
        .set_environment(environment(spec))
        .set_description(spec.description.clone())
        .set_architectures(
            spec.architectures
                .as_ref()
                .map(|a| a.iter().map(|a| lambda::Architecture::from(a.as_str())).collect()),
        )
        .set_package_type(spec.package_type.as_deref().map(lambda::PackageType::from))
        .set_layers(spec.layers.clone())
        .set_publish(spec.publish)
        .set_dead_letter_config(dead_letter(spec))
        .set_ephemeral_storage(ephemeral_storage(spec))
        .set_tracing_config(tracing(spec))
        .set_kms_key_arn(spec.kms_key_arn.clone())
        .set_tags(spec.tags.clone().map(|t| t.into_iter().collect()))
        .send()
        .await
        .map_err(error)?;
    Ok(snapshot!(out))
}

/// Whether a field the spec sets differs from the function's configuration.
pub fn configuration_differs(spec: &FunctionSpec, have: &lambda::FunctionConfiguration) -> bool {
    fn differs<T: PartialEq + ?Sized>(want: Option<&T>, have: Option<&T>) -> bool {
        want.is_some() && want != have
    }
    let have_env = have
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    let want_env = spec
        .environment
        .as_ref()
        .map(|e| e.variables.clone().unwrap_or_default());
    let env_differs = want_env
        .is_some_and(|want| want.into_iter().collect::<std::collections::HashMap<_, _>>() != have_env);
    let layers_differ = spec.layers.as_ref().is_some_and(|want| {
        have.layers()
            .iter()
            .filter_map(|l| l.arn())
            .ne(want.iter().map(String::as_str))
    });
    differs(spec.runtime.as_deref(), have.runtime().map(|r| r.as_str()))
        || differs(spec.handler.as_deref(), have.handler())
        || differs(spec.role.as_deref(), have.role())
        || differs(
            spec.memory_size.map(|m| m as i32).as_ref(),
            have.memory_size().as_ref(),
        )
        || differs(spec.timeout.map(|t| t as i32).as_ref(), have.timeout().as_ref())
        || differs(spec.description.as_deref(), have.description())
        || differs(
            spec.dead_letter_config
                .as_ref()
                .and_then(|d| d.target_arn.as_deref()),
            have.dead_letter_config().and_then(|d| d.target_arn()),
        )
        || differs(
            spec.ephemeral_storage
                .as_ref()
                .and_then(|e| e.size)
                .map(|s| s as i32)
                .as_ref(),
            have.ephemeral_storage().map(|e| e.size()).as_ref(),
        )
        || differs(
            spec.tracing_config.as_ref().and_then(|t| t.mode.as_deref()),
            have.tracing_config().and_then(|t| t.mode()).map(|m| m.as_str()),
        )
        || differs(spec.kms_key_arn.as_deref(), have.kms_key_arn())
        || env_differs
        || layers_differ
}

async fn update_configuration(client: &Client, spec: &FunctionSpec) -> Result<(), AwsError> {
    client
        .update_function_configuration()
        .function_name(&spec.name)
        .set_runtime(spec.runtime.as_deref().map(lambda::Runtime::from))
        .set_handler(spec.handler.clone())
        .set_role(spec.role.clone())
        .set_memory_size(spec.memory_size.map(|m| m as i32))
        .set_timeout(spec.timeout.map(|t| t as i32))
        .set_environment(environment(spec))
        .set_description(spec.description.clone())
        .set_layers(spec.layers.clone())
        .set_dead_letter_config(dead_letter(spec))
        .set_ephemeral_storage(ephemeral_storage(spec))
        .set_tracing_config(tracing(spec))
        .set_kms_key_arn(spec.kms_key_arn.clone())
        .send()
        .await
        .map_err(error)?;
    Ok(())
}

async fn put_concurrency(client: &Client, name: &str, reserved: i64) -> Result<(), AwsError> {
    client
        .put_function_concurrency()
        .function_name(name)
        .reserved_concurrent_executions(reserved as i32)
        .send()
        .await
        .map_err(error)?;
    Ok(())
}

/// Makes a resource's tags `want`: removes the others, adds or changes the missing ones.
pub(crate) async fn apply_tags(
    client: &Client,
    arn: &str,
    want: &BTreeMap<String, String>,
    have: Option<&std::collections::HashMap<String, String>>,
) -> Result<(), AwsError> {
    let (stale, missing) = crate::aws::tag_changes(
        want.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        have.into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    if !stale.is_empty() {
        client
            .untag_resource()
            .resource(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(error)?;
    }
    if !missing.is_empty() {
        client
            .tag_resource()
            .resource(arn)
            .set_tags(Some(missing.into_iter().collect()))
            .send()
            .await
            .map_err(error)?;
    }
    Ok(())
}

fn environment(spec: &FunctionSpec) -> Option<lambda::Environment> {
    let env = spec.environment.as_ref()?;
    Some(
        lambda::Environment::builder()
            .set_variables(Some(
                env.variables.clone().unwrap_or_default().into_iter().collect(),
            ))
            .build(),
    )
}

fn dead_letter(spec: &FunctionSpec) -> Option<lambda::DeadLetterConfig> {
    let config = spec.dead_letter_config.as_ref()?;
    Some(
        lambda::DeadLetterConfig::builder()
            .set_target_arn(config.target_arn.clone())
            .build(),
    )
}

fn ephemeral_storage(spec: &FunctionSpec) -> Option<lambda::EphemeralStorage> {
    let size = spec.ephemeral_storage.as_ref()?.size?;
    lambda::EphemeralStorage::builder().size(size as i32).build().ok()
}

fn tracing(spec: &FunctionSpec) -> Option<lambda::TracingConfig> {
    let mode = spec.tracing_config.as_ref()?.mode.as_deref()?;
    Some(
        lambda::TracingConfig::builder()
            .mode(lambda::TracingMode::from(mode))
            .build(),
    )
}

/// The status fields and the outcome a function's configuration tells.
pub fn result(config: &Snapshot, target: &Target) -> (FunctionStatus, Outcome) {
    let status = FunctionStatus {
        ack_resource_metadata: Some(AckResourceMetadata {
            arn: config.arn.clone(),
            owner_account_id: target.account.clone(),
            region: target.region.clone(),
        }),
        state: config.state.as_ref().map(|s| s.as_str().to_owned()),
        state_reason: config.state_reason.clone(),
        state_reason_code: config.state_reason_code.clone(),
        last_update_status: config.last_update_status.as_ref().map(|s| s.as_str().to_owned()),
        last_update_status_reason: config.last_update_status_reason.clone(),
        last_modified: config.last_modified.clone(),
        code_sha256: config.code_sha256.clone(),
        code_size: Some(config.code_size),
        version: config.version.clone(),
        revision_id: config.revision_id.clone(),
        ..Default::default()
    };
    let outcome = match (&config.state, &config.last_update_status) {
        (Some(lambda::State::Failed), _) => Outcome::Terminal {
            reason: config
                .state_reason_code
                .clone()
                .unwrap_or_else(|| "Failed".into()),
            message: config
                .state_reason
                .clone()
                .unwrap_or_else(|| "the function failed".into()),
        },
        (
            Some(lambda::State::Active | lambda::State::Inactive),
            None | Some(lambda::LastUpdateStatus::Successful),
        ) => Outcome::Synced,
        (state, update) => Outcome::Progressing {
            reason: "FunctionNotActive".into(),
            message: format!(
                "the function is {} (last update: {})",
                state.as_ref().map_or("Pending", |s| s.as_str()),
                update.as_ref().map_or("none", |u| u.as_str())
            ),
        },
    };
    (status, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_files_zip_to_the_same_archive_every_time() {
        let spec = FunctionCode {
            inline: Some(BTreeMap::from([(
                "index.js".to_owned(),
                "exports.handler = async () => 1;".to_owned(),
            )])),
            ..Default::default()
        };
        let a = code(&spec, None).unwrap();
        let b = code(&spec, None).unwrap();
        assert_eq!(a, b);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a.zip)).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("index.js").unwrap(), &mut text).unwrap();
        assert_eq!(text, "exports.handler = async () => 1;");
    }

    #[test]
    fn code_needs_exactly_one_source() {
        let both = FunctionCode {
            zip_file: Some(BASE64.encode(b"PK")),
            inline: Some(BTreeMap::new()),
            ..Default::default()
        };
        assert_eq!(
            code(&both, None).unwrap_err(),
            "spec.code must set exactly one of zipFile, inline and configMapRef"
        );
        assert!(code(&FunctionCode::default(), None).is_err());
        let bad = FunctionCode {
            zip_file: Some("not base64!".into()),
            ..Default::default()
        };
        assert!(
            code(&bad, None)
                .unwrap_err()
                .starts_with("spec.code.zipFile is not valid base64")
        );
    }

    #[test]
    fn a_given_sha256_is_checked_in_hex_or_base64() {
        let zip = zip_files(&BTreeMap::from([("a.py".to_owned(), b"x = 1".to_vec())])).unwrap();
        let sha = Code::new(zip.clone()).sha256;
        let hex: String = Sha256::digest(&zip).iter().map(|b| format!("{b:02x}")).collect();
        for expected in [sha, hex] {
            let spec = FunctionCode {
                zip_file: Some(BASE64.encode(&zip)),
                sha256: Some(expected),
                ..Default::default()
            };
            assert!(code(&spec, None).is_ok());
        }
        let spec = FunctionCode {
            zip_file: Some(BASE64.encode(&zip)),
            sha256: Some("00".into()),
            ..Default::default()
        };
        assert!(
            code(&spec, None)
                .unwrap_err()
                .starts_with("spec.code.sha256 is 00")
        );
    }

    #[test]
    fn only_fields_the_spec_sets_are_compared() {
        let have = lambda::FunctionConfiguration::builder()
            .runtime(lambda::Runtime::Nodejs18x)
            .handler("index.handler")
            .memory_size(128)
            .timeout(3)
            .build();
        let mut spec = FunctionSpec {
            runtime: Some("nodejs18.x".into()),
            handler: Some("index.handler".into()),
            ..Default::default()
        };
        assert!(!configuration_differs(&spec, &have));
        spec.timeout = Some(50);
        assert!(configuration_differs(&spec, &have));
    }

    #[test]
    fn a_failed_function_is_terminal_with_its_reason() {
        let config = snapshot!(
            lambda::FunctionConfiguration::builder()
                .state(lambda::State::Failed)
                .state_reason("The runtime is missing")
                .build()
        );
        let target = Target {
            endpoint: String::new(),
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let (_, outcome) = result(&config, &target);
        assert_eq!(
            outcome,
            Outcome::Terminal {
                reason: "Failed".into(),
                message: "The runtime is missing".into()
            }
        );
    }
}
