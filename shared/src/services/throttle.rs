//! Consecutive login failures per account. From the third, a dialect that has a captcha asks
//! for one (a solved captcha lets exactly one attempt through); every dialect locks the account
//! for the rest of the window from the tenth. The window is 30 minutes from the last failure,
//! and a successful login clears it.

use super::Auth;
use crate::{
    domain::Account,
    store::{Key, Write},
    Error, Result,
};

pub const CAPTCHA_AFTER: i64 = 3;
pub const LOCK_AFTER: i64 = 10;
pub const WINDOW: i64 = 30 * 60;

/// What a dialect can ask of a client whose account is under suspicion.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// The dialect has a captcha; the client may have sent the id of a solved one.
    Captcha(Option<String>),
    /// The dialect has no captcha: only the hard lock applies.
    Lockout,
}

fn throttle_key(account: &Account) -> Key {
    Key::new(format!("THROTTLE#login#{}", account.key()), "COUNT")
}

impl Auth {
    pub(crate) async fn pass_gate(&self, account: &Account, gate: &Gate) -> Result<()> {
        let Some(item) = self.store().get(&throttle_key(account)).await? else {
            return Ok(());
        };
        let failures = item.attrs.get("n").and_then(|v| v.as_i64()).unwrap_or(0);
        match gate {
            Gate::Captcha(solved) if failures >= CAPTCHA_AFTER => {
                self.require_captcha(solved.as_deref()).await
            }
            Gate::Lockout if failures >= LOCK_AFTER => Err(Error::TooManyRequests {
                retry_after: item.expires_at.map_or(WINDOW, |t| t - self.now()),
            }),
            _ => Ok(()),
        }
    }

    pub(crate) async fn record_failure(&self, account: &Account) -> Result<()> {
        let until = self.now() + WINDOW;
        self.store()
            .increment(&throttle_key(account), 1, Some(until), true)
            .await?;
        Ok(())
    }

    pub(crate) fn clear_failures(&self, account: &Account) -> Write {
        Write::delete(throttle_key(account))
    }
}
