//! The one error type of the core. Every dialect maps it to its own envelope in one place
//! (`dialects::<name>::reply`), so a new failure mode is added here once and then decided per
//! dialect by the compiler's exhaustiveness check, never by string matching.

use crate::store::StoreError;

/// Why a credential check failed. Most dialects must not tell the two apart (no user
/// enumeration); seed 004 documents both messages, so the distinction is kept for it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialFault {
    UnknownAccount,
    WrongPassword,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// The request could not be read as the endpoint's shape: a body that is not JSON or form
    /// data, or a required field missing or of the wrong type (`field` is `body` when the
    /// whole body is unreadable). Several originals answer this apart from a bad value.
    #[error("malformed {field}: {reason}")]
    Malformed { field: String, reason: String },
    /// A value that was read but is not acceptable (an email that does not parse, a password
    /// outside the policy).
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A value over the contract's size limit for its kind (an identifier: API-NOTES, "Sizes").
    #[error("{field} too long: {reason}")]
    TooLong { field: String, reason: String },
    /// A new password of the right length that is too easy to guess, or that holds the
    /// account's own email, mobile or username.
    #[error("password too weak")]
    WeakPassword,
    #[error("wrong account or password")]
    InvalidCredentials(CredentialFault),
    #[error("captcha required")]
    CaptchaRequired { captcha_id: String },
    #[error("captcha not solved")]
    CaptchaInvalid,
    #[error("code wrong or expired")]
    CodeInvalid,
    #[error("reset token invalid or expired")]
    ResetTokenInvalid,
    #[error("no recent password step")]
    NoPendingLogin,
    #[error("too many requests")]
    TooManyRequests { retry_after: i64 },
    /// The day's reset links for one email are spent: pauli words this cap apart from every
    /// other limit (`24小时内重置次数超过阈值`).
    #[error("too many reset links today")]
    ResetsExhausted { retry_after: i64 },
    #[error("{field} already registered")]
    AlreadyExists { field: &'static str },
    #[error("account not found")]
    NotFound,
    /// The request carries no token at all (several originals answer this apart).
    #[error("no token")]
    MissingToken,
    /// The token was ours but its session is gone: logged out, replaced or revoked.
    #[error("not logged in")]
    Unauthenticated,
    #[error("token expired")]
    TokenExpired,
    /// A token that is not one of ours: malformed, or its signature does not verify. Revoked
    /// sessions are `Unauthenticated`; seeds 002 and 004 answer the two differently.
    #[error("token invalid")]
    TokenInvalid,
    /// A request that must not carry a live session did (seed 000's `E_USER_LOGIN`).
    #[error("already signed in")]
    AlreadySignedIn,
    /// The caller acts on another user's account.
    #[error("permission denied")]
    Forbidden,
    /// The caller lacks a named permission.
    #[error("permission {0} missing")]
    MissingPermission(&'static str),
    #[error("account disabled")]
    Disabled,
    #[error("service unavailable")]
    Unavailable,
}

impl Error {
    pub fn malformed(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Malformed {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The field a bad-input error names, if it is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Malformed { field, .. }
            | Error::Invalid { field, .. }
            | Error::TooLong { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConditionFailed(_) => {
                tracing::warn!("unexpected write conflict");
                Error::Unavailable
            }
            StoreError::Unavailable(reason) => {
                tracing::error!(%reason, "store unavailable");
                crate::metrics::count(crate::metrics::Metric::StoreUnavailable, &[]);
                Error::Unavailable
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
