//! Each function binary against a stand-in of the Lambda runtime API: it must start, fetch one
//! invocation, and post a well-formed API Gateway answer. The time from process start to that
//! answer (the cold start, minus the download) is printed; the README reports release figures.
//! The functions run against moto's DynamoDB and SES, as they run against AWS's.

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

async fn cold_start(binary: &str, event_file: &str, env: &[(String, String)]) -> (Duration, Value) {
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
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
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

/// Each function binary with an event of its group and the status it answers.
const CASES: [(&str, &str, u16); 4] = [
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

/// Each function with a first request that does no store or hashing work of its own: the
/// cold start itself (start, configuration, secrets, clients) to a first answer.
const STORE_FREE: [(&str, &str, u16); 4] = [
    (
        env!("CARGO_BIN_EXE_polyauth-api-v1"),
        "api-v1-openid-configuration.json",
        200,
    ),
    (env!("CARGO_BIN_EXE_polyauth-v1"), "v1-unrouted.json", 400),
    (
        env!("CARGO_BIN_EXE_polyauth-pauli"),
        "pauli-pass-create-post.json",
        200,
    ),
    (
        env!("CARGO_BIN_EXE_polyauth-auth"),
        "auth-form-whoami.json",
        401,
    ),
];

/// A root secret in moto's Secrets Manager, as the template makes one: the function reads it
/// at cold start, as on AWS. Its ARN.
async fn root_secret(env: &[(String, String)]) -> String {
    let endpoint = env
        .iter()
        .find(|(k, _)| k == "AWS_ENDPOINT_URL")
        .map(|(_, v)| v.clone())
        .unwrap();
    let name = format!("polyauth-root-{}", std::process::id());
    let created: Value = reqwest::Client::new()
        .post(endpoint)
        .header("x-amz-target", "secretsmanager.CreateSecret")
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/secretsmanager/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .body(
            serde_json::json!({"Name": name, "SecretString": "a-root-secret-of-more-than-32-bytes!"})
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["ARN"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_function_starts_and_answers_its_first_invocation() {
    // A function stores in DynamoDB (it links no embedded store): moto's, here.
    let aws = crate::support::Aws::new().await;
    let mut env = aws.env.clone();
    env.push(("POLYAUTH_JWT_SECRET_ARN".into(), root_secret(&env).await));
    // POLYAUTH_FUNCTION_BINS=target/release measures the release binaries (the README's figures).
    let dir = std::env::var("POLYAUTH_FUNCTION_BINS").ok();
    for (label, cases) in [("", CASES), (" (store-free first request)", STORE_FREE)] {
        first_invocations(&env, dir.as_deref(), label, cases).await;
    }
}

async fn first_invocations(
    env: &[(String, String)],
    dir: Option<&str>,
    label: &str,
    cases: [(&str, &str, u16); 4],
) {
    for (binary, event, status) in cases {
        let binary = match dir {
            Some(d) => format!("{d}/{}", binary.rsplit('/').next().unwrap()),
            None => binary.to_string(),
        };
        let binary = binary.as_str();
        let (elapsed, answer) = cold_start(binary, event, env).await;
        assert_eq!(answer["statusCode"], status, "{binary}: {answer}");
        let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert!(body.is_object(), "{body}");
        let name = binary.rsplit('/').next().unwrap();
        eprintln!(
            "cold start{label} {name}: {:.1} ms to the first answered invocation",
            elapsed.as_secs_f64() * 1000.0
        );
    }
}

/// The README's local invocation without Docker: `cargo lambda watch` as the runtime API (with
/// `--only-lambda-apis`, the function binaries are the ones cargo built for this test) and
/// `cargo lambda invoke` with the `events/` files. Needs cargo-lambda on PATH (`.ci/run`
/// installs it); without it the check is skipped and says so.
#[tokio::test]
async fn cargo_lambda_watch_and_invoke_run_each_function() {
    let Some(cargo_lambda) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("cargo-lambda"))
            .find(|p| p.is_file())
    }) else {
        eprintln!(
            "SKIPPED cargo_lambda_watch_and_invoke_run_each_function: cargo-lambda is not on \
             PATH (pip install cargo-lambda==1.9.2)"
        );
        return;
    };
    let aws = crate::support::Aws::new().await;
    let port = crate::support::free_port().to_string();
    let root = env!("CARGO_MANIFEST_DIR");
    let _watch = tokio::process::Command::new(&cargo_lambda)
        .args(["lambda", "watch", "--only-lambda-apis", "-P", &port])
        .arg("--manifest-path")
        .arg(format!("{root}/Cargo.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("cargo lambda watch starts");
    let reachable = || std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_ok();
    let started = Instant::now();
    while !reachable() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "cargo lambda watch did not listen"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (binary, event, status) in CASES {
        let name = binary.rsplit('/').next().unwrap();
        let mut function = tokio::process::Command::new(binary)
            .env_clear()
            .envs(aws.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/{name}"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let invoke = tokio::process::Command::new(&cargo_lambda)
            .args(["lambda", "invoke", name, "-P", &port, "-o", "json", "-F"])
            .arg(format!("{root}/events/{event}"))
            .output();
        let out = tokio::time::timeout(Duration::from_secs(30), invoke)
            .await
            .expect("invoked within 30 s")
            .expect("cargo lambda invoke runs");
        let _ = function.kill().await;
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answer: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        assert_eq!(answer["statusCode"], status, "{name}: {answer}");
    }
}
