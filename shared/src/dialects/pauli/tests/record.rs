use super::*;

#[tokio::test]
async fn record_needs_a_session_and_the_audit_permission() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    let target = t.user(new_user("u@example.com", None, "secret1", &t)).await;
    let path = format!("/record?user_id={}", target.id.0);
    let r = get(&t, &path, None).await;
    assert_refused(&r, 1004, E_USER_NOT_LOGIN);
    let token = login_direct(&t, "admin@example.com", "secret1").await;
    let r = get(&t, &path, Some(&session(&token))).await;
    assert_refused(&r, 7, "缺少权限pauli:user:audit");
    // The permission is checked before the parameters (the original's `perm_required`).
    let r = get(&t, "/record", Some(&session(&token))).await;
    assert_refused(&r, 7, "缺少权限pauli:user:audit");
    grant(&t, &admin, Permission::USER_AUDIT).await;
    let r = get(&t, &path, Some(&session(&token))).await;
    assert_eq!((r.status, code(&r)), (200, 0));
    assert_eq!(r.json["result"]["logs"], json!([]));
    // user_id is required, as the original's; the caller's own records are asked by id.
    for query in ["", "?user_id="] {
        let r = get(&t, &format!("/record{query}"), Some(&session(&token))).await;
        assert_param(&r, "user_id");
    }
    let own = format!("/record?user_id={}", admin.id.0);
    let r = get(&t, &own, Some(&session(&token))).await;
    let logs = r.json["result"]["logs"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["user_id"], admin.id.0.to_string());
    assert_eq!(logs[0]["login_type"], "password-succ");
    assert_eq!(logs[0]["time"], "2023-11-14T22:13:20.000Z");
    // An original's string id nobody was imported with has no records.
    let r = get(&t, "/record?user_id=abc", Some(&session(&token))).await;
    assert_eq!(r.json["result"], json!({"logs": []}), "{}", r.json);
    // Bad parameters name the field.
    let too_long = format!("user_id={}", "x".repeat(65));
    for (query, field) in [
        (too_long.as_str(), "user_id"),
        ("user_id=1&limit=0", "limit"),
        ("user_id=1&limit=x", "limit"),
        ("user_id=1&cursor_id=nope", "cursor_id"),
    ] {
        let r = get(&t, &format!("/record?{query}"), Some(&session(&token))).await;
        assert_param(&r, field);
    }
}

#[tokio::test]
async fn record_pages_newest_first_without_gaps_or_repeats() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    grant(&t, &admin, Permission::USER_AUDIT).await;
    let target = t
        .user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    // Seven logins of the target, each writing two records: the password step that sent the
    // SMS (`password-sms`) and the completed second factor (`sms-succ`).
    for i in 0..7 {
        t.clock.advance(61);
        let pid = login_pending(&t, "m@example.com", "secret1").await;
        let r = send(
            &t,
            "POST",
            "/pass/code",
            json!({"code": t.last_code(E164)}),
            Some(&pending(&pid)),
        )
        .await;
        assert_eq!(code(&r), 0, "login {i}");
    }
    let no_mobile = t
        .user(new_user("plain@example.com", None, "secret1", &t))
        .await;
    login_direct(&t, "plain@example.com", "secret1").await;
    let token = login_direct(&t, "admin@example.com", "secret1").await;
    let cookie = session(&token);

    let mut seen: Vec<Value> = vec![];
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let path = format!("/record?user_id={}&limit=3&cursor_id={cursor}", target.id.0);
        let r = get(&t, &path, Some(&cookie)).await;
        assert_eq!(code(&r), 0, "{}", r.json);
        let logs = r.json["result"]["logs"].as_array().unwrap().clone();
        assert!(logs.len() <= 3);
        pages += 1;
        let Some(last) = logs.last() else { break };
        cursor = last["record_id"].as_str().unwrap().to_string();
        seen.extend(logs);
    }
    assert_eq!(pages, 6, "3 + 3 + 3 + 3 + 2, then an empty page");
    assert_eq!(seen.len(), 14);
    let ids: Vec<&str> = seen
        .iter()
        .map(|l| l["record_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted, "newest first, no repeats");
    // Newest first: each login's `sms-succ`, then its `password-sms`, a minute apart from the
    // login before.
    let times: Vec<&str> = seen.iter().map(|l| l["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(
        times
            .chunks(2)
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0][1] > w[1][0]),
        "{times:?}"
    );
    for (i, l) in seen.iter().enumerate() {
        assert_eq!(l["user_id"], target.id.0.to_string());
        let expected = if i % 2 == 0 {
            "sms-succ"
        } else {
            "password-sms"
        };
        assert_eq!(l["login_type"], expected, "{i}: {l}");
        assert!(l["time"].as_str().unwrap().ends_with('Z'));
    }
    // A whole page at once, default limit 10, and a limit above 100 is capped, not refused.
    let r = get(
        &t,
        &format!("/record?user_id={}", target.id.0),
        Some(&cookie),
    )
    .await;
    assert_eq!(r.json["result"]["logs"].as_array().unwrap().len(), 10);
    let r = get(
        &t,
        &format!("/record?user_id={}&limit=1000", target.id.0),
        Some(&cookie),
    )
    .await;
    assert_eq!(r.json["result"]["logs"].as_array().unwrap().len(), 14);
    let r = get(
        &t,
        &format!("/record?user_id={}", no_mobile.id.0),
        Some(&cookie),
    )
    .await;
    let logs = r.json["result"]["logs"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["login_type"], "password-succ");
}

#[tokio::test]
async fn record_default_limit_is_ten() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    grant(&t, &admin, Permission::USER_AUDIT).await;
    let mut token = String::new();
    for _ in 0..12 {
        token = login_direct(&t, "admin@example.com", "secret1").await;
    }
    let own = format!("/record?user_id={}", admin.id.0);
    let r = get(&t, &own, Some(&session(&token))).await;
    assert_eq!(r.json["result"]["logs"].as_array().unwrap().len(), 10);
}
