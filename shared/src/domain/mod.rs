//! Value types parsed once at the edge. A service never sees an unchecked string: if it holds
//! an `Email`, the address is well-formed and normalised.

mod account;
mod code;
mod dialect;
mod email;
mod password;
mod permission;
mod phone;
mod user;
mod username;

pub use account::Account;
pub use code::Code;
pub use dialect::Dialect;
pub use email::Email;
pub use password::{Password, PasswordPolicy, WeakPassword};
pub use permission::Permission;
pub use phone::Phone;
pub use user::{Contact, Gender, Profile, Status, User, UserId};
pub use username::{Username, UsernamePolicy};

/// Why a value did not parse; the dialect adds the field name it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ParseError {
    reason: String,
    /// Over the contract's size limit for its kind, before any look at its shape: every
    /// dialect answers that with its bad-parameters answer (API-NOTES, "Sizes"), which some
    /// tell apart from a value of the wrong shape.
    too_long: bool,
}

impl ParseError {
    pub fn new(reason: impl Into<String>) -> Self {
        ParseError {
            reason: reason.into(),
            too_long: false,
        }
    }

    pub fn too_long(reason: impl Into<String>) -> Self {
        ParseError {
            reason: reason.into(),
            too_long: true,
        }
    }

    /// Names the request field, turning this into the core's bad-input error.
    pub fn field(self, field: &'static str) -> crate::Error {
        if self.too_long {
            crate::Error::TooLong {
                field: field.into(),
                reason: self.reason,
            }
        } else {
            crate::Error::invalid(field, self.reason)
        }
    }
}
