use super::*;
use crate::{
    sender::{Channel, Message, SendError, Sender},
    services::testing::Harness,
};
use std::sync::Arc;

const WRONG_CODE: &str = "验证码错误，请输入正确的验证码";
const NO_PASSWORD_STEP: &str = "用户名/密码未验证或已失效，请返回重新验证";
const RESEND_TOO_SOON: &str = "验证码发送间隔时间太短";

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
    assert_refused(&again, 1007, WRONG_CODE);
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
    // The original's order: the resend minute is checked before the method, and a method is
    // one of its two exact words.
    assert_refused(
        &get(&t, "/pass/code?method=fax", Some(&cookie)).await,
        1,
        RESEND_TOO_SOON,
    );
    t.clock.advance(61);
    for odd in ["fax", "SMS"] {
        let r = get(&t, &format!("/pass/code?method={odd}"), Some(&cookie)).await;
        assert_refused(&r, 1, "不支持的验证发送方式");
    }
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

    let none = get(&t, "/pass/code", None).await;
    assert_refused(&none, 1, NO_PASSWORD_STEP);
    // The password step is checked before the method, as the original's `send_sms_code`.
    let none = get(&t, "/pass/code?method=fax", None).await;
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
    let router = super::super::router(t.auth.clone());
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
    assert_refused(&r, 1007, WRONG_CODE);
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
    assert_refused(&r, 1007, WRONG_CODE);
    assert!(set_cookie(&r, "pauli_session").is_none());
    // A code of another shape is a wrong one, as the original's `pass_verify_code` answered.
    t.clock.advance(61);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    for shape in ["abc", "", "１２３４５６"] {
        let r = send(
            &t,
            "POST",
            "/pass/code",
            json!({"code": shape}),
            Some(&pending(&pid)),
        )
        .await;
        assert_refused(&r, 1007, WRONG_CODE);
    }
    // A JSON body under a form's label (jQuery's default) is read as JSON, as the original's
    // `get_json(force=True)` did.
    let r = t
        .raw(
            "POST",
            &url("/pass/code"),
            "application/x-www-form-urlencoded; charset=UTF-8",
            &json!({"code": t.last_code(E164)}).to_string(),
            &[("cookie", &pending(&pid))],
        )
        .await;
    assert_eq!(code(&r), 0, "{}", r.json);
}

/// The original's `pass_verify_code` answered every failure of the code step 1007: no
/// password step at all, or one nobody knows, is a wrong code there (`GET pass/code` keeps 1).
#[tokio::test]
async fn entering_a_code_without_a_password_step_is_a_wrong_code() {
    let t = test_app();
    for cookie in [None, Some(pending("no-such-login"))] {
        let r = send(
            &t,
            "POST",
            "/pass/code",
            json!({"code": "123456"}),
            cookie.as_deref(),
        )
        .await;
        assert_refused(&r, 1007, WRONG_CODE);
    }
}
