//! dynastream: a fast, faithful emulator of Amazon DynamoDB, DynamoDB Streams and AWS Lambda.
//!
//! The tree reads as the architecture: [`edge`] is the HTTP edge on port 4566 (routing, AWS error envelopes,
//! request ids, health); [`dynamodb`] is the DynamoDB service (item model, expressions, tables, operations).

pub mod config;
pub mod dynamodb;
pub mod edge;
pub mod lambda;
pub mod server;
pub mod streams;

pub use config::ServeArgs;
pub use server::{Server, serve};
