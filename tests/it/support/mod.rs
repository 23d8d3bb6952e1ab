//! Drives the real local binary: each `Server` runs `polyauth` on a free loopback port with its
//! own data directory, and reads the development outbox over HTTP. `Server::start_aws` runs it
//! on the AWS adapters instead (DynamoDB, SES v2, SNS) against moto, and reads what was sent
//! back from moto.
#![allow(dead_code)]

pub mod moto;

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
    /// Set when the server runs on the AWS adapters against moto.
    pub aws: Option<Aws>,
}

/// One deployment on moto: its own DynamoDB table and its own verified sender address (so
/// servers of parallel tests never read each other's mail).
#[derive(Clone)]
pub struct Aws {
    pub table: String,
    pub from: String,
    pub env: Vec<(String, String)>,
    /// SMS sent before this deployment existed are not its own.
    sms_before: usize,
    data_dir: PathBuf,
}

impl Aws {
    /// A fresh table (made by the binary's `admin create-table`) and a verified sender.
    pub async fn new() -> Aws {
        let moto = moto::moto();
        let table = moto::fresh_name("polyauth");
        let from = format!("{table}@example.com");
        moto.verify_email(&from).await;
        let mut env = moto.env();
        env.extend(
            [
                ("POLYAUTH_STORE", "dynamodb"),
                ("POLYAUTH_TABLE", table.as_str()),
                ("POLYAUTH_SENDER", "aws"),
                ("POLYAUTH_EMAIL_FROM", from.as_str()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let aws = Aws {
            table,
            from,
            env,
            sms_before: moto.sms().await.len(),
            data_dir: std::env::temp_dir(),
        };
        let created = aws.admin_json(&["create-table"]);
        assert_eq!(created["created"], true, "{created}");
        aws
    }

    /// Runs an admin subcommand against this deployment (the server may be running).
    pub fn admin(&self, args: &[&str]) -> Output {
        let mut c = command(&self.data_dir);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c.arg("admin")
            .args(args)
            .output()
            .expect("admin command runs")
    }

    /// The JSON an admin command printed.
    pub fn admin_json(&self, args: &[&str]) -> Value {
        let out = self.admin(args);
        assert!(
            out.status.success(),
            "admin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("admin prints JSON")
    }

    /// What this deployment sent, in the development outbox's shape. Email is told apart by
    /// its sender address; SMS only by time (sent since the deployment was made), so tests
    /// running at once should text different numbers.
    pub async fn sent(&self) -> Vec<Value> {
        let moto = moto::moto();
        let mails = moto
            .emails()
            .await
            .into_iter()
            .filter(|m| m.from == self.from);
        let mut out: Vec<Value> = mails
            .flat_map(|m| {
                let body = m.text();
                m.to.iter()
                    .map(|to| serde_json::json!({"channel": "email", "to": to, "subject": m.subject, "body": body}))
                    .collect::<Vec<_>>()
            })
            .collect();
        let sms = moto.sms().await.into_iter().skip(self.sms_before);
        out.extend(sms.map(
            |m| serde_json::json!({"channel": "sms", "to": m.to, "subject": "", "body": m.body}),
        ));
        out
    }

    /// The body of the newest message to `to` (an email address or an E.164 number).
    async fn last_body(&self, to: &str) -> Option<String> {
        let moto = moto::moto();
        if to.contains('@') {
            let mails = moto.emails().await;
            mails
                .iter()
                .rev()
                .find(|m| m.from == self.from && m.to.iter().any(|t| t == to))
                .map(|m| m.text())
        } else {
            let sms = moto.sms().await;
            sms.iter()
                .skip(self.sms_before)
                .rev()
                .find(|m| m.to == to)
                .map(|m| m.body.clone())
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Limits no suite reaches by accident.
pub const GENEROUS_LIMITS: [(&str, &str); 6] = [
    ("POLYAUTH_LIMIT_ATTEMPTS", "100000/60"),
    ("POLYAUTH_LIMIT_SENDS", "100000/60"),
    ("POLYAUTH_LIMIT_CAPTCHAS", "100000/60"),
    ("POLYAUTH_LIMIT_REGISTRATIONS", "100000/60"),
    ("POLYAUTH_SMS_DAILY_BUDGET", "1000000"),
    ("POLYAUTH_EMAIL_DAILY_BUDGET", "1000000"),
];

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

/// Where a test's servers keep their users: a local data directory (embedded store, dev
/// outbox) or a moto deployment (DynamoDB, SES v2, SNS). A journey written against this runs
/// on either; `start` may be called again after a `stop` (a restart on the same data).
pub enum Deployment {
    Local(tempfile::TempDir),
    Aws(Aws),
}

impl Deployment {
    pub fn local() -> Deployment {
        Deployment::Local(tempfile::tempdir().expect("temp dir"))
    }

    pub async fn aws() -> Deployment {
        Deployment::Aws(Aws::new().await)
    }

    pub async fn start(&self) -> Server {
        self.start_with(&[]).await
    }

    /// A server with extra configuration (a short token lifetime, say).
    pub async fn start_with(&self, env: &[(&str, &str)]) -> Server {
        match self {
            Deployment::Local(dir) => Server::start_with(dir.path(), env).await,
            Deployment::Aws(aws) => Server::start_on_with(aws, env).await,
        }
    }

    /// An admin subcommand (locally, with the server stopped).
    pub fn admin(&self, args: &[&str]) -> Output {
        match self {
            Deployment::Local(dir) => admin(dir.path(), args),
            Deployment::Aws(aws) => aws.admin(args),
        }
    }

    pub fn admin_json(&self, args: &[&str]) -> Value {
        match self {
            Deployment::Local(dir) => admin_json(dir.path(), args),
            Deployment::Aws(aws) => aws.admin_json(args),
        }
    }
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
        Self::start_with_output(data_dir, env, Stdio::null(), Stdio::inherit()).await
    }

    /// A server on a fresh data directory whose standard output (where metric lines go) is
    /// written to the file answered.
    pub async fn start_with_stdout(env: &[(&str, &str)]) -> (Server, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("stdout.log");
        let file = std::fs::File::create(&out).expect("stdout file");
        let data = dir.path().join("data");
        let mut s = Self::start_with_output(&data, env, Stdio::from(file), Stdio::inherit()).await;
        s._dir = Some(dir);
        (s, out)
    }

    /// A server on a fresh data directory whose log (stderr) goes to the file answered.
    pub async fn start_logged(env: &[(&str, &str)]) -> (Server, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("server.log");
        let file = std::fs::File::create(&log).expect("log file");
        let data = dir.path().join("data");
        let mut s = Self::start_with_output(&data, env, Stdio::null(), Stdio::from(file)).await;
        s._dir = Some(dir);
        (s, log)
    }

    async fn start_with_output(
        data_dir: &Path,
        env: &[(&str, &str)],
        stdout: Stdio,
        stderr: Stdio,
    ) -> Server {
        let port = free_port();
        let mut cmd = command(data_dir);
        cmd.env("POLYAUTH_ADDR", format!("127.0.0.1:{port}"))
            .stdout(stdout)
            .stderr(stderr);
        // Every suite shares one address (loopback); suites about limits set their own.
        for (k, v) in GENEROUS_LIMITS {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("polyauth starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
            _dir: None,
            aws: None,
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

    /// A server on DynamoDB + SES v2 + SNS, all on moto, with a fresh table.
    pub async fn start_aws() -> Server {
        Self::start_on(&Aws::new().await).await
    }

    /// A server on an existing moto deployment (to restart, or after admin commands).
    pub async fn start_on(aws: &Aws) -> Server {
        Self::start_on_with(aws, &[]).await
    }

    pub async fn start_on_with(aws: &Aws, extra: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env: Vec<(&str, &str)> = aws
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.extend_from_slice(extra);
        let mut s = Self::start_with(dir.path(), &env).await;
        s._dir = Some(dir);
        s.aws = Some(aws.clone());
        s
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

    /// The development outbox; on moto, what this server sent through SES and SNS, in the
    /// outbox's shape (`channel`, `to`, `subject`, `body`), oldest first, emails before SMS.
    pub async fn outbox(&self) -> Vec<Value> {
        if let Some(aws) = &self.aws {
            return aws.sent().await;
        }
        reqwest::get(self.url("/_dev/outbox"))
            .await
            .expect("outbox answers")
            .json()
            .await
            .expect("outbox is JSON")
    }

    async fn last_body(&self, to: &str) -> String {
        if let Some(aws) = &self.aws {
            return aws
                .last_body(to)
                .await
                .unwrap_or_else(|| panic!("moto holds no message to {to} from this server"));
        }
        let entries = self.outbox().await;
        entries
            .iter()
            .rev()
            .find(|e| e["to"] == to)
            .and_then(|e| e["body"].as_str())
            .unwrap_or_else(|| panic!("no message to {to} in the outbox"))
            .to_string()
    }

    /// The answer of the newest rendering of captcha `id`: from the development outbox
    /// locally; on moto (where no sender reveals it) from the challenge's item in the table,
    /// as only a test with the table's credentials can.
    pub async fn captcha_answer(&self, id: &str) -> i64 {
        if let Some(aws) = &self.aws {
            use polyauth::store::{Dynamo, Key, Store};
            let clock: std::sync::Arc<dyn polyauth::clock::Clock> =
                std::sync::Arc::new(polyauth::clock::SystemClock);
            let store = Dynamo::new(&moto::moto().sdk().await, &aws.table, clock);
            let item = store
                .get(&Key::new(format!("CAPTCHA#{id}"), "CAPTCHA"))
                .await
                .expect("moto answers")
                .expect("the challenge exists");
            return item.attrs["x"].as_i64().expect("a live rendering");
        }
        let entries = self.outbox().await;
        let entry = entries
            .iter()
            .rev()
            .find(|e| e["channel"] == "captcha" && e["to"] == id)
            .expect("the outbox has the answer");
        entry["body"].as_str().unwrap().parse().unwrap()
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
