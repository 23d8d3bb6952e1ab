use super::*;

#[tokio::test]
async fn malformed_bodies_are_bad_parameters_never_500() {
    let t = test_app();
    for path in [
        "login",
        "register",
        "reset-password",
        "send-code",
        "check-code",
    ] {
        let uri = format!("/v1/auth/{path}");
        let r = t
            .raw("POST", &uri, "application/json", "{not json", &[])
            .await;
        assert_required(&r, "body");
        let r = t.raw("POST", &uri, "application/json", "[1, 2]", &[]).await;
        assert_required(&r, "body");
        let r = t.raw("POST", &uri, "application/json", "", &[]).await;
        assert_required(&r, "account");
        let r = t.raw("POST", &uri, "", "\u{0}\u{1}", &[]).await;
        assert_required(&r, "body");
    }
}

/// The original's router answered what it did not route: a wrong method or an unknown path
/// under `/v1/` 400 `router 404`, `OPTIONS` 200 with the JSON `""`. Other paths keep the 404.
#[tokio::test]
async fn unrouted_methods_and_paths_get_the_original_catch_all() {
    let t = test_app();
    for (method, uri) in [
        ("GET", "/v1/auth/login"),
        ("PUT", "/v1/auth/send-code"),
        ("POST", "/v1/auth/nope"),
        ("GET", "/v1/articles"),
        ("GET", "/v1"),
    ] {
        let r = t.raw(method, uri, "", "", &[]).await;
        assert_exact(&r, 400, "router 404");
    }
    let r = t.raw("OPTIONS", "/v1/auth/login", "", "", &[]).await;
    assert_eq!((r.status, &r.json), (200, &json!("")));
    let r = t.raw("GET", "/nowhere", "", "", &[]).await;
    assert_eq!((r.status, &r.json), (404, &json!({"error": "not found"})));
}

/// An account over every identifier's size limit gets the bad-parameters answer (API-NOTES,
/// "Sizes"), on `send-code` too, not the answer for an account of the wrong kind.
#[tokio::test]
async fn an_over_long_account_is_a_bad_parameter() {
    let t = test_app();
    let over = format!("{}@example.com", "a".repeat(250));
    for (path, extra) in [
        ("login", json!({"password": "secret-pass-1"})),
        ("send-code", json!({"flag": "register"})),
        ("check-code", json!({"code": "123456"})),
        (
            "register",
            json!({"code": "123456", "password": "secret-pass-1"}),
        ),
    ] {
        let mut body = extra;
        body["account"] = json!(over);
        assert_required(&post(&t, path, body).await, "account");
    }
}

/// Express's default routing, which the original kept: a trailing slash or another letter case
/// reaches the same route, the query string with it; an unknown path stays unknown.
#[tokio::test]
async fn paths_match_as_express_matched_them() {
    let t = test_app();
    let body = json!({"account": "13312341234", "password": "not-the-one-1"});
    for uri in ["/v1/auth/login/", "/V1/Auth/LOGIN", "/v1/AUTH/login/?x=1"] {
        let r = t.json("POST", uri, body.clone(), &[]).await;
        assert_exact(&r, 400, WRONG);
    }
    let r = t.raw("POST", "/v1/auth/nope/", "", "", &[]).await;
    assert_exact(&r, 400, "router 404");
    let r = t.raw("GET", "/V1/auth/login/", "", "", &[]).await;
    assert_exact(&r, 400, "router 404");
    // Other dialects keep their exact paths.
    let r = t.raw("GET", "/Auth/", "", "", &[]).await;
    assert_eq!(r.status, 404);
}
