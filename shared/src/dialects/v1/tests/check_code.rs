use super::*;
use crate::clock::rfc3339;

#[tokio::test]
async fn check_code_answers_the_code_and_its_expiry_without_using_it() {
    let t = test_app();
    let code = code_for(&t, MOBILE, E164, "register").await;
    let expires = t.app.auth.now() + 600;
    t.clock.advance(5);
    let r = post(&t, "check-code", json!({"account": MOBILE, "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"code": code, "expired_at": rfc3339(expires)})
    );
    let at = r.json["expired_at"].as_str().unwrap();
    assert_eq!(at.len(), "2022-06-07T06:34:59.000Z".len());
    assert!(at.ends_with(".000Z") && at.as_bytes()[10] == b'T', "{at}");
    // Checking again still works, and the code still registers.
    assert_eq!(
        post(&t, "check-code", json!({"account": MOBILE, "code": code}))
            .await
            .status,
        200
    );
    let r = post(
        &t,
        "register",
        json!({"account": MOBILE, "password": "pass-word-123456", "code": code}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    // Now it is spent.
    assert_exact(
        &post(&t, "check-code", json!({"account": MOBILE, "code": code})).await,
        404,
        NO_CODE,
    );
}

#[tokio::test]
async fn check_code_finds_codes_of_every_flag() {
    let t = test_app();
    let login = code_for(&t, "c@x.com", "c@x.com", "login").await;
    let reset = code_for(&t, "c@x.com", "c@x.com", "reset-password").await;
    for code in [&login, &reset] {
        let r = post(
            &t,
            "check-code",
            json!({"account": "c@x.com", "code": code}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.json["code"], json!(code));
    }
    // Nothing outstanding for another account.
    let r = post(
        &t,
        "check-code",
        json!({"account": "d@x.com", "code": login}),
    )
    .await;
    assert_exact(&r, 404, NO_CODE);
    // A code that matches one flag costs the other flag's code nothing.
    for _ in 0..5 {
        let r = post(
            &t,
            "check-code",
            json!({"account": "c@x.com", "code": login}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
    }
    let body = json!({"account": "c@x.com", "code": reset});
    assert_eq!(post(&t, "check-code", body).await.status, 200);
    // Both codes still do their work.
    let r = post(&t, "login", json!({"account": "c@x.com", "code": login})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let body = json!({"account": "c@x.com", "password": "pass-word-123456", "code": reset});
    let r = post(&t, "reset-password", body).await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn check_code_counts_wrong_codes_and_five_void_it() {
    let t = test_app();
    let code = code_for(&t, MOBILE, E164, "register").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        let r = post(&t, "check-code", json!({"account": MOBILE, "code": wrong})).await;
        assert_exact(&r, 404, NO_CODE);
    }
    assert_eq!(
        post(&t, "check-code", json!({"account": MOBILE, "code": code}))
            .await
            .status,
        200,
        "four wrong tries leave it"
    );
    let r = post(&t, "check-code", json!({"account": MOBILE, "code": wrong})).await;
    assert_exact(&r, 404, NO_CODE);
    let r = post(&t, "check-code", json!({"account": MOBILE, "code": code})).await;
    assert_exact(&r, 404, NO_CODE);
    let r = post(
        &t,
        "register",
        json!({"account": MOBILE, "password": "pass-word-123456", "code": code}),
    )
    .await;
    assert_exact(&r, 400, NO_CODE);
}

#[tokio::test]
async fn check_code_expires_after_ten_minutes() {
    let t = test_app();
    let code = code_for(&t, MOBILE, E164, "login").await;
    t.clock.advance(600);
    let r = post(&t, "check-code", json!({"account": MOBILE, "code": code})).await;
    assert_exact(&r, 404, NO_CODE);
}

#[tokio::test]
async fn check_code_refuses_bad_parameters() {
    let t = test_app();
    assert_required(
        &post(&t, "check-code", json!({"account": MOBILE})).await,
        "code",
    );
    // A code of the wrong shape is a code that does not exist.
    assert_exact(
        &post(&t, "check-code", json!({"account": MOBILE, "code": "12ab"})).await,
        404,
        "验证码不存在或已过期",
    );
    assert_required(
        &post(&t, "check-code", json!({"code": "1234"})).await,
        "account",
    );
    assert_exact(
        &post(&t, "check-code", json!({"account": "bob", "code": "1234"})).await,
        400,
        NOT_CONTACT,
    );
    // A value of the wrong type is the validator's `is required`.
    assert_required(
        &post(&t, "check-code", json!({"account": MOBILE, "code": true})).await,
        "code",
    );
}
