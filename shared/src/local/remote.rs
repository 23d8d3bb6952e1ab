//! Admin commands beside a running local server. The embedded store is a file one process
//! holds, so while a server runs, the CLI hands it the command: the server writes a random
//! token to `<data dir>/admin.token` (readable by its owner only) and its address to
//! `admin.addr`, and answers `POST /_admin` only for loopback peers presenting that token. The
//! endpoint exists only in the local binary, never in a Lambda function.

use super::{execute, Admin, Cli, Command, Output};
use crate::{config::Config, Auth};
use axum::{
    extract::{ConnectInfo, DefaultBodyLimit, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

const TOKEN_FILE: &str = "admin.token";
const ADDR_FILE: &str = "admin.addr";
/// An import file travels in the request; a hundred thousand users fit comfortably.
const MAX_REQUEST: usize = 256 * 1024 * 1024;

#[derive(serde::Serialize, serde::Deserialize)]
struct Request {
    /// The arguments after `admin`, as typed.
    args: Vec<String>,
    /// An import's file, read by the CLI.
    input: Option<String>,
}

/// The token and address files of a serving process; removed when it stops.
pub struct Handover {
    dir: PathBuf,
    token: String,
}

impl Handover {
    pub fn open(dir: &Path, addr: SocketAddr) -> std::io::Result<Handover> {
        let token = crate::random::token();
        write_private(&dir.join(TOKEN_FILE), &token)?;
        write_private(&dir.join(ADDR_FILE), &loopback(addr).to_string())?;
        Ok(Handover {
            dir: dir.to_path_buf(),
            token,
        })
    }

    pub fn router(&self, auth: Auth) -> Router {
        Router::new()
            .route("/_admin", post(run))
            .layer(DefaultBodyLimit::max(MAX_REQUEST))
            .with_state((auth, self.token.clone()))
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir.join(TOKEN_FILE));
        let _ = std::fs::remove_file(self.dir.join(ADDR_FILE));
    }
}

/// The address a local client reaches a server at: a wildcard bind is reached on loopback.
fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => {
            SocketAddr::from(([127, 0, 0, 1], a.port()))
        }
        SocketAddr::V6(a) if a.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
        }
        other => other,
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

fn refused(status: StatusCode, why: &str) -> Response {
    (status, why.to_string()).into_response()
}

async fn run(
    State((auth, token)): State<(Auth, String)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !peer.ip().is_loopback() {
        return refused(StatusCode::FORBIDDEN, "loopback only");
    }
    let presented = crate::http::bearer(&headers).unwrap_or_default();
    if !crate::services::tokens::same_digest(&presented, &token) {
        return refused(StatusCode::UNAUTHORIZED, "admin token required");
    }
    let Ok(req) = serde_json::from_slice::<Request>(&body) else {
        return refused(StatusCode::BAD_REQUEST, "not an admin request");
    };
    let argv = ["polyauth".to_string(), "admin".to_string()]
        .into_iter()
        .chain(req.args);
    let out = match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Some(Command::Admin(cmd)),
        }) => execute(&auth, cmd, req.input, false).await,
        Ok(_) => Output {
            stdout: String::new(),
            stderr: "polyauth: not an admin command\n".into(),
            code: 2,
        },
        Err(e) => Output {
            stdout: String::new(),
            stderr: e.to_string(),
            code: 2,
        },
    };
    axum::Json(out).into_response()
}

/// Hands `cmd` (as typed after `admin`) to the server that holds the store.
pub async fn hand_over(
    config: &Config,
    cmd: &Admin,
    input: Option<String>,
) -> Result<Output, String> {
    let read = |name: &str| {
        std::fs::read_to_string(config.data_dir.join(name))
            .map(|s| s.trim().to_string())
            .map_err(|_| format!("no {name} in {}", config.data_dir.display()))
    };
    let token = read(TOKEN_FILE)?;
    let addr: SocketAddr = read(ADDR_FILE)?
        .parse()
        .map_err(|_| format!("{ADDR_FILE} is not an address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{ADDR_FILE} is not a loopback address"));
    }
    tracing::debug!(?cmd, %addr, "handing the admin command to the running server");
    let args: Vec<String> = std::env::args()
        .skip_while(|a| a != "admin")
        .skip(1)
        .collect();
    let body = serde_json::to_vec(&Request { args, input }).map_err(|e| e.to_string())?;
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot reach {addr}: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = axum::http::Request::post("/_admin")
        .header(header::HOST, addr.to_string())
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(axum::body::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "the server refused: {status} {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
