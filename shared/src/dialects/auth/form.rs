//! Seed 004 (`/auth`, form data): `GET /auth/` (who am I), `POST /auth/login`,
//! `POST /auth/register`, `POST /auth/logout`. Envelope `{"code", "message", "data"}`: 200
//! `Success` with HTTP 200; the seed's codes and messages otherwise (401 `Password Error`,
//! `User Not Found`, `Login Failed`, `Register Failed`, `User Existed`; 600 `Logout Failed`)
//! with the nearest real HTTP status.
//!
//! Decisions where the seed is silent:
//! - Bodies are `application/x-www-form-urlencoded` or `multipart/form-data`, told apart by
//!   `Content-Type`. A body that cannot be read (malformed multipart, missing boundary), a
//!   missing field or a value out of bounds answers HTTP 400, code 400, message
//!   `Request Form Data Param Error: invalid <field>: <reason>` (the public message of the
//!   seed's `api.md`, followed by the field and the reason); `data` is null on every error.
//! - Token failures use the seed's `api.md` public messages: an expired token answers code 401
//!   `Token Expired`; a missing, malformed, revoked or foreign token answers code 401
//!   `Token Bad Signature`; both with HTTP 401.
//! - `POST /auth/login` puts the bare token (no `Bearer ` prefix) in the `Authorization`
//!   response header, so a client copies it back as is. Requests take it bare or as
//!   `Bearer <token>`.
//! - `expiration` is a whole number of seconds, default 86400 (one day); values above 30 days
//!   are capped to 30 days rather than refused; an empty value counts as absent; zero,
//!   negative or non-numeric values answer 400.
//! - `username` at login accepts any identifier of the account (username, email or mobile),
//!   and is not held to register's 5..=30 rule, so users registered through other dialects
//!   (seed 001 allows `test`) sign in here too.
//! - Unknown account answers `User Not Found`, wrong password `Password Error`, because the
//!   seed documents both (the core keeps that distinction for this dialect alone). Any other
//!   login failure answers code 401 `Login Failed`: a disabled account with HTTP 403, the
//!   lock after ten consecutive failures with HTTP 429 and `Retry-After`, an internal failure
//!   with HTTP 503. No SMS second step is asked for: the seed has no place for one.
//! - `register`: username 5..=30 and password 8..=20 characters as the seed says, the username
//!   also following the shared character rules (letters, digits, `_`, `.`, `-`, not all
//!   digits). A taken username answers code 401 `User Existed` with HTTP 409; an internal
//!   failure code 401 `Register Failed` with HTTP 503. Registering does not sign in.
//! - `data.username` of a user without a username (registered by email or mobile through
//!   another dialect) is their email, else their mobile number.
//! - `logout` ends the session of the presented token and answers how many sessions it ended
//!   (`count`: 1, or 0 if a concurrent logout ended it first); the token fails from then on.
//!   Without a valid token it answers code 401 (as above), any other failure code 600
//!   `Logout Failed` with the error's HTTP status (503 for an internal failure).
//! - Any other error (not reachable from these endpoints today) answers its HTTP status as
//!   `code` and a short English `message`.

use crate::{
    dialects::{describe, status_of},
    domain::{Password, PasswordPolicy, User, Username, UsernamePolicy},
    error::CredentialFault,
    http::{self, bearer},
    services::{Gate, LoginStep, NewUser, SessionSpec},
    Auth, Error,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{json, Value};

pub const USERNAME_POLICY: UsernamePolicy = UsernamePolicy { min: 5, max: 30 };
pub const PASSWORD_POLICY: PasswordPolicy = PasswordPolicy { min: 8, max: 20 };
/// `expiration` when the client sends none: one day, as the seed says.
pub const DEFAULT_EXPIRATION: i64 = 24 * 3600;
/// The longest token a client can ask for.
pub const MAX_EXPIRATION: i64 = 30 * 24 * 3600;

/// The endpoint a failure happened in: the seed names a catch-all failure per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Other,
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
        let status = status_of(&e);
        let failed = || -> (u16, String) {
            match op {
                Op::Login => (401, "Login Failed".into()),
                Op::Register => (401, "Register Failed".into()),
                Op::Logout => (600, "Logout Failed".into()),
                Op::Other => (status.as_u16(), describe(&e)),
            }
        };
        let (code, message) = match &e {
            Error::Invalid { .. } => (
                400,
                format!("Request Form Data Param Error: {}", describe(&e)),
            ),
            Error::TokenExpired => (401, "Token Expired".into()),
            Error::Unauthenticated => (401, "Token Bad Signature".into()),
            Error::InvalidCredentials(CredentialFault::WrongPassword) => {
                (401, "Password Error".into())
            }
            Error::InvalidCredentials(CredentialFault::UnknownAccount) => {
                (401, "User Not Found".into())
            }
            Error::AlreadyExists { .. } => (401, "User Existed".into()),
            Error::Disabled
            | Error::TooManyRequests { .. }
            | Error::Unavailable
            | Error::Forbidden
            | Error::NotFound
            | Error::CaptchaRequired { .. }
            | Error::CaptchaInvalid
            | Error::CodeInvalid
            | Error::ResetTokenInvalid
            | Error::NoPendingLogin => failed(),
        };
        let body = json!({ "code": code, "message": message, "data": Value::Null });
        let mut res = (status, axum::Json(body)).into_response();
        if let Error::TooManyRequests { retry_after } = e {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        }
        res
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

/// Seconds a new token lives: default one day, capped at 30 days.
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
        return Err(Error::invalid("expiration", "must be at least 1 second"));
    }
    Ok(seconds.min(MAX_EXPIRATION))
}

/// The principal behind the request's `Authorization` header.
async fn caller(auth: &Auth, headers: &HeaderMap) -> Result<crate::services::Principal, Error> {
    let token = bearer(headers).ok_or(Error::Unauthenticated)?;
    auth.authenticate(&token).await
}

/// `GET /auth/`
pub(super) async fn whoami(State(auth): State<Auth>, headers: HeaderMap) -> Answer {
    let token = bearer(&headers).ok_or(Error::Unauthenticated)?;
    let (_, user) = auth.whoami(&token).await?;
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
    headers: HeaderMap,
    http::Form(req, _): Body<LoginReq>,
) -> Answer {
    sign_in(&auth, &headers, req)
        .await
        .map_err(Failure::during(Op::Login))
}

async fn sign_in(auth: &Auth, headers: &HeaderMap, req: LoginReq) -> Result<Response, Error> {
    let account = auth
        .account(&req.username)
        .map_err(|e| e.field("username"))?;
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let spec = SessionSpec {
        access_ttl: Some(expiration(req.expiration.as_deref())?),
    };
    let step = auth
        .password_login(
            &account,
            &password,
            &Gate::Lockout,
            &spec,
            &http::client(headers),
            false,
        )
        .await?;
    // A second step is never asked for (`second_factor` is false), so never answered.
    let LoginStep::SignedIn(s) = step else {
        return Err(Error::Unavailable);
    };
    let token = HeaderValue::from_str(&s.tokens.access).map_err(|_| Error::Unavailable)?;
    let mut res = success(user_data(auth, &s.user));
    res.headers_mut().insert(header::AUTHORIZATION, token);
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
    http::Form(req, _): Body<RegisterReq>,
) -> Answer {
    create(&auth, req)
        .await
        .map_err(Failure::during(Op::Register))
}

async fn create(auth: &Auth, req: RegisterReq) -> Result<Response, Error> {
    let username =
        Username::parse(&req.username, USERNAME_POLICY).map_err(|e| e.field("username"))?;
    let password =
        Password::new(&req.password, PASSWORD_POLICY).map_err(|e| e.field("password"))?;
    let new = NewUser {
        username: Some(username),
        password: Some(password),
        ..Default::default()
    };
    let user = auth.register(new, None).await?;
    Ok(success(user_data(auth, &user)))
}

/// `POST /auth/logout`: the body, if any, is not read.
pub(super) async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Answer {
    let principal = caller(&auth, &headers).await?;
    let count = auth
        .logout(&principal)
        .await
        .map_err(Failure::during(Op::Logout))?;
    Ok(success(json!({ "count": count })))
}
