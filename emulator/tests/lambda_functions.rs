//! The Lambda control plane (functions, versions, concurrency, tags) through the official AWS SDK for Rust and
//! the AWS CLI v2, with AWS's field formats, defaults and error texts.

mod common;

use std::{collections::HashSet, io::Write};

use aws_sdk_lambda::{
    Client,
    error::{ProvideErrorMetadata, SdkError},
    primitives::Blob,
    types::{
        Architecture, DeadLetterConfig, Environment, FunctionCode, FunctionVersion, LastUpdateStatus,
        LogFormat, LoggingConfig, PackageType, Runtime, State, TracingMode,
    },
};
use base64::Engine;
use common::{ROLE, TestEmulator, create_function, unique, zip};
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const HANDLER_JS: &str =
    "exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event) });\n";

fn index_zip() -> Vec<u8> {
    zip(&[("index.js", HANDLER_JS)])
}

fn code(zip: Vec<u8>) -> FunctionCode {
    FunctionCode::builder().zip_file(Blob::new(zip)).build()
}

/// A CreateFunction call with the usual members; tests add or override members.
fn create(
    client: &Client,
    name: &str,
) -> aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder {
    create_function(
        client,
        name,
        Runtime::Nodejs20x,
        "index.handler",
        &[("index.js", HANDLER_JS)],
    )
}

/// The error code, message and HTTP status of a failed call.
fn failure<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, aws_sdk_lambda::config::http::HttpResponse>>,
) -> (String, String, u16) {
    let err = result.expect_err("the call should fail");
    let status = err
        .raw_response()
        .map(|r| r.status().as_u16())
        .unwrap_or_default();
    (
        err.code().unwrap_or_default().to_owned(),
        err.message().unwrap_or_default().to_owned(),
        status,
    )
}

fn b64_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

fn is_uuid(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok() && text.len() == 36
}

/// A raw GET returning status, headers and the body bytes (RawResponse's body is text; zips are not).
async fn http_get(url: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = TcpStream::connect(host).await.unwrap();
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, response[split + 4..].to_vec())
}

// ---- CreateFunction ----

#[tokio::test]
async fn create_function_answers_pending_configuration_with_aws_defaults() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("defaults");
    let zip = index_zip();
    let created = client
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Nodejs20x)
        .role(ROLE)
        .handler("index.handler")
        .code(code(zip.clone()))
        .send()
        .await
        .unwrap();

    assert_eq!(created.function_name(), Some(name.as_str()));
    assert_eq!(
        created.function_arn(),
        Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}").as_str())
    );
    assert_eq!(created.runtime(), Some(&Runtime::Nodejs20x));
    assert_eq!(created.role(), Some(ROLE));
    assert_eq!(created.handler(), Some("index.handler"));
    assert_eq!(created.code_size(), zip.len() as i64);
    assert_eq!(created.code_sha256(), Some(b64_sha256(&zip).as_str()));
    assert_eq!(created.description(), Some(""));
    assert_eq!(created.timeout(), Some(3));
    assert_eq!(created.memory_size(), Some(128));
    assert_eq!(created.version(), Some("$LATEST"));
    assert_eq!(created.package_type(), Some(&PackageType::Zip));
    assert_eq!(created.architectures(), &[Architecture::X8664]);
    assert_eq!(created.ephemeral_storage().unwrap().size(), 512);
    assert_eq!(
        created.tracing_config().unwrap().mode(),
        Some(&TracingMode::PassThrough)
    );
    let snap_start = created.snap_start().unwrap();
    assert_eq!(snap_start.apply_on().map(|a| a.as_str()), Some("None"));
    assert_eq!(snap_start.optimization_status().map(|o| o.as_str()), Some("Off"));
    let logging = created.logging_config().unwrap();
    assert_eq!(logging.log_format(), Some(&LogFormat::Text));
    assert_eq!(logging.log_group(), Some(format!("/aws/lambda/{name}").as_str()));
    assert_eq!(logging.application_log_level(), None);
    let runtime_arn = created
        .runtime_version_config()
        .unwrap()
        .runtime_version_arn()
        .unwrap();
    let hex = runtime_arn
        .strip_prefix("arn:aws:lambda:us-east-1::runtime:")
        .unwrap();
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{runtime_arn}"
    );
    assert_eq!(created.state(), Some(&State::Pending));
    assert_eq!(created.state_reason(), Some("The function is being created."));
    assert_eq!(created.state_reason_code().map(|c| c.as_str()), Some("Creating"));
    assert_eq!(created.last_update_status(), None);
    assert!(created.environment().is_none());
    assert!(created.layers().is_empty());
    assert!(is_uuid(created.revision_id().unwrap()));
    let modified = created.last_modified().unwrap();
    assert_eq!(modified.len(), "2026-11-24T12:00:00.000+0000".len(), "{modified}");
    assert!(
        modified.ends_with("+0000") && modified.as_bytes()[19] == b'.',
        "{modified}"
    );
}

#[tokio::test]
async fn created_function_reads_active_without_state_reason() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("active");
    let created = create(&client, &name).send().await.unwrap();
    let config = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(config.state(), Some(&State::Active));
    assert_eq!(config.state_reason(), None);
    assert_eq!(config.state_reason_code(), None);
    assert_eq!(config.last_update_status(), Some(&LastUpdateStatus::Successful));
    // NB: AWS's RevisionId changes when the function turns Active.
    assert_ne!(config.revision_id(), created.revision_id());
    assert!(is_uuid(config.revision_id().unwrap()));
    assert_eq!(config.code_sha256(), created.code_sha256());
}

#[tokio::test]
async fn create_function_with_existing_name_conflicts() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("twice");
    create(&client, &name).send().await.unwrap();
    let (code, message, status) = failure(create(&client, &name).send().await);
    assert_eq!((code.as_str(), status), ("ResourceConflictException", 409));
    assert_eq!(message, format!("Function already exist: {name}"));
}

#[tokio::test]
async fn create_function_with_non_zip_or_empty_zip_cannot_unzip() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let expected = "Could not unzip uploaded file. Please check your file, then try to upload again.";
    for bytes in [b"not a zip at all".to_vec(), zip(&[])] {
        let result = create(&client, &unique("badzip")).code(code(bytes)).send().await;
        let (code, message, status) = failure(result);
        assert_eq!(
            (code.as_str(), message.as_str(), status),
            ("InvalidParameterValueException", expected, 400)
        );
    }
}

#[tokio::test]
async fn create_function_with_invalid_role_fails_pattern_validation() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let (code, message, status) = failure(create(&client, &unique("role")).role("r1").send().await);
    assert_eq!((code.as_str(), status), ("ValidationException", 400));
    assert_eq!(
        message,
        "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy \
         regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
    );
}

#[tokio::test]
async fn create_function_with_unknown_runtime_lists_valid_runtimes() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let result = create(&client, &unique("runtime"))
        .runtime(Runtime::from("non-existent-runtime"))
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \
         [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, \
         python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, \
         dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2] or be a valid ARN"
    );
}

#[tokio::test]
async fn create_function_with_deprecated_runtime_is_no_longer_supported() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let result = create(&client, &unique("old"))
        .runtime(Runtime::Python37)
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "The runtime parameter of python3.7 is no longer supported for creating or updating AWS Lambda functions. \
         We recommend you use a supported runtime while creating or updating functions."
    );
}

#[tokio::test]
async fn create_function_accepts_runtime_names_it_may_not_run() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let names = [
        "nodejs12.x",
        "nodejs14.x",
        "nodejs16.x",
        "nodejs18.x",
        "nodejs22.x",
        "nodejs24.x",
        "python3.8",
        "python3.14",
        "provided.al2",
        "provided.al2023",
        "java21",
        "java8.al2",
        "dotnet8",
        "ruby3.3",
    ];
    for runtime in names {
        let name = unique("names");
        let created = create(&client, &name)
            .runtime(Runtime::from(runtime))
            .send()
            .await
            .unwrap();
        assert_eq!(created.runtime().map(|r| r.as_str()), Some(runtime));
        let config = client
            .get_function_configuration()
            .function_name(&name)
            .send()
            .await
            .unwrap();
        // A runtime this emulator cannot run is stored Failed with the reason, as AWS reports failed functions;
        // dynastream runs node and python only.
        let runnable = runtime.starts_with("nodejs") || runtime.starts_with("python");
        if !runnable {
            assert_eq!(config.state(), Some(&State::Failed), "{runtime}");
            assert_eq!(
                config.last_update_status(),
                Some(&LastUpdateStatus::Failed),
                "{runtime}"
            );
        }
        match config.state() {
            Some(State::Active) => assert_eq!(config.state_reason(), None),
            Some(State::Failed) => {
                assert_eq!(
                    config.state_reason_code().map(|c| c.as_str()),
                    Some("InvalidRuntime")
                );
                assert!(!config.state_reason().unwrap_or_default().is_empty());
            }
            other => panic!("{runtime}: unexpected state {other:?}"),
        }
    }
}

#[tokio::test]
async fn create_function_with_reserved_environment_keys_is_refused() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let environment = Environment::builder()
        .variables("TABLE", "bark")
        .variables("AWS_REGION", "eu-west-1")
        .build();
    let (code, message, _) = failure(
        create(&client, &unique("env"))
            .environment(environment)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "Lambda was unable to configure your environment variables because the environment variables you have \
         provided contains reserved keys that are currently not supported for modification. Reserved keys used in \
         this request: AWS_REGION"
    );
}

#[tokio::test]
async fn create_function_with_environment_over_4kb_is_refused() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let large = "x".repeat(4096);
    let environment = Environment::builder().variables("LARGE_VAR", &large).build();
    let (code, message, _) = failure(
        create(&client, &unique("env"))
            .environment(environment)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        format!(
            "Lambda was unable to configure your environment variables because the environment variables you have \
             provided exceeded the 4KB limit. String measured: {{\"LARGE_VAR\":\"{large}\"}}"
        )
    );
}

#[tokio::test]
async fn create_function_with_environment_describes_the_variables() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("env");
    let environment = Environment::builder()
        .variables("TABLE", "bark")
        .variables("STAGE", "dev")
        .build();
    let created = create(&client, &name)
        .environment(environment)
        .send()
        .await
        .unwrap();
    let variables = created.environment().unwrap().variables().unwrap();
    assert_eq!(variables.get("TABLE").map(String::as_str), Some("bark"));
    assert_eq!(variables.len(), 2);
}

#[tokio::test]
async fn create_function_with_out_of_range_timeout_and_memory_reports_both() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let result = create(&client, &unique("limits"))
        .timeout(901)
        .memory_size(64)
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "2 validation errors detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value \
         less than or equal to 900; Value '64' at 'memorySize' failed to satisfy constraint: Member must have value \
         greater than or equal to 128"
    );
    let (_, message, _) = failure(create(&client, &unique("limits")).memory_size(10241).send().await);
    assert!(
        message.ends_with("Member must have value less than or equal to 10240"),
        "{message}"
    );
}

#[tokio::test]
async fn create_function_with_configuration_members_describes_them() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("members");
    let layer = "arn:aws:lambda:us-east-1:000000000000:layer:deps:3";
    let created = create(&client, &name)
        .description("barks")
        .timeout(50)
        .memory_size(256)
        .architectures(Architecture::Arm64)
        .layers(layer)
        .tracing_config(
            aws_sdk_lambda::types::TracingConfig::builder()
                .mode(TracingMode::Active)
                .build(),
        )
        .ephemeral_storage(
            aws_sdk_lambda::types::EphemeralStorage::builder()
                .size(1024)
                .build()
                .unwrap(),
        )
        .logging_config(LoggingConfig::builder().log_format(LogFormat::Json).build())
        .send()
        .await
        .unwrap();
    assert_eq!(created.description(), Some("barks"));
    assert_eq!((created.timeout(), created.memory_size()), (Some(50), Some(256)));
    assert_eq!(created.architectures(), &[Architecture::Arm64]);
    assert_eq!(created.layers()[0].arn(), Some(layer));
    assert_eq!(
        created.tracing_config().unwrap().mode(),
        Some(&TracingMode::Active)
    );
    assert_eq!(created.ephemeral_storage().unwrap().size(), 1024);
    let logging = created.logging_config().unwrap();
    assert_eq!(logging.log_format(), Some(&LogFormat::Json));
    assert_eq!(logging.application_log_level().map(|l| l.as_str()), Some("INFO"));
    assert_eq!(logging.system_log_level().map(|l| l.as_str()), Some("INFO"));
}

#[tokio::test]
async fn create_function_with_two_architectures_fails_validation() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let result = create(&client, &unique("arch"))
        .architectures(Architecture::X8664)
        .architectures(Architecture::Arm64)
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: \
         Member must have length less than or equal to 1"
    );
}

#[tokio::test]
async fn create_function_with_image_package_is_refused_clearly() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let result = client
        .create_function()
        .function_name(unique("image"))
        .role(ROLE)
        .package_type(PackageType::Image)
        .code(
            FunctionCode::builder()
                .image_uri("000000000000.dkr.ecr.us-east-1.amazonaws.com/f:latest")
                .build(),
        )
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "InvalidParameterValueException");
    assert!(message.contains("dynastream runs only Zip"), "{message}");
}

#[tokio::test]
async fn create_function_without_handler_is_refused() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let result = client
        .create_function()
        .function_name(unique("nohandler"))
        .runtime(Runtime::Python312)
        .role(ROLE)
        .code(code(index_zip()))
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "Runtime and Handler are mandatory parameters for functions created with deployment packages."
    );
}

#[tokio::test]
async fn create_function_with_long_name_is_an_invalid_parameter() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = "a".repeat(65);
    let (code, message, _) = failure(create(&client, &name).send().await);
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        format!(
            "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: Member must \
             have length less than or equal to 64"
        )
    );
}

#[tokio::test]
async fn create_function_with_publish_creates_version_one() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("publish");
    let created = create(&client, &name).publish(true).send().await.unwrap();
    assert_eq!(created.version(), Some("1"));
    let version = client
        .get_function_configuration()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .unwrap();
    assert_eq!(version.version(), Some("1"));
    assert_eq!(
        version.function_arn(),
        Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:1").as_str())
    );
    assert_eq!(version.state(), Some(&State::Active));
}

#[tokio::test]
async fn create_function_takes_zip_larger_than_other_request_limits() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    // 17 MB of incompressible bytes: over the edge's 16 MB DynamoDB request limit, under Lambda's 50 MB.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..17 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut buffer);
        let options =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        writer.start_file("index.js", options).unwrap();
        writer.write_all(HANDLER_JS.as_bytes()).unwrap();
        writer.start_file("noise.bin", options).unwrap();
        writer.write_all(&noise).unwrap();
        writer.finish().unwrap();
    }
    let zip = buffer.into_inner();
    let created = create(&client, &unique("big"))
        .code(code(zip.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(created.code_size(), zip.len() as i64);
    assert_eq!(created.code_sha256(), Some(b64_sha256(&zip).as_str()));
}

// ---- GetFunction, GetFunctionConfiguration ----

#[tokio::test]
async fn get_function_code_location_serves_the_identical_zip() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("code");
    let zip = zip(&[("index.js", HANDLER_JS), ("lib/util.js", "module.exports = 1;\n")]);
    let created = create(&client, &name)
        .code(code(zip.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(created.code_sha256(), Some(b64_sha256(&zip).as_str()));

    let function = client.get_function().function_name(&name).send().await.unwrap();
    let location = function.code().unwrap();
    assert_eq!(location.repository_type(), Some("S3"));
    let url = location.location().unwrap();
    assert_eq!(
        url,
        format!(
            "{}/_dynastream/lambda/code/000000000000/us-east-1/{name}/$LATEST",
            emulator.endpoint()
        )
    );
    let (status, headers, body) = http_get(url).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/zip")
    );
    assert_eq!(body, zip);
    assert_eq!(b64_sha256(&body), created.code_sha256().unwrap());

    let (status, _, _) = http_get(&url.replace("$LATEST", "7")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn get_function_accepts_name_partial_arn_and_full_arn() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("refs");
    create(&client, &name).send().await.unwrap();
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
    for reference in [
        name.clone(),
        format!("000000000000:function:{name}"),
        arn.clone(),
        format!("{name}:$LATEST"),
    ] {
        let function = client
            .get_function()
            .function_name(&reference)
            .send()
            .await
            .unwrap();
        assert_eq!(
            function.configuration().unwrap().function_name(),
            Some(name.as_str()),
            "{reference}"
        );
    }
    let qualified = client
        .get_function()
        .function_name(&name)
        .qualifier("$LATEST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        qualified.configuration().unwrap().function_arn(),
        Some(format!("{arn}:$LATEST").as_str())
    );
    let plain = client.get_function().function_name(&name).send().await.unwrap();
    assert_eq!(plain.configuration().unwrap().function_arn(), Some(arn.as_str()));
    assert!(plain.tags().is_none());
    assert!(plain.concurrency().is_none());
}

#[tokio::test]
async fn get_function_of_missing_function_names_its_arn() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let (code, message, status) = failure(client.get_function().function_name("missing").send().await);
    assert_eq!((code.as_str(), status), ("ResourceNotFoundException", 404));
    assert_eq!(
        message,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing"
    );
    let (_, message, _) = failure(
        client
            .get_function_configuration()
            .function_name("missing")
            .qualifier("3")
            .send()
            .await,
    );
    assert_eq!(
        message,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing:3"
    );
}

#[tokio::test]
async fn get_function_of_missing_version_names_the_qualified_arn() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("nover");
    create(&client, &name).send().await.unwrap();
    let (code, message, _) = failure(
        client
            .get_function()
            .function_name(&name)
            .qualifier("1221")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        format!("Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:1221")
    );
}

#[tokio::test]
async fn get_function_with_disagreeing_qualifiers_is_an_invalid_parameter() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:some-function:1";
    let (code, message, status) = failure(
        client
            .get_function()
            .function_name(arn)
            .qualifier("$LATEST")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidParameterValueException", 400));
    assert_eq!(
        message,
        "The derived qualifier from the function name does not match the specified qualifier."
    );
}

#[tokio::test]
async fn get_function_with_arn_of_other_region_is_not_reachable() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let arn = "arn:aws:lambda:ap-southeast-1:000000000000:function:f";
    let (code, message, _) = failure(client.get_function().function_name(arn).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')"
    );
}

#[tokio::test]
async fn get_function_with_invalid_name_fails_pattern_validation() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let (code, message, _) = failure(client.get_function().function_name("my-function!").send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value 'my-function!' at 'functionName' failed to satisfy constraint: Member \
         must satisfy regular expression pattern: \
         (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
    );
}

#[tokio::test]
async fn functions_live_in_their_account_and_region() {
    let emulator = TestEmulator::start().await;
    let name = unique("scoped");
    create(&emulator.lambda(), &name).send().await.unwrap();
    let elsewhere = emulator.lambda_in("eu-west-1", "test");
    assert!(
        elsewhere
            .list_functions()
            .send()
            .await
            .unwrap()
            .functions()
            .is_empty()
    );
    let other_account = emulator.lambda_in("us-east-1", "123456789012");
    let (code, _, _) = failure(other_account.get_function().function_name(&name).send().await);
    assert_eq!(code, "ResourceNotFoundException");
}

// ---- ListFunctions ----

#[tokio::test]
async fn list_functions_paginator_walks_all_pages() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let mut names = HashSet::new();
    for _ in 0..7 {
        let name = unique("page");
        create(&client, &name).send().await.unwrap();
        names.insert(name);
    }
    let pages: Vec<_> = client
        .list_functions()
        .max_items(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 4);
    assert!(
        pages[..3]
            .iter()
            .all(|p| p.functions().len() == 2 && p.next_marker().is_some())
    );
    assert_eq!(pages[3].next_marker(), None);
    let listed: HashSet<String> = pages
        .iter()
        .flat_map(|p| p.functions())
        .map(|f| f.function_name().unwrap().to_owned())
        .collect();
    assert_eq!(listed, names);
    // List entries leave out the state members, as AWS's do.
    let first = &pages[0].functions()[0];
    assert_eq!((first.state(), first.last_update_status()), (None, None));
    assert!(first.runtime_version_config().is_none());
}

#[tokio::test]
async fn list_functions_pages_hold_at_most_fifty_items() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let mut names = HashSet::new();
    for _ in 0..53 {
        let name = unique("many");
        create(&client, &name).send().await.unwrap();
        names.insert(name);
    }
    let page = client.list_functions().max_items(1000).send().await.unwrap();
    assert_eq!(page.functions().len(), 50);
    let next = client
        .list_functions()
        .marker(page.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(next.functions().len(), 3);
    assert_eq!(next.next_marker(), None);
    // Names like `many-1` and `many-10` sort as AWS's do, so no page repeats or skips one.
    let listed: HashSet<&str> = page
        .functions()
        .iter()
        .chain(next.functions())
        .map(|f| f.function_name().unwrap())
        .collect();
    assert_eq!(listed, names.iter().map(String::as_str).collect());
    let (code, message, _) = failure(client.list_functions().max_items(0).send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value \
         greater than or equal to 1"
    );
}

#[tokio::test]
async fn list_functions_with_all_versions_lists_qualified_versions() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("all");
    create(&client, &name).publish(true).send().await.unwrap();
    let all = client
        .list_functions()
        .function_version(FunctionVersion::All)
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = all
        .functions()
        .iter()
        .map(|f| f.function_arn().unwrap())
        .collect();
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
    assert_eq!(arns, vec![format!("{arn}:$LATEST"), format!("{arn}:1")]);
    let default = client.list_functions().send().await.unwrap();
    assert_eq!(default.functions().len(), 1);
    assert_eq!(default.functions()[0].function_arn(), Some(arn.as_str()));

    let (code, message, _) = failure(
        client
            .list_functions()
            .function_version(FunctionVersion::from("invalid"))
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: Member must \
         satisfy enum value set: [ALL]"
    );
}

// ---- UpdateFunctionConfiguration, UpdateFunctionCode ----

#[tokio::test]
async fn update_function_configuration_answers_in_progress_then_reads_successful() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("update");
    create(&client, &name).send().await.unwrap();
    let before = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let updated = client
        .update_function_configuration()
        .function_name(&name)
        .revision_id(before.revision_id().unwrap())
        .runtime(Runtime::Nodejs22x)
        .description("Changed-Description")
        .memory_size(512)
        .timeout(10)
        .environment(Environment::builder().variables("ENV_A", "a").build())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.state(), Some(&State::Active));
    assert_eq!(updated.last_update_status(), Some(&LastUpdateStatus::InProgress));
    assert_eq!(
        updated.last_update_status_reason(),
        Some("The function is being created.")
    );
    assert_eq!(
        updated.last_update_status_reason_code().map(|c| c.as_str()),
        Some("Creating")
    );
    assert_eq!((updated.memory_size(), updated.timeout()), (Some(512), Some(10)));
    assert_eq!(updated.runtime(), Some(&Runtime::Nodejs22x));
    assert_ne!(updated.revision_id(), before.revision_id());

    let after = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(after.last_update_status(), Some(&LastUpdateStatus::Successful));
    assert_eq!(after.last_update_status_reason(), None);
    assert_eq!(after.description(), Some("Changed-Description"));
    let variables = after.environment().unwrap().variables().unwrap();
    assert_eq!(variables.get("ENV_A").map(String::as_str), Some("a"));
    assert_ne!(after.revision_id(), before.revision_id());
    assert_ne!(after.revision_id(), updated.revision_id());
    assert_ne!(
        after.runtime_version_config().unwrap().runtime_version_arn(),
        before.runtime_version_config().unwrap().runtime_version_arn()
    );
}

#[tokio::test]
async fn update_function_configuration_with_stale_revision_fails_precondition() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("stale");
    create(&client, &name).send().await.unwrap();
    let result = client
        .update_function_configuration()
        .function_name(&name)
        .revision_id("wrong")
        .timeout(5)
        .send()
        .await;
    let (code, message, status) = failure(result);
    assert_eq!((code.as_str(), status), ("PreconditionFailedException", 412));
    assert_eq!(
        message,
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to \
         retrieve the latest Revision Id"
    );
    let config = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(config.timeout(), Some(3));
}

#[tokio::test]
async fn update_function_configuration_of_missing_function_is_not_found() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let (code, message, _) = failure(
        client
            .update_function_configuration()
            .function_name("gone")
            .timeout(5)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:gone"
    );
}

#[tokio::test]
async fn update_function_configuration_with_reserved_environment_key_is_refused() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("reserved");
    create(&client, &name).send().await.unwrap();
    let environment = Environment::builder()
        .variables("AWS_ACCESS_KEY_ID", "AKID")
        .build();
    let result = client
        .update_function_configuration()
        .function_name(&name)
        .environment(environment)
        .send()
        .await;
    let (_, message, _) = failure(result);
    assert!(
        message.ends_with("Reserved keys used in this request: AWS_ACCESS_KEY_ID"),
        "{message}"
    );
}

#[tokio::test]
async fn update_function_code_changes_the_package_and_revision() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("code");
    let created = create(&client, &name).send().await.unwrap();
    let new_zip = zip(&[("index.js", "exports.handler = async () => 'v2';\n")]);
    let updated = client
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(new_zip.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.code_sha256(), Some(b64_sha256(&new_zip).as_str()));
    assert_eq!(updated.code_size(), new_zip.len() as i64);
    assert_eq!(updated.last_update_status(), Some(&LastUpdateStatus::InProgress));
    assert_ne!(updated.code_sha256(), created.code_sha256());

    let function = client.get_function().function_name(&name).send().await.unwrap();
    assert_eq!(
        function.configuration().unwrap().last_update_status(),
        Some(&LastUpdateStatus::Successful)
    );
    let (_, _, body) = http_get(function.code().unwrap().location().unwrap()).await;
    assert_eq!(body, new_zip);
}

#[tokio::test]
async fn update_function_code_dry_run_leaves_the_function_unchanged() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("dry");
    let created = create(&client, &name).send().await.unwrap();
    let new_zip = zip(&[("index.js", "exports.handler = async () => 'dry';\n")]);
    let answer = client
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(new_zip.clone()))
        .dry_run(true)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.code_sha256(), Some(b64_sha256(&new_zip).as_str()));
    let config = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(config.code_sha256(), created.code_sha256());
}

#[tokio::test]
async fn update_function_code_with_publish_answers_the_new_version() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("codepub");
    create(&client, &name).send().await.unwrap();
    let new_zip = zip(&[("index.js", "exports.handler = async () => 'v2';\n")]);
    let answer = client
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(new_zip.clone()))
        .publish(true)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.version(), Some("1"));
    assert_eq!(
        answer.function_arn(),
        Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:1").as_str())
    );
    assert_eq!(answer.code_sha256(), Some(b64_sha256(&new_zip).as_str()));
    let version = client
        .get_function()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .unwrap();
    let (_, _, body) = http_get(version.code().unwrap().location().unwrap()).await;
    assert_eq!(body, new_zip);
}

#[tokio::test]
async fn update_function_code_with_non_zip_cannot_unzip() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("badcode");
    create(&client, &name).send().await.unwrap();
    let result = client
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(b"nope".to_vec()))
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    );
}

// ---- DeleteFunction ----

#[tokio::test]
async fn delete_function_removes_it() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("delete");
    create(&client, &name).send().await.unwrap();
    let deleted = client
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status_code(), 204);
    let (code, message, _) = failure(client.delete_function().function_name(&name).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        format!("Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}")
    );
    assert!(
        client
            .list_functions()
            .send()
            .await
            .unwrap()
            .functions()
            .is_empty()
    );
}

#[tokio::test]
async fn delete_function_with_latest_qualifier_is_refused() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("latest");
    create(&client, &name).send().await.unwrap();
    let (code, message, _) = failure(
        client
            .delete_function()
            .function_name(&name)
            .qualifier("$LATEST")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "$LATEST version cannot be deleted without deleting the function."
    );
}

#[tokio::test]
async fn delete_function_with_version_qualifier_deletes_only_that_version() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("delver");
    create(&client, &name).publish(true).send().await.unwrap();
    client
        .delete_function()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .unwrap();
    // Deleting a version that is not there succeeds, as on AWS.
    client
        .delete_function()
        .function_name(&name)
        .qualifier("1233")
        .send()
        .await
        .unwrap();
    let versions = client
        .list_versions_by_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let listed: Vec<&str> = versions.versions().iter().map(|v| v.version().unwrap()).collect();
    assert_eq!(listed, vec!["$LATEST"]);
    client.get_function().function_name(&name).send().await.unwrap();
}

// ---- PublishVersion, ListVersionsByFunction ----

#[tokio::test]
async fn publish_version_twice_without_changes_returns_the_same_version() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("pub");
    create(&client, &name)
        .description("No version :(")
        .send()
        .await
        .unwrap();
    let before = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let first = client
        .publish_version()
        .function_name(&name)
        .description("First version description :)")
        .send()
        .await
        .unwrap();
    assert_eq!(first.version(), Some("1"));
    assert_eq!(
        first.function_arn(),
        Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:1").as_str())
    );
    assert_eq!(first.description(), Some("First version description :)"));
    assert_eq!(first.state(), Some(&State::Active));
    assert_eq!(first.last_update_status(), Some(&LastUpdateStatus::Successful));
    let again = client
        .publish_version()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (again.version(), again.revision_id()),
        (Some("1"), first.revision_id())
    );
    // Publishing changes $LATEST's RevisionId, as on AWS.
    let after = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_ne!(after.revision_id(), before.revision_id());

    client
        .update_function_configuration()
        .function_name(&name)
        .description("Second")
        .send()
        .await
        .unwrap();
    let second = client
        .publish_version()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(second.version(), Some("2"));
    assert_eq!(second.description(), Some("Second"));

    let versions = client
        .list_versions_by_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
    let listed: Vec<(&str, &str)> = versions
        .versions()
        .iter()
        .map(|v| (v.version().unwrap(), v.function_arn().unwrap()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("$LATEST", format!("{arn}:$LATEST").as_str()),
            ("1", format!("{arn}:1").as_str()),
            ("2", format!("{arn}:2").as_str())
        ]
    );
    assert!(versions.versions().iter().all(|v| v.state().is_none()));
}

#[tokio::test]
async fn publish_version_with_wrong_revision_or_sha256_is_refused() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("prec");
    create(&client, &name).send().await.unwrap();
    let (code, message, status) = failure(
        client
            .publish_version()
            .function_name(&name)
            .revision_id("nope")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("PreconditionFailedException", 412));
    assert_eq!(
        message,
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to \
         retrieve the latest Revision Id"
    );
    let sha = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap()
        .code_sha256()
        .unwrap()
        .to_owned();
    let result = client
        .publish_version()
        .function_name(&name)
        .code_sha256("somenonexistentsha256")
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        format!(
            "CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST ({sha}). Please try \
             again with the CodeSHA256 in $LATEST."
        )
    );
    let published = client
        .publish_version()
        .function_name(&name)
        .code_sha256(&sha)
        .send()
        .await
        .unwrap();
    assert_eq!(published.version(), Some("1"));
}

#[tokio::test]
async fn list_versions_of_missing_function_is_not_found() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let (code, message, _) = failure(
        client
            .list_versions_by_function()
            .function_name("nope")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
    );
}

// ---- concurrency ----

#[tokio::test]
async fn function_concurrency_is_put_read_and_deleted() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("conc");
    create(&client, &name).send().await.unwrap();
    let empty = client
        .get_function_concurrency()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.reserved_concurrent_executions(), None);
    let put = client
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    assert_eq!(put.reserved_concurrent_executions(), Some(0));
    client
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(5)
        .send()
        .await
        .unwrap();
    let got = client
        .get_function_concurrency()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.reserved_concurrent_executions(), Some(5));
    let function = client.get_function().function_name(&name).send().await.unwrap();
    assert_eq!(
        function.concurrency().unwrap().reserved_concurrent_executions(),
        Some(5)
    );
    client
        .delete_function_concurrency()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let gone = client
        .get_function_concurrency()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.reserved_concurrent_executions(), None);
}

#[tokio::test]
async fn function_concurrency_must_leave_unreserved_minimum() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let (first, second) = (unique("conc"), unique("conc"));
    create(&client, &first).send().await.unwrap();
    create(&client, &second).send().await.unwrap();
    client
        .put_function_concurrency()
        .function_name(&first)
        .reserved_concurrent_executions(900)
        .send()
        .await
        .unwrap();
    let result = client
        .put_function_concurrency()
        .function_name(&second)
        .reserved_concurrent_executions(1)
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below \
         its minimum value of [100]."
    );
    // Replacing a function's own reservation does not count it twice.
    client
        .put_function_concurrency()
        .function_name(&first)
        .reserved_concurrent_executions(900)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn function_concurrency_errors_match_aws() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let result = client
        .put_function_concurrency()
        .function_name("doesnotexist")
        .reserved_concurrent_executions(1)
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:doesnotexist:$LATEST"
    );
    let name = unique("conc");
    create(&client, &name).send().await.unwrap();
    let qualified = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:1");
    let result = client
        .put_function_concurrency()
        .function_name(&qualified)
        .reserved_concurrent_executions(1)
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. \
         Please specify either a function name or an unqualified function ARN."
    );
    let result = client
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(-1)
        .send()
        .await;
    let (code, message, _) = failure(result);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: \
         Member must have value greater than or equal to 0"
    );
    let (code, message, _) = failure(
        client
            .get_function_concurrency()
            .function_name("doesnotexist")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:doesnotexist"
    );
}

// ---- tags ----

#[tokio::test]
async fn tags_are_set_at_creation_added_and_removed() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("tags");
    let created = create(&client, &name)
        .tags("testtag", "bark")
        .send()
        .await
        .unwrap();
    let arn = created.function_arn().unwrap().to_owned();
    let listed = client.list_tags().resource(&arn).send().await.unwrap();
    assert_eq!(
        listed.tags().unwrap().get("testtag").map(String::as_str),
        Some("bark")
    );
    let function = client.get_function().function_name(&name).send().await.unwrap();
    assert_eq!(function.tags().unwrap().len(), 1);

    client
        .tag_resource()
        .resource(&arn)
        .tags("A", "tag-a")
        .tags("B", "tag-b")
        .send()
        .await
        .unwrap();
    client
        .untag_resource()
        .resource(&arn)
        .tag_keys("testtag")
        .tag_keys("B")
        .tag_keys("missing")
        .send()
        .await
        .unwrap();
    let listed = client.list_tags().resource(&arn).send().await.unwrap();
    let tags = listed.tags().unwrap();
    assert_eq!(
        (tags.len(), tags.get("A").map(String::as_str)),
        (1, Some("tag-a"))
    );
}

#[tokio::test]
async fn tags_errors_match_aws() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("tagerr");
    let arn = create(&client, &name)
        .send()
        .await
        .unwrap()
        .function_arn()
        .unwrap()
        .to_owned();

    let (code, message, _) = failure(
        client
            .tag_resource()
            .resource(format!("{arn}:1"))
            .tags("a", "b")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterValueException");
    assert_eq!(
        message,
        "Tags on function aliases and versions are not supported. Please specify a function ARN."
    );

    let missing = "arn:aws:lambda:us-east-1:000000000000:function:doesnotexist";
    let (code, message, _) = failure(client.list_tags().resource(missing).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(message, format!("Function not found: {missing}"));

    let (code, message, _) = failure(client.list_tags().resource("arn:aws:something").send().await);
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with("1 validation error detected: Value 'arn:aws:something' at 'resource'"),
        "{message}"
    );

    let mut too_many = client.tag_resource().resource(&arn);
    for i in 0..51 {
        too_many = too_many.tags(format!("{i}_key"), format!("{i}_value"));
    }
    let (code, message, _) = failure(too_many.send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValueException",
            "Number of tags exceeds resource tag limit."
        )
    );
}

// ---- the envelope and what is not implemented ----

#[tokio::test]
async fn options_dynastream_does_not_implement_are_refused_by_name_and_empty_ones_pass() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("vpc");
    let vpc = |subnet: Option<&str>| {
        aws_sdk_lambda::types::VpcConfig::builder()
            .set_subnet_ids(Some(subnet.into_iter().map(str::to_owned).collect()))
            .set_security_group_ids(Some(Vec::new()))
            .ipv6_allowed_for_dual_stack(false)
            .build()
    };
    let (code, message, status) = failure(
        create(&client, &name)
            .vpc_config(vpc(Some("subnet-0123456789abcdef0")))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str(), status),
        (
            "InvalidParameterValueException",
            "dynastream does not implement VpcConfig in CreateFunction",
            400
        )
    );
    let (code, _, _) = failure(client.get_function().function_name(&name).send().await);
    assert_eq!(code, "ResourceNotFoundException", "nothing was created");

    // An empty VpcConfig (empty lists, false) asks for no VPC, as infrastructure tools send it.
    create(&client, &name).vpc_config(vpc(None)).send().await.unwrap();
    let (code, message, _) = failure(
        client
            .update_function_configuration()
            .function_name(&name)
            .timeout(9)
            .file_system_configs(
                aws_sdk_lambda::types::FileSystemConfig::builder()
                    .arn("arn:aws:elasticfilesystem:us-east-1:000000000000:access-point/fsap-0123456789abcdef0")
                    .local_mount_path("/mnt/data")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterValueException",
            "dynastream does not implement FileSystemConfigs in UpdateFunctionConfiguration"
        )
    );
    let unchanged = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.timeout(), Some(3), "the refused update changed nothing");
}

#[tokio::test]
async fn responses_carry_uuid_request_ids_and_error_types() {
    let emulator = TestEmulator::start().await;
    let ok = emulator.raw("GET", "/2015-03-31/functions/", &[], b"").await;
    assert_eq!(ok.status, 200);
    assert!(is_uuid(ok.header("x-amzn-requestid").unwrap()));
    assert_eq!(ok.json(), serde_json::json!({ "Functions": [] }));
    let missing = emulator.raw("GET", "/2015-03-31/functions/nope", &[], b"").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    assert!(is_uuid(missing.header("x-amzn-requestid").unwrap()));
    let body = missing.json();
    assert_eq!(body["Type"], "User");
    assert_eq!(
        body["message"],
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
    );
}

#[tokio::test]
async fn unimplemented_lambda_operations_name_themselves() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("alias");
    create(&client, &name).publish(true).send().await.unwrap();
    let result = client
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version("1")
        .send()
        .await;
    let (_, message, status) = failure(result);
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "Lambda operation CreateAlias is not implemented by dynastream"
    );
    let (_, message, _) = failure(client.list_layers().send().await);
    assert_eq!(
        message,
        "Lambda operation ListLayers is not implemented by dynastream"
    );
    let (_, message, _) = failure(client.get_account_settings().send().await);
    assert_eq!(
        message,
        "Lambda operation GetAccountSettings is not implemented by dynastream"
    );
    let odd = emulator.raw("PATCH", "/2015-03-31/functions/f", &[], b"").await;
    assert_eq!(odd.status, 400);
    assert_eq!(
        odd.json()["message"],
        "Lambda operation PATCH /2015-03-31/functions/f is not implemented by dynastream"
    );
}

// ---- the AWS CLI v2 ----

#[tokio::test]
async fn aws_cli_creates_function_as_the_guide_writes_it() {
    let emulator = TestEmulator::start().await;
    let dir = std::env::temp_dir().join(unique("dynastream-guide"));
    std::fs::create_dir_all(&dir).unwrap();
    let zip_path = dir.join("index.zip");
    let zip = index_zip();
    std::fs::write(&zip_path, &zip).unwrap();
    let zip_arg = format!("fileb://{}", zip_path.display());
    // NB: the guide passes --role twice; the CLI takes the last one.
    let args = [
        "lambda",
        "create-function",
        "--function-name",
        "publishNewBark",
        "--zip-file",
        &zip_arg,
        "--role",
        "roleARN",
        "--handler",
        "index.handler",
        "--timeout",
        "50",
        "--runtime",
        "nodejs16.x",
        "--role",
        "arn:aws:iam::000000000000:role/lambda-role",
    ];
    let Some(output) = common::aws(&emulator, &args).await else {
        return;
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(config["FunctionName"], "publishNewBark");
    assert_eq!(
        config["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:publishNewBark"
    );
    assert_eq!(config["Runtime"], "nodejs16.x");
    assert_eq!(config["Role"], "arn:aws:iam::000000000000:role/lambda-role");
    assert_eq!(config["Handler"], "index.handler");
    assert_eq!(config["Timeout"], 50);
    assert_eq!(config["MemorySize"], 128);
    assert_eq!(config["CodeSize"], zip.len());
    assert_eq!(config["CodeSha256"], b64_sha256(&zip));
    assert_eq!(config["Version"], "$LATEST");
    assert_eq!(config["State"], "Pending");
    assert_eq!(config["StateReason"], "The function is being created.");
    assert_eq!(config["StateReasonCode"], "Creating");
    assert_eq!(config["PackageType"], "Zip");
    assert_eq!(config["Architectures"], serde_json::json!(["x86_64"]));
    assert_eq!(
        config["TracingConfig"],
        serde_json::json!({ "Mode": "PassThrough" })
    );
    assert_eq!(config["EphemeralStorage"], serde_json::json!({ "Size": 512 }));
    assert_eq!(
        config["SnapStart"],
        serde_json::json!({ "ApplyOn": "None", "OptimizationStatus": "Off" })
    );
    // NB: a CLI older than LoggingConfig (2023) leaves the member out of its output.
    if let Some(logging) = config.get("LoggingConfig") {
        assert_eq!(
            logging,
            &serde_json::json!({ "LogFormat": "Text", "LogGroup": "/aws/lambda/publishNewBark" })
        );
    }
    assert!(config.get("LastUpdateStatus").is_none());
    assert!(is_uuid(config["RevisionId"].as_str().unwrap()));

    let Some(get) = common::aws(
        &emulator,
        &["lambda", "get-function", "--function-name", "publishNewBark"],
    )
    .await
    else {
        return;
    };
    assert!(get.status.success(), "{}", String::from_utf8_lossy(&get.stderr));
    let got: serde_json::Value = serde_json::from_slice(&get.stdout).unwrap();
    assert_eq!(got["Configuration"]["State"], "Active");
    assert_eq!(got["Code"]["RepositoryType"], "S3");
}

#[tokio::test]
async fn dead_letter_target_and_kms_key_are_kept_reported_and_removed_when_emptied() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("dlq");
    let queue = "arn:aws:sqs:us-east-1:000000000000:failed-events";
    let key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let created = create(&client, &name)
        .dead_letter_config(DeadLetterConfig::builder().target_arn(queue).build())
        .kms_key_arn(key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.dead_letter_config().and_then(|d| d.target_arn()),
        Some(queue)
    );
    assert_eq!(created.kms_key_arn(), Some(key));
    let read = client
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.dead_letter_config().and_then(|d| d.target_arn()),
        Some(queue)
    );
    assert_eq!(read.kms_key_arn(), Some(key));

    let updated = client
        .update_function_configuration()
        .function_name(&name)
        .dead_letter_config(DeadLetterConfig::builder().target_arn("").build())
        .kms_key_arn("")
        .send()
        .await
        .unwrap();
    assert!(updated.dead_letter_config().is_none());
    assert!(updated.kms_key_arn().is_none());

    let (code, message, status) = failure(
        create(&client, &unique("dlq"))
            .dead_letter_config(DeadLetterConfig::builder().target_arn("failed-events").build())
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ValidationException", 400));
    assert_eq!(
        message,
        "1 validation error detected: Value 'failed-events' at 'deadLetterConfig.targetArn' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"
    );
}
