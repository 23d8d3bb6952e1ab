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
//! documentation. Each seed also has its own route list, which is its OpenAPI document, so the
//! router is built from those two lists alone and every route it serves is documented.

pub mod form;
pub mod json;

use crate::Auth;
use axum::Router;
use utoipa_axum::router::UtoipaMethodRouter;

/// Both seeds' routes; where a path is both seeds' (`/auth/`, `/auth`), the POST of seed 001
/// and the GET of seed 004 are merged onto it, each marked with its own dialect.
pub fn router(auth: Auth) -> Router {
    let json: Router = json::routes().with_state(auth.clone()).into();
    let form: Router = form::routes().with_state(auth).into();
    json.merge(form.method_not_allowed_fallback(form::method_not_allowed))
}

/// Whether `path` is under `/auth`, where a request no route takes gets seed 004's 404.
pub(crate) fn owns(path: &str) -> bool {
    path == "/auth" || path.starts_with("/auth/")
}

/// What no route under `/auth` takes: seed 004's 404 (its original served the whole prefix;
/// seed 001's Django answered an HTML page, which its Flutter client could not decode either).
pub(crate) async fn unrouted() -> axum::response::Response {
    form::not_found()
}

/// A seed's route list: `root`, its route at `/auth/`, which is served at `/auth` too, and the
/// `others`.
fn seed<const N: usize>(
    root: UtoipaMethodRouter<Auth>,
    others: [UtoipaMethodRouter<Auth>; N],
) -> crate::openapi::Routes {
    let unslashed = crate::openapi::alias(root.clone(), "/auth");
    crate::openapi::list([root, unslashed].into_iter().chain(others))
}

#[cfg(test)]
mod tests;
