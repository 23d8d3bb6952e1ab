//! Token discovery for verifiers that are not polyauth: the RS256 public keys as a JWK Set and
//! an OpenID-style discovery document naming the issuer and where the keys are (what an API
//! Gateway JWT authorizer reads). Both are public and change only on rotation, so they may be
//! cached for a while; a rotation is published before its key signs (`keyring.rs`).

use crate::Auth;
use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};

pub const JWKS_PATH: &str = "/.well-known/jwks.json";
pub const OPENID_PATH: &str = "/.well-known/openid-configuration";

pub fn router(auth: Auth) -> Router {
    Router::new()
        .route(JWKS_PATH, get(jwks))
        .route(OPENID_PATH, get(openid_configuration))
        .with_state(auth)
}

fn cacheable(body: serde_json::Value) -> Response {
    let mut res = Json(body).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

async fn jwks(State(auth): State<Auth>) -> Response {
    match auth.jwks().await {
        Ok(set) => cacheable(set),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"error": "service unavailable"})),
        )
            .into_response(),
    }
}

async fn openid_configuration(State(auth): State<Auth>) -> Response {
    let config = auth.config();
    cacheable(serde_json::json!({
        "issuer": config.issuer,
        "jwks_uri": format!("{}{JWKS_PATH}", config.public_url.trim_end_matches('/')),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "user_id", "sid"],
    }))
}
