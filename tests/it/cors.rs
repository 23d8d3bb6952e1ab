//! Browser front-ends on another origin: CORS with credentials for the configured origins only,
//! and cookies a cross-site front-end can use.

use crate::support::{self, Deployment, Server};
use reqwest::header::HeaderMap;
use serde_json::json;

const APP: &str = "https://app.example.com";

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn configured_origins_get_credentialed_cors_and_others_nothing() {
    let d = Deployment::local();
    let s = d
        .start_with(&[
            (
                "POLYAUTH_CORS_ORIGINS",
                "https://app.example.com,http://localhost:3000",
            ),
            ("POLYAUTH_COOKIE_SECURE", "1"),
            ("POLYAUTH_COOKIE_SAMESITE", "none"),
        ])
        .await;
    let (email, password) = ("cross@example.com", "saffron-harbor-62");
    support::admin_json(
        &s.data_dir,
        &["create-user", "--email", email, "--password", password],
    );
    let c = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        c.request(reqwest::Method::OPTIONS, s.url("/api/v1/auth/login"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type,authorization",
            )
            .send()
    };
    let ok = preflight(APP).await.expect("answered");
    assert!(ok.status().is_success(), "{}", ok.status());
    let h = ok.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some(APP));
    assert_eq!(header(h, "access-control-allow-credentials"), Some("true"));
    let methods = header(h, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = header(h, "access-control-allow-headers").unwrap_or_default();
    assert!(allowed.contains("authorization"), "{allowed}");

    let other = preflight("https://evil.example.com")
        .await
        .expect("answered");
    assert_eq!(header(other.headers(), "access-control-allow-origin"), None);

    // The real call: the origin is echoed (never `*`), the token header is readable, and the
    // refresh cookie is one a cross-site front-end keeps (SameSite=None; Secure).
    let r = c
        .post(s.url("/api/v1/auth/login"))
        .header("Origin", APP)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("answered");
    let h = r.headers();
    let cookie = header(h, "set-cookie").unwrap_or_default();
    assert!(cookie.starts_with("refresh_token="), "{cookie}");
    assert!(
        cookie.contains("SameSite=None") && cookie.contains("Secure"),
        "{cookie}"
    );
    assert_eq!(header(h, "access-control-allow-origin"), Some(APP));
    assert_eq!(header(h, "access-control-allow-credentials"), Some("true"));
    let exposed = header(h, "access-control-expose-headers").unwrap_or_default();
    assert!(exposed.contains("authorization"), "{exposed}");
}

#[tokio::test]
async fn without_origins_there_are_no_cors_headers() {
    let s = Server::start().await;
    let r = reqwest::Client::new()
        .post(s.url("/api/v1/auth/login"))
        .header("Origin", APP)
        .json(&json!({"email": "nobody@example.com", "password": "wrong-pass-00"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(header(r.headers(), "access-control-allow-origin"), None);
}
