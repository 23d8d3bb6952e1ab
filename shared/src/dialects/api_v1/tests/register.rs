use super::*;

#[tokio::test]
async fn register_with_emailed_code_and_refusals() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    // Second registration of the same email is refused.
    t.clock.advance(61);
    let r = post(
        &t,
        "/sendEmailCode",
        json!({"email": "a@x.com", "type": "register"}),
    )
    .await;
    assert_ok(&r);
    let code = t.last_code("a@x.com");
    let r = post(
        &t,
        "/register",
        json!({"email": "a@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    assert_refused(&r, "邮箱已存在");
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
        json!({"email": "b@x.com", "password": "secret-pass-1", "code": wrong}),
    )
    .await;
    assert_refused(&r, "邮箱验证码错误");
    let r = post(
        &t,
        "/register",
        json!({"email": "b@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    assert_eq!(assert_ok(&r), &Value::Null);
    let r = post(
        &t,
        "/register",
        json!({"email": "b2@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    // A code is bound to its email.
    assert_refused(&r, "邮箱验证码错误");
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
        json!({"email": "c@x.com", "password": "secret-pass-1", "code": code}),
    )
    .await;
    // Expired.
    assert_refused(&r, "邮箱验证码错误");
}
