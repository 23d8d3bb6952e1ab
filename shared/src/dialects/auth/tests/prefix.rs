use super::*;

#[tokio::test]
async fn both_seeds_share_the_auth_prefix_by_method() {
    let t = test_app();
    // POST /auth/ is seed 001 (its error envelope), GET /auth/ is seed 004 (code/message).
    let post = t.json("POST", "/auth/", json!({}), &[]).await;
    assert_bad_login_info(&post);
    assert!(post.json.get("message").is_none(), "{}", post.json);
    let get = whoami(&t, None).await;
    assert_fail(&get, 401, "Unauthorized");
    assert!(
        get.json.get("detailed_error_code").is_none() && get.json.get("error_msg").is_none(),
        "{}",
        get.json
    );
    // Other methods are refused, not routed to a dialect.
    let r = t.raw("DELETE", "/auth/", "", "", &[]).await;
    assert_eq!(r.status, 405);
    let r = t.raw("GET", "/auth/login", "", "", &[]).await;
    assert_eq!(r.status, 405);
}
