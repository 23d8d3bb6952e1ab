use super::*;

/// A body that cannot be read, or a missing field.
fn assert_param_error(r: &Reply) {
    assert_fail(r, 400, "Request Form Data Param Error");
}

#[tokio::test]
async fn bad_form_bodies_are_param_errors_and_never_fail_inside() {
    let t = test_app();
    assert_param_error(&form(&t, "/auth/register", &[("username", "someone")], &[]).await);
    assert_param_error(&form(&t, "/auth/login", &[("password", "pass-word-1")], &[]).await);
    assert_param_error(&multipart(&t, "/auth/login", &[("username", "someone")], &[]).await);
    assert_param_error(&t.raw("POST", "/auth/register", "", "", &[]).await);

    // Malformed multipart bodies: a 400 in the envelope, never a 500.
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    for (content_type, body) in [
        (ct.as_str(), format!("--{BOUNDARY}\r\ngarbage")),
        (ct.as_str(), "no boundary anywhere".to_string()),
        (
            "multipart/form-data",
            multipart_body(&[("username", "someone"), ("password", "pass-word-1")]),
        ),
        (
            ct.as_str(),
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nabc"),
        ),
    ] {
        for uri in ["/auth/login", "/auth/register"] {
            let r = t.raw("POST", uri, content_type, &body, &[]).await;
            assert_eq!(r.status, 400, "{uri} {content_type} {body:?}: {}", r.json);
            assert_param_error(&r);
        }
    }
    // Not form data at all.
    let r = t
        .raw("POST", "/auth/login", URLENCODED, "%%%=&&=%", &[])
        .await;
    assert_param_error(&r);
}

/// A method seed 004's routes do not take: the original's 405 in its envelope (its error
/// forward), with `Allow`; seed 001's routes keep their plain 405.
#[tokio::test]
async fn wrong_methods_on_seed_004_routes_answer_in_its_envelope() {
    let t = test_app();
    for uri in ["/auth/login", "/auth/register", "/auth/logout"] {
        let r = t.raw("GET", uri, "", "", &[]).await;
        assert_fail(
            &r,
            405,
            "405 Method Not Allowed: The method is not allowed for the requested URL.",
        );
        assert_eq!(r.headers.get("allow").unwrap(), "POST");
        // Flask answered `OPTIONS` itself on every route: 200, empty, with `Allow`.
        let r = t.raw("OPTIONS", uri, "", "", &[]).await;
        assert_eq!((r.status, r.text.as_str()), (200, ""));
        assert_eq!(r.headers.get("allow").unwrap(), "POST");
    }
    let r = t.raw("GET", "/auth/create", "", "", &[]).await;
    assert_eq!(r.status, 405);
}

/// A path under `/auth` that no route takes (a trailing slash on a seed 004 route, a typo):
/// the original's 404 in its envelope, which the Android app's error handler reads; paths
/// outside every dialect keep the plain JSON 404.
#[tokio::test]
async fn unknown_paths_under_auth_answer_seed_004s_404() {
    let t = test_app();
    for (method, uri) in [
        ("POST", "/auth/logout/"),
        ("GET", "/auth/nope"),
        ("POST", "/auth/captcha"),
    ] {
        let r = t.raw(method, uri, "", "", &[]).await;
        assert_fail(
            &r,
            404,
            "404 Not Found: The requested URL was not found on the server. If you entered the \
             URL manually please check your spelling and try again.",
        );
    }
    let r = t.raw("GET", "/authx", "", "", &[]).await;
    assert_eq!((r.status, &r.json), (404, &json!({"error": "not found"})));
}
