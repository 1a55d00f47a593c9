//! The Lambda REST API under `/2015-03-31/`, and the emulator's code download endpoint.

use std::sync::Arc;

use axum::Router;

use crate::edge::Services;

/// The Lambda routes, merged into the edge's router.
pub fn router() -> Router<Arc<Services>> {
    Router::new()
}
