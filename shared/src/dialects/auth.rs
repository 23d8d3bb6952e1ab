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

use crate::{services::Dialect, Auth};
use axum::{handler::Handler, routing::post, Extension, Router};

pub fn router(auth: Auth) -> Router {
    // Each handler is marked with its seed's dialect (security events name it).
    let json = Extension(Dialect::AuthJson);
    let form = Extension(Dialect::AuthForm);
    Router::new()
        // Seed 001 (POST) and seed 004 (GET) on the same path.
        .route(
            "/auth/",
            post(json::login.layer(json)).get(form::whoami.layer(form)),
        )
        .route(
            "/auth",
            post(json::login.layer(json)).get(form::whoami.layer(form)),
        )
        // Seed 001.
        .route("/auth/create", post(json::create.layer(json)))
        .route("/auth/disable", post(json::disable.layer(json)))
        .route("/auth/reset", post(json::reset.layer(json)))
        // Seed 004.
        .route("/auth/login", post(form::login.layer(form)))
        .route("/auth/register", post(form::register.layer(form)))
        .route("/auth/logout", post(form::logout.layer(form)))
        .with_state(auth)
}

#[cfg(test)]
mod tests;
