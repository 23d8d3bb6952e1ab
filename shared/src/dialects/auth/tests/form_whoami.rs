use super::*;
use crate::dialects::auth::form::DEFAULT_EXPIRATION;

#[tokio::test]
async fn whoami_needs_a_valid_token() {
    let t = test_app();
    let id = register(&t, "whoisit", "pass-word-1").await.json["data"]["id"]
        .as_u64()
        .unwrap();
    let token =
        header_token(&login_004(&t, &[("username", "whoisit"), ("password", "pass-word-1")]).await);

    for authorization in [token.clone(), bearer(&token)] {
        let r = whoami(&t, Some(&authorization)).await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(
            r.json,
            json!({"code": 200, "message": "Success", "data": {"id": id, "username": "whoisit"}})
        );
    }
    let r = t
        .raw("GET", "/auth", "", "", &[("authorization", &token)])
        .await;
    assert_eq!(r.json["data"]["id"], id);

    // No header, or another scheme: not authenticated.
    assert_fail(&whoami(&t, None).await, 401, "Unauthorized");
    assert_fail(
        &whoami(&t, Some(&format!("Basic {token}"))).await,
        401,
        "Unauthorized",
    );
    // A token that is not ours.
    assert_fail(
        &whoami(&t, Some("garbage")).await,
        401,
        "Token Bad Signature",
    );
    // Another signature: flip one character in the middle of it.
    let at = token.rfind('.').unwrap() + 10;
    let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);
    assert_fail(
        &whoami(&t, Some(&tampered)).await,
        401,
        "Token Bad Signature",
    );
    t.clock.advance(DEFAULT_EXPIRATION);
    assert_fail(&whoami(&t, Some(&token)).await, 401, "Token Expired");
}
