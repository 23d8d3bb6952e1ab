use super::*;

#[tokio::test]
async fn reset_changes_the_password_and_ends_sessions() {
    let t = test_app();
    create(&t, "hank", "test-pass-1", "hank@example.com").await;
    create(&t, "ingrid", "test-pass-1", "ingrid@example.com").await;
    let token = token_001(&t, "hank", "test-pass-1").await;

    let reset = |username: &'static str, password: &'static str, new: &'static str| {
        let t = &t;
        async move {
            t.json(
                "POST",
                "/auth/reset",
                json!({"username": username, "password": password, "new_password": new}),
                &[],
            )
            .await
        }
    };
    assert_password_wrong(&reset("hank", "wrong", "new_password").await);
    assert_user_does_not_exist(&reset("nobody", "test", "new_password").await);
    assert_bad_user_information(&reset("hank", "test", "abc").await);
    let r = t
        .json(
            "POST",
            "/auth/reset",
            json!({"username": "hank", "password": "test-pass-1"}),
            &[],
        )
        .await;
    assert_bad_user_information(&r);
    for body in ["{broken", "{}", ""] {
        let r = t
            .raw("POST", "/auth/reset", "application/json", body, &[])
            .await;
        assert_bad_request(&r);
    }
    // A token that is present must be valid, and be that user's.
    let body =
        json!({"username": "hank", "password": "test-pass-1", "new_password": "new_password"});
    let r = t
        .json(
            "POST",
            "/auth/reset",
            body.clone(),
            &[("authorization", "Bearer not.a.token")],
        )
        .await;
    assert_invalid_token(&r);
    let ingrid = bearer(&token_001(&t, "ingrid", "test-pass-1").await);
    let r = t
        .json("POST", "/auth/reset", body, &[("authorization", &ingrid)])
        .await;
    assert_err_001(&r, 403, 40301, "PERMISSION_DENIED", "Permission denied");
    assert_eq!(login_001(&t, "hank", "new_password").await.status, 401);

    let r = reset("hank", "test-pass-1", "new_password").await;
    assert_eq!(
        (r.status, &r.json),
        (200, &json!({"result": "Ok, password has been updated."}))
    );
    assert_login_incorrect(&login_001(&t, "hank", "test-pass-1").await);
    let fresh = token_001(&t, "hank", "new_password").await;
    // The token from before the change no longer works (not expired: revoked).
    assert_invalid_token(&disable(&t, &token, "hank", "new_password").await);
    assert_eq!(
        disable(&t, &fresh, "hank", "new_password").await.status,
        200
    );
}

/// A double submit: the copies that lose the race answer as the second of two sequential
/// requests would (the old password is no longer right), never the outage answer.
#[tokio::test]
async fn concurrent_copies_of_one_reset_change_the_password_once() {
    let t = test_app();
    create(&t, "olga", "test-pass-1", "olga@example.com").await;
    let reset = || {
        t.json(
            "POST",
            "/auth/reset",
            json!({"username": "olga", "password": "test-pass-1", "new_password": "fresh-pass-99"}),
            &[],
        )
    };
    let replies = futures::future::join_all((0..4).map(|_| reset())).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_password_wrong(r);
    }
    token_001(&t, "olga", "fresh-pass-99").await;
}
