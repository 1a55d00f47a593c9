//! Invoke with real `node` and `python3` handlers running in execution environments (local processes driven by
//! `dynastream agent`), through the official AWS SDK for Rust and the AWS CLI v2.

mod common;

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use aws_sdk_lambda::{
    Client,
    primitives::Blob,
    types::{InvocationType, LogType, Runtime},
};
use base64::Engine;
use common::{TestEmulator, create_function, pk_table_request, unique, zip};

async fn create(
    client: &Client,
    name: &str,
    runtime: Runtime,
    handler: &str,
    files: &[(&str, &str)],
    timeout: i32,
) {
    create_function(client, name, runtime, handler, files)
        .timeout(timeout)
        .send()
        .await
        .unwrap();
}

async fn invoke(
    client: &Client,
    name: &str,
    payload: &str,
) -> aws_sdk_lambda::operation::invoke::InvokeOutput {
    client
        .invoke()
        .function_name(name)
        .payload(Blob::new(payload.as_bytes().to_vec()))
        .send()
        .await
        .unwrap()
}

fn body(output: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> serde_json::Value {
    serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_callback_and_async_handlers_return_their_results() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let callback = unique("callback");
    create(
        &client,
        &callback,
        Runtime::Nodejs20x,
        "index.handler",
        &[("index.js", "exports.handler = (event, context, callback) => { callback(null, { got: event.value, id: context.awsRequestId }); };")],
        3,
    )
    .await;
    let output = invoke(&client, &callback, r#"{"value": 42}"#).await;
    assert_eq!(output.status_code(), 200);
    assert!(output.function_error().is_none());
    assert_eq!(output.executed_version(), Some("$LATEST"));
    let result = body(&output);
    assert_eq!(result["got"], 42);
    assert_eq!(result["id"].as_str().unwrap().len(), 36);

    let esm = unique("esm");
    create(
        &client,
        &esm,
        Runtime::Nodejs20x,
        "src/app.handler",
        &[(
            "src/app.mjs",
            "export const handler = async (event) => ({ doubled: event.n * 2 });",
        )],
        3,
    )
    .await;
    assert_eq!(body(&invoke(&client, &esm, r#"{"n": 21}"#).await)["doubled"], 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_handler_in_a_package_runs_and_its_exception_is_reported_as_aws_does() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("python");
    create(
        &client,
        &name,
        Runtime::Python312,
        "pkg.app.handler",
        &[
            ("pkg/__init__.py", ""),
            (
                "pkg/app.py",
                "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('boom')\n    return {'name': context.function_name, 'left': context.get_remaining_time_in_millis() > 0}\n",
            ),
        ],
        3,
    )
    .await;
    let ok = body(&invoke(&client, &name, "{}").await);
    assert_eq!(ok["name"], name.as_str());
    assert_eq!(ok["left"], true);
    let failed = invoke(&client, &name, r#"{"fail": true}"#).await;
    assert_eq!(failed.status_code(), 200);
    assert_eq!(failed.function_error(), Some("Unhandled"));
    let error = body(&failed);
    assert_eq!(error["errorType"], "ValueError");
    assert_eq!(error["errorMessage"], "boom");
    assert!(error["stackTrace"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thrown_node_error_is_unhandled_with_type_message_and_trace() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("throws");
    create(
        &client,
        &name,
        Runtime::Nodejs20x,
        "index.handler",
        &[(
            "index.js",
            "exports.handler = async () => { throw new TypeError('bad input'); };",
        )],
        3,
    )
    .await;
    let output = invoke(&client, &name, "{}").await;
    assert_eq!(output.function_error(), Some("Unhandled"));
    let error = body(&output);
    assert_eq!(error["errorType"], "TypeError");
    assert_eq!(error["errorMessage"], "bad input");
    assert!(error["trace"].as_array().is_some_and(|t| !t.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_the_environment_and_the_next_invocation_starts_fresh() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("slow");
    create(
        &client,
        &name,
        Runtime::Nodejs20x,
        "index.handler",
        &[("index.js", "let calls = 0; exports.handler = async (event) => { calls++; if (event.sleep) await new Promise(r => setTimeout(r, 20000)); return { calls, pid: process.pid }; };")],
        1,
    )
    .await;
    let first = body(&invoke(&client, &name, "{}").await);
    // The handler sleeps 20 s: only the timeout (1 s) ends the invocation with the answer below.
    let timed_out = invoke(&client, &name, r#"{"sleep": true}"#).await;
    assert_eq!(timed_out.function_error(), Some("Unhandled"));
    let message = body(&timed_out)["errorMessage"].as_str().unwrap().to_owned();
    assert!(
        message.ends_with("Task timed out after 1.00 seconds"),
        "{message}"
    );
    let after = body(&invoke(&client, &name, "{}").await);
    assert_eq!(after["calls"], 1, "module state was lost: a new environment");
    assert_ne!(after["pid"], first["pid"]);
}

#[tokio::test]
async fn deleting_a_function_stops_its_environment_and_removes_its_task_root() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("scratch");
    create(
        &client,
        &name,
        Runtime::Nodejs20x,
        "index.handler",
        &[(
            "index.js",
            "exports.handler = async () => process.env.LAMBDA_TASK_ROOT;",
        )],
        3,
    )
    .await;
    let task_root = std::path::PathBuf::from(body(&invoke(&client, &name, "{}").await).as_str().unwrap());
    assert!(task_root.join("index.js").is_file(), "{}", task_root.display());
    client
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while task_root.exists() {
        assert!(
            Instant::now() < deadline,
            "{} outlived its environment",
            task_root.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each invocation leaves a marker in `event.barrier` and holds until `event.parties` markers exist, so the
/// invocations of one round overlap however late each one starts.
const BARRIER_HANDLER: &str = r#"
const fs = require('fs');
const path = require('path');
exports.handler = async (event, context) => {
  fs.writeFileSync(path.join(event.barrier, context.awsRequestId), '');
  const deadline = Date.now() + 20000;
  for (;;) {
    const started = fs.readdirSync(event.barrier).length;
    if (started >= event.parties) return { pid: process.pid };
    if (Date.now() > deadline) throw new Error(`only ${started} of ${event.parties} invocations started`);
    await new Promise(r => setTimeout(r, 20));
  }
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invocations_get_one_environment_each_then_reuse_them() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("parallel");
    create(
        &client,
        &name,
        Runtime::Nodejs20x,
        "index.handler",
        &[("index.js", BARRIER_HANDLER)],
        30,
    )
    .await;
    let barriers = std::env::temp_dir().join(unique("barriers"));
    let parallel = futures_join(&client, &name, 3, &barriers.join("first")).await;
    assert_eq!(
        parallel.len(),
        3,
        "three concurrent invocations ran in three environments"
    );
    let again = futures_join(&client, &name, 3, &barriers.join("second")).await;
    let _ = std::fs::remove_dir_all(&barriers);
    assert_eq!(again, parallel, "the same warm environments were reused");
}

/// The pids of `n` concurrent invocations of a `BARRIER_HANDLER` function meeting in `barrier`.
async fn futures_join(client: &Client, name: &str, n: usize, barrier: &std::path::Path) -> HashSet<i64> {
    std::fs::create_dir_all(barrier).unwrap();
    let payload = serde_json::json!({ "barrier": barrier, "parties": n }).to_string();
    let mut handles = Vec::new();
    for _ in 0..n {
        let (client, name, payload) = (client.clone(), name.to_owned(), payload.clone());
        handles.push(tokio::spawn(async move {
            let output = invoke(&client, &name, &payload).await;
            let result = body(&output);
            assert!(output.function_error().is_none(), "{result}");
            result["pid"].as_i64().unwrap()
        }));
    }
    let mut pids = HashSet::new();
    for handle in handles {
        pids.insert(handle.await.unwrap());
    }
    pids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_log_result_holds_platform_lines_and_handler_output() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("logs");
    create(
        &client,
        &name,
        Runtime::Nodejs20x,
        "index.handler",
        &[("index.js", "exports.handler = async (event, context) => { console.log('hello from', context.functionName); return 1; };")],
        3,
    )
    .await;
    let output = client
        .invoke()
        .function_name(&name)
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap();
    let log = base64::engine::general_purpose::STANDARD
        .decode(output.log_result().unwrap())
        .unwrap();
    let log = String::from_utf8(log).unwrap();
    let request_id = output.response_metadata_request_id();
    assert!(log.contains("START RequestId: "), "{log}");
    assert!(log.contains(&format!("hello from {name}")), "{log}");
    assert!(log.contains("END RequestId: "), "{log}");
    assert!(
        log.contains("REPORT RequestId: ") && log.contains("Billed Duration: "),
        "{log}"
    );
    let _ = request_id;
}

trait RequestId {
    fn response_metadata_request_id(&self) -> Option<String>;
}

impl RequestId for aws_sdk_lambda::operation::invoke::InvokeOutput {
    fn response_metadata_request_id(&self) -> Option<String> {
        use aws_sdk_lambda::operation::RequestId as _;
        self.request_id().map(str::to_owned)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_invocation_is_accepted_and_the_handler_writes_through_its_sdk() {
    let emulator = TestEmulator::start().await;
    let (client, dynamodb) = (emulator.lambda(), emulator.dynamodb());
    let table = unique("written");
    pk_table_request(&dynamodb, &table).send().await.unwrap();
    let name = unique("writer");
    create(
        &client,
        &name,
        Runtime::Python312,
        "app.handler",
        &[(
            "app.py",
            "import boto3\n\ndef handler(event, context):\n    boto3.client('dynamodb').put_item(TableName=event['table'], Item={'pk': {'S': context.aws_request_id}})\n    return 'ok'\n",
        )],
        10,
    )
    .await;
    let accepted = client
        .invoke()
        .function_name(&name)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(format!(r#"{{"table": "{table}"}}"#).into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status_code(), 202);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let count = dynamodb.scan().table_name(&table).send().await.unwrap().count();
        if count == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the handler's put_item never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_and_reserved_concurrency_of_zero_answer_as_aws_does() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("throttled");
    create(
        &client,
        &name,
        Runtime::Nodejs20x,
        "index.handler",
        &[("index.js", "exports.handler = async () => 1;")],
        3,
    )
    .await;
    let dry = client
        .invoke()
        .function_name(&name)
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status_code(), 204);
    client
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    let err = client
        .invoke()
        .function_name(&name)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_too_many_requests_exception(), "{err:?}");
    let missing = client
        .invoke()
        .function_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception());
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(&missing),
        Some("Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_handler_runs_with_the_cli_as_the_guide_writes_it() {
    let emulator = TestEmulator::start().await;
    let dir = std::env::temp_dir().join(unique("guide"));
    std::fs::create_dir_all(&dir).unwrap();
    let handler = include_str!("../../examples/bark/cli/index.js");
    std::fs::write(dir.join("index.zip"), zip(&[("index.js", handler)])).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bark/cli/payload.json"),
        dir.join("payload.json"),
    )
    .unwrap();
    let zip_arg = format!("fileb://{}", dir.join("index.zip").display());
    let Some(created) = common::aws(
        &emulator,
        &[
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
        ],
    )
    .await
    else {
        return;
    };
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let payload_arg = format!("file://{}", dir.join("payload.json").display());
    let output_file = dir.join("output.txt");
    let invoked = common::aws(
        &emulator,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "publishNewBark",
            "--payload",
            &payload_arg,
            "--cli-binary-format",
            "raw-in-base64-out",
            output_file.to_str().unwrap(),
        ],
    )
    .await
    .unwrap();
    assert!(
        invoked.status.success(),
        "{}",
        String::from_utf8_lossy(&invoked.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&invoked.stdout).unwrap();
    assert_eq!(answer["StatusCode"], 200);
    assert!(answer.get("FunctionError").is_none(), "{answer}");
    assert_eq!(
        std::fs::read_to_string(&output_file).unwrap(),
        "\"Successfully processed 1 records.\""
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sleeps `event.sleep` seconds (if given), then answers its process id, which tells environments apart.
const SLEEPY_PID: &str = "import os, time
def handler(event, context):
    time.sleep(event.get('sleep', 0))
    return os.getpid()
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_whose_caller_went_away_still_ends_and_frees_its_environment() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("abandoned");
    create(
        &client,
        &name,
        Runtime::Python312,
        "index.handler",
        &[("index.py", SLEEPY_PID)],
        30,
    )
    .await;
    client
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(1)
        .send()
        .await
        .unwrap();
    let first = body(&invoke(&client, &name, "{}").await);
    // The caller gives up while the handler runs, and its connection closes.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(1000),
        invoke(&client, &name, r#"{"sleep": 4}"#),
    )
    .await;
    assert!(abandoned.is_err(), "the caller gave up first");
    // With the one environment the reserved concurrency allows, later invocations are throttled until the
    // abandoned one ends; then they run, in the same environment.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut throttled = 0;
    let again = loop {
        let output = client
            .invoke()
            .function_name(&name)
            .payload(Blob::new(b"{}".to_vec()))
            .send()
            .await;
        match output {
            Ok(output) => break body(&output),
            Err(err) => {
                let err = err.into_service_error();
                assert!(err.is_too_many_requests_exception(), "{err:?}");
                assert!(Instant::now() < deadline, "the environment was never freed");
                throttled += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert!(
        throttled > 0,
        "the abandoned invocation held the environment while it ran"
    );
    assert_eq!(again, first, "the same environment ran it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_latest_or_deleting_a_version_keeps_the_other_versions_environments_warm() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("versions");
    create(
        &client,
        &name,
        Runtime::Python312,
        "index.handler",
        &[("index.py", SLEEPY_PID)],
        10,
    )
    .await;
    client
        .publish_version()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    let invoke_version = || async {
        let output = client
            .invoke()
            .function_name(&name)
            .qualifier("1")
            .send()
            .await
            .unwrap();
        body(&output)
    };
    let version = invoke_version().await;
    // A change of $LATEST leaves the published version's environment warm.
    client
        .update_function_configuration()
        .function_name(&name)
        .description("changed")
        .send()
        .await
        .unwrap();
    assert_eq!(invoke_version().await, version, "version 1's environment stayed");
    let latest = body(&invoke(&client, &name, "{}").await);
    assert_ne!(version, latest, "each version has environments of its own");
    client
        .delete_function()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        body(&invoke(&client, &name, "{}").await),
        latest,
        "$LATEST's warm environment ran it"
    );
}

/// Invokes `name` once: the SDK's retries of a ServiceException would hide the answer.
async fn invoke_once(
    client: Client,
    name: String,
) -> Result<
    aws_sdk_lambda::operation::invoke::InvokeOutput,
    aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::invoke::InvokeError>,
> {
    client
        .invoke()
        .function_name(name)
        .customize()
        .config_override(
            aws_sdk_lambda::Config::builder()
                .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled()),
        )
        .send()
        .await
}

/// An emulator whose environments' agents start `delay_secs` late, as a pod does while its image is pulled,
/// environments allowed `start_timeout` to start, and a node function with `timeout` there; with the agent
/// program, and the file where it writes its pid.
async fn slow_start(
    delay_secs: u32,
    start_timeout: Duration,
    timeout: i32,
) -> (TestEmulator, String, std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let pid_file = std::env::temp_dir().join(unique("slow-agent-pid"));
    let script = std::env::temp_dir().join(unique("slow-agent"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ > '{}'\nsleep {delay_secs}\nexec '{}' \"$@\"\n",
            pid_file.display(),
            env!("CARGO_BIN_EXE_dynastream")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut settings = dynastream::server::Settings::default();
    settings.lambda.agent_program = Some(script.clone());
    settings.lambda.environments.start_timeout = start_timeout;
    let emulator = TestEmulator::start_with(settings).await;
    let name = unique("slow-start");
    create(
        &emulator.lambda(),
        &name,
        Runtime::Nodejs20x,
        "index.handler",
        &[("index.js", "exports.handler = async () => ({ ok: true });")],
        timeout,
    )
    .await;
    (emulator, name, script, pid_file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_slow_to_start_does_not_spend_the_function_timeout() {
    // Longer than the function's timeout and the runtime's 10 s init together.
    let (emulator, name, script, pid_file) = slow_start(17, Duration::from_secs(300), 1).await;
    let output = invoke(&emulator.lambda(), &name, "{}").await;
    assert_eq!(output.function_error(), None, "{:?}", body(&output));
    assert_eq!(body(&output), serde_json::json!({ "ok": true }));
    let _ = std::fs::remove_file(script);
    let _ = std::fs::remove_file(pid_file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_that_does_not_start_in_time_fails_the_invocation_and_is_stopped() {
    let (emulator, name, script, pid_file) = slow_start(120, Duration::from_secs(2), 3).await;
    let err = invoke_once(emulator.lambda(), name.clone())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_service_exception(), "{err:?}");
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(&err),
        Some(format!("the execution environment of {name} did not start within 2 seconds").as_str())
    );
    // The environment's process (still in its start-up) was stopped with it.
    let pid = std::fs::read_to_string(&pid_file).expect("the agent program ran and wrote its pid");
    let proc = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!proc.exists(), "the slow agent {} still runs", pid.trim());
    let _ = std::fs::remove_file(script);
    let _ = std::fs::remove_file(pid_file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_waiting_for_its_environment_ends_when_the_emulator_stops() {
    let (emulator, name, script, pid_file) = slow_start(120, Duration::from_secs(300), 3).await;
    let call = tokio::spawn(invoke_once(emulator.lambda(), name.clone()));
    // The agent program started: the invocation now waits for its environment.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pid_file.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(pid_file.exists(), "the agent program never started");
    drop(emulator);
    let err = call.await.unwrap().unwrap_err().into_service_error();
    assert!(err.is_service_exception(), "{err:?}");
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::message(&err),
        Some(format!("the execution environment of {name} stopped before it took the invocation").as_str())
    );
    let _ = std::fs::remove_file(script);
    let _ = std::fs::remove_file(pid_file);
}
