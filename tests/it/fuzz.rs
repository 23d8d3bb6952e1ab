//! Every dialect's OpenAPI document attacked with generated input: schemathesis (pinned)
//! against the local binary on a fresh embedded store. Any 5xx, any status, header, body or
//! content type outside the document fails; the committed documents must also validate as
//! OpenAPI 3.1 (openapi-spec-validator). The run's figures go to `target/fuzz/summary.txt`,
//! which CI prints.

use crate::support::{moto::tool_venv, Server};
use polyauth::{openapi::file_name, services::Dialect};
use std::{fmt::Write as _, path::Path, process::Command, time::Instant};

const TOOLS: &[&str] = &["schemathesis==4.32.5", "openapi-spec-validator==0.9.0"];

/// Examples per operation and phase: a few minutes for the five documents on two cores.
const EXAMPLES: &str = "60";
/// A fixed seed keeps CI reproducible; run `st` by hand (README) for fresh seeds.
const SEED: &str = "20261201";
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
    response_headers_conformance,response_schema_conformance";

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_answer_outside_the_documents() {
    let bin = tool_venv("fuzz-venv", TOOLS);
    let openapi = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    let files: Vec<_> = Dialect::ALL
        .into_iter()
        .map(|d| openapi.join(file_name(d)))
        .collect();
    let validated = Command::new(bin.join("openapi-spec-validator"))
        .args(["--schema", "3.1"])
        .args(&files)
        .output()
        .expect("openapi-spec-validator runs");
    assert!(
        validated.status.success(),
        "the documents are not valid OpenAPI 3.1:\n{}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );

    // schemathesis keeps a cache of the crashes it found in its working directory, and replays
    // it: under target/, never in the checkout.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../fuzz");
    std::fs::create_dir_all(&dir).expect("target/fuzz");
    let server = Server::start().await;
    let mut summary = String::new();
    let all = Instant::now();
    for dialect in Dialect::ALL {
        let started = Instant::now();
        let url = server.url(&format!("/openapi/{}", file_name(dialect)));
        let bin = bin.clone();
        let base = server.url("");
        let cwd = dir.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(bin.join("st"))
                .current_dir(cwd)
                .args(["run", &url, "--url", &base, "--checks", CHECKS])
                .args(["--max-examples", EXAMPLES, "--seed", SEED])
                .args(["--no-color", "--warnings", "off"])
                .output()
                .expect("schemathesis runs")
        })
        .await
        .expect("the run finishes");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "schemathesis found answers outside the {} document:\n{text}{}",
            dialect.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        let cases = text
            .lines()
            .find(|l| l.contains("generated,"))
            .unwrap_or("")
            .trim()
            .to_string();
        writeln!(
            summary,
            "{:<10} {cases} in {:.1} s",
            dialect.name(),
            started.elapsed().as_secs_f64()
        )
        .unwrap();
    }
    writeln!(
        summary,
        "schemathesis: {} documents, {EXAMPLES} examples per operation and phase, seed {SEED}, {:.1} s in all",
        Dialect::ALL.len(),
        all.elapsed().as_secs_f64()
    )
    .unwrap();
    std::fs::write(dir.join("summary.txt"), &summary).expect("the summary is written");
    server.stop();
}
