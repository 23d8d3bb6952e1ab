//! Seed 002 (`/api/v1/auth`, and the `/api/v1/verify` routes its original's clients call):
//! `{code, data, msg}` with HTTP 200 for every answer but an outage (503), as the original's
//! `resp.Result` did; its axios clients treat any other status as a network failure.
//!
//! Codes are the original's: 200 ok; 500 for every refusal, with the original's message
//! (`请求参数有误` unreadable body or missing field, `邮箱格式错误`, `密码长度不能小于6位`,
//! `验证码长度为6位`, `用户名密码不匹配`, `邮箱验证码错误` (`register`; `邮箱验证错误` on
//! `login/email` and `modifyPwd`, as the original's services worded it, and `login/email`
//! checked no code length), `邮箱已存在`, `获取失败`, `滑块验证失败`) and `data` `{}`; -1 `需要人机验证` with `data.captchaId`; 3000
//! when the access token is missing (`TOKEN无效`) or expired (`TOKEN过期`), on which the clients
//! refresh and retry; 2000 `token验证失败` for any other token failure, on which they sign the
//! user out (`data` `null` with both, as the original's middleware sent). A request no route
//! takes gets gin's defaults instead (`unrouted`): 404 `404 page not found`, or a redirect for
//! a trailing slash.
//!
//! A success's `data` is what the seed shows (`null` for `register`, `logout`, `resetpwdCheck`,
//! `modifyPwd`); on the routes beside the seed's it is the original's `resp.Ok` `{}`.
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
//! - the answers that hand out tokens also set the original's HttpOnly cookie `user_id=<id>` on
//!   `/` (its older Nuxt client's server-side render takes a request without it for a signed-out
//!   one), for as long as the refresh token; `logout` clears it. The original's `user_id_md5`
//!   beside it (an MD5 of the id and an app salt) is not set: no client reads it;
//! - `logout` checks an `Authorization` token when one is sent, like the original's middleware
//!   (3000 / 2000), then needs a refresh token (500 `请求参数有误` without one, 2000 for an
//!   unknown one), ends its session and the access token's, and clears both cookies.

use super::{retry_after, wait_seconds, During};
use crate::{
    domain::{Account, Code, Email, Password, PasswordPolicy},
    http::{self, bearer, Json},
    openapi::{Anywhere, Wait},
    services::{
        Attempt, Challenge, Client, Dialect, Gate, NewUser, Purpose, SessionSpec, Tokens,
        UnknownAccount,
    },
    Auth, Error,
};
use axum::{
    extract::Query,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use serde::{Deserialize, Serialize};
use utoipa::{
    openapi::{
        path::{Operation, PathsMap},
        schema::{AnyOfBuilder, ObjectBuilder, Schema, Type},
        HeaderBuilder, PathItem, Ref, RefOr, Required,
    },
    IntoParams, PartialSchema, ToSchema,
};
use utoipa_axum::routes;

const PREFIX: &str = "/api/v1/auth";
const VERIFY: &str = "/api/v1/verify";
const COOKIE: &str = "refresh_token";
/// The cookie name of polyauth's earlier releases, still read.
const OLD_COOKIE: &str = "refreshToken";
const COOKIE_PATH: &str = "/api";
/// The original's signed-in marker (`SetUserIdCookie`), on every path of the site.
const USER_COOKIE: &str = "user_id";

/// The routes with their OpenAPI entries.
pub fn routes() -> crate::openapi::Routes {
    let auth = crate::openapi::list([
        routes!(register),
        routes!(login),
        routes!(login_email),
        routes!(update_token),
        routes!(logout),
        routes!(resetpwd_check, resetpwd_check_legacy),
        routes!(modify_pwd),
        routes!(send_email_code),
        routes!(captcha),
        crate::openapi::alias(routes!(captcha_validate), "/captcha/verify"),
    ]);
    let verify = crate::openapi::list([
        routes!(get_email_code),
        routes!(captcha_get),
        routes!(captcha_validate),
    ]);
    let mut routes = crate::openapi::Routes::new()
        .nest(PREFIX, auth)
        .nest(VERIFY, verify);
    // Bodies whose every field is optional may be left out (an empty body reads as `{}`): the
    // refresh token may come as a cookie, and `captcha` without an id issues one.
    let paths = &mut routes.get_openapi_mut().paths.paths;
    for path in ["/updateToken", "/logout", "/captcha"] {
        if let Some(body) = post(paths, path).and_then(|op| op.request_body.as_mut()) {
            body.required = Some(Required::False);
        }
    }
    // The answers that hand out tokens set the refresh token as a cookie too (`signed_in`).
    for path in ["/login", "/login/email", "/updateToken"] {
        if let Some(RefOr::T(ok)) =
            post(paths, path).and_then(|op| op.responses.responses.get_mut("200"))
        {
            let cookie = HeaderBuilder::new()
                .schema(String::schema())
                .description(Some(SETS_COOKIE))
                .build();
            ok.headers.insert("Set-Cookie".to_string(), cookie);
        }
    }
    let routes = crate::openapi::waits(routes, WAITS);
    crate::openapi::dialect::<Refusal>(routes, Dialect::ApiV1, REFUSALS)
}

/// The POST operation of `path` under `PREFIX`.
fn post<'a>(paths: &'a mut PathsMap<String, PathItem>, path: &str) -> Option<&'a mut Operation> {
    paths.get_mut(&format!("{PREFIX}{path}"))?.post.as_mut()
}

const SETS_COOKIE: &str = "On success: `refresh_token=<refreshToken>; Path=/api; \
    Max-Age=<seconds the refresh token lasts>; HttpOnly; SameSite=Lax` (`Secure` in \
    production; the SameSite policy is configurable), and the original's `user_id=<userId>; \
    Path=/` with the same lifetime and attributes";

/// The refusal that says when to come back: the routes that may answer it name it.
const WAITS: &[Wait] = &[Wait {
    refusal: "`操作过于频繁，请N秒后再试`",
    header: "With `操作过于频繁…`: seconds to wait",
}];

/// What `Failure` answers with another status than 200: only an outage.
const REFUSALS: &[Anywhere] = &[Anywhere {
    status: 503,
    description:
        "The store or the mail service is unavailable (code 500, `服务暂不可用，请稍后再试`); \
        nothing was half-done, so the request may be sent again",
}];

pub fn router(auth: Auth) -> Router {
    let router: Router = routes().with_state(auth).into();
    router.method_not_allowed_fallback(unrouted)
}

/// Whether `path` is under the original's `/api/v1` group, where gin's defaults answer what no
/// route takes.
pub(crate) fn owns(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// What the original's gin engine (`gin.New()`, no `NoRoute`, no `HandleMethodNotAllowed`)
/// answered a request no route took: a route's path with a trailing slash is redirected to the
/// route (301 for `GET`, 307 otherwise so a `POST` keeps its body); anything else, a wrong
/// method included, is 404 `404 page not found` in plain text.
pub(crate) async fn unrouted(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    // Each route with the methods it takes: gin redirects only where the request's own method
    // has the route.
    static ROUTES: std::sync::LazyLock<Vec<(String, Vec<axum::http::Method>)>> =
        std::sync::LazyLock::new(|| {
            use axum::http::Method;
            let openapi = routes().get_openapi().clone();
            openapi
                .paths
                .paths
                .into_iter()
                .map(|(path, item)| {
                    let methods = [
                        (Method::GET, item.get.is_some()),
                        (Method::POST, item.post.is_some()),
                        (Method::PUT, item.put.is_some()),
                        (Method::DELETE, item.delete.is_some()),
                    ];
                    let taken = methods.into_iter().filter(|(_, t)| *t).map(|(m, _)| m);
                    (path, taken.collect())
                })
                .collect()
        });
    let path = uri.path();
    let unslashed = path
        .strip_suffix('/')
        .filter(|p| ROUTES.iter().any(|(r, ms)| r == p && ms.contains(&method)));
    if let Some(route) = unslashed {
        let status = if method == axum::http::Method::GET {
            StatusCode::MOVED_PERMANENTLY
        } else {
            StatusCode::TEMPORARY_REDIRECT
        };
        let location = match uri.query() {
            Some(q) => format!("{route}?{q}"),
            None => route.to_string(),
        };
        return (status, [(header::LOCATION, location)]).into_response();
    }
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain")],
        "404 page not found",
    )
        .into_response()
}

/// The endpoint a failure happened in, where the original worded one error per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Op {
    #[default]
    Other,
    CaptchaGet,
    /// Registering: the new password's rules apply.
    Register,
    /// Changing a password with a code: the new password's rules apply, and the original worded
    /// a wrong code as `login/email` did.
    ModifyPassword,
    /// Signing in with a mailed code.
    CodeSignIn,
}

impl Op {
    fn sets_password(self) -> bool {
        matches!(self, Op::Register | Op::ModifyPassword)
    }

    /// `login/email` and `modifyPwd` said `邮箱验证错误` of a wrong code (the original's
    /// `EmailLogin` and `ModifyPwd`), `register` `邮箱验证码错误`.
    fn wrong_code(self) -> &'static str {
        match self {
            Op::CodeSignIn | Op::ModifyPassword => "邮箱验证错误",
            _ => "邮箱验证码错误",
        }
    }
}

/// The one place this dialect turns a core error into its envelope: `IntoResponse` below.
type Failure = super::Failed<Op>;

const REFUSED: i64 = 500;

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure { error: e, op } = self;
        let refused = |msg: &str| {
            (
                ReplyCode(REFUSED),
                RefusalData::Empty(Empty {}),
                msg.to_string(),
            )
        };
        let (code, data, msg) = match &e {
            Error::CaptchaRequired { captcha_id } => (
                ReplyCode(-1),
                RefusalData::Captcha(CaptchaAsked {
                    captcha_id: captcha_id.clone(),
                }),
                "需要人机验证".to_string(),
            ),
            Error::Malformed { .. } | Error::TooLong { .. } => refused("请求参数有误"),
            // A new password the policy refuses is bad input (API-NOTES); one under six
            // characters got the original's own message before (`new_password`).
            Error::Invalid { field, .. } if field == "password" && op.sets_password() => {
                refused("请求参数有误")
            }
            Error::WeakPassword => refused("请求参数有误"),
            Error::Invalid { field, .. } => match field.as_str() {
                "email" => refused("邮箱格式错误"),
                "password" => refused("密码长度不能小于6位"),
                "code" => refused("验证码长度为6位"),
                _ => refused("请求参数有误"),
            },
            Error::InvalidCredentials(_) | Error::NotFound => refused("用户名密码不匹配"),
            Error::CodeInvalid | Error::ResetTokenInvalid => refused(op.wrong_code()),
            Error::AlreadyExists { .. } => refused("邮箱已存在"),
            Error::CaptchaInvalid if op == Op::CaptchaGet => refused("获取失败"),
            Error::CaptchaInvalid => refused("滑块验证失败"),
            Error::TooManyRequests { retry_after } | Error::ResetsExhausted { retry_after } => {
                refused(&format!(
                    "操作过于频繁，请{}秒后再试",
                    wait_seconds(*retry_after)
                ))
            }
            Error::Disabled => refused("账号已被禁用"),
            Error::Forbidden | Error::MissingPermission(_) => refused("权限不足"),
            Error::NoPendingLogin | Error::AlreadySignedIn => refused("请求参数有误"),
            Error::MissingToken => (ReplyCode(3000), RefusalData::Null, "TOKEN无效".into()),
            Error::TokenExpired => (ReplyCode(3000), RefusalData::Null, "TOKEN过期".into()),
            Error::TokenInvalid | Error::Unauthenticated => {
                (ReplyCode(2000), RefusalData::Null, "token验证失败".into())
            }
            Error::Unavailable => refused("服务暂不可用，请稍后再试"),
        };
        let status = if e == Error::Unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        let res = (status, axum::Json(Refusal { code, data, msg })).into_response();
        retry_after(res, &e)
    }
}

/// A refusal: HTTP 200 (503 for an outage), as the original's clients expect.
#[derive(Serialize, ToSchema)]
struct Refusal {
    code: ReplyCode,
    data: RefusalData,
    /// What was refused:
    /// - `请求参数有误`: an unreadable body (not a JSON object, or over 64 KiB), a missing or
    ///   ill-typed field, an unknown `type`, a malformed query string, an email over 254
    ///   characters (the contract's size limit), no refresh token (`logout`);
    /// - `邮箱格式错误`: not an email address;
    /// - `密码长度不能小于6位`: a password under 6 characters (a login one also over 1024
    ///   bytes); a new password of 6 or 7 characters, over 128, too easy to guess, or holding
    ///   the account's email name is `请求参数有误`, the policy's bad-parameters answer;
    /// - `验证码长度为6位`: a code that is not 6 digits;
    /// - `用户名密码不匹配`: wrong credentials, an email without an account included;
    /// - `邮箱验证码错误` (`register`), `邮箱验证错误` (`login/email`, `modifyPwd`): a wrong,
    ///   used or expired code (`login/email`: also one that is not 6 digits);
    /// - `邮箱已存在`: the email already has an account;
    /// - `获取失败`: a captcha id that is unknown, expired or already solved;
    /// - `滑块验证失败`: a wrong slider position, or no live rendering to answer;
    /// - `操作过于频繁，请N秒后再试`: too many attempts, codes or captchas from this address or
    ///   for this account, or the account locked after 10 failures; `Retry-After` says when
    ///   to retry;
    /// - `账号已被禁用`: a disabled account;
    /// - `服务暂不可用，请稍后再试`: an outage (HTTP 503);
    /// - with -1 `需要人机验证`; with 3000 `TOKEN无效` or `TOKEN过期`; with 2000 `token验证失败`.
    msg: String,
}

/// An answer: with `code` 200 the route's `data`; otherwise a refusal's (`RefusalData`).
#[derive(Serialize, ToSchema)]
struct Envelope<D> {
    code: ReplyCode,
    data: D,
    /// `ok` with `code` 200; otherwise the refusal's text (see `Refusal`).
    msg: String,
}

/// The original's codes, which its clients act on.
#[derive(Serialize)]
#[serde(transparent)]
struct ReplyCode(i64);

impl PartialSchema for ReplyCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some([200, REFUSED, -1, 3000, 2000]))
            .description(Some(
                "`200` done; `500` refused, `msg` says why; `-1` (`需要人机验证`) solve the \
                captcha `data.captchaId` (`verify/captcha/get`, `verify/captcha/validate`), then \
                send the request again with that `captchaId`; `3000` the access token is \
                missing (`TOKEN无效`) or expired (`TOKEN过期`): refresh it with `updateToken` \
                and retry; `2000` (`token验证失败`) any other token failure (invalid, revoked, \
                rotated, unknown, or another dialect's): sign in again",
            ))
            .into()
    }
}

impl ToSchema for ReplyCode {}

/// The challenge a -1 answer asks to solve.
#[derive(Serialize, ToSchema)]
struct CaptchaAsked {
    /// Fetch its slider with `verify/captcha/get`, solve it with `verify/captcha/validate`;
    /// valid 5 minutes.
    #[serde(rename = "captchaId")]
    captcha_id: String,
}

/// A refusal's `data`, as the original sent it: `{}` with 500 (its `FailWithMessage`), `null`
/// with 3000 and 2000 (its token middleware), the captcha to solve with -1.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum RefusalData {
    Empty(Empty),
    Null,
    Captcha(CaptchaAsked),
}

/// `{}`: the `data` of the original's `resp.Ok` (routes beside the seed's) and of its refusals.
/// Documented closed, so a `{captchaId}` is not also one.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// The `data` of a seed route's success that carries none: `null`, as the seed shows.
#[derive(Serialize)]
struct Null;

impl PartialSchema for Null {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Null).into()
    }
}

impl ToSchema for Null {}

/// Declares `$name`, the documented `data` of a route's answers: `$data` with code 200, a
/// refusal's (`RefusalData`) otherwise. Only documented: an answer serializes `$data` or
/// `Failure`'s.
macro_rules! or_refused {
    ($name:ident, $data:ty) => {
        struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                AnyOfBuilder::new()
                    .item(Ref::from_schema_name(<$data>::name()))
                    .item(Ref::from_schema_name(RefusalData::name()))
                    .description(Some(
                        "The route's `data` (code 200), or a refusal's: `{}`, `null` or the \
                        captcha to solve",
                    ))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((<$data>::name().into(), <$data>::schema()));
                <$data as ToSchema>::schemas(schemas);
                schemas.push((RefusalData::name().into(), RefusalData::schema()));
                <RefusalData as ToSchema>::schemas(schemas);
            }
        }
    };
}

or_refused!(NullOrRefused, Null);
or_refused!(EmptyOrRefused, Empty);
or_refused!(SignInData, SignedIn);
or_refused!(RenderedOrRefused, Rendered);
or_refused!(IssuedOrRefused, Issued);

type Body<T> = http::Json<T, Failure>;
type Answer = Result<Response, Failure>;

fn ok<D: Serialize>(data: D) -> Response {
    axum::Json(Envelope {
        code: ReplyCode(200),
        data,
        msg: "ok".to_string(),
    })
    .into_response()
}

fn email(raw: &str) -> Result<Email, Failure> {
    Ok(Email::parse(raw).map_err(|e| e.field("email"))?)
}

/// Every account of this dialect is named by its email.
fn account(raw_email: &str) -> Result<Account, Failure> {
    Ok(Account::Email(email(raw_email)?))
}

/// A password being chosen (register, modifyPwd): eight characters or more.
/// The original refused a password under six bytes with its own message; whatever else
/// the policy refuses is bad input.
fn new_password(raw: &str, op: Op) -> Result<Password, Failure> {
    if raw.len() < 6 {
        return Err(Error::invalid("password", "shorter than 6 bytes").into());
    }
    Password::new(raw, PasswordPolicy::default())
        .map_err(|e| e.field("password"))
        .during(op)
}

/// A password chosen with a mailed code (`register`, `modifyPwd`): the account, the new password
/// and the code, checked in that order as the original did.
fn with_code(
    raw_email: &str,
    raw_password: &str,
    raw_code: &str,
    op: Op,
) -> Result<(Account, Password, Code), Failure> {
    Ok((
        account(raw_email)?,
        new_password(raw_password, op)?,
        code(raw_code)?,
    ))
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

/// A session's tokens, as the seed shows them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SignedIn {
    /// The access token (an HS256 JWT), valid 1 hour: send it as `Authorization`.
    token: String,
    /// Valid 7 days, also set as the cookie `refresh_token`: `updateToken` trades it for new
    /// tokens (keep the new one: the old one then stops working), `logout` voids it.
    refresh_token: String,
    user_id: u64,
}

fn signed_in(auth: &Auth, tokens: &Tokens, user_id: u64) -> Response {
    let mut res = ok(SignedIn {
        token: tokens.access.clone(),
        refresh_token: tokens.refresh.clone(),
        user_id,
    });
    let expires_at = tokens.refresh_expires_at;
    let cookie = http::token_cookie(auth, COOKIE, &tokens.refresh, COOKIE_PATH, expires_at);
    res.headers_mut().append(header::SET_COOKIE, cookie);
    let id = user_id.to_string();
    let marker = http::token_cookie(auth, USER_COOKIE, &id, "/", expires_at);
    res.headers_mut().append(header::SET_COOKIE, marker);
    res
}

fn captcha_id(raw: &Option<String>) -> Option<String> {
    raw.clone().filter(|s| !s.is_empty())
}

#[derive(Deserialize, ToSchema)]
struct RegisterReq {
    email: String,
    /// The new password: 8 to 128 characters, not too easy to guess, without the email's name.
    password: String,
    /// The 6 digits mailed by `verify/getEmailCode`, or by `sendEmailCode` with `type`
    /// `register`.
    code: String,
}

/// Creates an account with a mailed code.
#[utoipa::path(post, path = "/register", request_body = RegisterReq, responses(
    (status = 200, body = Envelope<NullOrRefused>, description = "Registered (`data` null; sign in \
        with `login`), or refused with code 500: `请求参数有误` (also a password the policy \
        refuses), `邮箱格式错误`, `密码长度不能小于6位`, `验证码长度为6位`, `邮箱验证码错误`, \
        `邮箱已存在`, `操作过于频繁，请N秒后再试`"),
))]
async fn register(auth: Auth, client: Client, Json(req, _): Body<RegisterReq>) -> Answer {
    let (account, password, code) = with_code(&req.email, &req.password, &req.code, Op::Register)?;
    let new = NewUser {
        password: Some(password),
        ..NewUser::of_contact(&account)
    };
    auth.register_with_code(new, &account, &code, &client)
        .await
        .during(Op::Register)?;
    Ok(ok(Null))
}

#[derive(Deserialize, ToSchema)]
struct LoginReq {
    email: String,
    /// At least 6 characters (passwords set before the 8-character rule still sign in).
    password: String,
    /// A solved captcha, once a login answered -1.
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

/// Signs in with email and password.
///
/// From the fourth consecutive failure for an email (until a success, or 30 minutes) the
/// answer is -1 with a captcha to solve; the login carrying it solved proceeds. After 10 the
/// account is locked for 30 minutes.
#[utoipa::path(post, path = "/login", request_body = LoginReq, responses(
    (status = 200, body = Envelope<SignInData>, description = "Signed in (`data` \
        the tokens, the refresh token also set as a cookie), or refused: -1 `需要人机验证`; \
        500 `请求参数有误`, `邮箱格式错误`, `密码长度不能小于6位`, `用户名密码不匹配`, \
        `账号已被禁用`, `操作过于频繁，请N秒后再试`"),
))]
async fn login(auth: Auth, client: Client, Json(req, _): Body<LoginReq>) -> Answer {
    let account = account(&req.email)?;
    // The original refused a password under six bytes (Go's `len`) before counting the
    // attempt (new passwords need eight characters now; older ones still sign in).
    if req.password.len() < 6 {
        return Err(Error::invalid("password", "at least 6 characters").into());
    }
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let gate = Gate::Captcha(captcha_id(&req.captcha_id));
    let s = auth
        .password_login(
            Attempt::new(&account, &password, &client).behind(&gate),
            &session_spec(),
        )
        .await?;
    Ok(signed_in(&auth, &s.tokens, s.user.id.0))
}

#[derive(Deserialize, ToSchema)]
struct LoginEmailReq {
    /// An email with an account (this route creates none).
    email: String,
    /// The 6 digits mailed by `verify/getEmailCode`, or by `sendEmailCode` with `type` `login`.
    code: String,
    /// As on `login`, after an answer -1 here or there (the two routes count failures
    /// together).
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

/// Signs in with a mailed code.
///
/// Failures count towards the captcha and the lock as on `login`.
#[utoipa::path(post, path = "/login/email", request_body = LoginEmailReq, responses(
    (status = 200, body = Envelope<SignInData>, description = "Signed in as by `login`, or \
        refused: -1 `需要人机验证`; 500 `请求参数有误`, `邮箱格式错误`, `邮箱验证错误` (a wrong, \
        spent or expired code, whatever its length), `用户名密码不匹配` (a valid code for an email \
        without an account), `账号已被禁用`, `操作过于频繁，请N秒后再试`"),
))]
async fn login_email(auth: Auth, client: Client, Json(req, _): Body<LoginEmailReq>) -> Answer {
    let account = account(&req.email)?;
    // The original's `EmailLogin` checked the failure count before the code and no length:
    // any code is checked behind the captcha, and a wrong one counts.
    let code = Code::offered(&req.code);
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
        .await
        .during(Op::CodeSignIn)?;
    Ok(signed_in(&auth, &s.tokens, s.user.id.0))
}

#[derive(Deserialize, ToSchema)]
struct RefreshReq {
    /// The refresh token; when absent or empty, the cookie `refresh_token` (or the older
    /// `refreshToken`) is read.
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

/// Trades a refresh token for new tokens.
///
/// The refresh token rotates: the answer's replaces it, and presenting an older one (past a
/// short grace for concurrent requests) ends the session.
#[utoipa::path(post, path = "/updateToken", request_body = RefreshReq,
    params(
        ("refresh_token" = Option<String>, Cookie, nullable = false, description = "The refresh token, read when \
            the body has none"),
        ("refreshToken" = Option<String>, Cookie, nullable = false, description = "The cookie of polyauth's \
            earlier releases, read when neither the body nor `refresh_token` has a token"),
    ),
    responses(
        (status = 200, body = Envelope<SignInData>, description = "Renewed (`data` the \
            new tokens, the refresh token also set as a cookie), or refused: 2000 \
            `token验证失败` (no refresh token, or one unknown, expired, voided or superseded: \
            sign in again); 500 `请求参数有误` (an unreadable body)"),
    ),
)]
async fn update_token(auth: Auth, headers: HeaderMap, Json(req, _): Body<RefreshReq>) -> Answer {
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

/// Signs out: voids the refresh token, ends the access token's session and clears the cookies.
///
/// The refresh token is voided whatever the access token's state; the access token, when sent,
/// is then checked as the original's middleware did.
#[utoipa::path(post, path = "/logout", request_body = RefreshReq,
    params(
        ("Authorization" = Option<String>, Header, nullable = false, description = "The access token, bare as the \
            seed sends it or as `Bearer <token>`; when sent, its session ends too"),
        ("refresh_token" = Option<String>, Cookie, nullable = false, description = "The refresh token, read when \
            the body has none"),
        ("refreshToken" = Option<String>, Cookie, nullable = false, description = "The cookie of polyauth's \
            earlier releases, read when neither the body nor `refresh_token` has a token"),
    ),
    responses(
        (status = 200, body = Envelope<NullOrRefused>, description = "Signed out (`data` null), or \
            refused: 500 `请求参数有误` (no refresh token in the body or the cookies, or an \
            unreadable body); 2000 `token验证失败` (an unknown or malformed refresh token, or \
            an `Authorization` token that is invalid, revoked or another dialect's); 3000 \
            `TOKEN过期` (an expired `Authorization` token: the refresh token was voided all \
            the same)",
            headers(("Set-Cookie" = String, description = "`refresh_token=; Path=/api; \
                Max-Age=0; …` and `user_id=; Path=/; Max-Age=0; …`: the cookies cleared, on \
                every answer but an unreadable body's"))),
    ),
)]
async fn logout(auth: Auth, headers: HeaderMap, Json(req, _): Body<RefreshReq>) -> Response {
    // The refresh token is voided and the cookie cleared whatever the access token's state:
    // a client whose access token expired is signed out all the same. A presented access
    // token is then checked like the original's middleware did (an expired one answers 3000,
    // and the clients refresh and retry), and its session ends too.
    let refresh = refresh_token(&req, &headers);
    let outcome = logout_outcome(&auth, &headers, refresh.as_deref()).await;
    let mut res = match outcome {
        Ok(()) => ok(Null),
        Err(e) => Failure::from(e).into_response(),
    };
    let policy = auth.config().web.cookies;
    for (name, path) in [(COOKIE, COOKIE_PATH), (USER_COOKIE, "/")] {
        let clear = http::clear_cookie(name, path, policy);
        res.headers_mut().append(header::SET_COOKIE, clear);
    }
    res
}

async fn logout_outcome(
    auth: &Auth,
    headers: &HeaderMap,
    refresh: Option<&str>,
) -> Result<(), Error> {
    // The original took the header as the token once a `Bearer ` was trimmed: any other
    // scheme is a token that does not verify (2000), not an absent one.
    let given = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| !v.as_bytes().trim_ascii().is_empty());
    let presented = match bearer(headers) {
        Some(access) => Some(auth.authenticate_in(&access, Dialect::ApiV1).await),
        None if given => Some(Err(Error::TokenInvalid)),
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

#[derive(Deserialize, ToSchema)]
struct ResetCheckReq {
    email: String,
    /// A solved captcha: without one the answer is -1 with the captcha to solve.
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

/// Mails a reset code for `modifyPwd`, behind a solved captcha.
///
/// The answer is the same whether the email has an account or not; only an account's gets
/// the mail.
#[utoipa::path(post, path = "/resetpwdCheck", request_body = ResetCheckReq, responses(
    (status = 200, body = Envelope<NullOrRefused>, description = RESET_CHECKED),
))]
async fn resetpwd_check(auth: Auth, client: Client, Json(req, _): Body<ResetCheckReq>) -> Answer {
    reset_check(&auth, &req.email, captcha_id(&req.captcha_id), &client).await
}

const RESET_CHECKED: &str = "Done (`data` null), or refused: -1 `需要人机验证` (no solved \
    `captchaId`); 500 `请求参数有误`, `邮箱格式错误`, `操作过于频繁，请N秒后再试`";

/// The pre-1.0.2 form: `GET ?eamil=...&captchaId=...` (the seed's spelling), or `?email=`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ResetCheckQuery {
    /// The email; `eamil` is read when absent.
    email: Option<String>,
    /// The seed's spelling of `email`.
    eamil: Option<String>,
    /// A solved captcha: without one the answer is -1 with the captcha to solve.
    #[serde(rename = "captchaId")]
    captcha_id: Option<String>,
}

/// `resetpwdCheck` as it was before the original's 1.0.2.
#[utoipa::path(get, path = "/resetpwdCheck", params(ResetCheckQuery), responses(
    (status = 200, body = Envelope<NullOrRefused>, description = RESET_CHECKED),
))]
async fn resetpwd_check_legacy(
    auth: Auth,
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
    let account = account(raw_email)?;
    auth.request_reset_code(&account, captcha.as_deref(), client)
        .await?;
    Ok(ok(Null))
}

/// The seed's optional `captchaId` is accepted and not read: the captcha was solved for
/// `resetpwdCheck` or `verify/getEmailCode`, which mailed the code.
#[derive(Deserialize, ToSchema)]
struct ModifyPwdReq {
    email: String,
    /// The new password: 8 to 128 characters, not too easy to guess, without the email's name.
    password: String,
    /// The 6 digits mailed by `resetpwdCheck`, `verify/getEmailCode`, or `sendEmailCode` with
    /// `type` `resetpwd`.
    code: String,
}

/// Sets a new password with a mailed code, ending every session of the account.
#[utoipa::path(post, path = "/modifyPwd", request_body = ModifyPwdReq, responses(
    (status = 200, body = Envelope<NullOrRefused>, description = "Changed (`data` null), or refused \
        with code 500: `请求参数有误` (also a password the policy refuses), `邮箱格式错误`, \
        `密码长度不能小于6位`, `验证码长度为6位`, \
        `邮箱验证错误` (a wrong, spent or expired code, also for an email without an account), \
        `账号已被禁用`, \
        `操作过于频繁，请N秒后再试`"),
))]
async fn modify_pwd(auth: Auth, client: Client, Json(req, _): Body<ModifyPwdReq>) -> Answer {
    let (account, password, code) =
        with_code(&req.email, &req.password, &req.code, Op::ModifyPassword)?;
    auth.reset_password_with_code(&account, &code, &password, &client)
        .await
        .during(Op::ModifyPassword)?;
    Ok(ok(Null))
}

#[derive(Deserialize, ToSchema)]
struct SendCodeReq {
    email: String,
    /// What the code is for; any other value answers `请求参数有误`.
    #[serde(rename = "type")]
    #[schema(schema_with = code_type_schema)]
    kind: String,
    /// A solved captcha, needed for `resetpwd` only.
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

fn code_type_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["register", "login", "resetpwd"]))
        .description(Some(
            "What the code is for: `register`, `login` (`login/email`) or `resetpwd` \
            (`modifyPwd`, behind a solved captcha); any other value answers `请求参数有误`",
        ))
        .into()
}

/// Mails a 6-digit code, valid 10 minutes, for one purpose (polyauth's earlier route).
///
/// A resend within the minute, or past the hour's cap for the email, is refused.
#[utoipa::path(post, path = "/sendEmailCode", request_body = SendCodeReq, responses(
    (status = 200, body = Envelope<EmptyOrRefused>, description = "Mailed (`data` `{}`), or refused: -1 \
        `需要人机验证` (`type` `resetpwd` without a solved `captchaId`); 500 `请求参数有误`, \
        `邮箱格式错误`, `操作过于频繁，请N秒后再试`"),
))]
async fn send_email_code(auth: Auth, client: Client, Json(req, _): Body<SendCodeReq>) -> Answer {
    let account = account(&req.email)?;
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
    Ok(ok(Empty {}))
}

#[derive(Deserialize, ToSchema)]
struct EmailCodeReq {
    email: String,
    /// A solved captcha: without one the answer is -1 with the captcha to solve.
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

/// Mails the code the original's clients register, sign in by email and change passwords with.
///
/// One 6-digit code, valid 5 minutes, good for `register`, `login/email` and `modifyPwd`;
/// behind a solved captcha, which it spends.
#[utoipa::path(post, path = "/getEmailCode", request_body = EmailCodeReq, responses(
    (status = 200, body = Envelope<EmptyOrRefused>, description = "Mailed (`data` `{}`, as the \
        original's `resp.Ok`: its web client reads `data.countdown`), or refused: -1 \
        `需要人机验证` (no solved `captchaId`); 500 `请求参数有误`, `邮箱格式错误`, \
        `操作过于频繁，请N秒后再试`"),
))]
async fn get_email_code(auth: Auth, client: Client, Json(req, _): Body<EmailCodeReq>) -> Answer {
    let account = account(&req.email)?;
    let captcha = captcha_id(&req.captcha_id);
    auth.send_code_behind_captcha(Purpose::AnyEmail, &account, captcha.as_deref(), &client)
        .await?;
    Ok(ok(Empty {}))
}

#[derive(Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
struct CaptchaReq {
    /// A captcha id from a -1 answer.
    #[serde(default, rename = "captchaId")]
    captcha_id: Option<String>,
}

/// One rendering of a slider challenge: slide the piece to the gap, and send the x of its left
/// edge to `verify/captcha/validate`.
#[derive(Serialize, ToSchema)]
struct Slider {
    /// The 50×50 piece: PNG, base64 without a `data:` prefix.
    slider_img: String,
    /// The 310×160 background with the gap: PNG, base64 without a `data:` prefix.
    bg_img: String,
    /// The piece's top edge in the background, in pixels.
    y: u32,
}

impl From<Challenge> for Slider {
    fn from(c: Challenge) -> Self {
        Slider {
            slider_img: c.piece,
            bg_img: c.background,
            y: c.y,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct Rendered {
    slider_captcha: Slider,
}

/// Renders an issued challenge anew.
///
/// Each rendering draws a new gap (in development its answer is also put in the dev outbox,
/// channel `captcha`); the `captchaId` may also come in a JSON or form body.
#[utoipa::path(get, path = "/captcha/get", params(CaptchaReq), responses(
    (status = 200, body = Envelope<RenderedOrRefused>, description = "A rendering, or refused \
        with code 500: `获取失败` (no id, or one unknown, expired or solved), `请求参数有误`, \
        `操作过于频繁，请N秒后再试`"),
))]
async fn captcha_get(
    auth: Auth,
    client: Client,
    http::Params(q, _): http::Params<CaptchaReq, Failure>,
) -> Answer {
    let id = captcha_id(&q.captcha_id)
        .ok_or(Error::CaptchaInvalid)
        .during(Op::CaptchaGet)?;
    let c = auth
        .render_captcha(&id, &client)
        .await
        .during(Op::CaptchaGet)?;
    Ok(ok(Rendered {
        slider_captcha: c.into(),
    }))
}

#[derive(Serialize, ToSchema)]
struct Issued {
    /// The id named, or a new one.
    #[serde(rename = "captchaId")]
    captcha_id: String,
    slider_captcha: Slider,
}

/// Renders a challenge, issuing one when none is named.
///
/// `verify/captcha/get` by body, polyauth's earlier route.
#[utoipa::path(post, path = "/captcha", request_body = CaptchaReq, responses(
    (status = 200, body = Envelope<IssuedOrRefused>, description = "A rendering, or refused \
        with code 500: `获取失败` (an id unknown, expired or solved), `请求参数有误`, \
        `操作过于频繁，请N秒后再试`"),
))]
async fn captcha(auth: Auth, client: Client, Json(req, _): Body<CaptchaReq>) -> Answer {
    let c = auth
        .captcha(captcha_id(&req.captcha_id).as_deref(), &client)
        .await
        .during(Op::CaptchaGet)?;
    Ok(ok(Issued {
        captcha_id: c.id.clone(),
        slider_captcha: c.into(),
    }))
}

#[derive(Deserialize, ToSchema)]
struct ValidateReq {
    #[serde(rename = "captchaId")]
    captcha_id: String,
    /// The x of the piece's left edge, in pixels of the 310-pixel background; ±3 is right.
    x: i64,
}

/// Answers the live rendering of a challenge, which the answer spends.
///
/// Solved, the id lets one request through (`login`, `login/email`, `resetpwdCheck`,
/// `verify/getEmailCode`, `sendEmailCode` with `resetpwd`). After a miss, fetch a new rendering;
/// the third miss voids the challenge.
#[utoipa::path(post, path = "/captcha/validate", request_body = ValidateReq, responses(
    (status = 200, body = Envelope<EmptyOrRefused>, description = "Solved (`data` `{}`), or refused with \
        code 500: `滑块验证失败` (a miss, or no live rendering of that id), `请求参数有误`"),
))]
async fn captcha_validate(auth: Auth, client: Client, Json(req, _): Body<ValidateReq>) -> Answer {
    auth.verify_captcha(&req.captcha_id, req.x, &client).await?;
    Ok(ok(Empty {}))
}

#[cfg(test)]
mod tests;
