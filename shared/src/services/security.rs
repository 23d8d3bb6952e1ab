//! Security events: one structured log line each, under the `security` target, naming the
//! event, the user when known, the caller's address and dialect, and the outcome. Never a
//! password, code, token or link: only ids and names (the test that reads the log checks).

use super::{Auth, Client};
use crate::{
    domain::UserId,
    metrics::{self, Metric},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    LoginFailed,
    LoginLocked,
    CaptchaFailed,
    CodeFailed,
    CodeUseLocked,
    ResetRequested,
    ResetCompleted,
    PasswordChanged,
    MobileChanged,
    UserDisabled,
    PermissionChanged,
    RefreshReuse,
    AccountReclaimed,
    SigningKeyRotated,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Event::LoginFailed => "login_failed",
            Event::LoginLocked => "login_locked",
            Event::CaptchaFailed => "captcha_failed",
            Event::CodeFailed => "code_failed",
            Event::CodeUseLocked => "code_use_locked",
            Event::ResetRequested => "reset_requested",
            Event::ResetCompleted => "reset_completed",
            Event::PasswordChanged => "password_changed",
            Event::MobileChanged => "mobile_changed",
            Event::UserDisabled => "user_disabled",
            Event::PermissionChanged => "permission_changed",
            Event::RefreshReuse => "refresh_reuse",
            Event::AccountReclaimed => "account_reclaimed",
            Event::SigningKeyRotated => "signing_key_rotated",
        }
    }

    /// The operational metric the event also counts, where it is one.
    fn metric(self) -> Option<Metric> {
        match self {
            Event::LoginFailed => Some(Metric::LoginFailed),
            Event::LoginLocked | Event::CodeUseLocked => Some(Metric::Lockout),
            Event::RefreshReuse => Some(Metric::RefreshReuse),
            _ => None,
        }
    }

    /// Whether the event ends sessions (the session epoch moves with it).
    fn bumps_epoch(self) -> bool {
        matches!(
            self,
            Event::ResetCompleted
                | Event::PasswordChanged
                | Event::UserDisabled
                | Event::AccountReclaimed
        )
    }
}

impl Auth {
    /// Logs `event` for `user` (when known) as asked by `client`, with its `outcome`.
    pub(crate) fn security_event(
        &self,
        event: Event,
        user: Option<UserId>,
        client: &Client,
        outcome: &str,
    ) {
        let user = user.map(|u| u.0);
        let dialect = client.dialect.map(|d| d.name());
        if let Some(metric) = event.metric() {
            metrics::count(metric, &[("Dialect", dialect.unwrap_or_default())]);
        }
        tracing::warn!(
            target: "security",
            event = event.name(),
            user,
            ip = %client.ip(),
            dialect,
            outcome,
            session_epoch_bumped = event.bumps_epoch(),
        );
    }
}
