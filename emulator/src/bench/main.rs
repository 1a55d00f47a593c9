//! `dynastream-bench`: measures DynamoDB item operations over HTTP/1.1
//! keep-alive against dynastream, Amazon DynamoDB Local and a bare hyper
//! "ceiling" server, all started as child processes on this machine.
//!
//! Each load scenario runs on N connections with one request in flight per
//! connection: a warm-up whose results are dropped, then a measured phase of
//! fixed duration (or request count). The bench reports throughput, latency
//! percentiles and server CPU per request as a table (and optionally JSON),
//! plus each target's start-up time (spawn to first answered request) and
//! resident memory. Scenarios beyond item operations (Query, Scan, batch
//! writes, transactions, streams) run against tables of their own on the two
//! emulators; `--scenarios` takes scenario and group names
//! (`--list-scenarios`). The hidden `stream-latency-inprocess` subcommand
//! times stream records reaching a subscriber inside the emulator's process;
//! `lambda` measures Lambda invocations and stream event delivery.
//! It only measures; it asserts nothing about the figures.
//!
//! ```text
//! cargo build --release -p dynastream-emulator --bins
//! emulator/bench/dynamodb-local.sh        # fetch DynamoDB Local once
//! target/release/dynastream-bench --duration 5 --connections 1,32
//! target/release/dynastream-bench --scenarios reads,writes,streams --repeat 3
//! ```

// Stream records and Lambda batches churn through many short-lived allocations of mixed sizes; under glibc's
// allocator the heap fragmented and mapping throughput halved as the process aged (emulator/bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod ceiling;
mod http;
mod inprocess;
mod lambda;
mod load;
mod procfs;
mod reads;
mod report;
mod scan;
mod scenario;
mod streams;
mod tables;
mod target;
mod writes;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::load::{ClientRuntime, LoadSpec, Stop};
use crate::report::{Row, ScanRow, TargetFigures, VisibilityRow};
use crate::scenario::{Fixture, Kind, Scenario, TableRef, Workloads};
use crate::tables::{LoadSettings, Loaded};
use crate::target::{RunningServer, TargetKind, TargetSpec};

#[derive(Debug, Parser)]
#[command(
    name = "dynastream-bench",
    version,
    about = "Benchmark DynamoDB item operations over HTTP"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the bare ceiling server (started by the bench itself).
    #[command(hide = true)]
    Ceiling(ceiling::CeilingArgs),
    /// Time stream records reaching a subscriber inside the emulator's
    /// process (dynastream only, started in this process).
    #[command(hide = true)]
    StreamLatencyInprocess(inprocess::InProcessArgs),
    /// Measure Lambda in dynastream (started in this process): warm and cold
    /// Invokes, stream records reaching a handler, records/s through a mapping.
    Lambda(Box<lambda::LambdaArgs>),
}

/// Options of a benchmark run.
#[derive(Debug, Args)]
struct RunArgs {
    /// Targets to measure, in order [default: every one available]
    #[arg(long, value_enum, value_delimiter = ',')]
    targets: Option<Vec<TargetKind>>,

    /// Scenarios or groups of scenarios to run, in order: items (put, get,
    /// update), query, query-growth, scans, batch, transact, stream-writes,
    /// stream-visibility; reads, writes, streams; all (--list-scenarios)
    #[arg(long, value_delimiter = ',', default_value = "put,get,update")]
    scenarios: Vec<String>,

    /// Concurrent connections; each scenario runs once per value
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    connections: Vec<usize>,

    /// Measured seconds per scenario
    #[arg(long, default_value = "5", value_parser = parse_seconds)]
    duration: Duration,

    /// Measure this many requests per scenario instead of a duration
    #[arg(long, conflicts_with = "duration")]
    requests: Option<u64>,

    /// Warm-up seconds before each measurement
    #[arg(long, default_value = "1", value_parser = parse_seconds)]
    warmup: Duration,

    /// Items written before the scenarios run (read and updated by get/update)
    #[arg(long, default_value_t = 10_000)]
    items: u64,

    /// Bytes of the payload attribute of each item
    #[arg(long, default_value_t = 100)]
    payload_bytes: usize,

    /// Table name of the item scenarios
    #[arg(long, default_value = "bench")]
    table: String,

    /// Items of the small and the large table of the query-growth scenarios
    #[arg(long, value_delimiter = ',', default_value = "1000,1000000")]
    growth_items: Vec<u64>,

    /// Items of the table the scan scenarios page through
    #[arg(long, default_value_t = 100_000)]
    scan_items: u64,

    /// Accounts the transact scenario transfers between
    #[arg(long, default_value_t = 1_000)]
    accounts: u64,

    /// Connections that load scenario tables with BatchWriteItem
    #[arg(long, default_value_t = 32)]
    load_connections: usize,

    /// Seconds a target may spend loading one scenario table; loading stops
    /// after the chunk that exceeds it, and the scenario runs on the items
    /// loaded (the reports show how many)
    #[arg(long, default_value = "300", value_parser = parse_seconds)]
    load_budget: Duration,

    /// Measured puts of the stream-visibility scenario (after --warmup)
    #[arg(long, default_value_t = 2_000)]
    stream_samples: usize,

    /// Measure each scenario this many times and report the run with the
    /// median throughput (a 2-core VM's thread placement makes single runs
    /// vary by up to 2x)
    #[arg(long, default_value_t = 1)]
    repeat: usize,

    /// Start-up measurements per target (spawn to first answered request)
    #[arg(long, default_value_t = 5)]
    startup_runs: usize,

    /// Seconds to wait for a target to answer after it starts
    #[arg(long, default_value = "60", value_parser = parse_seconds)]
    ready_timeout: Duration,

    /// Client threads [default: one per CPU]
    #[arg(long)]
    client_threads: Option<usize>,

    /// How the client uses its threads: `multi-thread` puts all connections
    /// on one work-stealing tokio runtime; `per-thread` gives each thread its
    /// own single-threaded runtime and a share of the connections (like wrk;
    /// similar throughput here, but a worse tail when a thread is descheduled)
    #[arg(long, value_enum, default_value = "multi-thread")]
    client_runtime: ClientRuntimeArg,

    /// The dynastream binary [default: `dynastream` next to this executable]
    #[arg(long, env = "DYNASTREAM_BIN")]
    dynastream_bin: Option<PathBuf>,

    /// DynamoDBLocal.jar [default: the one cached by emulator/bench/dynamodb-local.sh]
    #[arg(long, env = "DYNAMODB_LOCAL_JAR")]
    dynamodb_local: Option<PathBuf>,

    /// The java executable for DynamoDB Local
    #[arg(long, default_value = "java")]
    java: PathBuf,

    /// Also write the results as JSON to this file (`-` or no value: stdout,
    /// with the tables moved to stderr)
    #[arg(long, num_args = 0..=1, default_missing_value = "-")]
    json: Option<PathBuf>,

    /// Before each measured run, wait up to this many seconds for the rest of
    /// the machine to go quiet (other processes below 10% of one CPU for a
    /// second): on a shared machine, someone else's build halves the figures
    #[arg(long, default_value = "0", value_parser = parse_seconds)]
    wait_quiet: Duration,

    /// List the scenarios and exit
    #[arg(long)]
    list_scenarios: bool,

    /// Directory for the servers' output logs [default: a temporary directory]
    #[arg(long)]
    log_dir: Option<PathBuf>,
}

/// `--client-runtime` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ClientRuntimeArg {
    /// A single-threaded runtime per client thread.
    PerThread,
    /// One multi-threaded tokio runtime.
    MultiThread,
}

impl ClientRuntimeArg {
    fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned())
    }
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|e| format!("{s:?} is not a number of seconds: {e}"))?;
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Ceiling(args)) => ceiling::main(args),
        Some(Command::StreamLatencyInprocess(args)) => inprocess::main(args),
        Some(Command::Lambda(args)) => lambda::main(*args),
        None => {
            let mut builder = match cli.run.client_runtime {
                ClientRuntimeArg::MultiThread => {
                    let mut builder = tokio::runtime::Builder::new_multi_thread();
                    builder.worker_threads(client_threads(&cli.run));
                    builder
                }
                // The load runs on threads of its own; this runtime only
                // starts servers, probes them and waits.
                ClientRuntimeArg::PerThread => tokio::runtime::Builder::new_current_thread(),
            };
            builder.enable_all();
            let runtime = builder.build().context("build tokio runtime")?;
            runtime.block_on(async {
                // Dropping the run future on Ctrl-C drops the server guards,
                // which kill the child processes.
                tokio::select! {
                    result = run(cli.run) => result,
                    _ = tokio::signal::ctrl_c() => bail!("interrupted"),
                }
            })
        }
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn client_threads(args: &RunArgs) -> usize {
    args.client_threads.unwrap_or_else(cpus).max(1)
}

async fn run(args: RunArgs) -> Result<()> {
    if args.connections.contains(&0) {
        bail!("--connections values must be at least 1");
    }
    if args.load_connections == 0 {
        bail!("--load-connections must be at least 1");
    }
    let [small, large] = args.growth_items[..] else {
        bail!("--growth-items takes two item counts, the small and the large table's");
    };
    let fixture = Fixture {
        table: args.table.clone(),
        items: args.items,
        payload_bytes: args.payload_bytes,
    };
    let workloads = Workloads {
        payload_bytes: args.payload_bytes,
        growth_items: [small, large],
        scan_items: args.scan_items,
        accounts: args.accounts,
    };
    let catalogue = scenario::catalogue(&fixture, &workloads);
    if args.list_scenarios {
        for scenario in &catalogue {
            println!(
                "{:<21} {:<18} {:<19} {}",
                scenario.name, scenario.group, scenario.operation, scenario.description
            );
        }
        println!("\ngroups:");
        for (group, members) in scenario::groups(&catalogue) {
            println!("{group:<18} {}", members.join(","));
        }
        return Ok(());
    }
    let scenarios = scenario::select(&catalogue, &args.scenarios)?;
    let self_exe = std::env::current_exe().context("locate own executable")?;
    let mut specs = resolve_targets(&args, &self_exe)?;
    // The ceiling keeps no table: only the item scenarios mean anything there.
    if !scenarios.iter().any(Scenario::runs_on_ceiling) {
        let before = specs.len();
        specs.retain(|s| s.kind != TargetKind::Ceiling);
        if specs.len() < before {
            eprintln!("skipping ceiling: none of the selected scenarios applies to it");
        }
        if specs.is_empty() {
            bail!("no target to measure");
        }
    }
    let log_dir = match &args.log_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("dynastream-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&log_dir).with_context(|| format!("create {}", log_dir.display()))?;
    let stop = match args.requests {
        Some(n) => Stop::Count(n),
        None => Stop::Duration(args.duration),
    };
    let cpus = cpus();
    eprintln!(
        "dynastream-bench: targets {}; scenarios {}; connections {:?}; {} warm-up + {} per run; {cpus} CPUs; \
         client: {} thread(s), {} runtime; server logs in {}",
        specs.iter().map(|s| s.kind.name()).collect::<Vec<_>>().join(","),
        scenarios.iter().map(|s| s.name).collect::<Vec<_>>().join(","),
        args.connections,
        fmt_duration(args.warmup),
        match stop {
            Stop::Duration(d) => fmt_duration(d),
            Stop::Count(n) => format!("{n} requests"),
        },
        client_threads(&args),
        args.client_runtime.name(),
        log_dir.display(),
    );

    let mut figures = Vec::new();
    let mut results = Results::default();
    for spec in &specs {
        let target_figures =
            bench_target(spec, &args, &fixture, &scenarios, stop, &log_dir, &mut results).await?;
        figures.push(target_figures);
    }
    let Results {
        rows,
        scans,
        visibility,
    } = results;

    let mut tables = String::new();
    if !rows.is_empty() {
        tables.push_str(&format!("\n{}", report::scenarios_table(&rows)));
    }
    let growth = report::growth_table(&rows);
    if !growth.is_empty() {
        tables.push_str(&format!(
            "\nQuery latency as the table grows (query-growth):\n{growth}"
        ));
    }
    if !scans.is_empty() {
        tables.push_str(&format!(
            "\nScan of the whole table (median of --repeat passes):\n{}",
            report::scans_table(&scans)
        ));
    }
    if !visibility.is_empty() {
        tables.push_str(&format!(
            "\nStream record visibility over HTTP (PutItem response → GetRecords answer carrying it; \
             negative: seen before the response):\n{}",
            report::visibility_table(&visibility)
        ));
    }
    tables.push_str(&format!("\n{}", report::targets_table(&figures)));
    let errors = report::errors_section(&rows);
    let rejections = report::rejections_section(&rows);
    let json_to_stdout = args.json.as_deref().is_some_and(|p| p == Path::new("-"));
    if json_to_stdout {
        eprint!("{tables}");
    } else {
        print!("{tables}");
    }
    if !rejections.is_empty() {
        eprintln!("\nRejected (expected refusals, not errors):\n{rejections}");
    }
    if !errors.is_empty() {
        eprintln!("\nErrors:\n{errors}");
    }
    if let Some(path) = &args.json {
        let config = json!({
            "cpus": cpus,
            "client_threads": client_threads(&args),
            "client_runtime": args.client_runtime.name(),
            "connections": args.connections,
            "warmup_s": args.warmup.as_secs_f64(),
            "duration_s": args.requests.is_none().then_some(args.duration.as_secs_f64()),
            "requests": args.requests,
            "items": args.items,
            "payload_bytes": args.payload_bytes,
            "startup_runs": args.startup_runs,
            "repeat": args.repeat,
            "scenarios": scenarios.iter().map(|s| s.name).collect::<Vec<_>>(),
            "growth_items": args.growth_items,
            "scan_items": args.scan_items,
            "accounts": args.accounts,
            "load_connections": args.load_connections,
            "load_budget_s": args.load_budget.as_secs_f64(),
            "stream_samples": args.stream_samples,
        });
        let text = serde_json::to_string_pretty(&report::json(config, &figures, &rows, &scans, &visibility))?;
        if json_to_stdout {
            println!("{text}");
        } else {
            std::fs::write(path, text + "\n").with_context(|| format!("write {}", path.display()))?;
            eprintln!("JSON written to {}", path.display());
        }
    }
    Ok(())
}

/// Chooses the targets: the explicit `--targets` list (each must be
/// available) or every target that is available.
fn resolve_targets(args: &RunArgs, self_exe: &Path) -> Result<Vec<TargetSpec>> {
    let explicit = args.targets.is_some();
    let kinds = args.targets.clone().unwrap_or_else(|| {
        vec![
            TargetKind::Dynastream,
            TargetKind::DynamodbLocal,
            TargetKind::Ceiling,
        ]
    });
    let mut specs = Vec::new();
    for kind in kinds {
        match kind {
            TargetKind::Dynastream => {
                let bin = match &args.dynastream_bin {
                    Some(bin) => bin.clone(),
                    None => self_exe.with_file_name("dynastream"),
                };
                if bin.is_file() {
                    specs.push(TargetSpec::dynastream(&bin));
                } else if explicit || args.dynastream_bin.is_some() {
                    bail!(
                        "dynastream binary {} not found (build it or pass --dynastream-bin)",
                        bin.display()
                    );
                } else {
                    eprintln!("skipping dynastream: {} not found", bin.display());
                }
            }
            TargetKind::DynamodbLocal => match args.dynamodb_local.clone().or_else(cached_dynamodb_local) {
                Some(jar) => specs.push(TargetSpec::dynamodb_local(&args.java, &jar)?),
                None if explicit => {
                    bail!(
                        "no DynamoDBLocal.jar: run emulator/bench/dynamodb-local.sh or pass --dynamodb-local"
                    )
                }
                None => {
                    eprintln!("skipping dynamodb-local: run emulator/bench/dynamodb-local.sh to fetch it")
                }
            },
            TargetKind::Ceiling => specs.push(TargetSpec::ceiling(self_exe)),
        }
    }
    if specs.is_empty() {
        bail!("no target to measure");
    }
    Ok(specs)
}

/// The jar that `emulator/bench/dynamodb-local.sh` caches, if it is there.
fn cached_dynamodb_local() -> Option<PathBuf> {
    let root = match std::env::var_os("DYNASTREAM_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/dynastream"),
    };
    let jar = root.join("dynamodb-local/current/emulator/DynamoDBLocal.jar");
    jar.is_file().then_some(jar)
}

/// Everything measured, over all targets.
#[derive(Default)]
struct Results {
    rows: Vec<Row>,
    scans: Vec<ScanRow>,
    visibility: Vec<VisibilityRow>,
}

/// Measures one target: start-up times, idle memory, every scenario (load
/// scenarios at every concurrency), then memory after the load. Each
/// scenario's table is created and loaded when a scenario first needs it.
async fn bench_target(
    spec: &TargetSpec,
    args: &RunArgs,
    fixture: &Fixture,
    scenarios: &[Scenario],
    stop: Stop,
    log_dir: &Path,
    results: &mut Results,
) -> Result<TargetFigures> {
    let name = spec.kind.name();
    eprintln!("\n[{name}] {}", spec.origin);

    // Start-up: throw-away instances first, then the one that gets the load;
    // each is a separate cold start of the process.
    let runs = args.startup_runs.max(1);
    let mut startup = Vec::with_capacity(runs);
    for run in 1..runs {
        let mut server = spec.spawn(log_dir, run)?;
        let took = server.wait_ready(args.ready_timeout).await?;
        eprintln!("[{name}] start-up run {run}/{runs}: {}", fmt_duration(took));
        startup.push(took);
    }
    let mut server = spec.spawn(log_dir, runs)?;
    let took = server.wait_ready(args.ready_timeout).await?;
    eprintln!("[{name}] start-up run {runs}/{runs}: {}", fmt_duration(took));
    startup.push(took);

    // Let start-up work (JIT threads, lazy allocation) settle before calling
    // the process idle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = procfs::memory(server.pid())?;
    eprintln!("[{name}] idle RSS {:.1} MiB", idle.rss_kib as f64 / 1024.0);

    let uses_fixture = scenarios.iter().any(|s| matches!(s.table, TableRef::Fixture));
    if spec.is_emulator && uses_fixture {
        setup_table(&server, args, fixture).await?;
    }

    let load_settings = LoadSettings {
        client: client_runtime(args),
        connections: args.load_connections,
        budget: args.load_budget,
    };
    let mut loaded_tables: HashMap<&'static str, Loaded> = HashMap::new();
    for scenario in scenarios {
        if !spec.is_emulator && !scenario.runs_on_ceiling() {
            continue;
        }
        let (loaded, table_items) = match &scenario.table {
            TableRef::Fixture => (Loaded { items: fixture.items }, None),
            TableRef::Spec(table) => {
                let loaded = match loaded_tables.get(table.name) {
                    Some(loaded) => *loaded,
                    None => {
                        let loaded = tables::create_and_load(server.addr, name, table, load_settings).await?;
                        loaded_tables.insert(table.name, loaded);
                        loaded
                    }
                };
                (loaded, Some(loaded.items))
            }
        };
        match &scenario.kind {
            Kind::Load(requests) => {
                let pool_size = requests.pool_size.unwrap_or(fixture.items).max(1);
                let pool = requests.pool(pool_size, &loaded)?;
                for &connections in &args.connections {
                    let load = LoadSpec {
                        client: client_runtime(args),
                        connections,
                        warmup: args.warmup,
                        stop,
                    };
                    let mut runs = Vec::with_capacity(args.repeat);
                    for _ in 0..args.repeat.max(1) {
                        wait_quiet(name, args.wait_quiet, server.pid()).await?;
                        let result = load::run(server.addr, pool.clone(), load, Some(server.pid())).await?;
                        let rejected = if requests.can_reject {
                            format!("  rejected {}", result.rejected)
                        } else {
                            String::new()
                        };
                        let items = if requests.reports_items {
                            format!("  {:>8.0} items/s", result.items_per_second())
                        } else {
                            String::new()
                        };
                        eprintln!(
                            "[{name}] {:<7} ×{connections:<3} {:>8.0} req/s{items}  p50 {:>6} µs  p99 {:>6} µs  errors {}{rejected}  other cpu {:.0}%",
                            scenario.name,
                            result.throughput(),
                            result.latencies.percentile(50.0).unwrap_or(0),
                            result.latencies.percentile(99.0).unwrap_or(0),
                            result.errors,
                            result.other_cpu_percent().unwrap_or(0.0),
                        );
                        for (message, count) in result.error_samples.iter().take(3) {
                            eprintln!("[{name}]     {count} × {message}");
                        }
                        runs.push(result);
                    }
                    let mut row = Row::from_runs(name, scenario.name, connections, runs);
                    row.reports_items = requests.reports_items;
                    row.can_reject = requests.can_reject;
                    row.table_items = table_items;
                    results.rows.push(row);
                }
            }
            Kind::Scan { segments } => {
                let TableRef::Spec(table) = &scenario.table else {
                    bail!("scenario {} scans without a table of its own", scenario.name);
                };
                let mut runs = Vec::with_capacity(args.repeat);
                for _ in 0..args.repeat.max(1) {
                    wait_quiet(name, args.wait_quiet, server.pid()).await?;
                    let run = scan::run(server.addr, table.name, *segments, Some(server.pid())).await?;
                    eprintln!(
                        "[{name}] {:<13} {} items in {} pages, {:.3} s ({:.0} items/s)",
                        scenario.name,
                        run.items,
                        run.pages,
                        run.elapsed.as_secs_f64(),
                        run.items_per_second(),
                    );
                    runs.push(run);
                }
                results.scans.push(ScanRow {
                    target: name.to_owned(),
                    scenario: scenario.name.to_owned(),
                    segments: *segments,
                    table_items: loaded.items,
                    runs,
                });
            }
            Kind::StreamVisibility => {
                let TableRef::Spec(table) = &scenario.table else {
                    bail!("scenario {} needs a table with a stream", scenario.name);
                };
                wait_quiet(name, args.wait_quiet, server.pid()).await?;
                let result = streams::measure_visibility(
                    server.addr,
                    table.name,
                    args.stream_samples,
                    args.warmup,
                    args.payload_bytes,
                )
                .await?;
                eprintln!(
                    "[{name}] {} {} samples: response→visible p50 {} µs p99 {} µs, missed {}",
                    scenario.name,
                    result.after_response.count(),
                    result.after_response.percentile(50.0).unwrap_or(0),
                    result.after_response.percentile(99.0).unwrap_or(0),
                    result.missed,
                );
                results.visibility.push(VisibilityRow {
                    target: name.to_owned(),
                    result,
                });
            }
        }
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_load = procfs::memory(server.pid())?;
    eprintln!(
        "[{name}] RSS after load {:.1} MiB (peak {:.1} MiB)",
        after_load.rss_kib as f64 / 1024.0,
        after_load.peak_kib as f64 / 1024.0
    );
    drop(server);

    Ok(TargetFigures {
        target: name.to_owned(),
        origin: spec.origin.clone(),
        startup,
        idle: Some(idle),
        after_load: Some(after_load),
    })
}

/// Creates the fixture table, waits until it is ACTIVE and writes the
/// fixture items with PutItem.
async fn setup_table(server: &RunningServer, args: &RunArgs, fixture: &Fixture) -> Result<()> {
    tables::create(server.addr, &fixture.table, fixture.create_table()).await?;
    if fixture.items == 0 {
        return Ok(());
    }
    let populate = fixture.populate().pool(fixture.items, &Loaded::default())?;
    let connections = args.connections.iter().copied().max().unwrap_or(1);
    let spec = LoadSpec {
        client: client_runtime(args),
        connections,
        warmup: Duration::ZERO,
        stop: Stop::Count(fixture.items),
    };
    let result = load::run(server.addr, populate, spec, None).await?;
    if result.errors > 0 {
        let first = result
            .error_samples
            .first()
            .map_or("", |(message, _)| message.as_str());
        bail!(
            "populating {} items failed {} times, e.g. {first}",
            fixture.items,
            result.errors
        );
    }
    eprintln!(
        "[{}] populated {} items in {} ({:.0} PutItem/s)",
        server_name(server),
        fixture.items,
        fmt_duration(result.elapsed),
        result.throughput()
    );
    Ok(())
}

/// Waits up to `limit` until other processes than the server and the bench
/// have been quiet for a second (see `--wait-quiet`).
async fn wait_quiet(name: &str, limit: Duration, server_pid: u32) -> Result<()> {
    if limit.is_zero() {
        return Ok(());
    }
    const WINDOW: Duration = Duration::from_secs(1);
    let ours =
        || -> Result<Duration> { Ok(procfs::cpu_time(server_pid)? + procfs::cpu_time(std::process::id())?) };
    let started = std::time::Instant::now();
    loop {
        let (before, ours_before) = (procfs::machine_busy()?, ours()?);
        tokio::time::sleep(WINDOW).await;
        let ours = ours()?.saturating_sub(ours_before);
        let busy = procfs::machine_busy()?
            .saturating_sub(before)
            .saturating_sub(ours);
        let share = busy.as_secs_f64() / WINDOW.as_secs_f64();
        if share < 0.1 {
            let waited = started.elapsed().saturating_sub(WINDOW);
            if waited >= WINDOW {
                eprintln!(
                    "[{name}] waited {} for other processes to go quiet",
                    fmt_duration(waited)
                );
            }
            return Ok(());
        }
        if started.elapsed() >= limit {
            eprintln!(
                "[{name}] the machine is still busy ({:.0}% of a CPU) after {}; measuring anyway",
                share * 100.0,
                fmt_duration(limit)
            );
            return Ok(());
        }
    }
}

fn client_runtime(args: &RunArgs) -> ClientRuntime {
    match args.client_runtime {
        ClientRuntimeArg::PerThread => ClientRuntime::PerThread(client_threads(args)),
        ClientRuntimeArg::MultiThread => ClientRuntime::MultiThread,
    }
}

fn server_name(server: &RunningServer) -> &'static str {
    server.kind().name()
}

fn fmt_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}
