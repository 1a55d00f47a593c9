//! The servers under test: how to start each one as a child process, how to
//! tell that it is ready, and a guard that stops it.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::ValueEnum;
use hyper::StatusCode;

use crate::http::{CommonHeaders, Connection, amz_target};

/// A kind of server the bench can measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// The `dynastream` binary.
    Dynastream,
    /// Amazon DynamoDB Local, the official Java emulator.
    DynamodbLocal,
    /// A bare hyper server answering `{}`: the most any server could do here.
    Ceiling,
}

impl TargetKind {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dynastream => "dynastream",
            Self::DynamodbLocal => "dynamodb-local",
            Self::Ceiling => "ceiling",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to tell that a freshly started server answers requests.
#[derive(Debug, Clone, Copy)]
pub enum Probe {
    /// `GET` this path answers 200.
    Get(&'static str),
    /// A DynamoDB `ListTables` answers 200 (DynamoDB Local has no health route).
    ListTables,
}

/// Everything needed to start one target.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// Which target this is.
    pub kind: TargetKind,
    /// The executable.
    pub program: PathBuf,
    /// Arguments before the port number is known; `{port}` is substituted.
    pub args: Vec<OsString>,
    /// Working directory, if it matters.
    pub cwd: Option<PathBuf>,
    /// Readiness check.
    pub probe: Probe,
    /// Whether it is a DynamoDB emulator (the ceiling is not: it keeps no table).
    pub is_emulator: bool,
    /// A description for the report (binary or jar path).
    pub origin: String,
}

impl TargetSpec {
    /// `dynastream serve --host 127.0.0.1 --port N`.
    pub fn dynastream(bin: &Path) -> Self {
        Self {
            kind: TargetKind::Dynastream,
            program: bin.to_path_buf(),
            args: ["serve", "--host", "127.0.0.1", "--port", "{port}"]
                .map(OsString::from)
                .to_vec(),
            cwd: None,
            probe: Probe::Get("/_dynastream/health"),
            is_emulator: true,
            origin: bin.display().to_string(),
        }
    }

    /// `java -Djava.library.path=<lib> -jar DynamoDBLocal.jar -inMemory -sharedDb
    /// -disableTelemetry -port N`, run from the jar's directory.
    ///
    /// `-sharedDb` makes the table visible whatever the credentials and region
    /// (otherwise DynamoDB Local keeps one database per access key and region);
    /// `-disableTelemetry` stops it from trying to reach AWS, which this machine
    /// cannot and which would only add noise.
    pub fn dynamodb_local(java: &Path, jar: &Path) -> Result<Self> {
        let jar = jar
            .canonicalize()
            .with_context(|| format!("DynamoDB Local jar {}", jar.display()))?;
        let dir = jar.parent().context("jar has no parent directory")?.to_path_buf();
        let mut library_path = OsString::from("-Djava.library.path=");
        library_path.push(dir.join("DynamoDBLocal_lib"));
        let mut args = vec![library_path, "-jar".into(), jar.clone().into_os_string()];
        args.extend(["-inMemory", "-sharedDb", "-disableTelemetry", "-port", "{port}"].map(OsString::from));
        Ok(Self {
            kind: TargetKind::DynamodbLocal,
            program: java.to_path_buf(),
            args,
            cwd: Some(dir),
            probe: Probe::ListTables,
            is_emulator: true,
            origin: jar.display().to_string(),
        })
    }

    /// This very executable's hidden `ceiling` subcommand, so that the ceiling
    /// server has its own process and threads rather than sharing the client's.
    pub fn ceiling(self_exe: &Path) -> Self {
        Self {
            kind: TargetKind::Ceiling,
            program: self_exe.to_path_buf(),
            args: ["ceiling", "--port", "{port}"].map(OsString::from).to_vec(),
            cwd: None,
            probe: Probe::Get("/"),
            is_emulator: false,
            origin: format!("{} ceiling", self_exe.display()),
        }
    }

    /// Starts the target on a free loopback port, logging its output to a file
    /// in `log_dir`.
    pub fn spawn(&self, log_dir: &Path, run: usize) -> Result<RunningServer> {
        let port = free_port()?;
        let args: Vec<OsString> = self
            .args
            .iter()
            .map(|arg| {
                if arg == "{port}" {
                    OsString::from(port.to_string())
                } else {
                    arg.clone()
                }
            })
            .collect();
        let log_path = log_dir.join(format!("{}-{run}.log", self.kind));
        let log = File::create(&log_path).with_context(|| format!("create {}", log_path.display()))?;
        let mut command = Command::new(&self.program);
        command
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("clone log handle")?)
            .stderr(log);
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        let spawned_at = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("start {}", self.program.display()))?;
        Ok(RunningServer {
            kind: self.kind,
            child,
            spawned_at,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            probe: self.probe,
            log_path,
        })
    }
}

/// A started server; dropping it kills the process.
pub struct RunningServer {
    kind: TargetKind,
    child: Child,
    spawned_at: Instant,
    /// Where the server listens.
    pub addr: SocketAddr,
    probe: Probe,
    log_path: PathBuf,
}

impl RunningServer {
    /// Which target this is.
    pub fn kind(&self) -> TargetKind {
        self.kind
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls the readiness probe until it succeeds and returns the time from
    /// spawning to that first answered request.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<Duration> {
        let headers = CommonHeaders::new(self.addr)?;
        let deadline = self.spawned_at + timeout;
        loop {
            if let Some(status) = self.child.try_wait().context("poll child")? {
                bail!(
                    "{} exited with {status} before answering\n{}",
                    self.kind,
                    self.log_tail()
                );
            }
            if self.probe_once(&headers).await {
                return Ok(self.spawned_at.elapsed());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not answer within {timeout:?}\n{}",
                    self.kind,
                    self.log_tail()
                );
            }
            // Short enough to resolve start-up times of a few milliseconds; a
            // refused connect costs microseconds, so this hardly loads the CPU.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    async fn probe_once(&self, headers: &CommonHeaders) -> bool {
        let request = match self.probe {
            Probe::Get(path) => headers.get_request(path),
            Probe::ListTables => match amz_target("ListTables") {
                Ok(target) => headers.dynamodb_request(&target, Bytes::from_static(b"{}")),
                Err(_) => return false,
            },
        };
        let attempt = async {
            let mut conn = Connection::open(self.addr).await?;
            conn.send(request).await
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(2), attempt).await,
            Ok(Ok((StatusCode::OK, _)))
        )
    }

    /// The last lines of the server's output, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", self.log_path.display())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // SIGKILL: the servers hold nothing worth flushing (DynamoDB Local runs
        // in memory), and waiting reaps the process so the port is free.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now. The port is released before
/// the server binds it; another process could grab it in between, which on a
/// quiet bench machine does not happen in practice.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("bind a free port")?;
    Ok(listener.local_addr().context("local address")?.port())
}
