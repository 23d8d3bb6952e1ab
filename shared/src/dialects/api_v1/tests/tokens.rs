use super::*;
use crate::app::testing::set_cookie;

#[tokio::test]
async fn update_token_rotates_and_detects_reuse() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let first = r.json["data"]["refreshToken"].as_str().unwrap().to_string();
    let r = post(&t, "/updateToken", json!({"refreshToken": first})).await;
    let data = assert_ok(&r);
    let second = data["refreshToken"].as_str().unwrap().to_string();
    let access = data["token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert!(data["userId"].as_u64().is_some());
    assert_eq!(set_cookie(&r, "refresh_token").as_deref(), Some(&*second));
    t.clock.advance(30);
    let r = post(&t, "/updateToken", json!({"refreshToken": first})).await;
    // Reuse detected.
    assert_answer(&r, 2000, "token验证失败");
    let r = post(&t, "/updateToken", json!({"refreshToken": second})).await;
    // Reuse revoked the newer token too.
    assert_answer(&r, 2000, "token验证失败");
    assert!(t.app.auth.authenticate(&access).await.is_err());
    let r = post(&t, "/updateToken", json!({"refreshToken": "garbage"})).await;
    assert_answer(&r, 2000, "token验证失败");
    // No refresh token at all is a failure too: 2000 signs the client out, where 3000 would
    // send it to refresh the refresh.
    let r = post(&t, "/updateToken", json!({})).await;
    assert_answer(&r, 2000, "token验证失败");
}

#[tokio::test]
async fn update_token_reads_the_cookie_when_the_body_has_none() {
    let t = test_app();
    registered(&t, "a@x.com", "secret-pass-1").await;
    let r = login(&t, "a@x.com", "secret-pass-1").await;
    let cookie = format!("refresh_token={}", set_cookie(&r, "refresh_token").unwrap());
    let r = t
        .json(
            "POST",
            &format!("{P}/updateToken"),
            json!({}),
            &[("cookie", &cookie)],
        )
        .await;
    let data = assert_ok(&r);
    assert_eq!(
        set_cookie(&r, "refresh_token").as_deref(),
        data["refreshToken"].as_str(),
        "the rotated token replaces the cookie"
    );
    assert_eq!(set_cookie(&r, "user_id"), Some(data["userId"].to_string()));
}
