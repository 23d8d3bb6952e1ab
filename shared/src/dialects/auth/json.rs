//! Seed 001 (`/auth`, JSON bodies): `POST /auth/` logs in and answers `{"access_token"}`,
//! `POST /auth/create` registers and answers `{"id"}`, `POST /auth/disable` answers
//! `{"result": "Ok, user has been diabled."}` (sic) and `POST /auth/reset`
//! `{"result": "Ok, password has been updated."}`, as the original did.
//!
//! Errors are the original's `failed_api_response`: HTTP status = `code`, body
//! `{"code", "detailed_error_code", "error_msg": "StatusCode.<NAME>: <text>"}` with its codes and
//! texts (its Flutter client decodes exactly these three fields): 400/40000 `Bad request`
//! (create, disable or reset with a body that is not JSON, or is an empty one: the original's
//! `if not user_info`), 400/40001 `Bad login info` (login)
//! or `Bad user information` (the others) for missing or invalid fields, 401/40101 wrong
//! credentials, 401/40102 `Invalid token`, 401/40103 `Token expired`, 401/40104 a disabled
//! user's token, 403/40301 `Permission denied`, 404/40400 `User does not exist` (disable and
//! reset), 409/40900 `Username conflicted`; polyauth's own 429/42900 (lockout, with
//! `Retry-After`) and 503/50300 (outage).
//!
//! Order of checks on disable and reset, as the original: a present token first (before the
//! method too: a wrong method hears Django's empty 405 only after the token), then the body,
//! then the username, then the password, then (polyauth's addition) that the token is that
//! user's.
//!
//! Deliberate differences:
//! - a disabled user's tokens answer 40104 and their login 40101 (the original at that commit
//!   left the tokens working; its code table has 40104 for exactly this case);
//! - `disable` (and `reset`, when a token is sent) with another user's token answers 403/40301
//!   (the original did not check); `reset` takes no token as well, the old password being the
//!   proof, and ends every session of the user;
//! - `create` needs a real email address (the original stored any string) and refuses a taken
//!   email as well as a taken username (both `Username conflicted`).
//!
//! Decisions where the seed is silent:
//! - the access token is the core's JWT with the seed's claims (`user_id`, `type:
//!   "access_token"`, `iat`, `exp`, plus `iss`, `sub`, `sid`), valid 24 hours as the original's;
//!   the seed has no refresh, so a client logs in again when told the token expired;
//! - `username` at login, disable and reset accepts any identifier of the account (username,
//!   email or mobile), so users registered through another dialect sign in here too;
//! - the username follows the shared rules (1 to 64 letters, digits, `_`, `.`, `-`, not all
//!   digits); a new password the shared policy (8 to 128 characters, not easily guessed), so the
//!   seed's example `test`/`test` only logs in to an account created before that policy;
//! - `reset` answers an unknown username 404 with or without a token, in the original's order
//!   of checks (API-NOTES); since polyauth takes the token as optional, that answer is open to
//!   anonymous callers, and each try counts against the caller's address (30 per 5 minutes);
//! - after ten consecutive failures the account is locked for the rest of the window (429);
//! - like the original (which checked only that both fields were there, then looked the name
//!   up), a username no account can have (empty, or no username, email or mobile by the shared
//!   rules) is an unknown account (40101 at login, 40400 at disable and reset) and an empty
//!   password a wrong one; only a username longer than any identifier is bad input.

use crate::{
    dialects::{retry_after, wait_seconds, During},
    domain::{Account, Email, Password, PasswordPolicy, User, Username, UsernamePolicy},
    error::CredentialFault,
    http::{self, Json},
    openapi::Anywhere,
    services::{Attempt, Client, Dialect, NewUser, Principal, SessionSpec},
    Auth, Error,
};
use axum::{
    extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request},
    http::{header::AUTHORIZATION, request::Parts, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::routes;

/// The routes with their OpenAPI entries. The login is also served at `/auth`, without the
/// slash of the seed's `/auth/`.
pub fn routes() -> crate::openapi::Routes {
    let (schemas, paths, disable) = routes!(disable);
    let disable = (schemas, paths, disable.fallback(token_then_405));
    let (schemas, paths, reset) = routes!(reset);
    let reset = (schemas, paths, reset.fallback(present_token_then_405));
    let others = [routes!(create), disable, reset];
    let routes = super::seed(routes!(login), others);
    crate::openapi::dialect::<FailedResponse>(routes, Dialect::AuthJson, REFUSALS)
}

/// What `Failure` may answer on any route.
const REFUSALS: &[Anywhere] = &[
    Anywhere {
        status: 429,
        description: "42900 `TOO_MANY_REQUESTS` (`Too many attempts, retry after N \
            seconds`): too many attempts or registrations from this address, or an account \
            locked after ten failures in a row",
    },
    Anywhere {
        status: 503,
        description: "50300 `SERVICE_UNAVAILABLE` (`Service unavailable, retry later`): the \
            store is unreachable or the service is overloaded; nothing was changed",
    },
];

/// The endpoint a failure happened in: the original worded bad input and unknown users per
/// endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Op {
    Login,
    Create,
    /// `disable` and `reset`: an account named by its credentials.
    #[default]
    Account,
    /// The `Authorization` token of `disable` and `reset`: only here is a disabled account the
    /// caller's own (40104); the account a request names, disabled, is a wrong password, as at
    /// login.
    Token,
}

/// The one place this dialect turns a core error into its envelope: `IntoResponse` below.
type Failure = crate::dialects::Failed<Op>;

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure { error: e, op } = self;
        let wrong = match op {
            Op::Account | Op::Token => "User password is wrong",
            Op::Login | Op::Create => "The username or password is incorrect",
        };
        let bad_fields = match op {
            Op::Login => "Bad login info",
            Op::Create | Op::Account | Op::Token => "Bad user information",
        };
        let (detailed, name, text): (u32, &str, String) = match &e {
            Error::Malformed { field, .. } if field == "body" && op != Op::Login => {
                (40000, "BAD_REQUEST", "Bad request".into())
            }
            // A password the policy refuses is bad input like any other (API-NOTES).
            Error::Malformed { .. }
            | Error::Invalid { .. }
            | Error::TooLong { .. }
            | Error::WeakPassword => (40001, "INVALID_REQUEST_ARGUMENT", bad_fields.into()),
            Error::InvalidCredentials(CredentialFault::UnknownAccount) if op == Op::Account => {
                (40400, "ITEM_NOT_FOUND", "User does not exist".into())
            }
            Error::NotFound => (40400, "ITEM_NOT_FOUND", "User does not exist".into()),
            Error::InvalidCredentials(_) => (40101, "INVALID_USERNAME_OR_PASSWORD", wrong.into()),
            Error::Disabled if op == Op::Token => (
                40104,
                "ACCOUNT_DISABLED",
                "Sorry, your account has been disabled".into(),
            ),
            Error::Disabled => (40101, "INVALID_USERNAME_OR_PASSWORD", wrong.into()),
            Error::MissingToken | Error::TokenInvalid | Error::Unauthenticated => {
                (40102, "INVALID_TOKEN", "Invalid token".into())
            }
            Error::TokenExpired => (40103, "TOKEN_EXPIRED", "Token expired".into()),
            Error::Forbidden | Error::MissingPermission(_) => {
                (40301, "PERMISSION_DENIED", "Permission denied".into())
            }
            Error::AlreadyExists { .. } => {
                (40900, "ITEM_ALREADY_EXISTS", "Username conflicted".into())
            }
            Error::TooManyRequests { retry_after } | Error::ResetsExhausted { retry_after } => (
                42900,
                "TOO_MANY_REQUESTS",
                format!(
                    "Too many attempts, retry after {} seconds",
                    wait_seconds(*retry_after)
                ),
            ),
            Error::Unavailable => (
                50300,
                "SERVICE_UNAVAILABLE",
                "Service unavailable, retry later".into(),
            ),
            Error::CaptchaRequired { .. }
            | Error::CaptchaInvalid
            | Error::CodeInvalid
            | Error::ResetTokenInvalid
            | Error::NoPendingLogin
            | Error::AlreadySignedIn => (40000, "BAD_REQUEST", "Bad request".into()),
        };
        let code = detailed / 100;
        let status = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::BAD_REQUEST);
        let body = FailedResponse {
            code,
            detailed_error_code: detailed,
            error_msg: format!("StatusCode.{name}: {text}"),
        };
        retry_after((status, axum::Json(body)).into_response(), &e)
    }
}

/// Every error: the original's `failed_api_response`, which its Flutter client decodes.
#[derive(Serialize, ToSchema)]
struct FailedResponse {
    /// The HTTP status: `detailed_error_code` / 100.
    code: u32,
    #[schema(schema_with = detailed_error_code)]
    detailed_error_code: u32,
    /// `StatusCode.<NAME>: <text>`, the name and text of `detailed_error_code`.
    #[schema(pattern = r"^StatusCode\.[A-Z_]+: ")]
    error_msg: String,
}

/// The detailed codes `Failure` answers, which the Flutter client branches on.
fn detailed_error_code() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some([
                40000, 40001, 40101, 40102, 40103, 40104, 40301, 40400, 40900, 42900, 50300,
            ]))
            .description(Some(
                "40000 `BAD_REQUEST`, 40001 `INVALID_REQUEST_ARGUMENT`, 40101 \
                `INVALID_USERNAME_OR_PASSWORD`, 40102 `INVALID_TOKEN`, 40103 `TOKEN_EXPIRED`, \
                40104 `ACCOUNT_DISABLED`, 40301 `PERMISSION_DENIED`, 40400 `ITEM_NOT_FOUND`, \
                40900 `ITEM_ALREADY_EXISTS`, 42900 `TOO_MANY_REQUESTS`, 50300 \
                `SERVICE_UNAVAILABLE`",
            ))
            .build(),
    )
}

type Body<T> = http::Json<T, Failure>;
type Answer = Result<Response, Failure>;

/// The body of `create`, `disable` and `reset`. The original refused one that parsed to
/// nothing (`{}` as well as `[]` or `null`: `if not user_info`) as a bad request, before it
/// read any field.
struct UserInfo<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for UserInfo<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        let Json(fields, _) = Body::<Map<String, Value>>::from_request(req, state).await?;
        if fields.is_empty() {
            return Err(Error::malformed("body", "is empty").into());
        }
        Ok(UserInfo(http::from_value(Value::Object(fields))?))
    }
}

/// The 400 answer of the routes whose bad fields are `Bad user information` (`create`, `disable`
/// and `reset`): a body that cannot be read, then `bad_fields`, what each says of its fields.
macro_rules! bad_user_information {
    ($bad_fields:literal) => {
        concat!(
            "40000 `BAD_REQUEST` (`Bad request`): a body that is not a JSON object, an empty \
            one (`{}`, or no body), or over 64 KiB; 40001 `INVALID_REQUEST_ARGUMENT` (`Bad \
            user information`): ",
            $bad_fields
        )
    };
}

/// Seed 001's tokens live 24 hours, as the original's `valid_hours`.
const TOKEN_TTL: i64 = 24 * 3600;

/// An account named by any of its identifiers, and its password.
#[derive(Deserialize, ToSchema)]
struct Credentials {
    /// The account's username, email or mobile number.
    username: String,
    password: String,
}

/// The seed's login answer.
#[derive(Serialize, ToSchema)]
struct AccessToken {
    /// A JWT with the seed's claims (`user_id`, `type`, `iat`, `exp`), valid 24 hours.
    access_token: String,
}

/// The account `username` names, by any of its identifiers, and the password offered for it:
/// what login, disable and reset read first. The original checked only that both were there
/// (`is None`) and then looked the name up: a name no account can have is not found
/// (`unknown`: login's wrong credentials, the others' 404), and an empty password is a wrong
/// one; only a name longer than any identifier is bad input (API-NOTES "Sizes").
fn credentials(
    auth: &Auth,
    username: &str,
    password: &str,
    unknown: Error,
) -> Result<(Account, Password), Error> {
    let named = auth
        .account_named(username)
        .map_err(|e| e.field("username"))?;
    let password = Password::offered(password).map_err(|e| e.field("password"))?;
    Ok((named.ok_or(unknown)?, password))
}

/// Logs in with a username (or the account's email or mobile) and password.
#[utoipa::path(post, path = "/auth/", request_body = Credentials, responses(
    (status = 200, description = "Logged in", body = AccessToken),
    (status = 400, description = "40001 `INVALID_REQUEST_ARGUMENT` (`Bad login info`): a body \
        that is not a JSON object (or over 64 KiB), a username or password missing or not a \
        string, or a username longer than any identifier (64 characters, 254 for an email)",
        body = FailedResponse),
    (status = 401, description = "40101 `INVALID_USERNAME_OR_PASSWORD` (`The username or \
        password is incorrect`): a wrong (or empty) password, an unknown or a disabled \
        account, or a username no account can have",
        body = FailedResponse),
))]
async fn login(auth: Auth, client: Client, body: Result<Body<Credentials>, Failure>) -> Answer {
    let Json(req, _) = body.during(Op::Login)?;
    let unknown = Error::InvalidCredentials(CredentialFault::UnknownAccount);
    let (account, password) =
        credentials(&auth, &req.username, &req.password, unknown).during(Op::Login)?;
    let spec = SessionSpec {
        access_ttl: Some(TOKEN_TTL),
        dialect: Some(Dialect::AuthJson),
        ..Default::default()
    };
    let s = auth
        .password_login(Attempt::new(&account, &password, &client), &spec)
        .await
        .during(Op::Login)?;
    Ok(axum::Json(AccessToken {
        access_token: s.tokens.access,
    })
    .into_response())
}

#[derive(Deserialize, ToSchema)]
struct CreateReq {
    /// 1 to 64 letters, digits, `_`, `.` or `-`, not all digits; unique regardless of case.
    #[schema(min_length = 1, max_length = 64)]
    username: String,
    /// 8 to 128 characters, not easily guessed and without the account's own name or email.
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    /// A real address, unique as well.
    #[schema(format = Email)]
    email: String,
}

/// The new user.
#[derive(Serialize, ToSchema)]
struct Created {
    id: u64,
}

/// Registers a user; answers the new user's id.
#[utoipa::path(post, path = "/auth/create", request_body = CreateReq, responses(
    (status = 200, description = "Registered", body = Created),
    (status = 400, description = bad_user_information!("a field missing, not a string or not \
        acceptable (the username's characters or length, the password's length or a password \
        too easily guessed, an email that is not one)"), body = FailedResponse),
    (status = 409, description = "40900 `ITEM_ALREADY_EXISTS` (`Username conflicted`): the \
        username or the email is taken", body = FailedResponse),
))]
async fn create(auth: Auth, client: Client, body: Result<UserInfo<CreateReq>, Failure>) -> Answer {
    let UserInfo(req) = body.during(Op::Create)?;
    let user = register(&auth, &client, req).await.during(Op::Create)?;
    Ok(axum::Json(Created { id: user.id.0 }).into_response())
}

/// `create`'s work, every failure of which `create` marks as its own.
async fn register(auth: &Auth, client: &Client, req: CreateReq) -> Result<User, Error> {
    let username = Username::parse(&req.username, UsernamePolicy::default())
        .map_err(|e| e.field("username"))?;
    let password =
        Password::new(&req.password, PasswordPolicy::default()).map_err(|e| e.field("password"))?;
    let email = Email::parse(&req.email).map_err(|e| e.field("email"))?;
    let new = NewUser {
        email: Some(email),
        username: Some(username),
        password: Some(password),
        ..Default::default()
    };
    auth.register(new, None, client).await
}

/// A method `disable` does not take. The original's `auth_required` wrapped its
/// `require_http_methods`, so the token is checked first, as on a `POST`; only a caller with a
/// good one hears Django's empty 405.
async fn token_then_405(_: Caller) -> StatusCode {
    StatusCode::METHOD_NOT_ALLOWED
}

/// `token_then_405` for `reset`, whose token is optional (API-NOTES): a present one must be good.
async fn present_token_then_405(_: Option<Caller>) -> StatusCode {
    StatusCode::METHOD_NOT_ALLOWED
}

/// The session of the `Authorization: Bearer` token. An extractor ahead of the body's, so it is
/// checked before the body as the original's decorator did; `Option<Caller>` where the token
/// is optional.
struct Caller(Principal);

impl FromRequestParts<Auth> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, auth: &Auth) -> Result<Self, Failure> {
        presented(auth, &parts.headers)
            .await
            .and_then(|caller| caller.ok_or(Error::MissingToken))
            .during(Op::Token)
    }
}

impl OptionalFromRequestParts<Auth> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, auth: &Auth) -> Result<Option<Self>, Failure> {
        presented(auth, &parts.headers).await.during(Op::Token)
    }
}

/// The session of a present `Authorization` header; `None` without one.
async fn presented(auth: &Auth, headers: &HeaderMap) -> Result<Option<Caller>, Error> {
    if !headers.contains_key(AUTHORIZATION) {
        return Ok(None);
    }
    let token = bearer_only(headers).ok_or(Error::TokenInvalid)?;
    auth.authenticate_in(&token, Dialect::AuthJson)
        .await
        .map(|principal| Some(Caller(principal)))
}

/// `Authorization: Bearer <jwt>` exactly: the original refused any other scheme.
fn bearer_only(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(AUTHORIZATION)?.to_str().ok()?;
    raw.strip_prefix("Bearer ")
        .filter(|t| !t.is_empty() && !t.contains(' '))
        .map(str::to_string)
}

/// The original's confirmation, in its words.
#[derive(Serialize, ToSchema)]
struct Done {
    /// `Ok, user has been diabled.` (sic) or `Ok, password has been updated.`
    result: &'static str,
}

/// What `disable` and `reset` answer for a token of another user than the one they name.
const ANOTHER_USERS: &str =
    "40301 `PERMISSION_DENIED` (`Permission denied`): the token is another user's";

/// What `disable` and `reset` answer for a username no account has.
const NO_SUCH_USER: &str =
    "40400 `ITEM_NOT_FOUND` (`User does not exist`): no account has that username";

/// Disables the token's own account, named by its username and password.
#[utoipa::path(post, path = "/auth/disable", request_body = Credentials,
    description = "Checked in the original's order: the token (40102, 40103, 40104), the body \
        (40000, 40001), the username (40400), the password (40101), then that the token is that \
        user's (40301). Afterwards no dialect signs the account in (here: 40101, as for a wrong \
        password), and its tokens answer 40104.",
    params(("Authorization" = String, Header,
        description = "`Bearer <access_token>` exactly; checked before the body")),
    responses(
        (status = 200, description = "Disabled; every session of the user has ended",
            body = Done,
            example = json!({"result": "Ok, user has been diabled."})),
        (status = 400, description = bad_user_information!("a username or password missing \
            or not a string, or a username longer than any identifier"), body = FailedResponse),
        (status = 401, description = "40101 `INVALID_USERNAME_OR_PASSWORD` (`User password is \
            wrong`); 40102 `INVALID_TOKEN` (`Invalid token`): no `Authorization` header, \
            another scheme than `Bearer`, a malformed or tampered token, or one whose session \
            has ended; 40103 `TOKEN_EXPIRED` (`Token expired`): log in again; 40104 \
            `ACCOUNT_DISABLED` (`Sorry, your account has been disabled`): the token's user is \
            disabled", body = FailedResponse),
        (status = 403, description = ANOTHER_USERS, body = FailedResponse),
        (status = 404, description = NO_SUCH_USER, body = FailedResponse),
    ))]
async fn disable(
    auth: Auth,
    client: Client,
    Caller(principal): Caller,
    UserInfo(req): UserInfo<Credentials>,
) -> Answer {
    let (account, password) = credentials(&auth, &req.username, &req.password, Error::NotFound)?;
    auth.disable_self(&principal, &account, &password, &client)
        .await?;
    Ok(axum::Json(Done {
        result: "Ok, user has been diabled.",
    })
    .into_response())
}

#[derive(Deserialize, ToSchema)]
struct ResetReq {
    /// The account's username, email or mobile number.
    username: String,
    /// The current password.
    password: String,
    /// 8 to 128 characters, not easily guessed and without the account's own name or email.
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

/// Changes the password, proven by the old one; every session of the user ends.
#[utoipa::path(post, path = "/auth/reset", request_body = ResetReq,
    description = "Checked in the original's order: a token, when sent (40102, 40103, 40104), \
        the body (40000, 40001), the username (40400), the password (40101), then that a token \
        sent is that user's (40301).",
    params(("Authorization" = Option<String>, Header,
        description = "`Bearer <access_token>` exactly, optional: when present it is checked \
            before the body and must be the account's own")),
    responses(
        (status = 200, description = "Password changed; every session of the user has ended",
            body = Done,
            example = json!({"result": "Ok, password has been updated."})),
        (status = 400, description = bad_user_information!("a field missing or not a string, a \
            username longer than any identifier, a new password not 8 to 128 characters or too \
            easily guessed"),
            body = FailedResponse),
        (status = 401, description = "40101 `INVALID_USERNAME_OR_PASSWORD` (`User password is \
            wrong`); 40104 `ACCOUNT_DISABLED` (`Sorry, your account has been disabled`): the \
            token's user is disabled (a disabled account the body names is a wrong password, \
            as at login); with an `Authorization` header also \
            40102 `INVALID_TOKEN` (`Invalid token`): another scheme than `Bearer`, a malformed \
            or tampered token, or one whose session has ended; 40103 `TOKEN_EXPIRED` (`Token \
            expired`)", body = FailedResponse),
        (status = 403, description = ANOTHER_USERS, body = FailedResponse),
        (status = 404, description = NO_SUCH_USER, body = FailedResponse),
    ))]
async fn reset(
    auth: Auth,
    client: Client,
    caller: Option<Caller>,
    UserInfo(req): UserInfo<ResetReq>,
) -> Answer {
    // Every field is checked before the username is looked up (the original's order).
    let new = Password::new(&req.new_password, PasswordPolicy::default())
        .map_err(|e| e.field("new_password"))?;
    let (account, old) = credentials(&auth, &req.username, &req.password, Error::NotFound)?;
    let principal = caller.as_ref().map(|Caller(principal)| principal);
    auth.change_password(principal, &account, &old, &new, &client)
        .await?;
    Ok(axum::Json(Done {
        result: "Ok, password has been updated.",
    })
    .into_response())
}
