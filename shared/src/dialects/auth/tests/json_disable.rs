use super::*;

fn assert_account_disabled(r: &Reply) {
    assert_err_001(
        r,
        401,
        40104,
        "ACCOUNT_DISABLED",
        "Sorry, your account has been disabled",
    );
}

#[tokio::test]
async fn disable_by_the_same_user_locks_the_account_everywhere() {
    let t = test_app();
    create(&t, "dave", "test-pass-1", "dave@example.com").await;
    let token = token_001(&t, "dave", "test-pass-1").await;
    let other_session = token_001(&t, "dave", "test-pass-1").await;

    let r = disable(&t, &token, "dave", "test-pass-1").await;
    assert_eq!(
        (r.status, &r.json),
        (200, &json!({"result": "Ok, user has been diabled."}))
    );

    // Every session ended: seed 004 no longer knows it...
    let r = t
        .raw(
            "GET",
            "/auth/",
            "",
            "",
            &[("authorization", &other_session)],
        )
        .await;
    assert_eq!(
        (r.status, &r.json),
        (401, &json!({"code": 401, "message": "Unauthorized"}))
    );
    // ...and seed 001 tells the disabled account apart.
    assert_account_disabled(&disable(&t, &other_session, "dave", "test-pass-1").await);
    let auth = bearer(&other_session);
    let r = t
        .json(
            "POST",
            "/auth/reset",
            json!({"username": "dave", "password": "test-pass-1", "new_password": "fresh-pass-9"}),
            &[("authorization", &auth)],
        )
        .await;
    assert_account_disabled(&r);
    // No dialect signs the account in any more; seeds 001 and 004 answer as for a wrong
    // password.
    assert_login_incorrect(&login_001(&t, "dave", "test-pass-1").await);
    let r = form(
        &t,
        "/auth/login",
        &[("username", "dave"), ("password", "test-pass-1")],
        &[],
    )
    .await;
    assert_fail(&r, 401, "Password Error");
    let r = t
        .json(
            "POST",
            "/api/v1/auth/login",
            json!({"email": "dave@example.com", "password": "test-pass-1"}),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.json["code"].as_i64()),
        (200, Some(500)),
        "{}",
        r.json
    );
}

#[tokio::test]
async fn disable_refuses_other_users_wrong_passwords_unknown_users_and_bad_tokens() {
    let t = test_app();
    create(&t, "erin", "test-pass-1", "erin@example.com").await;
    create(&t, "frank", "test-pass-1", "frank@example.com").await;
    let erin = token_001(&t, "erin", "test-pass-1").await;

    let r = disable(&t, &erin, "frank", "test-pass-1").await;
    assert_err_001(&r, 403, 40301, "PERMISSION_DENIED", "Permission denied");
    assert_password_wrong(&disable(&t, &erin, "erin", "wrong").await);
    // The username is checked before the password.
    assert_user_does_not_exist(&disable(&t, &erin, "nobody", "test-pass-1").await);
    assert_user_does_not_exist(&disable(&t, &erin, "nobody", "wrong").await);
    // Present but empty, or a name no account can have: looked up and not found, as the
    // original's `filter(username=...).exists()`; an empty password is a wrong one.
    assert_user_does_not_exist(&disable(&t, &erin, "", "").await);
    assert_user_does_not_exist(&disable(&t, &erin, "first.last+tag", "x").await);
    assert_password_wrong(&disable(&t, &erin, "erin", "").await);
    // Missing or invalid fields.
    let auth = bearer(&erin);
    let r = t
        .json(
            "POST",
            "/auth/disable",
            json!({"username": "erin"}),
            &[("authorization", &auth)],
        )
        .await;
    assert_bad_user_information(&r);

    // No token, a token that is not one, another scheme: all `Invalid token`.
    let r = t
        .json(
            "POST",
            "/auth/disable",
            json!({"username": "erin", "password": "test-pass-1"}),
            &[],
        )
        .await;
    assert_invalid_token(&r);
    assert_invalid_token(&disable(&t, "not.a.token", "erin", "test-pass-1").await);
    for authorization in [erin.clone(), format!("Token {erin}")] {
        let r = t
            .json(
                "POST",
                "/auth/disable",
                json!({"username": "erin", "password": "test-pass-1"}),
                &[("authorization", &authorization)],
            )
            .await;
        assert_invalid_token(&r);
    }
    // The token is checked before the body.
    let r = t
        .raw("POST", "/auth/disable", "application/json", "{broken", &[])
        .await;
    assert_invalid_token(&r);
    for body in ["{broken", "{}", ""] {
        let r = t
            .raw(
                "POST",
                "/auth/disable",
                "application/json",
                body,
                &[("authorization", &auth)],
            )
            .await;
        assert_bad_request(&r);
    }

    // Both accounts still work.
    token_001(&t, "erin", "test-pass-1").await;
    token_001(&t, "frank", "test-pass-1").await;
}

#[tokio::test]
async fn expired_tokens_are_told_apart() {
    let t = test_app();
    create(&t, "gina", "test-pass-1", "gina@example.com").await;
    let token = token_001(&t, "gina", "test-pass-1").await;
    let exp = claims(&token)["exp"].as_i64().unwrap();
    t.clock.advance(exp - 1_700_000_000);
    let r = disable(&t, &token, "gina", "test-pass-1").await;
    assert_err_001(&r, 401, 40103, "TOKEN_EXPIRED", "Token expired");
    // A fresh login works and the account was not disabled.
    let fresh = token_001(&t, "gina", "test-pass-1").await;
    assert_eq!(disable(&t, &fresh, "gina", "test-pass-1").await.status, 200);
}

/// 40104 is the caller's own token's answer: an account a request names that is disabled is
/// refused as a wrong password (as at login), never told as "your account has been disabled".
#[tokio::test]
async fn a_disabled_account_named_by_another_caller_is_a_wrong_password() {
    let t = test_app();
    create(&t, "grace", "test-pass-1", "grace@example.com").await;
    create(&t, "heidi", "test-pass-1", "heidi@example.com").await;
    let heidi = token_001(&t, "heidi", "test-pass-1").await;
    assert_eq!(
        disable(&t, &heidi, "heidi", "test-pass-1").await.status,
        200
    );
    let grace = token_001(&t, "grace", "test-pass-1").await;
    assert_password_wrong(&disable(&t, &grace, "heidi", "test-pass-1").await);
    let r = t
        .json(
            "POST",
            "/auth/reset",
            json!({"username": "heidi", "password": "test-pass-1", "new_password": "fresh-pass-99"}),
            &[],
        )
        .await;
    assert_password_wrong(&r);
    // Heidi's own token still hears that her account is disabled.
    let heidi_again = t
        .json(
            "POST",
            "/auth/disable",
            json!({"username": "heidi", "password": "test-pass-1"}),
            &[("authorization", &bearer(&heidi))],
        )
        .await;
    assert_account_disabled(&heidi_again);
}

/// A double submit of `disable`: one copy disables, the others answer as a request after it
/// would (the account is disabled), never the outage answer.
#[tokio::test]
async fn concurrent_copies_of_one_disable_disable_once() {
    let t = test_app();
    create(&t, "petra", "test-pass-1", "petra@example.com").await;
    let token = token_001(&t, "petra", "test-pass-1").await;
    let replies =
        futures::future::join_all((0..4).map(|_| disable(&t, &token, "petra", "test-pass-1")))
            .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status, 401, "{}", r.json);
        assert_ne!(r.json["code"], 503);
    }
}

/// The original's `auth_required` wrapped `require_http_methods`: a wrong method on `disable`
/// hears about the token first (as a `POST` would), on `reset` about a token that is present;
/// only a good token, or none on `reset`, gets Django's empty 405.
#[tokio::test]
async fn a_wrong_method_is_told_about_the_token_first() {
    let t = test_app();
    create(&t, "quinn", "test-pass-1", "quinn@example.com").await;
    let token = token_001(&t, "quinn", "test-pass-1").await;
    let good = bearer(&token);
    assert_invalid_token(&t.raw("GET", "/auth/disable", "", "", &[]).await);
    let bad = [("authorization", "Bearer nope")];
    assert_invalid_token(&t.raw("GET", "/auth/disable", "", "", &bad).await);
    assert_invalid_token(&t.raw("PUT", "/auth/reset", "", "", &bad).await);
    for (method, uri, headers) in [
        (
            "GET",
            "/auth/disable",
            vec![("authorization", good.as_str())],
        ),
        ("GET", "/auth/reset", vec![("authorization", good.as_str())]),
        ("GET", "/auth/reset", vec![]),
        ("GET", "/auth/create", vec![]),
    ] {
        let r = t.raw(method, uri, "", "", &headers).await;
        assert_eq!((r.status, r.text.as_str()), (405, ""), "{method} {uri}");
        assert_eq!(r.headers["allow"], "POST");
    }
}
