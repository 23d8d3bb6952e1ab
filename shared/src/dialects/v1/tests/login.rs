use super::*;
use crate::{
    domain::{Email, Password},
    services::NewUser,
};

#[tokio::test]
async fn login_by_password() {
    let t = test_app();
    let reg = register_mobile(&t, "pass-word-123456").await;
    let id = reg.json["user"]["id"].as_u64().unwrap();
    let r = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "pass-word-123456"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["isNewUser"], false);
    assert_eq!(r.json["user"], reg.json["user"]);
    assert_eq!(user_of(&t, r.json["token"].as_str().unwrap()).await, id);
    assert_seed_token(&t, r.json["token"].as_str().unwrap(), id);
    // The mobile in international form is the same account.
    let r = post(
        &t,
        "login",
        json!({"account": E164, "password": "pass-word-123456"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let wrong = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "1234567"}),
    )
    .await;
    assert_exact(&wrong, 400, WRONG);
    let unknown = post(
        &t,
        "login",
        json!({"account": "13900000000", "password": "pass-word-123456"}),
    )
    .await;
    assert_exact(&unknown, 400, WRONG);
    assert_eq!(wrong.json, unknown.json, "unknown and wrong are told alike");
}

/// The original parsed URL-encoded bodies beside JSON (`bodyParser.urlencoded`): a form
/// client signs in, and a form missing a field is answered as a JSON one is.
#[tokio::test]
async fn form_bodies_are_read_as_json_ones() {
    let t = test_app();
    let reg = register_mobile(&t, "pass-word-123456").await;
    let form = |fields: &[(&str, &str)]| serde_urlencoded::to_string(fields).unwrap();
    let urlencoded = "application/x-www-form-urlencoded";
    let body = form(&[("account", MOBILE), ("password", "pass-word-123456")]);
    let r = t
        .raw("POST", "/v1/auth/login", urlencoded, &body, &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["user"], reg.json["user"]);
    let body = form(&[("password", "pass-word-123456")]);
    let r = t
        .raw("POST", "/v1/auth/login", urlencoded, &body, &[])
        .await;
    assert_required(&r, "account");
    let body = form(&[("account", MOBILE), ("flag", "login")]);
    let r = t
        .raw("POST", "/v1/auth/send-code", urlencoded, &body, &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn login_by_password_locks_after_ten_failures() {
    let t = test_app();
    register_mobile(&t, "pass-word-123456").await;
    lock_mobile(&t).await;
    let r = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "pass-word-123456"}),
    )
    .await;
    assert_error(&r, 429, "请求过于频繁");
}

#[tokio::test]
async fn code_login_creates_a_new_account_then_signs_in_the_existing_one() {
    let t = test_app();
    let code = code_for(&t, MOBILE, E164, "login").await;
    let r = post(&t, "login", json!({"account": MOBILE, "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["isNewUser"], true);
    assert_eq!(r.json["user"]["nickname"], "133****1234");
    assert_eq!(r.json["user"]["mobile"], MOBILE);
    let id = r.json["user"]["id"].as_u64().unwrap();
    assert_eq!(user_of(&t, r.json["token"].as_str().unwrap()).await, id);
    assert_seed_token(&t, r.json["token"].as_str().unwrap(), id);
    // The code is spent.
    assert_exact(
        &post(&t, "login", json!({"account": MOBILE, "code": code})).await,
        400,
        NO_CODE,
    );
    t.clock.advance(60);
    let code = code_for(&t, MOBILE, E164, "login").await;
    let r = post(
        &t,
        "login",
        json!({"account": MOBILE, "code": code, "password": ""}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["isNewUser"], false);
    assert_eq!(r.json["user"]["id"].as_u64(), Some(id));
}

#[tokio::test]
async fn code_login_needs_a_login_code() {
    let t = test_app();
    let register = code_for(&t, "e@x.com", "e@x.com", "register").await;
    let r = post(&t, "login", json!({"account": "e@x.com", "code": register})).await;
    assert_exact(&r, 400, NO_CODE);
    assert!(t
        .app
        .auth
        .find_user(&t.app.auth.contact("e@x.com").unwrap())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn login_takes_a_password_or_a_code() {
    let t = test_app();
    assert_required(
        &post(&t, "login", json!({"account": MOBILE})).await,
        "password",
    );
    assert_required(
        &post(
            &t,
            "login",
            json!({"account": MOBILE, "password": "", "code": null}),
        )
        .await,
        "password",
    );
    // Blank is missing too (the original's validator): never a failed attempt on the account.
    assert_required(
        &post(
            &t,
            "login",
            json!({"account": MOBILE, "password": "   ", "code": " "}),
        )
        .await,
        "password",
    );
    // Both: the password decides, as with the original (which knew no code login).
    register_mobile(&t, "pass-word-123456").await;
    for code in ["123456", ""] {
        let both = post(
            &t,
            "login",
            json!({"account": MOBILE, "password": "pass-word-123456", "code": code}),
        )
        .await;
        assert_eq!(both.status, 200, "{}", both.json);
        assert_eq!(both.json["isNewUser"], false);
    }
    let wrong = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "wrong-word-123456", "code": "123456"}),
    )
    .await;
    assert_exact(&wrong, 400, "incorrect username or password");
    assert_required(
        &post(&t, "login", json!({"account": MOBILE, "password": 123456})).await,
        "password",
    );
    assert_required(
        &post(&t, "login", json!({"password": "pass-word-123456"})).await,
        "account",
    );
    assert_exact(
        &post(
            &t,
            "login",
            json!({"account": "bob", "password": "pass-word-123456"}),
        )
        .await,
        400,
        NOT_CONTACT,
    );
}

#[tokio::test]
async fn disabled_accounts_are_refused() {
    let t = test_app();
    let user = t
        .user(NewUser {
            email: Some(Email::parse("off@x.com").unwrap()),
            password: Some(Password::attempt("123456").unwrap()),
            ..Default::default()
        })
        .await;
    t.app.auth.disable(&user).await.unwrap();
    let r = post(
        &t,
        "login",
        json!({"account": "off@x.com", "password": "123456"}),
    )
    .await;
    assert_error(&r, 403, "账号已被禁用");
    let code = code_for(&t, "off@x.com", "off@x.com", "login").await;
    assert_error(
        &post(&t, "login", json!({"account": "off@x.com", "code": code})).await,
        403,
        "账号已被禁用",
    );
}

/// With the app's `cookie-session` key configured, a login also sets the app's session cookie
/// (`{"userId": id}` and its keygrip signature), which boarcms's admin pages sign in with;
/// it lives as long as the token. Without the key, or for a failed login, no cookie is set.
#[tokio::test]
async fn login_sets_the_apps_session_cookie_only_when_its_key_is_configured() {
    use crate::{
        app::testing::{cookie_attributes, set_cookie},
        config::{Config, Secret},
        services::{testing::Harness, tokens::cookie_session},
    };
    use base64::{engine::general_purpose::STANDARD, Engine};
    let mut config = Config::for_tests();
    config.tokens.v1_session_key = Some(Secret::new("boar".into()));
    let t = Harness::builder().config(config).app();
    let reg = register_mobile(&t, "pass-word-123456").await;
    let id = reg.json["user"]["id"].as_u64().unwrap();
    let set_cookies = |r: &Reply| -> Vec<String> {
        r.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    };
    assert!(
        set_cookies(&reg).is_empty(),
        "register sets none, as the original"
    );
    let wrong = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "nope-nope-nope"}),
    )
    .await;
    assert_exact(&wrong, 400, WRONG);
    assert!(set_cookies(&wrong).is_empty());

    let r = post(
        &t,
        "login",
        json!({"account": MOBILE, "password": "pass-word-123456"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let cookies = set_cookies(&r);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let value_of = |name: &str| {
        let attrs = cookie_attributes(&r, name);
        for part in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=10800"] {
            assert!(
                attrs.contains(&part.into()),
                "{name}: {attrs:?} lacks {part}"
            );
        }
        set_cookie(&r, name).unwrap_or_else(|| panic!("no {name} in {cookies:?}"))
    };
    let session = value_of("boar-session");
    let decoded: Value = serde_json::from_slice(&STANDARD.decode(&session).unwrap()).unwrap();
    assert_eq!(decoded, json!({"userId": id}));
    let (_, sig) = cookie_session::issue(&Secret::new("boar".into()), crate::domain::UserId(id));
    assert_eq!(value_of("boar-session.sig"), sig);

    // A code login sets it too.
    let code = code_for(&t, MOBILE, E164, "login").await;
    let r = post(&t, "login", json!({"account": MOBILE, "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let names: Vec<String> = set_cookies(&r)
        .iter()
        .map(|c| c.split('=').next().unwrap().to_string())
        .collect();
    assert_eq!(names, ["boar-session", "boar-session.sig"]);

    let plain = test_app();
    register_mobile(&plain, "pass-word-123456").await;
    let r = post(
        &plain,
        "login",
        json!({"account": MOBILE, "password": "pass-word-123456"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(set_cookies(&r).is_empty());
}
