use super::*;
use crate::services::testing::{Down, Harness};
use std::sync::Arc;

#[tokio::test]
async fn an_unreachable_sender_is_503_and_the_next_try_is_not_a_resend() {
    let t = Harness::builder().sender(Arc::new(Down)).build();
    let router = super::super::router(t.auth);
    for _ in 0..2 {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/v1/auth/send-code")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"account": MOBILE, "flag": "register"}).to_string(),
            ))
            .unwrap();
        let res = tower::ServiceExt::oneshot(router.clone(), req)
            .await
            .unwrap();
        assert_eq!(res.status(), 503);
        let bytes = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(
            body["error"].as_str().unwrap().starts_with("服务暂不可用"),
            "{body}"
        );
    }
}
