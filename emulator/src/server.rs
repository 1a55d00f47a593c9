//! Binding and running the edge: used by `dynastream serve` and by tests, which bind port 0.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::{
    config::ServeArgs,
    dynamodb::ttl,
    edge,
    lambda::{LambdaSettings, environments::EnvironmentSettings},
    streams::StreamSettings,
};

/// How a [`Server`] runs, beyond the address it binds.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How often the time-to-live sweeper deletes expired items.
    pub ttl_sweep_interval: Duration,
    /// Shard lifetime and retention of table streams.
    pub streams: StreamSettings,
    /// How Lambda runs handlers.
    pub lambda: LambdaSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ttl_sweep_interval: ttl::DEFAULT_SWEEP_INTERVAL,
            streams: StreamSettings::default(),
            lambda: LambdaSettings::default(),
        }
    }
}

impl From<&ServeArgs> for Settings {
    fn from(args: &ServeArgs) -> Self {
        Self {
            ttl_sweep_interval: args.ttl_sweep_interval,
            streams: StreamSettings {
                shard_lifetime: args.stream_shard_lifetime,
                retention: args.stream_retention,
            },
            lambda: LambdaSettings {
                environments: EnvironmentSettings {
                    idle_timeout: args.lambda_idle_timeout,
                    start_timeout: args.lambda_start_timeout,
                    ..EnvironmentSettings::default()
                },
                agent_program: None,
                executor: match args.lambda_executor.resolve() {
                    crate::config::ExecutorKind::Kubernetes => crate::lambda::ExecutorSettings::Kubernetes {
                        runtime_images: args.runtime_images.clone(),
                    },
                    _ => crate::lambda::ExecutorSettings::Process,
                },
            },
        }
    }
}

/// A bound, not yet running, emulator.
pub struct Server {
    listener: TcpListener,
    services: Arc<edge::Services>,
    settings: Settings,
}

impl Server {
    /// Binds the edge's port, with the default [`Settings`].
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Self::bind_with(addr, Settings::default()).await
    }

    /// Binds the edge's port, with `settings`.
    pub async fn bind_with(addr: SocketAddr, settings: Settings) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            services: Arc::new(edge::Services::with_settings(
                settings.streams,
                settings.lambda.clone(),
            )),
            settings,
        })
    }

    /// The emulator's state, for in-process observers (benchmarks and tests that subscribe to streams).
    pub fn services(&self) -> Arc<edge::Services> {
        self.services.clone()
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and stops the background tasks
    /// (the time-to-live sweeper) before returning.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        let sweeper = ttl::spawn(
            self.services.clone(),
            |services| &services.dynamodb,
            self.settings.ttl_sweep_interval,
        );
        let environments = self.services.lambda.environments.clone();
        if let Ok(addr) = self.listener.local_addr() {
            // Local agents reach the emulator on loopback when it listens on every address.
            let host = if addr.ip().is_unspecified() {
                "127.0.0.1".to_owned()
            } else {
                addr.ip().to_string()
            };
            environments.set_emulator_url(format!("http://{host}:{}", addr.port()));
        }
        let reaper = {
            let environments = environments.clone();
            let tick =
                (environments.idle_timeout() / 2).clamp(Duration::from_millis(50), Duration::from_secs(5));
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(tick);
                loop {
                    ticks.tick().await;
                    environments.reap_idle();
                }
            })
        };
        // NB: small request/response pairs on keep-alive connections: Nagle's delay would dominate latency.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let stopping = environments.clone();
        let shutdown = async move {
            shutdown.await;
            // Agents hold long-polls open: stop them first, or the graceful shutdown would wait for them.
            stopping.shutdown();
        };
        let served = axum::serve(listener, edge::router(self.services))
            .with_graceful_shutdown(shutdown)
            .await;
        reaper.abort();
        environments.shutdown();
        // Pods are deleted through the API: wait (briefly) for that before the process ends.
        environments.executor().shutdown().await;
        sweeper.stop().await;
        served
    }
}

/// `dynastream serve`: binds, prints the ready line, serves until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs) -> io::Result<()> {
    let server = Server::bind_with(SocketAddr::new(args.host, args.port), Settings::from(&args))
        .await
        .map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("failed to listen on {}:{}: {err}", args.host, args.port),
            )
        })?;
    let addr = server.local_addr()?;
    tracing::info!("dynastream {} ready on http://{addr}", env!("CARGO_PKG_VERSION"));
    server.run(shutdown_signal()).await?;
    tracing::info!("dynastream stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
