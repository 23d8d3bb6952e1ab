use crate::app::testing::*;
use crate::{
    sender::{Channel, Message, SendError, Sender},
    services::{testing::Harness, NewUser},
};
use serde_json::{json, Value};
use std::sync::Arc;

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

/// A refusal: HTTP 200, `code` 500 and the original's message, no data.
fn assert_refused(r: &Reply, msg: &str) {
    assert_answer(r, 500, msg);
}

/// HTTP 200 with `code` and `msg` and no data.
fn assert_answer(r: &Reply, code: i64, msg: &str) {
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"code": code, "data": null, "msg": msg}),
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
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
}

/// A base64 PNG without a `data:` prefix: its RGB pixels, width and height.
fn decode_png(b64: &str) -> (Vec<u8>, usize, usize) {
    assert!(!b64.starts_with("data:"), "the client adds the prefix");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let mut reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    (buf, info.width as usize, info.height as usize)
}

/// Whether the background shows a gap's light outline with its left edge at `x` (decoy gaps
/// have one too, so this tells only that the answer is one of the gaps drawn).
fn outlined_at(slider: &Value, x: i64) -> bool {
    let (bg, w, _) = decode_png(slider["bg_img"].as_str().unwrap());
    let y = slider["y"].as_u64().expect("y is an integer") as usize;
    let x = x as usize;
    let s = 50;
    let light = |px: usize, py: usize| (0..3).all(|k| bg[(py * w + px) * 3 + k] >= 205);
    (0..s).all(|i| {
        light(x + i, y) && light(x + i, y + s - 1) && light(x, y + i) && light(x + s - 1, y + i)
    })
}

#[tokio::test]
async fn register_with_emailed_code_and_refusals() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    // Second registration of the same email is refused.
    t.clock.advance(61);
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "register"}),
    )
    .await;
    assert_ok(&r);
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    assert_refused(&r, "邮箱已存在");
    // Wrong code, then reused code, then expired code.
    t.clock.advance(61);
    post(
        &t,
        "/sendEmailCode",
        json!({"email": "b@x.com", "type": "register"}),
    )
    .await;
    let code = t.last_code("b@x.com");
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let r = post(
        &t,
        "/register",
        json!({"email": "b@x.com", "password": "secret-pass-1", "code": wrong}),
    )
    .await;
    assert_refused(&r, "邮箱验证码错误");
    let r = post(
        &t,
        "/register",
        json!({"email": "b@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    let r = post(
        &t,
        "/register",
        json!({"email": "b2@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    // A code is bound to its email.
    assert_refused(&r, "邮箱验证码错误");
    post(
        &t,
        "/sendEmailCode",
        json!({"email": "c@x.com", "type": "register"}),
    )
    .await;
    let code = t.last_code("c@x.com");
    t.clock.advance(601);
    let r = post(
        &t,
        "/register",
        json!({"email": "c@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    // Expired.
    assert_refused(&r, "邮箱验证码错误");
}

#[tokio::test]
async fn bad_input_gets_the_originals_messages() {
    let t = test_app();
    let r = t
        .raw(
            "POST",
            &format!("{P}/login"),
            "application/json",
            "{nope",
            &[],
        )
        .await;
    assert_refused(&r, "请求参数有误");
    let r = post(&t, "/login", json!({"email": "a@x.com"})).await;
    // A missing field.
    assert_refused(&r, "请求参数有误");
    let r = post(
        &t,
        "/login",
        json!({"email": "not-an-email", "password": "secret-pass-1"}),
    )
    .await;
    assert_refused(&r, "邮箱格式错误");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "1234567", "code": "123456"}),
    )
    .await;
    // New passwords need eight characters; one the policy refuses is bad input, and one under
    // six gets the original's message, as a login password does.
    assert_refused(&r, "请求参数有误");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "12345", "code": "123456"}),
    )
    .await;
    assert_refused(&r, "密码长度不能小于6位");
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "12345"}),
    )
    .await;
    assert_refused(&r, "密码长度不能小于6位");

    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": 5, "code": "123456"}),
    )
    .await;
    // A value of the wrong type.
    assert_refused(&r, "请求参数有误");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "secret-pass-1", "code": "12ab56"}),
    )
    .await;
    assert_refused(&r, "验证码长度为6位");
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "weird"}),
    )
    .await;
    assert_refused(&r, "请求参数有误");
    assert!(t.app.outbox.as_ref().unwrap().entries().is_empty());
    // The original checks the length before the code: 6 digits, no fewer.
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "secret-pass-1", "code": "12345"}),
    )
    .await;
    assert_refused(&r, "验证码长度为6位");
}

#[tokio::test]
async fn password_and_code_login_answer_tokens_and_cookie() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let data = assert_ok(&r).clone();
    let mut keys: Vec<&String> = data.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["refreshToken", "token", "userId"]);
    assert!(data["token"].as_str().unwrap().split('.').count() == 3);
    assert!(data["userId"].as_u64().unwrap() >= 1);
    let cookie = set_cookie(&r, "refresh_token").unwrap();
    assert_eq!(cookie, data["refreshToken"].as_str().unwrap());
    let header = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("refresh_token="))
        .unwrap()
        .to_string();
    let attrs: Vec<&str> = header.split(';').map(str::trim).collect();
    assert!(attrs.contains(&"Path=/api"), "{header}");
    assert!(attrs.contains(&"HttpOnly"), "{header}");
    assert_eq!(
        set_cookie(&r, "refreshToken"),
        None,
        "the cookie has the newer client's name"
    );
    let p = t
        .app
        .auth
        .authenticate(data["token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(p.user_id.0, data["userId"].as_u64().unwrap());
    let claims_exp = t.app.auth.config().access_ttl;
    assert_eq!(claims_exp, 3600, "token valid 1 h");

    post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "login"}),
    )
    .await;
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/login/email",
        json!({"email": "a@x.com", "code": code}),
    )
    .await;
    assert_eq!(assert_ok(&r)["userId"], data["userId"]);
    assert!(set_cookie(&r, "refresh_token").is_some());
    let r = post(
        &t,
        "/login/email",
        json!({"email": "a@x.com", "code": code}),
    )
    .await;
    // A login code is single use.
    assert_refused(&r, "邮箱验证码错误");
    let wrong = login(&t, "a@x.com", "wrong-password").await;
    assert_refused(&wrong, "用户名密码不匹配");
    let unknown = login(&t, "nobody@x.com", "secret-pass-1").await;
    assert_refused(&unknown, "用户名密码不匹配");
    assert_eq!(wrong.json, unknown.json, "unknown and wrong answer alike");
}

#[tokio::test]
async fn three_failures_ask_for_a_captcha_that_lets_one_attempt_through() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    for _ in 0..3 {
        assert_refused(
            &login(&t, "a@x.com", "bad-password").await,
            "用户名密码不匹配",
        );
    }
    // Even the right password needs the captcha now.
    let id = captcha_required(&login(&t, "a@x.com", "secret-pass-1").await);
    // An unsolved captcha id does not help.
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "secret-pass-1", "captchaId": id}),
    )
    .await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    // One wrong attempt through the solved captcha, and the next needs a captcha again.
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "bad-password", "captchaId": id}),
    )
    .await;
    assert_refused(&r, "用户名密码不匹配");
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "secret-pass-1", "captchaId": id}),
    )
    .await;
    // A solved captcha is good for one attempt.
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "secret-pass-1", "captchaId": id}),
    )
    .await;
    assert_ok(&r);
    // Success reset the count.
    assert_refused(
        &login(&t, "a@x.com", "bad-password").await,
        "用户名密码不匹配",
    );
    assert_ok(&login(&t, "a@x.com", "secret-pass-1").await);
}

#[tokio::test]
async fn captcha_requirement_lapses_after_thirty_minutes_and_counts_code_failures() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    for _ in 0..3 {
        let r = post(
            &t,
            "/login/email",
            json!({"email": "a@x.com", "code": "000000"}),
        )
        .await;
        assert_refused(&r, "邮箱验证码错误");
    }
    captcha_required(&login(&t, "a@x.com", "secret-pass-1").await);
    t.clock.advance(30 * 60);
    assert_ok(&login(&t, "a@x.com", "secret-pass-1").await);
}

#[tokio::test]
async fn captcha_endpoints_render_validate_once_and_void_after_wrong_guesses() {
    let t = test_app();
    let r = post(&t, "/captcha", json!({})).await;
    let d = assert_ok(&r).clone();
    let id = d["captchaId"]
        .as_str()
        .filter(|s| !s.is_empty())
        .expect("captchaId")
        .to_string();
    let slider = &d["slider_captcha"];
    let mut keys: Vec<&String> = slider.as_object().expect("slider_captcha").keys().collect();
    keys.sort();
    assert_eq!(keys, ["bg_img", "slider_img", "y"]);
    let (_, w, h) = decode_png(slider["bg_img"].as_str().unwrap());
    assert_eq!((w, h), (310, 160));
    let (_, pw, ph) = decode_png(slider["slider_img"].as_str().unwrap());
    assert_eq!((pw, ph), (50, 50));
    let x = outbox_answer(&t, &id);
    assert!((20..240).contains(&x), "{x}");
    assert!(
        outlined_at(slider, x),
        "the outbox has the rendering's answer"
    );
    // A miss (beyond ±3 px) spends the rendering: the right x needs a new one.
    let r = post(&t, "/captcha/verify", json!({"captchaId": id, "x": x + 4})).await;
    assert_refused(&r, "滑块验证失败");
    let r = verify(&t, "/captcha/validate", json!({"captchaId": id, "x": x})).await;
    assert_refused(&r, "滑块验证失败");
    let (slider, x) = render(&t, &id).await;
    assert!(outlined_at(&slider, x));
    let r = verify(
        &t,
        "/captcha/validate",
        json!({"captchaId": id, "x": x - 3}),
    )
    .await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    let r = verify(&t, "/captcha/validate", json!({"captchaId": id, "x": x})).await;
    // Only once.
    assert_refused(&r, "滑块验证失败");
    // A solved one is not rendered.
    assert_refused(&captcha_get(&t, &id).await, "获取失败");
    // Three misses void the challenge.
    let r = post(&t, "/captcha", json!({})).await;
    let id = assert_ok(&r)["captchaId"].as_str().unwrap().to_string();
    let x = outbox_answer(&t, &id);
    let r = verify(
        &t,
        "/captcha/validate",
        json!({"captchaId": id, "x": x + 40}),
    )
    .await;
    assert_refused(&r, "滑块验证失败");
    for _ in 0..2 {
        let (_, x) = render(&t, &id).await;
        let r = verify(
            &t,
            "/captcha/validate",
            json!({"captchaId": id, "x": x + 40}),
        )
        .await;
        assert_refused(&r, "滑块验证失败");
    }
    assert_refused(&captcha_get(&t, &id).await, "获取失败");
    let r = verify(&t, "/captcha/validate", json!({"captchaId": id, "x": x})).await;
    assert_refused(&r, "滑块验证失败");
    // Ids polyauth never issued.
    assert_refused(&captcha_get(&t, "nope").await, "获取失败");
    let r = t.raw("GET", &format!("{V}/captcha/get"), "", "", &[]).await;
    assert_refused(&r, "获取失败");
}

#[tokio::test]
async fn get_email_code_needs_a_solved_captcha_and_its_code_serves_every_use() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let mailed = |t: &TestApp| {
        t.app
            .outbox
            .as_ref()
            .unwrap()
            .entries()
            .iter()
            .filter(|e| e.to == "a@x.com")
            .count()
    };
    let before = mailed(&t);
    let r = verify(&t, "/getEmailCode", json!({"email": "a@x.com"})).await;
    let id = captcha_required(&r);
    // An issued but unsolved id does not help (deliberate).
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    let id = captcha_required(&r);
    assert_eq!(
        mailed(&t),
        before,
        "nothing mailed without a solved captcha"
    );
    solve(&t, &id).await;
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    let code = t.last_code("a@x.com");
    // The one code signs in by email.
    let r = post(
        &t,
        "/login/email",
        json!({"email": "a@x.com", "code": code}),
    )
    .await;
    assert_ok(&r);
    // The solved id was spent by the code it let through.
    t.clock.advance(60);
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    assert_ok(&r);
    // The same kind of code changes the password.
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/modifyPwd",
        json!({"email": "a@x.com", "password": "new-secret-pass", "code": code}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    assert_ok(&login(&t, "a@x.com", "new-secret-pass").await);
    // And registers a new account.
    let r = verify(&t, "/getEmailCode", json!({"email": "n@x.com"})).await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "n@x.com", "captchaId": id}),
    )
    .await;
    assert_ok(&r);
    let code = t.last_code("n@x.com");
    let r = post(
        &t,
        "/register",
        json!({"email": "n@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    // It is valid five minutes.
    t.clock.advance(60);
    let r = verify(&t, "/getEmailCode", json!({"email": "a@x.com"})).await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let body = json!({"email": "a@x.com", "captchaId": id});
    assert_ok(&verify(&t, "/getEmailCode", body).await);
    let code = t.last_code("a@x.com");
    t.clock.advance(301);
    let r = post(
        &t,
        "/login/email",
        json!({"email": "a@x.com", "code": code}),
    )
    .await;
    assert_refused(&r, "邮箱验证码错误");
}

#[tokio::test]
async fn update_token_rotates_and_detects_reuse() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let first = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let r = post(&t, "/updateToken", json!({"refreshToken": first})).await;
    let data = assert_ok(&r);
    let second = data["refreshToken"].as_str().unwrap().to_string();
    let access = data["token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert!(data["userId"].as_u64().is_some());
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(&*second));
    t.clock.advance(30);
    let r = post(&t, "/updateToken", json!({"refreshToken": first})).await;
    // Reuse detected.
    assert_answer(&r, 2000, "token验证失败");
    let r = post(&t, "/updateToken", json!({"refreshToken": second})).await;
    // Reuse revoked the newer token too.
    assert_answer(&r, 2000, "token验证失败");
    assert!(t.app.auth.authenticate(&access).await.is_err());
    let r = post(&t, "/updateToken", json!({"refreshToken": "garbage"})).await;
    assert_answer(&r, 2000, "token验证失败");
    // No refresh token at all is a failure too: 2000 signs the client out, where 3000 would
    // send it to refresh the refresh.
    let r = post(&t, "/updateToken", json!({})).await;
    assert_answer(&r, 2000, "token验证失败");
}

#[tokio::test]
async fn update_token_reads_the_cookie_when_the_body_has_none() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let cookie = format!("refresh_token={}", set_cookie(&r, "refresh_token").unwrap());
    let r = t
        .json(
            "POST",
            &format!("{P}/updateToken"),
            json!({}),
            &[("cookie", &cookie)],
        )
        .await;
    let data = assert_ok(&r);
    assert_eq!(
        set_cookie(&r, "refresh_token").as_deref(),
        data["refreshToken"].as_str(),
        "the rotated token replaces the cookie"
    );
}

/// `POST logout` with an optional `Authorization` value.
async fn logout(t: &TestApp, authorization: Option<&str>, body: Value) -> Reply {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    t.json("POST", &format!("{P}/logout"), body, &headers).await
}

#[tokio::test]
async fn logout_voids_refresh_and_access_and_clears_cookie() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let refresh = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let r = logout(&t, Some(&access), json!({"refreshToken": refresh})).await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(""));
    assert!(
        t.app.auth.authenticate(&access).await.is_err(),
        "access token stops at once"
    );
    let r = post(&t, "/updateToken", json!({"refreshToken": refresh})).await;
    assert_answer(&r, 2000, "token验证失败");
    let r = logout(&t, Some(&access), json!({"refreshToken": refresh})).await;
    // A dead token cannot log out again.
    assert_answer(&r, 2000, "token验证失败");
}

#[tokio::test]
async fn logout_checks_the_access_token_then_needs_a_known_refresh_token() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let refresh = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let body = json!({"refreshToken": refresh});
    // Without an access token the refresh token decides: none is bad parameters, an unknown
    // one 2000 (the original's logout needed no `Authorization`).
    assert_refused(&logout(&t, None, json!({})).await, "请求参数有误");
    let r = logout(&t, None, json!({"refreshToken": "nope.nope"})).await;
    assert_answer(&r, 2000, "token验证失败");
    // No refresh token in the body or a cookie.
    let r = logout(&t, Some(&access), json!({})).await;
    assert_refused(&r, "请求参数有误");
    // An unknown one ends nothing.
    let r = logout(&t, Some(&access), json!({"refreshToken": "nope.nope"})).await;
    assert_answer(&r, 2000, "token验证失败");
    assert!(t.app.auth.authenticate(&access).await.is_ok());
    // An access token not of ours: 2000, on which the client signs out; the refresh token it
    // sent is void all the same, and the cookie cleared.
    let r = logout(&t, Some("garbage"), body.clone()).await;
    assert_answer(&r, 2000, "token验证失败");
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(""));
    let r = post(&t, "/updateToken", body.clone()).await;
    assert_answer(&r, 2000, "token验证失败");
    // An expired access token: 3000 `TOKEN过期` (the original's clients refresh and retry),
    // and still the refresh token is void: the retry's refresh signs the client out.
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let data = assert_ok(&r).clone();
    t.clock.advance(3600);
    let access = data["token"].as_str().unwrap();
    let refresh = data["refreshToken"].as_str().unwrap();
    let r = logout(&t, Some(access), json!({"refreshToken": refresh})).await;
    assert_answer(&r, 3000, "TOKEN过期");
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(""));
    let cookie = format!("refresh_token={refresh}");
    let r = t
        .json(
            "POST",
            &format!("{P}/updateToken"),
            json!({}),
            &[("cookie", &cookie)],
        )
        .await;
    assert_answer(&r, 2000, "token验证失败");
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let data = assert_ok(&r).clone();
    // `Bearer <token>` is accepted too, and the refresh token may come from the cookie.
    let bearer = format!("Bearer {}", data["token"].as_str().unwrap());
    let cookie = format!("refresh_token={}", data["refreshToken"].as_str().unwrap());
    let r = t
        .json(
            "POST",
            &format!("{P}/logout"),
            json!({}),
            &[("authorization", &bearer), ("cookie", &cookie)],
        )
        .await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(""));
    // A refresh token alone logs out too.
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let refresh = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let r = logout(&t, None, json!({"refreshToken": refresh})).await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    let r = post(&t, "/updateToken", json!({"refreshToken": refresh})).await;
    assert_answer(&r, 2000, "token验证失败");
}

#[tokio::test]
async fn reset_needs_a_captcha_then_mails_a_code_that_sets_the_password() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let r = post(&t, "/resetpwdCheck", json!({"email": "a@x.com"})).await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    t.clock.advance(61);
    let r = post(
        &t,
        "/resetpwdCheck",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/modifyPwd",
        json!({"email": "a@x.com", "password": "new-secret-pass", "code": code}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    assert!(
        t.app.auth.authenticate(&access).await.is_err(),
        "sessions revoked"
    );
    assert_refused(
        &login(&t, "a@x.com", "secret-pass-1").await,
        "用户名密码不匹配",
    );
    assert_ok(&login(&t, "a@x.com", "new-secret-pass").await);
}

#[tokio::test]
async fn legacy_get_reset_check_reads_email_and_eamil() {
    let t = test_app();
    t.user(NewUser {
        email: Some(crate::domain::Email::parse("a@x.com").unwrap()),
        ..Default::default()
    })
    .await;
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?eamil=a@x.com"),
            "",
            "",
            &[],
        )
        .await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?eamil=a@x.com&captchaId={id}"),
            "",
            "",
            &[],
        )
        .await;
    assert_ok(&r);
    assert_eq!(t.last_code("a@x.com").len(), 6);
    // Unknown emails look the same: a captcha first, then ok with nothing mailed.
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?email=nobody@x.com"),
            "",
            "",
            &[],
        )
        .await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?email=nobody@x.com&captchaId={id}"),
            "",
            "",
            &[],
        )
        .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    let outbox = t.app.outbox.as_ref().unwrap().entries();
    assert!(outbox.iter().all(|e| e.to != "nobody@x.com"));
    let r = t
        .raw("GET", &format!("{P}/resetpwdCheck"), "", "", &[])
        .await;
    // A missing field.
    assert_refused(&r, "请求参数有误");
}

#[tokio::test]
async fn a_second_code_within_sixty_seconds_is_too_many() {
    let t = test_app();
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "register"}),
    )
    .await;
    assert_ok(&r);
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "register"}),
    )
    .await;
    assert_refused(&r, "操作过于频繁，请60秒后再试");
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("60")
    );
    t.clock.advance(60);
    assert_ok(
        &post(
            &t,
            "/sendEmailCode",
            json!({"email": "a@x.com", "type": "register"}),
        )
        .await,
    );
}

#[tokio::test]
async fn disabled_accounts_are_refused() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let user = t
        .app
        .auth
        .find_user(&t.app.auth.account("a@x.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    t.app.auth.disable(&user).await.unwrap();
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    assert_refused(&r, "账号已被禁用");
}

struct Down;

#[async_trait::async_trait]
impl Sender for Down {
    async fn send(&self, _: &Message) -> Result<(), SendError> {
        Err(SendError("unreachable".into()))
    }

    fn supports_voice(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn an_unreachable_sender_is_503_in_the_envelope_and_the_next_try_is_not_a_resend() {
    let t = Harness::builder().sender(Arc::new(Down)).build();
    let router = super::router(t.auth);
    for _ in 0..2 {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(format!("{P}/sendEmailCode"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"email": "a@x.com", "type": "register"}).to_string(),
            ))
            .unwrap();
        let res = tower::ServiceExt::oneshot(router.clone(), req)
            .await
            .unwrap();
        assert_eq!(res.status(), 503);
        let bytes = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["code", "data", "msg"], "{body}");
        assert!(
            body["msg"].as_str().unwrap().starts_with("服务暂不可用"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn answers_that_carry_tokens_or_profiles_are_never_cached() {
    let t = test_app();
    registered(&t, "cache@x.com", "secret-pass-1").await;
    let r = login(&t, "cache@x.com", "secret-pass-1").await;
    assert_eq!(r.headers["cache-control"], "no-store");
    let r = t.raw("GET", "/pauli/auth/api/logined", "", "", &[]).await;
    assert_eq!(r.headers["cache-control"], "no-store");
    let r = t.raw("GET", "/nowhere", "", "", &[]).await;
    assert_eq!(r.headers["cache-control"], "no-store");
}
