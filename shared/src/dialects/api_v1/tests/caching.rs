use super::*;

#[tokio::test]
async fn answers_that_carry_tokens_or_profiles_are_never_cached() {
    let t = test_app();
    registered(&t, "cache@x.com", "secret-pass-1").await;
    let r = login(&t, "cache@x.com", "secret-pass-1").await;
    assert_eq!(r.headers["cache-control"], "no-store");
    let r = t.raw("GET", "/pauli/auth/api/logined", "", "", &[]).await;
    assert_eq!(r.headers["cache-control"], "no-store");
    let r = t.raw("GET", "/nowhere", "", "", &[]).await;
    assert_eq!(r.headers["cache-control"], "no-store");
}
