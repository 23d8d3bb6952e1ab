use super::*;

async fn change(t: &TestApp, cookie: Option<&str>, body: Value) -> Reply {
    send(t, "POST", "/pass/change", body, cookie).await
}

fn logged_in(r: &Reply) -> bool {
    r.json["result"]["logined"] == true
}

/// The original's `pass/change`: the session first, then both passwords, then the current one.
/// The session it was asked from stays; every other session of the user ends.
#[tokio::test]
async fn change_sets_a_new_password_keeps_this_session_and_ends_the_others() {
    let t = test_app();
    t.user(new_user("carol@example.com", None, "secret-one-1", &t))
        .await;
    let both = json!({"password": "secret-one-1", "new_password": "fresh-pass-22"});
    let r = change(&t, None, both.clone()).await;
    assert_refused(&r, 1004, E_USER_NOT_LOGIN);

    let here = session(&login_direct(&t, "carol@example.com", "secret-one-1").await);
    let elsewhere = session(&login_direct(&t, "carol@example.com", "secret-one-1").await);
    for (body, field) in [
        (json!({"new_password": "fresh-pass-22"}), "password"),
        (
            json!({"password": "secret-one-1", "new_password": ""}),
            "new_password",
        ),
        (
            json!({"password": "secret-one-1", "new_password": "abc"}),
            "new_password",
        ),
    ] {
        assert_param(&change(&t, Some(&here), body).await, field);
    }
    let wrong = json!({"password": "not-the-one", "new_password": "fresh-pass-22"});
    assert_refused(
        &change(&t, Some(&here), wrong).await,
        1005,
        "手机号码与密码不匹配",
    );

    let r = change(&t, Some(&here), both).await;
    assert_eq!((code(&r), &r.json["result"]), (0, &json!({})), "{}", r.json);
    assert!(logged_in(&get(&t, "/logined", Some(&here)).await));
    assert!(!logged_in(&get(&t, "/logined", Some(&elsewhere)).await));
    assert_eq!(
        code(&login(&t, "carol@example.com", "secret-one-1").await),
        1005
    );
    login_direct(&t, "carol@example.com", "fresh-pass-22").await;
}
