//! Seed 000 (`/pauli/auth/api`): `{code, msg, result}` envelope, `code` 0 is `E_SUCC`. Error
//! codes (API-NOTES; the seed names only 1032): 1001 bad parameters, 1002 not logged in,
//! 1003 permission denied, 1010 user exists, 1020 wrong username or password (unknown user and
//! wrong password alike), 1030 code wrong or expired, 1031 no password step in the last
//! 20 minutes, 1032 `E_USER_NEED_SMS_AUTH` (HTTP 200: a step, not an error), 1033 too many
//! requests, 1040 reset code invalid, 1050 account disabled, 1099 internal (HTTP 503). The HTTP
//! status of an error is its class (`dialects::status_of`).
//!
//! Decisions where the seed is silent:
//! - the session is the access token in the cookie `pauli_session` (HttpOnly, SameSite=Lax,
//!   path `/pauli`, Secure per `POLYAUTH_COOKIE_SECURE`, on in production); an
//!   `Authorization: Bearer` header is accepted too and wins over the cookie. The seed has no
//!   refresh endpoint, so a pauli session lasts one day (`SESSION_TTL`), for both the direct
//!   password login and the login completed by the SMS code;
//! - the pending second factor is the cookie `pauli_pending` (same attributes, max-age
//!   20 minutes); it is cleared when the login completes, by logout, and by a direct login;
//! - `PUT pass/login` takes any identifier in `username` (email, mobile or username), so users
//!   registered through other dialects can sign in; a successful login answers
//!   `result.user_id`; the 1032 answer has an empty `result`;
//! - `GET pass/code` answers `result.method` (`voice` or `sms`, the channel actually used);
//!   an unknown `method` is 1001. The password step already sent an SMS, so a `GET pass/code`
//!   within 60 s of it is 1033 (one code a minute). Repeating the password step within that
//!   minute reuses the unused code (1032, no new SMS); if that code was already used, no code
//!   can be sent, so the step answers 1033 with `Retry-After` instead of 1032;
//! - `GET logined` answers `logined: false` for a missing, expired or revoked session (never an
//!   error, except 1099 when the store is down); `name` falls back to the user's nickname when
//!   no name was set (users from other dialects); `email`, `mobile` (national form in the
//!   default country), `position_id` are "" when absent;
//! - `GET record`: `user_id` defaults to the caller; `limit` must be a positive integer and is
//!   capped at 100; `cursor_id` must be a `record_id` (a ULID) or empty; `login_type` is one of
//!   `password`, `code`, `second_factor`, `register`, `reset_password`; `time` is RFC 3339 UTC
//!   with milliseconds;
//! - `POST pass/create`: `name` must not be blank (at most 128 characters); an empty
//!   `password` or `mobile` counts as absent; a taken email or mobile is 1010;
//! - `GET pass/reset` answers 0 for unknown and disabled emails alike (no enumeration);
//! - every endpoint reads its parameters from the query string and from the body (JSON, or a
//!   form body when the content type says so), the body winning, so the seed's bodiless-looking
//!   `pass/code` and `pass/reset` calls work however a client sends them; `pass/login` and
//!   `pass/create`, documented as `application/json`, take JSON bodies only;
//! - `POST pass/reset`: at least one of `password`, `mobile` (empty counts as absent), else
//!   1001; a mobile held by another user is 1010. It ends every session of the user;
//! - `GET logout` answers 0 and clears the cookies even without a (valid) session: logging
//!   out is idempotent.

use super::{describe, status_of};
use crate::{
    clock::rfc3339,
    domain::{Code, Email, Password, PasswordPolicy, Profile, User, UserId},
    http,
    sender::Channel,
    services::{Gate, LoginStep, NewUser, PendingId, Principal, SessionSpec, Tokens, PENDING_TTL},
    Auth, Error,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, put},
    Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

const PREFIX: &str = "/pauli/auth/api";
const COOKIE_PATH: &str = "/pauli";
const SESSION_COOKIE: &str = "pauli_session";
const PENDING_COOKIE: &str = "pauli_pending";
/// Lifetime of a pauli session (the seed has no refresh): one day.
const SESSION_TTL: i64 = 24 * 3600;
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;
const MAX_NAME: usize = 128;

/// `code` of a right password that still needs the SMS code.
const E_USER_NEED_SMS_AUTH: i64 = 1032;

pub fn router(auth: Auth) -> Router {
    Router::new()
        .route(&format!("{PREFIX}/logined"), get(logined))
        .route(&format!("{PREFIX}/record"), get(record))
        .route(
            &format!("{PREFIX}/pass/create"),
            axum::routing::post(create),
        )
        .route(&format!("{PREFIX}/pass/login"), put(login))
        .route(
            &format!("{PREFIX}/pass/code"),
            get(send_code).post(enter_code),
        )
        .route(&format!("{PREFIX}/logout"), get(logout))
        .route(
            &format!("{PREFIX}/pass/reset"),
            get(reset_request).put(reset_check).post(reset_redeem),
        )
        .with_state(auth)
}

/// The one place this dialect turns a core error into its envelope.
pub struct Failure(Error);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(e)
    }
}

/// The request field an identifier is known by here (the email is the `username`).
fn request_field(field: &str) -> &str {
    if field == "email" {
        "username"
    } else {
        field
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let e = self.0;
        let (code, msg) = match &e {
            Error::Invalid { .. } => (1001, describe(&e)),
            Error::Unauthenticated | Error::TokenExpired => (1002, "not logged in".to_string()),
            Error::Forbidden => (1003, "permission denied".into()),
            Error::AlreadyExists { field } => (
                1010,
                format!("user exists: {} already registered", request_field(field)),
            ),
            Error::InvalidCredentials(_) | Error::NotFound => {
                (1020, "wrong username or password".into())
            }
            Error::CodeInvalid | Error::CaptchaInvalid => (1030, "code wrong or expired".into()),
            Error::NoPendingLogin => (
                1031,
                "no password login in the last 20 minutes; log in with the password first".into(),
            ),
            Error::TooManyRequests { .. } => (1033, describe(&e)),
            Error::CaptchaRequired { .. } => {
                (1033, "too many failed attempts, try again later".into())
            }
            Error::ResetTokenInvalid => (1040, "reset code invalid or expired".into()),
            Error::Disabled => (1050, "account disabled".into()),
            Error::Unavailable => (1099, "internal error, try again later".into()),
        };
        let mut res = reply(status_of(&e), code, &msg, json!({}));
        if let Error::TooManyRequests { retry_after } = e {
            if let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

type Body<T> = http::Json<T, Failure>;
type Answer = Result<Response, Failure>;

fn reply(status: StatusCode, code: i64, msg: &str, result: Value) -> Response {
    (
        status,
        axum::Json(json!({ "code": code, "msg": msg, "result": result })),
    )
        .into_response()
}

fn ok(result: Value) -> Response {
    reply(StatusCode::OK, 0, "ok", result)
}

fn with_cookie(mut res: Response, cookie: HeaderValue) -> Response {
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

/// Parameters from the query string and the body, the body winning; failures are 1001.
type Params<T> = http::Params<T, Failure>;

/// An optional text parameter: empty counts as absent.
fn given(raw: Option<String>) -> Option<String> {
    raw.filter(|s| !s.is_empty())
}

fn session_spec() -> SessionSpec {
    SessionSpec {
        access_ttl: Some(SESSION_TTL),
    }
}

/// The access token: a Bearer header, else the session cookie.
fn token(headers: &HeaderMap) -> Option<String> {
    http::bearer(headers).or_else(|| http::cookie(headers, SESSION_COOKIE))
}

async fn principal(auth: &Auth, headers: &HeaderMap) -> Result<Principal, Failure> {
    let token = token(headers).ok_or(Error::Unauthenticated)?;
    Ok(auth.authenticate(&token).await?)
}

fn pending(headers: &HeaderMap) -> Result<PendingId, Failure> {
    Ok(http::cookie(headers, PENDING_COOKIE)
        .map(PendingId)
        .ok_or(Error::NoPendingLogin)?)
}

fn clear(auth: &Auth, name: &str) -> HeaderValue {
    http::clear_cookie(name, COOKIE_PATH, auth.config().cookie_secure)
}

/// Code 0 with the user id, the session cookie set and any pending login cookie cleared.
fn signed_in(auth: &Auth, tokens: &Tokens, user: UserId) -> Response {
    let max_age = tokens.access_expires_at - auth.now();
    let session = http::set_cookie(
        SESSION_COOKIE,
        &tokens.access,
        COOKIE_PATH,
        max_age,
        auth.config().cookie_secure,
    );
    let res = with_cookie(ok(json!({ "user_id": user.to_string() })), session);
    with_cookie(res, clear(auth, PENDING_COOKIE))
}

fn profile(auth: &Auth, user: &User) -> Value {
    let name = if user.profile.name.is_empty() {
        &user.profile.nickname
    } else {
        &user.profile.name
    };
    json!({
        "logined": true,
        "user_id": user.id.to_string(),
        "name": name,
        "email": user.email.as_ref().map(|e| e.as_str()).unwrap_or(""),
        "mobile": user.mobile.as_ref().map(|m| auth.show_phone(m)).unwrap_or_default(),
        "position_id": user.profile.position_id,
    })
}

async fn logined(State(auth): State<Auth>, headers: HeaderMap) -> Answer {
    let not_logged_in = || ok(json!({ "logined": false }));
    let Some(token) = token(&headers) else {
        return Ok(not_logged_in());
    };
    match auth.whoami(&token).await {
        Ok((_, user)) => Ok(ok(profile(&auth, &user))),
        Err(Error::Unavailable) => Err(Error::Unavailable.into()),
        Err(_) => Ok(not_logged_in()),
    }
}

#[derive(Deserialize)]
struct RecordQuery {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    cursor_id: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

async fn record(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Params(q, _): Params<RecordQuery>,
) -> Answer {
    let principal = principal(&auth, &headers).await?;
    let user = match given(q.user_id) {
        Some(raw) => UserId(
            raw.trim()
                .parse()
                .map_err(|_| Error::invalid("user_id", "must be a user id"))?,
        ),
        None => principal.user_id,
    };
    let cursor = match given(q.cursor_id) {
        Some(raw) => {
            let id = ulid::Ulid::from_string(raw.trim())
                .map_err(|_| Error::invalid("cursor_id", "must be a record_id"))?;
            Some(id.to_string())
        }
        None => None,
    };
    let limit = match given(q.limit) {
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            _ => return Err(Error::invalid("limit", "must be a positive integer").into()),
        },
        None => DEFAULT_LIMIT,
    };
    let records = auth
        .login_records_as(&principal, user, cursor.as_deref(), limit)
        .await?;
    let logs: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "record_id": r.record_id,
                "login_type": r.login_type.as_str(),
                "user_id": r.user_id.to_string(),
                "time": rfc3339(r.time),
            })
        })
        .collect();
    Ok(ok(json!({ "logs": logs })))
}

#[derive(Deserialize)]
struct CreateReq {
    username: String,
    #[serde(default)]
    password: Option<String>,
    name: String,
    #[serde(default)]
    mobile: Option<String>,
}

async fn create(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<CreateReq>,
) -> Answer {
    let principal = principal(&auth, &headers).await?;
    let email = Email::parse(&req.username).map_err(|e| e.field("username"))?;
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "is required").into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::invalid("name", format!("at most {MAX_NAME} characters")).into());
    }
    let password = given(req.password)
        .map(|p| Password::new(&p, PasswordPolicy::default()).map_err(|e| e.field("password")))
        .transpose()?;
    let mobile = given(req.mobile)
        .map(|m| auth.phone(&m).map_err(|e| e.field("mobile")))
        .transpose()?;
    let new = NewUser {
        email: Some(email),
        mobile,
        password,
        profile: Profile {
            name: name.to_string(),
            ..Default::default()
        },
        ..Default::default()
    };
    let user = auth.create_user_as(&principal, new).await?;
    Ok(ok(json!({ "user_id": user.id.to_string() })))
}

#[derive(Deserialize)]
struct LoginReq {
    username: String,
    password: String,
}

async fn login(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<LoginReq>,
) -> Answer {
    let account = auth
        .account(&req.username)
        .map_err(|e| e.field("username"))?;
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let client = http::client(&headers);
    match auth
        .password_login(
            &account,
            &password,
            &Gate::Lockout,
            &session_spec(),
            &client,
            true,
        )
        .await?
    {
        LoginStep::SignedIn(s) => Ok(signed_in(&auth, &s.tokens, s.user.id)),
        LoginStep::SecondFactor(PendingId(id)) => {
            let msg = "password ok; a verification code was sent to your mobile by SMS, submit it to POST pass/code";
            let res = reply(StatusCode::OK, E_USER_NEED_SMS_AUTH, msg, json!({}));
            let cookie = http::set_cookie(
                PENDING_COOKIE,
                &id,
                COOKIE_PATH,
                PENDING_TTL,
                auth.config().cookie_secure,
            );
            Ok(with_cookie(res, cookie))
        }
    }
}

#[derive(Deserialize)]
struct SendCodeQuery {
    #[serde(default)]
    method: Option<String>,
}

async fn send_code(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Params(q, _): Params<SendCodeQuery>,
) -> Answer {
    let voice = match given(q.method)
        .map(|m| m.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("voice") => true,
        Some("sms") => false,
        Some(_) => return Err(Error::invalid("method", "must be voice or sms").into()),
    };
    let pending = pending(&headers)?;
    let channel = auth.resend_second_factor(&pending, voice).await?;
    let (method, msg) = match channel {
        Channel::Voice => ("voice", "the code is on its way by voice call"),
        _ if voice => (
            "sms",
            "voice calls are not available; the code was sent by SMS instead",
        ),
        _ => ("sms", "the code was sent by SMS"),
    };
    Ok(reply(StatusCode::OK, 0, msg, json!({ "method": method })))
}

#[derive(Deserialize)]
struct EnterCodeReq {
    code: String,
}

async fn enter_code(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Params(req, _): Params<EnterCodeReq>,
) -> Answer {
    let pending = pending(&headers)?;
    let code = Code::parse(&req.code).map_err(|e| e.field("code"))?;
    let s = auth
        .complete_second_factor(&pending, &code, &session_spec(), &http::client(&headers))
        .await?;
    Ok(signed_in(&auth, &s.tokens, s.user.id))
}

async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Answer {
    if let Some(token) = token(&headers) {
        match auth.authenticate(&token).await {
            Ok(principal) => {
                auth.logout(&principal).await?;
            }
            Err(Error::Unavailable) => return Err(Error::Unavailable.into()),
            Err(_) => {}
        }
    }
    let res = with_cookie(ok(json!({})), clear(&auth, SESSION_COOKIE));
    Ok(with_cookie(res, clear(&auth, PENDING_COOKIE)))
}

#[derive(Deserialize)]
struct ResetRequestQuery {
    email: String,
}

async fn reset_request(
    State(auth): State<Auth>,
    http::Params(q, _): Params<ResetRequestQuery>,
) -> Answer {
    let email = Email::parse(&q.email).map_err(|e| e.field("email"))?;
    auth.request_reset_link(&email).await?;
    Ok(ok(json!({})))
}

#[derive(Deserialize)]
struct ResetCheckReq {
    code: String,
}

fn reset_code(raw: &str) -> Result<&str, Failure> {
    let code = raw.trim();
    if code.is_empty() {
        return Err(Error::invalid("code", "is required").into());
    }
    Ok(code)
}

async fn reset_check(
    State(auth): State<Auth>,
    http::Params(req, _): Params<ResetCheckReq>,
) -> Answer {
    auth.check_reset_token(reset_code(&req.code)?).await?;
    Ok(ok(json!({})))
}

#[derive(Deserialize)]
struct ResetRedeemReq {
    code: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    mobile: Option<String>,
}

async fn reset_redeem(
    State(auth): State<Auth>,
    http::Params(req, _): Params<ResetRedeemReq>,
) -> Answer {
    let code = reset_code(&req.code)?;
    let password = given(req.password)
        .map(|p| Password::new(&p, PasswordPolicy::default()).map_err(|e| e.field("password")))
        .transpose()?;
    let mobile = given(req.mobile)
        .map(|m| auth.phone(&m).map_err(|e| e.field("mobile")))
        .transpose()?;
    auth.redeem_reset_token(code, password, mobile).await?;
    Ok(ok(json!({})))
}

#[cfg(test)]
mod tests;
