//! DynamoDB Streams: the stream store (shards, sequence numbers, rollover, retention, change notification), the
//! record format, and the Streams API. Tables append records through [`Stream::append`] from their write path.
//!
//! Must not import axum or hyper; the edge routes `DynamoDBStreams_20120810.<Op>` to [`api::call`].

pub mod api;
pub mod record;
pub mod store;
pub mod wire;

pub use record::{Record, ViewType};
pub use store::{Stream, StreamRegistry, StreamSettings, StreamStatus};

/// The `X-Amz-Target` prefix of DynamoDB Streams operations.
pub const TARGET_PREFIX: &str = "DynamoDBStreams_20120810";
