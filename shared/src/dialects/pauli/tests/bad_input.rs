use super::*;

#[tokio::test]
async fn malformed_bodies_are_e_param_naming_the_field() {
    let t = test_app();
    let json_ct = "application/json";
    let cases = [
        ("PUT", "/pass/login", "{not json", "body"),
        ("PUT", "/pass/login", "[1, 2]", "body"),
        (
            "PUT",
            "/pass/login",
            r#"{"username": "a@b.co"}"#,
            "password",
        ),
        (
            "PUT",
            "/pass/login",
            r#"{"username": 1, "password": "x"}"#,
            "username",
        ),
        ("PUT", "/pass/login", "", "username"),
        ("POST", "/pass/code", r#"{"code": 123456}"#, "code"),
        ("POST", "/pass/code", "{}", "code"),
        ("PUT", "/pass/reset", r#"{"code": true}"#, "code"),
        (
            "POST",
            "/pass/reset",
            r#"{"code": "x", "password": 5}"#,
            "password",
        ),
        ("POST", "/pass/reset", "nope", "body"),
    ];
    for (method, path, body, field) in cases {
        let r = t.raw(method, &url(path), json_ct, body, &[]).await;
        assert_eq!(
            r.json,
            json!({"code": 1, "msg": "参数错误", "result": {"field": field}}),
            "{method} {path} {body}"
        );
        assert_param(&r, field);
    }
}
