//! Test helpers: an in-process emulator on an ephemeral port, SDK clients configured for it, unique names, a tiny
//! raw HTTP client for protocol-level checks, the AWS CLI v2, and builders for the tables, items and functions
//! the tests use.
#![allow(dead_code)] // each test file uses a different subset

use std::{
    net::SocketAddr,
    process::{Command, Output},
    sync::atomic::{AtomicU32, Ordering},
};

use aws_sdk_dynamodb::{
    config::{BehaviorVersion, Credentials, Region},
    error::ProvideErrorMetadata,
    operation::create_table::builders::CreateTableFluentBuilder,
    types::{
        AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        StreamSpecification, StreamViewType,
    },
};
use aws_sdk_lambda::{
    operation::create_function::builders::CreateFunctionFluentBuilder,
    primitives::Blob,
    types::{FunctionCode, Runtime},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::oneshot,
};

/// A running emulator, stopped when dropped.
pub struct TestEmulator {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl TestEmulator {
    /// Starts an emulator on `127.0.0.1:0` inside the current tokio runtime.
    pub async fn start() -> Self {
        Self::start_with(dynastream::server::Settings::default()).await
    }

    /// Starts an emulator on `127.0.0.1:0` with `settings` (e.g. a short TTL sweep interval).
    pub async fn start_with(mut settings: dynastream::server::Settings) -> Self {
        // NB: the test binary is not `dynastream`: environments must run the real binary's `agent`.
        if settings.lambda.agent_program.is_none() {
            settings.lambda.agent_program = Some(env!("CARGO_BIN_EXE_dynastream").into());
        }
        let server = dynastream::Server::bind_with("127.0.0.1:0".parse().unwrap(), settings)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A DynamoDB client for region us-east-1 and the test credentials.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        self.dynamodb_in("us-east-1", "test")
    }

    /// A DynamoDB client for another region or access key (account).
    pub fn dynamodb_in(&self, region: &str, access_key: &str) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(region.to_owned()))
            .credentials_provider(Credentials::new(access_key, "test", None, None, "tests"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// A Lambda client for region us-east-1 and the test credentials.
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        self.lambda_in("us-east-1", "test")
    }

    /// A Lambda client for another region or access key (account).
    pub fn lambda_in(&self, region: &str, access_key: &str) -> aws_sdk_lambda::Client {
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_sdk_lambda::config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                access_key, "test", None, None, "tests",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }

    /// A DynamoDB Streams client for region us-east-1 and the test credentials.
    pub fn streams(&self) -> aws_sdk_dynamodbstreams::Client {
        let config = aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_dynamodbstreams::Client::from_conf(config)
    }

    /// Sends one raw HTTP/1.1 request and returns (status, headers, body).
    pub async fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawResponse {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        RawResponse::parse(&response)
    }

    /// A raw JSON 1.0 DynamoDB call.
    pub async fn dynamodb_raw(&self, operation: &str, body: &str) -> RawResponse {
        let target = format!("DynamoDB_20120810.{operation}");
        self.raw(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", &target),
            ],
            body.as_bytes(),
        )
        .await
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    fn parse(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect::<Vec<_>>();
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v == "chunked");
        let body = if chunked { dechunk(body) } else { body.to_owned() };
        Self {
            status,
            headers,
            body,
        }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// A name unique within this test process, so tests can share an emulator or run in parallel.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The AWS CLI v2 (Debian's `awscli` package: PyPI's `awscli` is v1), or `None` with the reason.
pub fn aws_cli_v2() -> Result<String, String> {
    let candidates = [
        std::env::var("DYNASTREAM_AWS_CLI").ok(),
        Some("/usr/bin/aws".to_owned()),
    ];
    for candidate in candidates.into_iter().flatten() {
        if let Ok(output) = Command::new(&candidate).arg("--version").output() {
            let version = String::from_utf8_lossy(&output.stdout).to_string();
            if version.starts_with("aws-cli/2.") {
                return Ok(candidate);
            }
        }
    }
    Err("the AWS CLI v2 is not installed (apt-get install awscli, or run the README's test command)".into())
}

/// Runs the AWS CLI v2 against the emulator (off the async runtime) and returns its output.
pub async fn aws(emulator: &TestEmulator, args: &[&str]) -> Option<Output> {
    let cli = match aws_cli_v2() {
        Ok(cli) => cli,
        Err(reason) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}");
            eprintln!("SKIPPED: {reason}");
            return None;
        }
    };
    let endpoint = emulator.endpoint();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(cli)
            .args([
                "--endpoint-url",
                &endpoint,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_PAGER", "")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    Some(output)
}

/// Every record of a stream, following shards parent-first from TRIM_HORIZON.
pub async fn read_all(
    streams: &aws_sdk_dynamodbstreams::Client,
    arn: &str,
) -> Vec<aws_sdk_dynamodbstreams::types::Record> {
    let description = streams.describe_stream().stream_arn(arn).send().await.unwrap();
    let shards = description.stream_description().unwrap().shards().to_vec();
    let mut records = Vec::new();
    for shard in shards {
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        loop {
            let page = streams
                .get_records()
                .shard_iterator(&iterator)
                .send()
                .await
                .unwrap();
            let empty = page.records().is_empty();
            records.extend(page.records().iter().cloned());
            match page.next_shard_iterator {
                Some(next) if !empty => iterator = next,
                _ => break,
            }
        }
    }
    records
}

/// A zip holding `files` (name, content), as a function's deployment package.
pub fn zip(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default();
        for (name, content) in files {
            writer.start_file(*name, options).unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap();
    }
    buffer.into_inner()
}

/// The code and message of a call that must fail (panics when it succeeded).
pub async fn error_of<T, E: ProvideErrorMetadata>(result: Result<T, E>) -> (String, String) {
    let Err(err) = result else {
        panic!("the call succeeded")
    };
    code_and_message(&err)
}

/// The code and message of an error ("" for a missing one).
pub fn code_and_message(err: &impl ProvideErrorMetadata) -> (String, String) {
    (
        err.code().unwrap_or("").to_owned(),
        err.message().unwrap_or("").to_owned(),
    )
}

/// A `ValidationException` with `message`, as [`error_of`] returns it.
pub fn validation(message: &str) -> (String, String) {
    ("ValidationException".to_owned(), message.to_owned())
}

/// The complete lines of a file a handler appends to: a last line without its `\n` is still being written.
pub fn complete_lines(path: &std::path::Path) -> String {
    let mut text = std::fs::read_to_string(path).unwrap_or_default();
    text.truncate(text.rfind('\n').map_or(0, |end| end + 1));
    text
}

/// A string attribute value.
pub fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// A number attribute value.
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The definition of attribute `name` of type `ty`.
pub fn attr(name: &str, ty: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()
        .unwrap()
}

/// A key schema element: attribute `name` as the `ty` (hash or range) key.
pub fn key(name: &str, ty: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(ty)
        .build()
        .unwrap()
}

/// An enabled stream specification of view type `view`.
pub fn stream_on(view: StreamViewType) -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(view)
        .build()
        .unwrap()
}

/// An unsent CreateTable request for an on-demand table `name` with hash key `pk` (S); callers may add members.
pub fn pk_table_request(client: &aws_sdk_dynamodb::Client, name: &str) -> CreateTableFluentBuilder {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
}

/// Creates an on-demand table with hash key `pk` (S), named uniquely after `prefix`; returns its name.
pub async fn pk_table(client: &aws_sdk_dynamodb::Client, prefix: &str) -> String {
    let name = unique(prefix);
    pk_table_request(client, &name).send().await.unwrap();
    name
}

/// Creates an on-demand table `name` with hash key `pk` (S) and a stream of `view`; returns the stream's ARN.
pub async fn table_with_stream(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    view: StreamViewType,
) -> String {
    pk_table_request(client, name)
        .stream_specification(stream_on(view))
        .send()
        .await
        .unwrap()
        .table_description()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned()
}

/// Items of tables whose key is `pk` (S) alone, such as [`pk_table`]'s.
pub mod items {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;

    use super::s;

    /// An item or a key: attribute values by name.
    pub type Item = HashMap<String, AttributeValue>;

    /// The item `pk` with `attributes`.
    pub fn item(pk: &str, attributes: &[(&str, AttributeValue)]) -> Item {
        let mut item = HashMap::from([("pk".to_owned(), s(pk))]);
        item.extend(attributes.iter().map(|(k, v)| (k.to_string(), v.clone())));
        item
    }

    /// The key of the item `pk`.
    pub fn key(pk: &str) -> Item {
        item(pk, &[])
    }

    /// The item `pk` of `table`, read consistently, or `None` when it does not exist.
    pub async fn get(client: &aws_sdk_dynamodb::Client, table: &str, pk: &str) -> Option<Item> {
        client
            .get_item()
            .table_name(table)
            .set_key(Some(key(pk)))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }
}

/// The IAM role the tests give their functions.
pub const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// An unsent CreateFunction request for `name` running `handler` on `runtime`, with a deployment package of
/// `files` (name, content); callers may add members (timeout, environment, ...).
pub fn create_function(
    client: &aws_sdk_lambda::Client,
    name: &str,
    runtime: Runtime,
    handler: &str,
    files: &[(&str, &str)],
) -> CreateFunctionFluentBuilder {
    client
        .create_function()
        .function_name(name)
        .runtime(runtime)
        .role(ROLE)
        .handler(handler)
        .code(FunctionCode::builder().zip_file(Blob::new(zip(files))).build())
}
