//! Seed 002 (`/api/v1/auth`): `{code, data, msg}` envelope; 200 ok, -1 captcha needed
//! (`data.captchaId`), 2000 token invalid, plus (API-NOTES) 1001 bad parameters, 1002 wrong
//! email or password, 1003 code (or captcha answer) wrong or expired, 1004 email already
//! registered, 1005 too many requests, 1006 account disabled, 500 internal (HTTP 503).
//!
//! Decisions where the seed is silent:
//! - added `sendEmailCode {email, type: register|login|resetpwd}` (no captcha needed: the 60 s
//!   resend interval and hourly cap bound it), `captcha {captchaId?}` and
//!   `captcha/verify {captchaId, x}`;
//! - `login/email` signs in existing accounts only (registration has its own endpoint);
//! - the refresh token is also set as an HttpOnly cookie `refreshToken` on `/api/v1/auth`,
//!   and `updateToken` / `logout` read it when the body has none;
//! - `resetpwdCheck` answers ok for unknown emails too (no enumeration) and mails nothing;
//! - `logout` ends the session of the `Authorization` token and of the refresh token.

use super::{describe, status_of};
use crate::{
    domain::{Account, Code, Email, Password, PasswordPolicy},
    http::{self, bearer},
    services::{Gate, LoginStep, NewUser, Purpose, SessionSpec, Tokens},
    Auth, Error,
};
use axum::{
    extract::{Query, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

const PREFIX: &str = "/api/v1/auth";
const COOKIE: &str = "refreshToken";

pub fn router(auth: Auth) -> Router {
    Router::new()
        .route(&format!("{PREFIX}/register"), post(register))
        .route(&format!("{PREFIX}/login"), post(login))
        .route(&format!("{PREFIX}/login/email"), post(login_email))
        .route(&format!("{PREFIX}/updateToken"), post(update_token))
        .route(&format!("{PREFIX}/logout"), post(logout))
        .route(
            &format!("{PREFIX}/resetpwdCheck"),
            post(resetpwd_check).get(resetpwd_check_legacy),
        )
        .route(&format!("{PREFIX}/modifyPwd"), post(modify_pwd))
        .route(&format!("{PREFIX}/sendEmailCode"), post(send_email_code))
        .route(&format!("{PREFIX}/captcha"), post(captcha))
        .route(&format!("{PREFIX}/captcha/verify"), post(captcha_verify))
        .with_state(auth)
}

/// The one place this dialect turns a core error into its envelope.
pub struct Failure(Error);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let e = self.0;
        let (code, data, msg) = match &e {
            Error::CaptchaRequired { captcha_id } => (
                -1,
                json!({ "captchaId": captcha_id }),
                "需要人机验证".to_string(),
            ),
            Error::Invalid { .. } => (1001, Value::Null, describe(&e)),
            Error::InvalidCredentials(_) | Error::NotFound => {
                (1002, Value::Null, "wrong email or password".into())
            }
            Error::CodeInvalid | Error::CaptchaInvalid | Error::ResetTokenInvalid => {
                (1003, Value::Null, describe(&e))
            }
            Error::AlreadyExists { .. } => (1004, Value::Null, "email already registered".into()),
            Error::TooManyRequests { .. } => (1005, Value::Null, describe(&e)),
            Error::Disabled => (1006, Value::Null, "account disabled".into()),
            Error::Unauthenticated
            | Error::TokenExpired
            | Error::NoPendingLogin
            | Error::Forbidden => (2000, Value::Null, "error".into()),
            Error::Unavailable => (500, Value::Null, "internal error".into()),
        };
        (
            status_of(&e),
            axum::Json(json!({ "code": code, "data": data, "msg": msg })),
        )
            .into_response()
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

fn signed_in(auth: &Auth, tokens: &Tokens, user_id: u64) -> Response {
    let mut res =
        ok(json!({ "token": tokens.access, "refreshToken": tokens.refresh, "userId": user_id }));
    let max_age = tokens.refresh_expires_at - auth.now();
    let cookie = http::set_cookie(
        COOKIE,
        &tokens.refresh,
        PREFIX,
        max_age,
        auth.config().cookie_secure,
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

async fn register(State(auth): State<Auth>, http::Json(req, _): Body<RegisterReq>) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let password =
        Password::new(&req.password, PasswordPolicy::default()).map_err(|e| e.field("password"))?;
    let code = Code::parse(&req.code).map_err(|e| e.field("code"))?;
    let check = auth
        .check_code_for(Purpose::Register, &account, &code)
        .await?;
    let new = NewUser {
        email: Some(email(&req.email)?),
        password: Some(password),
        ..Default::default()
    };
    auth.register(new, Some(check)).await?;
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
    headers: HeaderMap,
    http::Json(req, _): Body<LoginReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let gate = Gate::Captcha(captcha_id(&req.captcha_id));
    let step = auth
        .password_login(
            &account,
            &password,
            &gate,
            &SessionSpec::default(),
            &http::client(&headers),
            false,
        )
        .await?;
    match step {
        LoginStep::SignedIn(s) => Ok(signed_in(&auth, &s.tokens, s.user.id.0)),
        LoginStep::SecondFactor(_) => Err(Error::Unavailable.into()),
    }
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
    headers: HeaderMap,
    http::Json(req, _): Body<LoginEmailReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let code = Code::parse(&req.code).map_err(|e| e.field("code"))?;
    let gate = Gate::Captcha(captcha_id(&req.captcha_id));
    let s = auth
        .code_login(
            &account,
            &code,
            false,
            &gate,
            &SessionSpec::default(),
            &http::client(&headers),
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
}

async fn update_token(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<RefreshReq>,
) -> Answer {
    let token = refresh_token(&req, &headers)
        .ok_or_else(|| Error::invalid("refreshToken", "is required"))?;
    let tokens = auth.refresh(&token).await?;
    Ok(signed_in(&auth, &tokens, tokens.user_id.0))
}

async fn logout(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<RefreshReq>,
) -> Answer {
    let mut ended = 0;
    let mut authenticated = false;
    if let Some(access) = bearer(&headers) {
        let principal = auth.authenticate(&access).await?;
        authenticated = true;
        ended += auth.logout(&principal).await?;
    }
    if let Some(refresh) = refresh_token(&req, &headers) {
        ended += auth.logout_refresh(&refresh).await?;
    }
    if ended == 0 && !authenticated {
        return Err(Error::Unauthenticated.into());
    }
    let mut res = ok(Value::Null);
    let clear = http::clear_cookie(COOKIE, PREFIX, auth.config().cookie_secure);
    res.headers_mut().append(header::SET_COOKIE, clear);
    Ok(res)
}

#[derive(Deserialize)]
struct ResetCheckReq {
    email: String,
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

async fn resetpwd_check(
    State(auth): State<Auth>,
    http::Json(req, _): Body<ResetCheckReq>,
) -> Answer {
    reset_check(&auth, &req.email, captcha_id(&req.captcha_id)).await
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
    query: Result<Query<ResetCheckQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(q) = query.map_err(|e| Error::invalid("query", e.body_text()))?;
    let raw = q
        .email
        .or(q.eamil)
        .ok_or_else(|| Error::invalid("email", "is required"))?;
    reset_check(&auth, &raw, captcha_id(&q.captcha_id)).await
}

async fn reset_check(auth: &Auth, raw_email: &str, captcha: Option<String>) -> Answer {
    let account = Account::Email(email(raw_email)?);
    auth.request_reset_code(&account, captcha.as_deref())
        .await?;
    Ok(ok(Value::Null))
}

#[derive(Deserialize)]
struct ModifyPwdReq {
    email: String,
    password: String,
    code: String,
}

async fn modify_pwd(State(auth): State<Auth>, http::Json(req, _): Body<ModifyPwdReq>) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let password =
        Password::new(&req.password, PasswordPolicy::default()).map_err(|e| e.field("password"))?;
    let code = Code::parse(&req.code).map_err(|e| e.field("code"))?;
    auth.reset_password_with_code(&account, &code, &password)
        .await?;
    Ok(ok(Value::Null))
}

#[derive(Deserialize)]
struct SendCodeReq {
    email: String,
    #[serde(rename = "type")]
    kind: String,
}

async fn send_email_code(
    State(auth): State<Auth>,
    http::Json(req, _): Body<SendCodeReq>,
) -> Answer {
    let account = Account::Email(email(&req.email)?);
    let purpose = match req.kind.as_str() {
        "register" => Purpose::Register,
        "login" => Purpose::Login,
        "resetpwd" => Purpose::ResetPassword,
        _ => return Err(Error::invalid("type", "must be register, login or resetpwd").into()),
    };
    auth.send_code(purpose, &account).await?;
    Ok(ok(Value::Null))
}

#[derive(Deserialize)]
struct CaptchaReq {
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

async fn captcha(State(auth): State<Auth>, http::Json(req, _): Body<CaptchaReq>) -> Answer {
    let c = auth.captcha(captcha_id(&req.captcha_id).as_deref()).await?;
    Ok(ok(json!({
        "captchaId": c.id,
        "background": c.background,
        "piece": c.piece,
        "y": c.y,
        "width": c.width,
        "height": c.height,
        "pieceSize": c.piece_size,
    })))
}

#[derive(Deserialize)]
struct VerifyReq {
    #[serde(rename = "captchaId")]
    captcha_id: String,
    x: f64,
}

async fn captcha_verify(State(auth): State<Auth>, http::Json(req, _): Body<VerifyReq>) -> Answer {
    auth.verify_captcha(&req.captcha_id, req.x.round() as i64)
        .await?;
    Ok(ok(Value::Null))
}

#[cfg(test)]
mod tests;
