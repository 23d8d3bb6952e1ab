use super::*;

#[tokio::test]
async fn logined_is_false_without_a_session_and_true_with_cookie_or_bearer() {
    let t = test_app();
    let r = get(&t, "/logined", None).await;
    assert_envelope(&r);
    assert_eq!((r.status, code(&r)), (200, 0));
    assert_eq!(r.json["result"], json!({"logined": false}));
    assert_eq!(
        logined(&t, &session("garbage")).await,
        json!({"logined": false})
    );

    let user = t
        .user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let r = login(&t, "alice@example.com", "secret1").await;
    assert_envelope(&r);
    assert_eq!((r.status, code(&r)), (200, 0));
    assert_eq!(r.json["result"]["user_id"], user.id.0.to_string());
    let raw = raw_cookie(&r, "pauli_session");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/pauli", "Max-Age=86400"] {
        assert!(raw.contains(part), "{raw} lacks {part}");
    }
    assert!(!raw.contains("Secure"), "dev config sets no Secure: {raw}");
    let token = set_cookie(&r, "pauli_session").unwrap();

    let me = logined(&t, &session(&token)).await;
    assert_eq!(
        me,
        json!({
            "logined": true,
            "user_id": user.id.0.to_string(),
            "name": "Alice",
            "email": "alice@example.com",
            "mobile": "",
            "position_id": "team-7",
            // The rest of the original's `user_base.to_dict`.
            "created": "2023-11-14T22:13:20.000Z",
            "soft_del": false,
            "position_name": "",
            "creator_id": "",
            "creator_name": "",
            "role_names": [],
            "dingtalk_id": "",
            "jobnumber": "",
        })
    );
    // A live session refuses another password step: E_USER_LOGIN.
    let r = send(
        &t,
        "PUT",
        "/pass/login",
        json!({"username": "alice@example.com", "password": "secret1"}),
        Some(&session(&token)),
    )
    .await;
    assert_refused(&r, 1003, "用户已登录");
    assert!(set_cookie(&r, "pauli_session").is_none());
    let bearer = format!("Bearer {token}");
    let r = t
        .raw(
            "GET",
            &url("/logined"),
            "",
            "",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(r.json["result"]["logined"], true);
    assert_eq!(r.json["result"]["user_id"], user.id.0.to_string());

    // The session lasts a day.
    t.clock.advance(86_401);
    assert_eq!(
        logined(&t, &session(&token)).await,
        json!({"logined": false})
    );
}

#[tokio::test]
async fn logined_shows_mobile_and_falls_back_to_nickname() {
    let t = test_app();
    let mut new = new_user("m@example.com", Some(MOBILE), "secret1", &t);
    new.profile = Profile::default();
    let user = t.user(new).await;
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": t.last_code(E164)}),
        Some(&pending(&pid)),
    )
    .await;
    let token = set_cookie(&r, "pauli_session").unwrap();
    let me = logined(&t, &session(&token)).await;
    assert_eq!(me["mobile"], MOBILE);
    assert_eq!(me["name"], user.profile.nickname);
    assert_eq!(me["name"], "133****1234");
    assert_eq!(me["position_id"], "");
}

#[tokio::test]
async fn logout_clears_the_cookie_and_ends_the_session() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let token = login_direct(&t, "alice@example.com", "secret1").await;
    let other = login_direct(&t, "alice@example.com", "secret1").await;
    let r = get(&t, "/logout", Some(&session(&token))).await;
    assert_envelope(&r);
    assert_eq!(code(&r), 0);
    assert_eq!(set_cookie(&r, "pauli_session").as_deref(), Some(""));
    let raw = raw_cookie(&r, "pauli_session");
    assert!(
        raw.contains("Max-Age=0") && raw.contains("Path=/pauli"),
        "{raw}"
    );
    assert_eq!(
        logined(&t, &session(&token)).await,
        json!({"logined": false})
    );
    // Only that session ended.
    assert_eq!(logined(&t, &session(&other)).await["logined"], true);
    // The token no longer authorises anything.
    let r = get(&t, "/record", Some(&session(&token))).await;
    assert_refused(&r, 1004, E_USER_NOT_LOGIN);
    // Logging out again, or without any session, is fine.
    assert_eq!(code(&get(&t, "/logout", Some(&session(&token))).await), 0);
    assert_eq!(code(&get(&t, "/logout", None).await), 0);
    // Bearer works too.
    let bearer = format!("Bearer {other}");
    let r = t
        .raw(
            "GET",
            &url("/logout"),
            "",
            "",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(code(&r), 0);
    assert_eq!(
        logined(&t, &session(&other)).await,
        json!({"logined": false})
    );
}
