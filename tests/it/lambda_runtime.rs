//! Each function binary against a stand-in of the Lambda runtime API: it must start, fetch one
//! invocation, and post a well-formed API Gateway answer. The time from process start to that
//! answer (the cold start, minus the download) is printed; the README reports release figures.

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    routing::{get, post},
    Router,
};
use serde_json::Value;
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, Notify};

#[derive(Clone)]
struct Runtime {
    event: Arc<Mutex<Option<String>>>,
    answers: mpsc::UnboundedSender<(String, String)>,
    parked: Arc<Notify>,
}

async fn next(State(rt): State<Runtime>) -> (HeaderMap, String) {
    let event = rt.event.lock().unwrap().take();
    match event {
        Some(body) => {
            let mut h = HeaderMap::new();
            h.insert("lambda-runtime-aws-request-id", "req-1".parse().unwrap());
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 30_000;
            h.insert(
                "lambda-runtime-deadline-ms",
                deadline.to_string().parse().unwrap(),
            );
            h.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:polyauth"
                    .parse()
                    .unwrap(),
            );
            h.insert(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000".parse().unwrap(),
            );
            (h, body)
        }
        // One invocation only: later polls wait forever, as an idle sandbox would.
        None => {
            rt.parked.notified().await;
            (HeaderMap::new(), String::new())
        }
    }
}

async fn respond(
    State(rt): State<Runtime>,
    Path((id, kind)): Path<(String, String)>,
    body: String,
) -> &'static str {
    let _ = rt.answers.send((format!("{id}/{kind}"), body));
    "{}"
}

async fn init_error(State(rt): State<Runtime>, body: String) -> &'static str {
    let _ = rt.answers.send(("init/error".into(), body));
    "{}"
}

async fn cold_start(binary: &str, event_file: &str) -> (Duration, Value) {
    let event = std::fs::read_to_string(format!(
        "{}/events/{event_file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rt = Runtime {
        event: Arc::new(Mutex::new(Some(event))),
        answers: tx,
        parked: Arc::new(Notify::new()),
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(respond))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "polyauth")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
        .env("POLYAUTH_STORE", "memory")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (what, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("an answer within 20 s")
        .unwrap();
    let elapsed = started.elapsed();
    let _ = child.kill().await;
    assert_eq!(what, "req-1/response", "{body}");
    (elapsed, serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn every_function_starts_and_answers_its_first_invocation() {
    let cases = [
        (
            env!("CARGO_BIN_EXE_polyauth-api-v1"),
            "api-v1-captcha.json",
            200,
        ),
        (env!("CARGO_BIN_EXE_polyauth-v1"), "v1-send-code.json", 200),
        (
            env!("CARGO_BIN_EXE_polyauth-pauli"),
            "pauli-logined-get.json",
            200,
        ),
        (
            env!("CARGO_BIN_EXE_polyauth-auth"),
            "auth-json-create.json",
            200,
        ),
    ];
    // POLYAUTH_FUNCTION_BINS=target/release measures the release binaries (the README's figures).
    let dir = std::env::var("POLYAUTH_FUNCTION_BINS").ok();
    for (binary, event, status) in cases {
        let binary = match &dir {
            Some(d) => format!("{d}/{}", binary.rsplit('/').next().unwrap()),
            None => binary.to_string(),
        };
        let binary = binary.as_str();
        let (elapsed, answer) = cold_start(binary, event).await;
        assert_eq!(answer["statusCode"], status, "{binary}: {answer}");
        let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert!(body.is_object(), "{body}");
        let name = binary.rsplit('/').next().unwrap();
        eprintln!(
            "cold start {name}: {:.1} ms to the first answered invocation",
            elapsed.as_secs_f64() * 1000.0
        );
    }
}
