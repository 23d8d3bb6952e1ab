//! The real binary on the AWS adapters (DynamoDB, SES v2, SNS) against moto: a short seed 002
//! and seed 003 journey, codes read back from what moto's SES and SNS accepted.

mod support;
use serde_json::{json, Value};
use support::*;

async fn post(s: &Server, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(s.url(path))
        .json(&body)
        .send()
        .await
        .expect("server answers");
    let status = res.status().as_u16();
    (status, res.json().await.expect("answer is JSON"))
}

#[tokio::test]
async fn email_code_register_login_refresh_on_moto() {
    let s = Server::start_aws().await;
    let email = "aws-journey@example.com";

    let (_, r) = post(
        &s,
        "/api/v1/auth/sendEmailCode",
        json!({"email": email, "type": "register"}),
    )
    .await;
    assert_eq!(r, json!({"code": 200, "data": null, "msg": "ok"}));
    let code = s.last_code(email).await;
    // Only the SMS of a test running at once could be in there with it.
    let mails: Vec<Value> = s
        .outbox()
        .await
        .into_iter()
        .filter(|m| m["channel"] == "email")
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["to"], email);
    let (_, r) = post(
        &s,
        "/api/v1/auth/register",
        json!({"email": email, "password": "secret1", "code": code}),
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");
    let (_, r) = post(
        &s,
        "/api/v1/auth/register",
        json!({"email": email, "password": "secret1", "code": code}),
    )
    .await;
    assert_ne!(r["code"], 200, "a code registers once: {r}");

    let (_, r) = post(
        &s,
        "/api/v1/auth/login",
        json!({"email": email, "password": "secret1"}),
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");
    let user_id = r["data"]["userId"].clone();
    assert!(user_id.as_u64().is_some_and(|id| id >= 1), "{r}");
    let refresh = r["data"]["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    let (_, r) = post(
        &s,
        "/api/v1/auth/updateToken",
        json!({"refreshToken": refresh}),
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");
    assert_eq!(r["data"]["userId"], user_id);

    let (_, r) = post(
        &s,
        "/api/v1/auth/login",
        json!({"email": email, "password": "wrong-one"}),
    )
    .await;
    assert_eq!(r["code"], 1002, "{r}");

    // The same user through another dialect, by an admin command on the same table.
    let aws = s.aws.clone().expect("an AWS server");
    let shown = aws.admin_json(&["show", email]);
    assert_eq!(shown["id"], user_id);
    let records = aws.admin_json(&["records", email]);
    assert_eq!(
        records.as_array().map(Vec::len),
        Some(1),
        "the one successful login: {records}"
    );
}

#[tokio::test]
async fn sms_code_through_sns_on_moto() {
    let s = Server::start_aws().await;
    let (status, r) = post(
        &s,
        "/v1/auth/send-code",
        json!({"account": "13312349876", "flag": "register"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let code = s.last_code("+8613312349876").await;
    assert_eq!(
        r["code"].as_u64(),
        code.parse::<u64>().ok(),
        "dev mode shows the code that SNS carried"
    );
    let (status, r) = post(
        &s,
        "/v1/auth/register",
        json!({"account": "13312349876", "password": "secret12", "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
}
