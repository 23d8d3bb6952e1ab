//! Seed 004 (`/auth`, form data): `GET /auth/` (who am I), `POST /auth/login`,
//! `POST /auth/register`, `POST /auth/logout`. Envelope `{"code", "message", "data"}` with the
//! HTTP status equal to `code`, as the original's; error bodies carry no `data`. The Android
//! app switches on exact messages, which are the original's:
//! - 400 `Request Form Data Param Error`: a body that cannot be read or a missing field;
//! - 400 `Format Error`: a value outside the seed's limits (register: username 5..=30,
//!   password 8..=20) or otherwise unacceptable;
//! - 401 `Unauthorized`: no `Authorization` header, another scheme, or a logged-out or unknown
//!   session; 401 `Token Bad Signature`: a token that is not ours; 401 `Token Expired`;
//! - 401 `Password Error` / `User Not Found` at login, for usernames only; 401 `Login Failed`
//!   for every other login failure; 401 `User Existed`, 401 `Register Failed`; 600
//!   `Logout Failed`; 503 `Service Unavailable` for an outage.
//!
//! Deliberate differences:
//! - an email or mobile given as `username` signs in with the right password, and any failure
//!   then answers `Login Failed`, so the form cannot probe other dialects' accounts;
//! - `User Existed` and `Register Failed` are 401 as the seed's table says (the original's code
//!   sent 601 and 600); `Token Expired` is sent for an expired token as the seed's `api.md`
//!   lists it (the original's handler order made it unreachable);
//! - `expiration` is capped at 90 days (the app offers up to 60; the original had no cap);
//! - `register` usernames follow the shared rules besides the seed's length (letters, digits,
//!   `_ . -`, not all digits): an all-digit name would sign in as a mobile number;
//! - a locked account (ten consecutive failures) or a disabled one answers `Login Failed`, with
//!   `Retry-After` when there is a time to wait.
//!
//! Decisions where the seed is silent:
//! - `POST /auth/login` answers the response header `Authorization: Bearer <token>` (the
//!   original at the seed's commit) and `data: {id, username, token}` (the original added
//!   `token` a week later, and the app reads it there); requests send `Bearer <token>`, a bare
//!   token is accepted too;
//! - `expiration` is a whole number of seconds, default one day; empty or 0 counts as absent;
//!   the session lives as long as its token;
//! - `logout` ends every session of the user opened through this dialect (the original removed
//!   all of the user's tokens) and answers how many (`count`);
//! - `data.username` of a user without a username (registered through another dialect) is
//!   their email, else their mobile number.

use crate::{
    dialects::retry_after,
    domain::{Account, Password, PasswordPolicy, User, Username, UsernamePolicy},
    error::CredentialFault,
    http::{self, bearer},
    services::{Client, Dialect, Gate, NewUser, SessionSpec},
    Auth, Error,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> crate::openapi::Routes {
    crate::openapi::Routes::new()
}

pub const USERNAME_POLICY: UsernamePolicy = UsernamePolicy { min: 5, max: 30 };
pub const PASSWORD_POLICY: PasswordPolicy = PasswordPolicy { min: 8, max: 20 };
/// `expiration` when the client sends none: one day, as the seed says.
pub const DEFAULT_EXPIRATION: i64 = 24 * 3600;
/// The longest token a client can ask for: 90 days.
pub const MAX_EXPIRATION: i64 = crate::services::LONGEST_ACCESS_TTL;

/// The endpoint a failure happened in: the seed names a catch-all failure per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Other,
    /// A login by username: the seed's `Password Error` / `User Not Found` apply.
    LoginByUsername,
    /// A login by another identifier: every failure is `Login Failed`.
    Login,
    Register,
    Logout,
}

/// The one place this dialect turns a core error into its envelope.
pub struct Failure {
    error: Error,
    op: Op,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            op: Op::Other,
        }
    }
}

impl Failure {
    fn during(op: Op) -> impl FnOnce(Error) -> Failure {
        move |error| Failure { error, op }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure { error: e, op } = self;
        let failed = || -> (u16, &'static str) {
            match op {
                Op::Login | Op::LoginByUsername => (401, "Login Failed"),
                Op::Register => (401, "Register Failed"),
                Op::Logout => (600, "Logout Failed"),
                Op::Other => (401, "Unauthorized"),
            }
        };
        let (code, message) = match &e {
            Error::Malformed { .. } => (400, "Request Form Data Param Error"),
            Error::Invalid { .. } => (400, "Format Error"),
            Error::WeakPassword => (400, "Password Too Weak"),
            Error::TokenExpired => (401, "Token Expired"),
            Error::TokenInvalid => (401, "Token Bad Signature"),
            Error::MissingToken | Error::Unauthenticated => (401, "Unauthorized"),
            Error::InvalidCredentials(CredentialFault::WrongPassword)
                if op == Op::LoginByUsername =>
            {
                (401, "Password Error")
            }
            Error::InvalidCredentials(CredentialFault::UnknownAccount)
                if op == Op::LoginByUsername =>
            {
                (401, "User Not Found")
            }
            Error::AlreadyExists { .. } => (401, "User Existed"),
            Error::Unavailable => (503, "Service Unavailable"),
            Error::InvalidCredentials(_)
            | Error::Disabled
            | Error::TooManyRequests { .. }
            | Error::Forbidden
            | Error::MissingPermission(_)
            | Error::NotFound
            | Error::CaptchaRequired { .. }
            | Error::CaptchaInvalid
            | Error::CodeInvalid
            | Error::ResetTokenInvalid
            | Error::NoPendingLogin
            | Error::AlreadySignedIn => failed(),
        };
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::UNAUTHORIZED);
        let body = json!({ "code": code, "message": message });
        retry_after((status, axum::Json(body)).into_response(), &e)
    }
}

type Body<T> = http::Form<T, Failure>;
type Answer = Result<Response, Failure>;

fn success(data: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({ "code": 200, "message": "Success", "data": data })),
    )
        .into_response()
}

/// `{id, username}`; users without a username are shown by their email, else their mobile.
fn user_data(auth: &Auth, user: &User) -> Value {
    let name = match (&user.username, &user.email, &user.mobile) {
        (Some(u), _, _) => u.as_str().to_string(),
        (None, Some(e), _) => e.as_str().to_string(),
        (None, None, Some(m)) => auth.show_phone(m),
        (None, None, None) => String::new(),
    };
    json!({ "id": user.id.0, "username": name })
}

/// Seconds a new token lives: default one day (also for 0, as the original), capped at 90 days.
fn expiration(raw: Option<&str>) -> Result<i64, Error> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(DEFAULT_EXPIRATION);
    };
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "expiration",
            "must be a whole number of seconds",
        ));
    }
    // All digits: only too large to fit can fail, and that is capped like any large value.
    let seconds = s.parse::<i64>().unwrap_or(i64::MAX);
    if seconds == 0 {
        return Ok(DEFAULT_EXPIRATION);
    }
    Ok(seconds.min(MAX_EXPIRATION))
}

/// The principal behind the request's `Authorization` header.
async fn caller(auth: &Auth, headers: &HeaderMap) -> Result<crate::services::Principal, Error> {
    let token = bearer(headers).ok_or(Error::MissingToken)?;
    auth.authenticate_in(&token, Dialect::AuthForm).await
}

/// `GET /auth/`
pub(super) async fn whoami(State(auth): State<Auth>, headers: HeaderMap) -> Answer {
    let token = bearer(&headers).ok_or(Error::MissingToken)?;
    let (_, user) = auth.whoami_in(&token, Dialect::AuthForm).await?;
    Ok(success(user_data(&auth, &user)))
}

#[derive(Deserialize)]
pub(super) struct LoginReq {
    username: String,
    password: String,
    #[serde(default)]
    expiration: Option<String>,
}

/// `POST /auth/login`
pub(super) async fn login(
    State(auth): State<Auth>,
    client: Client,
    body: Result<Body<LoginReq>, Failure>,
) -> Answer {
    let http::Form(req, _) = body.map_err(|f| Failure::during(Op::Login)(f.error))?;
    let account = auth
        .account(&req.username)
        .map_err(|e| Failure::during(Op::Login)(e.field("username")))?;
    let op = match account {
        Account::Username(_) => Op::LoginByUsername,
        Account::Email(_) | Account::Mobile(_) => Op::Login,
    };
    sign_in(&auth, &client, &account, req)
        .await
        .map_err(Failure::during(op))
}

async fn sign_in(
    auth: &Auth,
    client: &Client,
    account: &Account,
    req: LoginReq,
) -> Result<Response, Error> {
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let spec = SessionSpec {
        access_ttl: Some(expiration(req.expiration.as_deref())?),
        dialect: Some(Dialect::AuthForm),
        ..Default::default()
    };
    let s = auth
        .password_login(account, &password, &Gate::Lockout, &spec, client)
        .await?;
    let bearer = format!("Bearer {}", s.tokens.access);
    let header_value = HeaderValue::from_str(&bearer).map_err(|_| Error::Unavailable)?;
    let mut data = user_data(auth, &s.user);
    data["token"] = json!(s.tokens.access);
    let mut res = success(data);
    res.headers_mut()
        .insert(header::AUTHORIZATION, header_value);
    Ok(res)
}

#[derive(Deserialize)]
pub(super) struct RegisterReq {
    username: String,
    password: String,
}

/// `POST /auth/register`
pub(super) async fn register(
    State(auth): State<Auth>,
    client: Client,
    body: Result<Body<RegisterReq>, Failure>,
) -> Answer {
    let http::Form(req, _) = body.map_err(|f| Failure::during(Op::Register)(f.error))?;
    create(&auth, req, &client)
        .await
        .map_err(Failure::during(Op::Register))
}

async fn create(auth: &Auth, req: RegisterReq, client: &Client) -> Result<Response, Error> {
    let username =
        Username::parse(&req.username, USERNAME_POLICY).map_err(|e| e.field("username"))?;
    let password =
        Password::new(&req.password, PASSWORD_POLICY).map_err(|e| e.field("password"))?;
    let new = NewUser {
        username: Some(username),
        password: Some(password),
        ..Default::default()
    };
    let user = auth.register(new, None, client).await?;
    Ok(success(user_data(auth, &user)))
}

/// `POST /auth/logout`: the body, if any, is not read.
pub(super) async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Answer {
    let principal = caller(&auth, &headers).await?;
    let count = auth
        .logout_dialect(&principal, Dialect::AuthForm)
        .await
        .map_err(Failure::during(Op::Logout))?;
    if count == 0 {
        // A concurrent logout ended them first.
        return Err(Failure::during(Op::Logout)(Error::NotFound));
    }
    Ok(success(json!({ "count": count })))
}
