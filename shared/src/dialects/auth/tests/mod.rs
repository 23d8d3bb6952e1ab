//! Seeds 001 and 004 driven in-process through the whole app router, one file per endpoint group
//! (`json_*` for seed 001, `form_*` for seed 004); the helpers they share are here.

use crate::app::testing::{test_app, Reply, TestApp};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};

mod form_bad_input;
mod form_login;
mod form_logout;
mod form_register;
mod form_whoami;
mod json_create;
mod json_disable;
mod json_login;
mod json_reset;
mod other_dialects;
mod prefix;

const URLENCODED: &str = "application/x-www-form-urlencoded";
const BOUNDARY: &str = "polyauthBoundary7MA4YWxk";

/// The claims of a JWT, without verifying it.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

fn multipart_body(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

async fn form(t: &TestApp, uri: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
    let body = serde_urlencoded::to_string(fields).unwrap();
    t.raw("POST", uri, URLENCODED, &body, headers).await
}

async fn multipart(
    t: &TestApp,
    uri: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Reply {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    t.raw("POST", uri, &content_type, &multipart_body(fields), headers)
        .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

// ---------------------------------------------------------------- seed 001

async fn create(t: &TestApp, username: &str, password: &str, email: &str) -> Reply {
    t.json(
        "POST",
        "/auth/create",
        json!({"username": username, "password": password, "email": email}),
        &[],
    )
    .await
}

async fn login_001(t: &TestApp, username: &str, password: &str) -> Reply {
    t.json(
        "POST",
        "/auth/",
        json!({"username": username, "password": password}),
        &[],
    )
    .await
}

async fn token_001(t: &TestApp, username: &str, password: &str) -> String {
    let r = login_001(t, username, password).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn disable(t: &TestApp, token: &str, username: &str, password: &str) -> Reply {
    let auth = bearer(token);
    t.json(
        "POST",
        "/auth/disable",
        json!({"username": username, "password": password}),
        &[("authorization", &auth)],
    )
    .await
}

/// The original's `failed_api_response`: HTTP status = `code`, and exactly these three fields.
fn assert_err_001(r: &Reply, status: u16, detailed: u32, name: &str, text: &str) {
    assert_eq!(r.status, status, "{}", r.json);
    assert_eq!(
        r.json,
        json!({
            "code": status,
            "detailed_error_code": detailed,
            "error_msg": format!("StatusCode.{name}: {text}"),
        })
    );
}

fn assert_bad_login_info(r: &Reply) {
    assert_err_001(r, 400, 40001, "INVALID_REQUEST_ARGUMENT", "Bad login info");
}

fn assert_bad_user_information(r: &Reply) {
    assert_err_001(
        r,
        400,
        40001,
        "INVALID_REQUEST_ARGUMENT",
        "Bad user information",
    );
}

fn assert_bad_request(r: &Reply) {
    assert_err_001(r, 400, 40000, "BAD_REQUEST", "Bad request");
}

fn assert_login_incorrect(r: &Reply) {
    assert_err_001(
        r,
        401,
        40101,
        "INVALID_USERNAME_OR_PASSWORD",
        "The username or password is incorrect",
    );
}

fn assert_password_wrong(r: &Reply) {
    assert_err_001(
        r,
        401,
        40101,
        "INVALID_USERNAME_OR_PASSWORD",
        "User password is wrong",
    );
}

fn assert_invalid_token(r: &Reply) {
    assert_err_001(r, 401, 40102, "INVALID_TOKEN", "Invalid token");
}

fn assert_user_does_not_exist(r: &Reply) {
    assert_err_001(r, 404, 40400, "ITEM_NOT_FOUND", "User does not exist");
}

// ---------------------------------------------------------------- seed 004

/// An error answer: HTTP status = `code`, and no `data` key at all.
fn assert_fail(r: &Reply, code: u16, message: &str) {
    assert_eq!(r.status, code, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"code": code, "message": message}),
        "{}",
        r.json
    );
    assert!(r.json.get("data").is_none(), "{}", r.json);
}

/// A value outside the seed's limits, or otherwise unacceptable.
fn assert_format_error(r: &Reply) {
    assert_fail(r, 400, "Format Error");
}

async fn register(t: &TestApp, username: &str, password: &str) -> Reply {
    form(
        t,
        "/auth/register",
        &[("username", username), ("password", password)],
        &[],
    )
    .await
}

async fn login_004(t: &TestApp, fields: &[(&str, &str)]) -> Reply {
    form(t, "/auth/login", fields, &[]).await
}

/// The token of a successful seed-004 login: the `Authorization: Bearer <token>` response
/// header, the same token as `data.token`.
fn header_token(r: &Reply) -> String {
    assert_eq!(
        (r.status, r.json["code"].as_i64()),
        (200, Some(200)),
        "{}",
        r.json
    );
    let header = r
        .headers
        .get("authorization")
        .expect("Authorization header")
        .to_str()
        .unwrap();
    let token = header
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not `Bearer <token>`: {header}"));
    assert!(!token.is_empty() && !token.contains(' '), "{header}");
    assert_eq!(r.json["data"]["token"], token, "{}", r.json);
    token.to_string()
}

/// `data` of a successful login without its token (checked by `header_token`).
fn login_data(r: &Reply) -> Value {
    header_token(r);
    let mut data = r.json["data"].clone();
    data.as_object_mut().unwrap().remove("token");
    data
}

async fn whoami(t: &TestApp, authorization: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| ("authorization", a))
        .into_iter()
        .collect();
    t.raw("GET", "/auth/", "", "", &headers).await
}
