//! Warm pools: a function tagged `dynastream:min-warm` = "<N>" keeps N execution environments started ahead of
//! any invocation (local processes here). Each environment's handler module records, when it is loaded at init,
//! its pid and task root in a directory of the test's; an environment is running while its task root exists (the
//! executor removes it once the environment has stopped).

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use aws_sdk_lambda::{
    Client,
    primitives::Blob,
    types::{Environment, FunctionCode, LogType, Runtime},
};
use base64::Engine;
use common::{TestEmulator, unique, zip};

const TAG: &str = "dynastream:min-warm";

/// A handler that records its environment's start in `markers`, and answers its pid and `version`.
fn code(version: &str) -> Vec<u8> {
    zip(&[(
        "index.js",
        &format!(
            "require('fs').writeFileSync(require('path').join(process.env.MARKERS, String(process.pid)), \
             process.env.LAMBDA_TASK_ROOT);\n\
             exports.handler = async () => ({{ pid: process.pid, version: '{version}' }});"
        ),
    )])
}

/// A function whose environments record themselves in a fresh directory, which is returned.
async fn create(client: &Client, name: &str, tags: &[(&str, &str)]) -> PathBuf {
    let markers = std::env::temp_dir().join(unique("warm-markers"));
    std::fs::create_dir_all(&markers).unwrap();
    client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Nodejs20x)
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .handler("index.handler")
        .code(FunctionCode::builder().zip_file(Blob::new(code("v1"))).build())
        .environment(
            Environment::builder()
                .variables("MARKERS", markers.to_string_lossy())
                .build(),
        )
        .set_tags(Some(
            tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ))
        .send()
        .await
        .unwrap();
    markers
}

/// Environments that started (pid to task root).
fn started(markers: &Path) -> BTreeMap<i64, PathBuf> {
    std::fs::read_dir(markers)
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let task_root = std::fs::read_to_string(entry.path()).ok()?;
            Some((pid, PathBuf::from(task_root)))
        })
        .collect()
}

/// Pids of the environments still running.
fn running(markers: &Path) -> Vec<i64> {
    started(markers)
        .into_iter()
        .filter(|(_, task_root)| task_root.exists())
        .map(|(pid, _)| pid)
        .collect()
}

/// Waits up to 20 s for `condition`, then fails with `what`.
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Invokes with `LogType: Tail`: the answer's pid and version, and the log tail.
async fn invoke(client: &Client, name: &str) -> (i64, String, String) {
    let output = client
        .invoke()
        .function_name(name)
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    let log = base64::engine::general_purpose::STANDARD
        .decode(output.log_result().unwrap())
        .unwrap();
    (
        body["pid"].as_i64().unwrap(),
        body["version"].as_str().unwrap().to_owned(),
        String::from_utf8(log).unwrap(),
    )
}

fn arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:000000000000:function:{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_warm_1_starts_an_environment_at_create_and_the_first_invoke_is_not_a_cold_start() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("warm");
    let markers = create(&client, &name, &[(TAG, "1")]).await;
    eventually("one environment starts without an invocation", || {
        running(&markers).len() == 1
    })
    .await;
    let prestarted = running(&markers)[0];
    let (pid, _, log) = invoke(&client, &name).await;
    assert_eq!(
        pid, prestarted,
        "the first invocation ran in the pre-started environment"
    );
    assert!(log.contains("REPORT RequestId: "), "{log}");
    assert!(!log.contains("Init Duration"), "not a cold start: {log}");
    assert_eq!(started(&markers).len(), 1, "no other environment started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_warm_2_starts_two_environments() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("warm");
    let markers = create(&client, &name, &[(TAG, "2")]).await;
    eventually("two environments start", || running(&markers).len() == 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(started(&markers).len(), 2, "and no more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_function_code_replaces_the_warm_environments_with_ones_of_the_new_code() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("warm");
    let markers = create(&client, &name, &[(TAG, "1")]).await;
    eventually("the warm environment starts", || running(&markers).len() == 1).await;
    let old = running(&markers)[0];
    client
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(code("v2")))
        .send()
        .await
        .unwrap();
    eventually("a new environment replaces the old one", || {
        running(&markers).len() == 1 && running(&markers)[0] != old
    })
    .await;
    let replacement = running(&markers)[0];
    let (pid, version, log) = invoke(&client, &name).await;
    assert_eq!((pid, version.as_str()), (replacement, "v2"));
    assert!(!log.contains("Init Duration"), "not a cold start: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_timeout_leaves_the_warm_pool_running_until_the_tag_is_removed() {
    let mut settings = dynastream::server::Settings::default();
    settings.lambda.environments.idle_timeout = Duration::from_millis(300);
    let emulator = TestEmulator::start_with(settings).await;
    let client = emulator.lambda();
    let name = unique("warm");
    let markers = create(&client, &name, &[(TAG, "2")]).await;
    eventually("two environments start", || running(&markers).len() == 2).await;
    let warm = running(&markers);
    invoke(&client, &name).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        running(&markers),
        warm,
        "several idle timeouts later, the pool is intact"
    );

    client
        .untag_resource()
        .resource(arn(&name))
        .tag_keys(TAG)
        .send()
        .await
        .unwrap();
    eventually("without the tag, the idle environments stop", || {
        running(&markers).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(started(&markers).len(), 2, "and none is restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagging_an_existing_function_starts_its_pool_within_reserved_concurrency() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("warm");
    let markers = create(&client, &name, &[]).await;
    client
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(1)
        .send()
        .await
        .unwrap();
    client
        .tag_resource()
        .resource(arn(&name))
        .tags(TAG, "3")
        .send()
        .await
        .unwrap();
    eventually("one environment starts", || running(&markers).len() == 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        started(&markers).len(),
        1,
        "reserved concurrency 1 allows no more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_concurrency_of_zero_or_an_invalid_tag_value_starts_nothing() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let throttled = unique("warm");
    let throttled_markers = create(&client, &throttled, &[]).await;
    client
        .put_function_concurrency()
        .function_name(&throttled)
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    client
        .tag_resource()
        .resource(arn(&throttled))
        .tags(TAG, "1")
        .send()
        .await
        .unwrap();
    let invalid = unique("warm");
    // NB: AWS accepts any tag value, so an invalid one is stored and listed, and counts as 0.
    let invalid_markers = create(&client, &invalid, &[(TAG, "lots")]).await;
    let tags = client.list_tags().resource(arn(&invalid)).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().get(TAG).map(String::as_str), Some("lots"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(started(&throttled_markers).is_empty());
    assert!(started(&invalid_markers).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_function_stops_the_warm_environments() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("warm");
    let markers = create(&client, &name, &[(TAG, "2")]).await;
    eventually("two environments start", || running(&markers).len() == 2).await;
    client
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .unwrap();
    eventually("both stop", || running(&markers).is_empty()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(started(&markers).len(), 2, "and none is restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_warm_environment_is_replaced() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let name = unique("warm");
    let markers = create(&client, &name, &[(TAG, "1")]).await;
    eventually("the warm environment starts", || running(&markers).len() == 1).await;
    let runtime = running(&markers)[0];
    // The runtime's parent is the environment's `dynastream agent`: killing it is a crash of the environment.
    let stat = std::fs::read_to_string(format!("/proc/{runtime}/stat")).unwrap();
    let agent = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    for pid in [agent.as_str(), &runtime.to_string()] {
        std::process::Command::new("kill")
            .args(["-9", pid])
            .status()
            .unwrap();
    }
    eventually("a replacement starts", || {
        running(&markers).len() == 1 && running(&markers)[0] != runtime
    })
    .await;
}
