//! Seed 002 (`/api/v1/auth`, `/api/v1/verify`) driven in-process, one file per endpoint group;
//! the helpers they share are here.

use crate::{
    app::testing::{test_app, Reply, TestApp},
    sender::Channel,
};
use serde_json::{json, Value};

mod bad_input;
mod caching;
mod captcha;
mod email_code;
mod login;
mod logout;
mod register;
mod reset;
mod tokens;
mod unavailable;

const P: &str = "/api/v1/auth";
const V: &str = "/api/v1/verify";

async fn post(t: &TestApp, path: &str, body: Value) -> Reply {
    t.json("POST", &format!("{P}{path}"), body, &[]).await
}

async fn verify(t: &TestApp, path: &str, body: Value) -> Reply {
    t.json("POST", &format!("{V}{path}"), body, &[]).await
}

/// `GET verify/captcha/get?captchaId=`, as the original's clients fetch a slider.
async fn captcha_get(t: &TestApp, id: &str) -> Reply {
    t.raw(
        "GET",
        &format!("{V}/captcha/get?captchaId={id}"),
        "",
        "",
        &[],
    )
    .await
}

/// Every answer but an outage is HTTP 200; a success is `{code: 200, data, msg: "ok"}`.
fn assert_ok(r: &Reply) -> &Value {
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        (&r.json["code"], &r.json["msg"]),
        (&json!(200), &json!("ok")),
        "{}",
        r.json
    );
    &r.json["data"]
}

/// A refusal: HTTP 200, `code` 500, the original's message and the `{}` of its
/// `FailWithMessage`.
fn assert_refused(r: &Reply, msg: &str) {
    assert_envelope(r, 500, json!({}), msg);
}

/// HTTP 200 with `code` and `msg` and `data` null: the token codes, as the original's
/// middleware answered them.
fn assert_answer(r: &Reply, code: i64, msg: &str) {
    assert_envelope(r, code, Value::Null, msg);
}

fn assert_envelope(r: &Reply, code: i64, data: Value, msg: &str) {
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"code": code, "data": data, "msg": msg}),
        "{}",
        r.json
    );
}

/// A -1 answer: HTTP 200, `需要人机验证`, and the captcha id to solve.
fn captcha_required(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        (&r.json["code"], &r.json["msg"]),
        (&json!(-1), &json!("需要人机验证")),
        "{}",
        r.json
    );
    let id = r.json["data"]["captchaId"]
        .as_str()
        .unwrap_or_else(|| panic!("no captchaId in {}", r.json));
    assert!(!id.is_empty());
    id.to_string()
}

async fn registered(t: &TestApp, email: &str, password: &str) {
    let r = post(
        t,
        "/sendEmailCode",
        json!({"email": email, "type": "register"}),
    )
    .await;
    assert_ok(&r);
    let code = t.last_code(email);
    let r = post(
        t,
        "/register",
        json!({"email": email, "password": password, "code": code}),
    )
    .await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
}

async fn login(t: &TestApp, email: &str, password: &str) -> Reply {
    post(t, "/login", json!({"email": email, "password": password})).await
}

/// The answer of the newest rendering of `id`, from the development outbox (channel
/// `captcha`, `to` the id, body the x).
fn outbox_answer(t: &TestApp, id: &str) -> i64 {
    let entries = t.app.outbox.as_ref().expect("outbox").entries();
    let e = entries
        .iter()
        .rev()
        .find(|e| e.to == id)
        .unwrap_or_else(|| panic!("no slider answer for {id} in the outbox"));
    assert_eq!(e.channel, Channel::Captcha);
    e.body.parse().expect("the body is the x")
}

/// Fetches a rendering of `id` as the client does; its `slider_captcha` and its answer.
async fn render(t: &TestApp, id: &str) -> (Value, i64) {
    let r = captcha_get(t, id).await;
    let d = assert_ok(&r).clone();
    (d["slider_captcha"].clone(), outbox_answer(t, id))
}

/// Solves a captcha the way a local client does: fetches a rendering, reads its answer from
/// the development outbox, and validates it.
async fn solve(t: &TestApp, id: &str) {
    let (_, x) = render(t, id).await;
    let r = verify(t, "/captcha/validate", json!({"captchaId": id, "x": x})).await;
    assert_eq!(r.json, json!({"code": 200, "data": {}, "msg": "ok"}));
}
