//! Binding and running the edge: used by `dynastream serve` and by tests, which bind port 0.

use std::{future::Future, io, net::SocketAddr, sync::Arc};

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::{config::ServeArgs, edge};

/// A bound, not yet running, emulator.
pub struct Server {
    listener: TcpListener,
    services: Arc<edge::Services>,
}

impl Server {
    /// Binds the edge's port.
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            services: Arc::new(edge::Services::new()),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        // NB: small request/response pairs on keep-alive connections: Nagle's delay would dominate latency.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, edge::router(self.services))
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// `dynastream serve`: binds, prints the ready line, serves until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs) -> io::Result<()> {
    let server = Server::bind(SocketAddr::new(args.host, args.port))
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
