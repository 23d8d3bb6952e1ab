use super::*;

#[tokio::test]
async fn logout_ends_every_004_session_of_the_user_and_counts_them() {
    let t = test_app();
    let id = register(&t, "leaving", "pass-word-1").await.json["data"]["id"]
        .as_u64()
        .unwrap();
    let login = || {
        let t = &t;
        async move {
            header_token(
                &login_004(t, &[("username", "leaving"), ("password", "pass-word-1")]).await,
            )
        }
    };
    let token = login().await;
    let other = login().await;
    // A session of the same user through seed 001 is not this dialect's.
    let seed_001 = token_001(&t, "leaving", "pass-word-1").await;

    let r = t
        .raw(
            "POST",
            "/auth/logout",
            "",
            "",
            &[("authorization", &bearer(&token))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"code": 200, "message": "Success", "data": {"count": 2}})
    );
    // Both of the user's seed-004 sessions ended.
    for ended in [&token, &other] {
        assert_fail(&whoami(&t, Some(ended)).await, 401, "Unauthorized");
    }
    assert_fail(
        &t.raw("POST", "/auth/logout", "", "", &[("authorization", &token)])
            .await,
        401,
        "Unauthorized",
    );
    assert_fail(
        &t.raw("POST", "/auth/logout", "", "", &[]).await,
        401,
        "Unauthorized",
    );
    // The seed-001 session lives on (and, a session of another dialect, opens no 004 door).
    let principal = t.app.auth.authenticate(&seed_001).await.unwrap();
    assert_eq!(principal.user_id.0, id);
    assert_fail(&whoami(&t, Some(&seed_001)).await, 401, "Unauthorized");
    // A body, if sent, is not read.
    let fresh = login().await;
    let r = form(
        &t,
        "/auth/logout",
        &[("anything", "x")],
        &[("authorization", &bearer(&fresh))],
    )
    .await;
    assert_eq!(r.json["data"]["count"], 1, "{}", r.json);
    assert_eq!(whoami(&t, Some(&fresh)).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logouts_count_each_session_once() {
    let t = test_app();
    register(&t, "racer", "pass-word-1").await;
    for _ in 0..5 {
        let mut tokens = Vec::new();
        for _ in 0..4 {
            tokens.push(header_token(
                &login_004(&t, &[("username", "racer"), ("password", "pass-word-1")]).await,
            ));
        }
        let answers = futures::future::join_all(tokens.iter().map(|token| {
            let auth = bearer(token);
            let t = &t;
            async move {
                t.raw("POST", "/auth/logout", "", "", &[("authorization", &auth)])
                    .await
            }
        }))
        .await;
        // Seed 004's count is of the tokens this logout deleted: four sessions, four in all.
        let counted: u64 = answers
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.json["data"]["count"].as_u64().unwrap())
            .sum();
        assert_eq!(
            counted,
            4,
            "{:?}",
            answers.iter().map(|r| &r.json).collect::<Vec<_>>()
        );
    }
}
