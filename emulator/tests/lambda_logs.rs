//! The log an invocation returns (`LogType: Tail`) holds exactly the output of that invocation, even when the
//! handler prints a lot right before it returns: nothing is left for the next invocation's log.

mod common;

use aws_sdk_lambda::{
    Client,
    primitives::Blob,
    types::{LogType, Runtime},
};
use base64::Engine;
use common::{TestEmulator, create_function, unique};

const PYTHON: &str = r#"
def handler(event, context):
    for i in range(event['lines']):
        print('@@%s@@ %d' % (event['tag'], i))
    return event['tag']
"#;

const NODE: &str = r#"
exports.handler = async (event) => {
  for (let i = 0; i < event.lines; i++) console.log(`@@${event.tag}@@ ${i}`);
  return event.tag;
};
"#;

/// Invokes in turn with `many` and with one output line, with and without the log tail; each tail must hold
/// the last line its invocation printed and no line of another invocation.
async fn check_boundaries(client: &Client, name: &str, many: usize) {
    for round in 0..12 {
        let tag = format!("inv{round}");
        let lines = if round % 2 == 0 { many } else { 1 };
        // Every third invocation asks for no log: its output must not reach the next one's either.
        let tail = round % 3 != 2;
        let payload = serde_json::json!({ "tag": tag, "lines": lines }).to_string();
        let mut invoke = client
            .invoke()
            .function_name(name)
            .payload(Blob::new(payload.into_bytes()));
        if tail {
            invoke = invoke.log_type(LogType::Tail);
        }
        let output = invoke.send().await.unwrap();
        assert!(output.function_error().is_none(), "{name} {tag}");
        if !tail {
            continue;
        }
        let log = base64::engine::general_purpose::STANDARD
            .decode(output.log_result().unwrap())
            .unwrap();
        let log = String::from_utf8_lossy(&log);
        let own = format!("@@{tag}@@");
        for line in log.lines().filter(|l| l.contains("@@inv")) {
            assert!(
                line.contains(&own),
                "{name}: {tag}'s log holds another's line {line:?}:\n{log}"
            );
        }
        let last = format!("{own} {}", lines - 1);
        let end = log.find("END RequestId: ").expect(&log);
        assert!(
            log[..end].lines().any(|l| l.ends_with(&last)),
            "{name}: {tag}'s last line is missing:\n{log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_log_holds_exactly_its_invocations_output() {
    let emulator = TestEmulator::start().await;
    let client = emulator.lambda();
    let python = unique("logs-py");
    create_function(
        &client,
        &python,
        Runtime::Python312,
        "handler.handler",
        &[("handler.py", PYTHON)],
    )
    .timeout(10)
    .send()
    .await
    .unwrap();
    let node = unique("logs-node");
    create_function(
        &client,
        &node,
        Runtime::Nodejs20x,
        "index.handler",
        &[("index.js", NODE)],
    )
    .timeout(10)
    .send()
    .await
    .unwrap();
    // More than the pipe holds (64 KB): Python waits for room as it writes; Node queues the rest, and its
    // bootstrap writes the queue out before posting the result.
    check_boundaries(&client, &python, 2000).await;
    check_boundaries(&client, &node, 2000).await;
}
