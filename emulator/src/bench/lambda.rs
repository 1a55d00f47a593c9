//! `dynastream-bench lambda`: what the Lambda path of dynastream costs, measured with the emulator started
//! inside the bench's process (`dynastream::Server::bind_with` on a loopback port, on the bench's tokio runtime)
//! and driven over HTTP/1.1 with the bench's own client. Execution environments run as they do under
//! `dynastream serve`: each is a `dynastream agent` child process (the binary next to the bench, or
//! `--dynastream-bin`) that starts node or python.
//!
//! The parts (`--parts`, each run `--repeat` times):
//!
//! * `warm`: sequential Invokes of a trivial handler on one connection (round-trip percentiles, CPU per
//!   invoke of this process and of the environments), then Invokes on `--connections` connections (one
//!   environment each), against the same figures for a trivial GetItem on the same emulator; then the
//!   resident memory of each warm environment (agent and runtime) from `/proc`.
//! * `cold`: CreateFunction then the first Invoke, a new function per sample.
//! * `stream-latency`: sequential PutItems into a table whose stream feeds a handler through an event source
//!   mapping (BatchSize 1); the handler sends its start time (wall clock, epoch microseconds) in a UDP datagram
//!   to a collector in this process, so a sample is the time from the PutItem's response to the handler's
//!   start.
//! * `stream-throughput`: records written with BatchWriteItem as fast as possible, and the time until the
//!   handler (one datagram per batch, carrying its size) has seen them all.
//!
//! It only measures; nothing asserts on the figures. Before each measurement it waits while another
//! `dynastream-bench` or DynamoDB Local runs on the machine (`--wait-others`), and marks a row when one started
//! during it.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use bytes::Bytes;
use clap::{Args, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::http::{CommonHeaders, Connection, amz_target, call};
use crate::load::Histogram;
use crate::procfs;
use crate::report::table;
use crate::scenario::{Verdict, payload, to_bytes};
use crate::streams::{SignedSamples, stream_arn};
use crate::tables::check_batch_write;

/// A SigV4-shaped `Authorization` header for the Lambda API: the emulator verifies no signature, but takes the
/// account (here the default one) and the region from the credential scope.
const LAMBDA_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/lambda/aws4_request, \
                                    SignedHeaders=host, Signature=0";
/// The execution role every function gets (the emulator assumes nothing with it).
const ROLE: &str = "arn:aws:iam::000000000000:role/r";
/// The environment variable that tells the reporting handler where the collector listens.
const COLLECTOR_PORT_ENV: &str = "BENCH_COLLECTOR_PORT";
/// Items per BatchWriteItem request (DynamoDB's limit).
const BATCH_WRITE_ITEMS: u64 = 25;
/// How long the first record of a warm-up may take to reach the handler (it starts the environment).
const FIRST_DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a record of a warm environment may take to reach the handler before the run fails.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the throughput part waits for the next datagram before calling the missing records lost.
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of the `lambda` subcommand.
#[derive(Debug, Args)]
pub struct LambdaArgs {
    /// Parts to run, in order
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "warm,cold,stream-latency,stream-throughput"
    )]
    parts: Vec<Part>,

    /// Runtimes of the warm, cold and stream-latency parts
    #[arg(long, value_enum, value_delimiter = ',', default_value = "node,python")]
    runtimes: Vec<Runtime>,

    /// Runtimes of the stream-throughput part
    #[arg(long, value_enum, value_delimiter = ',', default_value = "node")]
    throughput_runtimes: Vec<Runtime>,

    /// Measured sequential Invokes (and baseline GetItems) on one connection, after --warmup
    #[arg(long, default_value_t = 2_000)]
    invokes: u64,

    /// Warm-up seconds before each warm measurement (results dropped)
    #[arg(long, default_value = "2", value_parser = crate::parse_seconds)]
    warmup: Duration,

    /// Connections of the concurrent warm measurement (an environment each)
    #[arg(long, default_value_t = 4)]
    connections: usize,

    /// Measured seconds of the concurrent warm measurement
    #[arg(long, default_value = "5", value_parser = crate::parse_seconds)]
    duration: Duration,

    /// Cold starts per runtime, each of a new function
    #[arg(long, default_value_t = 5)]
    cold_samples: usize,

    /// Measured PutItems of the stream-latency part, per runtime
    #[arg(long, default_value_t = 500)]
    stream_samples: usize,

    /// PutItems before them whose samples are dropped (the first starts the environment)
    #[arg(long, default_value_t = 20)]
    stream_warmup: usize,

    /// Mapping BatchSizes of the stream-throughput part
    #[arg(long, value_delimiter = ',', default_value = "1,100")]
    batch_sizes: Vec<u32>,

    /// Records written for each batch size, in the same order
    #[arg(long, value_delimiter = ',', default_value = "5000,50000")]
    records: Vec<u64>,

    /// Connections writing the records with BatchWriteItem (25 items a request)
    #[arg(long, default_value_t = 4)]
    load_connections: usize,

    /// Bytes of each item's payload attribute
    #[arg(long, default_value_t = 100)]
    payload_bytes: usize,

    /// Run the selected parts this many times (each run is a row of its own)
    #[arg(long, default_value_t = 1)]
    repeat: usize,

    /// Tokio worker threads shared by the emulator and the client [default: one per CPU]
    #[arg(long)]
    worker_threads: Option<usize>,

    /// The dynastream binary whose `agent` subcommand runs each environment [default: `dynastream` next to
    /// this executable]
    #[arg(long, env = "DYNASTREAM_BIN")]
    dynastream_bin: Option<PathBuf>,

    /// Before each measurement, wait up to this many seconds while another dynastream-bench or DynamoDB Local
    /// runs on this machine (then measure anyway, and say so)
    #[arg(long, default_value = "3600", value_parser = crate::parse_seconds)]
    wait_others: Duration,

    /// Then wait up to this many seconds for the machine to go quiet (as the main bench's --wait-quiet)
    #[arg(long, default_value = "0", value_parser = crate::parse_seconds)]
    wait_quiet: Duration,
}

/// The parts of the measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    /// Warm Invoke latency and throughput, GetItem baseline, environment memory.
    Warm,
    /// CreateFunction then first Invoke.
    Cold,
    /// PutItem response to handler start through a mapping.
    StreamLatency,
    /// Records per second through one mapping.
    StreamThroughput,
}

/// The runtimes measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Runtime {
    /// `nodejs20.x`.
    Node,
    /// `python3.11`.
    Python,
}

/// What a function does.
#[derive(Debug, Clone, Copy)]
enum Handler {
    /// Returns 1.
    Trivial,
    /// Sends its start time, the batch size and the first record's key to the collector, then returns 1.
    Reporter,
}

impl Runtime {
    fn name(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Python => "python",
        }
    }

    /// The runtime identifier; the interpreter is whatever the emulator finds (see the start-up line).
    fn id(self) -> &'static str {
        match self {
            Self::Node => "nodejs20.x",
            Self::Python => "python3.11",
        }
    }

    fn family(self) -> dynastream::lambda::runtimes::RuntimeFamily {
        match self {
            Self::Node => dynastream::lambda::runtimes::RuntimeFamily::Node,
            Self::Python => dynastream::lambda::runtimes::RuntimeFamily::Python,
        }
    }

    /// The code file, its source and the Handler setting.
    fn code(self, handler: Handler) -> (&'static str, &'static str, &'static str) {
        match (self, handler) {
            (Self::Node, Handler::Trivial) => {
                ("index.js", "exports.handler = async () => 1;\n", "index.handler")
            }
            (Self::Node, Handler::Reporter) => ("index.js", NODE_REPORTER, "index.handler"),
            (Self::Python, Handler::Trivial) => (
                "lambda_function.py",
                "def handler(event, context):\n    return 1\n",
                "lambda_function.handler",
            ),
            (Self::Python, Handler::Reporter) => {
                ("lambda_function.py", PYTHON_REPORTER, "lambda_function.handler")
            }
        }
    }
}

/// The node reporting handler. The start time is read first, as wall-clock epoch microseconds
/// (`performance.timeOrigin + performance.now()`: `Date.now()` has only milliseconds), so that it compares with
/// the bench's `SystemTime`; `Date.now()` goes along as a check of that arithmetic. The handler waits for the
/// datagram to be sent before it returns, so a batch is not acknowledged before it is counted.
const NODE_REPORTER: &str = r#"const dgram = require('dgram');
const { performance } = require('perf_hooks');
const socket = dgram.createSocket('udp4');
const port = Number(process.env.BENCH_COLLECTOR_PORT);
exports.handler = async (event) => {
  const startMs = performance.timeOrigin + performance.now();
  const records = event.Records || [];
  const key = records.length > 0 ? records[0].dynamodb.Keys.pk.S : '-';
  const message = `${records.length} ${key} ${Math.round(startMs * 1000)} ${Date.now()}`;
  await new Promise((resolve) => socket.send(message, port, '127.0.0.1', () => resolve()));
  return 1;
};
"#;

/// The python reporting handler (`time.time_ns()` is the wall clock to the nanosecond).
const PYTHON_REPORTER: &str = r#"import os
import socket
import time

_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
_address = ("127.0.0.1", int(os.environ["BENCH_COLLECTOR_PORT"]))


def handler(event, context):
    start_us = time.time_ns() // 1000
    records = event.get("Records") or []
    key = records[0]["dynamodb"]["Keys"]["pk"]["S"] if records else "-"
    message = "{} {} {} {}".format(len(records), key, start_us, start_us // 1000)
    _socket.sendto(message.encode(), _address)
    return 1
"#;

/// Runs the selected parts and prints their tables.
pub fn main(args: LambdaArgs) -> Result<()> {
    if args.connections == 0 || args.load_connections == 0 {
        bail!("--connections and --load-connections must be at least 1");
    }
    if args.batch_sizes.len() != args.records.len() {
        bail!("--batch-sizes and --records take one value per throughput run each");
    }
    if let Some(&size) = args.batch_sizes.iter().find(|&&s| !(1..=10_000).contains(&s)) {
        bail!("batch size {size} is outside 1..=10000");
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(args.worker_threads.unwrap_or_else(crate::cpus).max(1))
        .enable_all();
    builder.build().context("build tokio runtime")?.block_on(async {
        // Dropping the run on Ctrl-C drops the server, whose environments are killed with it.
        tokio::select! {
            result = run(args) => result,
            _ = tokio::signal::ctrl_c() => bail!("interrupted"),
        }
    })
}

/// Everything the parts share.
struct Bench {
    args: LambdaArgs,
    api: Api,
    services: Arc<dynastream::edge::Services>,
    collector: Collector,
    others: OthersMonitor,
}

/// The figures of all parts.
#[derive(Default)]
struct Results {
    warm: Vec<WarmRow>,
    memory: Vec<MemoryRow>,
    cold: Vec<ColdRow>,
    latency: Vec<LatencyRow>,
    throughput: Vec<ThroughputRow>,
}

async fn run(args: LambdaArgs) -> Result<()> {
    let agent = match &args.dynastream_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()
            .context("locate own executable")?
            .with_file_name("dynastream"),
    };
    if !agent.is_file() {
        bail!(
            "dynastream binary {} not found (build it or pass --dynastream-bin)",
            agent.display()
        );
    }
    let mut settings = dynastream::server::Settings::default();
    settings.lambda.agent_program = Some(agent.clone());
    let server = dynastream::Server::bind_with(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), settings)
        .await
        .context("bind the in-process emulator")?;
    let addr = server.local_addr()?;
    let services = server.services();
    let (shutdown, shutdown_rx) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = shutdown_rx.await;
    }));

    let interpreters: Vec<String> = [Runtime::Node, Runtime::Python]
        .iter()
        .map(|&runtime| {
            let family = runtime.family();
            match dynastream::lambda::runtimes::interpreter(family) {
                Ok(program) => {
                    let version = dynastream::lambda::runtimes::interpreter_version(family, &program)
                        .unwrap_or_else(|e| e);
                    format!("{} {} ({version})", runtime.name(), program.display())
                }
                Err(err) => format!("{}: {err}", runtime.name()),
            }
        })
        .collect();
    eprintln!(
        "lambda: emulator on http://{addr} in this process ({} tokio workers, {} CPUs); agents: {}; {}",
        args.worker_threads.unwrap_or_else(crate::cpus).max(1),
        crate::cpus(),
        agent.display(),
        interpreters.join("; ")
    );

    let bench = Bench {
        api: Api::new(addr)?,
        services,
        collector: Collector::start()?,
        others: OthersMonitor::start()?,
        args,
    };
    let mut results = Results::default();
    let outcome = run_parts(&bench, &mut results).await;

    let _ = shutdown.send(());
    serving
        .await
        .context("the emulator panicked")?
        .context("the emulator failed")?;
    // Print what was measured even when a later part failed.
    print!("{}", report(&results));
    outcome
}

async fn run_parts(bench: &Bench, results: &mut Results) -> Result<()> {
    for round in 0..bench.args.repeat.max(1) {
        for &part in &bench.args.parts {
            match part {
                Part::Warm => warm_part(bench, round, results).await?,
                Part::Cold => {
                    for &runtime in &bench.args.runtimes {
                        results.cold.push(cold_part(bench, round, runtime).await?);
                    }
                }
                Part::StreamLatency => {
                    for &runtime in &bench.args.runtimes {
                        results.latency.push(latency_part(bench, round, runtime).await?);
                    }
                }
                Part::StreamThroughput => {
                    for &runtime in &bench.args.throughput_runtimes {
                        for (&batch_size, &records) in bench.args.batch_sizes.iter().zip(&bench.args.records)
                        {
                            let row = throughput_part(bench, round, runtime, batch_size, records).await?;
                            results.throughput.push(row);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

// ---- HTTP ----

/// Builds the requests of both APIs for the in-process emulator.
#[derive(Clone)]
struct Api {
    addr: SocketAddr,
    host: HeaderValue,
    dynamodb: CommonHeaders,
}

impl Api {
    fn new(addr: SocketAddr) -> Result<Self> {
        Ok(Self {
            addr,
            host: HeaderValue::from_str(&addr.to_string()).context("host header")?,
            dynamodb: CommonHeaders::new(addr)?,
        })
    }

    /// A Lambda REST request.
    fn lambda(&self, method: Method, path: &str, body: Bytes) -> Result<Request<Full<Bytes>>> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = Uri::try_from(path).with_context(|| format!("invalid path {path:?}"))?;
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(AUTHORIZATION, HeaderValue::from_static(LAMBDA_AUTHORIZATION));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(request)
    }

    /// A Lambda call that must succeed (any 2xx), its JSON answer (`null` when empty).
    async fn lambda_call(
        &self,
        conn: &mut Connection,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        let body = body.map_or_else(Bytes::new, to_bytes);
        let (status, answer) = conn.send(self.lambda(method.clone(), path, body)?).await?;
        if !status.is_success() {
            bail!(
                "{method} {path} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        if answer.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&answer).with_context(|| format!("parse the answer to {method} {path}"))
    }

    fn invoke_path(function: &str) -> String {
        format!("/2015-03-31/functions/{function}/invocations")
    }
}

/// A trivial handler's answer: `1`, and nothing else (a function error is a JSON object).
fn check_invoke(status: StatusCode, body: &Bytes) -> Result<(), String> {
    if status == StatusCode::OK && body.as_ref() == b"1" {
        Ok(())
    } else {
        Err(format!("HTTP {status}: {}", String::from_utf8_lossy(body)))
    }
}

fn check_get_item(status: StatusCode, body: &Bytes) -> Result<(), String> {
    // The item exists, so a correct answer carries it.
    if status == StatusCode::OK && body.starts_with(br#"{"Item""#) {
        Ok(())
    } else {
        Err(format!("HTTP {status}: {}", String::from_utf8_lossy(body)))
    }
}

/// A connection whose responses keep their headers (the bench's [`Connection`] drops them), for the few
/// requests whose headers matter: the cold Invoke's log tail. Its driver runs as a task of its own, which costs
/// a task hop per request: noise against a cold start, not for the warm measurements.
struct HeaderConnection {
    sender: SendRequest<Full<Bytes>>,
}

impl HeaderConnection {
    async fn open(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect to {addr}"))?;
        stream.set_nodelay(true).context("set TCP_NODELAY")?;
        let (sender, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        tokio::spawn(async move {
            let _ = driver.await;
        });
        Ok(Self { sender })
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<(StatusCode, HeaderMap, Bytes)> {
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await.context("send request")?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.context("read response body")?.to_bytes();
        Ok((parts.status, parts.headers, body))
    }
}

// ---- set-up ----

/// Zips one file in memory and encodes it for `Code.ZipFile`.
fn zip_base64(file: &str, source: &str) -> Result<String> {
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file(file, zip::write::SimpleFileOptions::default())
        .context("start zip entry")?;
    writer.write_all(source.as_bytes()).context("write zip entry")?;
    let archive = writer.finish().context("finish zip")?.into_inner();
    Ok(base64::engine::general_purpose::STANDARD.encode(archive))
}

/// CreateFunction; returns the function's ARN.
async fn create_function(
    bench: &Bench,
    conn: &mut Connection,
    name: &str,
    runtime: Runtime,
    handler: Handler,
) -> Result<String> {
    let (file, source, handler_setting) = runtime.code(handler);
    let body = json!({
        "FunctionName": name,
        "Runtime": runtime.id(),
        "Role": ROLE,
        "Handler": handler_setting,
        "Code": { "ZipFile": zip_base64(file, source)? },
        "Timeout": 30,
        "MemorySize": 128,
        "Environment": { "Variables": { COLLECTOR_PORT_ENV: bench.collector.port.to_string() } },
    });
    let created = bench
        .api
        .lambda_call(conn, Method::POST, "/2015-03-31/functions", Some(&body))
        .await?;
    if created["State"] == "Failed" {
        bail!("function {name} failed: {}", created["StateReason"]);
    }
    created["FunctionArn"]
        .as_str()
        .map(str::to_owned)
        .context("CreateFunction answered without FunctionArn")
}

/// DeleteFunction, then waits until its environments' processes are gone, so that the next measurement starts
/// on a machine without them.
async fn delete_function(bench: &Bench, conn: &mut Connection, name: &str) -> Result<()> {
    bench
        .api
        .lambda_call(
            conn,
            Method::DELETE,
            &format!("/2015-03-31/functions/{name}"),
            None,
        )
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !environment_processes()?.is_empty() {
        if Instant::now() >= deadline {
            eprintln!("lambda: environments still running 10 s after deleting {name}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// CreateTable (key `pk` S, with a NEW_AND_OLD_IMAGES stream when asked), waiting until it is ACTIVE.
async fn create_table(addr: SocketAddr, name: &str, stream: bool) -> Result<()> {
    let mut body = json!({
        "TableName": name,
        "AttributeDefinitions": [{ "AttributeName": "pk", "AttributeType": "S" }],
        "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }],
        "BillingMode": "PAY_PER_REQUEST",
    });
    if stream {
        body["StreamSpecification"] =
            json!({ "StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES" });
    }
    crate::tables::create(addr, name, to_bytes(&body)).await
}

async fn delete_table(bench: &Bench, conn: &mut Connection, name: &str) -> Result<()> {
    call(
        conn,
        &bench.api.dynamodb,
        &amz_target("DeleteTable")?,
        &json!({ "TableName": name }),
    )
    .await?;
    Ok(())
}

/// CreateEventSourceMapping from the start of `stream` as it is now (LATEST), then waits until it is Enabled.
async fn create_mapping(
    bench: &Bench,
    conn: &mut Connection,
    function: &str,
    stream: &str,
    batch_size: u32,
) -> Result<String> {
    let body = json!({
        "FunctionName": function,
        "EventSourceArn": stream,
        "StartingPosition": "LATEST",
        "BatchSize": batch_size,
    });
    let created = bench
        .api
        .lambda_call(
            conn,
            Method::POST,
            "/2015-03-31/event-source-mappings/",
            Some(&body),
        )
        .await?;
    let uuid = created["UUID"]
        .as_str()
        .context("CreateEventSourceMapping answered without UUID")?
        .to_owned();
    let path = format!("/2015-03-31/event-source-mappings/{uuid}");
    for _ in 0..1000 {
        let mapping = bench.api.lambda_call(conn, Method::GET, &path, None).await?;
        if mapping["State"] == "Enabled" {
            return Ok(uuid);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    bail!("mapping {uuid} did not become Enabled")
}

async fn delete_mapping(bench: &Bench, conn: &mut Connection, uuid: &str) -> Result<()> {
    let path = format!("/2015-03-31/event-source-mappings/{uuid}");
    bench.api.lambda_call(conn, Method::DELETE, &path, None).await?;
    Ok(())
}

/// The delivery health of a mapping, read in-process (the figures behind `/_dynastream/event-source-mappings`).
fn mapping_health(bench: &Bench, uuid: &str) -> Option<dynastream::lambda::esm::Health> {
    bench
        .services
        .lambda
        .mappings
        .all()
        .into_iter()
        .find(|m| m.uuid == uuid)
        .map(|m| m.health())
}

/// PutItem of a new item with key `key`.
fn put_item_body(table: &str, key: &str, seed: u64, payload_bytes: usize) -> Bytes {
    to_bytes(&json!({
        "TableName": table,
        "Item": {
            "pk": { "S": key },
            "payload": { "S": payload(seed, payload_bytes) },
        },
    }))
}

// ---- waiting for the machine ----

/// Waits while another benchmark runs (up to `--wait-others`), then for the machine to go quiet (up to
/// `--wait-quiet`), then starts watching for benchmarks that start during the measurement.
async fn wait_turn(bench: &Bench, what: &str) -> Result<()> {
    let started = Instant::now();
    let mut told = false;
    loop {
        let others = other_benchmarks()?;
        if others.is_empty() {
            break;
        }
        if started.elapsed() >= bench.args.wait_others {
            eprintln!(
                "lambda: still running after {:.0} s, measuring {what} anyway: {}",
                started.elapsed().as_secs_f64(),
                others.join("; ")
            );
            break;
        }
        if !told {
            eprintln!(
                "lambda: waiting before {what} while these run: {}",
                others.join("; ")
            );
            told = true;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    if told {
        eprintln!(
            "lambda: waited {:.0} s for other benchmarks",
            started.elapsed().as_secs_f64()
        );
    }
    crate::wait_quiet("lambda", bench.args.wait_quiet, std::process::id()).await?;
    bench.others.reset();
    Ok(())
}

/// Notices benchmarks that start while a measurement runs (checked twice a second).
struct OthersMonitor {
    seen: Arc<AtomicBool>,
}

impl OthersMonitor {
    /// Starts the check on a thread of its own: reading `/proc` takes a millisecond or so, which on a tokio
    /// worker would stall the requests being measured.
    fn start() -> Result<Self> {
        let seen = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&seen);
        std::thread::Builder::new()
            .name("others-monitor".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(500));
                    if other_benchmarks().is_ok_and(|others| !others.is_empty()) {
                        flag.store(true, Ordering::Relaxed);
                    }
                }
            })
            .context("start the monitor thread")?;
        Ok(Self { seen })
    }

    fn reset(&self) {
        self.seen.store(false, Ordering::Relaxed);
    }

    /// Whether another benchmark ran since the last reset.
    fn disturbed(&self) -> bool {
        self.seen.load(Ordering::Relaxed)
    }
}

/// One process as `/proc` describes it.
struct Process {
    pid: u32,
    ppid: u32,
    argv: Vec<String>,
}

/// Every process on the machine (those that vanish while being read are skipped).
fn processes() -> Result<Vec<Process>> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").context("read /proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let (Ok(stat), Ok(cmdline)) = (
            std::fs::read_to_string(format!("/proc/{pid}/stat")),
            std::fs::read(format!("/proc/{pid}/cmdline")),
        ) else {
            continue;
        };
        // The command name is parenthesised and may hold spaces: the state and ppid follow the last `)`.
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
        else {
            continue;
        };
        let argv = cmdline
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        all.push(Process { pid, ppid, argv });
    }
    Ok(all)
}

/// Other `dynastream-bench` and DynamoDB Local processes, as `pid command` lines. This process and its
/// ancestors are left out (a shell that started this bench names it on its command line).
fn other_benchmarks() -> Result<Vec<String>> {
    let all = processes()?;
    let parents: HashMap<u32, u32> = all.iter().map(|p| (p.pid, p.ppid)).collect();
    let mut ours = vec![std::process::id()];
    let mut pid = std::process::id();
    while let Some(&parent) = parents.get(&pid) {
        if parent == 0 || ours.contains(&parent) {
            break;
        }
        ours.push(parent);
        pid = parent;
    }
    Ok(all
        .iter()
        .filter(|p| !ours.contains(&p.pid))
        .filter(|p| {
            let program = p.argv.first().map_or("", |a| a.rsplit('/').next().unwrap_or(a));
            program == "dynastream-bench"
                || (program == "java" && p.argv.iter().any(|a| a.contains("DynamoDBLocal")))
        })
        .map(|p| format!("{} {}", p.pid, p.argv.join(" ")))
        .collect())
}

/// The environments running now: each agent (a child of this process running `agent`) with the runtime
/// processes it started.
fn environment_processes() -> Result<Vec<(u32, Vec<u32>)>> {
    let all = processes()?;
    let me = std::process::id();
    Ok(all
        .iter()
        .filter(|p| p.ppid == me && p.argv.get(1).is_some_and(|a| a == "agent"))
        .map(|agent| {
            let runtimes = all
                .iter()
                .filter(|p| p.ppid == agent.pid)
                .map(|p| p.pid)
                .collect();
            (agent.pid, runtimes)
        })
        .collect())
}

/// CPU time of this process (emulator and client) and of the environments (agents and runtimes).
#[derive(Clone, Copy, Default)]
struct CpuSample {
    own: Duration,
    environments: Duration,
}

impl CpuSample {
    fn take() -> Result<Self> {
        let own = procfs::cpu_time(std::process::id())?;
        let mut environments = Duration::ZERO;
        for (agent, runtimes) in environment_processes()? {
            for pid in std::iter::once(agent).chain(runtimes) {
                // A process that ended in between has no figures left to read.
                environments += procfs::cpu_time(pid).unwrap_or_default();
            }
        }
        Ok(Self { own, environments })
    }

    fn since(self, before: Self) -> Self {
        Self {
            own: self.own.saturating_sub(before.own),
            environments: self.environments.saturating_sub(before.environments),
        }
    }
}

/// `Pss:` of `/proc/<pid>/smaps_rollup` in KiB: resident memory with shared pages divided among their users,
/// which is what another environment really adds (node's and python's code pages are shared).
fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = rollup.lines().find_map(|l| l.strip_prefix("Pss:"))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

// ---- the collector ----

/// One datagram of the reporting handler.
struct Report {
    /// Records in the batch.
    count: u64,
    /// The first record's key.
    key: String,
    /// When the handler started, wall clock, epoch microseconds.
    start_us: i64,
    /// `Date.now()` (node) or the start in milliseconds (python), to check the microsecond arithmetic.
    check_ms: i64,
    /// When the collector received it.
    received: Instant,
}

/// A UDP listener on loopback, read by a thread of its own so that datagrams are taken off the socket at once,
/// whatever the runtime's workers are doing (a full socket buffer would drop them).
struct Collector {
    port: u16,
    reports: tokio::sync::Mutex<mpsc::UnboundedReceiver<Report>>,
}

impl Collector {
    fn start() -> Result<Self> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).context("bind the collector")?;
        // The timeout lets the thread notice that the bench is done with it.
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .context("collector read timeout")?;
        let port = socket.local_addr()?.port();
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("collector".into())
            .spawn(move || {
                let mut buffer = [0u8; 2048];
                while !tx.is_closed() {
                    let Ok((len, _)) = socket.recv_from(&mut buffer) else {
                        continue;
                    };
                    let received = Instant::now();
                    match parse_report(&buffer[..len], received) {
                        Some(report) => {
                            let _ = tx.send(report);
                        }
                        None => eprintln!(
                            "lambda: malformed datagram {:?}",
                            String::from_utf8_lossy(&buffer[..len])
                        ),
                    }
                }
            })
            .context("start the collector thread")?;
        Ok(Self {
            port,
            reports: tokio::sync::Mutex::new(rx),
        })
    }

    /// Drops reports that arrived so far.
    async fn drain(&self) {
        let mut reports = self.reports.lock().await;
        while reports.try_recv().is_ok() {}
    }

    /// The next report, or an error after `timeout`.
    async fn next(&self, timeout: Duration) -> Result<Report> {
        let mut reports = self.reports.lock().await;
        tokio::time::timeout(timeout, reports.recv())
            .await
            .with_context(|| format!("no datagram from the handler within {timeout:?}"))?
            .context("the collector stopped")
    }
}

fn parse_report(datagram: &[u8], received: Instant) -> Option<Report> {
    let text = std::str::from_utf8(datagram).ok()?;
    let mut fields = text.split(' ');
    let count = fields.next()?.parse().ok()?;
    let key = fields.next()?.to_owned();
    let start_us = fields.next()?.parse().ok()?;
    let check_ms = fields.next()?.parse().ok()?;
    Some(Report {
        count,
        key,
        start_us,
        check_ms,
        received,
    })
}

fn epoch_us(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

// ---- closed-loop load ----

/// When the measured phase of a closed loop ends.
#[derive(Debug, Clone, Copy)]
enum Measure {
    /// After this many requests over all connections.
    Count(u64),
    /// After this long.
    For(Duration),
}

/// Builds each request of a closed loop.
type MakeRequest = Arc<dyn Fn() -> Request<Full<Bytes>> + Send + Sync>;
/// Classifies an answer.
type Check = fn(StatusCode, &Bytes) -> Result<(), String>;

/// The outcome of a closed loop's measured phase.
struct LoopResult {
    latencies: Histogram,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    cpu: CpuSample,
}

impl LoopResult {
    fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// CPU microseconds per successful request: (this process, the environments).
    fn cpu_per_request(&self) -> (f64, f64) {
        let n = self.ok.max(1) as f64;
        (
            self.cpu.own.as_secs_f64() * 1e6 / n,
            self.cpu.environments.as_secs_f64() * 1e6 / n,
        )
    }
}

/// Worker tallies.
#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    last_done: Option<Instant>,
}

/// `connections` connections, each with one request in flight: `warmup` whose results are dropped, then the
/// measured phase. The CPU clocks are read as measuring starts and when it ends.
async fn closed_loop(
    addr: SocketAddr,
    connections: usize,
    warmup: Duration,
    measure: Measure,
    make: MakeRequest,
    check: Check,
) -> Result<LoopResult> {
    let warmup_end = Instant::now() + warmup;
    let claimed = Arc::new(AtomicU64::new(0));
    let cpu_at_start = tokio::spawn(async move {
        tokio::time::sleep_until(warmup_end.into()).await;
        // Off the workers: the /proc reads would stall the requests just starting to be measured.
        tokio::task::spawn_blocking(CpuSample::take).await
    });
    let workers: Vec<_> = (0..connections.max(1))
        .map(|_| {
            let (make, claimed) = (Arc::clone(&make), Arc::clone(&claimed));
            tokio::spawn(async move {
                let mut conn = Connection::open(addr).await?;
                let mut tally = Tally::default();
                loop {
                    let now = Instant::now();
                    let measuring = now >= warmup_end;
                    if measuring {
                        let done = match measure {
                            Measure::Count(n) => claimed.fetch_add(1, Ordering::Relaxed) >= n,
                            Measure::For(d) => now >= warmup_end + d,
                        };
                        if done {
                            break;
                        }
                    }
                    let sent = Instant::now();
                    let outcome = conn.send(make()).await;
                    let answered = Instant::now();
                    let verdict = match outcome {
                        Ok((status, body)) => check(status, &body),
                        Err(err) => {
                            // A failed connection cannot carry another request.
                            conn = Connection::open(addr).await?;
                            Err(format!("{err:#}"))
                        }
                    };
                    if !measuring {
                        continue;
                    }
                    match verdict {
                        Ok(()) => {
                            tally.ok += 1;
                            tally.latencies.push(micros(answered - sent));
                        }
                        Err(message) => {
                            tally.errors += 1;
                            tally.first_error.get_or_insert(message);
                        }
                    }
                    tally.last_done = Some(answered);
                }
                anyhow::Ok(tally)
            })
        })
        .collect();
    let mut total = Tally::default();
    for worker in workers {
        let tally = worker.await.context("load worker panicked")??;
        total.latencies.extend_from_slice(&tally.latencies);
        total.ok += tally.ok;
        total.errors += tally.errors;
        total.first_error = total.first_error.or(tally.first_error);
        total.last_done = total.last_done.max(tally.last_done);
    }
    let before = cpu_at_start
        .await
        .context("CPU sampler panicked")?
        .context("CPU sampler panicked")??;
    let cpu = CpuSample::take()?.since(before);
    let elapsed = match measure {
        Measure::For(d) => d,
        Measure::Count(_) => total
            .last_done
            .map_or(Duration::ZERO, |done| done.saturating_duration_since(warmup_end)),
    };
    Ok(LoopResult {
        latencies: Histogram::from_unsorted(total.latencies),
        ok: total.ok,
        errors: total.errors,
        first_error: total.first_error,
        elapsed,
        cpu,
    })
}

// ---- part 1: warm invokes, the GetItem baseline, memory ----

/// One operation's warm figures.
struct WarmRow {
    round: usize,
    operation: String,
    sequential: LoopResult,
    /// The concurrent run, on `connections` connections.
    concurrent: LoopResult,
    connections: usize,
    /// Environments of the function after the concurrent run (None for GetItem).
    environments: Option<usize>,
    disturbed: bool,
}

/// One environment's memory, in KiB.
struct EnvMemory {
    agent_rss: u64,
    runtime_rss: u64,
    agent_pss: Option<u64>,
    runtime_pss: Option<u64>,
}

/// The memory of a runtime's warm environments.
struct MemoryRow {
    round: usize,
    runtime: Runtime,
    /// Per environment.
    environments: Vec<EnvMemory>,
    /// This process (emulator and bench client) at the same moment.
    own_rss_kib: u64,
}

async fn warm_part(bench: &Bench, round: usize, results: &mut Results) -> Result<()> {
    let args = &bench.args;
    let addr = bench.api.addr;
    let mut conn = Connection::open(addr).await?;

    let table = format!("lambda-baseline-{round}");
    create_table(addr, &table, false).await?;
    call(
        &mut conn,
        &bench.api.dynamodb,
        &amz_target("PutItem")?,
        &serde_json::from_slice(&put_item_body(&table, "k", 0, args.payload_bytes))?,
    )
    .await?;
    let get: MakeRequest = {
        let headers = bench.api.dynamodb.clone();
        let target = amz_target("GetItem")?;
        let body = to_bytes(&json!({ "TableName": table, "Key": { "pk": { "S": "k" } } }));
        Arc::new(move || headers.dynamodb_request(&target, body.clone()))
    };
    wait_turn(bench, "GetItem (baseline)").await?;
    let sequential = closed_loop(
        addr,
        1,
        args.warmup,
        Measure::Count(args.invokes),
        Arc::clone(&get),
        check_get_item,
    )
    .await?;
    let concurrent = closed_loop(
        addr,
        args.connections,
        args.warmup,
        Measure::For(args.duration),
        get,
        check_get_item,
    )
    .await?;
    let row = WarmRow {
        round,
        operation: "GetItem (baseline)".into(),
        sequential,
        concurrent,
        connections: args.connections,
        environments: None,
        disturbed: bench.others.disturbed(),
    };
    eprintln!("{}", warm_line(&row));
    results.warm.push(row);
    delete_table(bench, &mut conn, &table).await?;

    for &runtime in &args.runtimes {
        let name = format!("warm-{}-{round}", runtime.name());
        let arn = create_function(bench, &mut conn, &name, runtime, Handler::Trivial).await?;
        let invoke: MakeRequest = {
            let request = bench
                .api
                .lambda(Method::POST, &Api::invoke_path(&name), Bytes::new())?;
            let (parts, _) = request.into_parts();
            let event = Bytes::from_static(b"{}");
            Arc::new(move || Request::from_parts(parts.clone(), Full::new(event.clone())))
        };
        wait_turn(bench, &format!("warm Invoke ({})", runtime.name())).await?;
        let sequential = closed_loop(
            addr,
            1,
            args.warmup,
            Measure::Count(args.invokes),
            Arc::clone(&invoke),
            check_invoke,
        )
        .await?;
        // The warm-up starts an environment per connection; they stay for the measured phase.
        let concurrent = closed_loop(
            addr,
            args.connections,
            args.warmup,
            Measure::For(args.duration),
            invoke,
            check_invoke,
        )
        .await?;
        let environments = bench.services.lambda.environments.count(&arn);
        let row = WarmRow {
            round,
            operation: format!("Invoke {}", runtime.id()),
            sequential,
            concurrent,
            connections: args.connections,
            environments: Some(environments),
            disturbed: bench.others.disturbed(),
        };
        eprintln!("{}", warm_line(&row));
        results.warm.push(row);

        // Idle and warm: what each environment holds between invocations.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut memory = Vec::new();
        for (agent, runtimes) in environment_processes()? {
            let rss = |pid| procfs::memory(pid).map_or(0, |m| m.rss_kib);
            let runtime_pss = runtimes.iter().map(|&pid| pss_kib(pid)).sum::<Option<u64>>();
            memory.push(EnvMemory {
                agent_rss: rss(agent),
                runtime_rss: runtimes.iter().map(|&pid| rss(pid)).sum(),
                agent_pss: pss_kib(agent),
                runtime_pss,
            });
        }
        let own_rss_kib = procfs::memory(std::process::id())?.rss_kib;
        let row = MemoryRow {
            round,
            runtime,
            environments: memory,
            own_rss_kib,
        };
        eprintln!("{}", memory_line(&row));
        results.memory.push(row);
        delete_function(bench, &mut conn, &name).await?;
    }
    Ok(())
}

fn warm_line(row: &WarmRow) -> String {
    let (own, envs) = row.sequential.cpu_per_request();
    format!(
        "lambda: {}: sequential p50 {} µs p99 {} µs ({:.0}/s, cpu µs/req emulator+client {own:.0} envs {envs:.0}); \
         ×N {:.0}/s p50 {} µs; errors {}{}",
        row.operation,
        row.sequential.latencies.percentile(50.0).unwrap_or(0),
        row.sequential.latencies.percentile(99.0).unwrap_or(0),
        row.sequential.throughput(),
        row.concurrent.throughput(),
        row.concurrent.latencies.percentile(50.0).unwrap_or(0),
        row.sequential.errors + row.concurrent.errors,
        row.sequential
            .first_error
            .as_ref()
            .or(row.concurrent.first_error.as_ref())
            .map_or_else(String::new, |e| format!(", e.g. {e}")),
    )
}

fn memory_line(row: &MemoryRow) -> String {
    let per: Vec<String> = row
        .environments
        .iter()
        .map(|e| format!("{:.1}+{:.1}", mib(e.agent_rss), mib(e.runtime_rss)))
        .collect();
    format!(
        "lambda: {} environments, agent+runtime RSS MiB: {}",
        row.runtime.name(),
        per.join(", ")
    )
}

// ---- part 2: cold starts ----

/// One cold start.
struct ColdSample {
    /// CreateFunction's round trip.
    create: Duration,
    /// From sending CreateFunction to the first Invoke's answer.
    create_to_result: Duration,
    /// From sending the first Invoke to its answer.
    invoke_to_result: Duration,
    /// The REPORT line's `Init Duration` (the agent's start of the runtime until it asked for work).
    init: Option<Duration>,
    /// The second Invoke's round trip (the environment now warm).
    second: Duration,
}

/// A runtime's cold starts.
struct ColdRow {
    round: usize,
    runtime: Runtime,
    samples: Vec<ColdSample>,
    disturbed: bool,
}

async fn cold_part(bench: &Bench, round: usize, runtime: Runtime) -> Result<ColdRow> {
    let addr = bench.api.addr;
    let mut conn = Connection::open(addr).await?;
    wait_turn(bench, &format!("cold starts ({})", runtime.name())).await?;
    let mut samples = Vec::new();
    for i in 0..bench.args.cold_samples {
        let name = format!("cold-{}-{round}-{i}", runtime.name());
        let mut invoker = HeaderConnection::open(addr).await?;
        let created = Instant::now();
        create_function(bench, &mut conn, &name, runtime, Handler::Trivial).await?;
        let create = created.elapsed();
        let mut invoke = bench
            .api
            .lambda(Method::POST, &Api::invoke_path(&name), Bytes::new())?;
        invoke.headers_mut().insert(
            HeaderName::from_static("x-amz-log-type"),
            HeaderValue::from_static("Tail"),
        );
        let sent = Instant::now();
        let (status, headers, body) = invoker.send(invoke).await?;
        let answered = Instant::now();
        check_invoke(status, &body).map_err(|e| anyhow::anyhow!("cold Invoke of {name}: {e}"))?;
        let init = headers
            .get("x-amz-log-result")
            .and_then(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v.as_bytes())
                    .ok()
            })
            .and_then(|log| init_duration(&String::from_utf8_lossy(&log)));
        let second_sent = Instant::now();
        let (status, _, body) = invoker
            .send(
                bench
                    .api
                    .lambda(Method::POST, &Api::invoke_path(&name), Bytes::new())?,
            )
            .await?;
        let second = second_sent.elapsed();
        check_invoke(status, &body).map_err(|e| anyhow::anyhow!("second Invoke of {name}: {e}"))?;
        let sample = ColdSample {
            create,
            create_to_result: answered - created,
            invoke_to_result: answered - sent,
            init,
            second,
        };
        eprintln!(
            "lambda: cold {} {}/{}: create→result {:.1} ms, invoke→result {:.1} ms, init {}, second invoke {:.2} ms",
            runtime.name(),
            i + 1,
            bench.args.cold_samples,
            ms(sample.create_to_result),
            ms(sample.invoke_to_result),
            sample
                .init
                .map_or_else(|| "-".to_owned(), |d| format!("{:.1} ms", ms(d))),
            ms(sample.second),
        );
        samples.push(sample);
        delete_function(bench, &mut conn, &name).await?;
    }
    Ok(ColdRow {
        round,
        runtime,
        samples,
        disturbed: bench.others.disturbed(),
    })
}

/// `Init Duration: 123.45 ms` of a REPORT line.
fn init_duration(log: &str) -> Option<Duration> {
    let rest = log.split("Init Duration: ").nth(1)?;
    let number = rest.split(" ms").next()?;
    Duration::try_from_secs_f64(number.trim().parse::<f64>().ok()? / 1e3).ok()
}

// ---- part 3: stream record → handler latency ----

/// A runtime's stream-to-handler latencies.
struct LatencyRow {
    round: usize,
    runtime: Runtime,
    /// PutItem round trips.
    put: Histogram,
    /// PutItem response → handler start (negative: the handler started before the response was read).
    after_response: SignedSamples,
    /// PutItem sent → handler start.
    after_request: SignedSamples,
    /// Datagrams for another key than the one awaited.
    strays: u64,
    /// node only: the largest `Date.now()` × 1000 − the handler's start in microseconds, over all puts. Taken
    /// just after the start, `Date.now()` is the same wall clock floored to the millisecond, so with a correct
    /// `performance.timeOrigin` this tends to 0 from below (plus the few µs between the two readings); an error
    /// of `timeOrigin` would show here with the opposite sign.
    clock_check_us: Option<i64>,
    disturbed: bool,
}

async fn latency_part(bench: &Bench, round: usize, runtime: Runtime) -> Result<LatencyRow> {
    let args = &bench.args;
    let addr = bench.api.addr;
    let mut conn = Connection::open(addr).await?;
    let name = format!("latency-{}-{round}", runtime.name());
    create_table(addr, &name, true).await?;
    let stream = stream_arn(&mut conn, &bench.api.dynamodb, &name).await?;
    create_function(bench, &mut conn, &name, runtime, Handler::Reporter).await?;
    let mapping = create_mapping(bench, &mut conn, &name, &stream, 1).await?;
    bench.collector.drain().await;
    let target = amz_target("PutItem")?;

    let (mut put, mut after_response, mut after_request) = (Vec::new(), Vec::new(), Vec::new());
    let (mut strays, mut clock_check_us) = (0u64, i64::MIN);
    let total = args.stream_warmup + args.stream_samples;
    for n in 0..total {
        if n == args.stream_warmup {
            wait_turn(bench, &format!("stream → handler latency ({})", runtime.name())).await?;
        }
        let key = format!("lat-{n:07}");
        let body = put_item_body(&name, &key, n as u64, args.payload_bytes);
        let request = bench.api.dynamodb.dynamodb_request(&target, body);
        let sent_wall = SystemTime::now();
        let sent = Instant::now();
        let (status, answer) = conn.send(request).await?;
        let answered = Instant::now();
        let answered_wall = SystemTime::now();
        if !status.is_success() {
            bail!("PutItem answered {status}: {}", String::from_utf8_lossy(&answer));
        }
        let timeout = if n == 0 {
            FIRST_DELIVERY_TIMEOUT
        } else {
            DELIVERY_TIMEOUT
        };
        let report = loop {
            let report = bench
                .collector
                .next(timeout)
                .await
                .with_context(|| format!("record {key} of the {} handler", runtime.name()))?;
            if report.key == key {
                break report;
            }
            strays += 1;
        };
        clock_check_us = clock_check_us.max(report.check_ms * 1000 - report.start_us);
        if n >= args.stream_warmup {
            put.push(micros(answered - sent));
            after_response.push(report.start_us - epoch_us(answered_wall));
            after_request.push(report.start_us - epoch_us(sent_wall));
        }
    }
    let row = LatencyRow {
        round,
        runtime,
        put: Histogram::from_unsorted(put),
        after_response: SignedSamples::from_unsorted(after_response),
        after_request: SignedSamples::from_unsorted(after_request),
        strays,
        clock_check_us: (runtime == Runtime::Node).then_some(clock_check_us),
        disturbed: bench.others.disturbed(),
    };
    eprintln!(
        "lambda: stream→handler {}: response→start p50 {} µs p90 {} µs p99 {} µs",
        runtime.name(),
        row.after_response.percentile(50.0).unwrap_or(0),
        row.after_response.percentile(90.0).unwrap_or(0),
        row.after_response.percentile(99.0).unwrap_or(0),
    );
    delete_mapping(bench, &mut conn, &mapping).await?;
    delete_function(bench, &mut conn, &name).await?;
    delete_table(bench, &mut conn, &name).await?;
    Ok(row)
}

// ---- part 4: records per second through one mapping ----

/// One throughput run.
struct ThroughputRow {
    round: usize,
    runtime: Runtime,
    batch_size: u32,
    records: u64,
    /// The BatchWriteItem phase.
    write: Duration,
    /// First write sent → the datagram completing the count (or the last one seen).
    delivered: Duration,
    /// Records the handler reported.
    seen: u64,
    /// Invocations (datagrams).
    invocations: u64,
    /// The mapping's own count of records and failed batches during the run.
    mapping_delivered: Option<u64>,
    mapping_failed_batches: Option<u64>,
    cpu: CpuSample,
    disturbed: bool,
}

impl ThroughputRow {
    fn records_per_second(&self) -> f64 {
        self.seen as f64 / self.delivered.as_secs_f64().max(1e-9)
    }
}

async fn throughput_part(
    bench: &Bench,
    round: usize,
    runtime: Runtime,
    batch_size: u32,
    records: u64,
) -> Result<ThroughputRow> {
    let args = &bench.args;
    let addr = bench.api.addr;
    let mut conn = Connection::open(addr).await?;
    let name = format!("throughput-{}-b{batch_size}-{round}", runtime.name());
    create_table(addr, &name, true).await?;
    let stream = stream_arn(&mut conn, &bench.api.dynamodb, &name).await?;
    create_function(bench, &mut conn, &name, runtime, Handler::Reporter).await?;
    let mapping = create_mapping(bench, &mut conn, &name, &stream, batch_size).await?;
    bench.collector.drain().await;

    // Warm the environment with single records, each awaited, so the run does not include a cold start.
    let target = amz_target("PutItem")?;
    for n in 0..3u64 {
        let key = format!("warm-{n}");
        let body = put_item_body(&name, &key, n, args.payload_bytes);
        let (status, answer) = conn
            .send(bench.api.dynamodb.dynamodb_request(&target, body))
            .await?;
        if !status.is_success() {
            bail!("PutItem answered {status}: {}", String::from_utf8_lossy(&answer));
        }
        let timeout = if n == 0 {
            FIRST_DELIVERY_TIMEOUT
        } else {
            DELIVERY_TIMEOUT
        };
        while bench.collector.next(timeout).await?.key != key {}
    }
    // The handler reports before it returns, so the mapping may not have counted the last warm-up record yet.
    let settle = Instant::now() + Duration::from_secs(1);
    while mapping_health(bench, &mapping).is_some_and(|h| h.records_delivered < 3) && Instant::now() < settle
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let health_before = mapping_health(bench, &mapping);

    wait_turn(
        bench,
        &format!("stream throughput ({}, batch size {batch_size})", runtime.name()),
    )
    .await?;
    let cpu_before = CpuSample::take()?;
    let started = Instant::now();
    let writer = tokio::spawn(write_records(
        bench.api.clone(),
        name.clone(),
        records,
        args.load_connections,
        args.payload_bytes,
    ));
    let (mut seen, mut invocations, mut last) = (0u64, 0u64, started);
    while seen < records {
        match bench.collector.next(PROGRESS_TIMEOUT).await {
            Ok(report) => {
                seen += report.count;
                invocations += 1;
                last = report.received;
            }
            Err(err) => {
                eprintln!(
                    "lambda: throughput {name}: {seen} of {records} records seen, then nothing: {err:#}"
                );
                break;
            }
        }
    }
    let write = writer.await.context("the writer panicked")??;
    let cpu = CpuSample::take()?.since(cpu_before);
    // Anything after the count is complete would be a duplicate delivery.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(report) = bench.collector.next(Duration::from_millis(1)).await {
        seen += report.count;
        invocations += 1;
    }
    let health_after = mapping_health(bench, &mapping);
    let (mapping_delivered, mapping_failed_batches) = match (health_before, health_after) {
        (Some(before), Some(after)) => (
            Some(after.records_delivered - before.records_delivered),
            Some(after.batches_failed - before.batches_failed),
        ),
        _ => (None, None),
    };
    let row = ThroughputRow {
        round,
        runtime,
        batch_size,
        records,
        write,
        delivered: last.saturating_duration_since(started),
        seen,
        invocations,
        mapping_delivered,
        mapping_failed_batches,
        cpu,
        disturbed: bench.others.disturbed(),
    };
    eprintln!(
        "lambda: throughput {} batch {batch_size}: {} of {records} records in {:.2} s ({:.0} records/s; written in {:.2} s)",
        runtime.name(),
        row.seen,
        row.delivered.as_secs_f64(),
        row.records_per_second(),
        row.write.as_secs_f64(),
    );
    delete_mapping(bench, &mut conn, &mapping).await?;
    delete_function(bench, &mut conn, &name).await?;
    delete_table(bench, &mut conn, &name).await?;
    Ok(row)
}

/// Writes `records` new items with BatchWriteItem on `connections` connections, as fast as they are taken;
/// returns how long it took.
async fn write_records(
    api: Api,
    table: String,
    records: u64,
    connections: usize,
    payload_bytes: usize,
) -> Result<Duration> {
    let started = Instant::now();
    let requests = records.div_ceil(BATCH_WRITE_ITEMS);
    let next = Arc::new(AtomicU64::new(0));
    let target = amz_target("BatchWriteItem")?;
    let writers: Vec<_> = (0..connections)
        .map(|_| {
            let (api, table, next, target) = (api.clone(), table.clone(), Arc::clone(&next), target.clone());
            tokio::spawn(async move {
                let mut conn = Connection::open(api.addr).await?;
                loop {
                    let request = next.fetch_add(1, Ordering::Relaxed);
                    if request >= requests {
                        return anyhow::Ok(());
                    }
                    let first = request * BATCH_WRITE_ITEMS;
                    let items: Vec<Value> = (first..(first + BATCH_WRITE_ITEMS).min(records))
                        .map(|i| {
                            json!({ "PutRequest": { "Item": {
                                "pk": { "S": format!("rec-{i:08}") },
                                "payload": { "S": payload(i, payload_bytes) },
                            } } })
                        })
                        .collect();
                    let body = to_bytes(&json!({ "RequestItems": { table.as_str(): items } }));
                    let (status, answer) = conn.send(api.dynamodb.dynamodb_request(&target, body)).await?;
                    if let Verdict::Error(message) = check_batch_write(status, &answer) {
                        bail!("BatchWriteItem: {message}");
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.context("a writer panicked")??;
    }
    Ok(started.elapsed())
}

// ---- report ----

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn opt_us(value: Option<u32>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn signed(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn mark(disturbed: bool) -> &'static str {
    if disturbed { " *" } else { "" }
}

/// The median, minimum and maximum of some durations, in ms.
fn spread(values: impl IntoIterator<Item = Duration>) -> String {
    let mut values: Vec<Duration> = values.into_iter().collect();
    if values.is_empty() {
        return "-".to_owned();
    }
    values.sort_unstable();
    let median = values[(values.len() - 1) / 2];
    format!(
        "{:.1} ({:.1}-{:.1})",
        ms(median),
        ms(values[0]),
        ms(values[values.len() - 1])
    )
}

fn report(results: &Results) -> String {
    let mut out = String::new();
    let mut disturbed = false;
    if !results.warm.is_empty() {
        let headers = [
            "operation",
            "run",
            "seq p50 µs",
            "p90",
            "p99",
            "max",
            "seq req/s",
            "cpu µs/req emu+client",
            "cpu µs/req envs",
            "×N conns",
            "×N req/s",
            "×N p50 µs",
            "×N p99 µs",
            "envs",
            "errors",
        ];
        let rows: Vec<Vec<String>> = results
            .warm
            .iter()
            .map(|r| {
                disturbed |= r.disturbed;
                let (own, envs) = r.sequential.cpu_per_request();
                vec![
                    format!("{}{}", r.operation, mark(r.disturbed)),
                    (r.round + 1).to_string(),
                    opt_us(r.sequential.latencies.percentile(50.0)),
                    opt_us(r.sequential.latencies.percentile(90.0)),
                    opt_us(r.sequential.latencies.percentile(99.0)),
                    opt_us(r.sequential.latencies.max()),
                    format!("{:.0}", r.sequential.throughput()),
                    format!("{own:.0}"),
                    format!("{envs:.0}"),
                    r.connections.to_string(),
                    format!("{:.0}", r.concurrent.throughput()),
                    opt_us(r.concurrent.latencies.percentile(50.0)),
                    opt_us(r.concurrent.latencies.percentile(99.0)),
                    r.environments.map_or_else(|| "-".to_owned(), |n| n.to_string()),
                    (r.sequential.errors + r.concurrent.errors).to_string(),
                ]
            })
            .collect();
        out.push_str(
            "\nWarm round trips (seq: one connection, one request at a time; ×N: concurrent connections):\n",
        );
        out.push_str(&table(&headers, &rows));
        for r in &results.warm {
            if let Some(error) = r
                .sequential
                .first_error
                .as_ref()
                .or(r.concurrent.first_error.as_ref())
            {
                out.push_str(&format!("  {} errors, e.g. {error}\n", r.operation));
            }
        }
        let baseline: HashMap<usize, u32> = results
            .warm
            .iter()
            .filter(|r| r.environments.is_none())
            .filter_map(|r| Some((r.round, r.sequential.latencies.percentile(50.0)?)))
            .collect();
        for r in results.warm.iter().filter(|r| r.environments.is_some()) {
            if let (Some(&base), Some(p50)) =
                (baseline.get(&r.round), r.sequential.latencies.percentile(50.0))
            {
                out.push_str(&format!(
                    "  {} (run {}): the Lambda path adds {} µs at p50 over GetItem's {base} µs\n",
                    r.operation,
                    r.round + 1,
                    i64::from(p50) - i64::from(base)
                ));
            }
        }
    }
    if !results.memory.is_empty() {
        let headers = [
            "runtime",
            "run",
            "envs",
            "agent RSS MiB",
            "runtime RSS MiB",
            "env RSS MiB",
            "agent PSS MiB",
            "runtime PSS MiB",
            "env PSS MiB",
            "bench+emulator RSS MiB",
        ];
        let rows: Vec<Vec<String>> = results
            .memory
            .iter()
            .map(|r| {
                let n = r.environments.len().max(1) as f64;
                let mean = |f: &dyn Fn(&EnvMemory) -> Option<u64>| {
                    let values: Option<Vec<u64>> = r.environments.iter().map(f).collect();
                    values.map_or_else(
                        || "-".to_owned(),
                        |v| format!("{:.1}", mib(v.iter().sum::<u64>()) / n),
                    )
                };
                vec![
                    r.runtime.name().to_owned(),
                    (r.round + 1).to_string(),
                    r.environments.len().to_string(),
                    mean(&|e| Some(e.agent_rss)),
                    mean(&|e| Some(e.runtime_rss)),
                    mean(&|e| Some(e.agent_rss + e.runtime_rss)),
                    mean(&|e| e.agent_pss),
                    mean(&|e| e.runtime_pss),
                    mean(&|e| Some(e.agent_pss? + e.runtime_pss?)),
                    format!("{:.1}", mib(r.own_rss_kib)),
                ]
            })
            .collect();
        out.push_str(
            "\nMemory per warm environment (mean over the environments, idle after the warm runs):\n",
        );
        out.push_str(&table(&headers, &rows));
    }
    if !results.cold.is_empty() {
        let headers = [
            "runtime",
            "run",
            "samples",
            "create→result ms",
            "invoke→result ms",
            "Init Duration ms",
            "CreateFunction ms",
            "2nd invoke ms",
        ];
        let rows: Vec<Vec<String>> = results
            .cold
            .iter()
            .map(|r| {
                disturbed |= r.disturbed;
                vec![
                    format!("{}{}", r.runtime.id(), mark(r.disturbed)),
                    (r.round + 1).to_string(),
                    r.samples.len().to_string(),
                    spread(r.samples.iter().map(|s| s.create_to_result)),
                    spread(r.samples.iter().map(|s| s.invoke_to_result)),
                    spread(r.samples.iter().filter_map(|s| s.init)),
                    spread(r.samples.iter().map(|s| s.create)),
                    spread(r.samples.iter().map(|s| s.second)),
                ]
            })
            .collect();
        out.push_str("\nCold starts (median (min-max) over new functions):\n");
        out.push_str(&table(&headers, &rows));
    }
    if !results.latency.is_empty() {
        let headers = [
            "runtime",
            "run",
            "samples",
            "put p50 µs",
            "resp→start p50 µs",
            "p90",
            "p99",
            "max",
            "send→start p50",
            "p99",
            "before resp",
            "strays",
            "clock check µs",
        ];
        let rows: Vec<Vec<String>> = results
            .latency
            .iter()
            .map(|r| {
                disturbed |= r.disturbed;
                vec![
                    format!("{}{}", r.runtime.id(), mark(r.disturbed)),
                    (r.round + 1).to_string(),
                    r.after_response.count().to_string(),
                    opt_us(r.put.percentile(50.0)),
                    signed(r.after_response.percentile(50.0)),
                    signed(r.after_response.percentile(90.0)),
                    signed(r.after_response.percentile(99.0)),
                    signed(r.after_response.percentile(100.0)),
                    signed(r.after_request.percentile(50.0)),
                    signed(r.after_request.percentile(99.0)),
                    format!("{:.0}%", r.after_response.negative_share() * 100.0),
                    r.strays.to_string(),
                    signed(r.clock_check_us),
                ]
            })
            .collect();
        out.push_str(
            "\nStream record → handler start (BatchSize 1, warm; PutItem response → the handler's first line, wall clock):\n",
        );
        out.push_str(&table(&headers, &rows));
        out.push_str("  (goals: p50 < 5 ms, p99 < 20 ms; LocalStack's mappings on this machine: p50 580 ms, p90 875 ms)\n");
        out.push_str(
            "  (clock check: max of Date.now()×1000 − node's µs start; near 0 when node's µs clock agrees with the wall clock)\n",
        );
    }
    if !results.throughput.is_empty() {
        let headers = [
            "runtime",
            "run",
            "batch",
            "records",
            "write s",
            "written/s",
            "delivered s",
            "records/s",
            "invocations",
            "mean batch",
            "seen",
            "lost",
            "mapping delivered",
            "failed batches",
            "cpu µs/rec emu+client",
            "cpu µs/rec envs",
        ];
        let rows: Vec<Vec<String>> = results
            .throughput
            .iter()
            .map(|r| {
                disturbed |= r.disturbed;
                let n = r.seen.max(1) as f64;
                vec![
                    format!("{}{}", r.runtime.id(), mark(r.disturbed)),
                    (r.round + 1).to_string(),
                    r.batch_size.to_string(),
                    r.records.to_string(),
                    format!("{:.2}", r.write.as_secs_f64()),
                    format!("{:.0}", r.records as f64 / r.write.as_secs_f64().max(1e-9)),
                    format!("{:.2}", r.delivered.as_secs_f64()),
                    format!("{:.0}", r.records_per_second()),
                    r.invocations.to_string(),
                    format!("{:.1}", r.seen as f64 / r.invocations.max(1) as f64),
                    r.seen.to_string(),
                    (i128::from(r.records) - i128::from(r.seen)).to_string(),
                    r.mapping_delivered
                        .map_or_else(|| "-".to_owned(), |v| v.to_string()),
                    r.mapping_failed_batches
                        .map_or_else(|| "-".to_owned(), |v| v.to_string()),
                    format!("{:.0}", r.cpu.own.as_secs_f64() * 1e6 / n),
                    format!("{:.0}", r.cpu.environments.as_secs_f64() * 1e6 / n),
                ]
            })
            .collect();
        out.push_str(
            "\nRecords through one mapping (BatchWriteItem as fast as possible; first write → the handler has seen all):\n",
        );
        out.push_str(&table(&headers, &rows));
        out.push_str(
            "  (goal: at least 1,000 records/s at batch size 1 per shard; lost < 0 means duplicates)\n",
        );
    }
    if disturbed {
        out.push_str("\n* another dynastream-bench or DynamoDB Local ran during this measurement\n");
    }
    out
}
