//! Seed 001 (`/auth`, JSON bodies): `POST /auth/` logs in and answers `{"access_token"}`,
//! `POST /auth/create` registers and answers `{"id"}`, `POST /auth/disable` answers
//! `{"result": "Ok, user has been diabled."}` (sic) and `POST /auth/reset`
//! `{"result": "Ok, password has been updated."}`, as the original did.
//!
//! Errors are the original's `failed_api_response`: HTTP status = `code`, body
//! `{"code", "detailed_error_code", "error_msg": "StatusCode.<NAME>: <text>"}` with its codes and
//! texts (its Flutter client decodes exactly these three fields): 400/40000 `Bad request`
//! (create, disable or reset with a body that is not JSON), 400/40001 `Bad login info` (login)
//! or `Bad user information` (the others) for missing or invalid fields, 401/40101 wrong
//! credentials, 401/40102 `Invalid token`, 401/40103 `Token expired`, 401/40104 a disabled
//! user's token, 403/40301 `Permission denied`, 404/40400 `User does not exist` (disable and
//! reset), 409/40900 `Username conflicted`; polyauth's own 429/42900 (lockout, with
//! `Retry-After`) and 503/50300 (outage).
//!
//! Order of checks on disable and reset, as the original: a present token first, then the body,
//! then the username, then the password, then (polyauth's addition) that the token is that
//! user's.
//!
//! Deliberate differences:
//! - a disabled user's tokens answer 40104 and their login 40101 (the original at that commit
//!   left the tokens working; its code table has 40104 for exactly this case);
//! - `disable` (and `reset`, when a token is sent) with another user's token answers 403/40301
//!   (the original did not check); `reset` takes no token as well, the old password being the
//!   proof, and ends every session of the user;
//! - `create` needs a real email address (the original stored any string) and refuses a taken
//!   email as well as a taken username (both `Username conflicted`).
//!
//! Decisions where the seed is silent:
//! - the access token is the core's JWT with the seed's claims (`user_id`, `type:
//!   "access_token"`, `iat`, `exp`, plus `iss`, `sub`, `sid`), valid 24 hours as the original's;
//!   the seed has no refresh, so a client logs in again when told the token expired;
//! - `username` at login, disable and reset accepts any identifier of the account (username,
//!   email or mobile), so users registered through another dialect sign in here too;
//! - the username follows the shared rules (1 to 64 letters, digits, `_`, `.`, `-`, not all
//!   digits); the password 4 to 128 characters, since the seed's own example is `test`/`test`;
//! - after ten consecutive failures the account is locked for the rest of the window (429).

use crate::{
    dialects::{retry_after, wait_seconds},
    domain::{Email, Password, PasswordPolicy, Username, UsernamePolicy},
    error::CredentialFault,
    http,
    services::{Client, Dialect, Gate, NewUser, Principal, SessionSpec},
    Auth, Error,
};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> crate::openapi::Routes {
    crate::openapi::Routes::new()
}

/// The endpoint a failure happened in: the original worded bad input and unknown users per
/// endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Login,
    Create,
    /// `disable` and `reset`: an account named by its credentials.
    Account,
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
            op: Op::Account,
        }
    }
}

fn during(op: Op) -> impl Fn(Error) -> Failure {
    move |error| Failure { error, op }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure { error: e, op } = self;
        let wrong = match op {
            Op::Account => "User password is wrong",
            Op::Login | Op::Create => "The username or password is incorrect",
        };
        let bad_fields = match op {
            Op::Login => "Bad login info",
            Op::Create | Op::Account => "Bad user information",
        };
        let (detailed, name, text): (u32, &str, String) = match &e {
            Error::Malformed { field, .. } if field == "body" && op != Op::Login => {
                (40000, "BAD_REQUEST", "Bad request".into())
            }
            Error::Malformed { .. } | Error::Invalid { .. } => {
                (40001, "INVALID_REQUEST_ARGUMENT", bad_fields.into())
            }
            Error::WeakPassword => (
                40001,
                "INVALID_REQUEST_ARGUMENT",
                "Password too weak: use a longer, less common password without your own name"
                    .into(),
            ),
            Error::InvalidCredentials(CredentialFault::UnknownAccount) if op == Op::Account => {
                (40400, "ITEM_NOT_FOUND", "User does not exist".into())
            }
            Error::NotFound => (40400, "ITEM_NOT_FOUND", "User does not exist".into()),
            Error::InvalidCredentials(_) => (40101, "INVALID_USERNAME_OR_PASSWORD", wrong.into()),
            Error::Disabled if op == Op::Login => {
                (40101, "INVALID_USERNAME_OR_PASSWORD", wrong.into())
            }
            Error::Disabled => (
                40104,
                "ACCOUNT_DISABLED",
                "Sorry, your account has been disabled".into(),
            ),
            Error::MissingToken | Error::TokenInvalid | Error::Unauthenticated => {
                (40102, "INVALID_TOKEN", "Invalid token".into())
            }
            Error::TokenExpired => (40103, "TOKEN_EXPIRED", "Token expired".into()),
            Error::Forbidden | Error::MissingPermission(_) => {
                (40301, "PERMISSION_DENIED", "Permission denied".into())
            }
            Error::AlreadyExists { .. } => {
                (40900, "ITEM_ALREADY_EXISTS", "Username conflicted".into())
            }
            Error::TooManyRequests { retry_after } => (
                42900,
                "TOO_MANY_REQUESTS",
                format!(
                    "Too many failed attempts, retry after {} seconds",
                    wait_seconds(*retry_after)
                ),
            ),
            Error::Unavailable => (
                50300,
                "SERVICE_UNAVAILABLE",
                "Service unavailable, retry later".into(),
            ),
            Error::CaptchaRequired { .. }
            | Error::CaptchaInvalid
            | Error::CodeInvalid
            | Error::ResetTokenInvalid
            | Error::NoPendingLogin
            | Error::AlreadySignedIn => (40000, "BAD_REQUEST", "Bad request".into()),
        };
        let code = detailed / 100;
        let status = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::BAD_REQUEST);
        let body = json!({
            "code": code,
            "detailed_error_code": detailed,
            "error_msg": format!("StatusCode.{name}: {text}"),
        });
        retry_after((status, axum::Json(body)).into_response(), &e)
    }
}

type Body<T> = http::Json<T, Failure>;
type Answer = Result<Response, Failure>;

fn ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

/// Seed 001's tokens live 24 hours, as the original's `valid_hours`.
const TOKEN_TTL: i64 = 24 * 3600;

#[derive(Deserialize)]
pub(super) struct Credentials {
    username: String,
    password: String,
}

/// `POST /auth/`
pub(super) async fn login(
    State(auth): State<Auth>,
    client: Client,
    body: Result<Body<Credentials>, Failure>,
) -> Answer {
    let fail = during(Op::Login);
    let http::Json(req, _) = body.map_err(|f| fail(f.error))?;
    let account = auth
        .account(&req.username)
        .map_err(|e| fail(e.field("username")))?;
    let password = Password::attempt(&req.password).map_err(|e| fail(e.field("password")))?;
    let spec = SessionSpec {
        access_ttl: Some(TOKEN_TTL),
        dialect: Some(Dialect::AuthJson),
        ..Default::default()
    };
    let s = auth
        .password_login(&account, &password, &Gate::Lockout, &spec, &client)
        .await
        .map_err(&fail)?;
    Ok(ok(json!({ "access_token": s.tokens.access })))
}

#[derive(Deserialize)]
pub(super) struct CreateReq {
    username: String,
    password: String,
    email: String,
}

/// `POST /auth/create`
pub(super) async fn create(
    State(auth): State<Auth>,
    client: Client,
    body: Result<Body<CreateReq>, Failure>,
) -> Answer {
    let fail = during(Op::Create);
    let http::Json(req, _) = body.map_err(|f| fail(f.error))?;
    let username = Username::parse(&req.username, UsernamePolicy::default())
        .map_err(|e| fail(e.field("username")))?;
    let password = Password::new(&req.password, PasswordPolicy::default())
        .map_err(|e| fail(e.field("password")))?;
    let email = Email::parse(&req.email).map_err(|e| fail(e.field("email")))?;
    let new = NewUser {
        email: Some(email),
        username: Some(username),
        password: Some(password),
        ..Default::default()
    };
    let user = auth.register(new, None, &client).await.map_err(&fail)?;
    Ok(ok(json!({ "id": user.id.0 })))
}

/// The session of a present `Authorization: Bearer` token, checked before the body as the
/// original's decorator did.
async fn presented(auth: &Auth, headers: &HeaderMap) -> Result<Option<Principal>, Error> {
    if !headers.contains_key(axum::http::header::AUTHORIZATION) {
        return Ok(None);
    }
    let token = bearer_only(headers).ok_or(Error::TokenInvalid)?;
    auth.authenticate_in(&token, Dialect::AuthJson)
        .await
        .map(Some)
}

/// `Authorization: Bearer <jwt>` exactly: the original refused any other scheme.
fn bearer_only(headers: &HeaderMap) -> Option<String> {
    let raw = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    raw.strip_prefix("Bearer ")
        .filter(|t| !t.is_empty() && !t.contains(' '))
        .map(str::to_string)
}

/// `POST /auth/disable`: the token is checked before the body is looked at.
pub(super) async fn disable(
    State(auth): State<Auth>,
    client: Client,
    headers: HeaderMap,
    body: Result<Body<Credentials>, Failure>,
) -> Answer {
    let principal = presented(&auth, &headers)
        .await?
        .ok_or(Error::MissingToken)?;
    let http::Json(req, _) = body?;
    let account = auth
        .account(&req.username)
        .map_err(|e| e.field("username"))?;
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    auth.disable_self(&principal, &account, &password, &client)
        .await?;
    Ok(ok(json!({ "result": "Ok, user has been diabled." })))
}

#[derive(Deserialize)]
pub(super) struct ResetReq {
    username: String,
    password: String,
    new_password: String,
}

/// `POST /auth/reset`
pub(super) async fn reset(
    State(auth): State<Auth>,
    client: Client,
    headers: HeaderMap,
    body: Result<Body<ResetReq>, Failure>,
) -> Answer {
    let principal = presented(&auth, &headers).await?;
    let http::Json(req, _) = body?;
    let account = auth
        .account(&req.username)
        .map_err(|e| e.field("username"))?;
    let old = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let new = Password::new(&req.new_password, PasswordPolicy::default())
        .map_err(|e| e.field("new_password"))?;
    auth.change_password(principal.as_ref(), &account, &old, &new, &client)
        .await?;
    Ok(ok(json!({ "result": "Ok, password has been updated." })))
}
