//! Drives the real local binary: each `Server` runs `polyauth` on a free loopback port with its
//! own data directory, and reads the development outbox over HTTP.
#![allow(dead_code)]

use serde_json::Value;
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_polyauth");

pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn command(data_dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("POLYAUTH_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    c
}

/// Runs an admin subcommand against a data directory (with the server stopped).
pub fn admin(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir)
        .arg("admin")
        .args(args)
        .output()
        .expect("admin command runs")
}

/// The JSON an admin command printed.
pub fn admin_json(data_dir: &Path, args: &[&str]) -> Value {
    let out = admin(data_dir, args);
    assert!(
        out.status.success(),
        "admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("admin prints JSON")
}

impl Server {
    /// A server on a fresh data directory.
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().to_path_buf();
        let mut s = Self::start_in(&path).await;
        s._dir = Some(dir);
        s
    }

    /// A server on an existing data directory (to test persistence).
    pub async fn start_in(data_dir: &Path) -> Server {
        Self::start_with(data_dir, &[]).await
    }

    pub async fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let mut cmd = command(data_dir);
        cmd.env("POLYAUTH_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("polyauth starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
            _dir: None,
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(server.url("/health")).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("polyauth did not answer /health within 5 s");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with a cookie jar, as a browser would have.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client builds")
    }

    pub async fn outbox(&self) -> Vec<Value> {
        reqwest::get(self.url("/_dev/outbox"))
            .await
            .expect("outbox answers")
            .json()
            .await
            .expect("outbox is JSON")
    }

    async fn last_body(&self, to: &str) -> String {
        let entries = self.outbox().await;
        entries
            .iter()
            .rev()
            .find(|e| e["to"] == to)
            .and_then(|e| e["body"].as_str())
            .unwrap_or_else(|| panic!("no message to {to} in the outbox"))
            .to_string()
    }

    /// The six-digit code in the newest message to `to` (an email or an E.164 number).
    pub async fn last_code(&self, to: &str) -> String {
        let body = self.last_body(to).await;
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {body:?}"))
            .to_string()
    }

    /// The reset token in the newest reset link mailed to `to`.
    pub async fn last_reset_token(&self, to: &str) -> String {
        let body = self.last_body(to).await;
        body.split("code=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no reset link in {body:?}"))
            .to_string()
    }

    /// Stops the server gracefully (SIGTERM), so the store closes cleanly.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
