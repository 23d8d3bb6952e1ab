use super::*;

#[tokio::test]
async fn a_seed_001_user_signs_in_through_004_and_002() {
    let t = test_app();
    let id = create(&t, "test", "seed-pass-1", "shared@example.com")
        .await
        .json["id"]
        .as_u64()
        .unwrap();
    // Seed 004 by username, although "test" is shorter than its register rule.
    let r = login_004(&t, &[("username", "test"), ("password", "seed-pass-1")]).await;
    assert_eq!(login_data(&r), json!({"id": id, "username": "test"}));
    let token = header_token(&r);
    assert_eq!(whoami(&t, Some(&token)).await.json["data"]["id"], id);
    // One user, but a seed-001 token opens no seed-004 door: each dialect its own sessions.
    let token_001 = token_001(&t, "test", "seed-pass-1").await;
    assert_fail(&whoami(&t, Some(&token_001)).await, 401, "Unauthorized");
    // Seed 002 by email, whose original refused passwords under six characters at login.
    let r = t
        .json(
            "POST",
            "/api/v1/auth/login",
            json!({"email": "shared@example.com", "password": "test"}),
            &[],
        )
        .await;
    assert_eq!(
        (r.json["code"].clone(), r.json["msg"].clone()),
        (json!(500), json!("密码长度不能小于6位")),
        "{}",
        r.json
    );
    let reset =
        json!({"username": "test", "password": "seed-pass-1", "new_password": "longer-pass-2"});
    let r = t.json("POST", "/auth/reset", reset, &[]).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = t
        .json(
            "POST",
            "/api/v1/auth/login",
            json!({"email": "shared@example.com", "password": "longer-pass-2"}),
            &[],
        )
        .await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    assert_eq!(r.json["data"]["userId"], id);
}
