use crate::{
    app::testing::{set_cookie, test_app, Reply, TestApp},
    domain::{Email, Password, Permission, Profile, User},
    sender::{Channel, Message, OutboxEntry, SendError, Sender},
    services::{testing::Harness, NewUser},
};
use serde_json::{json, Value};
use std::sync::Arc;

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
        .set_permission(user, Permission::parse(permission).unwrap(), true)
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
const WRONG_CODE: &str = "验证码错误，请输入正确的验证码";
const NO_PASSWORD_STEP: &str = "用户名/密码未验证或已失效，请返回重新验证";
const RESET_VOID: &str = "重置记录不存在或者已失效";
const USER_EXISTS: &str = "用户已经存在";
const RESEND_TOO_SOON: &str = "验证码发送间隔时间太短";

/// polyauth's own limits answer 1 with a message saying when to retry, and `Retry-After`.
fn assert_retry_later(r: &Reply) -> i64 {
    let wait: i64 = r
        .headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_refused(r, 1, &format!("操作过于频繁，请{wait}秒后再试"));
    wait
}

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

#[tokio::test]
async fn logined_is_false_without_a_session_and_true_with_cookie_or_bearer() {
    let t = test_app();
    let r = get(&t, "/logined", None).await;
    assert_envelope(&r);
    assert_eq!((r.status, code(&r)), (200, 0));
    assert_eq!(r.json["result"], json!({"logined": false}));
    assert_eq!(
        logined(&t, &session("garbage")).await,
        json!({"logined": false})
    );

    let user = t
        .user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let r = login(&t, "alice@example.com", "secret1").await;
    assert_envelope(&r);
    assert_eq!((r.status, code(&r)), (200, 0));
    assert_eq!(r.json["result"]["user_id"], user.id.0.to_string());
    let raw = raw_cookie(&r, "pauli_session");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/pauli", "Max-Age=86400"] {
        assert!(raw.contains(part), "{raw} lacks {part}");
    }
    assert!(!raw.contains("Secure"), "dev config sets no Secure: {raw}");
    let token = set_cookie(&r, "pauli_session").unwrap();

    let me = logined(&t, &session(&token)).await;
    assert_eq!(
        me,
        json!({
            "logined": true,
            "user_id": user.id.0.to_string(),
            "name": "Alice",
            "email": "alice@example.com",
            "mobile": "",
            "position_id": "team-7",
        })
    );
    // A live session refuses another password step: E_USER_LOGIN.
    let r = send(
        &t,
        "PUT",
        "/pass/login",
        json!({"username": "alice@example.com", "password": "secret1"}),
        Some(&session(&token)),
    )
    .await;
    assert_refused(&r, 1003, "用户已登录");
    assert!(set_cookie(&r, "pauli_session").is_none());
    let bearer = format!("Bearer {token}");
    let r = t
        .raw(
            "GET",
            &url("/logined"),
            "",
            "",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(r.json["result"]["logined"], true);
    assert_eq!(r.json["result"]["user_id"], user.id.0.to_string());

    // The session lasts a day.
    t.clock.advance(86_401);
    assert_eq!(
        logined(&t, &session(&token)).await,
        json!({"logined": false})
    );
}

#[tokio::test]
async fn logined_shows_mobile_and_falls_back_to_nickname() {
    let t = test_app();
    let mut new = new_user("m@example.com", Some(MOBILE), "secret1", &t);
    new.profile = Profile::default();
    let user = t.user(new).await;
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": t.last_code(E164)}),
        Some(&pending(&pid)),
    )
    .await;
    let token = set_cookie(&r, "pauli_session").unwrap();
    let me = logined(&t, &session(&token)).await;
    assert_eq!(me["mobile"], MOBILE);
    assert_eq!(me["name"], user.profile.nickname);
    assert_eq!(me["name"], "133****1234");
    assert_eq!(me["position_id"], "");
}

#[tokio::test]
async fn wrong_credentials_get_one_code_for_unknown_user_and_wrong_password() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let wrong = login(&t, "alice@example.com", "nope-nope").await;
    let unknown = login(&t, "bob@example.com", "secret1").await;
    for r in [&wrong, &unknown] {
        assert_refused(r, 1005, WRONG_CREDENTIALS);
        assert!(set_cookie(r, "pauli_session").is_none());
        assert!(set_cookie(r, "pauli_pending").is_none());
    }
    assert_eq!(wrong.json, unknown.json);
}

#[tokio::test]
async fn username_accepts_any_identifier_and_disabled_accounts_are_refused() {
    let t = test_app();
    let user = t
        .user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let r = login(&t, " ALICE@example.com ", "secret1").await;
    assert_eq!(code(&r), 0);
    let bad = login(&t, "", "secret1").await;
    assert_param(&bad, "username");
    t.app.auth.disable(&user).await.unwrap();
    // A disabled account answers as a wrong password does.
    let r = login(&t, "alice@example.com", "secret1").await;
    assert_refused(&r, 1005, WRONG_CREDENTIALS);
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_account() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    for _ in 0..10 {
        assert_refused(
            &login(&t, "alice@example.com", "wrong-pw").await,
            1005,
            WRONG_CREDENTIALS,
        );
    }
    let r = login(&t, "alice@example.com", "secret1").await;
    assert!(assert_retry_later(&r) > 0);
    assert!(set_cookie(&r, "pauli_session").is_none());
}

#[tokio::test]
async fn user_with_mobile_gets_1032_a_pending_cookie_and_an_sms_and_is_not_logged_in() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    let r = login(&t, "m@example.com", "secret1").await;
    assert_envelope(&r);
    assert_eq!((r.status, code(&r)), (200, 1032));
    assert!(set_cookie(&r, "pauli_session").is_none());
    let raw = raw_cookie(&r, "pauli_pending");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/pauli", "Max-Age=1200"] {
        assert!(raw.contains(part), "{raw} lacks {part}");
    }
    let sent = outbox(&t);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].channel, sent[0].to.as_str()), (Channel::Sms, E164));
    // The pending cookie is no session.
    let pid = set_cookie(&r, "pauli_pending").unwrap();
    let r = get(&t, "/logined", Some(&pending(&pid))).await;
    assert_eq!(r.json["result"], json!({"logined": false}));
    // The mobile number works as the username too.
    assert_eq!(code(&login(&t, MOBILE, "secret1").await), 1032);
}

#[tokio::test]
async fn right_code_logs_in_and_clears_the_pending_cookie() {
    let t = test_app();
    let user = t
        .user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": t.last_code(E164)}),
        Some(&pending(&pid)),
    )
    .await;
    assert_envelope(&r);
    assert_eq!((r.status, code(&r)), (200, 0));
    assert_eq!(r.json["result"]["user_id"], user.id.0.to_string());
    assert_eq!(set_cookie(&r, "pauli_pending").as_deref(), Some(""));
    assert!(raw_cookie(&r, "pauli_session").contains("Max-Age=86400"));
    let token = set_cookie(&r, "pauli_session").unwrap();
    assert_eq!(
        logined(&t, &session(&token)).await["user_id"],
        user.id.0.to_string()
    );
    // With the live session, entering a code again is E_USER_LOGIN.
    let both = format!("{}; {}", session(&token), pending(&pid));
    let again = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": t.last_code(E164)}),
        Some(&both),
    )
    .await;
    assert_refused(&again, 1003, "用户已登录");
    // The pending login is spent.
    let again = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": t.last_code(E164)}),
        Some(&pending(&pid)),
    )
    .await;
    assert_refused(&again, 1, NO_PASSWORD_STEP);
}

#[tokio::test]
async fn code_is_also_read_from_the_query_string_or_a_form_body() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let uri = url(&format!("/pass/code?code={}", t.last_code(E164)));
    let r = t
        .raw("POST", &uri, "", "", &[("cookie", &pending(&pid))])
        .await;
    assert_eq!(code(&r), 0, "{}", r.json);

    // A new password step after the minute texts a fresh code; this time a form body.
    t.clock.advance(61);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let body = format!("code={}", t.last_code(E164));
    let form = "application/x-www-form-urlencoded";
    let r = t
        .raw(
            "POST",
            &url("/pass/code"),
            form,
            &body,
            &[("cookie", &pending(&pid))],
        )
        .await;
    assert_eq!(code(&r), 0, "{}", r.json);
}

#[tokio::test]
async fn get_code_resends_by_voice_or_sms_once_a_minute() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    // Voice goes only to a mobile proven by a code: the first login proves it.
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    t.clock.advance(61);
    let r = get(&t, "/pass/code", Some(&pending(&pid))).await;
    assert_eq!(r.json["result"]["method"], "sms", "{}", r.json);
    let sent = t.last_code(E164);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": sent}),
        Some(&pending(&pid)),
    )
    .await;
    assert_eq!(code(&r), 0, "{}", r.json);
    t.clock.advance(61);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let cookie = pending(&pid);
    // The password step sent the first SMS just now.
    let r = get(&t, "/pass/code", Some(&cookie)).await;
    assert_refused(&r, 1, RESEND_TOO_SOON);
    assert!(r.headers.get("retry-after").is_some());
    t.clock.advance(61);
    let r = get(&t, "/pass/code", Some(&cookie)).await;
    assert_eq!((r.status, code(&r)), (200, 0));
    assert_eq!(r.json["result"]["method"], "voice");
    assert_eq!(
        outbox(&t).last().map(|e| (e.channel, e.to.clone())),
        Some((Channel::Voice, E164.to_string()))
    );
    assert_refused(
        &get(&t, "/pass/code?method=sms", Some(&cookie)).await,
        1,
        RESEND_TOO_SOON,
    );
    t.clock.advance(61);
    let r = get(&t, "/pass/code?method=sms", Some(&cookie)).await;
    assert_eq!(code(&r), 0);
    assert_eq!(r.json["result"]["method"], "sms");
    assert_eq!(outbox(&t).last().map(|e| e.channel), Some(Channel::Sms));
    assert_eq!(
        outbox(&t).len(),
        3 + 2,
        "three for this login, two for the first"
    );
    // The newest code is the one that counts.
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": t.last_code(E164)}),
        Some(&cookie),
    )
    .await;
    assert_eq!(code(&r), 0);

    let bad = get(&t, "/pass/code?method=fax", Some(&cookie)).await;
    assert_refused(&bad, 1, "不支持的验证发送方式");
    let none = get(&t, "/pass/code", None).await;
    assert_refused(&none, 1, NO_PASSWORD_STEP);
    let unknown = get(&t, "/pass/code", Some(&pending("no-such-login"))).await;
    assert_refused(&unknown, 1, NO_PASSWORD_STEP);
}

/// The outbox, minus voice.
#[derive(Clone)]
struct NoVoice(crate::sender::Outbox);

#[async_trait::async_trait]
impl Sender for NoVoice {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        self.0.send(message).await
    }

    fn supports_voice(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn voice_falls_back_to_sms_and_says_so() {
    let t = Harness::builder()
        .sender_over_outbox(|outbox| Arc::new(NoVoice(outbox.clone())))
        .build();
    let new = NewUser {
        mobile: Some(t.auth.phone(MOBILE).unwrap()),
        password: Some(Password::attempt("secret1").unwrap()),
        ..Default::default()
    };
    t.auth
        .register(new, None, &crate::services::Client::default())
        .await
        .unwrap();
    let router = super::router(t.auth.clone());
    let call = |method: &str, uri: &str, cookie: Option<String>, body: Value| {
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(format!("{P}{uri}"))
            .header("content-type", "application/json");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let req = req.body(axum::body::Body::from(body.to_string())).unwrap();
        let router = router.clone();
        async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let res = router.oneshot(req).await.unwrap();
            let headers = res.headers().clone();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            (headers, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let (headers, body) = call(
        "PUT",
        "/pass/login",
        None,
        json!({"username": MOBILE, "password": "secret1"}),
    )
    .await;
    assert_eq!(body["code"], 1032);
    let pid = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("pauli_pending="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string();
    t.clock.advance(61);
    let (_, body) = call(
        "GET",
        "/pass/code?method=voice",
        Some(pending(&pid)),
        json!({}),
    )
    .await;
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(body["result"]["method"], "sms");
    // The message says so: voice is unavailable (语音), the code went by SMS (短信).
    assert!(body["msg"].as_str().unwrap().contains("短信"), "{body}");
    assert!(body["msg"].as_str().unwrap().contains("语音"), "{body}");
    let sent = t.outbox.entries();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|e| e.channel == Channel::Sms));
}

#[tokio::test]
async fn pending_login_expires_after_twenty_minutes() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let cookie = pending(&pid);
    t.clock.advance(15 * 60);
    // Still within 20 minutes: a new code can be asked for and used...
    assert_eq!(
        code(&get(&t, "/pass/code?method=sms", Some(&cookie)).await),
        0
    );
    let fresh = t.last_code(E164);
    // ...but not after.
    t.clock.advance(5 * 60 + 1);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": fresh}),
        Some(&cookie),
    )
    .await;
    assert_refused(&r, 1, NO_PASSWORD_STEP);
    assert_refused(
        &get(&t, "/pass/code", Some(&cookie)).await,
        1,
        NO_PASSWORD_STEP,
    );
}

#[tokio::test]
async fn five_wrong_codes_void_the_pending_login() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let cookie = pending(&pid);
    let right = t.last_code(E164);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let r = send(
            &t,
            "POST",
            "/pass/code",
            json!({"code": wrong}),
            Some(&cookie),
        )
        .await;
        assert_refused(&r, 1007, WRONG_CODE);
    }
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": right}),
        Some(&cookie),
    )
    .await;
    assert_refused(&r, 1, NO_PASSWORD_STEP);
    assert!(set_cookie(&r, "pauli_session").is_none());
    // A malformed code is bad input, not a try.
    t.clock.advance(61);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": "abc"}),
        Some(&pending(&pid)),
    )
    .await;
    assert_param(&r, "code");
}

#[tokio::test]
async fn record_needs_a_session_and_the_audit_permission() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    let target = t.user(new_user("u@example.com", None, "secret1", &t)).await;
    let path = format!("/record?user_id={}", target.id.0);
    let r = get(&t, &path, None).await;
    assert_refused(&r, 1004, E_USER_NOT_LOGIN);
    let token = login_direct(&t, "admin@example.com", "secret1").await;
    let r = get(&t, &path, Some(&session(&token))).await;
    assert_refused(&r, 7, "缺少权限pauli:user:audit");
    grant(&t, &admin, Permission::USER_AUDIT).await;
    let r = get(&t, &path, Some(&session(&token))).await;
    assert_eq!((r.status, code(&r)), (200, 0));
    assert_eq!(r.json["result"]["logs"], json!([]));
    // Without user_id, the caller's own records.
    let r = get(&t, "/record", Some(&session(&token))).await;
    let logs = r.json["result"]["logs"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["user_id"], admin.id.0.to_string());
    assert_eq!(logs[0]["login_type"], "password-succ");
    assert_eq!(logs[0]["time"], "2023-11-14T22:13:20.000Z");
    // An original's string id nobody was imported with has no records.
    let r = get(&t, "/record?user_id=abc", Some(&session(&token))).await;
    assert_eq!(r.json["result"], json!({"logs": []}), "{}", r.json);
    // Bad parameters name the field.
    let too_long = format!("user_id={}", "x".repeat(65));
    for (query, field) in [
        (too_long.as_str(), "user_id"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("cursor_id=nope", "cursor_id"),
    ] {
        let r = get(&t, &format!("/record?{query}"), Some(&session(&token))).await;
        assert_param(&r, field);
    }
}

#[tokio::test]
async fn record_pages_newest_first_without_gaps_or_repeats() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    grant(&t, &admin, Permission::USER_AUDIT).await;
    let target = t
        .user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    // Seven logins of the target, each writing two records: the password step that sent the
    // SMS (`password-sms`) and the completed second factor (`sms-succ`).
    for i in 0..7 {
        t.clock.advance(61);
        let pid = login_pending(&t, "m@example.com", "secret1").await;
        let r = send(
            &t,
            "POST",
            "/pass/code",
            json!({"code": t.last_code(E164)}),
            Some(&pending(&pid)),
        )
        .await;
        assert_eq!(code(&r), 0, "login {i}");
    }
    let no_mobile = t
        .user(new_user("plain@example.com", None, "secret1", &t))
        .await;
    login_direct(&t, "plain@example.com", "secret1").await;
    let token = login_direct(&t, "admin@example.com", "secret1").await;
    let cookie = session(&token);

    let mut seen: Vec<Value> = vec![];
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let path = format!("/record?user_id={}&limit=3&cursor_id={cursor}", target.id.0);
        let r = get(&t, &path, Some(&cookie)).await;
        assert_eq!(code(&r), 0, "{}", r.json);
        let logs = r.json["result"]["logs"].as_array().unwrap().clone();
        assert!(logs.len() <= 3);
        pages += 1;
        let Some(last) = logs.last() else { break };
        cursor = last["record_id"].as_str().unwrap().to_string();
        seen.extend(logs);
    }
    assert_eq!(pages, 6, "3 + 3 + 3 + 3 + 2, then an empty page");
    assert_eq!(seen.len(), 14);
    let ids: Vec<&str> = seen
        .iter()
        .map(|l| l["record_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted, "newest first, no repeats");
    // Newest first: each login's `sms-succ`, then its `password-sms`, a minute apart from the
    // login before.
    let times: Vec<&str> = seen.iter().map(|l| l["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(
        times
            .chunks(2)
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0][1] > w[1][0]),
        "{times:?}"
    );
    for (i, l) in seen.iter().enumerate() {
        assert_eq!(l["user_id"], target.id.0.to_string());
        let expected = if i % 2 == 0 {
            "sms-succ"
        } else {
            "password-sms"
        };
        assert_eq!(l["login_type"], expected, "{i}: {l}");
        assert!(l["time"].as_str().unwrap().ends_with('Z'));
    }
    // A whole page at once, default limit 10, and a limit above 100 is capped, not refused.
    let r = get(
        &t,
        &format!("/record?user_id={}", target.id.0),
        Some(&cookie),
    )
    .await;
    assert_eq!(r.json["result"]["logs"].as_array().unwrap().len(), 10);
    let r = get(
        &t,
        &format!("/record?user_id={}&limit=1000", target.id.0),
        Some(&cookie),
    )
    .await;
    assert_eq!(r.json["result"]["logs"].as_array().unwrap().len(), 14);
    let r = get(
        &t,
        &format!("/record?user_id={}", no_mobile.id.0),
        Some(&cookie),
    )
    .await;
    let logs = r.json["result"]["logs"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["login_type"], "password-succ");
}

#[tokio::test]
async fn record_default_limit_is_ten() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    grant(&t, &admin, Permission::USER_AUDIT).await;
    let mut token = String::new();
    for _ in 0..12 {
        token = login_direct(&t, "admin@example.com", "secret1").await;
    }
    let r = get(&t, "/record", Some(&session(&token))).await;
    assert_eq!(r.json["result"]["logs"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn create_needs_the_permission_and_never_returns_the_random_password() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    let body = json!({"username": "new@example.com", "name": "New", "mobile": "13900001111"});
    let r = send(&t, "POST", "/pass/create", body.clone(), None).await;
    assert_refused(&r, 1004, E_USER_NOT_LOGIN);
    let cookie = session(&login_direct(&t, "admin@example.com", "secret1").await);
    let r = send(&t, "POST", "/pass/create", body.clone(), Some(&cookie)).await;
    assert_refused(&r, 7, "缺少权限pauli:user:create");
    assert!(outbox(&t).is_empty());

    grant(&t, &admin, Permission::USER_CREATE).await;
    let r = send(&t, "POST", "/pass/create", body.clone(), Some(&cookie)).await;
    assert_eq!((r.status, code(&r)), (200, 0), "{}", r.json);
    let id = r.json["result"]["user_id"]
        .as_str()
        .expect("user_id is a string")
        .to_string();
    assert_eq!(
        r.json["result"].as_object().unwrap().len(),
        1,
        "only the id: {}",
        r.json
    );
    let created = t.app.auth.user_by(&id).await.unwrap();
    assert_eq!(created.profile.name, "New");
    assert_eq!(
        created.mobile.as_ref().map(|m| m.e164()),
        Some("+8613900001111")
    );
    let mail = outbox(&t);
    assert_eq!(mail.len(), 1);
    assert_eq!(
        (mail[0].channel, mail[0].to.as_str()),
        (Channel::Email, "new@example.com")
    );
    // A reset link to the front-end, as the original's: `<public_url>/#/resetpwd?code=<token>`.
    let token = t.last_reset_token("new@example.com");
    assert!(token.len() >= 32, "{token}");
    assert!(
        mail[0]
            .body
            .contains(&format!("http://127.0.0.1:3000/#/resetpwd?code={token}")),
        "{}",
        mail[0].body
    );

    let again = send(&t, "POST", "/pass/create", body, Some(&cookie)).await;
    assert_envelope(&again);
    assert_eq!(
        (again.json["code"].as_i64(), again.json["msg"].as_str()),
        (Some(1), Some(USER_EXISTS)),
        "{}",
        again.json
    );

    // With a password: no mail, and the user signs in with it.
    let with_pw = json!({"username": "pw@example.com", "name": "Pw", "password": "chosen-pass-1"});
    let r = send(&t, "POST", "/pass/create", with_pw, Some(&cookie)).await;
    assert_eq!(code(&r), 0);
    assert_eq!(outbox(&t).len(), 1);
    let r = login(&t, "pw@example.com", "chosen-pass-1").await;
    assert_eq!(code(&r), 0);
    assert!(r.json["result"]["user_id"].is_string());

    for (body, field) in [
        (json!({"username": "not-an-email", "name": "X"}), "username"),
        (json!({"username": "x@example.com"}), "name"),
        (json!({"username": "x@example.com", "name": "   "}), "name"),
        (
            json!({"username": "x@example.com", "name": "X", "password": "123"}),
            "password",
        ),
        (
            json!({"username": "x@example.com", "name": "X", "mobile": "12ab"}),
            "mobile",
        ),
        (json!({"name": "X"}), "username"),
        (json!({"username": 5, "name": "X"}), "username"),
    ] {
        let r = send(&t, "POST", "/pass/create", body.clone(), Some(&cookie)).await;
        assert_param(&r, field);
    }
}

#[tokio::test]
async fn reset_request_answers_zero_for_known_and_unknown_and_mails_only_the_known() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let r = get(&t, "/pass/reset?email=alice@example.com", None).await;
    assert_envelope(&r);
    assert_eq!(code(&r), 0);
    let r2 = get(&t, "/pass/reset?email=ghost@example.com", None).await;
    assert_envelope(&r2);
    assert_eq!(code(&r2), 0);
    assert_eq!(r.json, r2.json);
    let mail = outbox(&t);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "alice@example.com");
    let token = t.last_reset_token("alice@example.com");
    assert!(
        mail[0]
            .body
            .contains(&format!("http://127.0.0.1:3000/#/resetpwd?code={token}")),
        "{}",
        mail[0].body
    );
    for path in ["/pass/reset", "/pass/reset?email=nope"] {
        let r = get(&t, path, None).await;
        assert_param(&r, "email");
    }
}

#[tokio::test]
async fn reset_requests_stop_at_fifty_a_day_for_known_and_unknown_emails_alike() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    for email in ["alice@example.com", "ghost@example.com"] {
        for i in 0..crate::services::RESETS_PER_DAY {
            // Within the minute and hour limits (one a minute, ten an hour).
            t.clock.advance(360);
            let r = get(&t, &format!("/pass/reset?email={email}"), None).await;
            assert_eq!(code(&r), 0, "request {}: {}", i + 1, r.json);
        }
        let r = get(&t, &format!("/pass/reset?email={email}"), None).await;
        assert_envelope(&r);
        assert_eq!(
            (code(&r), r.json["msg"].as_str()),
            (1, Some("24小时内重置次数超过阈值")),
            "{}",
            r.json
        );
    }
    assert_eq!(outbox(&t).len() as i64, crate::services::RESETS_PER_DAY);
    t.clock.advance(24 * 3600);
    let r = get(&t, "/pass/reset?email=alice@example.com", None).await;
    assert_eq!(code(&r), 0, "a new day: {}", r.json);
}

#[tokio::test]
async fn reset_check_allows_fewer_than_five_checks_then_the_code_is_void() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    get(&t, "/pass/reset?email=alice@example.com", None).await;
    let token = t.last_reset_token("alice@example.com");
    // The original counted each check and required fewer than five: the fifth is refused.
    for i in 0..4 {
        let r = send(&t, "PUT", "/pass/reset", json!({"code": token}), None).await;
        assert_envelope(&r);
        assert_eq!(code(&r), 0, "check {}: {}", i + 1, r.json);
    }
    let r = send(&t, "PUT", "/pass/reset", json!({"code": token}), None).await;
    assert_refused(&r, 1, RESET_VOID);
    // A void code cannot reset either.
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "new-pass-word-1"}),
        None,
    )
    .await;
    assert_refused(&r, 1, RESET_VOID);
    let r = send(&t, "PUT", "/pass/reset", json!({"code": "made-up"}), None).await;
    assert_refused(&r, 1, RESET_VOID);
    let r = send(&t, "PUT", "/pass/reset", json!({}), None).await;
    assert_param(&r, "code");
    let r = send(&t, "PUT", "/pass/reset", json!({"code": ""}), None).await;
    assert_param(&r, "code");
}

#[tokio::test]
async fn reset_sets_the_password_and_revokes_every_session() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let old = session(&login_direct(&t, "alice@example.com", "secret1").await);
    get(&t, "/pass/reset?email=alice@example.com", None).await;
    let token = t.last_reset_token("alice@example.com");
    assert_eq!(
        code(&send(&t, "PUT", "/pass/reset", json!({"code": token}), None).await),
        0
    );
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "new-pass-word-1"}),
        None,
    )
    .await;
    assert_envelope(&r);
    assert_eq!(code(&r), 0, "{}", r.json);
    assert_eq!(logined(&t, &old).await, json!({"logined": false}));
    assert_refused(
        &login(&t, "alice@example.com", "secret1").await,
        1005,
        WRONG_CREDENTIALS,
    );
    assert_eq!(
        code(&login(&t, "alice@example.com", "new-pass-word-1").await),
        0
    );
    // Spent.
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "other-pass-12"}),
        None,
    )
    .await;
    assert_refused(&r, 1, RESET_VOID);
}

#[tokio::test]
async fn reset_can_set_only_the_mobile_and_reads_the_query_string() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    t.user(new_user(
        "other@example.com",
        Some("13900002222"),
        "secret1",
        &t,
    ))
    .await;
    get(&t, "/pass/reset?email=alice@example.com", None).await;
    let token = t.last_reset_token("alice@example.com");
    // Neither password nor mobile.
    let r = send(&t, "POST", "/pass/reset", json!({"code": token}), None).await;
    assert_param(&r, "password");
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "x"}),
        None,
    )
    .await;
    assert_param(&r, "password");
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "mobile": "13900002222"}),
        None,
    )
    .await;
    assert_envelope(&r);
    assert_eq!(
        (r.json["code"].as_i64(), r.json["msg"].as_str()),
        (Some(1), Some(USER_EXISTS)),
        "{}",
        r.json
    );
    let uri = url(&format!("/pass/reset?code={token}&mobile={MOBILE}"));
    let r = t.raw("POST", &uri, "", "", &[]).await;
    assert_eq!(code(&r), 0, "{}", r.json);
    // The old password still works, and now asks for the SMS code on the new mobile.
    assert_eq!(code(&login(&t, "alice@example.com", "secret1").await), 1032);
    assert_eq!(
        outbox(&t).last().map(|e| e.to.clone()),
        Some(E164.to_string())
    );
}

#[tokio::test]
async fn logout_clears_the_cookie_and_ends_the_session() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let token = login_direct(&t, "alice@example.com", "secret1").await;
    let other = login_direct(&t, "alice@example.com", "secret1").await;
    let r = get(&t, "/logout", Some(&session(&token))).await;
    assert_envelope(&r);
    assert_eq!(code(&r), 0);
    assert_eq!(set_cookie(&r, "pauli_session").as_deref(), Some(""));
    let raw = raw_cookie(&r, "pauli_session");
    assert!(
        raw.contains("Max-Age=0") && raw.contains("Path=/pauli"),
        "{raw}"
    );
    assert_eq!(
        logined(&t, &session(&token)).await,
        json!({"logined": false})
    );
    // Only that session ended.
    assert_eq!(logined(&t, &session(&other)).await["logined"], true);
    // The token no longer authorises anything.
    let r = get(&t, "/record", Some(&session(&token))).await;
    assert_refused(&r, 1004, E_USER_NOT_LOGIN);
    // Logging out again, or without any session, is fine.
    assert_eq!(code(&get(&t, "/logout", Some(&session(&token))).await), 0);
    assert_eq!(code(&get(&t, "/logout", None).await), 0);
    // Bearer works too.
    let bearer = format!("Bearer {other}");
    let r = t
        .raw(
            "GET",
            &url("/logout"),
            "",
            "",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(code(&r), 0);
    assert_eq!(
        logined(&t, &session(&other)).await,
        json!({"logined": false})
    );
}

#[tokio::test]
async fn malformed_bodies_are_e_param_naming_the_field() {
    let t = test_app();
    let json_ct = "application/json";
    let cases = [
        ("PUT", "/pass/login", "{not json", "body"),
        ("PUT", "/pass/login", "[1, 2]", "body"),
        (
            "PUT",
            "/pass/login",
            r#"{"username": "a@b.co"}"#,
            "password",
        ),
        (
            "PUT",
            "/pass/login",
            r#"{"username": 1, "password": "x"}"#,
            "username",
        ),
        ("PUT", "/pass/login", "", "username"),
        ("POST", "/pass/code", r#"{"code": 123456}"#, "code"),
        ("POST", "/pass/code", "{}", "code"),
        ("PUT", "/pass/reset", r#"{"code": true}"#, "code"),
        (
            "POST",
            "/pass/reset",
            r#"{"code": "x", "password": 5}"#,
            "password",
        ),
        ("POST", "/pass/reset", "nope", "body"),
    ];
    for (method, path, body, field) in cases {
        let r = t.raw(method, &url(path), json_ct, body, &[]).await;
        assert_eq!(
            r.json,
            json!({"code": 1, "msg": "参数错误", "result": {"field": field}}),
            "{method} {path} {body}"
        );
        assert_param(&r, field);
    }
}

#[tokio::test]
async fn a_second_password_step_within_the_minute_reuses_an_unused_code_or_asks_to_wait() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    // Repeating the password step while the first code is unused: no new SMS, same code works.
    login_pending(&t, "m@example.com", "secret1").await;
    let first = t.last_code(E164);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    assert_eq!(outbox(&t).len(), 1);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": first}),
        Some(&pending(&pid)),
    )
    .await;
    assert_eq!(code(&r), 0, "{}", r.json);
    // The code is spent: a new password step within the minute cannot text a fresh one, so it
    // is refused with the wait instead of claiming a code was sent.
    t.clock.advance(30);
    let r = login(&t, "m@example.com", "secret1").await;
    assert!(set_cookie(&r, "pauli_pending").is_none());
    assert_eq!(assert_retry_later(&r), 30);
    t.clock.advance(31);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    assert_eq!(outbox(&t).len(), 2);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": t.last_code(E164)}),
        Some(&pending(&pid)),
    )
    .await;
    assert_eq!(code(&r), 0, "{}", r.json);
}

#[tokio::test]
async fn other_dialects_tokens_do_not_open_pauli_for_a_user_with_a_proven_mobile() {
    let t = test_app();
    let user = t
        .user(new_user(
            "boss@example.com",
            Some(MOBILE),
            "boss-pass-1",
            &t,
        ))
        .await;
    grant(&t, &user, "pauli:user:audit").await;
    // The first pauli login proves the mobile (its SMS code comes back).
    let pid = login_pending(&t, "boss@example.com", "boss-pass-1").await;
    let sent = t.last_code(E164);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": sent}),
        Some(&pending(&pid)),
    )
    .await;
    assert_eq!(code(&r), 0, "{}", r.json);
    let pauli_session = set_cookie(&r, "pauli_session").expect("session cookie");
    let audit = format!("/record?user_id={}", user.id);
    let r = get(&t, &audit, Some(&format!("pauli_session={pauli_session}"))).await;
    assert_eq!(code(&r), 0, "the two-factor session audits: {}", r.json);
    // A password alone, through any other dialect.
    let mut foreign = Vec::new();
    let r = t
        .json(
            "POST",
            "/auth/",
            json!({"username": "boss@example.com", "password": "boss-pass-1"}),
            &[],
        )
        .await;
    foreign.push(
        r.json["access_token"]
            .as_str()
            .expect("001 token")
            .to_string(),
    );
    let r = t
        .raw(
            "POST",
            "/auth/login",
            "application/x-www-form-urlencoded",
            "username=boss%40example.com&password=boss-pass-1",
            &[],
        )
        .await;
    foreign.push(
        r.json["data"]["token"]
            .as_str()
            .expect("004 token")
            .to_string(),
    );
    let r = t
        .json(
            "POST",
            "/api/v1/auth/login",
            json!({"email": "boss@example.com", "password": "boss-pass-1"}),
            &[],
        )
        .await;
    foreign.push(
        r.json["data"]["token"]
            .as_str()
            .expect("002 token")
            .to_string(),
    );
    let r = t
        .json(
            "POST",
            "/v1/auth/login",
            json!({"account": "boss@example.com", "password": "boss-pass-1"}),
            &[],
        )
        .await;
    foreign.push(r.json["token"].as_str().expect("003 token").to_string());
    for token in &foreign {
        let bearer = format!("Bearer {token}");
        let r = t
            .raw(
                "GET",
                &url("/logined"),
                "",
                "",
                &[("authorization", &bearer)],
            )
            .await;
        assert_eq!(r.json["result"]["logined"], false, "{}", r.json);
        let r = t
            .raw("GET", &url(&audit), "", "", &[("authorization", &bearer)])
            .await;
        assert_eq!(code(&r), 1004, "Bearer: {}", r.json);
        let r = get(&t, &audit, Some(&format!("pauli_session={token}"))).await;
        assert_eq!(code(&r), 1004, "cookie: {}", r.json);
    }
}
