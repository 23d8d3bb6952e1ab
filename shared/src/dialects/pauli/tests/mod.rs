//! Seed 000 (`/pauli/auth/api`) driven in-process, one file per endpoint group; the helpers they
//! share are here.

use crate::{
    app::testing::{set_cookie, test_app, Reply, TestApp},
    domain::{Email, Password, Permission, Profile, User},
    sender::OutboxEntry,
    services::NewUser,
};
use serde_json::{json, Value};

mod bad_input;
mod change;
mod codes;
mod create;
mod login;
mod other_dialects;
mod record;
mod reset;
mod sessions;

const P: &str = "/pauli/auth/api";
const MOBILE: &str = "13312341234";
const E164: &str = "+8613312341234";

fn url(path: &str) -> String {
    format!("{P}{path}")
}

fn new_user(email: &str, mobile: Option<&str>, password: &str, t: &TestApp) -> NewUser {
    NewUser {
        email: Some(Email::parse(email).unwrap()),
        mobile: mobile.map(|m| t.app.auth.phone(m).unwrap()),
        password: Some(Password::attempt(password).unwrap()),
        profile: Profile {
            name: "Alice".into(),
            position_id: "team-7".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn grant(t: &TestApp, user: &User, permission: &str) -> User {
    t.app
        .auth
        .grant_permission(user, Permission::parse(permission).unwrap())
        .await
        .unwrap()
}

fn session(value: &str) -> String {
    format!("pauli_session={value}")
}

fn pending(value: &str) -> String {
    format!("pauli_pending={value}")
}

async fn get(t: &TestApp, path: &str, cookie: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", *c)).collect();
    t.raw("GET", &url(path), "", "", &headers).await
}

async fn send(t: &TestApp, method: &str, path: &str, body: Value, cookie: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", *c)).collect();
    t.json(method, &url(path), body, &headers).await
}

async fn login(t: &TestApp, username: &str, password: &str) -> Reply {
    send(
        t,
        "PUT",
        "/pass/login",
        json!({"username": username, "password": password}),
        None,
    )
    .await
}

/// Logs in a user without a mobile; answers the session cookie value.
async fn login_direct(t: &TestApp, username: &str, password: &str) -> String {
    let r = login(t, username, password).await;
    assert_eq!(r.json["code"], 0, "{}", r.json);
    set_cookie(&r, "pauli_session").expect("session cookie")
}

/// The password step of a user with a mobile; answers the pending cookie value.
async fn login_pending(t: &TestApp, username: &str, password: &str) -> String {
    let r = login(t, username, password).await;
    assert_eq!(r.json["code"], 1032, "{}", r.json);
    set_cookie(&r, "pauli_pending").expect("pending cookie")
}

fn code(r: &Reply) -> i64 {
    r.json["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no code in {}", r.json))
}

/// Every answer has the envelope: an integer code, a text msg and an object result, with HTTP
/// 200 (only an outage answers otherwise).
fn assert_envelope(r: &Reply) {
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(r.json["code"].is_i64(), "{}", r.json);
    assert!(r.json["msg"].is_string(), "{}", r.json);
    assert!(r.json["result"].is_object(), "{}", r.json);
}

/// A refusal with the original's code and message, HTTP 200 and an empty `result`.
fn assert_refused(r: &Reply, code: i64, msg: &str) {
    assert_envelope(r);
    assert_eq!(
        (r.json["code"].as_i64(), r.json["msg"].as_str()),
        (Some(code), Some(msg)),
        "{}",
        r.json
    );
    assert_eq!(r.json["result"], json!({}), "{}", r.json);
}

/// `E_PARAM` for a bad or missing parameter: `result.field` names it.
fn assert_param(r: &Reply, field: &str) {
    assert_envelope(r);
    assert_eq!(
        r.json,
        json!({"code": 1, "msg": "参数错误", "result": {"field": field}}),
    );
}

const E_USER_NOT_LOGIN: &str = "用户未登录";
const WRONG_CREDENTIALS: &str = "手机号码与密码不匹配";

const USER_EXISTS: &str = "用户已经存在";

fn raw_cookie(r: &Reply, name: &str) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_string()
}

fn outbox(t: &TestApp) -> Vec<OutboxEntry> {
    t.app.outbox.as_ref().unwrap().entries()
}

async fn logined(t: &TestApp, cookie: &str) -> Value {
    let r = get(t, "/logined", Some(cookie)).await;
    assert_eq!(code(&r), 0);
    r.json["result"].clone()
}
