//! One module per seed. A dialect only translates: request shape -> service call -> envelope,
//! status and cookies. Each maps the core `Error` to its own codes in exactly one place.
//!
//! Adding a dialect (the README's "Adding a dialect" has the same list):
//! 1. a `Dialect` variant (`domain/dialect.rs`: its names, its token-profile variable); the
//!    compiler then lists every place that must decide for it (token profiles, OpenAPI);
//! 2. a module here: `routes()` (a `utoipa-axum` router: a route exists only with its
//!    documentation), `router(auth)`, and `type Failure = Failed<Op>` with the one
//!    `IntoResponse` naming every `Error` variant;
//! 3. its endpoint group in `lambda.rs` (a `Function` constant, in `Function::ALL`, which the
//!    local server merges too), a `functions/<group>/main.rs` of one line, a `[[bin]]` in
//!    `Cargo.toml`, the function and its routes in `template.yaml`;
//! 4. its OpenAPI document (`openapi.rs`: `about`, `routes`, `file_name`; then
//!    `cargo run -- openapi`), events in `events/` with their answers in
//!    `events/expected.json`, a `tests/` suite per endpoint group, and a row in the README's
//!    dialect table.

pub mod api_v1;
pub mod auth;
pub mod pauli;
pub mod v1;

use crate::Error;
use axum::{
    http::{header, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};

/// The answer to a request no route took: the catch-all of the dialect whose original owned
/// the path, else a JSON 404.
pub async fn unrouted(method: Method, uri: Uri) -> Response {
    if v1::owns(uri.path()) {
        return v1::unrouted(method).await;
    }
    if auth::owns(uri.path()) {
        return auth::unrouted().await;
    }
    if api_v1::owns(uri.path()) {
        return api_v1::unrouted(method, uri).await;
    }
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"error": "not found"})),
    )
        .into_response()
}

/// The request with its path as the router matches it, where an original matched paths
/// more loosely than exactly.
pub fn canonical_path(req: axum::extract::Request) -> axum::extract::Request {
    v1::express_path(req)
}

/// A core error with the endpoint it happened in (`Op`, each dialect's own), where an original
/// worded one failure per endpoint. Each dialect turns it into its envelope in exactly one
/// place: its `IntoResponse` for `Failed<Op>`, which names every `Error` variant.
pub struct Failed<Op> {
    pub error: Error,
    pub op: Op,
}

impl<Op: Default> From<Error> for Failed<Op> {
    fn from(error: Error) -> Self {
        Failed {
            error,
            op: Op::default(),
        }
    }
}

/// Marks a step's failure as having happened in `op`: the core's error, or an extractor's
/// failure, which took the default `Op` since an extractor does not know its endpoint.
pub trait During<T, Op> {
    fn during(self, op: Op) -> Result<T, Failed<Op>>;
}

impl<T, Op> During<T, Op> for Result<T, Error> {
    fn during(self, op: Op) -> Result<T, Failed<Op>> {
        self.map_err(|error| Failed { error, op })
    }
}

impl<T, Op> During<T, Op> for Result<T, Failed<Op>> {
    fn during(self, op: Op) -> Result<T, Failed<Op>> {
        self.map_err(|f| Failed { error: f.error, op })
    }
}

/// Adds `Retry-After` to a refusal that says when to come back.
pub fn retry_after(mut res: Response, e: &Error) -> Response {
    if let Error::TooManyRequests { retry_after } | Error::ResetsExhausted { retry_after } = e {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from((*retry_after).max(1)),
        );
    }
    res
}

/// Seconds to wait, for messages that say when to retry.
pub fn wait_seconds(retry_after: i64) -> i64 {
    retry_after.max(1)
}
