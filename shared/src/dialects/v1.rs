//! Seed 003 (`/v1/auth`): plain JSON bodies; a signed-in answer is
//! `{token, isNewUser, user: {id, nickname, email, mobile, gender, avatar}}`; every error is
//! `{"error": "<Chinese text>"}` with the HTTP status of its class (400, 401, 403, 409, 429, 503).
//!
//! Decisions where the seed is silent (API-NOTES section 003 settles the rest):
//! - error texts: 验证码不存在或已过期 (code wrong, expired, spent or voided; also a code for an
//!   unknown account on `reset-password`), 参数错误: <field> <reason> (bad or missing
//!   parameter, malformed JSON; the field is named), 账号或密码错误 (401; unknown account and
//!   wrong password alike), 账号已存在 (409), 请求过于频繁，请 N 秒后再试 (429, with
//!   `Retry-After`), 账号已被禁用 (403), 服务暂不可用 (503);
//! - `account` is a mobile number (national numbers get the configured default country code,
//!   86) or an email; a username is refused with 400 naming `account`;
//! - `user.mobile` is shown in national form for numbers of the default country
//!   (`13312341234`), E.164 otherwise; `token` is the access token (a JWT, default lifetime);
//!   no refresh token is handed out, since the seed shows none;
//! - `send-code` in production answers `{"message": "验证码发送成功"}`; `flag` must be one of
//!   `register`, `login`, `reset-password`, else 400 naming `flag`; the core's 60 s resend
//!   interval and hourly cap answer 429. Codes are 6 digits; the development answer shows the
//!   code as an integer as the seed does, so a code with a leading zero loses it there;
//! - `code` fields take the seed's string, or that integer form (read back as 6 digits, leading
//!   zeros restored);
//! - `check-code` has no flag: it checks the account's outstanding register, login and
//!   reset-password codes, answers the code as sent (the seed's example shows a different one,
//!   taken as an illustration) and its expiry; a code matching none costs each outstanding code
//!   one of its five tries;
//! - `register` needs a code sent with flag `register`; an empty or absent `nickname` gets the
//!   masked mobile or email; an account already registered gets 409 账号已存在 (the code stays
//!   unspent); the answer carries a new session's token and `isNewUser: true`; the password
//!   policy is the core default (6 to 128 characters);
//! - `login` takes exactly one of `password` and `code` (absent, null and "" count as not given;
//!   both is 400 naming `code`); a password login never asks for a second factor (the seed has
//!   no step for it); repeated failures lock the account as everywhere (429);
//! - `reset-password` needs a code sent with flag `reset-password`, ends every older session of
//!   the user, and answers a new session's token with `isNewUser: false`.

use super::status_of;
use crate::{
    clock::rfc3339,
    domain::{Account, Code, Password, PasswordPolicy, Profile},
    http,
    services::{Gate, LoginStep, NewUser, Purpose, SessionSpec, SignedIn},
    Auth, Error,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

const PREFIX: &str = "/v1/auth";

pub fn router(auth: Auth) -> Router {
    Router::new()
        .route(&format!("{PREFIX}/login"), post(login))
        .route(&format!("{PREFIX}/register"), post(register))
        .route(&format!("{PREFIX}/reset-password"), post(reset_password))
        .route(&format!("{PREFIX}/send-code"), post(send_code))
        .route(&format!("{PREFIX}/check-code"), post(check_code))
        .with_state(auth)
}

/// The one place this dialect turns a core error into its answer.
pub struct Failure(Error);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let e = self.0;
        let text = match &e {
            Error::Invalid { field, reason } => format!("参数错误: {field} {reason}"),
            Error::InvalidCredentials(_) => "账号或密码错误".into(),
            Error::CodeInvalid | Error::ResetTokenInvalid => "验证码不存在或已过期".into(),
            Error::CaptchaRequired { .. } => "需要人机验证".into(),
            Error::CaptchaInvalid => "人机验证未通过".into(),
            Error::TooManyRequests { retry_after } => {
                format!("请求过于频繁，请 {} 秒后再试", (*retry_after).max(1))
            }
            Error::AlreadyExists { .. } => "账号已存在".into(),
            Error::NotFound => "账号不存在".into(),
            Error::Unauthenticated | Error::TokenExpired | Error::NoPendingLogin => {
                "未登录或登录已过期".into()
            }
            Error::Forbidden => "没有权限".into(),
            Error::Disabled => "账号已被禁用".into(),
            Error::Unavailable => "服务暂不可用，请稍后再试".into(),
        };
        let mut res = (status_of(&e), axum::Json(json!({ "error": text }))).into_response();
        if let Error::TooManyRequests { retry_after } = e {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        }
        res
    }
}

type Body<T> = http::Json<T, Failure>;
type Answer = Result<Response, Failure>;

fn account(auth: &Auth, raw: &str) -> Result<Account, Failure> {
    Ok(auth.contact(raw).map_err(|e| e.field("account"))?)
}

fn new_password(raw: &str) -> Result<Password, Failure> {
    Ok(Password::new(raw, PasswordPolicy::default()).map_err(|e| e.field("password"))?)
}

/// A code as the seed sends it (a string), or as the development `send-code` shows it (an
/// integer, which lost the leading zeros of the 6-digit code).
fn code(raw: &Value) -> Result<Code, Failure> {
    let text = match raw {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_u64() {
            Some(n) => format!("{n:0width$}", width = Code::LEN),
            None => return Err(Error::invalid("code", "must be a string of digits").into()),
        },
        _ => return Err(Error::invalid("code", "must be a string of digits").into()),
    };
    Ok(Code::parse(&text).map_err(|e| e.field("code"))?)
}

/// A field that is absent, null or "" is not given.
fn given(v: &Option<Value>) -> Option<&Value> {
    v.as_ref()
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
}

fn signed_in(auth: &Auth, s: &SignedIn) -> Response {
    let u = &s.user;
    axum::Json(json!({
        "token": s.tokens.access,
        "isNewUser": s.is_new,
        "user": {
            "id": u.id.0,
            "nickname": u.profile.nickname,
            "email": u.email.as_ref().map(|e| e.as_str()).unwrap_or(""),
            "mobile": u.mobile.as_ref().map(|m| auth.show_phone(m)).unwrap_or_default(),
            "gender": u.profile.gender.0,
            "avatar": u.profile.avatar,
        },
    }))
    .into_response()
}

#[derive(Deserialize)]
struct LoginReq {
    account: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    code: Option<Value>,
}

async fn login(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<LoginReq>,
) -> Answer {
    let account = account(&auth, &req.account)?;
    let spec = SessionSpec::default();
    let client = http::client(&headers);
    let password = req.password.as_deref().filter(|p| !p.is_empty());
    match (password, given(&req.code)) {
        (Some(_), Some(_)) => {
            Err(Error::invalid("code", "send either password or code, not both").into())
        }
        (None, None) => Err(Error::invalid("password", "password or code is required").into()),
        (Some(raw), None) => {
            let password = Password::attempt(raw).map_err(|e| e.field("password"))?;
            match auth
                .password_login(&account, &password, &Gate::Lockout, &spec, &client, false)
                .await?
            {
                LoginStep::SignedIn(s) => Ok(signed_in(&auth, &s)),
                LoginStep::SecondFactor(_) => Err(Error::Unavailable.into()),
            }
        }
        (None, Some(raw)) => {
            let code = code(raw)?;
            let s = auth
                .code_login(&account, &code, true, &Gate::Lockout, &spec, &client)
                .await?;
            Ok(signed_in(&auth, &s))
        }
    }
}

#[derive(Deserialize)]
struct RegisterReq {
    account: String,
    password: String,
    #[serde(default)]
    nickname: Option<String>,
    code: Value,
}

async fn register(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<RegisterReq>,
) -> Answer {
    let account = account(&auth, &req.account)?;
    let password = new_password(&req.password)?;
    let code = code(&req.code)?;
    let check = auth
        .check_code_for(Purpose::Register, &account, &code)
        .await?;
    let (email, mobile) = match &account {
        Account::Email(e) => (Some(e.clone()), None),
        Account::Mobile(m) => (None, Some(m.clone())),
        Account::Username(_) => {
            return Err(Error::invalid("account", "must be a mobile number or an email").into())
        }
    };
    let new = NewUser {
        email,
        mobile,
        password: Some(password),
        profile: Profile {
            nickname: req.nickname.as_deref().unwrap_or("").trim().to_string(),
            ..Default::default()
        },
        ..Default::default()
    };
    let s = auth
        .register_and_sign_in(
            new,
            Some(check),
            &SessionSpec::default(),
            &http::client(&headers),
        )
        .await?;
    Ok(signed_in(&auth, &s))
}

#[derive(Deserialize)]
struct ResetReq {
    account: String,
    password: String,
    code: Value,
}

async fn reset_password(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<ResetReq>,
) -> Answer {
    let account = account(&auth, &req.account)?;
    let password = new_password(&req.password)?;
    let code = code(&req.code)?;
    let s = auth
        .reset_password_and_sign_in(
            &account,
            &code,
            &password,
            &SessionSpec::default(),
            &http::client(&headers),
        )
        .await?;
    Ok(signed_in(&auth, &s))
}

#[derive(Deserialize)]
struct SendCodeReq {
    account: String,
    flag: String,
}

async fn send_code(State(auth): State<Auth>, http::Json(req, _): Body<SendCodeReq>) -> Answer {
    let account = account(&auth, &req.account)?;
    let purpose = match req.flag.as_str() {
        "register" => Purpose::Register,
        "login" => Purpose::Login,
        "reset-password" => Purpose::ResetPassword,
        _ => {
            return Err(Error::invalid("flag", "must be register, login or reset-password").into())
        }
    };
    let issued = auth.send_code(purpose, &account).await?;
    if !auth.config().is_dev() {
        return Ok(axum::Json(json!({ "message": "验证码发送成功" })).into_response());
    }
    let shown = match issued.code.as_str().parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(issued.code.as_str()),
    };
    Ok(axum::Json(json!({ "message": "开发模式，验证码发送成功", "code": shown })).into_response())
}

#[derive(Deserialize)]
struct CheckCodeReq {
    account: String,
    code: Value,
}

async fn check_code(State(auth): State<Auth>, http::Json(req, _): Body<CheckCodeReq>) -> Answer {
    let account = account(&auth, &req.account)?;
    let code = code(&req.code)?;
    let check = auth.check_code_any(&account, &code).await?;
    Ok(
        axum::Json(json!({ "code": code.as_str(), "expired_at": rfc3339(check.expires_at) }))
            .into_response(),
    )
}

#[cfg(test)]
mod tests;
