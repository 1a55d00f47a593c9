//! The DynamoDB Streams guide, word for word: `examples/bark/cli/guide.sh` run with `awslocal` (PyPI `awscli-local`
//! over the AWS CLI v2) against a freshly started emulator, checking each step's answer.

mod common;

use std::{path::PathBuf, process::Command};

use common::TestEmulator;

/// The `awslocal` that `.ci/install-test-deps` installs, in an environment without the v1 CLI.
fn awslocal_bin() -> Result<PathBuf, String> {
    let cache = std::env::var("DYNASTREAM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/dynastream")
        });
    let bin = cache.join("awslocal/bin");
    if bin.join("awslocal").exists() {
        Ok(bin)
    } else {
        Err(format!(
            "awslocal is not installed in {} (run .ci/install-test-deps)",
            bin.display()
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_runs_word_for_word_with_awslocal() {
    let bin = match (awslocal_bin(), common::aws_cli_v2()) {
        (Ok(bin), Ok(_)) => bin,
        (Err(reason), _) | (_, Err(reason)) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}");
            eprintln!("SKIPPED: {reason}");
            return;
        }
    };
    let emulator = TestEmulator::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bark/cli/guide.sh");
    let endpoint = emulator.endpoint();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg(script)
            .env_clear()
            // awslocal calls the `aws` on PATH: the v2 CLI in /usr/bin, never a v1 CLI.
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", endpoint)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "guide.sh failed:\n{stdout}\n{stderr}");
    for expected in [
        "\"LatestStreamArn\": \"arn:aws:dynamodb:us-east-1:000000000000:table/BarkTable/stream/",
        "\"StreamViewType\": \"NEW_AND_OLD_IMAGES\"",
        "\"FunctionArn\": \"arn:aws:lambda:us-east-1:000000000000:function:publishNewBark\"",
        "\"Runtime\": \"nodejs16.x\"",
        "\"StatusCode\": 200",
        "output.txt: \"Successfully processed 1 records.\"",
        "\"FunctionResponseTypes\": []",
        "\"EventSourceArn\": \"arn:aws:dynamodb:us-east-1:000000000000:table/BarkTable/stream/",
        "\"LastProcessingResult\": \"OK\"",
        "\"TableName\": \"BarkTable\"",
        "\"StreamStatus\": \"ENABLED\"",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
}
