//! moto's server, emulating DynamoDB, SES v2 and SNS for the AWS tests. The tests provision it
//! themselves: a virtualenv under `target/moto-venv` with a pinned moto (installed once per
//! target directory, under a lock so parallel test binaries do not install at once), and one
//! server per test binary on a free loopback port. The server watches its parent and exits
//! with it, so no test run leaves one behind.
//!
//! moto's DynamoDB is not safe under concurrent requests: `TransactWriteItems` backs up the
//! whole table and restores the backup when a condition fails, undoing writes that other
//! requests made meanwhile. The launcher therefore serves one request at a time (DynamoDB
//! itself guarantees what that gives: atomic, isolated operations).

use serde_json::Value;
use std::{
    fs,
    io::ErrorKind,
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock},
    time::{Duration, Instant, SystemTime},
};

pub const MOTO_VERSION: &str = "5.1.22";
pub const REGION: &str = "us-east-1";

/// Runs moto's WSGI app like `moto_server` does, one request at a time, and exits when the
/// process that started it (argv[3]) is gone.
const LAUNCHER: &str = r#"
import os, sys, threading, time
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

host, port, parent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def watch_parent():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)

threading.Thread(target=watch_parent, daemon=True).start()
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()

def one_at_a_time(environ, start_response):
    with lock:
        return list(app(environ, start_response))

run_simple(host, port, one_at_a_time, threaded=True, use_reloader=False)
"#;

pub struct Moto {
    pub endpoint: String,
    _child: Mutex<Child>,
}

static SERVER: OnceLock<Moto> = OnceLock::new();

/// The moto server of this test binary, started on first use (installing moto the first time).
pub fn moto() -> &'static Moto {
    SERVER.get_or_init(start)
}

/// A name no other test uses (tables, addresses).
pub fn fresh_name(prefix: &str) -> String {
    format!("{prefix}-{}", polyauth::random::id().to_lowercase())
}

fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

fn run(cmd: &mut Command, what: &str) {
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "the AWS tests run moto's server, which needs python3 with venv and pip on PATH \
             (e.g. apt-get install python3 python3-venv): {what} failed: {e}"
        ),
        Err(e) => panic!("{what} failed to start: {e}"),
    };
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Holds `target/moto-venv.lock` (a directory: creating one is atomic) while it lives.
struct InstallLock(PathBuf);

impl InstallLock {
    fn take(path: PathBuf) -> InstallLock {
        let started = Instant::now();
        loop {
            match fs::create_dir(&path) {
                Ok(()) => {
                    let _ = fs::write(path.join("pid"), std::process::id().to_string());
                    return InstallLock(path);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if Self::stale(&path) {
                        let _ = fs::remove_dir_all(&path);
                        continue;
                    }
                    assert!(
                        started.elapsed() < Duration::from_secs(20 * 60),
                        "{} is held for 20 minutes; remove it if no test is installing moto",
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => panic!("cannot create {}: {e}", path.display()),
            }
        }
    }

    /// A lock whose owner is gone (or that never got an owner within a minute).
    fn stale(path: &Path) -> bool {
        let owner = fs::read_to_string(path.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok());
        match owner {
            Some(pid) if Path::new("/proc/self").exists() => {
                !Path::new(&format!("/proc/{pid}")).exists()
            }
            _ => fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| {
                    age > Duration::from_secs(if owner.is_some() { 20 * 60 } else { 60 })
                }),
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The venv's python, with moto installed.
pub fn python() -> PathBuf {
    let venv = target_dir().join("moto-venv");
    let python = venv.join("bin").join("python");
    let marker = venv.join(format!(".polyauth-moto-{MOTO_VERSION}"));
    if marker.exists() {
        return python;
    }
    let _lock = InstallLock::take(target_dir().join("moto-venv.lock"));
    if marker.exists() {
        return python;
    }
    eprintln!(
        "installing moto {MOTO_VERSION} into {} (once per target directory)",
        venv.display()
    );
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv",
    );
    run(
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("moto[server]=={MOTO_VERSION}")),
        "pip install moto[server]",
    );
    fs::write(&marker, MOTO_VERSION).expect("the install marker is written");
    python
}

/// A virtualenv of its own under `target/<name>` holding `packages` (pinned), installed once;
/// answers its `bin` directory. Tools whose dependencies would clash with moto's live here.
pub fn tool_venv(name: &str, packages: &[&str]) -> PathBuf {
    let venv = target_dir().join(name);
    let bin = venv.join("bin");
    let marker = venv.join(".polyauth-installed");
    let wanted = packages.join("\n");
    if fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return bin;
    }
    let _lock = InstallLock::take(target_dir().join(format!("{name}.lock")));
    if fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return bin;
    }
    eprintln!("installing {} into {}", packages.join(" "), venv.display());
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv",
    );
    run(
        Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(packages),
        &format!("pip install {}", packages.join(" ")),
    );
    fs::write(&marker, wanted).expect("the install marker is written");
    bin
}

fn start() -> Moto {
    let python = python();
    let port = super::free_port();
    let name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "tests".into());
    let log_path = target_dir()
        .join("moto-venv")
        .join(format!("server-{name}.log"));
    let log = fs::File::create(&log_path).expect("moto's log file");
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(LAUNCHER)
        .arg("127.0.0.1")
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "moto's server exited ({status}):\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "moto did not listen within 120 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _child: Mutex::new(child),
    }
}

/// A message SES accepted.
#[derive(Debug, Clone)]
pub struct Email {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The HTML body as sent.
    pub html: String,
}

impl Email {
    /// The HTML body back as text: line breaks for `<br>`, entities decoded.
    pub fn text(&self) -> String {
        self.html
            .replace("<br>\n", "\n")
            .replace("<br>", "\n")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }
}

/// An SMS SNS accepted.
#[derive(Debug, Clone)]
pub struct Sms {
    pub to: String,
    pub body: String,
}

impl Moto {
    /// SDK configuration pointing at moto.
    pub async fn sdk(&self) -> polyauth::aws::SdkConfig {
        polyauth::aws::endpoint_config(&self.endpoint, REGION).await
    }

    /// The environment that points the binary's AWS adapters at moto.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Makes `address` a verified SES identity, so mail may be sent from it.
    pub async fn verify_email(&self, address: &str) {
        aws_sdk_sesv2::Client::new(&self.sdk().await)
            .create_email_identity()
            .email_identity(address)
            .send()
            .await
            .expect("moto verifies the sender address");
    }

    /// Everything moto holds (`/moto-api/data.json`).
    pub async fn data(&self) -> Value {
        reqwest::get(format!("{}/moto-api/data.json", self.endpoint))
            .await
            .expect("moto answers data.json")
            .json()
            .await
            .expect("data.json is JSON")
    }

    /// Every email sent, oldest first.
    pub async fn emails(&self) -> Vec<Email> {
        let data = self.data().await;
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        };
        data["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| Email {
                from: m["source"].as_str().unwrap_or_default().to_string(),
                to: strings(&m["destinations"]["ToAddresses"]),
                subject: m["subject"].as_str().unwrap_or_default().to_string(),
                html: m["body"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    }

    /// Every SMS sent, oldest first.
    pub async fn sms(&self) -> Vec<Sms> {
        let data = self.data().await;
        data["sns"]["SMS"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| Sms {
                to: m["phone_number"].as_str().unwrap_or_default().to_string(),
                body: m["message"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    }
}

/// The originals' own token libraries, for verifying polyauth's legacy tokens as the apps do:
/// PyJWT 1.7.1 (seed 001's Django app called `jwt.encode(..).decode()`, which only 1.x allows)
/// and itsdangerous 1.1.0 (seed 004's `TimedJSONWebSignatureSerializer`, gone since 2.1).
/// They go into their own directory, put first on `PYTHONPATH` for the verifier only: moto's
/// Flask needs a newer itsdangerous.
pub const VERIFIERS: &[&str] = &["PyJWT==1.7.1", "itsdangerous==1.1.0"];

/// The venv's python and the directory holding `VERIFIERS` (installed once).
pub fn legacy_verifiers() -> (PathBuf, PathBuf) {
    let python = python();
    let dir = target_dir().join("moto-venv").join("legacy-verifiers");
    let marker = dir.join(".polyauth-verifiers-1");
    if marker.exists() {
        return (python, dir);
    }
    let _lock = InstallLock::take(target_dir().join("moto-venv.lock"));
    if !marker.exists() {
        run(
            Command::new(target_dir().join("moto-venv").join("bin").join("pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                ])
                .arg(&dir)
                .args(VERIFIERS),
            "pip install the legacy token verifiers",
        );
        fs::write(&marker, VERIFIERS.join("\n")).expect("the install marker is written");
    }
    (python, dir)
}
