use super::*;

#[tokio::test]
async fn get_email_code_needs_a_solved_captcha_and_its_code_serves_every_use() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let mailed = |t: &TestApp| {
        t.app
            .outbox
            .as_ref()
            .unwrap()
            .entries()
            .iter()
            .filter(|e| e.to == "a@x.com")
            .count()
    };
    let before = mailed(&t);
    let r = verify(&t, "/getEmailCode", json!({"email": "a@x.com"})).await;
    let id = captcha_required(&r);
    // An issued but unsolved id does not help (deliberate).
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    let id = captcha_required(&r);
    assert_eq!(
        mailed(&t),
        before,
        "nothing mailed without a solved captcha"
    );
    solve(&t, &id).await;
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    // The original's `resp.Ok`: the web client reads `data.countdown` from it.
    assert_eq!(assert_ok(&r), &json!({}));
    let code = t.last_code("a@x.com");
    // The one code signs in by email.
    let r = post(
        &t,
        "/login/email",
        json!({"email": "a@x.com", "code": code}),
    )
    .await;
    assert_ok(&r);
    // The solved id was spent by the code it let through.
    t.clock.advance(60);
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    assert_ok(&r);
    // The same kind of code changes the password.
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/modifyPwd",
        json!({"email": "a@x.com", "password": "new-secret-pass", "code": code}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    assert_ok(&login(&t, "a@x.com", "new-secret-pass").await);
    // And registers a new account.
    let r = verify(&t, "/getEmailCode", json!({"email": "n@x.com"})).await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "n@x.com", "captchaId": id}),
    )
    .await;
    assert_ok(&r);
    let code = t.last_code("n@x.com");
    let r = post(
        &t,
        "/register",
        json!({"email": "n@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    // It is valid five minutes.
    t.clock.advance(60);
    let r = verify(&t, "/getEmailCode", json!({"email": "a@x.com"})).await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let body = json!({"email": "a@x.com", "captchaId": id});
    assert_ok(&verify(&t, "/getEmailCode", body).await);
    let code = t.last_code("a@x.com");
    t.clock.advance(301);
    let r = post(
        &t,
        "/login/email",
        json!({"email": "a@x.com", "code": code}),
    )
    .await;
    assert_refused(&r, "邮箱验证错误");
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
    assert_ok(&r);
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "register"}),
    )
    .await;
    assert_refused(&r, "操作过于频繁，请60秒后再试");
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("60")
    );
    t.clock.advance(60);
    assert_ok(
        &post(
            &t,
            "/sendEmailCode",
            json!({"email": "a@x.com", "type": "register"}),
        )
        .await,
    );
}

/// A solved captcha is spent by the code it lets through, not by a send refused on the way
/// (a resend within the minute): it still works once the minute is over, as the original
/// kept it until a code went out.
#[tokio::test]
async fn a_refused_send_keeps_the_solved_captcha() {
    let t = test_app();
    let ask = |id: Option<&str>| {
        let body = match id {
            Some(id) => json!({"email": "k@x.com", "captchaId": id}),
            None => json!({"email": "k@x.com"}),
        };
        verify(&t, "/getEmailCode", body)
    };
    let first = captcha_required(&ask(None).await);
    solve(&t, &first).await;
    assert_ok(&ask(Some(&first)).await);
    let second = captcha_required(&ask(None).await);
    solve(&t, &second).await;
    let r = ask(Some(&second)).await;
    assert_eq!(r.json["code"], 500, "{}", r.json);
    assert!(
        r.json["msg"].as_str().unwrap().starts_with("操作过于频繁"),
        "{}",
        r.json
    );
    t.clock.advance(60);
    assert_ok(&ask(Some(&second)).await);
    // Spent now.
    t.clock.advance(60);
    captcha_required(&ask(Some(&second)).await);
}

#[tokio::test]
async fn a_password_change_for_nobody_leaves_the_shared_code_for_registering() {
    let t = test_app();
    let r = verify(&t, "/getEmailCode", json!({"email": "new@x.com"})).await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = verify(
        &t,
        "/getEmailCode",
        json!({"email": "new@x.com", "captchaId": id}),
    )
    .await;
    assert_ok(&r);
    let code = t.last_code("new@x.com");
    // Through 忘记密码 first: no account has the email.
    let r = post(
        &t,
        "/modifyPwd",
        json!({"email": "new@x.com", "password": "brand-new-pass-9", "code": code}),
    )
    .await;
    assert_refused(&r, "邮箱验证错误");
    // The original kept one code per email for all three uses: it still registers.
    let r = post(
        &t,
        "/register",
        json!({"email": "new@x.com", "password": "brand-new-pass-9", "code": code}),
    )
    .await;
    assert_ok(&r);
}
