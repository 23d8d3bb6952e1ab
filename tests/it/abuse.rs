//! The abuse controls over real HTTP, on the embedded store and on moto: each test performs an
//! attack of the security review and shows it failing. Limits that suites share an address for
//! are generous by default (`support::GENEROUS_LIMITS`); these tests set the real ones.

use crate::support::*;
use futures::future::join_all;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn call(
    c: &reqwest::Client,
    s: &Server,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = c.request(method.parse().expect("method"), s.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("server answers");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let json = res.json().await.unwrap_or(Value::Null);
    (status, headers, json)
}

async fn post(s: &Server, path: &str, body: Value) -> (u16, Value) {
    let (status, _, json) = call(&reqwest::Client::new(), s, "POST", path, Some(body), &[]).await;
    (status, json)
}

/// The default limits, as a deployment gets them (the harness's generous ones undone).
fn real_limits() -> Vec<(&'static str, &'static str)> {
    vec![
        ("POLYAUTH_LIMIT_ATTEMPTS", "30/300"),
        ("POLYAUTH_LIMIT_SENDS", "10/3600"),
        ("POLYAUTH_LIMIT_CAPTCHAS", "60/3600"),
        ("POLYAUTH_LIMIT_REGISTRATIONS", "20/3600"),
        ("POLYAUTH_SMS_DAILY_BUDGET", "1000"),
        ("POLYAUTH_EMAIL_DAILY_BUDGET", "10000"),
    ]
}

async fn sms_pumping_to_a_country_not_enabled_sends_nothing(s: Server) {
    for n in 0..1000 {
        let (status, body) = post(
            &s,
            "/v1/auth/send-code",
            json!({"account": format!("+88216{n:06}"), "flag": "login"}),
        )
        .await;
        // Seed 003's answer to a country texts are not enabled for: polyauth's own refusal.
        assert_eq!(status, 403, "send {n}: {body}");
        assert_eq!(
            body["error"], "暂不支持向该国家或地区的手机号发送短信",
            "{body}"
        );
    }
    let sms: Vec<Value> = s
        .outbox()
        .await
        .into_iter()
        .filter(|e| e["channel"] == "sms" && e["to"].as_str().unwrap_or("").starts_with("+88216"))
        .collect();
    assert!(sms.is_empty(), "delivered: {sms:?}");
}

#[tokio::test]
async fn sms_pumping_to_a_country_not_enabled_sends_nothing_embedded() {
    sms_pumping_to_a_country_not_enabled_sends_nothing(Server::start().await).await;
}

#[tokio::test]
async fn sms_pumping_to_a_country_not_enabled_sends_nothing_on_moto() {
    sms_pumping_to_a_country_not_enabled_sends_nothing(Deployment::aws().await.start().await).await;
}

async fn the_eleventh_send_from_one_address_is_refused(s: Server) {
    let c = reqwest::Client::new();
    for n in 0..10 {
        let body = json!({"account": format!("user{n}@example.com"), "flag": "login"});
        // A forged X-Forwarded-For changes nothing: no proxy is trusted.
        let forged = format!("10.0.{n}.1");
        let (status, _, json) = call(
            &c,
            &s,
            "POST",
            "/v1/auth/send-code",
            Some(body),
            &[("x-forwarded-for", &forged)],
        )
        .await;
        assert_eq!(status, 200, "send {n}: {json}");
    }
    let body = json!({"account": "user10@example.com", "flag": "login"});
    let (status, headers, json) = call(
        &c,
        &s,
        "POST",
        "/v1/auth/send-code",
        Some(body),
        &[("x-forwarded-for", "203.0.113.250")],
    )
    .await;
    assert_eq!(status, 429, "{json}");
    let wait: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let mails = s
        .outbox()
        .await
        .iter()
        .filter(|e| e["to"].as_str().is_some_and(|to| to.starts_with("user")))
        .count();
    assert_eq!(mails, 10, "the eleventh was not sent");
}

#[tokio::test]
async fn the_eleventh_send_from_one_address_is_refused_forged_headers_or_not_embedded() {
    let s = Deployment::local().start_with(&real_limits()).await;
    the_eleventh_send_from_one_address_is_refused(s).await;
}

#[tokio::test]
async fn the_eleventh_send_from_one_address_is_refused_forged_headers_or_not_on_moto() {
    let s = Deployment::aws().await.start_with(&real_limits()).await;
    the_eleventh_send_from_one_address_is_refused(s).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_bucket() {
    let mut env = real_limits();
    env.push(("POLYAUTH_TRUSTED_PROXIES", "1"));
    let s = Deployment::local().start_with(&env).await;
    let c = reqwest::Client::new();
    for n in 0..11 {
        let body = json!({"account": format!("p{n}@example.com"), "flag": "login"});
        let hops = format!("6.6.6.6, 198.51.100.{n}");
        let (status, _, json) = call(
            &c,
            &s,
            "POST",
            "/v1/auth/send-code",
            Some(body),
            &[("x-forwarded-for", &hops)],
        )
        .await;
        assert_eq!(
            status, 200,
            "each proxied client has its own bucket: {json}"
        );
    }
}

async fn fifty_concurrent_wrong_passwords_lock_the_account_after_ten(s: Server) {
    let (status, body) = post(
        &s,
        "/auth/create",
        json!({"username": "victim", "password": "right-pass-1", "email": "victim@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let guesses = (0..50).map(|n| {
        post(
            &s,
            "/auth/",
            json!({"username": "victim", "password": format!("guess-{n}")}),
        )
    });
    let answers = join_all(guesses).await;
    let wrong = answers.iter().filter(|(status, _)| *status == 401).count();
    let locked = answers.iter().filter(|(status, _)| *status == 429).count();
    assert_eq!((wrong, locked), (10, 40), "{answers:?}");
    let (status, body) = post(
        &s,
        "/auth/",
        json!({"username": "victim", "password": "right-pass-1"}),
    )
    .await;
    assert_eq!(status, 429, "the right password waits out the lock: {body}");
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_lock_the_account_after_ten_embedded() {
    fifty_concurrent_wrong_passwords_lock_the_account_after_ten(Server::start().await).await;
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_lock_the_account_after_ten_on_moto() {
    let s = Deployment::aws().await.start().await;
    fifty_concurrent_wrong_passwords_lock_the_account_after_ten(s).await;
}

async fn a_burst_of_wrong_codes_voids_the_code(s: Server) {
    let (status, body) = post(
        &s,
        "/v1/auth/send-code",
        json!({"account": "burst@example.com", "flag": "login"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let right = s.last_code("burst@example.com").await;
    let wrong = if right == "111111" {
        "222222"
    } else {
        "111111"
    };
    let guesses = (0..100).map(|_| {
        post(
            &s,
            "/v1/auth/check-code",
            json!({"account": "burst@example.com", "code": wrong}),
        )
    });
    for (status, body) in join_all(guesses).await {
        assert!(status == 404 || status == 429, "{status} {body}");
    }
    let (status, body) = post(
        &s,
        "/v1/auth/login",
        json!({"account": "burst@example.com", "code": right}),
    )
    .await;
    assert!(
        status == 400 || status == 429,
        "the code still worked: {body}"
    );
}

#[tokio::test]
async fn a_burst_of_wrong_codes_voids_the_code_embedded() {
    a_burst_of_wrong_codes_voids_the_code(Server::start().await).await;
}

#[tokio::test]
async fn a_burst_of_wrong_codes_voids_the_code_on_moto() {
    a_burst_of_wrong_codes_voids_the_code(Deployment::aws().await.start().await).await;
}

/// Renders and solves the challenge `id`.
async fn solve(s: &Server, id: &str) {
    let (_, body) = post(s, "/api/v1/auth/captcha", json!({"captchaId": id})).await;
    assert_eq!(body["code"], 200, "{body}");
    let x = s.captcha_answer(id).await;
    let (_, body) = post(
        s,
        "/api/v1/verify/captcha/validate",
        json!({"captchaId": id, "x": x}),
    )
    .await;
    assert_eq!(body["code"], 200, "{body}");
}

async fn login_002(s: &Server, email: &str, password: &str, captcha: Option<&str>) -> Value {
    let mut body = json!({"email": email, "password": password});
    if let Some(id) = captcha {
        body["captchaId"] = json!(id);
    }
    post(s, "/api/v1/auth/login", body).await.1
}

#[tokio::test]
async fn seed_002_locks_after_ten_failures_even_with_solved_captchas() {
    let s = Server::start().await;
    let (status, body) = post(
        &s,
        "/auth/create",
        json!({"username": "alnitak", "password": "right-pass-1", "email": "star@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut captcha: Option<String> = None;
    let mut failures = 0;
    while failures < 10 {
        let answer = login_002(&s, "star@example.com", "wrong-pass", captcha.as_deref()).await;
        match answer["code"].as_i64() {
            Some(-1) => {
                let id = answer["data"]["captchaId"].as_str().unwrap().to_string();
                solve(&s, &id).await;
                captcha = Some(id);
            }
            Some(500) => {
                assert_eq!(answer["msg"], "用户名密码不匹配", "{answer}");
                failures += 1;
                captcha = None;
            }
            _ => panic!("{answer}"),
        }
    }
    // The right password, with a solved captcha or without: still locked.
    let (_, issued) = post(&s, "/api/v1/auth/captcha", json!({})).await;
    let id = issued["data"]["captchaId"].as_str().unwrap().to_string();
    solve(&s, &id).await;
    for captcha in [None, Some(id.as_str())] {
        let answer = login_002(&s, "star@example.com", "right-pass-1", captcha).await;
        assert_eq!(answer["code"], 500, "{answer}");
        assert!(
            answer["msg"].as_str().unwrap().starts_with("操作过于频繁"),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn a_captcha_solved_for_one_email_does_not_unlock_another() {
    let s = Server::start().await;
    for email in ["one@example.com", "two@example.com"] {
        for _ in 0..3 {
            login_002(&s, email, "wrong-pass", None).await;
        }
    }
    let answer = login_002(&s, "one@example.com", "wrong-pass", None).await;
    let id = answer["data"]["captchaId"]
        .as_str()
        .expect("-1")
        .to_string();
    solve(&s, &id).await;
    let answer = login_002(&s, "two@example.com", "wrong-pass", Some(&id)).await;
    assert_eq!(answer["code"], -1, "bound to one@: {answer}");
    let answer = login_002(&s, "one@example.com", "wrong-pass", Some(&id)).await;
    assert_eq!(answer["msg"], "用户名密码不匹配", "{answer}");
}

#[tokio::test]
async fn a_reset_code_is_never_mailed_without_a_solved_captcha() {
    let s = Server::start().await;
    let (status, body) = post(
        &s,
        "/auth/create",
        json!({"username": "resetme", "password": "right-pass-1", "email": "reset@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, issued) = post(&s, "/api/v1/auth/captcha", json!({})).await;
    let unsolved = issued["data"]["captchaId"].as_str().unwrap().to_string();
    for (path, body) in [
        (
            "/api/v1/auth/resetpwdCheck",
            json!({"email": "reset@example.com"}),
        ),
        (
            "/api/v1/auth/resetpwdCheck",
            json!({"email": "reset@example.com", "captchaId": unsolved}),
        ),
        (
            "/api/v1/auth/sendEmailCode",
            json!({"email": "reset@example.com", "type": "resetpwd"}),
        ),
        (
            "/api/v1/auth/sendEmailCode",
            json!({"email": "reset@example.com", "type": "resetpwd", "captchaId": unsolved}),
        ),
        (
            "/api/v1/verify/getEmailCode",
            json!({"email": "reset@example.com"}),
        ),
    ] {
        let (_, answer) = post(&s, path, body).await;
        assert_eq!(answer["code"], -1, "{path}: {answer}");
    }
    let mails: Vec<Value> = s
        .outbox()
        .await
        .into_iter()
        .filter(|e| e["to"] == "reset@example.com")
        .collect();
    assert!(mails.is_empty(), "{mails:?}");
}

async fn a_hundred_reset_link_requests_mail_at_most_the_hourly_cap(s: Server) {
    let (status, body) = post(
        &s,
        "/auth/create",
        json!({"username": "linked", "password": "right-pass-1", "email": "link@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = reqwest::Client::new();
    for _ in 0..100 {
        call(
            &c,
            &s,
            "GET",
            "/pauli/auth/api/pass/reset?email=link@example.com",
            None,
            &[],
        )
        .await;
    }
    let links = s
        .outbox()
        .await
        .into_iter()
        .filter(|e| e["to"] == "link@example.com")
        .count();
    assert!((1..=10).contains(&links), "{links} links mailed");
}

#[tokio::test]
async fn a_hundred_reset_link_requests_mail_at_most_the_hourly_cap_embedded() {
    a_hundred_reset_link_requests_mail_at_most_the_hourly_cap(Server::start().await).await;
}

#[tokio::test]
async fn a_hundred_reset_link_requests_mail_at_most_the_hourly_cap_on_moto() {
    let s = Deployment::aws().await.start().await;
    a_hundred_reset_link_requests_mail_at_most_the_hourly_cap(s).await;
}

async fn an_over_long_refresh_token_is_an_invalid_token(s: Server) {
    let token = format!("{}.x", "a".repeat(3000));
    let (status, body) = post(
        &s,
        "/api/v1/auth/updateToken",
        json!({"refreshToken": token}),
    )
    .await;
    assert_eq!((status, body["code"].as_i64()), (200, Some(2000)), "{body}");
    let (_, body) = post(
        &s,
        "/api/v1/verify/captcha/validate",
        json!({"captchaId": "b".repeat(3000), "x": 100}),
    )
    .await;
    assert_eq!(body["msg"], "滑块验证失败", "{body}");
}

#[tokio::test]
async fn an_over_long_refresh_token_is_an_invalid_token_embedded() {
    an_over_long_refresh_token_is_an_invalid_token(Server::start().await).await;
}

#[tokio::test]
async fn an_over_long_refresh_token_is_an_invalid_token_on_moto() {
    an_over_long_refresh_token_is_an_invalid_token(Deployment::aws().await.start().await).await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let s = Server::start().await;
    let addr = s.url("").trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"POST /auth/ HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await;
    let waited = started.elapsed();
    assert!(read.is_ok(), "the connection stayed open past 30 s");
    assert!(waited < Duration::from_secs(20), "{waited:?}");
}
