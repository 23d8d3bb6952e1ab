use super::*;

#[tokio::test]
async fn bad_input_gets_the_originals_messages() {
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
    assert_refused(&r, "请求参数有误");
    let r = post(&t, "/login", json!({"email": "a@x.com"})).await;
    // A missing field.
    assert_refused(&r, "请求参数有误");
    let r = post(
        &t,
        "/login",
        json!({"email": "not-an-email", "password": "secret-pass-1"}),
    )
    .await;
    assert_refused(&r, "邮箱格式错误");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "1234567", "code": "123456"}),
    )
    .await;
    // New passwords need eight characters; one the policy refuses is bad input, and one under
    // six gets the original's message, as a login password does.
    assert_refused(&r, "请求参数有误");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "12345", "code": "123456"}),
    )
    .await;
    assert_refused(&r, "密码长度不能小于6位");
    let r = post(
        &t,
        "/login",
        json!({"email": "a@x.com", "password": "12345"}),
    )
    .await;
    assert_refused(&r, "密码长度不能小于6位");

    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": 5, "code": "123456"}),
    )
    .await;
    // A value of the wrong type.
    assert_refused(&r, "请求参数有误");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "secret-pass-1", "code": "12ab56"}),
    )
    .await;
    assert_refused(&r, "验证码长度为6位");
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "weird"}),
    )
    .await;
    assert_refused(&r, "请求参数有误");
    assert!(t.app.outbox.as_ref().unwrap().entries().is_empty());
    // The original checks the length before the code: 6 digits, no fewer.
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "secret-pass-1", "code": "12345"}),
    )
    .await;
    assert_refused(&r, "验证码长度为6位");
}

/// What the original's gin engine answered a request no route took: its clients (and anything
/// probing) see the same here.
#[tokio::test]
async fn unrouted_requests_get_gins_defaults() {
    let t = test_app();
    let not_found = |r: &Reply| {
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.text, "404 page not found");
        assert_eq!(r.headers["content-type"], "text/plain");
    };
    // A wrong method (gin answers no 405 unless told to) and an unknown path.
    for (method, path) in [
        ("GET", format!("{P}/login")),
        ("DELETE", format!("{P}/logout")),
        ("POST", "/api/v1/verify/captcha/get".to_string()),
        ("POST", format!("{P}/nope")),
        ("GET", "/api/v1".to_string()),
    ] {
        not_found(&t.raw(method, &path, "", "", &[]).await);
    }
    // A route's path with a trailing slash is redirected to the route; a POST keeps its method.
    let r = post(
        &t,
        "/login/",
        json!({"email": "a@x.com", "password": "secret-pass-1"}),
    )
    .await;
    assert_eq!(r.status, 307);
    assert_eq!(r.headers["location"], format!("{P}/login"));
    let r = t
        .raw(
            "GET",
            "/api/v1/verify/captcha/get/?captchaId=x",
            "",
            "",
            &[],
        )
        .await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.headers["location"],
        "/api/v1/verify/captcha/get?captchaId=x"
    );
    not_found(&t.raw("POST", &format!("{P}/nope/"), "", "", &[]).await);
    // Only where the request's own method has the route.
    not_found(&t.raw("GET", &format!("{P}/login/"), "", "", &[]).await);
    not_found(
        &t.raw("POST", "/api/v1/verify/captcha/get/", "", "", &[])
            .await,
    );
}

/// An identifier over its size limit gets the bad-parameters answer (API-NOTES, "Sizes"); one
/// at the limit is judged by its shape as any other.
#[tokio::test]
async fn an_email_over_254_characters_is_a_bad_parameter() {
    let t = test_app();
    let at_limit = format!("{}@example.com", "a".repeat(254 - "@example.com".len()));
    let over = format!("a{at_limit}");
    assert_eq!((at_limit.len(), over.len()), (254, 255));
    for (path, extra) in [
        ("/login", json!({"password": "secret-pass-1"})),
        ("/login/email", json!({"code": "123456"})),
        ("/resetpwdCheck", json!({})),
    ] {
        let mut body = extra.clone();
        body["email"] = json!(over);
        assert_refused(&post(&t, path, body).await, "请求参数有误");
    }
    let r = t
        .json(
            "POST",
            "/api/v1/verify/getEmailCode",
            json!({"email": over, "captchaId": "x"}),
            &[],
        )
        .await;
    assert_refused(&r, "请求参数有误");
    // The local part alone is over 64 characters: a shape the address cannot have.
    let r = post(
        &t,
        "/login",
        json!({"email": at_limit, "password": "secret-pass-1"}),
    )
    .await;
    assert_refused(&r, "邮箱格式错误");
}
