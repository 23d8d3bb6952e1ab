//! Development-only routes and the health check. `/_dev/outbox` is mounted only in dev mode.

use crate::sender::Outbox;
use axum::{routing::get, Json, Router};

pub fn outbox(outbox: Outbox) -> Router {
    Router::new().route(
        "/_dev/outbox",
        get(move || async move { Json(outbox.entries()) }),
    )
}

pub fn health() -> Router {
    Router::new().route(
        "/health",
        get(|| async { Json(serde_json::json!({"status": "ok"})) }),
    )
}
