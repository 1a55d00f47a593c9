//! The ceiling: a bare hyper HTTP/1.1 server that reads each request and
//! answers `{}` as DynamoDB JSON 1.0. No emulator built on the same stack can
//! beat it on this machine, so it bounds what the client and the kernel allow.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::http::AMZ_JSON_1_0;

/// Options of the hidden `ceiling` subcommand.
#[derive(Debug, Args)]
pub struct CeilingArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on.
    #[arg(long)]
    port: u16,
    /// Tokio worker threads (default: one per CPU, as a tokio server would use).
    #[arg(long)]
    threads: Option<usize>,
}

/// Runs the ceiling server until the process is killed.
pub fn main(args: CeilingArgs) -> Result<()> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(threads) = args.threads {
        builder.worker_threads(threads);
    }
    builder
        .build()
        .context("build tokio runtime")?
        .block_on(serve(SocketAddr::new(args.host, args.port)))
}

async fn serve(addr: SocketAddr) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("bind {addr}"))?;
    println!("ceiling listening on http://{addr}");
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Transient (e.g. too many open files): keep serving the others.
            Err(err) => {
                eprintln!("accept: {err}");
                continue;
            }
        };
        // Same socket setting as any latency-minded server.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(answer);
            if let Err(err) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection: {err}");
            }
        });
    }
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the body as a real server must before it can parse it; an unread
    // body would also cost the connection its keep-alive.
    let _ = request.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(b"{}")));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON_1_0));
    Ok(response)
}
