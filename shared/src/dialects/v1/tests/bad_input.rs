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
