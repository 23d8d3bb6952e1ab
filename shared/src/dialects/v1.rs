//! Seed 003 (`/v1/auth`): JSON bodies, or URL-encoded forms (the original mounted both body
//! parsers); a signed-in answer is
//! `{token, isNewUser, user: {id, nickname, email, mobile, gender, avatar}}`; errors are
//! `{"error": "<text>"}` with the original's statuses and, where its own tests assert them, its
//! texts:
//! - a missing, empty or ill-typed field, or one over its size limit: 400 `<field> is required`
//!   (the validator's message); another unacceptable value: 400 `<field> <what is wrong>`;
//! - an account that is neither a mobile nor an email: 400 `账户必须是手机号或者邮箱` (403 on
//!   `send-code`);
//! - wrong account or password: 400 `incorrect username or password`;
//! - a wrong, used or expired code: 400 `验证码不存在或已过期` (the seed; the original sent 401),
//!   404 on `check-code`;
//! - polyauth's own refusals: 429 `请求过于频繁，请 N 秒后再试` (with `Retry-After`), 403
//!   `账号已被禁用`, 401 `没有通过身份验证`, 503 `服务暂不可用，请稍后再试`.
//!
//! Decisions where the seed is silent (API-NOTES section 003 settles the rest):
//! - `account` is a mobile number (national numbers get the configured default country code,
//!   86) or an email;
//! - `user.mobile` is shown in national form for numbers of the default country
//!   (`13312341234`), E.164 otherwise; `token` is an HS256 JWT with the seed's
//!   `{"exp", "iat", "data": {"id"}}`, valid 3 hours, `iat` 30 s in the past as the seed's
//!   example shows; no refresh token is handed out, since the seed shows none;
//! - `send-code` ignores fields it does not read (the original's pages send `length: 6`); in
//!   production it answers the original's `{"message": "邮件发送成功"}` (`短信发送成功` for a
//!   mobile) and never the code; `flag` is one of
//!   `register`, `login`, `reset-password`; codes are 6 digits, and the development answer
//!   shows the code as an integer as the seed does;
//! - `code` fields take the seed's string, or that integer form (leading zeros restored);
//! - `check-code` has no flag: it checks the account's outstanding codes without spending them
//!   and answers the code and its expiry (RFC 3339, milliseconds, UTC);
//! - `register` with a valid code signs in an account that already exists (`isNewUser:
//!   false`, as the original) and creates a new one otherwise (`isNewUser: true`; an empty
//!   `nickname` gets the account masked as the original's `createFakeNickname` did: the first
//!   three characters, `****`, the last four, `133****1234` or `use****.com`);
//! - `login` takes `password` or `code` (a password decides when both are sent, as the
//!   original knew no code login); a code login for an unknown account
//!   creates it (`isNewUser: true`); repeated failures lock the account as everywhere (429);
//! - with the app's `cookie-session` key configured (`config/tokens.rs`), `login` also sets the
//!   app's `boar-session` cookie and its signature, as the original's `req.session.userId` did;
//! - `reset-password` needs a code sent with flag `reset-password`, ends every older session of
//!   the user, and answers a new session's token (the seed's token response).
//! - what the original's router did not route gets its catch-all: a wrong method or an unknown
//!   path under `/v1/` 400 `{"error": "router 404"}`, `OPTIONS` 200 `""` (`unrouted`); paths
//!   match as Express's defaults matched them, with a trailing slash and in any letter case
//!   (`express_path`; on Lambda, API Gateway matches the `/v1` itself case-sensitively, so
//!   there only what follows it is loosened).

use super::{retry_after, wait_seconds, During};
use crate::{
    clock::rfc3339,
    domain::{Account, Code, Password, PasswordPolicy, Profile},
    http::{self, JsonOrForm},
    openapi::Anywhere,
    services::{
        tokens::cookie_session, Attempt, Client, Dialect, Gate, NewUser, Purpose, SessionSpec,
        SignedIn, UnknownAccount,
    },
    Auth, Error,
};
use axum::{
    http::{header, Method, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::routes;

const PREFIX: &str = "/v1/auth";

/// The routes with their OpenAPI entries.
pub fn routes() -> crate::openapi::Routes {
    let auth = crate::openapi::list([
        routes!(login),
        routes!(register),
        routes!(reset_password),
        routes!(send_code),
        routes!(check_code),
    ]);
    let routes = crate::openapi::Routes::new().nest(PREFIX, auth);
    crate::openapi::dialect::<Refusal>(routes, Dialect::V1, REFUSALS)
}

/// What `Failure` may answer on any route.
const REFUSALS: &[Anywhere] = &[
    Anywhere {
        status: 400,
        description: "A missing or ill-typed field, or one over its size limit (`<field> is \
            required`), another \
            unacceptable value (`<field> <what is wrong>`), an account that is neither a mobile \
            nor an email, wrong credentials, or a wrong, used or expired code",
    },
    Anywhere {
        status: 403,
        description: "A disabled account (`账号已被禁用`) or a captcha to solve; on `send-code` \
            also an account that is neither a mobile nor an email",
    },
    Anywhere {
        status: 429,
        description: "Too many attempts, codes or registrations from this address or for this \
            account (`请求过于频繁，请 N 秒后再试`)",
    },
    Anywhere {
        status: 503,
        description: "The store or the sender is unavailable",
    },
];

pub fn router(auth: Auth) -> Router {
    let router: Router = routes().with_state(auth).into();
    router.method_not_allowed_fallback(unrouted)
}

/// What the original's catch-all answered a method or path it did not route: `OPTIONS` 200
/// with the JSON `""`, anything else 400 `{"error": "router 404"}` (its `router.options` and
/// `router.all`). A wrong method on a route and any unknown path under `/v1/` get it.
pub(crate) async fn unrouted(method: Method) -> Response {
    if method == Method::OPTIONS {
        return (StatusCode::OK, axum::Json("")).into_response();
    }
    let refusal = Refusal {
        error: "router 404".into(),
    };
    (StatusCode::BAD_REQUEST, axum::Json(refusal)).into_response()
}

/// Express's default routing, which the original kept: paths match whatever their letter case
/// and with or without a trailing slash, so `/v1/auth/login/` and `/V1/Auth/Login` reach the
/// login. Such a path is rewritten to the routes' own spelling; the query string stays.
pub(crate) fn express_path(mut req: axum::extract::Request) -> axum::extract::Request {
    let path = req.uri().path();
    let under = path.len() >= 3
        && path.as_bytes()[..3].eq_ignore_ascii_case(b"/v1")
        && (path.len() == 3 || path.as_bytes()[3] == b'/');
    if !under {
        return req;
    }
    let trimmed = match path.strip_suffix('/') {
        Some(p) if p.len() > 3 => p,
        _ => path,
    };
    let canonical = trimmed.to_ascii_lowercase();
    if canonical == path {
        return req;
    }
    let rewritten = match req.uri().query() {
        Some(q) => format!("{canonical}?{q}"),
        None => canonical,
    };
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = rewritten.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Whether `path` is under the original's router (`/v1` and below), whose catch-all answers
/// what nothing else routes.
pub(crate) fn owns(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

/// Seed 003's tokens: three hours, issued 30 s in the past (the seed's example token).
const TOKEN_TTL: i64 = 3 * 3600;
const TOKEN_BACKDATE: i64 = 30;
const NOT_CONTACT: &str = "账户必须是手机号或者邮箱";

/// The endpoint a failure happened in, where the original answered one error per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Op {
    #[default]
    Other,
    SendCode,
    CheckCode,
}

/// The one place this dialect turns a core error into its answer: `IntoResponse` below.
type Failure = super::Failed<Op>;

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure { error: e, op } = self;
        let (status, text) = match &e {
            // An over-long value gets the bad-parameters answer (API-NOTES, "Sizes"), which
            // for this dialect is the validator's.
            Error::Malformed { field, .. } | Error::TooLong { field, .. } => {
                (400, format!("{field} is required"))
            }
            Error::Invalid { field, .. } if field == "account" && op == Op::SendCode => {
                (403, NOT_CONTACT.into())
            }
            Error::Invalid { field, .. } if field == "account" => (400, NOT_CONTACT.into()),
            // The only refusal of an account's mobile itself: its country is not enabled for
            // texts, polyauth's own refusal.
            Error::Invalid { field, .. } if field == "mobile" => {
                (403, "暂不支持向该国家或地区的手机号发送短信".into())
            }
            Error::Invalid { field, reason } => (400, format!("{field} {reason}")),
            Error::WeakPassword => (
                400,
                "password is too weak: use a longer, less common one without your own account name"
                    .into(),
            ),
            Error::InvalidCredentials(_) => (400, "incorrect username or password".into()),
            Error::CodeInvalid if op == Op::CheckCode => (404, "验证码不存在或已过期".into()),
            Error::CodeInvalid | Error::ResetTokenInvalid => (400, "验证码不存在或已过期".into()),
            Error::CaptchaRequired { .. } => (403, "需要人机验证".into()),
            Error::CaptchaInvalid => (400, "人机验证未通过".into()),
            Error::TooManyRequests { retry_after } | Error::ResetsExhausted { retry_after } => (
                429,
                format!("请求过于频繁，请 {} 秒后再试", wait_seconds(*retry_after)),
            ),
            Error::AlreadyExists { .. } => (409, "账号已存在".into()),
            Error::NotFound => (404, "账号不存在".into()),
            Error::MissingToken
            | Error::Unauthenticated
            | Error::TokenExpired
            | Error::TokenInvalid
            | Error::NoPendingLogin => (401, "没有通过身份验证".into()),
            Error::AlreadySignedIn => (400, "已登录".into()),
            Error::Forbidden | Error::MissingPermission(_) => (403, "没有权限".into()),
            Error::Disabled => (403, "账号已被禁用".into()),
            Error::Unavailable => (503, "服务暂不可用，请稍后再试".into()),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        retry_after(
            (status, axum::Json(Refusal { error: text })).into_response(),
            &e,
        )
    }
}

/// Every refusal: the original's statuses with one text.
#[derive(Serialize, ToSchema)]
struct Refusal {
    error: String,
}

/// A 6-digit code: the seed's string, or the integer the development `send-code` shows (leading
/// zeros restored).
fn code_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some(
                "6 digits, as a string or as the integer the development send-code shows",
            ))
            .build(),
    )
}

/// A JSON body, or a URL-encoded form: the original mounted both body parsers.
type Body<T> = http::JsonOrForm<T, Failure>;
type Answer = Result<Response, Failure>;

/// A text field the original's validator required: absent, null, empty and blank are missing.
fn required<'a>(field: &str, raw: &'a Option<String>) -> Result<&'a str, Error> {
    raw.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::malformed(field, "is required"))
}

fn account(auth: &Auth, raw: &Option<String>) -> Result<Account, Error> {
    auth.contact(required("account", raw)?)
        .map_err(|e| e.field("account"))
}

fn session_spec() -> SessionSpec {
    SessionSpec {
        access_ttl: Some(TOKEN_TTL),
        backdate: TOKEN_BACKDATE,
        dialect: Some(Dialect::V1),
    }
}

fn new_password(raw: &Option<String>) -> Result<Password, Error> {
    Password::new(required("password", raw)?, PasswordPolicy::default())
        .map_err(|e| e.field("password"))
}

/// A code as the seed sends it (a string), or as the development `send-code` shows it (an
/// integer, which lost the leading zeros of the 6-digit code).
fn code(raw: &Value) -> Result<Code, Error> {
    let text = match raw {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_u64() {
            Some(n) => format!("{n:0width$}", width = Code::LEN),
            None => return Err(Error::malformed("code", "must be a string of digits")),
        },
        _ => return Err(Error::malformed("code", "must be a string of digits")),
    };
    // A code of the wrong shape is a code that does not exist.
    Code::parse(&text).map_err(|_| Error::CodeInvalid)
}

/// The `code` of `register`, `reset-password` and `check-code`, which need one.
fn required_code(raw: &Option<Value>) -> Result<Code, Error> {
    code(required_value("code", raw)?)
}

/// A required value of any type: absent, null, empty and blank are missing.
fn required_value<'a>(field: &str, raw: &'a Option<Value>) -> Result<&'a Value, Error> {
    given(raw).ok_or_else(|| Error::malformed(field, "is required"))
}

/// A field that is absent, null, empty or blank is not given (the original's validator).
fn given(v: &Option<Value>) -> Option<&Value> {
    v.as_ref()
        .filter(|v| !v.is_null() && !v.as_str().is_some_and(|s| s.trim().is_empty()))
}

/// The seed's token response.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SignedInBody {
    /// HS256 JWT `{exp, iat, data: {id}}` (or the configured profile's), valid 3 hours.
    token: String,
    /// Whether this request created the account.
    is_new_user: bool,
    user: UserBody,
}

#[derive(Serialize, ToSchema)]
struct UserBody {
    id: u64,
    nickname: String,
    /// "" when the account has none.
    email: String,
    /// National form for the default country (`13312341234`), E.164 otherwise; "" when none.
    mobile: String,
    gender: u8,
    avatar: String,
}

fn signed_in(auth: &Auth, s: &SignedIn) -> Response {
    let u = &s.user;
    axum::Json(SignedInBody {
        token: s.tokens.access.clone(),
        is_new_user: s.is_new,
        user: UserBody {
            id: u.id.0,
            nickname: u.profile.nickname.clone(),
            email: u.email.as_ref().map(|e| e.as_str()).unwrap_or("").into(),
            mobile: u
                .mobile
                .as_ref()
                .map(|m| auth.show_phone(m))
                .unwrap_or_default(),
            gender: u.profile.gender.0,
            avatar: u.profile.avatar.clone(),
        },
    })
    .into_response()
}

/// An account with a password or a code (`login` takes either, `reset-password` both).
#[derive(Deserialize, ToSchema)]
struct Credentials {
    /// A mobile number or an email.
    account: Option<String>,
    /// `login`: instead of `code`. `reset-password`: the new password.
    password: Option<String>,
    /// Sent by `send-code` with the endpoint's flag. `login`: instead of `password`.
    #[schema(schema_with = code_schema)]
    code: Option<Value>,
}

/// Signs in with a password or a code; a code for an unknown account creates it.
#[utoipa::path(post, path = "/login", request_body = Credentials, responses(
    (status = 200, description = "Signed in", body = SignedInBody,
        headers(("Set-Cookie" = String, description = "Only where the app's cookie-session key \
            is configured (`POLYAUTH_LEGACY_SESSION_KEY_V1`): `boar-session=<base64 of \
            {\"userId\":<id>}>; Path=/; Max-Age=<the token's seconds>; HttpOnly; SameSite=Lax` \
            and `boar-session.sig=<its keygrip signature>` with the same attributes"))),
    (status = 401, description = "Not authenticated", body = Refusal),
))]
async fn login(auth: Auth, client: Client, JsonOrForm(req, _): Body<Credentials>) -> Answer {
    let account = account(&auth, &req.account)?;
    let spec = session_spec();
    let password = req.password.as_deref().filter(|p| !p.trim().is_empty());
    // A password decides when one is sent, as the original (which knew no code login) did.
    match (password, given(&req.code)) {
        (None, None) => Err(Error::malformed("password", "is required").into()),
        (Some(raw), _) => {
            let password = Password::attempt(raw).map_err(|e| e.field("password"))?;
            let s = auth
                .password_login(Attempt::new(&account, &password, &client), &spec)
                .await?;
            Ok(with_app_session(&auth, &s, signed_in(&auth, &s)))
        }
        (None, Some(raw)) => {
            let code = code(raw)?;
            let s = auth
                .code_login(
                    &account,
                    &code,
                    UnknownAccount::Register,
                    &Gate::Lockout,
                    &spec,
                    &client,
                )
                .await?;
            Ok(with_app_session(&auth, &s, signed_in(&auth, &s)))
        }
    }
}

/// `login`'s answer with the app's own session cookie where the core hands one out: the
/// original's login set `req.session.userId`, which boarcms's admin pages sign in with.
fn with_app_session(auth: &Auth, s: &SignedIn, mut answer: Response) -> Response {
    let Some(session) = auth.app_session(s) else {
        return answer;
    };
    for (name, value) in [
        (cookie_session::NAME, session.value),
        (cookie_session::SIG_NAME, session.signature),
    ] {
        let cookie = http::token_cookie(auth, name, &value, "/", session.expires_at);
        answer.headers_mut().append(header::SET_COOKIE, cookie);
    }
    answer
}

#[derive(Deserialize, ToSchema)]
struct RegisterReq {
    /// The mobile number or email the code went to.
    account: Option<String>,
    /// The new account's password (an existing account keeps its own).
    password: Option<String>,
    /// A new account's nickname: up to 20 characters, trimmed; none when absent.
    nickname: Option<String>,
    /// Sent by `send-code` with flag `register`.
    #[schema(schema_with = code_schema)]
    code: Option<Value>,
}

/// Registers with a code sent with flag `register`; an existing account is signed in.
#[utoipa::path(post, path = "/register", request_body = RegisterReq, responses(
    (status = 200, description = "Signed in", body = SignedInBody),
    (status = 409, description = "The account exists", body = Refusal),
))]
async fn register(auth: Auth, client: Client, JsonOrForm(req, _): Body<RegisterReq>) -> Answer {
    let account = account(&auth, &req.account)?;
    let nickname = nickname(&req.nickname)?;
    let raw_password = required("password", &req.password)?;
    let code = required_code(&req.code)?;
    // The password's rules bind a new account only: an existing one is signed in by its code
    // and keeps its password (the seed's own example registers with "123456").
    let new = Password::new(raw_password, PasswordPolicy::default())
        .map_err(|e| e.field("password"))
        .map(|password| NewUser {
            password: Some(password),
            profile: Profile {
                nickname,
                ..Default::default()
            },
            ..NewUser::of_contact(&account)
        });
    let s = auth
        .register_or_sign_in(new, &account, &code, &session_spec(), &client)
        .await?;
    Ok(signed_in(&auth, &s))
}

/// The original's validator took a nickname of up to 20 characters, counted as JavaScript
/// counts them (UTF-16 units), checked before anything else of the body but the account.
fn nickname(raw: &Option<String>) -> Result<String, Error> {
    const MAX: usize = 20;
    let nickname = raw.as_deref().unwrap_or("");
    if nickname.encode_utf16().count() > MAX {
        return Err(Error::invalid(
            "nickname",
            format!("length must be less than {MAX}"),
        ));
    }
    Ok(nickname.trim().to_string())
}

/// Sets a new password with a code sent with flag `reset-password` and signs in.
#[utoipa::path(post, path = "/reset-password", request_body = Credentials, responses(
    (status = 200, description = "Password set, signed in", body = SignedInBody),
    (status = 404, description = "No such account", body = Refusal),
))]
async fn reset_password(
    auth: Auth,
    client: Client,
    JsonOrForm(req, _): Body<Credentials>,
) -> Answer {
    let account = account(&auth, &req.account)?;
    let password = new_password(&req.password)?;
    let code = required_code(&req.code)?;
    let s = auth
        .reset_password_and_sign_in(&account, &code, &password, &session_spec(), &client)
        .await?;
    Ok(signed_in(&auth, &s))
}

#[derive(Deserialize, ToSchema)]
struct SendCodeReq {
    account: Option<String>,
    flag: Option<String>,
}

/// Sends a 6-digit code by SMS or email.
#[utoipa::path(post, path = "/send-code", request_body = SendCodeReq, responses(
    (status = 200, description = "Sent", body = CodeSent),
))]
async fn send_code(auth: Auth, client: Client, JsonOrForm(req, _): Body<SendCodeReq>) -> Answer {
    send(&auth, &client, req).await.during(Op::SendCode)
}

/// `send-code`'s work, every failure of which `send_code` marks as its own.
async fn send(auth: &Auth, client: &Client, req: SendCodeReq) -> Result<Response, Error> {
    let account = account(auth, &req.account)?;
    let purpose = match required("flag", &req.flag)? {
        "register" => Purpose::Register,
        "login" => Purpose::Login,
        "reset-password" => Purpose::ResetPassword,
        _ => {
            return Err(Error::invalid(
                "flag",
                "must be register, login or reset-password",
            ))
        }
    };
    let issued = auth.send_code(purpose, &account, client).await?;
    if !auth.config().shows_codes() {
        // The original's zh-CN texts (`mail sending success`, `sms sending success`).
        let message = match account {
            Account::Email(_) => "邮件发送成功",
            _ => "短信发送成功",
        };
        return Ok(axum::Json(CodeSent {
            message,
            code: None,
        })
        .into_response());
    }
    let shown = match issued.code.as_str().parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(issued.code.as_str()),
    };
    Ok(axum::Json(CodeSent {
        message: "开发模式，验证码发送成功",
        code: Some(shown),
    })
    .into_response())
}

#[derive(Serialize, ToSchema)]
struct CodeSent {
    message: &'static str,
    /// Development only: the code itself, as an integer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    code: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
struct CheckCodeReq {
    account: Option<String>,
    #[schema(schema_with = code_schema)]
    code: Option<Value>,
}

/// Checks a code without spending it.
#[utoipa::path(post, path = "/check-code", request_body = CheckCodeReq, responses(
    (status = 200, description = "The code is valid", body = CodeChecked),
    (status = 404, description = "No such code (`验证码不存在或已过期`)", body = Refusal),
))]
async fn check_code(auth: Auth, client: Client, JsonOrForm(req, _): Body<CheckCodeReq>) -> Answer {
    check(&auth, &client, req).await.during(Op::CheckCode)
}

/// `check-code`'s work, every failure of which `check_code` marks as its own.
async fn check(auth: &Auth, client: &Client, req: CheckCodeReq) -> Result<Response, Error> {
    let account = account(auth, &req.account)?;
    let code = required_code(&req.code)?;
    let check = auth.check_code_any(&account, &code, client).await?;
    Ok(axum::Json(CodeChecked {
        code: code.as_str().to_string(),
        expired_at: rfc3339(check.expires_at),
    })
    .into_response())
}

#[derive(Serialize, ToSchema)]
struct CodeChecked {
    code: String,
    /// RFC 3339, milliseconds, UTC.
    expired_at: String,
}

#[cfg(test)]
mod tests;
