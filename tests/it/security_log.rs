//! Security events, read from the local binary's own log: one line per event, with the user,
//! address and dialect, and never a password, code, token or link.

use crate::support::*;
use serde_json::{json, Value};

async fn call(c: &reqwest::Client, s: &Server, method: &str, path: &str, body: Value) -> Value {
    c.request(method.parse().unwrap(), s.url(path))
        .json(&body)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn security_events_are_logged_without_secrets() {
    // At info, where request spans are recorded (the tests' default is warn).
    let (s, log) = Server::start_logged(&[
        ("POLYAUTH_SESSION_MAX_AGE", "2592000"),
        ("RUST_LOG", "info"),
    ])
    .await;
    let c = reqwest::Client::new();
    let mut secrets: Vec<String> = vec!["Eve-secret-pass-1".into(), "guess-pass-123".into()];
    let created = call(
        &c,
        &s,
        "POST",
        "/auth/create",
        json!({"username": "eve", "password": "Eve-secret-pass-1", "email": "eve@example.com"}),
    )
    .await;
    let id = created["id"].as_u64().expect("created");
    // A wrong password, then a lockout of another account.
    call(
        &c,
        &s,
        "POST",
        "/auth/",
        json!({"username": "eve", "password": "guess-pass-123"}),
    )
    .await;
    for _ in 0..11 {
        call(
            &c,
            &s,
            "POST",
            "/auth/",
            json!({"username": "nobody", "password": "guess-pass-123"}),
        )
        .await;
    }
    // A wrong code, a wrong slider.
    call(
        &c,
        &s,
        "POST",
        "/v1/auth/send-code",
        json!({"account": "eve@example.com", "flag": "login"}),
    )
    .await;
    let code = s.last_code("eve@example.com").await;
    secrets.push(code.clone());
    let wrong = if code == "111111" { "222222" } else { "111111" };
    call(
        &c,
        &s,
        "POST",
        "/v1/auth/check-code",
        json!({"account": "eve@example.com", "code": wrong}),
    )
    .await;
    let issued = call(&c, &s, "POST", "/api/v1/auth/captcha", json!({})).await;
    let captcha = issued["data"]["captchaId"].as_str().unwrap().to_string();
    let x = s.captcha_answer(&captcha).await;
    call(
        &c,
        &s,
        "POST",
        "/api/v1/verify/captcha/validate",
        json!({"captchaId": captcha, "x": if x > 150 { x - 100 } else { x + 100 }}),
    )
    .await;
    // A reset link, used to set a new password and mobile.
    c.get(s.url("/pauli/auth/api/pass/reset?email=eve@example.com"))
        .send()
        .await
        .unwrap();
    let token = s.last_reset_token("eve@example.com").await;
    secrets.push(token.clone());
    let redeemed = call(
        &c,
        &s,
        "POST",
        "/pauli/auth/api/pass/reset",
        json!({"code": token, "password": "Eve-second-pass-2", "mobile": "13312345678"}),
    )
    .await;
    assert_eq!(redeemed["code"], 0, "{redeemed}");
    secrets.push("Eve-second-pass-2".into());
    // A forged refresh token for a live 002 session.
    let login = call(
        &c,
        &s,
        "POST",
        "/api/v1/auth/login",
        json!({"email": "eve@example.com", "password": "Eve-second-pass-2"}),
    )
    .await;
    let access = login["data"]["token"]
        .as_str()
        .expect("002 token")
        .to_string();
    let refresh = login["data"]["refreshToken"].as_str().unwrap().to_string();
    secrets.push(access.clone());
    secrets.push(refresh.clone());
    let sid = refresh.split('.').next().unwrap();
    let forged = format!("{sid}.{id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    call(
        &c,
        &s,
        "POST",
        "/api/v1/auth/updateToken",
        json!({"refreshToken": forged}),
    )
    .await;
    // A permission granted and the account disabled.
    let granted = s_admin(&s, &["grant", "eve@example.com", "pauli:user:audit"]);
    assert!(granted.status.success(), "{granted:?}");
    let token_001 = call(
        &c,
        &s,
        "POST",
        "/auth/",
        json!({"username": "eve", "password": "Eve-second-pass-2"}),
    )
    .await["access_token"]
        .as_str()
        .expect("001 token")
        .to_string();
    secrets.push(token_001.clone());
    let disabled = c
        .post(s.url("/auth/disable"))
        .bearer_auth(&token_001)
        .json(&json!({"username": "eve", "password": "Eve-second-pass-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);

    let text = std::fs::read_to_string(&log).expect("the log");
    for event in [
        "login_failed",
        "login_locked",
        "code_failed",
        "captcha_failed",
        "reset_requested",
        "reset_completed",
        "mobile_changed",
        "refresh_reuse",
        "permission_changed",
        "user_disabled",
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("event=\"{event}\"")))
            .unwrap_or_else(|| panic!("no {event} in the log:\n{text}"));
        assert!(line.contains("ip="), "{line}");
        assert!(line.contains("outcome="), "{line}");
    }
    // Each event is logged inside its request's span, which names the route it came through.
    let failed = text
        .lines()
        .find(|l| l.contains("event=\"login_failed\""))
        .unwrap_or_default();
    assert!(
        failed.contains("request{method=POST route=/auth/"),
        "no request span on {failed}"
    );
    let dialects = [
        "dialect=\"auth-json\"",
        "dialect=\"v1\"",
        "dialect=\"api-v1\"",
        "dialect=\"pauli\"",
    ];
    for d in dialects {
        assert!(text.contains(d), "no {d} in the log");
    }
    assert!(text.contains(&format!("user={id}")), "events name the user");
    // The development outbox prints each message it "sends" (that is its job); every other
    // line is the log proper, and holds no secret.
    let logged: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("[outbox]"))
        .collect();
    assert!(logged.len() > 10, "{text}");
    for secret in &secrets {
        for line in &logged {
            assert!(
                !line.contains(secret.as_str()),
                "a secret in the log: {line}"
            );
        }
    }
}

/// An admin command handed to the running server (it logs the event).
fn s_admin(s: &Server, args: &[&str]) -> std::process::Output {
    admin(&s.data_dir, args)
}
