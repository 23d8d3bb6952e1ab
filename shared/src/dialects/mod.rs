//! One module per seed. A dialect only translates: request shape -> service call -> envelope,
//! status and cookies. Each maps the core `Error` to its own codes in exactly one place.
//!
//! Adding a dialect: a module here with its router and its one `Failure` mapping (every
//! `Error` variant named, so a new failure mode is a compile error until it is decided), a
//! `Dialect` variant for its sessions, its routes in `app`, a function in `functions/` and
//! `template.yaml`, events in `events/`, and a row in the README's dialect table.

pub mod api_v1;
pub mod auth;
pub mod pauli;
pub mod v1;

use crate::Error;
use axum::{
    http::{header, HeaderValue},
    response::Response,
};

/// Adds `Retry-After` to a refusal that says when to come back.
pub fn retry_after(mut res: Response, e: &Error) -> Response {
    if let Error::TooManyRequests { retry_after } = e {
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
