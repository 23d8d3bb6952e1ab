//! Seed 004 (`/auth`, form data): `GET /auth/` (who am I), `POST /auth/login`,
//! `POST /auth/register`, `POST /auth/logout`. Envelope `{"code", "message", "data"}` with the
//! HTTP status equal to `code`, as the original's; error bodies carry no `data`. The Android
//! app switches on exact messages, which are the original's:
//! - 400 `Request Form Data Param Error`: a body that cannot be read or a missing field;
//! - 400 `Format Error`: a value outside the seed's limits (register: username 5..=30,
//!   password 8..=20) or otherwise unacceptable, a new password of the right length that is
//!   too easily guessed included (the contract's bad-parameters answer for a refused password);
//! - 401 `Unauthorized`: no `Authorization` header, another scheme, or a logged-out or unknown
//!   session; 401 `Token Bad Signature`: a token that is not ours; 401 `Token Expired`;
//! - 401 `Password Error` / `User Not Found` at login, for usernames only; 401 `Login Failed`
//!   for every other login failure; 401 `User Existed`, 401 `Register Failed`; 600
//!   `Logout Failed`; 503 `Service Unavailable` for an outage;
//! - 405 `405 Method Not Allowed: The method is not allowed for the requested URL.` for a
//!   method a route does not take (the original's error forward of Flask's 405).
//!
//! Deliberate differences:
//! - an email or mobile given as `username` signs in with the right password, and any failure
//!   then answers `Login Failed`, so the form cannot probe other dialects' accounts;
//! - `User Existed` and `Register Failed` are 401 as the seed's table says (the original's code
//!   sent 601 and 600); `Token Expired` is sent for an expired token as the seed's `api.md`
//!   lists it (the original's handler order made it unreachable);
//! - `expiration` is capped at 90 days (the app offers up to 60; the original had no cap);
//! - `register` usernames follow the shared rules besides the seed's length (letters, digits,
//!   `_ . -`, not all digits): an all-digit name would sign in as a mobile number;
//! - a locked account (ten consecutive failures) answers `Login Failed` with `Retry-After`; a
//!   disabled one answers as a wrong password would (`Password Error` for a username), so the
//!   answer never says whether the password was right.
//!
//! Decisions where the seed is silent:
//! - `POST /auth/login` answers the response header `Authorization: Bearer <token>` (the
//!   original at the seed's commit) and `data: {id, username, token}` (the original added
//!   `token` a week later, and the app reads it there); requests send `Bearer <token>`, a bare
//!   token is accepted too;
//! - `expiration` is a whole number of seconds, default one day; empty or 0 counts as absent;
//!   the session lives as long as its token;
//! - `logout` ends every session of the user opened through this dialect (the original removed
//!   all of the user's tokens) and answers how many (`count`);
//! - `data.username` of a user without a username (registered through another dialect) is
//!   their email, else their mobile number.

use crate::{
    dialects::{retry_after, During},
    domain::{Account, Password, PasswordPolicy, User, Username, UsernamePolicy},
    error::CredentialFault,
    http::{self, bearer, Form},
    openapi::{Anywhere, Routes},
    services::{Attempt, Client, Dialect, NewUser, SessionSpec},
    Auth, Error,
};
use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

/// The routes with their OpenAPI entries. Who-am-I is also served at `/auth`, without the
/// slash of the seed's `/auth/`.
pub fn routes() -> crate::openapi::Routes {
    let others = [routes!(login), routes!(register), routes!(logout)];
    let routes = super::seed(routes!(whoami), others);
    crate::openapi::dialect::<Refusal>(as_forms(routes), Dialect::AuthForm, REFUSALS)
}

/// Every body of this dialect is a form, in either encoding (`http::Form` reads both): a route
/// documents its body's type, and this its encodings.
fn as_forms(mut routes: Routes) -> Routes {
    for item in routes.get_openapi_mut().paths.paths.values_mut() {
        let Some(body) = item.post.as_mut().and_then(|op| op.request_body.as_mut()) else {
            continue;
        };
        if let Some(content) = body.content.remove("application/json") {
            let encodings = ["application/x-www-form-urlencoded", "multipart/form-data"];
            for encoding in encodings {
                body.content.insert(encoding.to_string(), content.clone());
            }
        }
    }
    routes
}

/// What `Failure` may answer on any route.
const REFUSALS: &[Anywhere] = &[Anywhere {
    status: 503,
    description: "`Service Unavailable`: the store is unreachable or the service is \
        overloaded; nothing was changed",
}];

pub const USERNAME_POLICY: UsernamePolicy = UsernamePolicy { min: 5, max: 30 };
pub const PASSWORD_POLICY: PasswordPolicy = PasswordPolicy { min: 8, max: 20 };
/// `expiration` when the client sends none: one day, as the seed says.
pub const DEFAULT_EXPIRATION: i64 = 24 * 3600;
/// The longest token a client can ask for: 90 days.
pub const MAX_EXPIRATION: i64 = crate::services::LONGEST_ACCESS_TTL;

/// The endpoint a failure happened in: the seed names a catch-all failure per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Op {
    #[default]
    Other,
    /// A login by username: the seed's `Password Error` / `User Not Found` apply.
    LoginByUsername,
    /// A login by another identifier: every failure is `Login Failed`.
    Login,
    Register,
    Logout,
}

/// The one place this dialect turns a core error into its envelope: `IntoResponse` below.
type Failure = crate::dialects::Failed<Op>;

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure { error: e, op } = self;
        let failed = || -> (u16, Message) {
            match op {
                Op::Login | Op::LoginByUsername => (401, Message::LoginFailed),
                Op::Register => (401, Message::RegisterFailed),
                Op::Logout => (600, Message::LogoutFailed),
                Op::Other => (401, Message::Unauthorized),
            }
        };
        let (code, message) = match &e {
            Error::Malformed { .. } => (400, Message::ParamError),
            Error::Invalid { .. } | Error::TooLong { .. } | Error::WeakPassword => {
                (400, Message::FormatError)
            }
            Error::TokenExpired => (401, Message::TokenExpired),
            Error::TokenInvalid => (401, Message::TokenBadSignature),
            Error::MissingToken | Error::Unauthenticated => (401, Message::Unauthorized),
            // The seed has no word for a disabled account: telling it apart from a wrong
            // password would tell whoever tries a password that it was right.
            Error::InvalidCredentials(CredentialFault::WrongPassword) | Error::Disabled
                if op == Op::LoginByUsername =>
            {
                (401, Message::PasswordError)
            }
            Error::InvalidCredentials(CredentialFault::UnknownAccount)
                if op == Op::LoginByUsername =>
            {
                (401, Message::UserNotFound)
            }
            Error::AlreadyExists { .. } => (401, Message::UserExisted),
            Error::Unavailable => (503, Message::ServiceUnavailable),
            Error::InvalidCredentials(_)
            | Error::Disabled
            | Error::TooManyRequests { .. }
            | Error::ResetsExhausted { .. }
            | Error::Forbidden
            | Error::MissingPermission(_)
            | Error::NotFound
            | Error::CaptchaRequired { .. }
            | Error::CaptchaInvalid
            | Error::CodeInvalid
            | Error::ResetTokenInvalid
            | Error::NoPendingLogin
            | Error::AlreadySignedIn => failed(),
        };
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::UNAUTHORIZED);
        let body = Refusal { code, message };
        retry_after((status, axum::Json(body)).into_response(), &e)
    }
}

/// Every error: the original's `Result` without `data`.
#[derive(Serialize, ToSchema)]
struct Refusal {
    /// The HTTP status: 400, 401, 503, or 600 for `Logout Failed`.
    code: u16,
    message: Message,
}

/// The original's error messages, which the Android app switches on.
#[derive(Serialize, ToSchema)]
enum Message {
    #[serde(rename = "Request Form Data Param Error")]
    ParamError,
    #[serde(rename = "Format Error")]
    FormatError,
    #[serde(rename = "Unauthorized")]
    Unauthorized,
    #[serde(rename = "Token Bad Signature")]
    TokenBadSignature,
    #[serde(rename = "Token Expired")]
    TokenExpired,
    #[serde(rename = "Password Error")]
    PasswordError,
    #[serde(rename = "User Not Found")]
    UserNotFound,
    #[serde(rename = "Login Failed")]
    LoginFailed,
    #[serde(rename = "User Existed")]
    UserExisted,
    #[serde(rename = "Register Failed")]
    RegisterFailed,
    #[serde(rename = "Logout Failed")]
    LogoutFailed,
    #[serde(rename = "Service Unavailable")]
    ServiceUnavailable,
    #[serde(rename = "405 Method Not Allowed: The method is not allowed for the requested URL.")]
    MethodNotAllowed,
    #[serde(
        rename = "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."
    )]
    NotFound,
}

/// A method a seed-004 route does not take: the original's 405 in its envelope (Flask's
/// `MethodNotAllowed` through its error forward), where axum would answer an empty body.
/// `OPTIONS` is Flask's own: 200, empty, with the route's methods in `Allow`.
pub(super) async fn method_not_allowed(method: axum::http::Method) -> Response {
    if method == axum::http::Method::OPTIONS {
        return StatusCode::OK.into_response();
    }
    let body = Refusal {
        code: 405,
        message: Message::MethodNotAllowed,
    };
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

/// The original's 404 in its envelope (Flask's `NotFound` through its error forward): the
/// Android app reads every error body's `message`.
pub(super) fn not_found() -> Response {
    let body = Refusal {
        code: 404,
        message: Message::NotFound,
    };
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// Every success: the original's `Result` with `code` 200 and `message` `Success`.
#[derive(Serialize, ToSchema)]
struct Success<T> {
    /// Always 200.
    #[schema(minimum = 200, maximum = 200)]
    code: u16,
    /// Always `Success`.
    #[schema(pattern = "^Success$")]
    message: &'static str,
    data: T,
}

type Body<T> = http::Form<T, Failure>;
type Answer = Result<Response, Failure>;

fn success<T: Serialize>(data: T) -> Response {
    (
        StatusCode::OK,
        axum::Json(Success {
            code: 200,
            message: "Success",
            data,
        }),
    )
        .into_response()
}

/// The seed's user.
#[derive(Serialize, ToSchema)]
struct UserData {
    id: u64,
    /// The username, else (a user of another dialect) the email, else the mobile number.
    username: String,
}

/// Users without a username are shown by their email, else their mobile.
fn user_data(auth: &Auth, user: &User) -> UserData {
    let username = match (&user.username, &user.email, &user.mobile) {
        (Some(u), _, _) => u.as_str().to_string(),
        (None, Some(e), _) => e.as_str().to_string(),
        (None, None, Some(m)) => auth.show_phone(m),
        (None, None, None) => String::new(),
    };
    UserData {
        id: user.id.0,
        username,
    }
}

/// Seconds a new token lives: default one day (also for 0, as the original), capped at 90 days.
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
        return Ok(DEFAULT_EXPIRATION);
    }
    Ok(seconds.min(MAX_EXPIRATION))
}

/// The principal behind the request's `Authorization` header.
async fn caller(auth: &Auth, headers: &HeaderMap) -> Result<crate::services::Principal, Error> {
    let token = bearer(headers).ok_or(Error::MissingToken)?;
    auth.authenticate_in(&token, Dialect::AuthForm).await
}

/// The token of the routes behind a login.
const TOKEN: &str = "`Bearer <token>` (or the bare token) from `POST /auth/login`";

/// What the routes behind a login answer without a live session.
const NOT_SIGNED_IN: &str = "`Unauthorized`: no `Authorization` header, another scheme than \
    `Bearer`, a logged-out or unknown session, or a disabled account; `Token Bad Signature`: \
    not a token of ours; `Token Expired`";

/// The signed-in user.
#[utoipa::path(get, path = "/auth/",
    params(("Authorization" = String, Header, description = TOKEN)),
    responses(
        (status = 200, description = "The token's user", body = Success<UserData>),
        (status = 401, description = NOT_SIGNED_IN, body = Refusal),
    ))]
async fn whoami(auth: Auth, headers: HeaderMap) -> Answer {
    let token = bearer(&headers).ok_or(Error::MissingToken)?;
    let (_, user) = auth.whoami_in(&token, Dialect::AuthForm).await?;
    Ok(success(user_data(&auth, &user)))
}

#[derive(Deserialize, ToSchema)]
struct LoginForm {
    /// A username, or the email or mobile number of an account registered elsewhere.
    username: String,
    password: String,
    /// Seconds the token and its session live: a day if absent, empty or 0; at most 90 days.
    #[schema(value_type = u64, required = false)]
    expiration: Option<String>,
}

/// `data` of a login: the user and the token.
#[derive(Serialize, ToSchema)]
struct LoginData {
    id: u64,
    /// As `GET /auth/` shows it.
    username: String,
    /// The token of the `Authorization` response header, without `Bearer `.
    token: String,
}

/// Logs in; the token is both the `Authorization` response header and `data.token`.
#[utoipa::path(post, path = "/auth/login",
    request_body = LoginForm,
    responses(
        (status = 200, description = "Logged in", body = Success<LoginData>,
            headers(("Authorization" = String, description = "`Bearer <token>`, the token to \
                send back"))),
        (status = 400, description = "`Request Form Data Param Error`: a body that cannot be \
            read (or over 64 KiB) or a missing field; `Format Error`: a password over 1024 \
            bytes, a `username` over every identifier's limit (64 characters, 254 for an \
            email), or an `expiration` that is not a whole number of seconds",
            body = Refusal),
        (status = 401, description = "For a username: `Password Error` (a wrong or empty password) or \
            `User Not Found` (also for one that can name no account: empty, with spaces, \
            longer than the seed's 30 characters); for an email or mobile number, any failure: `Login Failed`; \
            a disabled account answers as a wrong password, whatever the password; \
            `Login Failed` with `Retry-After` for an account \
            locked after ten failures in a row or too many attempts from this address",
            body = Refusal,
            headers(("Retry-After" = u64, description = "Seconds to wait, when locked"))),
    ))]
async fn login(auth: Auth, client: Client, Form(req, _): Body<LoginForm>) -> Answer {
    // The original looked up whatever username it was given: one that can name no account
    // (empty, with spaces, too long for a username) is simply not found.
    let named = auth
        .account_named(&req.username)
        .map_err(|e| e.field("username"))
        .during(Op::Login)?;
    let Some(account) = named else {
        let unknown = Error::InvalidCredentials(CredentialFault::UnknownAccount);
        return Err(unknown).during(Op::LoginByUsername);
    };
    let op = match account {
        Account::Username(_) => Op::LoginByUsername,
        Account::Email(_) | Account::Mobile(_) => Op::Login,
    };
    sign_in(&auth, &client, &account, req).await.during(op)
}

async fn sign_in(
    auth: &Auth,
    client: &Client,
    account: &Account,
    req: LoginForm,
) -> Result<Response, Error> {
    // An empty password is a wrong one, as the original checked it.
    let password = Password::offered(&req.password).map_err(|e| e.field("password"))?;
    let spec = SessionSpec {
        access_ttl: Some(expiration(req.expiration.as_deref())?),
        dialect: Some(Dialect::AuthForm),
        ..Default::default()
    };
    let s = auth
        .password_login(Attempt::new(account, &password, client), &spec)
        .await?;
    let bearer = format!("Bearer {}", s.tokens.access);
    let header_value = HeaderValue::from_str(&bearer).map_err(|_| Error::Unavailable)?;
    let UserData { id, username } = user_data(auth, &s.user);
    let mut res = success(LoginData {
        id,
        username,
        token: s.tokens.access,
    });
    res.headers_mut()
        .insert(header::AUTHORIZATION, header_value);
    Ok(res)
}

#[derive(Deserialize, ToSchema)]
struct RegisterForm {
    /// 5 to 30 letters, digits, `_`, `.` or `-`, not all digits; unique regardless of case.
    #[schema(min_length = 5, max_length = 30)]
    username: String,
    /// 8 to 20 characters, not easily guessed and without the username.
    #[schema(min_length = 8, max_length = 20)]
    password: String,
}

/// Registers a username and password; does not log in.
#[utoipa::path(post, path = "/auth/register",
    request_body = RegisterForm,
    responses(
        (status = 200, description = "Registered", body = Success<UserData>),
        (status = 400, description = "`Request Form Data Param Error`: a body that cannot be \
            read (or over 64 KiB) or a missing field; `Format Error`: a username not 5 to 30 \
            letters, digits, `_`, `.` or `-` (or all digits), a password not 8 to 20 \
            characters or too easily guessed", body = Refusal),
        (status = 401, description = "`User Existed`: the username is taken (by any \
            dialect's user); `Register Failed`, with `Retry-After`: too many registrations \
            from this address", body = Refusal,
            headers(("Retry-After" = u64, description = "Seconds to wait, when limited"))),
    ))]
async fn register(auth: Auth, client: Client, Form(req, _): Body<RegisterForm>) -> Answer {
    create(&auth, req, &client).await.during(Op::Register)
}

async fn create(auth: &Auth, req: RegisterForm, client: &Client) -> Result<Response, Error> {
    let username =
        Username::parse(&req.username, USERNAME_POLICY).map_err(|e| e.field("username"))?;
    let password =
        Password::new(&req.password, PASSWORD_POLICY).map_err(|e| e.field("password"))?;
    let new = NewUser {
        username: Some(username),
        password: Some(password),
        ..Default::default()
    };
    let user = auth.register(new, None, client).await?;
    Ok(success(user_data(auth, &user)))
}

/// `data` of a logout.
#[derive(Serialize, ToSchema)]
struct Count {
    /// The sessions ended: every session of the user opened through this dialect.
    count: u64,
}

/// Logs out everywhere this dialect signed the user in; the body, if any, is not read.
#[utoipa::path(post, path = "/auth/logout",
    params(("Authorization" = String, Header, description = TOKEN)),
    responses(
        (status = 200, description = "Logged out", body = Success<Count>),
        (status = 401, description = NOT_SIGNED_IN, body = Refusal),
        (status = "default", description = "600 `Logout Failed` (the seed's own status, \
            outside HTTP's): a concurrent logout ended the sessions first", body = Refusal),
    ))]
async fn logout(auth: Auth, headers: HeaderMap) -> Answer {
    let principal = caller(&auth, &headers).await?;
    let count = auth
        .logout_dialect(&principal, Dialect::AuthForm)
        .await
        .during(Op::Logout)?;
    if count == 0 {
        // A concurrent logout ended them first.
        return Err(Error::NotFound).during(Op::Logout);
    }
    Ok(success(Count { count }))
}
