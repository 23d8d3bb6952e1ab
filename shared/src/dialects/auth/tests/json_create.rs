use super::*;

fn assert_username_conflicted(r: &Reply) {
    assert_err_001(r, 409, 40900, "ITEM_ALREADY_EXISTS", "Username conflicted");
}

#[tokio::test]
async fn create_refuses_duplicates_and_bad_input() {
    let t = test_app();
    let r = create(&t, "bob", "test-pass-1", "bob@example.com").await;
    assert_eq!((r.status, &r.json), (200, &json!({"id": 1})));

    // A taken username, and a taken email: both the original's conflict.
    assert_username_conflicted(&create(&t, "bob", "fresh-pass-9", "other@example.com").await);
    assert_username_conflicted(&create(&t, "bobby", "fresh-pass-9", "BOB@example.com").await);
    // Nothing half-written: the refused username is still free, and no id was used up.
    let r = create(&t, "bobby", "fresh-pass-9", "bobby@example.com").await;
    assert_eq!((r.status, &r.json), (200, &json!({"id": 2})));

    for (username, password, email) in [
        ("carol", "abc", "carol@example.com"),
        ("carol", "test", "not-an-email"),
        // The original's own test's placeholder is refused (deliberate).
        ("carol", "test", "email"),
        ("carol@x", "test", "carol@example.com"),
        ("12345", "test", "carol@example.com"),
        // Long enough, but too easily guessed: the same bad-parameters answer (API-NOTES).
        ("carol", "12345678", "carol@example.com"),
    ] {
        let r = create(&t, username, password, email).await;
        assert_bad_user_information(&r);
    }
    let r = t
        .json(
            "POST",
            "/auth/create",
            json!({"username": "carol", "password": "test-pass-1"}),
            &[],
        )
        .await;
    assert_bad_user_information(&r);
    // A body that is not JSON, or that is nothing (`if not user_info`); a field the original
    // does not know makes a body something, whose fields are then missing.
    for body in ["{broken", "{}", "", "[]", "null"] {
        let r = t
            .raw("POST", "/auth/create", "application/json", body, &[])
            .await;
        assert_bad_request(&r);
    }
    let r = t
        .json("POST", "/auth/create", json!({"nickname": "carol"}), &[])
        .await;
    assert_bad_user_information(&r);
    // None of the refused ones was created.
    assert_eq!(
        create(&t, "carol", "test-pass-1", "carol@example.com")
            .await
            .status,
        200
    );
}
