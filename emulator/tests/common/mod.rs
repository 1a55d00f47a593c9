//! Test helpers: an in-process emulator on an ephemeral port, SDK clients configured for it, unique names, a tiny
//! raw HTTP client for protocol-level checks, and the AWS CLI v2.
#![allow(dead_code)] // each test file uses a different subset

use std::{
    net::SocketAddr,
    process::{Command, Output},
    sync::atomic::{AtomicU32, Ordering},
};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
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
pub async fn error_of<T, E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    result: Result<T, E>,
) -> (String, String) {
    let Err(err) = result else {
        panic!("the call succeeded")
    };
    (
        err.code().unwrap_or("").to_owned(),
        err.message().unwrap_or("").to_owned(),
    )
}
