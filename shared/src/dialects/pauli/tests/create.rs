use super::*;
use crate::sender::Channel;

#[tokio::test]
async fn create_needs_the_permission_and_never_returns_the_random_password() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    let body = json!({"username": "new@example.com", "name": "New", "mobile": "13900001111"});
    let r = send(&t, "POST", "/pass/create", body.clone(), None).await;
    assert_refused(&r, 1004, E_USER_NOT_LOGIN);
    let cookie = session(&login_direct(&t, "admin@example.com", "secret1").await);
    let r = send(&t, "POST", "/pass/create", body.clone(), Some(&cookie)).await;
    assert_refused(&r, 7, "缺少权限pauli:user:create");
    // The permission is checked before the body, as the original's `has_perm` came first.
    for bad in [json!({}), json!({"username": "nope", "name": "N"})] {
        let r = send(&t, "POST", "/pass/create", bad, Some(&cookie)).await;
        assert_refused(&r, 7, "缺少权限pauli:user:create");
    }
    assert!(outbox(&t).is_empty());

    grant(&t, &admin, Permission::USER_CREATE).await;
    let r = send(&t, "POST", "/pass/create", body.clone(), Some(&cookie)).await;
    assert_eq!((r.status, code(&r)), (200, 0), "{}", r.json);
    let id = r.json["result"]["user_id"]
        .as_str()
        .expect("user_id is a string")
        .to_string();
    assert_eq!(
        r.json["result"].as_object().unwrap().len(),
        1,
        "only the id: {}",
        r.json
    );
    let created = t.app.auth.user_by(&id).await.unwrap();
    assert_eq!(created.profile.name, "New");
    assert_eq!(
        created.mobile.as_ref().map(|m| m.e164()),
        Some("+8613900001111")
    );
    let mail = outbox(&t);
    assert_eq!(mail.len(), 1);
    assert_eq!(
        (mail[0].channel, mail[0].to.as_str()),
        (Channel::Email, "new@example.com")
    );
    // A reset link to the front-end, as the original's: `<public_url>/#/resetpwd?code=<token>`.
    let token = t.last_reset_token("new@example.com");
    assert!(token.len() >= 32, "{token}");
    assert!(
        mail[0]
            .body
            .contains(&format!("http://127.0.0.1:3000/#/resetpwd?code={token}")),
        "{}",
        mail[0].body
    );

    let again = send(&t, "POST", "/pass/create", body, Some(&cookie)).await;
    assert_envelope(&again);
    assert_eq!(
        (again.json["code"].as_i64(), again.json["msg"].as_str()),
        (Some(1), Some(USER_EXISTS)),
        "{}",
        again.json
    );

    // With a password: no mail, and the user signs in with it.
    let with_pw = json!({"username": "pw@example.com", "name": "Pw", "password": "chosen-pass-1"});
    let r = send(&t, "POST", "/pass/create", with_pw, Some(&cookie)).await;
    assert_eq!(code(&r), 0);
    assert_eq!(outbox(&t).len(), 1);
    let r = login(&t, "pw@example.com", "chosen-pass-1").await;
    assert_eq!(code(&r), 0);
    assert!(r.json["result"]["user_id"].is_string());

    for (body, field) in [
        (json!({"username": "not-an-email", "name": "X"}), "username"),
        (json!({"username": "x@example.com"}), "name"),
        (json!({"username": "x@example.com", "name": "   "}), "name"),
        (
            json!({"username": "x@example.com", "name": "X", "password": "123"}),
            "password",
        ),
        (
            json!({"username": "x@example.com", "name": "X", "mobile": "12ab"}),
            "mobile",
        ),
        (json!({"name": "X"}), "username"),
        (json!({"username": 5, "name": "X"}), "username"),
    ] {
        let r = send(&t, "POST", "/pass/create", body.clone(), Some(&cookie)).await;
        assert_param(&r, field);
    }
}

#[tokio::test]
async fn a_mobile_texts_cannot_reach_is_refused_where_it_is_set() {
    let t = test_app();
    let admin = t
        .user(new_user("admin@example.com", None, "secret1", &t))
        .await;
    grant(&t, &admin, Permission::USER_CREATE).await;
    let cookie = session(&login_direct(&t, "admin@example.com", "secret1").await);
    // Every password login of a user with a mobile texts it a code: a country texts are not
    // enabled for (only the default, 86, here) would leave the user unable to sign in.
    for mobile in ["+85291234567", "+8612345678", "1234567"] {
        let body = json!({"username": "hk@example.com", "name": "HK", "mobile": mobile,
            "password": "saffron-glacier-82"});
        let r = send(&t, "POST", "/pass/create", body, Some(&cookie)).await;
        assert_param(&r, "mobile");
    }
    assert!(t.app.auth.user_by("hk@example.com").await.is_err());
}
