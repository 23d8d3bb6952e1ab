//! Seed 001 (`/auth`, JSON bodies): `POST /auth/` logs in and answers `{"access_token"}`,
//! `POST /auth/create` registers and answers `{"id"}`, `POST /auth/disable` and
//! `POST /auth/reset` answer `{}`. Errors are `{"msg": "<text>"}` with the HTTP status of the
//! error's class (400, 401, 403, 409, 429, 503; see [`crate::dialects::status_of`]).
//!
//! Decisions where the seed is silent:
//! - The access token is the core's JWT: `user_id`, `type: "access_token"`, `iat`, `exp` as in
//!   the seed's example token (plus `iss`, `sub`, `sid`). Its lifetime is the deployment's
//!   configured access-token lifetime (`POLYAUTH_ACCESS_TTL`, default one hour); the seed has
//!   no refresh endpoint, so a client logs in again when told `access_token expired`.
//! - An expired token answers 401 `{"msg": "access_token expired"}`; a missing, malformed,
//!   revoked or foreign token answers 401 `{"msg": "access_token missing or invalid"}`.
//! - `username` at login, disable and reset accepts any identifier of the account (username,
//!   email or mobile), so users registered through another dialect can sign in here.
//! - Wrong password and unknown account are one answer, 401 `wrong username or password`
//!   (no user enumeration). The seed has no captcha: after ten consecutive failures the
//!   account is locked for the rest of the window, 429 with `Retry-After`. There is no place
//!   for an SMS second step in this seed, so none is asked for.
//! - `create` is open registration and answers 200. The username follows the shared rules
//!   (1 to 64 letters, digits, `_`, `.`, `-`, not all digits), the email must be an address,
//!   and the password is 4 to 128 characters: looser than the service default of 6 because
//!   the seed's own example signs in as `test`/`test`. A taken username or email answers 409
//!   `<field> already registered`.
//! - `disable` checks the Bearer token first (401), then the credentials (401 when wrong),
//!   then that the token belongs to that same account (403). It disables the account and
//!   ends all its sessions; the account then cannot sign in through any dialect (403
//!   `account disabled` here).
//! - `reset` needs no token: the current password is the proof. `new_password` follows the
//!   `create` policy. Every session of the user ends, the caller's included.
//! - Bodies are read as JSON whatever the `Content-Type`; a body that is not a JSON object, a
//!   missing field or a field of the wrong type answers 400 naming the field.

use crate::{
    dialects::{describe, status_of},
    domain::{Email, Password, PasswordPolicy, Username, UsernamePolicy},
    http::{self, bearer},
    services::{Gate, LoginStep, NewUser, SessionSpec},
    Auth, Error,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Seed 001's example account is `test`/`test`.
const PASSWORD_POLICY: PasswordPolicy = PasswordPolicy { min: 4, max: 128 };

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
        let msg = match &e {
            Error::TokenExpired => "access_token expired".to_string(),
            Error::Unauthenticated => "access_token missing or invalid".into(),
            Error::InvalidCredentials(_) => "wrong username or password".into(),
            Error::Forbidden => "access_token does not belong to this user".into(),
            Error::Disabled => "account disabled".into(),
            Error::Unavailable => "service unavailable".into(),
            Error::Invalid { .. }
            | Error::AlreadyExists { .. }
            | Error::TooManyRequests { .. }
            | Error::NotFound
            | Error::CaptchaRequired { .. }
            | Error::CaptchaInvalid
            | Error::CodeInvalid
            | Error::ResetTokenInvalid
            | Error::NoPendingLogin => describe(&e),
        };
        let mut res = (status_of(&e), axum::Json(json!({ "msg": msg }))).into_response();
        if let Error::TooManyRequests { retry_after } = e {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        }
        res
    }
}

type Body<T> = http::Json<T, Failure>;
type Answer = Result<Response, Failure>;

fn ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

#[derive(Deserialize)]
pub(super) struct Credentials {
    username: String,
    password: String,
}

/// `POST /auth/`
pub(super) async fn login(
    State(auth): State<Auth>,
    headers: HeaderMap,
    http::Json(req, _): Body<Credentials>,
) -> Answer {
    let account = auth
        .account(&req.username)
        .map_err(|e| e.field("username"))?;
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let step = auth
        .password_login(
            &account,
            &password,
            &Gate::Lockout,
            &SessionSpec::default(),
            &http::client(&headers),
            false,
        )
        .await?;
    match step {
        LoginStep::SignedIn(s) => Ok(ok(json!({ "access_token": s.tokens.access }))),
        // Not asked for (`second_factor` is false), so never answered.
        LoginStep::SecondFactor(_) => Err(Error::Unavailable.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct CreateReq {
    username: String,
    password: String,
    email: String,
}

/// `POST /auth/create`
pub(super) async fn create(
    State(auth): State<Auth>,
    http::Json(req, _): Body<CreateReq>,
) -> Answer {
    let username = Username::parse(&req.username, UsernamePolicy::default())
        .map_err(|e| e.field("username"))?;
    let password =
        Password::new(&req.password, PASSWORD_POLICY).map_err(|e| e.field("password"))?;
    let email = Email::parse(&req.email).map_err(|e| e.field("email"))?;
    let new = NewUser {
        email: Some(email),
        username: Some(username),
        password: Some(password),
        ..Default::default()
    };
    let user = auth.register(new, None).await?;
    Ok(ok(json!({ "id": user.id.0 })))
}

/// `POST /auth/disable`: the token is checked before the body is looked at.
pub(super) async fn disable(
    State(auth): State<Auth>,
    headers: HeaderMap,
    body: Result<Body<Credentials>, Failure>,
) -> Answer {
    let token = bearer(&headers).ok_or(Error::Unauthenticated)?;
    let principal = auth.authenticate(&token).await?;
    let http::Json(req, _) = body?;
    let account = auth
        .account(&req.username)
        .map_err(|e| e.field("username"))?;
    let password = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    auth.disable_self(&principal, &account, &password).await?;
    Ok(ok(json!({})))
}

#[derive(Deserialize)]
pub(super) struct ResetReq {
    username: String,
    password: String,
    new_password: String,
}

/// `POST /auth/reset`
pub(super) async fn reset(State(auth): State<Auth>, http::Json(req, _): Body<ResetReq>) -> Answer {
    let account = auth
        .account(&req.username)
        .map_err(|e| e.field("username"))?;
    let old = Password::attempt(&req.password).map_err(|e| e.field("password"))?;
    let new =
        Password::new(&req.new_password, PASSWORD_POLICY).map_err(|e| e.field("new_password"))?;
    auth.change_password(&account, &old, &new).await?;
    Ok(ok(json!({})))
}
