use super::*;

#[tokio::test]
async fn users_are_shared_with_the_api_v1_dialect() {
    let t = test_app();
    // Registered here by email, signed in through seed 002.
    let code = code_for(&t, "cross@x.com", "cross@x.com", "register").await;
    let r = post(
        &t,
        "register",
        json!({"account": "cross@x.com", "password": "pass-word-123456", "code": code}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let id = r.json["user"]["id"].clone();
    let other = t
        .json(
            "POST",
            "/api/v1/auth/login",
            json!({"email": "cross@x.com", "password": "pass-word-123456"}),
            &[],
        )
        .await;
    assert_eq!(other.json["code"], 200, "{}", other.json);
    assert_eq!(other.json["data"]["userId"], id);
    // Registered through seed 002, signed in here.
    let r = t
        .json(
            "POST",
            "/api/v1/auth/sendEmailCode",
            json!({"email": "there@x.com", "type": "register"}),
            &[],
        )
        .await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    let code = t.last_code("there@x.com");
    let body = json!({"email": "there@x.com", "password": "secret-pass-1", "code": code});
    let r = t.json("POST", "/api/v1/auth/register", body, &[]).await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    let r = post(
        &t,
        "login",
        json!({"account": "there@x.com", "password": "secret-pass-1"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["user"]["email"], "there@x.com");
    assert_eq!(r.json["user"]["nickname"], "the****.com");
}
