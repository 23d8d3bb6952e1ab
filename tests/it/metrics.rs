//! The embedded-metric-format lines a running server writes: what CloudWatch turns into the
//! metrics the template's alarms watch.

use crate::support::Server;
use serde_json::{json, Value};
use std::path::Path;

async fn form(s: &Server, path: &str, fields: &[(&str, &str)]) -> Value {
    reqwest::Client::new()
        .post(s.url(path))
        .form(fields)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON")
}

fn metric_lines(stdout: &Path) -> Vec<Value> {
    std::fs::read_to_string(stdout)
        .expect("stdout readable")
        .lines()
        // The local server also says where it listens.
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// The one metric a line counts, after checking the line is well-formed EMF: its name, and
/// its dimensions with their values.
fn decode(line: &Value) -> (String, Vec<(String, String)>) {
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Polyauth", "{line}");
    assert!(line["_aws"]["Timestamp"].as_u64().is_some(), "{line}");
    let name = directive["Metrics"][0]["Name"]
        .as_str()
        .expect("a metric name")
        .to_string();
    assert_eq!(directive["Metrics"][0]["Unit"], "Count", "{line}");
    assert_eq!(line[&name], 1, "{line}");
    let sets = directive["Dimensions"].as_array().expect("dimension sets");
    assert_eq!(sets.last(), Some(&json!([])), "a total too: {line}");
    let dims = sets[0]
        .as_array()
        .expect("a set")
        .iter()
        .map(|d| {
            let d = d.as_str().expect("a dimension name");
            (
                d.to_string(),
                line[d].as_str().expect("its value").to_string(),
            )
        })
        .collect();
    (name, dims)
}

#[tokio::test]
async fn a_login_writes_metric_lines_with_their_dimensions() {
    let (s, stdout) = Server::start_with_stdout(&[("POLYAUTH_METRICS", "emf")]).await;
    let (user, password) = ("metered", "quartz-meadow-41");
    let b = form(
        &s,
        "/auth/register",
        &[("username", user), ("password", password)],
    )
    .await;
    assert_eq!(b["code"], 200, "{b}");
    let b = form(
        &s,
        "/auth/login",
        &[("username", user), ("password", password)],
    )
    .await;
    assert_eq!(b["code"], 200, "{b}");
    for _ in 0..10 {
        let b = form(
            &s,
            "/auth/login",
            &[("username", user), ("password", "wrong-pass-00")],
        )
        .await;
        assert_eq!(b["code"], 401, "{b}");
    }
    // The eleventh, with the right password, is refused by the lock (seed 004 words it as any
    // failed login): what the Lockout metric counts.
    let b = form(
        &s,
        "/auth/login",
        &[("username", user), ("password", password)],
    )
    .await;
    assert_eq!(b["message"], "Login Failed", "{b}");
    let b: Value = reqwest::Client::new()
        .post(s.url("/v1/auth/send-code"))
        .json(&json!({"account": "metered@example.com", "flag": "register"}))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert!(b.get("error").is_none(), "{b}");

    let seen: Vec<(String, Vec<(String, String)>)> =
        metric_lines(&stdout).iter().map(decode).collect();
    let dialect = vec![("Dialect".to_string(), "auth-form".to_string())];
    let count = |name: &str, dims: &Vec<(String, String)>| {
        seen.iter().filter(|(n, d)| n == name && d == dims).count()
    };
    assert_eq!(count("LoginSucceeded", &dialect), 1, "{seen:?}");
    assert_eq!(count("LoginFailed", &dialect), 10, "{seen:?}");
    assert_eq!(count("Lockout", &dialect), 1, "{seen:?}");
    let email = vec![
        ("Channel".to_string(), "email".to_string()),
        ("Country".to_string(), "none".to_string()),
    ];
    assert_eq!(count("CodeSent", &email), 1, "{seen:?}");

    // Off unless asked for: a local server's stdout stays quiet.
    let (quiet, stdout) = Server::start_with_stdout(&[]).await;
    form(
        &quiet,
        "/auth/login",
        &[("username", "nobody"), ("password", password)],
    )
    .await;
    assert!(metric_lines(&stdout).is_empty());
}
