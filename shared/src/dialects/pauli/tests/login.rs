use super::*;
use crate::sender::Channel;

/// polyauth's own limits answer 1 with a message saying when to retry, and `Retry-After`.
fn assert_retry_later(r: &Reply) -> i64 {
    let wait: i64 = r
        .headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_refused(r, 1, &format!("操作过于频繁，请{wait}秒后再试"));
    wait
}

#[tokio::test]
async fn wrong_credentials_get_one_code_for_unknown_user_and_wrong_password() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let wrong = login(&t, "alice@example.com", "nope-nope").await;
    let unknown = login(&t, "bob@example.com", "secret1").await;
    for r in [&wrong, &unknown] {
        assert_refused(r, 1005, WRONG_CREDENTIALS);
        assert!(set_cookie(r, "pauli_session").is_none());
        assert!(set_cookie(r, "pauli_pending").is_none());
    }
    assert_eq!(wrong.json, unknown.json);
}

#[tokio::test]
async fn username_accepts_any_identifier_and_disabled_accounts_are_refused() {
    let t = test_app();
    let user = t
        .user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    let r = login(&t, " ALICE@example.com ", "secret1").await;
    assert_eq!(code(&r), 0);
    let bad = login(&t, "", "secret1").await;
    assert_param(&bad, "username");
    // A name no account can have is an unknown user, as the original's lookup found none.
    for nobody in ["amy@example", "amy@@example.com", "12345", "+1"] {
        assert_refused(&login(&t, nobody, "secret1").await, 1005, WRONG_CREDENTIALS);
    }
    t.app.auth.disable(&user).await.unwrap();
    // A disabled account answers as a wrong password does.
    let r = login(&t, "alice@example.com", "secret1").await;
    assert_refused(&r, 1005, WRONG_CREDENTIALS);
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_account() {
    let t = test_app();
    t.user(new_user("alice@example.com", None, "secret1", &t))
        .await;
    for _ in 0..10 {
        assert_refused(
            &login(&t, "alice@example.com", "wrong-pw").await,
            1005,
            WRONG_CREDENTIALS,
        );
    }
    let r = login(&t, "alice@example.com", "secret1").await;
    assert!(assert_retry_later(&r) > 0);
    assert!(set_cookie(&r, "pauli_session").is_none());
}

#[tokio::test]
async fn user_with_mobile_gets_1032_a_pending_cookie_and_an_sms_and_is_not_logged_in() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    let r = login(&t, "m@example.com", "secret1").await;
    assert_envelope(&r);
    assert_eq!((r.status, code(&r)), (200, 1032));
    assert!(set_cookie(&r, "pauli_session").is_none());
    let raw = raw_cookie(&r, "pauli_pending");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/pauli", "Max-Age=1200"] {
        assert!(raw.contains(part), "{raw} lacks {part}");
    }
    let sent = outbox(&t);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].channel, sent[0].to.as_str()), (Channel::Sms, E164));
    // The pending cookie is no session.
    let pid = set_cookie(&r, "pauli_pending").unwrap();
    let r = get(&t, "/logined", Some(&pending(&pid))).await;
    assert_eq!(r.json["result"], json!({"logined": false}));
    // The mobile number works as the username too.
    assert_eq!(code(&login(&t, MOBILE, "secret1").await), 1032);
}

#[tokio::test]
async fn a_second_password_step_within_the_minute_reuses_an_unused_code_or_sends_after_a_used_one()
{
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    // Repeating the password step while the first code is unused: no new SMS, same code works.
    login_pending(&t, "m@example.com", "secret1").await;
    let first = t.last_code(E164);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    assert_eq!(outbox(&t).len(), 1);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": first}),
        Some(&pending(&pid)),
    )
    .await;
    assert_eq!(code(&r), 0, "{}", r.json);
    // The code was used, which only its owner could do: signing in again within the minute
    // (after a logout) texts a fresh code at once, as the seed's 1032 says.
    t.clock.advance(30);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    assert_eq!(outbox(&t).len(), 2);
    let second = t.last_code(E164);
    // A code voided by wrong guesses is no used one: the minute holds.
    for _ in 0..5 {
        let wrong = if second == "000000" {
            "111111"
        } else {
            "000000"
        };
        let r = send(
            &t,
            "POST",
            "/pass/code",
            json!({"code": wrong}),
            Some(&pending(&pid)),
        )
        .await;
        assert_ne!(code(&r), 0, "{}", r.json);
    }
    t.clock.advance(10);
    let r = login(&t, "m@example.com", "secret1").await;
    assert!(set_cookie(&r, "pauli_pending").is_none());
    assert_eq!(assert_retry_later(&r), 50);
    t.clock.advance(50);
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    assert_eq!(outbox(&t).len(), 3);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": t.last_code(E164)}),
        Some(&pending(&pid)),
    )
    .await;
    assert_eq!(code(&r), 0, "{}", r.json);
}

/// A wrong password on top of a pending login ends it, as the original dropped its
/// `password_verified` mark: the code sent for it signs nobody in any more.
#[tokio::test]
async fn a_wrong_password_during_the_sms_step_ends_the_pending_login() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let sent = t.last_code(E164);
    let r = send(
        &t,
        "PUT",
        "/pass/login",
        json!({"username": "m@example.com", "password": "wrong-one"}),
        Some(&pending(&pid)),
    )
    .await;
    assert_eq!(code(&r), 1005, "{}", r.json);
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": sent}),
        Some(&pending(&pid)),
    )
    .await;
    assert_refused(&r, 1007, "验证码错误，请输入正确的验证码");
}

/// Logging out ends a password step awaiting its code, as the original's `session.clear()`
/// did: a pending cookie kept past the logout (copied before it) signs nobody in.
#[tokio::test]
async fn logout_ends_the_pending_login_a_kept_cookie_names() {
    let t = test_app();
    t.user(new_user("m@example.com", Some(MOBILE), "secret1", &t))
        .await;
    let pid = login_pending(&t, "m@example.com", "secret1").await;
    let sent = t.last_code(E164);
    let r = get(&t, "/logout", Some(&pending(&pid))).await;
    assert_eq!(code(&r), 0, "{}", r.json);
    assert_eq!(set_cookie(&r, "pauli_pending").as_deref(), Some(""));
    let r = send(
        &t,
        "POST",
        "/pass/code",
        json!({"code": sent}),
        Some(&pending(&pid)),
    )
    .await;
    assert_refused(&r, 1007, "验证码错误，请输入正确的验证码");
}

/// A user whose mobile no text may reach (imported with a number of a country not enabled)
/// cannot finish the SMS step; the password step answers 1005 whether or not the password was
/// right, and sends nothing: a refused mobile would confirm the password to whoever tried it.
#[tokio::test]
async fn a_mobile_texts_cannot_reach_answers_as_a_wrong_password() {
    let t = test_app();
    t.user(new_user(
        "far@example.com",
        Some("+14155550123"),
        "secret1",
        &t,
    ))
    .await;
    for password in ["secret1", "wrong-one"] {
        let r = login(&t, "far@example.com", password).await;
        assert_refused(&r, 1005, "手机号码与密码不匹配");
        assert!(set_cookie(&r, "pauli_pending").is_none());
    }
    let outbox = t.app.outbox.as_ref().unwrap().entries();
    assert!(
        outbox.iter().all(|m| m.to != "+14155550123"),
        "no text went out"
    );
    // Nor does the right password clear the run of failures: the lockout comes on the same
    // attempt whichever password was tried last.
    for _ in 0..7 {
        assert_eq!(code(&login(&t, "far@example.com", "wrong-one").await), 1005);
    }
    assert_eq!(code(&login(&t, "far@example.com", "secret1").await), 1005);
    let locked = login(&t, "far@example.com", "wrong-one").await;
    assert_eq!(code(&locked), 1, "{}", locked.json);
}
