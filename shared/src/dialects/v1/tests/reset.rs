use super::*;
use crate::Error;

#[tokio::test]
async fn reset_password_sets_it_ends_old_sessions_and_signs_in() {
    let t = test_app();
    let reg = register_mobile(&t, "pass-word-123456").await;
    let old_token = reg.json["token"].as_str().unwrap().to_string();
    let id = reg.json["user"]["id"].as_u64().unwrap();
    let code = code_for(&t, MOBILE, E164, "reset-password").await;
    let r = post(
        &t,
        "reset-password",
        json!({"account": MOBILE, "password": "new-pass", "code": code}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["isNewUser"], false);
    assert_eq!(r.json["user"]["id"].as_u64(), Some(id));
    assert_eq!(r.json["user"]["nickname"], "133****1234");
    assert_eq!(
        t.app.auth.authenticate(&old_token).await.unwrap_err(),
        Error::Unauthenticated
    );
    assert_eq!(user_of(&t, r.json["token"].as_str().unwrap()).await, id);
    assert_seed_token(&t, r.json["token"].as_str().unwrap(), id);
    let old = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "pass-word-123456"}),
    )
    .await;
    assert_exact(&old, 400, WRONG);
    let new = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "new-pass"}),
    )
    .await;
    assert_eq!(new.status, 200, "{}", new.json);
    // The code is spent.
    let again = post(
        &t,
        "reset-password",
        json!({"account": MOBILE, "password": "other-pass", "code": code}),
    )
    .await;
    assert_exact(&again, 400, NO_CODE);
}

#[tokio::test]
async fn reset_password_needs_a_reset_code_for_a_known_account() {
    let t = test_app();
    register_mobile(&t, "pass-word-123456").await;
    let login = code_for(&t, MOBILE, E164, "login").await;
    let r = post(
        &t,
        "reset-password",
        json!({"account": MOBILE, "password": "new-pass", "code": login}),
    )
    .await;
    assert_exact(&r, 400, NO_CODE);
    let code = code_for(&t, "ghost@x.com", "ghost@x.com", "reset-password").await;
    let r = post(
        &t,
        "reset-password",
        json!({"account": "ghost@x.com", "password": "new-pass", "code": code}),
    )
    .await;
    assert_exact(&r, 400, NO_CODE);
    assert!(t
        .app
        .auth
        .find_user(&t.app.auth.contact("ghost@x.com").unwrap())
        .await
        .unwrap()
        .is_none());
    let reset = code_for(&t, MOBILE, E164, "reset-password").await;
    let r = post(
        &t,
        "reset-password",
        json!({"account": MOBILE, "password": "12", "code": reset}),
    )
    .await;
    assert_bad_value(&r, "password");
    assert_required(
        &post(
            &t,
            "reset-password",
            json!({"account": MOBILE, "code": reset}),
        )
        .await,
        "password",
    );
}

#[tokio::test]
async fn a_locked_account_is_not_signed_in_by_a_reset() {
    let t = test_app();
    register_mobile(&t, "pass-word-123456").await;
    lock_mobile(&t).await;
    // The reset signs in, so it is a login: refused while the account is locked, and it
    // neither sets the password nor clears the lock.
    let code = code_for(&t, MOBILE, E164, "reset-password").await;
    let r = post(
        &t,
        "reset-password",
        json!({"account": MOBILE, "password": "harbor-velvet-314", "code": code}),
    )
    .await;
    assert_error(&r, 429, "请求过于频繁");
    t.clock.advance(30 * 60 + 1);
    let old = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "pass-word-123456"}),
    )
    .await;
    assert_eq!(old.status, 200, "{}", old.json);
}
