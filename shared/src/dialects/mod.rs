//! One module per seed. A dialect only translates: request shape -> service call -> envelope,
//! status and cookies. Each maps the core `Error` to its own codes in exactly one place.

pub mod api_v1;
pub mod auth;
pub mod pauli;
pub mod v1;

use crate::Error;
use axum::http::StatusCode;

/// The HTTP status for the class of an error; bodies carry each dialect's own code.
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. }
        | Error::CaptchaInvalid
        | Error::CodeInvalid
        | Error::ResetTokenInvalid => StatusCode::BAD_REQUEST,
        Error::InvalidCredentials(_)
        | Error::Unauthenticated
        | Error::TokenExpired
        | Error::NoPendingLogin => StatusCode::UNAUTHORIZED,
        Error::CaptchaRequired { .. } | Error::Forbidden | Error::Disabled => StatusCode::FORBIDDEN,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::AlreadyExists { .. } => StatusCode::CONFLICT,
        Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A short English description of an error for a dialect's free-text message field.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Invalid { field, reason } => format!("invalid {field}: {reason}"),
        Error::TooManyRequests { retry_after } => {
            format!("too many requests, retry after {retry_after}s")
        }
        other => other.to_string(),
    }
}
