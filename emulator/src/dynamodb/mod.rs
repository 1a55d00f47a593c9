//! The DynamoDB service: the item model ([`value`], [`number`], [`key`]), expressions ([`expr`]), tables and
//! their items ([`table`], [`store`]) and one function per AWS operation ([`ops`]), dispatched by [`ops::call`].
//!
//! Must not import axum or hyper: the edge hands it a body and a [`RequestContext`](crate::edge::RequestContext)
//! and gets bytes or an [`AwsError`](crate::edge::AwsError) back.

pub mod expr;
pub mod index;
pub mod key;
pub mod number;
pub mod ops;
pub mod store;
pub mod table;
pub mod ttl;
pub mod validate;
pub mod value;
pub mod wire;

/// The `X-Amz-Target` prefix of DynamoDB operations.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810";

pub use ops::call;
pub use store::DynamoDb;
