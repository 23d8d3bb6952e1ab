//! Verification codes: purpose-bound, stored only as a keyed hash, 10-minute lifetime, five
//! wrong tries, one send per 60 s and at most ten an hour per account. The hourly window lives
//! on the code item itself, so sending a code costs one read and one conditional write.

use super::{messages, Auth};
use crate::{
    domain::Code,
    sender::Channel,
    store::{Condition, Item, Key, StoreError, Write},
    Error, Result,
};

pub const CODE_TTL: i64 = 600;
pub const RESEND_AFTER: i64 = 60;
pub const MAX_ATTEMPTS: i64 = 5;
pub const HOURLY_CAP: i64 = 10;
const HOUR: i64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    Login,
    ResetPassword,
    SecondFactor,
    /// Seed 002's original kept one mailed code per email that registration, code login and
    /// password change all accept; its clients fetch it from `verify/getEmailCode`.
    AnyEmail,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::ResetPassword => "reset-password",
            Purpose::SecondFactor => "second-factor",
            Purpose::AnyEmail => "email",
        }
    }

    /// Seconds a code lives: the shared email code as long as seed 002's original kept it.
    pub(crate) fn ttl(self) -> i64 {
        match self {
            Purpose::AnyEmail => 300,
            // As long as the pending login it completes (seed 000's twenty minutes).
            Purpose::SecondFactor => super::PENDING_TTL,
            _ => CODE_TTL,
        }
    }

    /// The codes an account-bound use accepts: its own, and the shared email code.
    fn accepted(self) -> [Purpose; 2] {
        [self, Purpose::AnyEmail]
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct CodeState {
    /// Absent once used or voided; the item stays for the hourly window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
    attempts_left: i64,
    sent_at: i64,
    code_expires_at: i64,
    window_start: i64,
    window_count: i64,
}

/// An outstanding, usable code as read.
struct LiveCode {
    state: CodeState,
    hash: String,
}

/// A code sent. `code` is handed back only so development mode can show it.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub code: Code,
    pub expires_at: i64,
}

/// A code that checked out. `consume` is the write that uses it up, meant to join the
/// transaction of whatever the code authorises, so the code is spent exactly when that succeeds.
#[derive(Debug, Clone)]
pub struct CodeCheck {
    pub expires_at: i64,
    pub(crate) consume: Write,
}

fn code_key(purpose: Purpose, account: &str) -> Key {
    Key::new(format!("CODE#{}#{account}", purpose.as_str()), "CODE")
}

impl CodeState {
    fn item(&self, key: Key) -> Item {
        let until = self.code_expires_at.max(self.window_start + HOUR);
        Item::of(key, self, Some(until))
    }
}

impl Auth {
    /// Sends a fresh code for `purpose` to `to` over `channel`; `account` is the key the code
    /// is bound to (an email, an E.164 number, or a pending login id).
    pub(crate) async fn issue_code(
        &self,
        purpose: Purpose,
        account: &str,
        channel: Channel,
        to: &str,
    ) -> Result<IssuedCode> {
        let now = self.now();
        let key = code_key(purpose, account);
        let current = self.store().get(&key).await?;
        let previous: Option<CodeState> = current.as_ref().map(|i| i.parse()).transpose()?;
        let (window_start, window_count) = match &previous {
            Some(p) => {
                if now < p.sent_at + RESEND_AFTER {
                    return Err(Error::TooManyRequests {
                        retry_after: p.sent_at + RESEND_AFTER - now,
                    });
                }
                if now < p.window_start + HOUR {
                    if p.window_count >= HOURLY_CAP {
                        return Err(Error::TooManyRequests {
                            retry_after: p.window_start + HOUR - now,
                        });
                    }
                    (p.window_start, p.window_count + 1)
                } else {
                    (now, 1)
                }
            }
            None => (now, 1),
        };
        let code = Code::generate();
        let state = CodeState {
            hash: Some(
                self.0
                    .keys
                    .code_hash(purpose.as_str(), account, code.as_str()),
            ),
            attempts_left: MAX_ATTEMPTS,
            sent_at: now,
            code_expires_at: now + purpose.ttl(),
            window_start,
            window_count,
        };
        let cond = match &previous {
            Some(p) => Condition::equals("sent_at", p.sent_at),
            None => Condition::NotExists,
        };
        match self
            .store()
            .write(vec![Write::Put {
                item: state.item(key.clone()),
                cond,
            }])
            .await
        {
            Ok(()) => {}
            Err(StoreError::ConditionFailed(_)) => {
                return Err(Error::TooManyRequests {
                    retry_after: RESEND_AFTER,
                })
            }
            Err(e) => return Err(e.into()),
        }
        let message = messages::code(self.config().lang, purpose, channel, to, &code);
        if let Err(e) = self.0.sender.send(&message).await {
            tracing::error!(error = %e, "sending a code failed");
            // The code never reached anyone: undo it, so the next try is not refused as a resend.
            let undo = match current {
                Some(item) => Write::put(item),
                None => Write::delete(key.clone()),
            };
            if let Err(e) = self.store().write(vec![undo]).await {
                tracing::error!(error = %e, "undoing an unsent code failed");
            }
            return Err(Error::Unavailable);
        }
        Ok(IssuedCode {
            code,
            expires_at: now + purpose.ttl(),
        })
    }

    /// Checks a code without using it up. A wrong code costs one of the five attempts; the last
    /// wrong one voids the code.
    pub(crate) async fn check_code(
        &self,
        purpose: Purpose,
        account: &str,
        code: &Code,
    ) -> Result<CodeCheck> {
        let live = self.live_code(purpose, account).await?;
        self.judge_code(purpose, account, code, live).await
    }

    /// The outstanding usable code of `purpose`: its state and hash (one read).
    async fn live_code(&self, purpose: Purpose, account: &str) -> Result<Option<LiveCode>> {
        let Some(item) = self.store().get(&code_key(purpose, account)).await? else {
            return Ok(None);
        };
        let state: CodeState = item.parse()?;
        let now = self.now();
        Ok(state
            .hash
            .clone()
            .filter(|_| now < state.code_expires_at)
            .map(|hash| LiveCode { state, hash }))
    }

    fn presented(&self, purpose: Purpose, account: &str, code: &Code) -> String {
        self.0
            .keys
            .code_hash(purpose.as_str(), account, code.as_str())
    }

    /// The check of `code` against a code read earlier: the write that spends it when right,
    /// one try fewer (or the code voided) when wrong.
    async fn judge_code(
        &self,
        purpose: Purpose,
        account: &str,
        code: &Code,
        live: Option<LiveCode>,
    ) -> Result<CodeCheck> {
        let Some(LiveCode { state, hash }) = live else {
            return Err(Error::CodeInvalid);
        };
        let key = code_key(purpose, account);
        let guard = Condition::equals("hash", hash.clone());
        if super::tokens::same_digest(&self.presented(purpose, account, code), &hash) {
            let spent = CodeState {
                hash: None,
                ..state.clone()
            };
            return Ok(CodeCheck {
                expires_at: state.code_expires_at,
                consume: Write::Put {
                    item: spent.item(key),
                    cond: guard,
                },
            });
        }
        let attempts_left = state.attempts_left - 1;
        let next = CodeState {
            hash: (attempts_left > 0).then_some(hash),
            attempts_left,
            ..state
        };
        match self
            .store()
            .write(vec![Write::Put {
                item: next.item(key),
                cond: guard,
            }])
            .await
        {
            Ok(()) | Err(StoreError::ConditionFailed(_)) => Err(Error::CodeInvalid),
            Err(e) => Err(e.into()),
        }
    }

    /// Uses up a checked code on its own, when nothing else is written with it.
    pub(crate) async fn spend_code(&self, check: CodeCheck) -> Result<()> {
        match self.store().write(vec![check.consume]).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed(_)) => Err(Error::CodeInvalid),
            Err(e) => Err(e.into()),
        }
    }
}

impl Auth {
    /// Whether a usable code is outstanding (not spent, voided or expired).
    pub(crate) async fn code_pending(&self, purpose: Purpose, account: &str) -> Result<bool> {
        let Some(item) = self.store().get(&code_key(purpose, account)).await? else {
            return Ok(false);
        };
        let state: CodeState = item.parse()?;
        Ok(state.hash.is_some() && self.now() < state.code_expires_at)
    }
}

/// The purposes of a code sent to an email or mobile (a second-factor code is bound to a
/// pending login, not to an account).
const ACCOUNT_PURPOSES: [Purpose; 4] = [
    Purpose::Register,
    Purpose::Login,
    Purpose::ResetPassword,
    Purpose::AnyEmail,
];

impl Auth {
    /// Checks a code sent to `account` for whichever purpose it was sent (seed 003's
    /// `check-code` names none), without using it up.
    pub async fn check_code_any(
        &self,
        account: &crate::domain::Account,
        code: &Code,
    ) -> Result<CodeCheck> {
        self.check_code_among(&ACCOUNT_PURPOSES, &account.key(), code)
            .await
    }

    /// Checks a code for an account-bound use, which also takes the shared email code.
    pub(crate) async fn check_account_code(
        &self,
        purpose: Purpose,
        account: &str,
        code: &Code,
    ) -> Result<CodeCheck> {
        self.check_code_among(&purpose.accepted(), account, code)
            .await
    }

    /// Checks a code against the outstanding codes of several purposes, without using it up.
    /// A code matching none of them costs one attempt of each.
    async fn check_code_among(
        &self,
        purposes: &[Purpose],
        key: &str,
        code: &Code,
    ) -> Result<CodeCheck> {
        let mut pending = Vec::new();
        for &purpose in purposes {
            let Some(live) = self.live_code(purpose, key).await? else {
                continue;
            };
            if super::tokens::same_digest(&self.presented(purpose, key, code), &live.hash) {
                return self.judge_code(purpose, key, code, Some(live)).await;
            }
            pending.push((purpose, live));
        }
        for (purpose, live) in pending {
            match self.judge_code(purpose, key, code, Some(live)).await {
                Err(Error::CodeInvalid) => {}
                other => return other,
            }
        }
        Err(Error::CodeInvalid)
    }
}
