use crate::app::testing::*;
use crate::services::NewUser;
use serde_json::{json, Value};

const P: &str = "/api/v1/auth";

async fn post(t: &TestApp, path: &str, body: Value) -> Reply {
    t.json("POST", &format!("{P}{path}"), body, &[]).await
}

async fn registered(t: &TestApp, email: &str, password: &str) {
    let r = post(
        t,
        "/sendEmailCode",
        json!({"email": email, "type": "register"}),
    )
    .await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    let code = t.last_code(email);
    let r = post(
        t,
        "/register",
        json!({"email": email, "password": password, "code": code}),
    )
    .await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
}

async fn login(t: &TestApp, email: &str, password: &str) -> Reply {
    post(t, "/login", json!({"email": email, "password": password})).await
}

/// Solves a captcha from its images alone: the gap in the background holds the piece's pixels
/// darkened to a third, so the x where they line up is the answer.
async fn solve(t: &TestApp, id: &str) {
    let x = captcha_answer(t, id).await;
    let r = post(t, "/captcha/verify", json!({"captchaId": id, "x": x})).await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
}

fn decode_png(b64: &str) -> Vec<u8> {
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    let mut reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut buf).unwrap();
    buf
}

async fn captcha_answer(t: &TestApp, id: &str) -> i64 {
    let c = t.app.auth.captcha(Some(id)).await.unwrap();
    assert_eq!(c.id, id);
    let (bg, piece) = (decode_png(&c.background), decode_png(&c.piece));
    let (w, s) = (c.width as usize, c.piece_size as usize);
    let (py, by) = (s / 2, c.y as usize + s / 2);
    (0..=w - s)
        .find(|&x| {
            (1..s - 1).all(|i| {
                (0..3).all(|k| bg[(by * w + x + i) * 3 + k] == piece[(py * s + i) * 3 + k] / 3)
            })
        })
        .expect("the gap is visible in the background") as i64
}

#[tokio::test]
async fn register_with_emailed_code_and_refusals() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    // Second registration of the same email is refused.
    t.clock.advance(61);
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "register"}),
    )
    .await;
    assert_eq!(r.json["code"], 200);
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "secret1", "code": code}),
    )
    .await;
    assert_eq!((r.status, r.json["code"].clone()), (409, json!(1004)));
    // Wrong code, then reused code, then expired code.
    t.clock.advance(61);
    post(
        &t,
        "/sendEmailCode",
        json!({"email": "b@x.com", "type": "register"}),
    )
    .await;
    let code = t.last_code("b@x.com");
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let r = post(
        &t,
        "/register",
        json!({"email": "b@x.com", "password": "secret1", "code": wrong}),
    )
    .await;
    assert_eq!((r.status, r.json["code"].clone()), (400, json!(1003)));
    let r = post(
        &t,
        "/register",
        json!({"email": "b@x.com", "password": "secret1", "code": code}),
    )
    .await;
    assert_eq!(r.json["code"], 200);
    let r = post(
        &t,
        "/register",
        json!({"email": "b2@x.com", "password": "secret1", "code": code}),
    )
    .await;
    assert_eq!(r.json["code"], 1003, "a code is bound to its email");
    post(
        &t,
        "/sendEmailCode",
        json!({"email": "c@x.com", "type": "register"}),
    )
    .await;
    let code = t.last_code("c@x.com");
    t.clock.advance(601);
    let r = post(
        &t,
        "/register",
        json!({"email": "c@x.com", "password": "secret1", "code": code}),
    )
    .await;
    assert_eq!(r.json["code"], 1003, "expired");
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let t = test_app();
    let r = t
        .raw(
            "POST",
            &format!("{P}/login"),
            "application/json",
            "{nope",
            &[],
        )
        .await;
    assert_eq!((r.status, r.json["code"].clone()), (400, json!(1001)));
    let r = post(&t, "/login", json!({"email": "a@x.com"})).await;
    assert_eq!(r.json["code"], 1001);
    assert!(
        r.json["msg"].as_str().unwrap().contains("password"),
        "{}",
        r.json
    );
    let r = post(
        &t,
        "/login",
        json!({"email": "not-an-email", "password": "x"}),
    )
    .await;
    assert!(r.json["msg"].as_str().unwrap().contains("email"));
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "123", "code": "123456"}),
    )
    .await;
    assert_eq!(r.json["code"], 1001);
    assert!(
        r.json["msg"].as_str().unwrap().contains("password"),
        "weak password: {}",
        r.json
    );
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": 5, "code": "123456"}),
    )
    .await;
    assert!(r.json["msg"].as_str().unwrap().contains("password"));
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "weird"}),
    )
    .await;
    assert!(r.json["msg"].as_str().unwrap().contains("type"));
    let r = post(&t, "/updateToken", json!({})).await;
    assert!(r.json["msg"].as_str().unwrap().contains("refreshToken"));
}

#[tokio::test]
async fn password_and_code_login_answer_tokens_and_cookie() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    let r = login(&t, "a@x.com", "secret1").await;
    assert_eq!(r.json["code"], 200);
    let data = &r.json["data"];
    assert!(data["token"].as_str().unwrap().split('.').count() == 3);
    assert!(data["userId"].as_u64().unwrap() >= 1);
    let cookie = set_cookie(&r, "refreshToken").unwrap();
    assert_eq!(cookie, data["refreshToken"].as_str().unwrap());
    let p = t
        .app
        .auth
        .authenticate(data["token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(p.user_id.0, data["userId"].as_u64().unwrap());
    let claims_exp = t.app.auth.config().access_ttl;
    assert_eq!(claims_exp, 3600, "token valid 1 h");

    post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "login"}),
    )
    .await;
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/login/email",
        json!({"email": "a@x.com", "code": code}),
    )
    .await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    assert_eq!(r.json["data"]["userId"], data["userId"]);
    assert!(set_cookie(&r, "refreshToken").is_some());
    let r = post(
        &t,
        "/login/email",
        json!({"email": "a@x.com", "code": code}),
    )
    .await;
    assert_eq!(r.json["code"], 1003, "a login code is single use");
    let r = login(&t, "a@x.com", "wrong-password").await;
    assert_eq!((r.status, r.json["code"].clone()), (401, json!(1002)));
    let r = login(&t, "nobody@x.com", "secret1").await;
    assert_eq!(r.json["code"], 1002, "unknown and wrong answer alike");
}

#[tokio::test]
async fn three_failures_ask_for_a_captcha_that_lets_one_attempt_through() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    for _ in 0..3 {
        assert_eq!(login(&t, "a@x.com", "bad").await.json["code"], 1002);
    }
    let r = login(&t, "a@x.com", "secret1").await;
    assert_eq!(
        r.json["code"], -1,
        "even the right password needs the captcha now"
    );
    assert_eq!(r.json["msg"], "需要人机验证");
    let id = r.json["data"]["captchaId"].as_str().unwrap().to_string();
    assert!(!id.is_empty());
    // An unsolved captcha id does not help.
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "secret1", "captchaId": id}),
    )
    .await;
    assert_eq!(r.json["code"], -1);
    let id = r.json["data"]["captchaId"].as_str().unwrap().to_string();
    solve(&t, &id).await;
    // One wrong attempt through the solved captcha, and the next needs a captcha again.
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "bad", "captchaId": id}),
    )
    .await;
    assert_eq!(r.json["code"], 1002);
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "secret1", "captchaId": id}),
    )
    .await;
    assert_eq!(
        r.json["code"], -1,
        "a solved captcha is good for one attempt"
    );
    let id = r.json["data"]["captchaId"].as_str().unwrap().to_string();
    solve(&t, &id).await;
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "secret1", "captchaId": id}),
    )
    .await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    // Success reset the count.
    assert_eq!(login(&t, "a@x.com", "bad").await.json["code"], 1002);
    assert_eq!(login(&t, "a@x.com", "secret1").await.json["code"], 200);
}

#[tokio::test]
async fn captcha_requirement_lapses_after_thirty_minutes_and_counts_code_failures() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    for _ in 0..3 {
        let r = post(
            &t,
            "/login/email",
            json!({"email": "a@x.com", "code": "000000"}),
        )
        .await;
        assert_eq!(r.json["code"], 1003);
    }
    assert_eq!(login(&t, "a@x.com", "secret1").await.json["code"], -1);
    t.clock.advance(30 * 60);
    assert_eq!(login(&t, "a@x.com", "secret1").await.json["code"], 200);
}

#[tokio::test]
async fn captcha_endpoints_render_verify_once_and_void_after_wrong_guesses() {
    let t = test_app();
    let r = post(&t, "/captcha", json!({})).await;
    assert_eq!(r.json["code"], 200);
    let d = &r.json["data"];
    for k in ["captchaId", "background", "piece"] {
        assert!(d[k].as_str().is_some_and(|s| !s.is_empty()), "{k}");
    }
    let bg = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        d["background"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(&bg[..8], b"\x89PNG\r\n\x1a\n");
    let id = d["captchaId"].as_str().unwrap().to_string();
    let x = captcha_answer(&t, &id).await;
    let r = post(&t, "/captcha/verify", json!({"captchaId": id, "x": x + 30})).await;
    assert_eq!(r.json["code"], 1003);
    let r = post(&t, "/captcha/verify", json!({"captchaId": id, "x": x})).await;
    assert_eq!(r.json["code"], 200);
    let r = post(&t, "/captcha/verify", json!({"captchaId": id, "x": x})).await;
    assert_eq!(r.json["code"], 1003, "only once");
    let r = post(&t, "/captcha", json!({})).await;
    let id = r.json["data"]["captchaId"].as_str().unwrap().to_string();
    let x = captcha_answer(&t, &id).await;
    for _ in 0..3 {
        post(&t, "/captcha/verify", json!({"captchaId": id, "x": x + 40})).await;
    }
    let r = post(&t, "/captcha/verify", json!({"captchaId": id, "x": x})).await;
    assert_eq!(r.json["code"], 1003, "void after three wrong guesses");
}

#[tokio::test]
async fn update_token_rotates_and_detects_reuse() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    let r = login(&t, "a@x.com", "secret1").await;
    let first = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let r = post(&t, "/updateToken", json!({"refreshToken": first})).await;
    assert_eq!(r.json["code"], 200);
    let second = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert!(r.json["data"]["userId"].as_u64().is_some());
    t.clock.advance(30);
    let r = post(&t, "/updateToken", json!({"refreshToken": first})).await;
    assert_eq!(
        (r.status, r.json["code"].clone()),
        (401, json!(2000)),
        "reuse detected"
    );
    let r = post(&t, "/updateToken", json!({"refreshToken": second})).await;
    assert_eq!(r.json["code"], 2000, "reuse revoked the newer token too");
    assert!(t.app.auth.authenticate(&access).await.is_err());
    let r = post(&t, "/updateToken", json!({"refreshToken": "garbage"})).await;
    assert_eq!(r.json["code"], 2000);
}

#[tokio::test]
async fn update_token_reads_the_cookie_when_the_body_has_none() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    let r = login(&t, "a@x.com", "secret1").await;
    let cookie = format!("refreshToken={}", set_cookie(&r, "refreshToken").unwrap());
    let r = t
        .json(
            "POST",
            &format!("{P}/updateToken"),
            json!({}),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(r.json["code"], 200);
}

#[tokio::test]
async fn logout_voids_refresh_and_access_and_clears_cookie() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    let r = login(&t, "a@x.com", "secret1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let refresh = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let r = t
        .json(
            "POST",
            &format!("{P}/logout"),
            json!({"refreshToken": refresh}),
            &[("authorization", &access)],
        )
        .await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    assert_eq!(set_cookie(&r, "refreshToken").as_deref(), Some(""));
    assert!(
        t.app.auth.authenticate(&access).await.is_err(),
        "access token stops at once"
    );
    let r = post(&t, "/updateToken", json!({"refreshToken": refresh})).await;
    assert_eq!(r.json["code"], 2000);
    let r = t
        .json(
            "POST",
            &format!("{P}/logout"),
            json!({"refreshToken": refresh}),
            &[("authorization", &access)],
        )
        .await;
    assert_eq!(r.json["code"], 2000, "a dead token cannot log out again");
}

#[tokio::test]
async fn reset_needs_a_captcha_then_mails_a_code_that_sets_the_password() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    let r = login(&t, "a@x.com", "secret1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let r = post(&t, "/resetpwdCheck", json!({"email": "a@x.com"})).await;
    assert_eq!(r.json["code"], -1);
    let id = r.json["data"]["captchaId"].as_str().unwrap().to_string();
    solve(&t, &id).await;
    t.clock.advance(61);
    let r = post(
        &t,
        "/resetpwdCheck",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/modifyPwd",
        json!({"email": "a@x.com", "password": "newsecret", "code": code}),
    )
    .await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    assert!(
        t.app.auth.authenticate(&access).await.is_err(),
        "sessions revoked"
    );
    assert_eq!(login(&t, "a@x.com", "secret1").await.json["code"], 1002);
    assert_eq!(login(&t, "a@x.com", "newsecret").await.json["code"], 200);
}

#[tokio::test]
async fn legacy_get_reset_check_reads_email_and_eamil() {
    let t = test_app();
    t.user(NewUser {
        email: Some(crate::domain::Email::parse("a@x.com").unwrap()),
        ..Default::default()
    })
    .await;
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?eamil=a@x.com"),
            "",
            "",
            &[],
        )
        .await;
    assert_eq!(r.json["code"], -1);
    let id = r.json["data"]["captchaId"].as_str().unwrap().to_string();
    solve(&t, &id).await;
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?eamil=a@x.com&captchaId={id}"),
            "",
            "",
            &[],
        )
        .await;
    assert_eq!(r.json["code"], 200, "{}", r.json);
    assert_eq!(t.last_code("a@x.com").len(), 6);
    let r = t
        .raw("GET", &format!("{P}/resetpwdCheck"), "", "", &[])
        .await;
    assert_eq!(r.json["code"], 1001);
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?email=nobody@x.com"),
            "",
            "",
            &[],
        )
        .await;
    assert_eq!(r.json["code"], -1, "unknown emails look the same");
}

#[tokio::test]
async fn a_second_code_within_sixty_seconds_is_too_many() {
    let t = test_app();
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "register"}),
    )
    .await;
    assert_eq!(r.json["code"], 200);
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "register"}),
    )
    .await;
    assert_eq!((r.status, r.json["code"].clone()), (429, json!(1005)));
    t.clock.advance(60);
    assert_eq!(
        post(
            &t,
            "/sendEmailCode",
            json!({"email": "a@x.com", "type": "register"})
        )
        .await
        .json["code"],
        200
    );
}

#[tokio::test]
async fn disabled_accounts_are_refused() {
    let t = test_app();
    registered(&t, "a@x.com", "secret1").await;
    let user = t
        .app
        .auth
        .find_user(&t.app.auth.account("a@x.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    t.app.auth.disable(&user).await.unwrap();
    let r = login(&t, "a@x.com", "secret1").await;
    assert_eq!((r.status, r.json["code"].clone()), (403, json!(1006)));
}
