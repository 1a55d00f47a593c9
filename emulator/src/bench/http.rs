//! The HTTP/1.1 plumbing shared by the load generator and the readiness probes:
//! one hyper client connection per TCP stream, so that each connection carries
//! exactly one request at a time.

use std::net::SocketAddr;
use std::pin::Pin;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Content type of the DynamoDB JSON 1.0 protocol.
pub const AMZ_JSON_1_0: &str = "application/x-amz-json-1.0";

/// A plausible SigV4 `Authorization` header. Neither emulator verifies the
/// signature, but DynamoDB Local rejects requests without an access key, and the
/// credential scope tells it (and dynastream) the account and region.
pub const AUTHORIZATION_VALUE: &str = "AWS4-HMAC-SHA256 \
    Credential=test/20261126/us-east-1/dynamodb/aws4_request, \
    SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
    Signature=3f1c2a9a0c5f6e8b7d4a2e1f0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";

/// The request date that matches the credential scope above.
pub const AMZ_DATE_VALUE: &str = "20261126T000000Z";

/// The `X-Amz-Date` header name.
pub static X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");

/// The `X-Amz-Target` header name.
pub static X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");

/// Builds the `X-Amz-Target` value for a DynamoDB operation such as `PutItem`.
pub fn amz_target(operation: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(&format!("DynamoDB_20120810.{operation}"))
        .with_context(|| format!("invalid operation name {operation:?}"))
}

/// Builds the `X-Amz-Target` value for a DynamoDB Streams operation such as
/// `GetRecords` (served on the same port as DynamoDB by both emulators).
pub fn streams_target(operation: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(&format!("DynamoDBStreams_20120810.{operation}"))
        .with_context(|| format!("invalid operation name {operation:?}"))
}

/// Sends one JSON request on `conn` and parses the answer; any status but 200
/// is an error carrying the answer's body. For set-up and bookkeeping calls,
/// not for measured loads (which classify answers themselves).
pub async fn call(
    conn: &mut Connection,
    headers: &CommonHeaders,
    target: &HeaderValue,
    body: &serde_json::Value,
) -> Result<serde_json::Value> {
    let request = headers.dynamodb_request(target, Bytes::from(body.to_string()));
    let (status, answer) = conn.send(request).await?;
    if status != StatusCode::OK {
        bail!(
            "{} answered {status}: {}",
            target.to_str().unwrap_or("request"),
            String::from_utf8_lossy(&answer)
        );
    }
    serde_json::from_slice(&answer)
        .with_context(|| format!("parse the answer to {}", target.to_str().unwrap_or("request")))
}

/// Headers that every DynamoDB request carries, built once per connection so
/// that the request loop only clones them (cheap: they are static or shared).
#[derive(Clone)]
pub struct CommonHeaders {
    host: HeaderValue,
    content_type: HeaderValue,
    authorization: HeaderValue,
    amz_date: HeaderValue,
}

impl CommonHeaders {
    /// Headers for a server listening on `addr`.
    pub fn new(addr: SocketAddr) -> Result<Self> {
        Ok(Self {
            host: HeaderValue::from_str(&addr.to_string()).context("host header")?,
            content_type: HeaderValue::from_static(AMZ_JSON_1_0),
            authorization: HeaderValue::from_static(AUTHORIZATION_VALUE),
            amz_date: HeaderValue::from_static(AMZ_DATE_VALUE),
        })
    }

    /// A `POST /` DynamoDB request with the given target and pre-built body.
    pub fn dynamodb_request(&self, target: &HeaderValue, body: Bytes) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from_static("/");
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(CONTENT_TYPE, self.content_type.clone());
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(X_AMZ_DATE.clone(), self.amz_date.clone());
        headers.insert(X_AMZ_TARGET.clone(), target.clone());
        request
    }

    /// A body-less `GET` request for `path`.
    pub fn get_request(&self, path: &'static str) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = Uri::from_static(path);
        request.headers_mut().insert(HOST, self.host.clone());
        request
    }
}

/// The hyper connection future that drives the socket.
type Driver = http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// One keep-alive HTTP/1.1 connection with at most one request in flight.
///
/// The connection future is polled by the same task that sends requests,
/// rather than spawned: a spawned driver means every request hops between two
/// tasks (and often two threads), which on a 2-core machine adds latency and
/// noise to exactly what is being measured.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: Pin<Box<Driver>>,
}

impl Connection {
    /// Connects to `addr` with TCP_NODELAY (without it, Nagle's algorithm and
    /// delayed ACKs add tens of milliseconds to small request/response pairs).
    pub async fn open(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect to {addr}"))?;
        stream.set_nodelay(true).context("set TCP_NODELAY")?;
        let (sender, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        Ok(Self {
            sender,
            driver: Box::pin(driver),
        })
    }

    /// Sends one request and reads the whole response body (which the
    /// connection needs anyway before it can carry the next request).
    ///
    /// After an error the connection must be dropped: its driver may have
    /// finished, and a finished future must not be polled again.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes)> {
        let exchange = async {
            self.sender.ready().await.context("connection closed")?;
            let response = self.sender.send_request(request).await.context("send request")?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .context("read response body")?
                .to_bytes();
            anyhow::Ok((status, body))
        };
        tokio::select! {
            // The exchange first: once it has its answer, the driver need not
            // be polled until the next request.
            biased;
            result = exchange => result,
            ended = self.driver.as_mut() => match ended {
                Ok(()) => bail!("server closed the connection"),
                Err(err) => Err(err).context("connection failed"),
            },
        }
    }
}
