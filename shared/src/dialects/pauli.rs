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
//!   at most once a minute; a resend is a new code and the one before stops working (codes are
//!   kept only as a keyed hash, so the original's resending of the same code cannot be done);
//!   a password step right after a code was used texts a new one at once;
//! - `POST pass/reset` with neither a password nor a mobile voids the code, as the original did;
//! - `time` in `record` and `created` in `logined` are RFC 3339 UTC (the original sent naive
//!   local time);
//! - a mobile set by `pass/create` or `POST pass/reset` must be one texts can reach
//!   (`POLYAUTH_SMS_COUNTRIES`): every password login of a user with a mobile texts it a code;
//!   an imported one texts cannot reach makes the password step answer 1005, as a wrong
//!   password (anything else would confirm the password);
//! - `pass/create` without a password sets a random one and mails the user a reset link;
//! - `POST pass/code` answers 1007 without a live password step too, as the original's
//!   `pass_verify_code` answered every failure of the code step.
//!
//! Decisions where the seed is silent:
//! - the session is the access token in the cookie `pauli_session` (HttpOnly, SameSite=Lax,
//!   path `/pauli`, Secure per `POLYAUTH_COOKIE_SECURE`, on in production), one day as the
//!   original's `PAULI_SESSION_LIFETIME`; an `Authorization: Bearer` header is accepted too and
//!   wins over the cookie;
//! - the pending second factor is the cookie `pauli_pending` (same attributes, 20 minutes); it
//!   is cleared when the login completes, by logout, and by a direct login; a refused password
//!   step on top of it ends it (the original dropped its `password_verified` mark);
//! - `PUT pass/login` takes any identifier in `username` (email, mobile or username), so users
//!   registered through other dialects can sign in; a successful login answers
//!   `result.user_id`; the 1032 answer has an empty `result`; an empty `username` or `password`
//!   is a missing parameter, a name no account can have (`amy@example`) an unknown user, 1005,
//!   as the original's lookup found none;
//! - `POST pass/code` takes a code of any shape: one that is not six digits is a wrong one
//!   (1007, and it counts), as the original's `pass_verify_code` answered;
//! - in the original's order: `GET pass/code` checks the password step, then the resend minute,
//!   then the method (`voice` or `sms`, exactly), and `pass/create` and `record` the permission
//!   (7) before their parameters;
//! - `GET pass/code` answers `result.method` (`voice` or `sms`, the channel actually used, and
//!   says so in `msg` when voice fell back to SMS);
//! - `GET logined` answers `logined: false` for a missing, expired or revoked session;
//!   `name` falls back to the nickname; `email`, `mobile` (national form in the default
//!   country), `position_id` are "" when absent; the rest of the original's answer
//!   (`created`, `soft_del`, `position_name`, `creator_id`, `creator_name`, `role_names`,
//!   `dingtalk_id`, `jobnumber`) is there too, empty where polyauth keeps no such thing;
//! - `GET record`: `user_id` is required (1 without it, as the original); `limit` default 10,
//!   at most 100;
//!   `login_type` is the original's `password-succ`, `password-sms`, `sms-succ` for pauli's own
//!   steps, and for logins through other dialects `code-succ` (a code sent to an email or
//!   mobile), `register` (signed in by registering) and `reset-password` (signed in by a reset);
//! - `POST pass/create`: `name` must not be blank (at most 128 characters); an empty
//!   `password` or `mobile` counts as absent;
//! - every endpoint reads its parameters from the query string and from the body (JSON, or a
//!   form body when the content type says so, unless it is a JSON object: the original read
//!   every body as JSON whatever its label), the body winning; `pass/login` and
//!   `pass/create`, documented as `application/json`, take JSON bodies only;
//! - `POST pass/reset`: at least one of `password`, `mobile`; it ends every session of the
//!   user;
//! - `GET logout` answers 0 and clears the cookies even without a (valid) session;
//! - `POST pass/change` (the original's, not in the seed) ends every other session of the user
//!   and keeps the one it was asked from, as the original kept its session.

use super::{retry_after, wait_seconds, During};
use crate::{
    clock::rfc3339,
    domain::{Code, Email, Password, PasswordPolicy, Permission, Phone, Profile, User},
    error::CredentialFault,
    http::{self, Json},
    openapi::{Anywhere, Wait},
    sender::Channel,
    services::{
        Attempt, Client, Dialect, LegacyId, LoginStep, LoginType, NewUser, PendingId, Principal,
        SessionSpec, Tokens, PENDING_TTL,
    },
    Auth, Error,
};
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use utoipa::{
    openapi::{
        path::{Parameter, ParameterBuilder, ParameterIn},
        schema::{Object, ObjectBuilder, OneOfBuilder, Schema, Type},
        Ref, RefOr, Required,
    },
    IntoParams, PartialSchema, ToSchema,
};
use utoipa_axum::routes;

const PREFIX: &str = "/pauli/auth/api";
const COOKIE_PATH: &str = "/pauli";
const SESSION_COOKIE: &str = "pauli_session";
const PENDING_COOKIE: &str = "pauli_pending";
/// Lifetime of a pauli session (the seed has no refresh): one day.
const SESSION_TTL: i64 = 24 * 3600;
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;
const MAX_NAME: usize = 128;

/// The original's `STATUS_CODES` this dialect answers (its names without the `E_`), and
/// polyauth's outage.
#[derive(Clone, Copy)]
#[repr(i64)]
enum Status {
    Succ = 0,
    Param = 1,
    Forbidden = 7,
    UserLogin = 1003,
    UserNotLogin = 1004,
    UserNameOrPwdError = 1005,
    UserVerifyCodeError = 1007,
    /// A right password that still needs the SMS code.
    UserNeedSmsAuth = 1032,
    Unavailable = 1099,
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*self as i64)
    }
}

/// The routes with their OpenAPI entries.
pub fn routes() -> crate::openapi::Routes {
    let api = crate::openapi::list([
        routes!(logined),
        routes!(record),
        routes!(create),
        routes!(change),
        routes!(login),
        routes!(send_code, enter_code),
        routes!(logout),
        routes!(reset_request, reset_check, reset_redeem),
    ]);
    let routes = crate::openapi::waits(crate::openapi::Routes::new().nest(PREFIX, api), WAITS);
    crate::openapi::dialect::<Refusal>(routes, Dialect::Pauli, REFUSALS)
}

/// The refusals that say when to come back: the routes that may answer one name it.
const WAITS: &[Wait] = &[
    Wait {
        refusal: "`操作过于频繁，请N秒后再试`",
        header: "With `操作过于频繁，请N秒后再试`: seconds to wait",
    },
    Wait {
        refusal: "`验证码发送间隔时间太短`",
        header: "With `验证码发送间隔时间太短`: seconds to wait",
    },
    Wait {
        refusal: "`24小时内重置次数超过阈值`",
        header: "With `24小时内重置次数超过阈值`: seconds to wait",
    },
];

/// What `Failure` may answer on any route besides HTTP 200, where each route documents its
/// refusals beside its success.
const REFUSALS: &[Anywhere] = &[Anywhere {
    status: 503,
    description: "An outage: the store or the sender is unavailable (code 1099, \
        `服务暂不可用，请稍后再试`); nothing was changed",
}];

pub fn router(auth: Auth) -> Router {
    routes().with_state(auth).into()
}

const SESSION_PARAM: &str = "The session: the access token a login set (HttpOnly, path \
    `/pauli`, valid 24 hours). An `Authorization` header wins over it.";
const BEARER_PARAM: &str = "`Bearer <access token>`: the session, instead of the cookie \
    `pauli_session`.";
const PENDING_PARAM: &str = "The pending login that `PUT pass/login` set with its answer 1032 \
    (HttpOnly, path `/pauli`, valid 20 minutes).";

/// The session of the request. As an extractor (`Session(principal): Session`) it is read ahead
/// of the body, where the original checked it first (`pass/create`); as `params(Session)`, it is
/// how every route that reads the session documents it: the cookie, and the `Authorization`
/// header that wins over it.
struct Session(Principal);

impl FromRequestParts<Auth> for Session {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, auth: &Auth) -> Result<Self, Failure> {
        principal(auth, &parts.headers).await.map(Session)
    }
}

impl IntoParams for Session {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            optional("pauli_session", ParameterIn::Cookie, SESSION_PARAM),
            optional("Authorization", ParameterIn::Header, BEARER_PARAM),
        ]
    }
}

/// The parameters of the SMS step: the pending login, and the session the step refuses.
struct PendingLogin;

impl IntoParams for PendingLogin {
    fn into_params(location: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let pending = optional("pauli_pending", ParameterIn::Cookie, PENDING_PARAM);
        [vec![pending], Session::into_params(location)].concat()
    }
}

/// An optional text parameter outside the query string and the body.
fn optional(name: &str, location: ParameterIn, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(location)
        .description(Some(description))
        .required(Required::False)
        .schema(Some(String::schema()))
        .build()
}

/// The endpoint a failure happened in, where the original worded a refusal per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Op {
    #[default]
    Other,
    SendCode,
    /// `POST pass/code`: the original's `pass_verify_code` answered every failure of the code
    /// step 1007, a missing or lapsed password step included.
    EnterCode,
    /// `POST pass/change`: the password a policy refuses is the `new_password`.
    Change,
}

/// The one place this dialect turns a core error into its envelope: `IntoResponse` below.
type Failure = super::Failed<Op>;

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
        let (code, msg, field) = match &e {
            Error::Invalid { field, .. } if field == "method" => {
                (Status::Param, "不支持的验证发送方式".to_string(), None)
            }
            Error::Malformed { field, .. }
            | Error::Invalid { field, .. }
            | Error::TooLong { field, .. } => {
                (Status::Param, "参数错误".into(), Some(field.clone()))
            }
            // A password the policy refuses is a bad parameter like any other (API-NOTES).
            Error::WeakPassword if op == Op::Change => (
                Status::Param,
                "参数错误".into(),
                Some("new_password".into()),
            ),
            Error::WeakPassword => (Status::Param, "参数错误".into(), Some("password".into())),
            Error::TooManyRequests { .. } if op == Op::SendCode => {
                (Status::Param, "验证码发送间隔时间太短".into(), None)
            }
            Error::ResetsExhausted { .. } => {
                (Status::Param, "24小时内重置次数超过阈值".into(), None)
            }
            Error::TooManyRequests { retry_after } => (
                Status::Param,
                format!("操作过于频繁，请{}秒后再试", wait_seconds(*retry_after)),
                None,
            ),
            Error::NoPendingLogin if op == Op::EnterCode => (
                Status::UserVerifyCodeError,
                "验证码错误，请输入正确的验证码".into(),
                None,
            ),
            Error::NoPendingLogin => (
                Status::Param,
                "用户名/密码未验证或已失效，请返回重新验证".into(),
                None,
            ),
            Error::ResetTokenInvalid => (Status::Param, "重置记录不存在或者已失效".into(), None),
            Error::AlreadyExists { field } => (
                Status::Param,
                "用户已经存在".into(),
                Some(request_field(field).to_string()),
            ),
            Error::CaptchaRequired { .. } | Error::CaptchaInvalid => {
                (Status::Param, "参数错误".into(), None)
            }
            Error::MissingPermission(p) => (Status::Forbidden, format!("缺少权限{p}"), None),
            Error::Forbidden => (Status::Forbidden, "访问被禁止".into(), None),
            Error::AlreadySignedIn => (Status::UserLogin, "用户已登录".into(), None),
            Error::MissingToken
            | Error::Unauthenticated
            | Error::TokenExpired
            | Error::TokenInvalid => (Status::UserNotLogin, "用户未登录".into(), None),
            Error::InvalidCredentials(_) | Error::NotFound | Error::Disabled => (
                Status::UserNameOrPwdError,
                "手机号码与密码不匹配".into(),
                None,
            ),
            Error::CodeInvalid => (
                Status::UserVerifyCodeError,
                "验证码错误，请输入正确的验证码".into(),
                None,
            ),
            Error::Unavailable => (Status::Unavailable, "服务暂不可用，请稍后再试".into(), None),
        };
        let status = if e == Error::Unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        let body = Refusal {
            code,
            msg,
            result: Refused { field },
        };
        retry_after((status, axum::Json(body)).into_response(), &e)
    }
}

/// Every answer without a result: a refusal, or the SMS step of `PUT pass/login` (1032).
#[derive(Serialize, ToSchema)]
struct Refusal {
    #[schema(schema_with = refusal_code)]
    code: Status,
    /// The original's message for the code, in Chinese.
    msg: String,
    result: Refused,
}

/// `{}`, or the parameter at fault.
#[derive(Serialize, ToSchema)]
struct Refused {
    /// With code 1: the parameter at fault (`body` or `query` for one that could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    field: Option<String>,
}

fn refusal_code() -> Object {
    let codes = [
        Status::Param,
        Status::Forbidden,
        Status::UserLogin,
        Status::UserNotLogin,
        Status::UserNameOrPwdError,
        Status::UserVerifyCodeError,
        Status::UserNeedSmsAuth,
        Status::Unavailable,
    ];
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some(codes.map(|c| c as i64)))
        .description(Some(
            "- 1 `E_PARAM`: a bad or missing parameter (`参数错误`, `result.field` names it; \
            a password the policy refuses included), or a refusal the original folds into it: \
            `验证码发送间隔时间太短` (a resend within a minute), `不支持的验证发送方式` (a \
            `method` other than voice or sms), `用户名/密码未验证或已失效，请返回重新验证` (`GET \
            pass/code` with no password step in the last 20 minutes), `重置记录不存在或者已失效` (a reset code that \
            is unknown, used, expired or checked too often), `用户已经存在` (the email or mobile \
            is taken), `24小时内重置次数超过阈值` (too many reset requests), \
            `操作过于频繁，请N秒后再试` (a rate limit or lockout); a refusal that says when to \
            retry carries `Retry-After`.\n\
            - 7 `E_FORBIDDEN`: a missing permission (`缺少权限<permission>`), or an act not \
            allowed (`访问被禁止`).\n\
            - 1003 `E_USER_LOGIN` (`用户已登录`): a login step while the request carries a live \
            session.\n\
            - 1004 `E_USER_NOT_LOGIN` (`用户未登录`): no session, or an expired or revoked one.\n\
            - 1005 `E_USER_NAME_OR_PWD_ERROR` (`手机号码与密码不匹配`): an unknown user, a wrong \
            password and a disabled account alike.\n\
            - 1007 `E_USER_VERIFY_CODE_ERROR` (`验证码错误，请输入正确的验证码`): a wrong or \
            expired SMS code.\n\
            - 1032 `E_USER_NEED_SMS_AUTH` (`需要进行短信验证`), `PUT pass/login` only: the \
            password is right and an SMS code was sent; complete with `POST pass/code`.\n\
            - 1099 (`服务暂不可用，请稍后再试`), with HTTP 503: an outage.",
        ))
        .build()
}

/// A success: code 0 and the route's result. It documents the route's HTTP 200 answer, which
/// is this or a `Refusal`, since this dialect refuses with HTTP 200 too.
#[derive(Serialize)]
struct Envelope<T> {
    code: Status,
    msg: &'static str,
    result: T,
}

impl<T: ToSchema> PartialSchema for Envelope<T> {
    fn schema() -> RefOr<Schema> {
        let code = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some([Status::Succ as i64]))
            .description(Some("0 `E_SUCC`"));
        let msg = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("`成功`, or on `GET pass/code` how the code was sent"));
        let done = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("code", code)
            .property("msg", msg)
            .property("result", Ref::from_schema_name(T::name()))
            .required("code")
            .required("msg")
            .required("result");
        OneOfBuilder::new()
            .item(done)
            .item(Ref::from_schema_name(Refusal::name()))
            .description(Some(
                "`{code, msg, result}`: code 0 with the result, or a refusal (`result` `{}` or \
                `{field}`) with its code",
            ))
            .into()
    }
}

impl<T: ToSchema> ToSchema for Envelope<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("{}Answer", T::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into(), T::schema()));
        T::schemas(schemas);
        schemas.push((Refusal::name().into(), Refusal::schema()));
        Refusal::schemas(schemas);
    }
}

// The path macro documents a generic body only as a derived schema (`ComposeSchema`), which
// `Envelope`'s hand-written one is not: each route names its answer through an alias.
type LoginedAnswer = Envelope<Logined>;
type LogsAnswer = Envelope<Logs>;
type UserIdAnswer = Envelope<UserId>;
type CodeSentAnswer = Envelope<CodeSent>;
type EmptyAnswer = Envelope<Empty>;

/// Nothing to return.
#[derive(Serialize, ToSchema)]
struct Empty {}

type Body<T> = http::Json<T, Failure>;
type Answer = Result<Response, Failure>;

/// `E_SUCC`, with the original's message.
fn ok<T: Serialize>(result: T) -> Response {
    done("成功", result)
}

fn done<T: Serialize>(msg: &'static str, result: T) -> Response {
    axum::Json(Envelope {
        code: Status::Succ,
        msg,
        result,
    })
    .into_response()
}

/// A mobile as the original took it (`^1[3-9]\d{9}$`), or in E.164 with its `+`; and one texts
/// can reach (`POLYAUTH_SMS_COUNTRIES`), since every password login of a user with a mobile
/// sends it a code.
fn mobile(auth: &Auth, raw: &str) -> Result<Phone, Error> {
    let s = raw.trim();
    let phone = auth.phone(s).map_err(|e| e.field("mobile"))?;
    let mainland = phone.e164().starts_with("+86") && phone.can_be_mobile();
    if (!s.starts_with('+') && !mainland) || !phone.can_be_mobile() {
        return Err(Error::invalid(
            "mobile",
            "a mainland mobile (1[3-9] and 9 digits) or +<country><number>",
        ));
    }
    auth.check_sms_destination(phone.e164())?;
    Ok(phone)
}

/// The optional new password and mobile of `pass/create` and `POST pass/reset`; empty counts
/// as absent.
fn password_and_mobile(
    auth: &Auth,
    password: Option<String>,
    mobile: Option<String>,
) -> Result<(Option<Password>, Option<Phone>), Error> {
    let password = given(password)
        .map(|p| Password::new(&p, PasswordPolicy::default()).map_err(|e| e.field("password")))
        .transpose()?;
    let mobile = given(mobile).map(|m| self::mobile(auth, &m)).transpose()?;
    Ok((password, mobile))
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

/// `E_USER_LOGIN`: the login steps refuse a request that already carries a live session. An
/// extractor ahead of the parameters', so it is checked before them.
struct NotSignedIn;

impl FromRequestParts<Auth> for NotSignedIn {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, auth: &Auth) -> Result<Self, Failure> {
        let Some(token) = token(&parts.headers) else {
            return Ok(NotSignedIn);
        };
        match auth.authenticate_in(&token, Dialect::Pauli).await {
            Ok(_) => Err(Error::AlreadySignedIn.into()),
            Err(Error::Unavailable) => Err(Error::Unavailable.into()),
            Err(_) => Ok(NotSignedIn),
        }
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

/// `user_id` as the original's clients know it: an imported user's original id (an ObjectId),
/// else the polyauth id, as a string.
fn shown_id(user: &User) -> String {
    user.legacy_id
        .clone()
        .unwrap_or_else(|| user.id.to_string())
}

/// The user a success is about.
#[derive(Serialize, ToSchema)]
struct UserId {
    /// The decimal polyauth id, or an imported user's original id (e.g. a 24-hex ObjectId).
    user_id: String,
}

fn user_id(user: &User) -> UserId {
    UserId {
        user_id: shown_id(user),
    }
}

/// Code 0 with the user id, the session cookie set and any pending login cookie cleared.
fn signed_in(auth: &Auth, tokens: &Tokens, user: &User) -> Response {
    let expires = tokens.access_expires_at;
    let session = http::token_cookie(auth, SESSION_COOKIE, &tokens.access, COOKIE_PATH, expires);
    let res = with_cookie(ok(user_id(user)), session);
    with_cookie(res, clear(auth, PENDING_COOKIE))
}

/// `logined: true` with the user, or `logined: false` alone.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum Logined {
    Yes(Box<LoginedUser>),
    No(NotLogined),
}

/// A live session's user: the seed's five fields, and the rest of what the original's
/// `user_base.to_dict` answered (polyauth keeps no positions, creators, roles, DingTalk ids or
/// job numbers: those are "" or empty, as the original's were for a user without them).
#[derive(Serialize, ToSchema)]
struct LoginedUser {
    /// When the account was created: RFC 3339, UTC, with milliseconds.
    #[schema(format = DateTime)]
    created: String,
    creator_id: String,
    creator_name: String,
    dingtalk_id: String,
    /// "" when the user has none.
    email: String,
    jobnumber: String,
    #[schema(schema_with = logined_true)]
    logined: bool,
    /// National form for the default country (`13312341234`), E.164 otherwise; "" when none.
    mobile: String,
    /// The user's name, else the nickname.
    name: String,
    /// The user's position or team; "" when none.
    position_id: String,
    position_name: String,
    role_names: Vec<String>,
    /// Whether the account is disabled (never, for a live session).
    soft_del: bool,
    /// The decimal polyauth id, or an imported user's original id (e.g. a 24-hex ObjectId).
    user_id: String,
}

/// No session, or an expired or revoked one.
#[derive(Serialize, ToSchema)]
struct NotLogined {
    #[schema(schema_with = logined_false)]
    logined: bool,
}

fn logined_true() -> Object {
    constant(true)
}

fn logined_false() -> Object {
    constant(false)
}

fn constant(value: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([value]))
        .build()
}

fn profile(auth: &Auth, user: &User) -> LoginedUser {
    let name = if user.profile.name.is_empty() {
        &user.profile.nickname
    } else {
        &user.profile.name
    };
    LoginedUser {
        created: rfc3339(user.created_at),
        creator_id: String::new(),
        creator_name: String::new(),
        dingtalk_id: String::new(),
        email: user.email.as_ref().map(|e| e.as_str()).unwrap_or("").into(),
        jobnumber: String::new(),
        logined: true,
        mobile: user
            .mobile
            .as_ref()
            .map(|m| auth.show_phone(m))
            .unwrap_or_default(),
        name: name.clone(),
        position_id: user.profile.position_id.clone(),
        position_name: String::new(),
        role_names: Vec::new(),
        soft_del: !user.is_active(),
        user_id: shown_id(user),
    }
}

/// Tells whether the request carries a live session, and whose.
#[utoipa::path(get, path = "/logined",
    params(Session),
    responses(
        (status = 200, body = LoginedAnswer, description = "0 with `logined: true` and the \
            user, or `logined: false` alone for a missing, expired or revoked session"),
    ),
)]
async fn logined(auth: Auth, headers: HeaderMap) -> Answer {
    let not_logged_in = || ok(Logined::No(NotLogined { logined: false }));
    let Some(token) = token(&headers) else {
        return Ok(not_logged_in());
    };
    match auth.whoami_in(&token, Dialect::Pauli).await {
        Ok((_, user)) => Ok(ok(Logined::Yes(Box::new(profile(&auth, &user))))),
        Err(Error::Unavailable) => Err(Error::Unavailable.into()),
        Err(_) => Ok(not_logged_in()),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RecordQuery {
    /// A polyauth id or an imported user's original id (required).
    #[param(nullable = false, max_length = 64)]
    user_id: Option<String>,
    /// The last `record_id` of the previous page.
    #[param(nullable = false)]
    cursor_id: Option<String>,
    /// How many records, 10 by default; more than 100 count as 100.
    #[param(value_type = Option<u32>, nullable = false, minimum = 1)]
    limit: Option<String>,
}

/// A page of login records, newest first.
#[derive(Serialize, ToSchema)]
struct Logs {
    /// Empty for an unknown user and past the last page.
    logs: Vec<LoginLog>,
}

#[derive(Serialize, ToSchema)]
struct LoginLog {
    #[schema(schema_with = login_types)]
    login_type: &'static str,
    /// A ULID.
    record_id: String,
    /// RFC 3339, UTC, with milliseconds.
    #[schema(format = DateTime)]
    time: String,
    /// The user's `user_id`.
    user_id: String,
}

fn login_types() -> Object {
    let all = [
        LoginType::Password,
        LoginType::PasswordSms,
        LoginType::SecondFactor,
        LoginType::Code,
        LoginType::Register,
        LoginType::ResetPassword,
    ];
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(all.map(LoginType::as_str)))
        .description(Some(
            "How the user signed in: `password-succ` a password alone, `password-sms` a right \
            password that continued with an SMS code, `sms-succ` that SMS code entered; through \
            the other dialects `code-succ` a code sent to an email or mobile, `register` signed \
            in by registering, `reset-password` signed in by a password reset",
        ))
        .build()
}

/// Lists a user's logins, newest first; needs the permission `pauli:user:audit`.
#[utoipa::path(get, path = "/record",
    description = "The parameters may also be sent in a JSON or form body, which wins over the \
        query string.",
    params(RecordQuery, Session),
    responses(
        (status = 200, body = LogsAnswer, description = "0 with a page of records; 1 a bad \
            `user_id`, `cursor_id` or `limit` (`result.field`); 7 without `pauli:user:audit`; \
            1004 without a live session (both checked before the parameters)"),
    ),
)]
async fn record(
    auth: Auth,
    headers: HeaderMap,
    params: Result<Params<RecordQuery>, Failure>,
) -> Answer {
    let principal = principal(&auth, &headers).await?;
    let asked = params
        .map_err(|f| f.error)
        .and_then(|http::Params(q, _)| records_asked(q));
    let (user, cursor, limit) = match asked {
        Ok(asked) => asked,
        // The original's `perm_required` answered before the handler read a parameter.
        Err(e) => {
            auth.authorize(&principal, Permission::USER_AUDIT).await?;
            return Err(e.into());
        }
    };
    let Some((user, records)) = auth
        .login_records_by(&principal, &user, cursor.as_deref(), limit)
        .await?
    else {
        return Ok(ok(Logs { logs: Vec::new() }));
    };
    let logs = records
        .iter()
        .map(|r| LoginLog {
            login_type: r.login_type.as_str(),
            record_id: r.record_id.clone(),
            time: rfc3339(r.time),
            user_id: shown_id(&user),
        })
        .collect();
    Ok(ok(Logs { logs }))
}

/// `record`'s parameters: the user, the cursor and the page size.
fn records_asked(q: RecordQuery) -> Result<(LegacyId, Option<String>, usize), Error> {
    // Required, as the original's `if not user_id: PARAM`.
    let raw = given(q.user_id).ok_or_else(|| Error::malformed("user_id", "is required"))?;
    let user =
        LegacyId::parse(&raw).ok_or_else(|| Error::invalid("user_id", "must be a user id"))?;
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
            _ => return Err(Error::invalid("limit", "must be a positive integer")),
        },
        None => DEFAULT_LIMIT,
    };
    Ok((user, cursor, limit))
}

#[derive(Deserialize, ToSchema)]
struct CreateReq {
    /// The user's email, which they sign in with (stored lower-cased).
    #[schema(format = Email)]
    username: String,
    /// Without one (or empty), a random password is set and the user is mailed a reset link.
    password: Option<String>,
    /// The user's name: not blank, at most 128 characters.
    name: String,
    /// A mainland mobile (`1[3-9]` and 9 digits) or E.164 with its `+`; empty counts as absent.
    mobile: Option<String>,
}

/// Creates a user who signs in with an email and a password; needs `pauli:user:create`.
#[utoipa::path(post, path = "/pass/create",
    request_body = CreateReq,
    params(Session),
    responses(
        (status = 200, body = UserIdAnswer, description = "0 with the new user's `user_id`; 1 \
            a bad or missing parameter (`result.field`), a weak password, a taken email or \
            mobile (`用户已经存在`), or no reset link can be mailed now \
            (`操作过于频繁，请N秒后再试`); 7 without `pauli:user:create`; 1004 without a live \
            session (both checked before the parameters)"),
    ),
)]
async fn create(
    auth: Auth,
    Session(principal): Session,
    body: Result<Body<CreateReq>, Failure>,
) -> Answer {
    let new = match body
        .map_err(|f| f.error)
        .and_then(|Json(req, _)| new_user(&auth, req))
    {
        Ok(new) => new,
        // The original checked the permission before it read the body.
        Err(e) => {
            auth.authorize(&principal, Permission::USER_CREATE).await?;
            return Err(e.into());
        }
    };
    let user = auth.create_user_as(&principal, new).await?;
    Ok(ok(user_id(&user)))
}

#[derive(Deserialize, ToSchema)]
struct ChangeReq {
    /// The current password.
    password: Option<String>,
    /// The new password: the password policy applies.
    new_password: Option<String>,
}

/// Changes the signed-in user's password (the original's `pass/change`, which the seed does not
/// list). Every other session of the user ends; this one stays.
#[utoipa::path(post, path = "/pass/change",
    request_body = ChangeReq,
    params(Session),
    responses(
        (status = 200, body = EmptyAnswer, description = "0 changed; 1 a missing or empty \
            `password` or `new_password`, or a new password the policy refuses \
            (`result.field`), or too many attempts (`操作过于频繁，请N秒后再试`); 1004 without \
            a live session (checked before the parameters); 1005 a wrong current password"),
    ),
)]
async fn change(
    auth: Auth,
    client: Client,
    Session(principal): Session,
    Json(req, _): Body<ChangeReq>,
) -> Answer {
    let old = given(req.password).ok_or_else(|| Error::malformed("password", "is required"))?;
    let new =
        given(req.new_password).ok_or_else(|| Error::malformed("new_password", "is required"))?;
    let old = Password::attempt(&old).map_err(|e| e.field("password"))?;
    let new =
        Password::new(&new, PasswordPolicy::default()).map_err(|e| e.field("new_password"))?;
    auth.change_own_password(&principal, &old, &new, &client)
        .await
        .during(Op::Change)?;
    Ok(ok(Empty {}))
}

/// `pass/create`'s body, checked.
fn new_user(auth: &Auth, req: CreateReq) -> Result<NewUser, Error> {
    let email = Email::parse(&req.username).map_err(|e| e.field("username"))?;
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "is required"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::invalid(
            "name",
            format!("at most {MAX_NAME} characters"),
        ));
    }
    let (password, mobile) = password_and_mobile(auth, req.password, req.mobile)?;
    Ok(NewUser {
        email: Some(email),
        mobile,
        password,
        profile: Profile {
            name: name.to_string(),
            ..Default::default()
        },
        ..Default::default()
    })
}

#[derive(Deserialize, ToSchema)]
struct LoginReq {
    /// An email, a mobile or a username.
    username: String,
    password: String,
}

/// Signs in with a password; a user with a mobile continues with an SMS code.
#[utoipa::path(put, path = "/pass/login",
    request_body = LoginReq,
    params(Session),
    responses(
        (status = 200, body = UserIdAnswer, description = "0 signed in, with the `user_id`: the \
            session cookie is set; 1032 the password is right and an SMS code (6 digits, valid \
            20 minutes) was sent to the user's mobile: the pending-login cookie is set, complete \
            with `POST pass/code`; 1 a bad or missing parameter (`result.field`), or too many \
            attempts or codes (`操作过于频繁，请N秒后再试`); 1003 the request already carries a \
            live session; 1005 an unknown user, a wrong password or a disabled account",
            headers(
                ("Set-Cookie" = String, description = "With 0: `pauli_session=<access token>` \
                    (HttpOnly, SameSite, path `/pauli`, Secure in production, Max-Age 86400) and \
                    `pauli_pending` cleared; with 1032: `pauli_pending=<id>` (same attributes, \
                    Max-Age 1200)"),
            ),
        ),
    ),
)]
async fn login(
    auth: Auth,
    client: Client,
    headers: HeaderMap,
    _: NotSignedIn,
    Json(req, _): Body<LoginReq>,
) -> Answer {
    // An empty field is a missing parameter (1); otherwise the original looked up whatever
    // it was given: a name no account can have is an unknown user (1005), and only one longer
    // than any identifier is bad input.
    if req.username.trim().is_empty() {
        return Err(Error::malformed("username", "is required").into());
    }
    let named = auth
        .account_named(&req.username)
        .map_err(|e| e.field("username"))?;
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let step = match named {
        Some(account) => {
            auth.password_login_with_second_step(
                Attempt::new(&account, &password, &client),
                &session_spec(),
            )
            .await
        }
        None => Err(Error::InvalidCredentials(CredentialFault::UnknownAccount)),
    };
    // A refused password step ends the pending login it was made on top of.
    if let (Err(Error::InvalidCredentials(_)), Ok(pending)) = (&step, pending(&headers)) {
        auth.abandon_second_factor(&pending).await?;
    }
    match step? {
        LoginStep::SignedIn(s) => Ok(signed_in(&auth, &s.tokens, &s.user)),
        LoginStep::SecondFactor(PendingId(id)) => {
            let res = axum::Json(Refusal {
                code: Status::UserNeedSmsAuth,
                msg: "需要进行短信验证".into(),
                result: Refused { field: None },
            })
            .into_response();
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SendCodeQuery {
    /// `voice` (the default) or `sms`, in any case.
    #[param(value_type = Option<Method>, inline, nullable = false)]
    method: Option<String>,
}

/// The channel a code went by.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Method {
    Voice,
    Sms,
}

#[derive(Serialize, ToSchema)]
struct CodeSent {
    /// The channel actually used: `sms` when voice is unavailable (and `msg` says so).
    method: Method,
}

/// Resends the SMS code of a pending login, by voice or by SMS.
#[utoipa::path(get, path = "/pass/code",
    description = "Within 20 minutes of `PUT pass/login`, at most once a minute. `method` may \
        also be sent in a JSON or form body, which wins over the query string.",
    params(SendCodeQuery, PendingLogin),
    responses(
        (status = 200, body = CodeSentAnswer, description = "0 sent (`成功`, or \
            `语音验证暂不可用，验证码已通过短信发送` when voice fell back to SMS; `result.method` \
            says which); 1 an unsupported `method` (`不支持的验证发送方式`), no \
            pending login (`用户名/密码未验证或已失效，请返回重新验证`), or a resend within a \
            minute of the last code (`验证码发送间隔时间太短`); 1003 the request carries a live \
            session"),
    ),
)]
async fn send_code(
    auth: Auth,
    client: Client,
    _: NotSignedIn,
    headers: HeaderMap,
    http::Params(q, _): Params<SendCodeQuery>,
) -> Answer {
    let pending = pending(&headers)?;
    // The original's exact words: anything else is refused once the pending login and the
    // resend minute have been checked, in its order.
    let asked = match given(q.method).as_deref() {
        None | Some("voice") => Some(Channel::Voice),
        Some("sms") => Some(Channel::Sms),
        Some(_) => None,
    };
    let channel = auth
        .resend_second_factor(&pending, asked, &client)
        .await
        .during(Op::SendCode)?;
    // `E_SUCC`'s own message, unless voice fell back to SMS (API-NOTES: it says so).
    let (method, msg) = match channel {
        Channel::Voice => (Method::Voice, "成功"),
        _ if asked == Some(Channel::Voice) => {
            (Method::Sms, "语音验证暂不可用，验证码已通过短信发送")
        }
        _ => (Method::Sms, "成功"),
    };
    Ok(done(msg, CodeSent { method }))
}

#[derive(Deserialize, ToSchema)]
struct EnterCodeReq {
    /// The 6-digit SMS code.
    code: String,
}

/// Completes a pending login with its SMS code.
#[utoipa::path(post, path = "/pass/code",
    description = "Within 20 minutes of `PUT pass/login`. `code` may also be given in the query \
        string; the body wins.",
    request_body(content(
        (EnterCodeReq = "application/json"),
        (EnterCodeReq = "application/x-www-form-urlencoded"),
        (EnterCodeReq = "multipart/form-data"),
    )),
    params(PendingLogin),
    responses(
        (status = 200, body = UserIdAnswer, description = "0 signed in, with the `user_id`: the \
            session cookie is set and the pending-login cookie cleared; 1 a missing `code` \
            (`result.field`) or too many attempts (`操作过于频繁，请N秒后再试`); 1003 the \
            request carries a live session; 1005 the account was disabled meanwhile; 1007 a \
            wrong or expired code, whatever its shape, and no pending login (none, lapsed, or \
            voided after five wrong codes), as the original's `pass_verify_code` answered",
            headers(
                ("Set-Cookie" = String, description = "With 0: `pauli_session=<access token>` \
                    (HttpOnly, SameSite, path `/pauli`, Secure in production, Max-Age 86400) and \
                    `pauli_pending` cleared"),
            ),
        ),
    ),
)]
async fn enter_code(
    auth: Auth,
    client: Client,
    _: NotSignedIn,
    headers: HeaderMap,
    http::Params(req, _): Params<EnterCodeReq>,
) -> Answer {
    let pending = pending(&headers).during(Op::EnterCode)?;
    // A code of any shape is simply a wrong one (1007, and it counts), as the original's
    // `pass_verify_code` answered.
    let code = Code::offered(&req.code);
    let s = auth
        .complete_second_factor(&pending, &code, &session_spec(), &client)
        .await
        .during(Op::EnterCode)?;
    Ok(signed_in(&auth, &s.tokens, &s.user))
}

/// Ends the session and any password step awaiting its code, and clears both cookies.
#[utoipa::path(get, path = "/logout",
    params(Session),
    responses(
        (status = 200, body = EmptyAnswer, description = "0, also without a (live) session",
            headers(
                ("Set-Cookie" = String, description = "`pauli_session` and `pauli_pending` \
                    cleared (empty, Max-Age 0, path `/pauli`)"),
            ),
        ),
    ),
)]
async fn logout(auth: Auth, headers: HeaderMap) -> Answer {
    if let Some(token) = token(&headers) {
        match auth.authenticate_in(&token, Dialect::Pauli).await {
            Ok(principal) => {
                auth.logout(&principal).await?;
            }
            Err(Error::Unavailable) => return Err(Error::Unavailable.into()),
            Err(_) => {}
        }
    }
    // The original's `session.clear()` dropped a password step awaiting its code too: one
    // kept past logout (a copied cookie) must not complete.
    if let Ok(pending) = pending(&headers) {
        auth.abandon_second_factor(&pending).await?;
    }
    let res = with_cookie(ok(Empty {}), clear(&auth, SESSION_COOKIE));
    Ok(with_cookie(res, clear(&auth, PENDING_COOKIE)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ResetRequestQuery {
    /// The user's email.
    #[param(format = Email)]
    email: String,
}

/// Mails a reset link to the email of a known, active account.
#[utoipa::path(get, path = "/pass/reset",
    description = "The link is the front-end's (`<front-end>#/resetpwd?code=<code>`); its code \
        is valid 24 hours, for fewer than 5 checks. `email` may also be sent in a JSON or form \
        body, which wins over the query string.",
    params(ResetRequestQuery),
    responses(
        (status = 200, body = EmptyAnswer, description = "0 whether or not the email is known; \
            1 a missing or malformed `email` (`result.field`), or too many requests \
            (`24小时内重置次数超过阈值`: 50 resets of an account a day, or polyauth's limit on \
            sends)"),
    ),
)]
async fn reset_request(
    auth: Auth,
    client: Client,
    http::Params(q, _): Params<ResetRequestQuery>,
) -> Answer {
    let email = Email::parse(&q.email).map_err(|e| e.field("email"))?;
    auth.request_reset_link(&email, &client).await?;
    Ok(ok(Empty {}))
}

#[derive(Deserialize, ToSchema)]
struct ResetCheckReq {
    /// The code of the reset link.
    code: String,
}

fn reset_code(raw: &str) -> Result<&str, Failure> {
    let code = raw.trim();
    if code.is_empty() {
        return Err(Error::invalid("code", "is required").into());
    }
    Ok(code)
}

/// Tells whether a reset code is good; each check counts, and the fifth voids the code.
#[utoipa::path(put, path = "/pass/reset",
    description = "`code` may also be given in the query string; the body wins.",
    request_body(content(
        (ResetCheckReq = "application/json"),
        (ResetCheckReq = "application/x-www-form-urlencoded"),
        (ResetCheckReq = "multipart/form-data"),
    )),
    responses(
        (status = 200, body = EmptyAnswer, description = "0 the code is good; 1 a missing code \
            (`result.field`), or a code that is unknown, used, expired or checked too often \
            (`重置记录不存在或者已失效`)"),
    ),
)]
async fn reset_check(auth: Auth, http::Params(req, _): Params<ResetCheckReq>) -> Answer {
    auth.check_reset_token(reset_code(&req.code)?).await?;
    Ok(ok(Empty {}))
}

#[derive(Deserialize, ToSchema)]
struct ResetRedeemReq {
    /// The code of the reset link.
    code: String,
    /// The new password; empty counts as absent.
    password: Option<String>,
    /// A mainland mobile (`1[3-9]` and 9 digits) or E.164 with its `+`; empty counts as absent.
    mobile: Option<String>,
}

/// Sets a new password and/or mobile with a reset code, and ends every session of the user.
#[utoipa::path(post, path = "/pass/reset",
    description = "At least one of `password` and `mobile` (with neither, the code is voided). The parameters may also be given in \
        the query string; the body wins.",
    request_body(content(
        (ResetRedeemReq = "application/json"),
        (ResetRedeemReq = "application/x-www-form-urlencoded"),
        (ResetRedeemReq = "multipart/form-data"),
    )),
    responses(
        (status = 200, body = EmptyAnswer, description = "0 set; 1 a missing code, a bad or \
            weak value (`result.field`), a taken mobile (`用户已经存在`), or a code that is \
            unknown, used, expired or checked too often (`重置记录不存在或者已失效`; neither \
            `password` nor `mobile` voids the code and answers that too, as the original); \
            1005 a disabled account"),
    ),
)]
async fn reset_redeem(
    auth: Auth,
    client: Client,
    http::Params(req, _): Params<ResetRedeemReq>,
) -> Answer {
    let code = reset_code(&req.code)?;
    let (password, mobile) = password_and_mobile(&auth, req.password, req.mobile)?;
    auth.redeem_reset_token(code, password, mobile, &client)
        .await?;
    Ok(ok(Empty {}))
}

#[cfg(test)]
mod tests;
