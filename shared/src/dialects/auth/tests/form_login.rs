use super::*;
use crate::{
    dialects::auth::form::{DEFAULT_EXPIRATION, MAX_EXPIRATION},
    domain::Email,
    services::NewUser,
};

#[tokio::test]
async fn login_answers_a_bearer_header_and_the_token_in_data() {
    let t = test_app();
    let id = register(&t, "loginuser", "pass-word-1").await.json["data"]["id"]
        .as_u64()
        .unwrap();

    let r = login_004(
        &t,
        &[("username", "loginuser"), ("password", "pass-word-1")],
    )
    .await;
    assert_eq!(r.json["message"], "Success");
    let token = header_token(&r);
    assert_eq!(
        r.json["data"],
        json!({"id": id, "username": "loginuser", "token": token})
    );
    assert_eq!(
        r.headers.get("authorization").unwrap(),
        &format!("Bearer {token}")
    );
    let c = claims(&token);
    assert_eq!(
        (c["user_id"].as_u64(), c["type"].as_str()),
        (Some(id), Some("access_token"))
    );
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        DEFAULT_EXPIRATION
    );

    let r = multipart(
        &t,
        "/auth/login",
        &[("username", "loginuser"), ("password", "pass-word-1")],
        &[],
    )
    .await;
    assert_eq!(r.json["data"]["id"], id);
    header_token(&r);
}

#[tokio::test]
async fn login_expiration_defaults_customises_and_caps() {
    let t = test_app();
    // One day by default, 90 days at most.
    assert_eq!(DEFAULT_EXPIRATION, 24 * 3600);
    assert_eq!(MAX_EXPIRATION, 90 * 24 * 3600);
    register(&t, "expiring", "pass-word-1").await;
    let lifetime = |r: &Reply| {
        let c = claims(&header_token(r));
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
    };
    let with = |exp: &'static str| {
        let t = &t;
        async move {
            login_004(
                t,
                &[
                    ("username", "expiring"),
                    ("password", "pass-word-1"),
                    ("expiration", exp),
                ],
            )
            .await
        }
    };
    assert_eq!(lifetime(&with("600").await), 600);
    assert_eq!(lifetime(&with("").await), DEFAULT_EXPIRATION);
    // 0 counts as absent, as the original.
    assert_eq!(lifetime(&with("0").await), DEFAULT_EXPIRATION);
    assert_eq!(lifetime(&with(" 7200 ").await), 7200);
    // 60 days (the app's longest) is kept; more is capped at 90 days.
    assert_eq!(lifetime(&with("5184000").await), 60 * 24 * 3600);
    assert_eq!(lifetime(&with("7776000").await), MAX_EXPIRATION);
    assert_eq!(lifetime(&with("10000000").await), MAX_EXPIRATION);
    assert_eq!(
        lifetime(&with("99999999999999999999999").await),
        MAX_EXPIRATION
    );
    for bad in ["abc", "-5", "1.5"] {
        assert_format_error(&with(bad).await);
    }
    let r = multipart(
        &t,
        "/auth/login",
        &[
            ("username", "expiring"),
            ("password", "pass-word-1"),
            ("expiration", "900"),
        ],
        &[],
    )
    .await;
    assert_eq!(lifetime(&r), 900);

    // A short token really ends when it says.
    let token = header_token(&with("600").await);
    assert_eq!(whoami(&t, Some(&token)).await.status, 200);
    t.clock.advance(600);
    assert_fail(&whoami(&t, Some(&token)).await, 401, "Token Expired");
}

#[tokio::test]
async fn login_tells_wrong_password_from_unknown_user() {
    let t = test_app();
    register(&t, "knownuser", "pass-word-1").await;
    let r = login_004(
        &t,
        &[("username", "knownuser"), ("password", "wrong-password")],
    )
    .await;
    assert_fail(&r, 401, "Password Error");
    assert!(r.headers.get("authorization").is_none());
    assert_fail(
        &login_004(
            &t,
            &[("username", "nobodyhere"), ("password", "pass-word-1")],
        )
        .await,
        401,
        "User Not Found",
    );
    // An empty password is a wrong one (the original checked it like any other).
    assert_fail(
        &login_004(&t, &[("username", "nobodyhere"), ("password", "")]).await,
        401,
        "User Not Found",
    );
    // The original looked up any username: one that can name no account is not found either.
    let long = "x".repeat(40);
    for nobody in ["", "a b c d", long.as_str()] {
        let r = login_004(&t, &[("username", nobody), ("password", "pass-word-1")]).await;
        assert_fail(&r, 401, "User Not Found");
    }
    // An identifier over every identifier's limit is bad input (API-NOTES, "Sizes").
    let over_username = "x".repeat(65);
    let over_email = format!("{}@example.com", "x".repeat(250));
    for over in [over_username.as_str(), over_email.as_str()] {
        let r = login_004(&t, &[("username", over), ("password", "pass-word-1")]).await;
        assert_fail(&r, 400, "Format Error");
    }
}

/// A disabled account answers as a wrong password whether or not the password is right:
/// otherwise the form would confirm a disabled user's password to whoever tries it.
#[tokio::test]
async fn a_disabled_account_does_not_tell_a_right_password_from_a_wrong_one() {
    let t = test_app();
    register(&t, "retiredone", "pass-word-1").await;
    let user = t.app.auth.user_by("retiredone").await.unwrap();
    t.app.auth.disable(&user).await.unwrap();
    for password in ["pass-word-1", "wrong-password"] {
        let r = login_004(&t, &[("username", "retiredone"), ("password", password)]).await;
        assert_fail(&r, 401, "Password Error");
        assert!(r.headers.get("authorization").is_none());
    }
}

#[tokio::test]
async fn users_without_a_username_are_shown_by_email_or_mobile() {
    let t = test_app();
    let by_email = NewUser {
        email: Some(Email::parse("mail@example.com").unwrap()),
        password: Some(crate::domain::Password::attempt("password").unwrap()),
        ..Default::default()
    };
    let user = t.user(by_email).await;
    let r = login_004(
        &t,
        &[("username", "mail@example.com"), ("password", "password")],
    )
    .await;
    assert_eq!(
        login_data(&r),
        json!({"id": user.id.0, "username": "mail@example.com"})
    );
    let token = header_token(&r);
    assert_eq!(
        whoami(&t, Some(&token)).await.json["data"]["username"],
        "mail@example.com"
    );
    // By another identifier, every failure is `Login Failed`: no probing of other accounts.
    assert_fail(
        &login_004(
            &t,
            &[
                ("username", "mail@example.com"),
                ("password", "wrong-password"),
            ],
        )
        .await,
        401,
        "Login Failed",
    );
    assert_fail(
        &login_004(
            &t,
            &[("username", "ghost@example.com"), ("password", "password")],
        )
        .await,
        401,
        "Login Failed",
    );

    let by_mobile = NewUser {
        mobile: Some(t.app.auth.phone("13312341234").unwrap()),
        password: Some(crate::domain::Password::attempt("password").unwrap()),
        ..Default::default()
    };
    let user = t.user(by_mobile).await;
    let r = login_004(&t, &[("username", "13312341234"), ("password", "password")]).await;
    assert_eq!(
        login_data(&r),
        json!({"id": user.id.0, "username": "13312341234"})
    );
    assert_fail(
        &login_004(
            &t,
            &[("username", "13312341234"), ("password", "wrong-password")],
        )
        .await,
        401,
        "Login Failed",
    );
}
