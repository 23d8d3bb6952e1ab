//! Seeds 001 and 004 share the `/auth` prefix. Their routes differ by method or path, so both
//! live side by side on one router: `POST /auth/` is seed 001's login, `GET /auth/` is seed
//! 004's who-am-I; each path is served with and without the trailing slash of `/auth/`.
//!
//! | route                | seed | module   |
//! |----------------------|------|----------|
//! | `POST /auth/`        | 001  | [`json`] |
//! | `POST /auth/create`  | 001  | [`json`] |
//! | `POST /auth/disable` | 001  | [`json`] |
//! | `POST /auth/reset`   | 001  | [`json`] |
//! | `GET /auth/`         | 004  | [`form`] |
//! | `POST /auth/login`   | 004  | [`form`] |
//! | `POST /auth/register`| 004  | [`form`] |
//! | `POST /auth/logout`  | 004  | [`form`] |
//!
//! Each seed keeps its own envelope and its own one-place error mapping (`json::Failure`,
//! `form::Failure`); the decisions taken where a seed is silent are listed in each module's
//! documentation.

pub mod form;
pub mod json;

use crate::Auth;
use axum::{routing::post, Router};

pub fn router(auth: Auth) -> Router {
    Router::new()
        // Seed 001 (POST) and seed 004 (GET) on the same path.
        .route("/auth/", post(json::login).get(form::whoami))
        .route("/auth", post(json::login).get(form::whoami))
        // Seed 001.
        .route("/auth/create", post(json::create))
        .route("/auth/disable", post(json::disable))
        .route("/auth/reset", post(json::reset))
        // Seed 004.
        .route("/auth/login", post(form::login))
        .route("/auth/register", post(form::register))
        .route("/auth/logout", post(form::logout))
        .with_state(auth)
}

#[cfg(test)]
mod tests;
