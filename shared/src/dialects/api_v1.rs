//! Seed 002 (`/api/v1/auth`, and the `/api/v1/verify` routes its original's clients call):
//! `{code, data, msg}` with HTTP 200 for every answer but an outage (503), as the original's
//! `resp.Result` did; its axios clients treat any other status as a network failure.
//!
//! Codes are the original's: 200 ok; 500 for every refusal, with the original's message
//! (`请求参数有误` unreadable body or missing field, `邮箱格式错误`, `密码长度不能小于6位`,
//! `验证码长度为6位`, `用户名密码不匹配`, `邮箱验证码错误`, `邮箱已存在`, `获取失败`,
//! `滑块验证失败`); -1 `需要人机验证` with `data.captchaId`; 3000 when the access token is
//! missing (`TOKEN无效`) or expired (`TOKEN过期`), on which the clients refresh and retry; 2000
//! `token验证失败` for any other token failure, on which they sign the user out.
//!
//! Deliberate differences (security):
//! - an unknown email at login answers `用户名密码不匹配` like a wrong password (the original
//!   answered `获取用户信息失败`), and `resetpwdCheck` answers ok for unknown emails and mails
//!   nothing (the original answered `用户不存在`);
//! - `verify/getEmailCode` needs a solved captcha (the original also took an issued, unsolved
//!   id), and a captcha id is spent by the one request it lets through;
//! - polyauth's own refusals (rate limits, lockout, disabled account) are 500 with their own
//!   Chinese text, with `Retry-After` where there is a time to wait.
//!
//! Decisions where the seed is silent:
//! - `verify/getEmailCode {email, captchaId}` mails one 6-digit code valid 5 minutes that
//!   `register`, `login/email` and `modifyPwd` all accept (the original kept one per email);
//! - `verify/captcha/get?captchaId=` renders the challenge anew (310×160 background, 50×50
//!   piece, base64 PNG without a `data:` prefix); each `verify/captcha/validate {captchaId, x}`
//!   spends the rendering, tolerance ±3 px; in development each rendering's answer is in the
//!   dev outbox (channel `captcha`);
//! - polyauth's earlier routes stay: `sendEmailCode {email, type: register|login|resetpwd}`
//!   mails a purpose-bound code (a solved `captchaId` needed for `resetpwd`), and `captcha` /
//!   `captcha/verify` are aliases of the verify routes;
//! - `login/email` signs in existing accounts only (registration has its own endpoint);
//! - the refresh token is also set as the HttpOnly cookie `refresh_token` on `/api` (the newer
//!   client refreshes with an empty body); `updateToken` and `logout` read the body first;
//! - `logout` checks an `Authorization` token when one is sent, like the original's middleware
//!   (3000 / 2000), then needs a refresh token (500 `请求参数有误` without one, 2000 for an
//!   unknown one), ends its session and the access token's, and clears the cookie.

use super::{retry_after, wait_seconds};
use crate::{
    domain::{Account, Code, Email, Password, PasswordPolicy},
    http::{self, bearer},
    services::{Client, Dialect, Gate, NewUser, Purpose, SessionSpec, Tokens, UnknownAccount},
    Auth, Error,
};
use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

const PREFIX: &str = "/api/v1/auth";
const VERIFY: &str = "/api/v1/verify";
const COOKIE: &str = "refresh_token";
/// The cookie name of polyauth's earlier releases, still read.
const OLD_COOKIE: &str = "refreshToken";
const COOKIE_PATH: &str = "/api";

pub fn routes() -> crate::openapi::Routes {
    crate::openapi::Routes::new()
}

pub fn router(auth: Auth) -> Router {
    let auth_routes = Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/login/email", post(login_email))
        .route("/updateToken", post(update_token))
        .route("/logout", post(logout))
        .route(
            "/resetpwdCheck",
            post(resetpwd_check).get(resetpwd_check_legacy),
        )
        .route("/modifyPwd", post(modify_pwd))
        .route("/sendEmailCode", post(send_email_code))
        .route("/captcha", post(captcha))
        .route("/captcha/verify", post(captcha_validate));
    let verify_routes = Router::new()
        .route("/getEmailCode", post(get_email_code))
        .route("/captcha/get", get(captcha_get))
        .route("/captcha/validate", post(captcha_validate));
    Router::new()
        .nest(PREFIX, auth_routes)
        .nest(VERIFY, verify_routes)
        .with_state(auth)
        .layer(axum::Extension(Dialect::ApiV1))
}

/// The endpoint a failure happened in, where the original worded one error per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Other,
    CaptchaGet,
    /// Registering or changing a password: the new password's rules apply.
    NewPassword,
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

const REFUSED: i64 = 500;

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure { error: e, op } = self;
        let refused = |msg: &str| (REFUSED, Value::Null, msg.to_string());
        let (code, data, msg) = match &e {
            Error::CaptchaRequired { captcha_id } => (
                -1,
                json!({ "captchaId": captcha_id }),
                "需要人机验证".to_string(),
            ),
            Error::Malformed { .. } => refused("请求参数有误"),
            Error::Invalid { field, .. } if field == "password" && op == Op::NewPassword => {
                refused("密码长度不能小于8位")
            }
            Error::WeakPassword => {
                refused("密码强度太弱，请换一个更长、更不常见且不含账号信息的密码")
            }
            Error::Invalid { field, .. } => match field.as_str() {
                "email" => refused("邮箱格式错误"),
                "password" => refused("密码长度不能小于6位"),
                "code" => refused("验证码长度为6位"),
                _ => refused("请求参数有误"),
            },
            Error::InvalidCredentials(_) | Error::NotFound => refused("用户名密码不匹配"),
            Error::CodeInvalid | Error::ResetTokenInvalid => refused("邮箱验证码错误"),
            Error::AlreadyExists { .. } => refused("邮箱已存在"),
            Error::CaptchaInvalid if op == Op::CaptchaGet => refused("获取失败"),
            Error::CaptchaInvalid => refused("滑块验证失败"),
            Error::TooManyRequests { retry_after } => refused(&format!(
                "操作过于频繁，请{}秒后再试",
                wait_seconds(*retry_after)
            )),
            Error::Disabled => refused("账号已被禁用"),
            Error::Forbidden | Error::MissingPermission(_) => refused("权限不足"),
            Error::NoPendingLogin | Error::AlreadySignedIn => refused("请求参数有误"),
            Error::MissingToken => (3000, Value::Null, "TOKEN无效".into()),
            Error::TokenExpired => (3000, Value::Null, "TOKEN过期".into()),
            Error::TokenInvalid | Error::Unauthenticated => {
                (2000, Value::Null, "token验证失败".into())
            }
            Error::Unavailable => refused("服务暂不可用，请稍后再试"),
        };
        let status = if e == Error::Unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        let res = (
            status,
            axum::Json(json!({ "code": code, "data": data, "msg": msg })),
        )
            .into_response();
        retry_after(res, &e)
    }
}

type Body<T> = http::Json<T, Failure>;
type Answer = Result<Response, Failure>;

fn ok(data: Value) -> Response {
    axum::Json(json!({ "code": 200, "data": data, "msg": "ok" })).into_response()
}

fn email(raw: &str) -> Result<Email, Failure> {
    Ok(Email::parse(raw).map_err(|e| e.field("email"))?)
}

/// A password being chosen (register, modifyPwd): eight characters or more.
fn new_password(raw: &str) -> Result<Password, Failure> {
    Password::new(raw, PasswordPolicy::default())
        .map_err(|e| during_new_password(e.field("password")))
}

fn during_new_password(error: Error) -> Failure {
    Failure {
        error,
        op: Op::NewPassword,
    }
}

/// The original's codes are exactly six digits (`验证码长度为6位` otherwise).
fn code(raw: &str) -> Result<Code, Failure> {
    if raw.trim().len() != Code::LEN {
        return Err(Error::invalid("code", "must be 6 digits").into());
    }
    Ok(Code::parse(raw).map_err(|e| e.field("code"))?)
}

fn session_spec() -> SessionSpec {
    SessionSpec {
        dialect: Some(Dialect::ApiV1),
        ..Default::default()
    }
}

fn signed_in(auth: &Auth, tokens: &Tokens, user_id: u64) -> Response {
    let mut res =
        ok(json!({ "token": tokens.access, "refreshToken": tokens.refresh, "userId": user_id }));
    let max_age = tokens.refresh_expires_at - auth.now();
    let cookie = http::set_cookie(
        COOKIE,
        &tokens.refresh,
        COOKIE_PATH,
        max_age,
        auth.config().web.cookies,
    );
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

fn captcha_id(raw: &Option<String>) -> Option<String> {
    raw.clone().filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
struct RegisterReq {
    email: String,
    password: String,
    code: String,
}

async fn register(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<RegisterReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let password = new_password(&req.password)?;
    let code = code(&req.code)?;
    let check = auth
        .check_code_for(Purpose::Register, &account, &code, &client)
        .await?;
    let new = NewUser {
        email: Some(email(&req.email)?),
        password: Some(password),
        ..Default::default()
    };
    auth.register(new, Some(check), &client)
        .await
        .map_err(during_new_password)?;
    Ok(ok(Value::Null))
}

#[derive(Deserialize)]
struct LoginReq {
    email: String,
    password: String,
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

async fn login(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<LoginReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    // The original refused a password under six characters before counting the attempt (new
    // passwords need eight now; older ones still sign in).
    if req.password.chars().count() < 6 {
        return Err(Error::invalid("password", "at least 6 characters").into());
    }
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let gate = Gate::Captcha(captcha_id(&req.captcha_id));
    let s = auth
        .password_login(&account, &password, &gate, &session_spec(), &client)
        .await?;
    Ok(signed_in(&auth, &s.tokens, s.user.id.0))
}

#[derive(Deserialize)]
struct LoginEmailReq {
    email: String,
    code: String,
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

async fn login_email(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<LoginEmailReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let code = code(&req.code)?;
    let gate = Gate::Captcha(captcha_id(&req.captcha_id));
    let s = auth
        .code_login(
            &account,
            &code,
            UnknownAccount::Refuse,
            &gate,
            &session_spec(),
            &client,
        )
        .await?;
    Ok(signed_in(&auth, &s.tokens, s.user.id.0))
}

#[derive(Deserialize)]
struct RefreshReq {
    #[serde(default, rename = "refreshToken")]
    refresh_token: Option<String>,
}

fn refresh_token(req: &RefreshReq, headers: &HeaderMap) -> Option<String> {
    req.refresh_token
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| http::cookie(headers, COOKIE))
        .or_else(|| http::cookie(headers, OLD_COOKIE))
}

async fn update_token(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<RefreshReq>,
) -> Answer {
    let token = refresh_token(&req, &headers).ok_or(Error::TokenInvalid)?;
    let tokens = auth
        .refresh(&token, Dialect::ApiV1)
        .await
        .map_err(|e| match e {
            Error::Unavailable => e,
            _ => Error::TokenInvalid,
        })?;
    Ok(signed_in(&auth, &tokens, tokens.user_id.0))
}

async fn logout(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<RefreshReq>,
) -> Response {
    // The refresh token is voided and the cookie cleared whatever the access token's state:
    // a client whose access token expired is signed out all the same. A presented access
    // token is then checked like the original's middleware did (an expired one answers 3000,
    // and the clients refresh and retry), and its session ends too.
    let refresh = refresh_token(&req, &headers);
    let outcome = logout_outcome(&auth, &headers, refresh.as_deref()).await;
    let mut res = match outcome {
        Ok(()) => ok(Value::Null),
        Err(e) => Failure::from(e).into_response(),
    };
    let clear = http::clear_cookie(COOKIE, COOKIE_PATH, auth.config().web.cookies);
    res.headers_mut().append(header::SET_COOKIE, clear);
    res
}

async fn logout_outcome(
    auth: &Auth,
    headers: &HeaderMap,
    refresh: Option<&str>,
) -> Result<(), Error> {
    let presented = match bearer(headers) {
        Some(access) => Some(auth.authenticate_in(&access, Dialect::ApiV1).await),
        None => None,
    };
    let voided = match refresh {
        Some(r) => auth.logout_refresh(r).await?,
        None => 0,
    };
    let principal = presented.transpose()?;
    match (refresh, voided) {
        (None, _) => Err(Error::malformed("refreshToken", "is required")),
        (Some(_), 0) => Err(Error::TokenInvalid),
        _ => {
            if let Some(principal) = principal {
                auth.logout(&principal).await?;
            }
            Ok(())
        }
    }
}

#[derive(Deserialize)]
struct ResetCheckReq {
    email: String,
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

async fn resetpwd_check(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<ResetCheckReq>,
) -> Answer {
    reset_check(&auth, &req.email, captcha_id(&req.captcha_id), &client).await
}

/// The pre-1.0.2 form: `GET ?eamil=...&captchaId=...` (the seed's spelling), or `?email=`.
#[derive(Deserialize)]
struct ResetCheckQuery {
    email: Option<String>,
    eamil: Option<String>,
    #[serde(rename = "captchaId")]
    captcha_id: Option<String>,
}

async fn resetpwd_check_legacy(
    State(auth): State<Auth>,
    client: Client,
    query: Result<Query<ResetCheckQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(q) = query.map_err(|e| Error::invalid("query", e.body_text()))?;
    let raw = q
        .email
        .or(q.eamil)
        .ok_or_else(|| Error::malformed("email", "is required"))?;
    reset_check(&auth, &raw, captcha_id(&q.captcha_id), &client).await
}

async fn reset_check(
    auth: &Auth,
    raw_email: &str,
    captcha: Option<String>,
    client: &Client,
) -> Answer {
    let account = Account::Email(email(raw_email)?);
    auth.request_reset_code(&account, captcha.as_deref(), client)
        .await?;
    Ok(ok(Value::Null))
}

#[derive(Deserialize)]
struct ModifyPwdReq {
    email: String,
    password: String,
    code: String,
}

async fn modify_pwd(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<ModifyPwdReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let password = new_password(&req.password)?;
    let code = code(&req.code)?;
    auth.reset_password_with_code(&account, &code, &password, &client)
        .await
        .map_err(during_new_password)?;
    Ok(ok(Value::Null))
}

#[derive(Deserialize)]
struct SendCodeReq {
    email: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

async fn send_email_code(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<SendCodeReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    match req.kind.as_str() {
        "register" => auth.send_code(Purpose::Register, &account, &client).await?,
        "login" => auth.send_code(Purpose::Login, &account, &client).await?,
        "resetpwd" => {
            let captcha = captcha_id(&req.captcha_id);
            auth.send_code_behind_captcha(
                Purpose::ResetPassword,
                &account,
                captcha.as_deref(),
                &client,
            )
            .await?
        }
        _ => return Err(Error::invalid("type", "must be register, login or resetpwd").into()),
    };
    Ok(ok(Value::Null))
}

#[derive(Deserialize)]
struct EmailCodeReq {
    email: String,
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

/// `POST /api/v1/verify/getEmailCode`: the code the original's clients register, sign in by
/// email and change passwords with.
async fn get_email_code(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<EmailCodeReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let captcha = captcha_id(&req.captcha_id);
    auth.send_code_behind_captcha(Purpose::AnyEmail, &account, captcha.as_deref(), &client)
        .await?;
    Ok(ok(Value::Null))
}

#[derive(Deserialize)]
struct CaptchaQuery {
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

fn slider(c: &crate::services::Challenge) -> Value {
    json!({ "slider_img": c.piece, "bg_img": c.background, "y": c.y })
}

/// `GET /api/v1/verify/captcha/get?captchaId=`: a new rendering of an issued challenge.
async fn captcha_get(
    State(auth): State<Auth>,
    client: Client,
    http::Params(q, _): http::Params<CaptchaQuery, Failure>,
) -> Answer {
    let during_get = |error| Failure {
        error,
        op: Op::CaptchaGet,
    };
    let id = captcha_id(&q.captcha_id).ok_or_else(|| during_get(Error::CaptchaInvalid))?;
    let c = auth
        .render_captcha(&id, &client)
        .await
        .map_err(during_get)?;
    Ok(ok(json!({ "slider_captcha": slider(&c) })))
}

/// `POST /api/v1/auth/captcha {captchaId?}`: `captcha/get` by body, issuing a challenge when
/// none is named.
async fn captcha(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<CaptchaQuery>,
) -> Answer {
    let c = auth
        .captcha(captcha_id(&req.captcha_id).as_deref(), &client)
        .await
        .map_err(|error| Failure {
            error,
            op: Op::CaptchaGet,
        })?;
    Ok(ok(
        json!({ "captchaId": c.id, "slider_captcha": slider(&c) }),
    ))
}

#[derive(Deserialize)]
struct ValidateReq {
    #[serde(rename = "captchaId")]
    captcha_id: String,
    x: i64,
}

async fn captcha_validate(
    State(auth): State<Auth>,
    client: Client,
    http::Json(req, _): Body<ValidateReq>,
) -> Answer {
    auth.verify_captcha(&req.captcha_id, req.x, &client).await?;
    Ok(ok(Value::Null))
}

#[cfg(test)]
mod tests;
