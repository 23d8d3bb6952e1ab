//! Replays every API Gateway HTTP API (payload 2.0) event in `events/` through its function's
//! handler: lambda_http's request conversion, the function's router, an in-memory store in
//! development mode, a fresh one per event. `events/expected.json` holds each answer's status
//! and the envelope fields that are fixed.

use http_body_util::BodyExt;
use polyauth::{app::App, clock::SystemClock, config::Config, lambda::Function, store::Embedded};
use serde_json::Value;
use std::{collections::BTreeMap, sync::Arc};
use tower::ServiceExt;

#[derive(serde::Deserialize)]
struct Expected {
    function: String,
    status: u16,
    body: serde_json::Map<String, Value>,
}

fn function(name: &str) -> Function {
    Function::ALL
        .into_iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

#[tokio::test]
async fn every_event_answers_as_expected() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let manifest: BTreeMap<String, Expected> =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/expected.json")).unwrap())
            .unwrap();
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".json") && n != "expected.json")
        .collect();
    files.sort();
    assert!(files.len() >= 30, "an event per endpoint");
    assert_eq!(
        files.len(),
        manifest.len(),
        "every event has an expected answer and vice versa"
    );
    for file in files {
        let expected = manifest
            .get(&file)
            .unwrap_or_else(|| panic!("{file} missing from expected.json"));
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        let request =
            lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let clock = Arc::new(SystemClock);
        let app = App::assemble(
            Config::for_tests(),
            Arc::new(Embedded::in_memory(clock.clone())),
            clock,
        );
        let response = function(&expected.function)
            .router(app.auth)
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body: Value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{file}: body is not JSON"));
        assert_eq!(status, expected.status, "{file}: status, body {body}");
        for (k, v) in &expected.body {
            assert_eq!(&body[k], v, "{file}: field {k} of {body}");
        }
    }
}
