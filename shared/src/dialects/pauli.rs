//! Seed 000 (`/pauli/auth/api`): `{code, msg, result}` with HTTP 200 for every answer but an
//! outage (503), and the original's codes (`STATUS_CODES` of its `util/api_base.py`) with its
//! messages: 0 `E_SUCC`; 1 `E_PARAM` `参数错误` for bad or missing parameters (`result.field`
//! names the field) and the refusals the original folds into it (`验证码发送间隔时间太短`,
//! `不支持的验证发送方式`, `用户名/密码未验证或已失效，请返回重新验证`, `重置记录不存在或者已失效`,
//! `用户已经存在`; polyauth's own limits say when to retry); 7 `E_FORBIDDEN`
//! `缺少权限<permission>`; 1003 `E_USER_LOGIN` `用户已登录` (`PUT pass/login`, `GET` and
//! `POST pass/code` with a live session); 1004 `E_USER_NOT_LOGIN` `用户未登录`; 1005
//! `E_USER_NAME_OR_PWD_ERROR` `手机号码与密码不匹配` (unknown user, wrong password and a
//! disabled account alike); 1007 `E_USER_VERIFY_CODE_ERROR` (wrong or expired SMS code); 1032
//! `E_USER_NEED_SMS_AUTH` (the seed's SMS step; the published original numbers it 1023 and
//! crashes there); 1099 (polyauth) outage, HTTP 503.
//!
//! Deliberate differences:
//! - `GET pass/reset` answers 0 whether or not the email is known and mails a link only for a
//!   known, active account (the original answered `用户信息错误`, an enumeration);
//! - the password step sends the SMS code itself (the seed's flow) and `GET pass/code` resends
//!   it at most once a minute;
//! - `time` in `record` is RFC 3339 UTC (the original sent naive local time);
//! - `pass/create` without a password sets a random one and mails the user a reset link.
//!
//! Decisions where the seed is silent:
//! - the session is the access token in the cookie `pauli_session` (HttpOnly, SameSite=Lax,
//!   path `/pauli`, Secure per `POLYAUTH_COOKIE_SECURE`, on in production), one day as the
//!   original's `PAULI_SESSION_LIFETIME`; an `Authorization: Bearer` header is accepted too and
//!   wins over the cookie;
//! - the pending second factor is the cookie `pauli_pending` (same attributes, 20 minutes); it
//!   is cleared when the login completes, by logout, and by a direct login;
//! - `PUT pass/login` takes any identifier in `username` (email, mobile or username), so users
//!   registered through other dialects can sign in; a successful login answers
//!   `result.user_id`; the 1032 answer has an empty `result`;
//! - `GET pass/code` answers `result.method` (`voice` or `sms`, the channel actually used, and
//!   says so in `msg` when voice fell back to SMS);
//! - `GET logined` answers `logined: false` for a missing, expired or revoked session;
//!   `name` falls back to the nickname; `email`, `mobile` (national form in the default
//!   country), `position_id` are "" when absent;
//! - `GET record`: `user_id` defaults to the caller; `limit` default 10, at most 100;
//!   `login_type` is the original's `password-succ`, `password-sms`, `sms-succ` for pauli's own
//!   steps, and for logins through other dialects `code-succ` (a code sent to an email or
//!   mobile), `register` (signed in by registering) and `reset-password` (signed in by a reset);
//! - `POST pass/create`: `name` must not be blank (at most 128 characters); an empty
//!   `password` or `mobile` counts as absent;
//! - every endpoint reads its parameters from the query string and from the body (JSON, or a
//!   form body when the content type says so), the body winning; `pass/login` and
//!   `pass/create`, documented as `application/json`, take JSON bodies only;
//! - `POST pass/reset`: at least one of `password`, `mobile`; it ends every session of the
//!   user;
//! - `GET logout` answers 0 and clears the cookies even without a (valid) session.

use super::{retry_after, wait_seconds};
use crate::{
    clock::rfc3339,
    domain::{Code, Email, Password, PasswordPolicy, Profile, User},
    http,
    sender::Channel,
    services::{
        Client, Dialect, Gate, LegacyId, LoginStep, NewUser, PendingId, Principal, SessionSpec,
        Tokens, PENDING_TTL,
    },
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

pub fn routes() -> crate::openapi::Routes {
    crate::openapi::Routes::new()
}

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
        .layer(axum::Extension(Dialect::Pauli))
}

/// The endpoint a failure happened in, where the original worded a refusal per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Other,
    SendCode,
    ResetRequest,
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
        let Failure { error: e, op } = self;
        let (code, msg, result) = match &e {
            Error::Invalid { field, .. } if field == "method" => {
                (1, "不支持的验证发送方式".to_string(), json!({}))
            }
            Error::Malformed { field, .. } | Error::Invalid { field, .. } => {
                (1, "参数错误".into(), json!({ "field": field }))
            }
            Error::WeakPassword => (1, "密码强度太弱".into(), json!({ "field": "password" })),
            Error::TooManyRequests { .. } if op == Op::SendCode => {
                (1, "验证码发送间隔时间太短".into(), json!({}))
            }
            Error::TooManyRequests { .. } if op == Op::ResetRequest => {
                (1, "24小时内重置次数超过阈值".into(), json!({}))
            }
            Error::TooManyRequests { retry_after } => (
                1,
                format!("操作过于频繁，请{}秒后再试", wait_seconds(*retry_after)),
                json!({}),
            ),
            Error::NoPendingLogin => (
                1,
                "用户名/密码未验证或已失效，请返回重新验证".into(),
                json!({}),
            ),
            Error::ResetTokenInvalid => (1, "重置记录不存在或者已失效".into(), json!({})),
            Error::AlreadyExists { field } => (
                1,
                "用户已经存在".into(),
                json!({ "field": request_field(field) }),
            ),
            Error::CaptchaRequired { .. } | Error::CaptchaInvalid => {
                (1, "参数错误".into(), json!({}))
            }
            Error::MissingPermission(p) => (7, format!("缺少权限{p}"), json!({})),
            Error::Forbidden => (7, "访问被禁止".into(), json!({})),
            Error::AlreadySignedIn => (1003, "用户已登录".into(), json!({})),
            Error::MissingToken
            | Error::Unauthenticated
            | Error::TokenExpired
            | Error::TokenInvalid => (1004, "用户未登录".into(), json!({})),
            Error::InvalidCredentials(_) | Error::NotFound | Error::Disabled => {
                (1005, "手机号码与密码不匹配".into(), json!({}))
            }
            Error::CodeInvalid => (1007, "验证码错误，请输入正确的验证码".into(), json!({})),
            Error::Unavailable => (1099, "服务暂不可用，请稍后再试".into(), json!({})),
        };
        let status = if e == Error::Unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        retry_after(reply(status, code, &msg, result), &e)
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

/// `E_SUCC`, with the original's message.
fn ok(result: Value) -> Response {
    reply(StatusCode::OK, 0, "成功", result)
}

/// A mobile as the original took it (`^1[3-9]\d{9}$`), or in E.164 with its `+`.
fn mobile(auth: &Auth, raw: &str) -> Result<crate::domain::Phone, Error> {
    let s = raw.trim();
    let mainland = s.len() == 11
        && s.starts_with('1')
        && s.as_bytes()
            .get(1)
            .is_some_and(|b| (b'3'..=b'9').contains(b))
        && s.bytes().all(|b| b.is_ascii_digit());
    if !mainland && !s.starts_with('+') {
        return Err(Error::invalid(
            "mobile",
            "a mainland mobile (1[3-9] and 9 digits) or +<country><number>",
        ));
    }
    auth.phone(s).map_err(|e| e.field("mobile"))
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
        dialect: Some(Dialect::Pauli),
        ..Default::default()
    }
}

/// The access token: a Bearer header, else the session cookie.
fn token(headers: &HeaderMap) -> Option<String> {
    http::bearer(headers).or_else(|| http::cookie(headers, SESSION_COOKIE))
}

async fn principal(auth: &Auth, headers: &HeaderMap) -> Result<Principal, Failure> {
    let token = token(headers).ok_or(Error::MissingToken)?;
    Ok(auth.authenticate_in(&token, Dialect::Pauli).await?)
}

/// `E_USER_LOGIN`: the login steps refuse a request that already carries a live session.
async fn refuse_if_signed_in(auth: &Auth, headers: &HeaderMap) -> Result<(), Failure> {
    let Some(token) = token(headers) else {
        return Ok(());
    };
    match auth.authenticate_in(&token, Dialect::Pauli).await {
        Ok(_) => Err(Error::AlreadySignedIn.into()),
        Err(Error::Unavailable) => Err(Error::Unavailable.into()),
        Err(_) => Ok(()),
    }
}

fn pending(headers: &HeaderMap) -> Result<PendingId, Failure> {
    Ok(http::cookie(headers, PENDING_COOKIE)
        .map(PendingId)
        .ok_or(Error::NoPendingLogin)?)
}

fn clear(auth: &Auth, name: &str) -> HeaderValue {
    http::clear_cookie(name, COOKIE_PATH, auth.config().web.cookies)
}

/// Code 0 with the user id, the session cookie set and any pending login cookie cleared.
/// `user_id` as the original's clients know it: an imported user's original id (an ObjectId),
/// else the polyauth id, as a string.
fn shown_id(user: &User) -> String {
    user.legacy_id
        .clone()
        .unwrap_or_else(|| user.id.to_string())
}

fn signed_in(auth: &Auth, tokens: &Tokens, user: &User) -> Response {
    let max_age = tokens.access_expires_at - auth.now();
    let session = http::set_cookie(
        SESSION_COOKIE,
        &tokens.access,
        COOKIE_PATH,
        max_age,
        auth.config().web.cookies,
    );
    let res = with_cookie(ok(json!({ "user_id": shown_id(user) })), session);
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
        "user_id": shown_id(user),
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
    match auth.whoami_in(&token, Dialect::Pauli).await {
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
        Some(raw) => {
            LegacyId::parse(&raw).ok_or_else(|| Error::invalid("user_id", "must be a user id"))?
        }
        None => LegacyId::Number(principal.user_id.0),
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
    let Some((user, records)) = auth
        .login_records_by(&principal, &user, cursor.as_deref(), limit)
        .await?
    else {
        return Ok(ok(json!({ "logs": [] })));
    };
    let logs: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "record_id": r.record_id,
                "login_type": r.login_type.as_str(),
                "user_id": shown_id(&user),
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
    body: Result<Body<CreateReq>, Failure>,
) -> Answer {
    // The session first, as the original checked it before the parameters.
    let principal = principal(&auth, &headers).await?;
    let http::Json(req, _) = body?;
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
    let mobile = given(req.mobile).map(|m| mobile(&auth, &m)).transpose()?;
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
    Ok(ok(json!({ "user_id": shown_id(&user) })))
}

#[derive(Deserialize)]
struct LoginReq {
    username: String,
    password: String,
}

async fn login(
    State(auth): State<Auth>,
    client: Client,
    headers: HeaderMap,
    body: Result<Body<LoginReq>, Failure>,
) -> Answer {
    refuse_if_signed_in(&auth, &headers).await?;
    let http::Json(req, _) = body?;
    let account = auth
        .account(&req.username)
        .map_err(|e| e.field("username"))?;
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    match auth
        .password_login_with_second_step(
            &account,
            &password,
            &Gate::Lockout,
            &session_spec(),
            &client,
        )
        .await?
    {
        LoginStep::SignedIn(s) => Ok(signed_in(&auth, &s.tokens, &s.user)),
        LoginStep::SecondFactor(PendingId(id)) => {
            let msg = "需要进行短信验证";
            let res = reply(StatusCode::OK, E_USER_NEED_SMS_AUTH, msg, json!({}));
            let cookie = http::set_cookie(
                PENDING_COOKIE,
                &id,
                COOKIE_PATH,
                PENDING_TTL,
                auth.config().web.cookies,
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
    client: Client,
    headers: HeaderMap,
    params: Result<Params<SendCodeQuery>, Failure>,
) -> Answer {
    refuse_if_signed_in(&auth, &headers).await?;
    let http::Params(q, _) = params?;
    let voice = match given(q.method)
        .map(|m| m.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("voice") => true,
        Some("sms") => false,
        Some(_) => return Err(Error::invalid("method", "must be voice or sms").into()),
    };
    let pending = pending(&headers)?;
    let channel = auth
        .resend_second_factor(&pending, voice, &client)
        .await
        .map_err(|error| Failure {
            error,
            op: Op::SendCode,
        })?;
    let (method, msg) = match channel {
        Channel::Voice => ("voice", "语音验证码已发送"),
        _ if voice => ("sms", "语音验证暂不可用，验证码已通过短信发送"),
        _ => ("sms", "短信验证码已发送"),
    };
    Ok(reply(StatusCode::OK, 0, msg, json!({ "method": method })))
}

#[derive(Deserialize)]
struct EnterCodeReq {
    code: String,
}

async fn enter_code(
    State(auth): State<Auth>,
    client: Client,
    headers: HeaderMap,
    params: Result<Params<EnterCodeReq>, Failure>,
) -> Answer {
    refuse_if_signed_in(&auth, &headers).await?;
    let http::Params(req, _) = params?;
    let pending = pending(&headers)?;
    let code = Code::parse(&req.code).map_err(|e| e.field("code"))?;
    let s = auth
        .complete_second_factor(&pending, &code, &session_spec(), &client)
        .await?;
    Ok(signed_in(&auth, &s.tokens, &s.user))
}

async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Answer {
    if let Some(token) = token(&headers) {
        match auth.authenticate_in(&token, Dialect::Pauli).await {
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
    client: Client,
    http::Params(q, _): Params<ResetRequestQuery>,
) -> Answer {
    let email = Email::parse(&q.email).map_err(|e| e.field("email"))?;
    auth.request_reset_link(&email, &client)
        .await
        .map_err(|error| Failure {
            error,
            op: Op::ResetRequest,
        })?;
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
    client: Client,
    http::Params(req, _): Params<ResetRedeemReq>,
) -> Answer {
    let code = reset_code(&req.code)?;
    let password = given(req.password)
        .map(|p| Password::new(&p, PasswordPolicy::default()).map_err(|e| e.field("password")))
        .transpose()?;
    let mobile = given(req.mobile).map(|m| mobile(&auth, &m)).transpose()?;
    auth.redeem_reset_token(code, password, mobile, &client)
        .await?;
    Ok(ok(json!({})))
}

#[cfg(test)]
mod tests;
