//! Seed 003 (`/v1/auth`) over real HTTP against the local binary, codes read from the dev outbox.

use crate::support::*;
use serde_json::{json, Value};

const MOBILE: &str = "13312341234";
const E164: &str = "+8613312341234";

async fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .expect("server answers");
    let status = res.status().as_u16();
    let json = res.json().await.expect("answer is JSON");
    (status, json)
}

async fn send_code(server: &Server, account: &str, to: &str, flag: &str) -> String {
    let (status, body) = post(
        server,
        "/v1/auth/send-code",
        json!({"account": account, "flag": flag}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "开发模式，验证码发送成功");
    let code = server.last_code(to).await;
    assert_eq!(body["code"].as_u64(), code.parse::<u64>().ok(), "{body}");
    code
}

#[tokio::test]
async fn mobile_journey_send_check_register_login_reset_embedded() {
    mobile_journey_send_check_register_login_reset(Server::start().await).await;
}

#[tokio::test]
async fn mobile_journey_send_check_register_login_reset_on_moto() {
    mobile_journey_send_check_register_login_reset(Server::start_aws().await).await;
}

async fn mobile_journey_send_check_register_login_reset(server: Server) {
    let code = send_code(&server, MOBILE, E164, "register").await;
    let (status, body) = post(
        &server,
        "/v1/auth/check-code",
        json!({"account": MOBILE, "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], json!(code));
    let expired_at = body["expired_at"].as_str().expect("expired_at");
    assert!(
        expired_at.ends_with(".000Z") && expired_at.len() == 24,
        "{expired_at}"
    );

    let register =
        json!({"account": MOBILE, "password": "pass-word-123456", "nickname": "", "code": code});
    let (status, reg) = post(&server, "/v1/auth/register", register).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["isNewUser"], true);
    assert_eq!(
        reg["user"],
        json!({"id": reg["user"]["id"], "nickname": "133****1234", "email": "", "mobile": MOBILE, "gender": 0, "avatar": ""})
    );
    assert!(reg["user"]["id"].is_u64());
    assert_eq!(
        reg["token"].as_str().map(|t| t.split('.').count()),
        Some(3),
        "a JWT"
    );

    let (status, login) = post(
        &server,
        "/v1/auth/login",
        json!({"account": MOBILE, "password": "pass-word-123456"}),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["isNewUser"], false);
    assert_eq!(login["user"], reg["user"]);

    let (status, wrong) = post(
        &server,
        "/v1/auth/login",
        json!({"account": MOBILE, "password": "654321"}),
    )
    .await;
    assert_eq!(
        (status, wrong),
        (400, json!({"error": "incorrect username or password"}))
    );

    // A code login of an account nobody registered creates it.
    let other = "13900001111";
    let code = send_code(&server, other, "+8613900001111", "login").await;
    let (status, fresh) = post(
        &server,
        "/v1/auth/login",
        json!({"account": other, "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["isNewUser"], true);
    assert_eq!(fresh["user"]["mobile"], other);
    assert_eq!(fresh["user"]["nickname"], "139****1111");
    assert_ne!(fresh["user"]["id"], reg["user"]["id"]);

    let code = send_code(&server, MOBILE, E164, "reset-password").await;
    let reset = json!({"account": MOBILE, "password": "n3w-secret", "code": code});
    let (status, after) = post(&server, "/v1/auth/reset-password", reset.clone()).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["isNewUser"], false);
    assert_eq!(after["user"]["id"], reg["user"]["id"]);
    assert_ne!(after["token"], login["token"]);
    let (status, spent) = post(&server, "/v1/auth/reset-password", reset).await;
    assert_eq!(
        (status, spent),
        (400, json!({"error": "验证码不存在或已过期"}))
    );

    let (status, old) = post(
        &server,
        "/v1/auth/login",
        json!({"account": MOBILE, "password": "pass-word-123456"}),
    )
    .await;
    assert_eq!(status, 400, "{old}");
    let (status, new) = post(
        &server,
        "/v1/auth/login",
        json!({"account": MOBILE, "password": "n3w-secret"}),
    )
    .await;
    assert_eq!(status, 200, "{new}");
    assert_eq!(new["user"]["id"], reg["user"]["id"]);

    let (status, bad) = post(
        &server,
        "/v1/auth/send-code",
        json!({"account": MOBILE, "flag": "nope"}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert!(
        bad["error"].as_str().is_some_and(|e| e.contains("flag")),
        "{bad}"
    );
    server.stop();
}

#[tokio::test]
async fn registered_here_by_email_signs_in_through_api_v1_embedded() {
    registered_here_by_email_signs_in_through_api_v1(Server::start().await).await;
}

#[tokio::test]
async fn registered_here_by_email_signs_in_through_api_v1_on_moto() {
    registered_here_by_email_signs_in_through_api_v1(Server::start_aws().await).await;
}

async fn registered_here_by_email_signs_in_through_api_v1(server: Server) {
    let email = "journey@example.com";
    let code = send_code(&server, email, email, "register").await;
    let register = json!({"account": email, "password": "secret-pass-1", "code": code});
    let (status, reg) = post(&server, "/v1/auth/register", register).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["user"]["nickname"], "jou****.com");
    assert_eq!(reg["user"]["mobile"], "");

    let (status, body) = post(
        &server,
        "/api/v1/auth/login",
        json!({"email": email, "password": "secret-pass-1"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], 200, "{body}");
    assert_eq!(body["data"]["userId"], reg["user"]["id"]);
    server.stop();
}
