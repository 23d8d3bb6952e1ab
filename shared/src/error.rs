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
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
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
    #[error("{field} already registered")]
    AlreadyExists { field: &'static str },
    #[error("account not found")]
    NotFound,
    #[error("not logged in")]
    Unauthenticated,
    #[error("token expired")]
    TokenExpired,
    #[error("permission denied")]
    Forbidden,
    #[error("account disabled")]
    Disabled,
    #[error("service unavailable")]
    Unavailable,
}

impl Error {
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
                Error::Unavailable
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
