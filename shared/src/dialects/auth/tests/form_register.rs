use super::*;

#[tokio::test]
async fn register_answers_the_user_in_both_encodings() {
    let t = test_app();
    let r = register(&t, "aoihosizora", "pass-word-1").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["code"], 200);
    assert_eq!(r.json["message"], "Success");
    let id = r.json["data"]["id"].as_u64().expect("integer id");
    assert_eq!(r.json["data"], json!({"id": id, "username": "aoihosizora"}));

    let r = multipart(
        &t,
        "/auth/register",
        &[("username", "multipart_user"), ("password", "pass-word-2")],
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["data"]["username"], "multipart_user");
    assert!(r.json["data"]["id"].as_u64().unwrap() > id);
    // Registering does not sign in.
    assert!(r.headers.get("authorization").is_none());
}

#[tokio::test]
async fn register_enforces_the_seed_lengths() {
    let t = test_app();
    let ok_password = "pass-word-1";
    assert_format_error(&register(&t, "abcd", ok_password).await);
    assert_format_error(&register(&t, &"a".repeat(31), ok_password).await);
    assert_format_error(&register(&t, "bad name", ok_password).await);
    assert_format_error(&register(&t, "valid_name", "1234567").await);
    assert_format_error(&register(&t, "valid_name", &"p".repeat(21)).await);
    // None of the refused ones was created.
    assert_eq!(
        register(&t, "valid_name", "pass-word-1").await.json["code"],
        200
    );
    // Eight and twenty characters are the seed's bounds; a weak password of the right length
    // is refused as a format error (the contract's bad-parameters answer).
    assert_eq!(register(&t, "abcde", "k7#Qp2!z").await.json["code"], 200);
    assert_eq!(
        register(&t, &"b".repeat(30), "Very-long-pass-20chr")
            .await
            .json["code"],
        200
    );
    let weak = register(&t, "weakling", "12345678").await;
    assert_eq!(
        (weak.status, &weak.json["message"]),
        (400, &json!("Format Error"))
    );
}

#[tokio::test]
async fn register_refuses_a_taken_username() {
    let t = test_app();
    assert_eq!(
        register(&t, "existing", "pass-word-1").await.json["code"],
        200
    );
    let r = register(&t, "existing", "pass-word-2").await;
    assert_fail(&r, 401, "User Existed");
    // Taken through another dialect too.
    create(&t, "seed001user", "test-pass-1", "s1@example.com").await;
    assert_fail(
        &register(&t, "seed001user", "pass-word-1").await,
        401,
        "User Existed",
    );
}
