use super::*;

/// Seed 001's tokens live 24 hours, as the original's `valid_hours`.
const TOKEN_TTL_001: i64 = 24 * 3600;

#[tokio::test]
async fn create_then_login_answers_a_jwt_with_the_seed_claims() {
    let t = test_app();
    let r = create(&t, "test", "seed-pass-1", "test@example.com").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let id = r.json["id"].as_u64().expect("integer id");
    assert_eq!(r.json.as_object().unwrap().len(), 1, "{}", r.json);

    let r = login_001(&t, "test", "seed-pass-1").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json.as_object().unwrap().len(), 1, "{}", r.json);
    let token = r.json["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    let c = claims(token);
    assert_eq!(c["user_id"], id);
    assert_eq!(c["type"], "access_token");
    assert_eq!(c["iat"], 1_700_000_000);
    // 24 hours, as the original's `valid_hours` and the seed's example token.
    assert_eq!(c["exp"].as_i64().unwrap(), 1_700_000_000 + TOKEN_TTL_001);

    // `/auth` without the slash, and by another identifier of the account.
    let r = t
        .json(
            "POST",
            "/auth",
            json!({"username": "TEST@example.com", "password": "seed-pass-1"}),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        claims(r.json["access_token"].as_str().unwrap())["user_id"],
        id
    );
}

#[tokio::test]
async fn login_failures_are_one_answer_and_bad_bodies_are_bad_login_info() {
    let t = test_app();
    create(&t, "alice", "secret-pass-1", "alice@example.com").await;
    let wrong = login_001(&t, "alice", "nope").await;
    let unknown = login_001(&t, "nobody", "secret").await;
    assert_login_incorrect(&wrong);
    assert_eq!(unknown.json, wrong.json);
    assert_eq!(unknown.status, wrong.status);

    // Missing field, wrong type, not JSON, empty username: all the original's 40001.
    let r = t
        .json("POST", "/auth/", json!({"username": "alice"}), &[])
        .await;
    assert_bad_login_info(&r);
    let r = t
        .json(
            "POST",
            "/auth/",
            json!({"username": 5, "password": "secret-pass-1"}),
            &[],
        )
        .await;
    assert_bad_login_info(&r);
    let r = t
        .raw("POST", "/auth/", "application/json", "{not json", &[])
        .await;
    assert_bad_login_info(&r);
    // Present but naming no account, or an empty password: the original's `authenticate`
    // failed (40101); only a name past every identifier's length is bad input.
    for (username, password) in [("", "x"), ("first.last+tag", "x"), ("", "")] {
        let r = t
            .json(
                "POST",
                "/auth/",
                json!({"username": username, "password": password}),
                &[],
            )
            .await;
        assert_login_incorrect(&r);
    }
    let r = t
        .json(
            "POST",
            "/auth/",
            json!({"username": "x".repeat(65), "password": "x"}),
            &[],
        )
        .await;
    assert_bad_login_info(&r);
}

#[tokio::test]
async fn repeated_failures_lock_with_retry_after() {
    let t = test_app();
    create(&t, "ivan", "test-pass-1", "ivan@example.com").await;
    for _ in 0..10 {
        assert_login_incorrect(&login_001(&t, "ivan", "wrong").await);
    }
    let r = login_001(&t, "ivan", "test-pass-1").await;
    assert_eq!(r.status, 429, "{}", r.json);
    assert_eq!(
        (
            r.json["code"].as_i64(),
            r.json["detailed_error_code"].as_i64()
        ),
        (Some(429), Some(42900)),
        "{}",
        r.json
    );
    assert!(r.json["error_msg"]
        .as_str()
        .unwrap()
        .starts_with("StatusCode."));
    assert!(r.headers.get("retry-after").is_some());
    let r = form(
        &t,
        "/auth/login",
        &[("username", "ivan"), ("password", "test-pass-1")],
        &[],
    )
    .await;
    assert_fail(&r, 401, "Login Failed");
    assert!(r.headers.get("retry-after").is_some());
}
