use super::*;
use crate::services::NewUser;

#[tokio::test]
async fn reset_needs_a_captcha_then_mails_a_code_that_sets_the_password() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let r = post(&t, "/resetpwdCheck", json!({"email": "a@x.com"})).await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    t.clock.advance(61);
    let r = post(
        &t,
        "/resetpwdCheck",
        json!({"email": "a@x.com", "captchaId": id}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    let code = t.last_code("a@x.com");
    // A wrong code in the original's `ModifyPwd` words (`register` says `邮箱验证码错误`).
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = post(
        &t,
        "/modifyPwd",
        json!({"email": "a@x.com", "password": "new-secret-pass", "code": wrong}),
    )
    .await;
    assert_refused(&r, "邮箱验证错误");
    let r = post(
        &t,
        "/modifyPwd",
        json!({"email": "a@x.com", "password": "new-secret-pass", "code": code}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    assert!(
        t.app.auth.authenticate(&access).await.is_err(),
        "sessions revoked"
    );
    assert_refused(
        &login(&t, "a@x.com", "secret-pass-1").await,
        "用户名密码不匹配",
    );
    assert_ok(&login(&t, "a@x.com", "new-secret-pass").await);
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
    let id = captcha_required(&r);
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
    assert_ok(&r);
    assert_eq!(t.last_code("a@x.com").len(), 6);
    // Unknown emails look the same: a captcha first, then ok with nothing mailed.
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?email=nobody@x.com"),
            "",
            "",
            &[],
        )
        .await;
    let id = captcha_required(&r);
    solve(&t, &id).await;
    let r = t
        .raw(
            "GET",
            &format!("{P}/resetpwdCheck?email=nobody@x.com&captchaId={id}"),
            "",
            "",
            &[],
        )
        .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    let outbox = t.app.outbox.as_ref().unwrap().entries();
    assert!(outbox.iter().all(|e| e.to != "nobody@x.com"));
    let r = t
        .raw("GET", &format!("{P}/resetpwdCheck"), "", "", &[])
        .await;
    // A missing field.
    assert_refused(&r, "请求参数有误");
}
