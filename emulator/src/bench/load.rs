//! The load generator: N keep-alive connections, one request in flight on
//! each, a warm-up phase whose results are discarded, then a measured phase
//! bounded by time or by request count.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::http::{CommonHeaders, Connection};
use crate::procfs;
use crate::scenario::{RequestPool, Verdict};

/// When the measured phase ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// After this much time.
    Duration(Duration),
    /// After this many requests, over all connections.
    Count(u64),
}

/// How the client's connections are spread over threads.
#[derive(Debug, Clone, Copy)]
pub enum ClientRuntime {
    /// One thread per value, each running its own single-threaded tokio
    /// runtime with a share of the connections (wrk's design).
    PerThread(usize),
    /// All connections on the ambient multi-threaded (work-stealing) tokio
    /// runtime.
    MultiThread,
}

/// How to drive one scenario.
#[derive(Debug, Clone, Copy)]
pub struct LoadSpec {
    /// How the client runs.
    pub client: ClientRuntime,
    /// Concurrent connections, each with one request in flight.
    pub connections: usize,
    /// Warm-up time before measuring.
    pub warmup: Duration,
    /// End of the measured phase.
    pub stop: Stop,
}

/// The outcome of one scenario run.
#[derive(Debug)]
pub struct LoadResult {
    /// Successful requests (by the pool's check: usually HTTP 200) completed
    /// in the measured phase.
    pub requests: u64,
    /// Items the successful measured requests read or wrote, as the pool's
    /// check counted them.
    pub items: u64,
    /// Requests the check classed as expected refusals (a cancelled
    /// transaction) in the measured phase; neither successes nor errors.
    pub rejected: u64,
    /// Distinct refusal reasons with their counts, most frequent first.
    pub rejected_samples: Vec<(String, u64)>,
    /// Failed requests (non-200 status or transport error), warm-up included.
    pub errors: u64,
    /// Length of the measured phase.
    pub elapsed: Duration,
    /// Latencies of the successful measured requests.
    pub latencies: Histogram,
    /// Distinct error descriptions with their counts, most frequent first.
    pub error_samples: Vec<(String, u64)>,
    /// CPU time the server process used during the measured phase, if known.
    pub server_cpu: Option<Duration>,
    /// CPU time the rest of the machine (neither the server nor this bench:
    /// other people's builds, the hypervisor's steal) used during the
    /// measured phase, if known. On a shared 2-CPU machine it explains
    /// otherwise puzzling runs.
    pub other_cpu: Option<Duration>,
}

impl LoadResult {
    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// Items read or written per second by the successful requests.
    pub fn items_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { self.items as f64 / secs } else { 0.0 }
    }

    /// CPU used by other processes during the measured phase, as a
    /// percentage of one CPU.
    pub fn other_cpu_percent(&self) -> Option<f64> {
        let cpu = self.other_cpu?;
        let secs = self.elapsed.as_secs_f64();
        (secs > 0.0).then(|| cpu.as_secs_f64() * 100.0 / secs)
    }

    /// Server CPU microseconds per successful request, if known.
    pub fn server_cpu_us_per_request(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        (self.requests > 0).then(|| cpu.as_secs_f64() * 1e6 / self.requests as f64)
    }
}

/// Latencies in microseconds, sorted ascending.
#[derive(Debug, Default)]
pub struct Histogram {
    sorted_us: Vec<u32>,
}

impl Histogram {
    /// Sorts the samples.
    pub fn from_unsorted(mut samples: Vec<u32>) -> Self {
        samples.sort_unstable();
        Self { sorted_us: samples }
    }

    /// The nearest-rank percentile `p` (0–100), in microseconds.
    pub fn percentile(&self, p: f64) -> Option<u32> {
        nearest_rank(&self.sorted_us, p)
    }

    /// The largest sample, in microseconds.
    pub fn max(&self) -> Option<u32> {
        self.sorted_us.last().copied()
    }

    /// The mean, in microseconds.
    pub fn mean(&self) -> Option<f64> {
        let n = self.sorted_us.len();
        (n > 0).then(|| self.sorted_us.iter().map(|&us| f64::from(us)).sum::<f64>() / n as f64)
    }
}

/// The nearest-rank percentile `p` (0–100) of ascending `sorted` samples.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Keeps the distinct errors seen, bounded so a failing server cannot make the
/// bench hoard memory.
#[derive(Default)]
struct ErrorLog {
    counts: HashMap<String, u64>,
}

impl ErrorLog {
    const MAX_DISTINCT: usize = 20;
    const MAX_LEN: usize = 300;

    fn record(&mut self, mut message: String) {
        if message.len() > Self::MAX_LEN {
            let mut cut = Self::MAX_LEN;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        if self.counts.len() < Self::MAX_DISTINCT || self.counts.contains_key(&message) {
            *self.counts.entry(message).or_default() += 1;
        } else {
            *self.counts.entry("(other errors)".to_owned()).or_default() += 1;
        }
    }

    fn into_sorted(self) -> Vec<(String, u64)> {
        let mut samples: Vec<_> = self.counts.into_iter().collect();
        samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        samples
    }
}

/// State shared by the workers of one run.
struct Shared {
    addr: SocketAddr,
    headers: CommonHeaders,
    pool: Arc<RequestPool>,
    /// Index of the next request body; shared so that concurrent workers
    /// touch different keys.
    next: AtomicU64,
    /// Measured requests claimed so far, for [`Stop::Count`].
    claimed: AtomicU64,
    warmup_end: Instant,
    end: Option<Instant>,
    count: Option<u64>,
    errors: Mutex<ErrorLog>,
    rejections: Mutex<ErrorLog>,
}

impl Shared {
    fn record_error(&self, message: String) {
        record(&self.errors, message);
    }

    fn record_rejection(&self, reason: String) {
        record(&self.rejections, reason);
    }
}

fn record(log: &Mutex<ErrorLog>, message: String) {
    // A poisoned lock only means another worker panicked mid-insert; the map
    // is still usable for a best-effort summary.
    log.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .record(message);
}

fn take(log: &Mutex<ErrorLog>) -> Vec<(String, u64)> {
    std::mem::take(&mut *log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).into_sorted()
}

#[derive(Default)]
struct WorkerOutcome {
    latencies_us: Vec<u32>,
    ok: u64,
    items: u64,
    rejected: u64,
    errors: u64,
    last_done: Option<Instant>,
}

/// Runs one scenario against `addr`. `server_pid`, when known, is sampled for
/// CPU time at the start and end of the measured phase.
pub async fn run(
    addr: SocketAddr,
    pool: Arc<RequestPool>,
    spec: LoadSpec,
    server_pid: Option<u32>,
) -> Result<LoadResult> {
    let start = Instant::now();
    let warmup_end = start + spec.warmup;
    let (end, count) = match spec.stop {
        Stop::Duration(d) => (Some(warmup_end + d), None),
        Stop::Count(n) => (None, Some(n)),
    };
    let shared = Arc::new(Shared {
        addr,
        headers: CommonHeaders::new(addr)?,
        pool,
        next: AtomicU64::new(0),
        claimed: AtomicU64::new(0),
        warmup_end,
        end,
        count,
        errors: Mutex::default(),
        rejections: Mutex::default(),
    });

    // Sample the server's CPU clock when measuring begins, on a task of its
    // own so that no worker is delayed by the /proc read.
    let cpu_at_start = server_pid.map(|pid| {
        tokio::spawn(async move {
            tokio::time::sleep_until(warmup_end.into()).await;
            CpuSample::take(pid)
        })
    });

    let connections = spec.connections.max(1);
    let outcomes = match spec.client {
        ClientRuntime::MultiThread => {
            let workers: Vec<_> = (0..connections)
                .map(|_| tokio::spawn(worker(Arc::clone(&shared))))
                .collect();
            let mut outcomes = Vec::with_capacity(connections);
            for handle in workers {
                outcomes.push(handle.await.context("worker task panicked")?);
            }
            outcomes
        }
        ClientRuntime::PerThread(threads) => {
            let shared = Arc::clone(&shared);
            tokio::task::spawn_blocking(move || run_per_thread(&shared, connections, threads))
                .await
                .context("client threads panicked")??
        }
    };
    let mut outcome = WorkerOutcome::default();
    for w in outcomes {
        outcome.latencies_us.extend_from_slice(&w.latencies_us);
        outcome.ok += w.ok;
        outcome.items += w.items;
        outcome.rejected += w.rejected;
        outcome.errors += w.errors;
        outcome.last_done = outcome.last_done.max(w.last_done);
    }

    let (server_cpu, other_cpu) = match (server_pid, cpu_at_start) {
        (Some(pid), Some(task)) => {
            let before = task.await.context("CPU sampler panicked")??;
            let after = CpuSample::take(pid)?;
            let server = after.server.saturating_sub(before.server);
            let client = after.client.saturating_sub(before.client);
            let machine = after.machine.saturating_sub(before.machine);
            (Some(server), Some(machine.saturating_sub(server + client)))
        }
        _ => (None, None),
    };

    let elapsed = match spec.stop {
        Stop::Duration(d) => d,
        Stop::Count(_) => outcome
            .last_done
            .map_or(Duration::ZERO, |done| done.saturating_duration_since(warmup_end)),
    };
    Ok(LoadResult {
        requests: outcome.ok,
        items: outcome.items,
        rejected: outcome.rejected,
        rejected_samples: take(&shared.rejections),
        errors: outcome.errors,
        elapsed,
        latencies: Histogram::from_unsorted(outcome.latencies_us),
        error_samples: take(&shared.errors),
        server_cpu,
        other_cpu,
    })
}

/// CPU clocks read together.
struct CpuSample {
    server: Duration,
    client: Duration,
    machine: Duration,
}

impl CpuSample {
    fn take(server_pid: u32) -> Result<Self> {
        Ok(Self {
            server: procfs::cpu_time(server_pid)?,
            client: procfs::cpu_time(std::process::id())?,
            machine: procfs::machine_busy()?,
        })
    }
}

/// Runs the workers on `threads` OS threads, each with its own
/// single-threaded tokio runtime, connections dealt round-robin: like wrk's
/// event-loop-per-thread design, a request never needs another thread to be
/// woken, which on a small VM costs tens of microseconds per hop.
fn run_per_thread(shared: &Arc<Shared>, connections: usize, threads: usize) -> Result<Vec<WorkerOutcome>> {
    let threads = threads.clamp(1, connections);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine = connections / threads + usize::from(t < connections % threads);
                let shared = Arc::clone(shared);
                scope.spawn(move || -> Result<Vec<WorkerOutcome>> {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .context("build client runtime")?;
                    runtime.block_on(async {
                        let workers: Vec<_> = (0..mine)
                            .map(|_| tokio::spawn(worker(Arc::clone(&shared))))
                            .collect();
                        let mut outcomes = Vec::with_capacity(mine);
                        for handle in workers {
                            outcomes.push(handle.await.context("worker task panicked")?);
                        }
                        Ok(outcomes)
                    })
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(connections);
        for handle in handles {
            let thread_outcomes = handle
                .join()
                .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
            outcomes.extend(thread_outcomes);
        }
        Ok(outcomes)
    })
}

/// Consecutive failed connection attempts after which a worker gives up.
const MAX_CONNECT_FAILURES: u32 = 5;

async fn worker(shared: Arc<Shared>) -> WorkerOutcome {
    let mut out = WorkerOutcome::default();
    let mut connection: Option<Connection> = None;
    let mut connect_failures = 0;
    loop {
        let now = Instant::now();
        if shared.end.is_some_and(|end| now >= end) {
            break;
        }
        let measuring = now >= shared.warmup_end;
        if measuring
            && let Some(n) = shared.count
            && shared.claimed.fetch_add(1, Ordering::Relaxed) >= n
        {
            break;
        }
        let conn = match connection.as_mut() {
            Some(conn) => conn,
            None => match Connection::open(shared.addr).await {
                Ok(conn) => {
                    connect_failures = 0;
                    connection.insert(conn)
                }
                Err(err) => {
                    out.errors += 1;
                    shared.record_error(format!("{err:#}"));
                    connect_failures += 1;
                    if connect_failures >= MAX_CONNECT_FAILURES {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };

        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        let request = shared
            .headers
            .dynamodb_request(&shared.pool.target, shared.pool.body(i));
        let started = Instant::now();
        let result = conn.send(request).await;
        let done = Instant::now();
        // Requests still in flight when the window closes are finished (the
        // connection must stay consistent) but not counted.
        let counted = measuring && shared.end.is_none_or(|end| done <= end);
        match result {
            Ok((status, body)) => match (shared.pool.check)(status, &body) {
                Verdict::Ok { items } => {
                    if counted {
                        out.ok += 1;
                        out.items += items;
                        let us = done.duration_since(started).as_micros();
                        out.latencies_us.push(u32::try_from(us).unwrap_or(u32::MAX));
                        out.last_done = Some(done);
                    }
                }
                Verdict::Rejected(reason) => {
                    if counted {
                        out.rejected += 1;
                        out.last_done = Some(done);
                        shared.record_rejection(reason);
                    }
                }
                Verdict::Error(message) => {
                    out.errors += 1;
                    shared.record_error(message);
                }
            },
            Err(err) => {
                out.errors += 1;
                shared.record_error(format!("{err:#}"));
                connection = None;
            }
        }
    }
    out
}
