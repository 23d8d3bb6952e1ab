//! The local binary itself: persistence across restarts, admin commands, dev outbox, health.

use crate::support::*;

#[tokio::test]
async fn users_created_by_admin_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path()).await;
    server.stop();
    let created = admin_json(
        dir.path(),
        &[
            "create-user",
            "--email",
            "keep@example.com",
            "--password",
            "secret-pass-123",
        ],
    );
    assert_eq!(created["email"], "keep@example.com");
    let server = Server::start_in(dir.path()).await;
    let res = reqwest::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "keep@example.com", "password": "secret-pass-123"}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], 200, "{body}");
    assert_eq!(body["data"]["userId"], created["id"]);
    server.stop();
    let shown = admin_json(dir.path(), &["show", "keep@example.com"]);
    assert_eq!(shown["id"], created["id"]);
    let records = admin_json(dir.path(), &["records", "keep@example.com"]);
    assert_eq!(records.as_array().map(Vec::len), Some(1), "{records}");
}

#[tokio::test]
async fn admin_commands_grant_revoke_disable_and_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    admin_json(
        dir.path(),
        &["create-user", "--email", "adm@example.com", "--name", "Adm"],
    );
    let granted = admin_json(
        dir.path(),
        &["grant", "adm@example.com", "pauli:user:audit"],
    );
    assert_eq!(
        granted["permissions"],
        serde_json::json!(["pauli:user:audit"])
    );
    let revoked = admin_json(
        dir.path(),
        &["revoke", "adm@example.com", "pauli:user:audit"],
    );
    assert_eq!(revoked["permissions"], serde_json::json!([]));
    let disabled = admin_json(dir.path(), &["disable", "adm@example.com"]);
    assert_eq!(disabled["status"], "disabled");
    let bad = admin(dir.path(), &["create-user", "--email", "not-an-email"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("email"));
    let missing = admin(dir.path(), &["show", "nobody@example.com"]);
    assert!(!missing.status.success());
}

#[tokio::test]
async fn admin_commands_run_beside_the_server_with_the_same_output() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_in(data.path()).await;
    let dir = data.path().to_path_buf();
    let made = admin_json(
        &dir,
        &[
            "create-user",
            "--email",
            "op@example.com",
            "--password",
            "op-pass-12",
        ],
    );
    let granted = admin_json(&dir, &["grant", "op@example.com", "pauli:user:audit"]);
    assert_eq!(
        granted["permissions"],
        serde_json::json!(["pauli:user:audit"])
    );
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(
        &mut file,
        b"{\"id\": 70, \"email\": \"imported@example.com\"}\n",
    )
    .unwrap();
    let imported = admin(&dir, &["import", file.path().to_str().unwrap()]);
    assert!(imported.status.success(), "{imported:?}");
    let summary: serde_json::Value = serde_json::from_slice(&imported.stdout).unwrap();
    assert_eq!(summary["imported"], 1, "{summary}");
    assert!(String::from_utf8_lossy(&imported.stderr).contains("imported 1"));
    let refused = admin(&dir, &["show", "nobody@example.com"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not found"));

    // The server's side door takes only the token the server wrote, readable by its owner.
    let token = dir.join("admin.token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let res = reqwest::Client::new()
        .post(server.url("/_admin"))
        .bearer_auth("guessed")
        .json(&serde_json::json!({"args": ["show", "1"], "input": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    drop(res);

    let beside = admin_json(&dir, &["show", "op@example.com"]);
    server.stop();
    assert!(!token.exists(), "the token goes with the server");
    assert_eq!(admin_json(&dir, &["show", "op@example.com"]), beside);
    assert_eq!(beside["id"], made["id"]);
    assert_eq!(
        admin_json(&dir, &["show", "70"])["email"],
        "imported@example.com"
    );
}

#[tokio::test]
async fn outbox_only_in_dev_and_health_always() {
    let server = Server::start().await;
    assert_eq!(
        reqwest::get(server.url("/health")).await.unwrap().status(),
        200
    );
    assert_eq!(server.outbox().await, Vec::<serde_json::Value>::new());
    server.stop();
    let dir = tempfile::tempdir().unwrap();
    // Production refuses the outbox sender altogether; the binary exits with a clear message.
    let out = std::process::Command::new(BIN)
        .env("POLYAUTH_ENV", "prod")
        .env("POLYAUTH_DATA_DIR", dir.path())
        .env(
            "POLYAUTH_JWT_SECRET",
            "a-production-secret-of-sufficient-length-123",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("outbox"));
}
