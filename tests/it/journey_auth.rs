//! Seeds 001 (`/auth`, JSON) and 004 (`/auth`, form data) against the real local binary over
//! HTTP, and one user crossing dialects.

use crate::support::*;
use serde_json::{json, Value};

async fn post_json(
    client: &reqwest::Client,
    url: String,
    body: Value,
    token: Option<&str>,
) -> (u16, Value) {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request is answered");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON body"))
}

/// A `multipart/form-data` body built by hand: (content type, body).
fn multipart(fields: &[(&str, &str)]) -> (String, String) {
    let boundary = "journeyBoundary4f2a9c";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn answer(res: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.expect("JSON body"))
}

#[tokio::test]
async fn seed_001_create_login_reset_disable_embedded() {
    seed_001_create_login_reset_disable(Server::start().await).await;
}

#[tokio::test]
async fn seed_001_create_login_reset_disable_on_moto() {
    seed_001_create_login_reset_disable(Server::start_aws().await).await;
}

async fn seed_001_create_login_reset_disable(server: Server) {
    let c = reqwest::Client::new();

    let (status, body) = post_json(
        &c,
        server.url("/auth/create"),
        json!({"username": "test", "password": "seed-pass-1", "email": "test@example.com"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_u64().expect("integer id");
    let (status, again) = post_json(
        &c,
        server.url("/auth/create"),
        json!({"username": "test", "password": "seed-pass-1", "email": "other@example.com"}),
        None,
    )
    .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(
        again,
        json!({"code": 409, "detailed_error_code": 40900, "error_msg": "StatusCode.ITEM_ALREADY_EXISTS: Username conflicted"})
    );

    let creds = json!({"username": "test", "password": "seed-pass-1"});
    let (status, body) = post_json(&c, server.url("/auth/"), creds.clone(), None).await;
    assert_eq!(status, 200, "{body}");
    let old_token = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    assert_eq!(old_token.split('.').count(), 3);
    // One user, but each dialect its own sessions: seed 004's who-am-I refuses a 001 token.
    let res = c
        .get(server.url("/auth/"))
        .bearer_auth(&old_token)
        .send()
        .await
        .unwrap();
    let (status, _, me) = answer(res).await;
    assert_eq!(
        (status, &me["message"]),
        (401, &json!("Unauthorized")),
        "{me}"
    );
    assert!(id > 0);

    let reset =
        json!({"username": "test", "password": "seed-pass-1", "new_password": "new_password"});
    let (status, body) = post_json(&c, server.url("/auth/reset"), reset, None).await;
    assert_eq!(
        (status, &body),
        (200, &json!({"result": "Ok, password has been updated."}))
    );
    let (status, body) = post_json(&c, server.url("/auth/"), creds.clone(), None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["detailed_error_code"], 40101, "{body}");

    let new_creds = json!({"username": "test", "password": "new_password"});
    // The token from before the reset was revoked with the password change.
    let (status, _) = post_json(
        &c,
        server.url("/auth/disable"),
        new_creds.clone(),
        Some(&old_token),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = post_json(&c, server.url("/auth/"), new_creds.clone(), None).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let (status, body) = post_json(
        &c,
        server.url("/auth/disable"),
        new_creds.clone(),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, &body),
        (200, &json!({"result": "Ok, user has been diabled."}))
    );

    // A disabled user logs in as with a wrong password, and their token says disabled.
    let (status, body) = post_json(&c, server.url("/auth/"), new_creds.clone(), None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["detailed_error_code"], 40101, "{body}");
    let (status, body) = post_json(
        &c,
        server.url("/auth/reset"),
        json!({"username": "test", "password": "new_password", "new_password": "whatever-pass-2"}),
        Some(&token),
    )
    .await;
    assert_eq!(
        (status, body["detailed_error_code"].clone()),
        (401, json!(40104)),
        "{body}"
    );
}

#[tokio::test]
async fn seed_004_register_login_whoami_logout_embedded() {
    seed_004_register_login_whoami_logout(Server::start().await).await;
}

#[tokio::test]
async fn seed_004_register_login_whoami_logout_on_moto() {
    seed_004_register_login_whoami_logout(Server::start_aws().await).await;
}

async fn seed_004_register_login_whoami_logout(server: Server) {
    let c = reqwest::Client::new();

    let res = c
        .post(server.url("/auth/register"))
        .form(&[("username", "aoihosizora"), ("password", "pass-word-123")])
        .send()
        .await
        .unwrap();
    let (status, _, body) = answer(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["code"].as_i64(), body["message"].as_str()),
        (Some(200), Some("Success"))
    );
    let id = body["data"]["id"].as_u64().expect("integer id");
    assert_eq!(body["data"]["username"], "aoihosizora");

    // Login as multipart form data; the token comes back in the Authorization header.
    let (content_type, form) =
        multipart(&[("username", "aoihosizora"), ("password", "pass-word-123")]);
    let res = c
        .post(server.url("/auth/login"))
        .header("content-type", content_type)
        .body(form)
        .send()
        .await
        .unwrap();
    let (status, headers, body) = answer(res).await;
    assert_eq!(status, 200, "{body}");
    let token = body["data"]["token"]
        .as_str()
        .expect("data.token")
        .to_string();
    assert_eq!(
        body["data"],
        json!({"id": id, "username": "aoihosizora", "token": token})
    );
    let header = headers
        .get("authorization")
        .expect("Authorization response header")
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(header, format!("Bearer {token}"));

    let res = c
        .get(server.url("/auth/"))
        .header("authorization", &token)
        .send()
        .await
        .unwrap();
    let (status, _, body) = answer(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"code": 200, "message": "Success", "data": {"id": id, "username": "aoihosizora"}})
    );

    let res = c
        .post(server.url("/auth/logout"))
        .header("authorization", &token)
        .send()
        .await
        .unwrap();
    let (status, _, body) = answer(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["count"], 1);

    let res = c
        .get(server.url("/auth/"))
        .header("authorization", &token)
        .send()
        .await
        .unwrap();
    let (status, _, body) = answer(res).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body, json!({"code": 401, "message": "Unauthorized"}));

    // A malformed multipart body is a clear 400, never a 500.
    let res = c
        .post(server.url("/auth/login"))
        .header("content-type", "multipart/form-data; boundary=X")
        .body("--X\r\ngarbage")
        .send()
        .await
        .unwrap();
    let (status, _, body) = answer(res).await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(400)), "{body}");
}

#[tokio::test]
async fn a_seed_001_user_signs_in_through_004_and_002_embedded() {
    a_seed_001_user_signs_in_through_004_and_002(Server::start().await).await;
}

#[tokio::test]
async fn a_seed_001_user_signs_in_through_004_and_002_on_moto() {
    a_seed_001_user_signs_in_through_004_and_002(Server::start_aws().await).await;
}

async fn a_seed_001_user_signs_in_through_004_and_002(server: Server) {
    let c = reqwest::Client::new();
    let (status, body) = post_json(
        &c,
        server.url("/auth/create"),
        json!({"username": "crosser", "password": "secret-pass-123", "email": "crosser@example.com"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_u64().unwrap();

    let res = c
        .post(server.url("/auth/login"))
        .form(&[("username", "crosser"), ("password", "secret-pass-123")])
        .send()
        .await
        .unwrap();
    let (status, headers, body) = answer(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["id"], id, "{body}");
    assert_eq!(body["data"]["username"], "crosser", "{body}");
    assert!(headers.get("authorization").is_some());

    let (status, body) = post_json(
        &c,
        server.url("/api/v1/auth/login"),
        json!({"email": "crosser@example.com", "password": "secret-pass-123"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], 200, "{body}");
    assert!(
        body["data"]["token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_eq!(body["data"]["userId"], id);
}
