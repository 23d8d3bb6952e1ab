use super::*;
use crate::app::testing::{cookie_attributes, set_cookie};

/// `POST logout` with an optional `Authorization` value.
async fn logout(t: &TestApp, authorization: Option<&str>, body: Value) -> Reply {
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    t.json("POST", &format!("{P}/logout"), body, &headers).await
}

#[tokio::test]
async fn logout_voids_refresh_and_access_and_clears_cookie() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let refresh = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let r = logout(&t, Some(&access), json!({"refreshToken": refresh})).await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(""));
    assert!(
        t.app.auth.authenticate(&access).await.is_err(),
        "access token stops at once"
    );
    let r = post(&t, "/updateToken", json!({"refreshToken": refresh})).await;
    assert_answer(&r, 2000, "token验证失败");
    let r = logout(&t, Some(&access), json!({"refreshToken": refresh})).await;
    // A dead token cannot log out again.
    assert_answer(&r, 2000, "token验证失败");
}

#[tokio::test]
async fn logout_checks_the_access_token_then_needs_a_known_refresh_token() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let refresh = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let body = json!({"refreshToken": refresh});
    // Without an access token the refresh token decides: none is bad parameters, an unknown
    // one 2000 (the original's logout needed no `Authorization`).
    assert_refused(&logout(&t, None, json!({})).await, "请求参数有误");
    let r = logout(&t, None, json!({"refreshToken": "nope.nope"})).await;
    assert_answer(&r, 2000, "token验证失败");
    // No refresh token in the body or a cookie.
    let r = logout(&t, Some(&access), json!({})).await;
    assert_refused(&r, "请求参数有误");
    // An unknown one ends nothing.
    let r = logout(&t, Some(&access), json!({"refreshToken": "nope.nope"})).await;
    assert_answer(&r, 2000, "token验证失败");
    assert!(t.app.auth.authenticate(&access).await.is_ok());
    // An access token not of ours: 2000, on which the client signs out; the refresh token it
    // sent is void all the same, and the cookie cleared.
    let r = logout(&t, Some("garbage"), body.clone()).await;
    assert_answer(&r, 2000, "token验证失败");
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(""));
    let r = post(&t, "/updateToken", body.clone()).await;
    assert_answer(&r, 2000, "token验证失败");
    // An expired access token: 3000 `TOKEN过期` (the original's clients refresh and retry),
    // and still the refresh token is void: the retry's refresh signs the client out.
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let data = assert_ok(&r).clone();
    t.clock.advance(3600);
    let access = data["token"].as_str().unwrap();
    let refresh = data["refreshToken"].as_str().unwrap();
    let r = logout(&t, Some(access), json!({"refreshToken": refresh})).await;
    assert_answer(&r, 3000, "TOKEN过期");
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(""));
    let cookie = format!("refresh_token={refresh}");
    let r = t
        .json(
            "POST",
            &format!("{P}/updateToken"),
            json!({}),
            &[("cookie", &cookie)],
        )
        .await;
    assert_answer(&r, 2000, "token验证失败");
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let data = assert_ok(&r).clone();
    // `Bearer <token>` is accepted too, and the refresh token may come from the cookie.
    let bearer = format!("Bearer {}", data["token"].as_str().unwrap());
    let cookie = format!("refresh_token={}", data["refreshToken"].as_str().unwrap());
    let r = t
        .json(
            "POST",
            &format!("{P}/logout"),
            json!({}),
            &[("authorization", &bearer), ("cookie", &cookie)],
        )
        .await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(""));
    assert_eq!(set_cookie(&r, "user_id").as_deref(), Some(""));
    let cleared = cookie_attributes(&r, "user_id");
    assert!(
        cleared.contains(&"Path=/".into()) && cleared.contains(&"Max-Age=0".into()),
        "{cleared:?}"
    );
    // A refresh token alone logs out too.
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let refresh = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let r = logout(&t, None, json!({"refreshToken": refresh})).await;
    assert_eq!(r.json, json!({"code": 200, "data": null, "msg": "ok"}));
    let r = post(&t, "/updateToken", json!({"refreshToken": refresh})).await;
    assert_answer(&r, 2000, "token验证失败");
}

/// The original trimmed only a `Bearer ` from the header: a token under any other scheme is a
/// token that does not verify (2000), never a header ignored. The refresh token is void all
/// the same, as with any other access token refused.
#[tokio::test]
async fn logout_with_another_scheme_is_a_token_that_does_not_verify() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let access = r.json["data"]["token"].as_str().unwrap().to_string();
    let refresh = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let other_scheme = format!("Token {access}");
    let r = logout(&t, Some(&other_scheme), json!({"refreshToken": refresh})).await;
    assert_answer(&r, 2000, "token验证失败");
    let r = logout(
        &t,
        Some(&format!("Bearer {access}")),
        json!({"refreshToken": refresh}),
    )
    .await;
    assert_answer(&r, 2000, "token验证失败");
}
