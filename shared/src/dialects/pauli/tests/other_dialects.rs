use super::*;

#[tokio::test]
async fn other_dialects_tokens_do_not_open_pauli_for_a_user_with_a_proven_mobile() {
    let t = test_app();
    let user = t
        .user(new_user(
            "boss@example.com",
            Some(MOBILE),
            "boss-pass-1",
            &t,
        ))
        .await;
    grant(&t, &user, "pauli:user:audit").await;
    // The first pauli login proves the mobile (its SMS code comes back).
    let pid = login_pending(&t, "boss@example.com", "boss-pass-1").await;
    let sent = t.last_code(E164);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": sent}),
        Some(&pending(&pid)),
    )
    .await;
    assert_eq!(code(&r), 0, "{}", r.json);
    let pauli_session = set_cookie(&r, "pauli_session").expect("session cookie");
    let audit = format!("/record?user_id={}", user.id);
    let r = get(&t, &audit, Some(&format!("pauli_session={pauli_session}"))).await;
    assert_eq!(code(&r), 0, "the two-factor session audits: {}", r.json);
    // A password alone, through any other dialect.
    let mut foreign = Vec::new();
    let r = t
        .json(
            "POST",
            "/auth/",
            json!({"username": "boss@example.com", "password": "boss-pass-1"}),
            &[],
        )
        .await;
    foreign.push(
        r.json["access_token"]
            .as_str()
            .expect("001 token")
            .to_string(),
    );
    let r = t
        .raw(
            "POST",
            "/auth/login",
            "application/x-www-form-urlencoded",
            "username=boss%40example.com&password=boss-pass-1",
            &[],
        )
        .await;
    foreign.push(
        r.json["data"]["token"]
            .as_str()
            .expect("004 token")
            .to_string(),
    );
    let r = t
        .json(
            "POST",
            "/api/v1/auth/login",
            json!({"email": "boss@example.com", "password": "boss-pass-1"}),
            &[],
        )
        .await;
    foreign.push(
        r.json["data"]["token"]
            .as_str()
            .expect("002 token")
            .to_string(),
    );
    let r = t
        .json(
            "POST",
            "/v1/auth/login",
            json!({"account": "boss@example.com", "password": "boss-pass-1"}),
            &[],
        )
        .await;
    foreign.push(r.json["token"].as_str().expect("003 token").to_string());
    for token in &foreign {
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
        assert_eq!(r.json["result"]["logined"], false, "{}", r.json);
        let r = t
            .raw("GET", &url(&audit), "", "", &[("authorization", &bearer)])
            .await;
        assert_eq!(code(&r), 1004, "Bearer: {}", r.json);
        let r = get(&t, &audit, Some(&format!("pauli_session={token}"))).await;
        assert_eq!(code(&r), 1004, "cookie: {}", r.json);
    }
}
