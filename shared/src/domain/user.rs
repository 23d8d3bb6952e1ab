use super::{Email, Permission, Phone, Username};
use std::collections::BTreeSet;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct UserId(pub u64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A way to reach the user that a code or link can prove.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Contact {
    Email,
    Mobile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
}

/// 0 unknown, 1 male, 2 female, as seed 003's `gender` integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Gender(pub u8);

/// Descriptive fields a client may set; none of them identifies the user.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    pub name: String,
    pub nickname: String,
    pub gender: Gender,
    pub avatar: String,
    pub position_id: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Option<Email>,
    pub mobile: Option<Phone>,
    pub username: Option<Username>,
    pub profile: Profile,
    pub status: Status,
    pub permissions: BTreeSet<Permission>,
    pub password_hash: String,
    pub created_at: i64,
    /// The id an original server gave this user when it was not an integer (seed 000's
    /// ObjectIds); integer ids became the polyauth id itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_id: Option<String>,
    /// The mobile was proven by a code sent to it (or came with an import): only such a
    /// mobile is ever called by voice, which costs the most.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mobile_confirmed: bool,
    /// Identifiers claimed without proof (an email typed into a sign-up form, a mobile set by a
    /// reset link). The first code sent to one of them that comes back hands the account to
    /// whoever holds it: a squatter loses the password and sessions set up on the claim.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unproven: BTreeSet<Contact>,
    /// Sessions opened at an older epoch are dead: bumping it ends them all in one write.
    #[serde(default)]
    pub session_epoch: u64,
    /// Bumped on every write; writes are conditional on it, so concurrent edits never merge.
    pub version: u64,
}

impl User {
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p.as_str() == permission)
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    /// Which of the user's contacts `account` (a code's key: an email or E.164 number) is.
    pub fn contact_of(&self, account: &str) -> Option<Contact> {
        if self.email.as_ref().is_some_and(|e| e.as_str() == account) {
            Some(Contact::Email)
        } else if self.mobile.as_ref().is_some_and(|m| m.e164() == account) {
            Some(Contact::Mobile)
        } else {
            None
        }
    }

    /// The user with `contact` proven, if that changes anything.
    pub fn proving(&self, contact: Contact) -> Option<User> {
        let mut updated = self.clone();
        updated.unproven.remove(&contact);
        if contact == Contact::Mobile {
            updated.mobile_confirmed = true;
        }
        (updated != *self).then(|| User {
            version: self.version + 1,
            ..updated
        })
    }
}
