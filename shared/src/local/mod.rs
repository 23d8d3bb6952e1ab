//! The local binary's command line: `serve` (the default) and admin commands over the same
//! configuration and store. The embedded store is a file one process holds: while a local
//! server holds it, admin commands are handed to that server over its loopback-only admin
//! endpoint (`remote`), with the same output as when the CLI opens the store itself.

use crate::{
    app::App,
    config::{Config, StoreKind},
    domain::{
        Email, ParseError, Password, PasswordPolicy, Permission, Profile, User, Username,
        UsernamePolicy,
    },
    services::NewUser,
    Auth, Error,
};
use clap::{Parser, Subcommand};

mod import;
mod remote;
mod server;
use serde_json::json;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "polyauth",
    version,
    about = "polyauth: five auth APIs over one identity store"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every dialect on POLYAUTH_ADDR (the default command).
    Serve,
    /// Administer users in the configured store.
    #[command(subcommand)]
    Admin(Admin),
    /// Measure argon2id verifications per second through the bounded hasher: the ceiling of
    /// password-login throughput on this machine (the load test compares against it).
    HashRate {
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Write the OpenAPI document of each dialect (`<dialect>.json`) into a directory; the
    /// repository keeps them in `openapi/`, and a test fails when they are out of date.
    Openapi {
        #[arg(long, default_value = "openapi")]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum Admin {
    /// Create a user. Without --password a random one is set and a reset link is mailed.
    CreateUser {
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        mobile: Option<String>,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Grant a permission (e.g. pauli:user:audit) to a user (id, email, mobile, username, or
    /// the string id an original gave it, such as a pauli ObjectId).
    Grant { user: String, permission: String },
    /// Revoke a permission from a user.
    Revoke { user: String, permission: String },
    /// Disable a user and end all their sessions.
    Disable { user: String },
    /// Show a user.
    Show { user: String },
    /// Create the DynamoDB table POLYAUTH_TABLE (keys pk/sk, on demand, TTL on expires_at), for
    /// local or emulated use (on AWS the SAM template creates it). Idempotent.
    CreateTable,
    /// Import an original server's users from a JSON Lines file (`-` for stdin), keeping their
    /// ids and password hashes. Idempotent: users already there are skipped.
    Import {
        file: String,
        /// Check every line and report what would happen, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Bare 32-hex password hashes are unsalted MD5 (never guessed without this).
        #[arg(long)]
        md5: bool,
        /// Transactions in flight (each writes up to 20 users).
        #[arg(long, default_value_t = 8)]
        parallel: usize,
    },
    /// Add a new access-token signing key. It is published at once (JWKS, every instance
    /// within five minutes) and signs from --activate-in seconds on; tokens of the older keys
    /// stay valid until they expire. Codes, reset links and refresh tokens are not affected.
    RotateSigningKey {
        #[arg(long, default_value_t = crate::services::DEFAULT_ACTIVATION_DELAY)]
        activate_in: i64,
    },
    /// List a user's login records, newest first.
    Records {
        user: String,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long)]
        cursor: Option<String>,
    },
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal; a file or a log collector gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi { out } = &command {
        return write_openapi(out);
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(format!("configuration: {e}")),
    };
    if let Command::Admin(Admin::CreateTable) = command {
        return create_table(&config).await;
    }
    if let Command::HashRate { seconds } = command {
        return hash_rate(seconds).await;
    }
    let admin_cmd = match command {
        Command::Admin(cmd) => Some(cmd),
        Command::Serve | Command::HashRate { .. } | Command::Openapi { .. } => None,
    };
    // An import file is read here, so a server handed the command never reads the caller's
    // files or stdin.
    let input = match &admin_cmd {
        Some(Admin::Import { file, .. }) => match import::read_source(file) {
            Ok(t) => Some(t),
            Err(e) => return fail(format!("cannot read {file}: {e}")),
        },
        _ => None,
    };
    // A dry run against an embedded store that does not exist yet reads the file alone: it
    // creates no directory and no store.
    let dry_run = matches!(admin_cmd, Some(Admin::Import { dry_run: true, .. }));
    let mut config = config;
    if dry_run
        && config.store == StoreKind::Embedded
        && !crate::store::Embedded::file_in(&config.data_dir).exists()
    {
        config.store = StoreKind::Memory;
    }
    let app = match App::build(config.clone()).await {
        Ok(app) => app,
        Err(e) if config.store == StoreKind::Embedded => {
            let Some(cmd) = admin_cmd else {
                return fail(format!(
                    "cannot open the store in {} ({e}); is another polyauth serving it?",
                    config.data_dir.display()
                ));
            };
            return match remote::hand_over(&config, &cmd, input).await {
                Ok(out) => out.print(),
                Err(why) => fail(format!(
                    "cannot open the store in {} ({e}), and no local server took the command: {why}",
                    config.data_dir.display()
                )),
            };
        }
        Err(e) => return fail(format!("cannot set up the store ({e})")),
    };
    match admin_cmd {
        Some(cmd) => execute(&app.auth, cmd, input, true).await.print(),
        None => serve(app, &config).await,
    }
}

fn write_openapi(dir: &std::path::Path) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(format!("cannot create {}: {e}", dir.display()));
    }
    for dialect in crate::services::Dialect::ALL {
        let path = dir.join(crate::openapi::file_name(dialect));
        if let Err(e) = std::fs::write(&path, crate::openapi::render(dialect)) {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}

/// What an admin command prints and how it exits, wherever it ran.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Output {
    stdout: String,
    stderr: String,
    code: u8,
}

impl Output {
    fn print(self) -> ExitCode {
        eprint!("{}", self.stderr);
        if !self.stdout.is_empty() {
            println!("{}", self.stdout);
        }
        ExitCode::from(self.code)
    }
}

/// Runs an admin command against the store; `input` is an import's file, already read.
/// `terminal`: the caller's terminal shows progress (never a server's).
async fn execute(auth: &Auth, cmd: Admin, input: Option<String>, terminal: bool) -> Output {
    let failed = |e: String| Output {
        stdout: String::new(),
        stderr: format!("polyauth: {e}\n"),
        code: 1,
    };
    match cmd {
        Admin::Import {
            dry_run,
            md5,
            parallel,
            ..
        } => {
            let text = input.unwrap_or_default();
            let options = import::Options {
                dry_run,
                md5,
                parallel,
                terminal,
            };
            match import::run(auth, &text, options).await {
                Ok(summary) => Output {
                    stdout: summary.json.to_string(),
                    stderr: summary.report,
                    code: if summary.clean { 0 } else { 2 },
                },
                Err((report, e)) => Output {
                    stdout: String::new(),
                    stderr: format!("{report}polyauth: {e}\n"),
                    code: 1,
                },
            }
        }
        cmd => match admin(auth, cmd).await {
            Ok(out) => Output {
                stdout: out.to_string(),
                stderr: String::new(),
                code: 0,
            },
            Err(e) => failed(e.to_string()),
        },
    }
}

async fn create_table(config: &Config) -> ExitCode {
    if config.store != StoreKind::DynamoDb {
        return fail(
            "create-table is for POLYAUTH_STORE=dynamodb; the embedded store needs no table".into(),
        );
    }
    let client = aws_sdk_dynamodb::Client::new(&crate::aws::sdk_config().await);
    match crate::store::dynamodb::create_table(&client, &config.table).await {
        Ok(created) => {
            println!(
                "{}",
                json!({"table": config.table, "created": created, "ttl": "expires_at"})
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot create the table {}: {e}", config.table)),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("polyauth: {message}");
    ExitCode::FAILURE
}

async fn serve(app: App, config: &Config) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", config.addr)),
    };
    let Ok(local) = listener.local_addr() else {
        return fail("cannot read the listening address".into());
    };
    let addr = local.to_string();
    // Admin commands run beside this server only where it holds the store alone.
    let handover = match config.store {
        StoreKind::Embedded => match remote::Handover::open(&config.data_dir, local) {
            Ok(h) => Some(h),
            Err(e) => return fail(format!("cannot write the admin token: {e}")),
        },
        StoreKind::Memory | StoreKind::DynamoDb => None,
    };
    tracing::info!(%addr, env = ?config.env, data_dir = %config.data_dir.display(), "polyauth listening");
    println!("polyauth listening on http://{addr}");
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return ctrl_c.await.unwrap_or(()),
                };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        ctrl_c.await.unwrap_or(());
    };
    let mut router = app.router();
    if let Some(h) = &handover {
        router = router.merge(h.router(app.auth.clone()));
    }
    let served = server::serve(listener, router, shutdown).await;
    drop(handover);
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("server error: {e}")),
    }
}

async fn admin(auth: &Auth, cmd: Admin) -> Result<serde_json::Value, Error> {
    let show = |u: &User| {
        json!({
            "id": u.id.0,
            "legacy_id": u.legacy_id,
            "email": u.email.as_ref().map(|e| e.as_str()),
            "mobile": u.mobile.as_ref().map(|m| m.e164()),
            "username": u.username.as_ref().map(|n| n.as_str()),
            "name": u.profile.name,
            "status": u.status,
            "password_hash": crate::services::legacy_hash::kind(&u.password_hash),
            "permissions": u.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        })
    };
    match cmd {
        Admin::CreateUser {
            email,
            username,
            mobile,
            name,
            password,
        } => {
            let new = NewUser {
                email: optional(email, "email", Email::parse)?,
                username: optional(username, "username", |u| {
                    Username::parse(u, UsernamePolicy::default())
                })?,
                mobile: optional(mobile, "mobile", |m| auth.phone(m))?,
                password: optional(password, "password", |p| {
                    Password::new(p, PasswordPolicy::default())
                })?,
                profile: Profile {
                    name,
                    ..Default::default()
                },
                ..Default::default()
            };
            Ok(show(&auth.admin_create_user(new).await?))
        }
        Admin::Grant { user, permission } => {
            let (user, p) = user_and_permission(auth, &user, &permission).await?;
            Ok(show(&auth.grant_permission(&user, p).await?))
        }
        Admin::Revoke { user, permission } => {
            let (user, p) = user_and_permission(auth, &user, &permission).await?;
            Ok(show(&auth.revoke_permission(&user, p).await?))
        }
        Admin::Disable { user } => Ok(show(&auth.disable(&auth.user_by(&user).await?).await?)),
        Admin::Show { user } => Ok(show(&auth.user_by(&user).await?)),
        Admin::RotateSigningKey { activate_in } => {
            serde_json::to_value(auth.rotate_signing_key(activate_in).await?)
                .map_err(|_| Error::Unavailable)
        }
        // Handled in `main`: one needs no store, the other prints its own summary.
        Admin::CreateTable | Admin::Import { .. } => Err(Error::Unavailable),
        Admin::Records {
            user,
            limit,
            cursor,
        } => {
            let u = auth.user_by(&user).await?;
            let records = auth.login_records(u.id, cursor.as_deref(), limit).await?;
            serde_json::to_value(records).map_err(|_| Error::Unavailable)
        }
    }
}

/// An optional argument, parsed; a refusal names its field.
fn optional<T>(
    raw: Option<String>,
    field: &'static str,
    parse: impl FnOnce(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, Error> {
    raw.map(|raw| parse(&raw).map_err(|e| e.field(field)))
        .transpose()
}

/// Grants (`on`) or revokes `permission` for the user `user` names.
async fn user_and_permission(
    auth: &Auth,
    user: &str,
    permission: &str,
) -> Result<(User, Permission), Error> {
    let p = Permission::parse(permission).map_err(|e| e.field("permission"))?;
    Ok((auth.user_by(user).await?, p))
}

async fn hash_rate(seconds: u64) -> ExitCode {
    let hasher = crate::services::Hasher::new();
    let password = Password::random();
    let Ok(hash) = hasher.hash(&password).await else {
        return fail("hashing failed".into());
    };
    let start = std::time::Instant::now();
    let deadline = start + std::time::Duration::from_secs(seconds.max(1));
    let workers = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (hasher, hash, password) = (hasher.clone(), hash.clone(), password.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while std::time::Instant::now() < deadline {
                    if hasher.verify(&hash, &password).await.is_ok() {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    println!(
        "{:.1} verifications/s",
        total as f64 / start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
