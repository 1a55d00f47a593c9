//! The bundled node and python bootstraps, driven as the agent drives them: the real Runtime API server
//! (`runtime_api::serve`), the real `node` / `python3` running the embedded bootstrap with the Lambda environment
//! variables, handler files in a task folder, and invocations through `RuntimeHandle::invoke`.
//!
//! The SDK tests install aws-sdk v2, the v3 clients and boto3 from the registries into a cache under the target
//! folder (kept between runs, so only the first run downloads).

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use dynastream::lambda::{
    runtime_api::{self, Invocation, Outcome, RuntimeHandle},
    runtimes::{self, RuntimeFamily, Sdk},
};
use serde_json::{Value, json};

const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";
const TRACE: &str = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";

/// A bootstrap process serving one function, its task folder, and its captured stdout; all removed on drop.
struct Sandbox {
    root: PathBuf,
    handle: RuntimeHandle,
    server: tokio::task::JoinHandle<()>,
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
}

struct Function<'a> {
    runtime: &'a str,
    handler: &'a str,
    files: &'a [(&'a str, &'a str)],
    env: Vec<(String, String)>,
}

impl<'a> Function<'a> {
    fn new(runtime: &'a str, handler: &'a str, files: &'a [(&'a str, &'a str)]) -> Self {
        Self {
            runtime,
            handler,
            files,
            env: Vec::new(),
        }
    }

    fn env(mut self, vars: Vec<(String, String)>) -> Self {
        self.env.extend(vars);
        self
    }

    async fn start(self) -> Sandbox {
        let root =
            std::env::temp_dir().join(format!("dynastream-bootstraps-{}", uuid::Uuid::new_v4().simple()));
        let task = root.join("task");
        for (name, contents) in self.files {
            let path = task.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        std::fs::create_dir_all(&task).unwrap();

        let (addr, handle, server) = runtime_api::serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let family = RuntimeFamily::from_runtime(self.runtime).unwrap();
        let (program, args) = runtimes::bootstrap_command(family, &root.join("scratch")).unwrap();
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(&task)
            .env_remove("NODE_PATH")
            .env_remove("PYTHONPATH")
            .env_remove("NODE_OPTIONS")
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("_HANDLER", self.handler)
            .env("LAMBDA_TASK_ROOT", &task)
            .env("LAMBDA_RUNTIME_DIR", root.join("scratch"))
            .env("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", self.runtime))
            .env("AWS_LAMBDA_FUNCTION_NAME", "f")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/f")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/24/[$LATEST]0123456789abcdef0123456789abcdef",
            )
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("TZ", ":UTC")
            .envs(self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = stdout.clone();
        let pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                eprintln!("handler | {line}");
                lines.lock().unwrap().push(line);
            }
        });
        Sandbox {
            root,
            handle,
            server,
            child,
            stdout,
        }
    }
}

impl Sandbox {
    async fn invoke(&self, event: Value) -> (String, Outcome) {
        self.invoke_with(event, |_| {}).await
    }

    async fn invoke_with(&self, event: Value, adjust: impl FnOnce(&mut Invocation)) -> (String, Outcome) {
        let request_id = uuid::Uuid::new_v4().to_string();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        let mut invocation = Invocation {
            request_id: request_id.clone(),
            payload: Bytes::from(event.to_string()),
            deadline_ms: now + 30_000,
            invoked_function_arn: ARN.to_owned(),
            trace_id: Some(TRACE.to_owned()),
            client_context: None,
            cognito_identity: None,
        };
        adjust(&mut invocation);
        let outcome = tokio::time::timeout(Duration::from_secs(30), self.handle.invoke(invocation))
            .await
            .expect("the runtime answers within 30 s")
            .expect("the runtime is still there");
        (request_id, outcome)
    }

    /// The invocation's response as JSON.
    async fn respond(&self, event: Value) -> Value {
        match self.invoke(event).await.1 {
            Outcome::Response(body) => serde_json::from_slice(&body).unwrap(),
            other => panic!("expected a response, got {other:?}"),
        }
    }

    /// The init error's type header and JSON body.
    async fn init_error(&self) -> (Option<String>, Value) {
        match self.invoke(json!({})).await.1 {
            Outcome::InitError { error_type, body } => (error_type, serde_json::from_slice(&body).unwrap()),
            other => panic!("expected an init error, got {other:?}"),
        }
    }

    /// Waits (up to 10 s) for a stdout line containing `needle`.
    async fn log_line(&self, needle: &str) -> String {
        for _ in 0..200 {
            if let Some(line) = self
                .stdout
                .lock()
                .unwrap()
                .iter()
                .find(|line| line.contains(needle))
            {
                return line.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no log line containing {needle:?} in {:?}",
            self.stdout.lock().unwrap()
        );
    }

    fn task(&self) -> PathBuf {
        self.root.join("task")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn error_outcome(outcome: Outcome) -> (Option<String>, Value) {
    match outcome {
        Outcome::Error { error_type, body } => (error_type, serde_json::from_slice(&body).unwrap()),
        other => panic!("expected a function error, got {other:?}"),
    }
}

// ------------------------------------------------------------------------------------------------------------
// node

#[tokio::test]
async fn node_commonjs_callback_handler_answers_and_keeps_serving() {
    let files = [(
        "index.js",
        "exports.handler = function (event, context, callback) { callback(null, { echo: event }); };",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    assert_eq!(sandbox.respond(json!({"a": 1})).await, json!({"echo": {"a": 1}}));
    assert_eq!(sandbox.respond(json!({"a": 2})).await, json!({"echo": {"a": 2}}));
}

#[tokio::test]
async fn node_callback_waits_for_the_event_loop_unless_told_not_to() {
    // The result is serialised when it is posted, so a timer that fires before posting shows in the response.
    let files = [(
        "index.js",
        r#"exports.handler = (event, context, callback) => {
            if (event.noWait) context.callbackWaitsForEmptyEventLoop = false;
            const result = { timerFired: false };
            setTimeout(() => { result.timerFired = true; }, 100);
            callback(null, result);
        };"#,
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    assert_eq!(sandbox.respond(json!({})).await, json!({"timerFired": true}));
    assert_eq!(
        sandbox.respond(json!({"noWait": true})).await,
        json!({"timerFired": false})
    );
}

#[tokio::test]
async fn node_callback_first_call_wins() {
    let files = [(
        "index.js",
        r#"exports.handler = (event, context, callback) => { callback(null, 'first'); callback(null, 'second'); context.succeed('third'); };"#,
    )];
    let sandbox = Function::new("nodejs16.x", "index.handler", &files).start().await;
    assert_eq!(sandbox.respond(json!({})).await, json!("first"));
}

#[tokio::test]
async fn node_async_handler_resolves_to_the_response_and_undefined_to_null() {
    let files = [(
        "index.js",
        r#"exports.handler = async (event) => { await new Promise((r) => setTimeout(r, 10)); return event.empty ? undefined : { ok: true }; };"#,
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    assert_eq!(sandbox.respond(json!({})).await, json!({"ok": true}));
    match sandbox.invoke(json!({"empty": true})).await.1 {
        Outcome::Response(body) => assert_eq!(body, Bytes::from_static(b"null")),
        other => panic!("expected a response, got {other:?}"),
    }
}

#[tokio::test]
async fn node_es_module_mjs_handler_is_imported() {
    let files = [(
        "index.mjs",
        "export const handler = async (event) => ({ esm: import.meta.url.endsWith('/index.mjs'), event });",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    assert_eq!(sandbox.respond(json!(7)).await, json!({"esm": true, "event": 7}));
}

#[tokio::test]
async fn node_js_file_under_type_module_package_is_an_es_module() {
    let files = [
        ("package.json", r#"{"type": "module"}"#),
        (
            "app.js",
            "export async function handler() { return typeof require === 'undefined' ? 'esm' : 'cjs'; }",
        ),
    ];
    let sandbox = Function::new("nodejs18.x", "app.handler", &files).start().await;
    assert_eq!(sandbox.respond(json!({})).await, json!("esm"));
}

#[tokio::test]
async fn node_cjs_file_is_required() {
    let files = [(
        "index.cjs",
        "module.exports.handler = async () => typeof require;",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    assert_eq!(sandbox.respond(json!({})).await, json!("function"));
}

#[tokio::test]
async fn node_handler_in_a_folder_with_a_nested_export_path() {
    // `lib/helper` resolves from the task root, which ends AWS's NODE_PATH.
    let files = [
        (
            "src/handlers/app.js",
            "const helper = require('lib/helper'); module.exports = { api: { v1: { get: async () => ({ where: __filename, helper }) } } };",
        ),
        ("lib/helper.js", "module.exports = 'helped';"),
    ];
    let sandbox = Function::new("nodejs20.x", "src/handlers/app.api.v1.get", &files)
        .start()
        .await;
    let response = sandbox.respond(json!({})).await;
    let expected = sandbox.task().join("src/handlers/app.js");
    assert_eq!(response["where"], json!(expected.to_string_lossy()));
    assert_eq!(response["helper"], "helped");
}

#[tokio::test]
async fn node_thrown_error_is_reported_with_type_message_and_trace() {
    let files = [(
        "index.js",
        "exports.handler = async () => { throw new TypeError('bad thing'); };",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (request_id, outcome) = sandbox.invoke(json!({})).await;
    let (error_type, body) = error_outcome(outcome);
    assert_eq!(error_type.as_deref(), Some("TypeError"));
    assert_eq!(body["errorType"], "TypeError");
    assert_eq!(body["errorMessage"], "bad thing");
    let trace = body["trace"].as_array().unwrap();
    assert_eq!(trace[0], "TypeError: bad thing");
    assert!(trace[1].as_str().unwrap().contains("index.js"), "{trace:?}");
    assert!(body.get("stackTrace").is_none());
    let line = sandbox.log_line("Invoke Error").await;
    assert!(
        line.contains(&format!(
            "\t{request_id}\tERROR\tInvoke Error \t{{\"errorType\":\"TypeError\""
        )),
        "{line}"
    );
}

#[tokio::test]
async fn node_thrown_string_and_callback_string_are_string_errors() {
    let files = [(
        "index.js",
        r#"exports.handler = (event, context, callback) => { if (event.callback) { callback("x"); } else { throw "x"; } };"#,
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    for event in [json!({}), json!({"callback": true})] {
        let (error_type, body) = error_outcome(sandbox.invoke(event).await.1);
        assert_eq!(error_type.as_deref(), Some("string"));
        assert_eq!(
            body,
            json!({"errorType": "string", "errorMessage": "x", "trace": []})
        );
    }
}

#[tokio::test]
async fn node_missing_module_is_an_import_module_init_error() {
    let sandbox = Function::new("nodejs20.x", "app.handler", &[]).start().await;
    let (error_type, body) = sandbox.init_error().await;
    assert_eq!(error_type.as_deref(), Some("Runtime.ImportModuleError"));
    assert_eq!(body["errorType"], "Runtime.ImportModuleError");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with("Error: Cannot find module 'app'\nRequire stack:\n- "),
        "{message}"
    );
    assert!(
        body["trace"][0]
            .as_str()
            .unwrap()
            .starts_with("Runtime.ImportModuleError: Error: Cannot find module 'app'"),
        "{body}"
    );
    // The init error answers every invocation, as on AWS.
    assert!(matches!(
        sandbox.invoke(json!({})).await.1,
        Outcome::InitError { .. }
    ));
    sandbox
        .log_line("\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\"")
        .await;
}

#[tokio::test]
async fn node_missing_dependency_names_the_dependency() {
    let files = [(
        "index.js",
        "const AWS = require('aws-sdk'); exports.handler = async () => 1;",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (_, body) = sandbox.init_error().await;
    assert_eq!(body["errorType"], "Runtime.ImportModuleError");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Error: Cannot find module 'aws-sdk'\nRequire stack:\n- ")
    );
}

#[tokio::test]
async fn node_missing_or_non_function_handler_is_handler_not_found() {
    let files = [("index.js", "exports.other = async () => 1; exports.value = 5;")];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (error_type, body) = sandbox.init_error().await;
    assert_eq!(error_type.as_deref(), Some("Runtime.HandlerNotFound"));
    assert_eq!(body["errorMessage"], "index.handler is undefined or not exported");

    let sandbox = Function::new("nodejs20.x", "index.value", &files).start().await;
    let (_, body) = sandbox.init_error().await;
    assert_eq!(body["errorType"], "Runtime.HandlerNotFound");
    assert_eq!(body["errorMessage"], "index.value is not a function");
}

#[tokio::test]
async fn node_malformed_handler_names_are_rejected() {
    let files = [("index.js", "exports.handler = async () => 1;")];
    let sandbox = Function::new("nodejs20.x", "index", &files).start().await;
    let (error_type, body) = sandbox.init_error().await;
    assert_eq!(error_type.as_deref(), Some("Runtime.MalformedHandlerName"));
    assert_eq!(body["errorMessage"], "Bad handler");

    let sandbox = Function::new("nodejs20.x", "../task/index.handler", &files)
        .start()
        .await;
    let (_, body) = sandbox.init_error().await;
    assert_eq!(body["errorType"], "Runtime.MalformedHandlerName");
    assert_eq!(
        body["errorMessage"],
        "'../task/index.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names."
    );
}

#[tokio::test]
async fn node_syntax_error_is_a_user_code_syntax_error() {
    let files = [("index.js", "exports.handler = async () => { return 1 +; };")];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (error_type, body) = sandbox.init_error().await;
    assert_eq!(error_type.as_deref(), Some("Runtime.UserCodeSyntaxError"));
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("SyntaxError: Unexpected token"),
        "{body}"
    );
}

#[tokio::test]
async fn node_context_carries_the_invocation_and_function_details() {
    let files = [(
        "index.js",
        r#"exports.handler = (event, context, callback) => {
            callback(null, {
                awsRequestId: context.awsRequestId,
                functionName: context.functionName,
                functionVersion: context.functionVersion,
                memoryLimitInMB: context.memoryLimitInMB,
                logGroupName: context.logGroupName,
                logStreamName: context.logStreamName,
                invokedFunctionArn: context.invokedFunctionArn,
                clientContext: context.clientContext === undefined ? 'undefined' : context.clientContext,
                identity: context.identity === undefined ? 'undefined' : context.identity,
                remaining: context.getRemainingTimeInMillis(),
                waits: context.callbackWaitsForEmptyEventLoop,
                legacy: [typeof context.done, typeof context.succeed, typeof context.fail],
                traceId: process.env._X_AMZN_TRACE_ID === undefined ? 'unset' : process.env._X_AMZN_TRACE_ID,
                gc: typeof global.gc,
            });
        };"#,
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (request_id, outcome) = sandbox
        .invoke_with(json!({}), |invocation| {
            invocation.client_context = Some(r#"{"custom":{"k":"v"},"env":{},"client":{}}"#.to_owned());
            invocation.cognito_identity =
                Some(r#"{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}"#.to_owned());
        })
        .await;
    let Outcome::Response(body) = outcome else {
        panic!("expected a response, got {outcome:?}")
    };
    let context: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(context["awsRequestId"], json!(request_id));
    assert_eq!(context["functionName"], "f");
    assert_eq!(context["functionVersion"], "$LATEST");
    assert_eq!(context["memoryLimitInMB"], "128");
    assert_eq!(context["logGroupName"], "/aws/lambda/f");
    assert_eq!(
        context["logStreamName"],
        "2026/11/24/[$LATEST]0123456789abcdef0123456789abcdef"
    );
    assert_eq!(context["invokedFunctionArn"], ARN);
    assert_eq!(
        context["clientContext"],
        json!({"custom": {"k": "v"}, "env": {}, "client": {}})
    );
    assert_eq!(
        context["identity"],
        json!({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"})
    );
    let remaining = context["remaining"].as_i64().unwrap();
    assert!(remaining > 20_000 && remaining <= 30_000, "{remaining}");
    assert_eq!(context["waits"], true);
    assert_eq!(context["legacy"], json!(["function", "function", "function"]));
    assert_eq!(context["traceId"], TRACE);
    assert_eq!(context["gc"], "function");

    // Without the optional headers the context members are undefined and the trace variable is unset.
    let (_, outcome) = sandbox
        .invoke_with(json!({}), |invocation| invocation.trace_id = None)
        .await;
    let Outcome::Response(body) = outcome else {
        panic!("expected a response, got {outcome:?}")
    };
    let context: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(context["clientContext"], "undefined");
    assert_eq!(context["identity"], "undefined");
    assert_eq!(context["traceId"], "unset");
}

#[tokio::test]
async fn node_console_writes_aws_log_records() {
    let files = [(
        "index.js",
        r#"console.log('at init');
        exports.handler = async () => { console.log('hello\nworld', 42); console.warn('careful'); console.error({ a: 1 }); return 1; };"#,
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (request_id, _) = sandbox.invoke(json!({})).await;
    let init = sandbox.log_line("at init").await;
    assert!(init.ends_with("\tundefined\tINFO\tat init"), "{init}");
    let hello = sandbox.log_line("hello").await;
    let (time, rest) = hello.split_once('\t').unwrap();
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.contains('T'),
        "{hello}"
    );
    assert_eq!(rest, format!("{request_id}\tINFO\thello\rworld 42"));
    assert!(
        sandbox
            .log_line("careful")
            .await
            .ends_with(&format!("\t{request_id}\tWARN\tcareful"))
    );
    assert!(
        sandbox
            .log_line("{ a: 1 }")
            .await
            .ends_with(&format!("\t{request_id}\tERROR\t{{ a: 1 }}"))
    );
}

#[tokio::test]
async fn node_never_settled_async_handler_is_a_node_exit_error() {
    let files = [("index.js", "exports.handler = async () => new Promise(() => {});")];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (error_type, body) = error_outcome(sandbox.invoke(json!({})).await.1);
    assert_eq!(error_type.as_deref(), Some("Runtime.NodeJsExit"));
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("The Lambda runtime client detected an unexpected Node.js exit code.")
    );
}

#[tokio::test]
async fn node_unserialisable_result_is_an_error() {
    let files = [(
        "index.js",
        "exports.handler = async () => { const a = {}; a.self = a; return a; };",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (_, body) = error_outcome(sandbox.invoke(json!({})).await.1);
    assert_eq!(body["errorType"], "Error");
    assert_eq!(body["errorMessage"], "Unable to stringify response body");
}

#[tokio::test]
async fn node_unhandled_rejection_and_uncaught_exception_fail_the_invocation_and_end_the_process() {
    let files = [(
        "index.js",
        r#"exports.handler = async (event) => {
            if (event.reject) { Promise.reject(new Error('later')); }
            else { setTimeout(() => { throw new RangeError('in a timer'); }, 0); }
            await new Promise((resolve) => setTimeout(resolve, 500));
            return 'too late';
        };"#,
    )];
    let mut sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (error_type, body) = error_outcome(sandbox.invoke(json!({"reject": true})).await.1);
    assert_eq!(error_type.as_deref(), Some("Runtime.UnhandledPromiseRejection"));
    assert_eq!(body["errorType"], "Runtime.UnhandledPromiseRejection");
    assert_eq!(body["errorMessage"], "Error: later");
    assert_eq!(sandbox.child.wait().unwrap().code(), Some(128));

    let mut sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    let (error_type, body) = error_outcome(sandbox.invoke(json!({})).await.1);
    assert_eq!(error_type.as_deref(), Some("RangeError"));
    assert_eq!(body["errorMessage"], "in a timer");
    assert_eq!(sandbox.child.wait().unwrap().code(), Some(129));
}

#[tokio::test]
async fn node_json_log_format_writes_json_records() {
    let files = [(
        "index.js",
        "exports.handler = async () => { console.info('hello', 1); return 1; };",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files)
        .env(vec![("AWS_LAMBDA_LOG_FORMAT".to_owned(), "JSON".to_owned())])
        .start()
        .await;
    let (request_id, _) = sandbox.invoke(json!({})).await;
    let record: Value = serde_json::from_str(&sandbox.log_line("hello").await).unwrap();
    assert_eq!(record["level"], "INFO");
    assert_eq!(record["requestId"], json!(request_id));
    assert_eq!(record["message"], "hello 1");
}

#[tokio::test]
async fn node_24_refuses_callback_handlers() {
    let files = [(
        "index.js",
        "exports.handler = (event, context, callback) => callback(null, 1);",
    )];
    let sandbox = Function::new("nodejs24.x", "index.handler", &files).start().await;
    let (error_type, body) = sandbox.init_error().await;
    assert_eq!(error_type.as_deref(), Some("Runtime.CallbackHandlerDeprecated"));
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("ERROR: AWS Lambda has removed support for callback-based function handlers")
    );
}

#[tokio::test]
async fn node_streaming_handler_answers_with_the_streamed_bytes() {
    let files = [(
        "index.mjs",
        r#"export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
            responseStream.write('hello ');
            responseStream.write('stream');
            responseStream.end();
        });"#,
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files).start().await;
    match sandbox.invoke(json!({})).await.1 {
        Outcome::Response(body) => assert_eq!(body, Bytes::from_static(b"hello stream")),
        other => panic!("expected a response, got {other:?}"),
    }
}

// ------------------------------------------------------------------------------------------------------------
// python

#[tokio::test]
async fn python_handler_in_a_package_answers() {
    let files = [
        ("pkg/__init__.py", ""),
        (
            "pkg/app.py",
            "import sys\ndef handler(event, context):\n    return {'echo': event, 'first_path': sys.path[0]}\n",
        ),
    ];
    let sandbox = Function::new("python3.11", "pkg.app.handler", &files)
        .start()
        .await;
    let response = sandbox.respond(json!({"a": 1})).await;
    assert_eq!(response["echo"], json!({"a": 1}));
    assert_eq!(response["first_path"], json!(sandbox.task().to_string_lossy()));
    assert_eq!(sandbox.respond(json!({"a": 2})).await["echo"], json!({"a": 2}));
}

#[tokio::test]
async fn python_slash_handler_path_names_a_module_in_a_folder() {
    let files = [(
        "src/app.py",
        "def handler(event, context):\n    return __name__\n",
    )];
    let sandbox = Function::new("python3.12", "src/app.handler", &files)
        .start()
        .await;
    assert_eq!(sandbox.respond(json!({})).await, json!("src.app"));
}

#[tokio::test]
async fn python_exception_is_reported_with_request_id_and_user_frames() {
    let files = [(
        "app.py",
        "def handler(event, context):\n    helper()\n\ndef helper():\n    raise ValueError('boom')\n",
    )];
    let sandbox = Function::new("python3.11", "app.handler", &files).start().await;
    let (request_id, outcome) = sandbox.invoke(json!({})).await;
    let (error_type, body) = error_outcome(outcome);
    assert_eq!(error_type.as_deref(), Some("ValueError"));
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["errorMessage", "errorType", "requestId", "stackTrace"]);
    assert_eq!(body["errorMessage"], "boom");
    assert_eq!(body["errorType"], "ValueError");
    assert_eq!(body["requestId"], json!(request_id));
    let app = sandbox.task().join("app.py");
    assert_eq!(
        body["stackTrace"],
        json!([
            format!("  File \"{}\", line 2, in handler\n    helper()\n", app.display()),
            format!(
                "  File \"{}\", line 5, in helper\n    raise ValueError('boom')\n",
                app.display()
            ),
        ])
    );
    let line = sandbox.log_line("[ERROR] ValueError: boom").await;
    assert!(
        line.starts_with("[ERROR] ValueError: boom\rTraceback (most recent call last):\r\u{a0}\u{a0}File"),
        "{line:?}"
    );
}

#[tokio::test]
async fn python_missing_module_is_an_import_module_init_error() {
    let sandbox = Function::new("python3.11", "app.handler", &[]).start().await;
    let (error_type, body) = sandbox.init_error().await;
    assert_eq!(error_type.as_deref(), Some("Runtime.ImportModuleError"));
    assert_eq!(
        body,
        json!({
            "errorMessage": "Unable to import module 'app': No module named 'app'",
            "errorType": "Runtime.ImportModuleError",
            "requestId": "",
            "stackTrace": [],
        })
    );
    sandbox
        .log_line("[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'app'\rTraceback")
        .await;
}

#[tokio::test]
async fn python_missing_dependency_names_the_dependency() {
    let files = [(
        "app.py",
        "import requests_that_do_not_exist\ndef handler(e, c):\n    return 1\n",
    )];
    let sandbox = Function::new("python3.11", "app.handler", &files).start().await;
    let (_, body) = sandbox.init_error().await;
    assert_eq!(
        body["errorMessage"],
        "Unable to import module 'app': No module named 'requests_that_do_not_exist'"
    );
}

#[tokio::test]
async fn python_handler_problems_have_aws_texts() {
    let files = [
        ("app.py", "x = 1\n"),
        ("bad.py", "def handler(e, c)\n    return 1\n"),
    ];
    let cases = [
        (
            "app.handler",
            "Runtime.HandlerNotFound",
            "Handler 'handler' missing on module 'app'",
        ),
        (
            "app",
            "Runtime.MalformedHandlerName",
            "Bad handler 'app': not enough values to unpack (expected 2, got 1)",
        ),
        (
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
    ];
    for (handler, error_type, message) in cases {
        let sandbox = Function::new("python3.11", handler, &files).start().await;
        let (header, body) = sandbox.init_error().await;
        assert_eq!(header.as_deref(), Some(error_type));
        assert_eq!(body["errorType"], error_type);
        assert_eq!(body["errorMessage"], message);
    }
    let sandbox = Function::new("python3.11", "bad.handler", &files).start().await;
    let (_, body) = sandbox.init_error().await;
    assert_eq!(body["errorType"], "Runtime.UserCodeSyntaxError");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.starts_with("Syntax error in module 'bad': "), "{message}");
    assert!(message.contains("(bad.py, line 1)"), "{message}");
}

#[tokio::test]
async fn python_context_carries_the_invocation_and_function_details() {
    let files = [(
        "app.py",
        r#"import os
def handler(event, context):
    cc = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "invoked_function_arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": None if cc is None else {"custom": cc.custom, "app_title": cc.client.app_title},
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
    }
"#,
    )];
    let sandbox = Function::new("python3.11", "app.handler", &files).start().await;
    let (request_id, outcome) = sandbox
        .invoke_with(json!({}), |invocation| {
            invocation.client_context = Some(r#"{"custom":{"k":"v"},"client":{"app_title":"t"}}"#.to_owned());
            invocation.cognito_identity =
                Some(r#"{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}"#.to_owned());
        })
        .await;
    let Outcome::Response(body) = outcome else {
        panic!("expected a response, got {outcome:?}")
    };
    let context: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(context["aws_request_id"], json!(request_id));
    assert_eq!(context["function_name"], "f");
    assert_eq!(context["function_version"], "$LATEST");
    assert_eq!(context["memory_limit_in_mb"], "128");
    assert_eq!(context["log_group_name"], "/aws/lambda/f");
    assert_eq!(context["invoked_function_arn"], ARN);
    let remaining = context["remaining"].as_i64().unwrap();
    assert!(remaining > 20_000 && remaining <= 30_000, "{remaining}");
    assert_eq!(context["identity"], json!(["id-1", "pool-1"]));
    assert_eq!(
        context["client_context"],
        json!({"custom": {"k": "v"}, "app_title": "t"})
    );
    assert_eq!(context["trace"], TRACE);

    let (_, outcome) = sandbox
        .invoke_with(json!({}), |invocation| invocation.trace_id = None)
        .await;
    let Outcome::Response(body) = outcome else {
        panic!("expected a response, got {outcome:?}")
    };
    let context: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(context["identity"], json!([null, null]));
    assert_eq!(context["client_context"], Value::Null);
    assert_eq!(context["trace"], Value::Null);
}

#[tokio::test]
async fn python_logging_uses_aws_format_and_print_is_unchanged() {
    let files = [(
        "app.py",
        "import logging\nlogger = logging.getLogger()\n\ndef handler(event, context):\n    logger.info('not shown at the default level')\n    logger.warning('careful')\n    logger.setLevel(logging.INFO)\n    logger.info('now shown')\n    print('plain print')\n    return 1\n",
    )];
    let sandbox = Function::new("python3.11", "app.handler", &files).start().await;
    let (request_id, _) = sandbox.invoke(json!({})).await;
    let careful = sandbox.log_line("careful").await;
    let fields: Vec<&str> = careful.split('\t').collect();
    assert_eq!(fields[0], "[WARNING]");
    assert!(fields[1].len() == 24 && fields[1].ends_with('Z'), "{careful}");
    assert_eq!(&fields[2..], [request_id.as_str(), "careful"]);
    assert!(sandbox.log_line("now shown").await.starts_with("[INFO]\t"));
    assert_eq!(sandbox.log_line("plain print").await, "plain print");
    assert!(
        !sandbox
            .stdout
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains("not shown"))
    );
}

#[tokio::test]
async fn python_json_log_format_writes_json_records() {
    let files = [(
        "app.py",
        "import logging\ndef handler(event, context):\n    logging.getLogger('orders').warning('careful %s', 1)\n    return 1\n",
    )];
    let sandbox = Function::new("python3.12", "app.handler", &files)
        .env(vec![("AWS_LAMBDA_LOG_FORMAT".to_owned(), "JSON".to_owned())])
        .start()
        .await;
    let (request_id, _) = sandbox.invoke(json!({})).await;
    let record: Value = serde_json::from_str(&sandbox.log_line("careful").await).unwrap();
    assert_eq!(record["level"], "WARNING");
    assert_eq!(record["message"], "careful 1");
    assert_eq!(record["logger"], "orders");
    assert_eq!(record["requestId"], json!(request_id));
}

#[tokio::test]
async fn python_results_are_json_with_decimals_and_marshal_errors_are_reported() {
    let files = [(
        "app.py",
        "from decimal import Decimal\ndef handler(event, context):\n    if event.get('set'):\n        return {1, 2}\n    return {'price': Decimal('1.10'), 'count': Decimal('3'), 'none': None, 'text': 'h\u{e9}'}\n",
    )];
    let sandbox = Function::new("python3.11", "app.handler", &files).start().await;
    match sandbox.invoke(json!({})).await.1 {
        Outcome::Response(body) => assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"price": 1.10, "count": 3, "none": null, "text": "h\u00e9"}"#
        ),
        other => panic!("expected a response, got {other:?}"),
    }
    let (request_id, outcome) = sandbox.invoke(json!({"set": true})).await;
    let (error_type, body) = error_outcome(outcome);
    assert_eq!(error_type.as_deref(), Some("Runtime.MarshalError"));
    assert_eq!(
        body,
        json!({
            "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        })
    );
}

#[tokio::test]
async fn python_machine_packages_are_not_importable() {
    // On AWS a handler sees its own code, its layers and boto3 only; pip is on every machine but not there.
    let files = [(
        "app.py",
        "def handler(event, context):\n    import pip\n    return 1\n",
    )];
    let sandbox = Function::new("python3.11", "app.handler", &files).start().await;
    let (_, body) = error_outcome(sandbox.invoke(json!({})).await.1);
    assert_eq!(body["errorType"], "ModuleNotFoundError");
}

#[tokio::test]
async fn oversized_responses_become_response_size_too_large_errors() {
    let node = [(
        "index.js",
        "exports.handler = async () => 'x'.repeat(7 * 1024 * 1024);",
    )];
    let python = [(
        "app.py",
        "def handler(event, context):\n    return 'x' * (7 * 1024 * 1024)\n",
    )];
    for (runtime, handler, files) in [
        ("nodejs20.x", "index.handler", &node),
        ("python3.11", "app.handler", &python),
    ] {
        let sandbox = Function::new(runtime, handler, files).start().await;
        let (error_type, body) = error_outcome(sandbox.invoke(json!({})).await.1);
        assert_eq!(
            error_type.as_deref(),
            Some("Function.ResponseSizeTooLarge"),
            "{runtime}"
        );
        assert_eq!(
            body,
            json!({
                "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }),
            "{runtime}"
        );
        // The runtime goes on serving.
        assert!(
            matches!(sandbox.invoke(json!({})).await.1, Outcome::Error { .. }),
            "{runtime}"
        );
    }
}

// ------------------------------------------------------------------------------------------------------------
// SDKs

/// The SDK cache shared by the SDK tests, kept between runs.
fn sdk_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("dynastream-sdk-cache")
}

fn ensure(runtime: &str) -> Sdk {
    let cache = sdk_cache();
    runtimes::ensure_sdk(runtime, &cache, &mut |message| eprintln!("{runtime}: {message}"))
        .unwrap_or_else(|error| panic!("installing the SDK for {runtime} (needs the registries): {error}"))
        .unwrap()
}

#[tokio::test]
async fn aws_sdk_v2_resolves_for_nodejs16() {
    let sdk = tokio::task::spawn_blocking(|| ensure("nodejs16.x"))
        .await
        .unwrap();
    assert_eq!(sdk, Sdk::AwsSdkV2);
    let files = [(
        "index.js",
        "const AWS = require('aws-sdk'); exports.handler = async () => ({ from: require.resolve('aws-sdk'), documentClient: typeof AWS.DynamoDB.DocumentClient });",
    )];
    let sandbox = Function::new("nodejs16.x", "index.handler", &files)
        .env(runtimes::sdk_environment("nodejs16.x", &sdk_cache()))
        .start()
        .await;
    let response = sandbox.respond(json!({})).await;
    assert!(
        response["from"]
            .as_str()
            .unwrap()
            .starts_with(&*sdk_cache().to_string_lossy()),
        "{response}"
    );
    assert_eq!(response["documentClient"], "function");
}

#[tokio::test]
async fn aws_sdk_v3_resolves_for_nodejs20_from_commonjs_and_es_modules() {
    let sdk = tokio::task::spawn_blocking(|| ensure("nodejs20.x"))
        .await
        .unwrap();
    assert_eq!(sdk, Sdk::AwsSdkV3);
    let env = runtimes::sdk_environment("nodejs20.x", &sdk_cache());
    let files = [(
        "index.js",
        "const { DynamoDBClient } = require('@aws-sdk/client-dynamodb'); const { DynamoDBDocumentClient } = require('@aws-sdk/lib-dynamodb'); exports.handler = async () => ({ from: require.resolve('@aws-sdk/client-dynamodb'), client: typeof DynamoDBClient, doc: typeof DynamoDBDocumentClient });",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files)
        .env(env.clone())
        .start()
        .await;
    let response = sandbox.respond(json!({})).await;
    assert!(
        response["from"]
            .as_str()
            .unwrap()
            .starts_with(&*sdk_cache().to_string_lossy()),
        "{response}"
    );
    assert_eq!(response["client"], "function");
    assert_eq!(response["doc"], "function");

    let files = [(
        "index.mjs",
        "import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'; import { unmarshall } from '@aws-sdk/util-dynamodb'; export const handler = async () => ({ client: typeof DynamoDBClient, command: typeof ListTablesCommand, item: unmarshall({ id: { S: 'a' } }) });",
    )];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files)
        .env(env.clone())
        .start()
        .await;
    assert_eq!(
        sandbox.respond(json!({})).await,
        json!({"client": "function", "command": "function", "item": {"id": "a"}})
    );

    // As on AWS, nodejs18.x and newer do not ship aws-sdk v2.
    let files = [("index.js", "require('aws-sdk'); exports.handler = async () => 1;")];
    let sandbox = Function::new("nodejs20.x", "index.handler", &files)
        .env(env)
        .start()
        .await;
    let (_, body) = sandbox.init_error().await;
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Error: Cannot find module 'aws-sdk'"),
        "{body}"
    );
}

#[tokio::test]
async fn boto3_resolves_for_python() {
    let sdk = tokio::task::spawn_blocking(|| ensure("python3.11"))
        .await
        .unwrap();
    assert_eq!(sdk, Sdk::Boto3);
    let files = [(
        "app.py",
        "import boto3\ndef handler(event, context):\n    client = boto3.client('dynamodb', region_name='us-east-1')\n    return {'from': boto3.__file__, 'client': type(client).__name__}\n",
    )];
    let sandbox = Function::new("python3.11", "app.handler", &files)
        .env(runtimes::sdk_environment("python3.11", &sdk_cache()))
        .start()
        .await;
    let response = sandbox.respond(json!({})).await;
    assert!(
        response["from"]
            .as_str()
            .unwrap()
            .starts_with(&*sdk_cache().to_string_lossy()),
        "{response}"
    );
    assert_eq!(response["client"], "DynamoDB");
}

#[test]
fn installing_an_installed_sdk_does_nothing_and_status_reports_it() {
    ensure("python3.11");
    let mut messages = Vec::new();
    runtimes::install_sdk(Sdk::Boto3, &sdk_cache(), &mut |message| {
        messages.push(message.to_owned())
    })
    .unwrap();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("already installed"), "{messages:?}");
    let status = runtimes::sdk_status(&sdk_cache());
    let boto3 = status.iter().find(|status| status.sdk == Sdk::Boto3).unwrap();
    assert!(boto3.installed);
    assert!(
        boto3
            .version
            .as_deref()
            .is_some_and(|version| version.starts_with("1.")),
        "{boto3:?}"
    );
}

#[test]
fn interpreters_of_the_machine_are_usable() {
    assert_eq!(runtimes::interpreter_problem("nodejs20.x"), None);
    assert_eq!(runtimes::interpreter_problem("python3.12"), None);
    let problem = runtimes::interpreter_problem("ruby3.3").unwrap();
    assert!(problem.contains("node and python handlers only"), "{problem}");
}
