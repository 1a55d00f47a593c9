//! `dynastream-bench stream-latency-inprocess` (hidden): how soon a stream
//! record reaches a subscriber waiting inside the emulator's process, the
//! path an in-process consumer (such as a future Lambda event-source poller)
//! takes instead of polling GetRecords over HTTP.
//!
//! The emulator runs in this process (`dynastream::Server` on a loopback
//! port, on the bench's tokio runtime); the table and its stream are created
//! over HTTP, the subscriber waits on the stream's change notification
//! ([`dynastream::streams::Stream::subscribe`]), and a writer sends PutItems
//! over HTTP one at a time, each after the previous record's wake-up. For
//! each put it records the time from sending the request to the wake-up and
//! from the response to the wake-up; the wake-up can come before the writer
//! has read the response, which shows as a negative time.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde_json::json;
use tokio::sync::{mpsc, oneshot, watch};

use crate::http::{CommonHeaders, Connection, amz_target};
use crate::load::Histogram;
use crate::report::table;
use crate::scenario::{payload, to_bytes};
use crate::streams::{SignedSamples, signed_us, stream_arn};

/// How long a record may take to wake the subscriber before the run fails.
const WAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// Options of the hidden `stream-latency-inprocess` subcommand.
#[derive(Debug, Args)]
pub struct InProcessArgs {
    /// Measured puts per subscriber kind
    #[arg(long, default_value_t = 5_000)]
    samples: usize,

    /// Warm-up seconds before measuring, per subscriber kind
    #[arg(long, default_value = "1", value_parser = crate::parse_seconds)]
    warmup: Duration,

    /// Where the subscriber waits, in order: a task on the runtime that also
    /// runs the server, or a thread of its own with its own runtime
    #[arg(long, value_enum, value_delimiter = ',', default_value = "task,thread")]
    subscriber: Vec<SubscriberKind>,

    /// Tokio worker threads shared by the emulator and the writer [default:
    /// one per CPU]
    #[arg(long)]
    worker_threads: Option<usize>,

    /// Bytes of each item's payload attribute
    #[arg(long, default_value_t = 100)]
    payload_bytes: usize,
}

/// Where the subscriber runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SubscriberKind {
    /// A tokio task on the emulator's runtime.
    Task,
    /// A dedicated OS thread running a single-threaded runtime.
    Thread,
}

impl SubscriberKind {
    fn name(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Thread => "thread",
        }
    }
}

/// Runs the measurement and prints its table.
pub fn main(args: InProcessArgs) -> Result<()> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(args.worker_threads.unwrap_or_else(crate::cpus).max(1))
        .enable_all();
    builder
        .build()
        .context("build tokio runtime")?
        .block_on(run(args))
}

/// The outcome for one subscriber kind.
struct Outcome {
    kind: SubscriberKind,
    put: Histogram,
    after_request: Histogram,
    after_response: SignedSamples,
}

async fn run(args: InProcessArgs) -> Result<()> {
    let server = dynastream::Server::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .context("bind the in-process emulator")?;
    let addr = server.local_addr()?;
    let services = server.services();
    let (shutdown, shutdown_rx) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = shutdown_rx.await;
    }));
    eprintln!(
        "stream-latency-inprocess: emulator on http://{addr}; {} measured puts per subscriber after {:.1} s warm-up",
        args.samples,
        args.warmup.as_secs_f64()
    );

    let mut outcomes = Vec::new();
    for (k, &kind) in args.subscriber.iter().enumerate() {
        let table = format!("inprocess-{k}");
        crate::tables::create(
            addr,
            &table,
            to_bytes(&json!({
                "TableName": table,
                "AttributeDefinitions": [{ "AttributeName": "pk", "AttributeType": "S" }],
                "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": { "StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES" },
            })),
        )
        .await?;
        let headers = CommonHeaders::new(addr)?;
        let mut conn = Connection::open(addr).await?;
        let arn = stream_arn(&mut conn, &headers, &table).await?;
        // The bench's requests carry no 12-digit access key, so the emulator
        // files them under its default account and region.
        let stream = services
            .dynamodb
            .region(
                dynastream::edge::DEFAULT_ACCOUNT,
                dynastream::edge::DEFAULT_REGION,
            )
            .streams
            .get(&arn)
            .with_context(|| format!("stream {arn} not in the emulator's registry"))?;
        let changes = stream.subscribe();
        let (wakes_tx, wakes) = mpsc::unbounded_channel();
        let (stop, stop_rx) = oneshot::channel();
        let subscriber = spawn_subscriber(kind, changes, wakes_tx, stop_rx)?;
        let outcome = measure(&mut conn, &headers, &table, kind, wakes, &args).await;
        let _ = stop.send(());
        subscriber.join().await?;
        let outcome = outcome?;
        eprintln!(
            "[in-process {}] send→wake p50 {} µs, response→wake p50 {} µs, woken before the response {:.0}%",
            kind.name(),
            outcome.after_request.percentile(50.0).unwrap_or(0),
            outcome.after_response.percentile(50.0).unwrap_or(0),
            outcome.after_response.negative_share() * 100.0,
        );
        outcomes.push(outcome);
    }

    let _ = shutdown.send(());
    serving
        .await
        .context("the emulator panicked")?
        .context("the emulator failed")?;
    print!("\n{}", outcome_table(&outcomes));
    println!("(goal: a record visible to a waiting in-process subscriber in under 1 ms p50)");
    Ok(())
}

/// A running subscriber, stopped by its stop channel.
enum Subscriber {
    Task(tokio::task::JoinHandle<()>),
    Thread(std::thread::JoinHandle<Result<()>>),
}

impl Subscriber {
    async fn join(self) -> Result<()> {
        match self {
            Self::Task(task) => task.await.context("subscriber task panicked"),
            Self::Thread(thread) => tokio::task::spawn_blocking(move || thread.join())
                .await
                .context("join the subscriber thread")?
                .map_err(|_| anyhow::anyhow!("subscriber thread panicked"))?,
        }
    }
}

fn spawn_subscriber(
    kind: SubscriberKind,
    changes: watch::Receiver<u128>,
    wakes: mpsc::UnboundedSender<(u128, Instant)>,
    stop: oneshot::Receiver<()>,
) -> Result<Subscriber> {
    Ok(match kind {
        SubscriberKind::Task => Subscriber::Task(tokio::spawn(subscribe(changes, wakes, stop))),
        SubscriberKind::Thread => {
            let thread = std::thread::Builder::new()
                .name("subscriber".into())
                .spawn(move || -> Result<()> {
                    tokio::runtime::Builder::new_current_thread()
                        .build()
                        .context("build the subscriber's runtime")?
                        .block_on(subscribe(changes, wakes, stop));
                    Ok(())
                })
                .context("start the subscriber thread")?;
            Subscriber::Thread(thread)
        }
    })
}

/// Waits for changes, reporting each wake-up's time and the stream's last
/// sequence number, until stopped.
async fn subscribe(
    mut changes: watch::Receiver<u128>,
    wakes: mpsc::UnboundedSender<(u128, Instant)>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            changed = changes.changed() => {
                // The time first: it is what is measured.
                let at = Instant::now();
                if changed.is_err() {
                    return;
                }
                let sequence = *changes.borrow_and_update();
                if wakes.send((sequence, at)).is_err() {
                    return;
                }
            }
            _ = &mut stop => return,
        }
    }
}

async fn measure(
    conn: &mut Connection,
    headers: &CommonHeaders,
    table: &str,
    kind: SubscriberKind,
    mut wakes: mpsc::UnboundedReceiver<(u128, Instant)>,
    args: &InProcessArgs,
) -> Result<Outcome> {
    let target = amz_target("PutItem")?;
    let warmup_end = Instant::now() + args.warmup;
    let (mut put, mut after_request, mut after_response) = (Vec::new(), Vec::new(), Vec::new());
    let mut last_sequence: Option<u128> = None;
    let mut n: u64 = 0;
    while after_response.len() < args.samples {
        let measuring = Instant::now() >= warmup_end;
        // A new key every time: each put is an insert, so each appends a record.
        let body = to_bytes(&json!({
            "TableName": table,
            "Item": {
                "pk": { "S": format!("ip-{n:07}") },
                "payload": { "S": payload(n, args.payload_bytes) },
            },
        }));
        n += 1;
        let sent = Instant::now();
        let (status, answer) = conn.send(headers.dynamodb_request(&target, body)).await?;
        let answered = Instant::now();
        if !status.is_success() {
            bail!("PutItem answered {status}: {}", String::from_utf8_lossy(&answer));
        }
        // Puts are sequential, so each wakes the subscriber exactly once.
        let (sequence, woken) = tokio::time::timeout(WAKE_TIMEOUT, wakes.recv())
            .await
            .with_context(|| format!("no wake-up within {WAKE_TIMEOUT:?} of a PutItem"))?
            .context("the subscriber stopped")?;
        if let Some(last) = last_sequence
            && sequence != last + 1
        {
            bail!("wake-up for sequence {sequence} after {last}: a record was missed or coalesced");
        }
        last_sequence = Some(sequence);
        if measuring {
            put.push(micros(answered - sent));
            after_request.push(micros(woken.saturating_duration_since(sent)));
            after_response.push(signed_us(woken, answered));
        }
    }
    Ok(Outcome {
        kind,
        put: Histogram::from_unsorted(put),
        after_request: Histogram::from_unsorted(after_request),
        after_response: SignedSamples::from_unsorted(after_response),
    })
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

fn outcome_table(outcomes: &[Outcome]) -> String {
    let opt = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let signed = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    let headers = [
        "subscriber",
        "samples",
        "put p50 µs",
        "send→wake p50",
        "p90",
        "p99",
        "max",
        "resp→wake p50",
        "p90",
        "p99",
        "max",
        "woken before resp",
    ];
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            vec![
                o.kind.name().to_owned(),
                o.after_response.count().to_string(),
                opt(o.put.percentile(50.0)),
                opt(o.after_request.percentile(50.0)),
                opt(o.after_request.percentile(90.0)),
                opt(o.after_request.percentile(99.0)),
                opt(o.after_request.max()),
                signed(o.after_response.percentile(50.0)),
                signed(o.after_response.percentile(90.0)),
                signed(o.after_response.percentile(99.0)),
                signed(o.after_response.percentile(100.0)),
                format!("{:.0}%", o.after_response.negative_share() * 100.0),
            ]
        })
        .collect();
    table(&headers, &rows)
}
