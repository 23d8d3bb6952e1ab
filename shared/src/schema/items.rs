//! The attributes of each item, as stored. Fields added later are `#[serde(default)]`, so items
//! written by an older release still read; the behaviour over them lives with the use case.

use crate::{
    domain::{Dialect, UserId},
    services::{Aal, LoginType},
};

/// A unique email, mobile or username: whose it is.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Claim {
    pub user_id: UserId,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SessionState {
    pub user_id: UserId,
    pub refresh_hash: String,
    #[serde(default)]
    pub replaced: Vec<String>,
    pub rotated_at: i64,
    pub access_ttl: i64,
    #[serde(default)]
    pub backdate: i64,
    #[serde(default)]
    pub dialect: Option<Dialect>,
    pub created_at: i64,
    #[serde(default)]
    pub aal: Aal,
    /// The user's session epoch when the session opened.
    #[serde(default)]
    pub epoch: u64,
}

/// A session as listed under its user.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct SessionEntry {
    pub sid: String,
    #[serde(default)]
    pub dialect: Option<Dialect>,
    /// When the session's login was (entries from before the cap have 0: oldest).
    #[serde(default)]
    pub created_at: i64,
}

/// One login, as the user's history shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoginRecord {
    pub record_id: String,
    pub login_type: LoginType,
    pub user_id: UserId,
    /// Epoch seconds.
    pub time: i64,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct CodeState {
    /// Absent once used or voided; the item stays for the hourly window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    pub sent_at: i64,
    pub code_expires_at: i64,
    pub window_start: i64,
    pub window_count: i64,
    /// Whether the code was used (not voided): a new one may follow at once, since only whoever
    /// holds the destination could have used it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub used: bool,
}

/// The resend window of reset links to one email.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct LinkWindow {
    pub sent_at: i64,
    pub window_start: i64,
    pub window_count: i64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ResetState {
    pub user_id: UserId,
    pub checks_left: i64,
    /// The user's session epoch when the link was mailed: a later change voids the link.
    #[serde(default)]
    pub epoch: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Pending {
    pub user_id: UserId,
    /// The user's session epoch at the password step: a later change ends the pending login.
    #[serde(default)]
    pub epoch: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Captcha {
    /// The answer of the live rendering; `None` before the first and after each answer.
    #[serde(default)]
    pub x: Option<i64>,
    #[serde(default)]
    pub rendering: u64,
    pub solved: bool,
    pub tries_left: i64,
    /// The purpose and account a solution may be spent on; `None`: any one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound: Option<String>,
}
