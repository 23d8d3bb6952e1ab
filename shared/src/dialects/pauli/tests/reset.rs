use super::*;

const RESET_VOID: &str = "重置记录不存在或者已失效";

#[tokio::test]
async fn reset_request_answers_zero_for_known_and_unknown_and_mails_only_the_known() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let r = get(&t, "/pass/reset?email=alice@example.com", None).await;
    assert_envelope(&r);
    assert_eq!(code(&r), 0);
    let r2 = get(&t, "/pass/reset?email=ghost@example.com", None).await;
    assert_envelope(&r2);
    assert_eq!(code(&r2), 0);
    assert_eq!(r.json, r2.json);
    let mail = outbox(&t);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "alice@example.com");
    let token = t.last_reset_token("alice@example.com");
    assert!(
        mail[0]
            .body
            .contains(&format!("http://127.0.0.1:3000/#/resetpwd?code={token}")),
        "{}",
        mail[0].body
    );
    for path in ["/pass/reset", "/pass/reset?email=nope"] {
        let r = get(&t, path, None).await;
        assert_param(&r, "email");
    }
}

#[tokio::test]
async fn reset_requests_stop_at_fifty_a_day_for_known_and_unknown_emails_alike() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    for email in ["alice@example.com", "ghost@example.com"] {
        for i in 0..crate::services::RESETS_PER_DAY {
            // Within the minute and hour limits (one a minute, ten an hour).
            t.clock.advance(360);
            let r = get(&t, &format!("/pass/reset?email={email}"), None).await;
            assert_eq!(code(&r), 0, "request {}: {}", i + 1, r.json);
        }
        // Within the minute, the wait is told, not the day's cap.
        let r = get(&t, &format!("/pass/reset?email={email}"), None).await;
        assert_eq!(
            (code(&r), r.json["msg"].as_str()),
            (1, Some("操作过于频繁，请60秒后再试")),
            "{}",
            r.json
        );
        t.clock.advance(360);
        let r = get(&t, &format!("/pass/reset?email={email}"), None).await;
        assert_envelope(&r);
        assert_eq!(
            (code(&r), r.json["msg"].as_str()),
            (1, Some("24小时内重置次数超过阈值")),
            "{}",
            r.json
        );
    }
    assert_eq!(outbox(&t).len() as i64, crate::services::RESETS_PER_DAY);
    t.clock.advance(24 * 3600);
    let r = get(&t, "/pass/reset?email=alice@example.com", None).await;
    assert_eq!(code(&r), 0, "a new day: {}", r.json);
}

#[tokio::test]
async fn reset_check_allows_fewer_than_five_checks_then_the_code_is_void() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    get(&t, "/pass/reset?email=alice@example.com", None).await;
    let token = t.last_reset_token("alice@example.com");
    // The original counted each check and required fewer than five: the fifth is refused.
    for i in 0..4 {
        let r = send(&t, "PUT", "/pass/reset", json!({"code": token}), None).await;
        assert_envelope(&r);
        assert_eq!(code(&r), 0, "check {}: {}", i + 1, r.json);
    }
    let r = send(&t, "PUT", "/pass/reset", json!({"code": token}), None).await;
    assert_refused(&r, 1, RESET_VOID);
    // A void code cannot reset either.
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "new-pass-word-1"}),
        None,
    )
    .await;
    assert_refused(&r, 1, RESET_VOID);
    let r = send(&t, "PUT", "/pass/reset", json!({"code": "made-up"}), None).await;
    assert_refused(&r, 1, RESET_VOID);
    let r = send(&t, "PUT", "/pass/reset", json!({}), None).await;
    assert_param(&r, "code");
    let r = send(&t, "PUT", "/pass/reset", json!({"code": ""}), None).await;
    assert_param(&r, "code");
}

#[tokio::test]
async fn reset_sets_the_password_and_revokes_every_session() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let old = session(&login_direct(&t, "alice@example.com", "secret1").await);
    get(&t, "/pass/reset?email=alice@example.com", None).await;
    let token = t.last_reset_token("alice@example.com");
    assert_eq!(
        code(&send(&t, "PUT", "/pass/reset", json!({"code": token}), None).await),
        0
    );
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "new-pass-word-1"}),
        None,
    )
    .await;
    assert_envelope(&r);
    assert_eq!(code(&r), 0, "{}", r.json);
    assert_eq!(logined(&t, &old).await, json!({"logined": false}));
    assert_refused(
        &login(&t, "alice@example.com", "secret1").await,
        1005,
        WRONG_CREDENTIALS,
    );
    assert_eq!(
        code(&login(&t, "alice@example.com", "new-pass-word-1").await),
        0
    );
    // Spent.
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "other-pass-12"}),
        None,
    )
    .await;
    assert_refused(&r, 1, RESET_VOID);
}

/// The original voided a reset record redeemed with neither a password nor a mobile.
#[tokio::test]
async fn a_reset_setting_nothing_voids_the_code() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    get(&t, "/pass/reset?email=alice@example.com", None).await;
    let token = t.last_reset_token("alice@example.com");
    for body in [
        json!({"code": token}),
        json!({"code": token, "password": ""}),
    ] {
        let r = send(&t, "POST", "/pass/reset", body, None).await;
        assert_refused(&r, 1, RESET_VOID);
    }
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "new-pass-word-1"}),
        None,
    )
    .await;
    assert_refused(&r, 1, RESET_VOID);
    assert_eq!(code(&login(&t, "alice@example.com", "secret1").await), 0);
}

#[tokio::test]
async fn reset_can_set_only_the_mobile_and_reads_the_query_string() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    t.user(new_user(
        "other@example.com",
        Some("13900002222"),
        "secret1",
        &t,
    ))
    .await;
    get(&t, "/pass/reset?email=alice@example.com", None).await;
    let token = t.last_reset_token("alice@example.com");
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "password": "x"}),
        None,
    )
    .await;
    assert_param(&r, "password");
    let r = send(
        &t,
        "POST",
        "/pass/reset",
        json!({"code": token, "mobile": "13900002222"}),
        None,
    )
    .await;
    assert_envelope(&r);
    assert_eq!(
        (r.json["code"].as_i64(), r.json["msg"].as_str()),
        (Some(1), Some(USER_EXISTS)),
        "{}",
        r.json
    );
    let uri = url(&format!("/pass/reset?code={token}&mobile={MOBILE}"));
    let r = t.raw("POST", &uri, "", "", &[]).await;
    assert_eq!(code(&r), 0, "{}", r.json);
    // The old password still works, and now asks for the SMS code on the new mobile.
    assert_eq!(code(&login(&t, "alice@example.com", "secret1").await), 1032);
    assert_eq!(
        outbox(&t).last().map(|e| e.to.clone()),
        Some(E164.to_string())
    );
}
