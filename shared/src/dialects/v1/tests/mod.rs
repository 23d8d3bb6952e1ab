//! Seed 003 (`/v1/auth`) driven in-process, one file per endpoint group; the helpers they
//! share are here.

use crate::app::testing::{test_app, Reply, TestApp};
use serde_json::{json, Value};

mod bad_input;
mod check_code;
mod login;
mod other_dialects;
mod register;
mod reset;
mod send_code;
mod unavailable;

const MOBILE: &str = "13312341234";
const E164: &str = "+8613312341234";
const NOT_CONTACT: &str = "账户必须是手机号或者邮箱";
const NO_CODE: &str = "验证码不存在或已过期";
const WRONG: &str = "incorrect username or password";

async fn post(t: &TestApp, path: &str, body: Value) -> Reply {
    t.json("POST", &format!("/v1/auth/{path}"), body, &[]).await
}

/// Sends a code with `flag` and reads it from the outbox.
async fn code_for(t: &TestApp, account: &str, to: &str, flag: &str) -> String {
    let r = post(t, "send-code", json!({"account": account, "flag": flag})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    t.last_code(to)
}

async fn register_mobile(t: &TestApp, password: &str) -> Reply {
    let code = code_for(t, MOBILE, E164, "register").await;
    let r = post(
        t,
        "register",
        json!({"account": MOBILE, "password": password, "nickname": "", "code": code}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r
}

/// Ten wrong passwords for `MOBILE`: its account is locked from the next attempt on.
async fn lock_mobile(t: &TestApp) {
    for _ in 0..10 {
        let r = post(
            t,
            "login",
            json!({"account": MOBILE, "password": "nope-nope"}),
        )
        .await;
        assert_exact(&r, 400, WRONG);
    }
}

fn assert_error(r: &Reply, status: u16, text: &str) {
    assert_eq!(r.status, status, "{}", r.json);
    let got = r.json["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error text in {}", r.json));
    assert!(
        got.starts_with(text),
        "{got:?} does not start with {text:?}"
    );
    assert_eq!(
        r.json.as_object().map(|o| o.len()),
        Some(1),
        "only `error`: {}",
        r.json
    );
}

/// Exactly `{"error": text}` with `status`.
fn assert_exact(r: &Reply, status: u16, text: &str) {
    assert_eq!(r.status, status, "{}", r.json);
    assert_eq!(r.json, json!({ "error": text }));
}

/// A missing or ill-typed field: 400 `<field> is required`, the original validator's text.
fn assert_required(r: &Reply, field: &str) {
    assert_exact(r, 400, &format!("{field} is required"));
}

/// A field that was read but is not acceptable: 400 `<field> <what is wrong>`.
fn assert_bad_value(r: &Reply, field: &str) {
    assert_error(r, 400, &format!("{field} "));
    assert_ne!(
        r.json["error"],
        format!("{field} is required"),
        "a value was given"
    );
}

/// The payload of a seed-003 token: HS256, `{"exp", "iat", "data": {"id"}}`, valid 3 h,
/// issued 30 s in the past (the seed's example: `exp - iat` = 10830).
fn assert_seed_token(t: &TestApp, token: &str, id: u64) {
    let part = |i: usize| -> Value {
        let b64 = token.split('.').nth(i).expect("a JWT");
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b64).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(part(0)["alg"], "HS256");
    let claims = part(1);
    let now = t.app.auth.now();
    assert_eq!(claims["iat"].as_i64(), Some(now - 30), "{claims}");
    assert_eq!(claims["exp"].as_i64(), Some(now + 3 * 3600), "{claims}");
    assert_eq!(claims["data"], json!({ "id": id }), "{claims}");
}

async fn user_of(t: &TestApp, token: &str) -> u64 {
    t.app
        .auth
        .authenticate(token)
        .await
        .expect("token is valid")
        .user_id
        .0
}
