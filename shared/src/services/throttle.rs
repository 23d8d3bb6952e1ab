//! Consecutive login failures per account (whichever of its identifiers a guess names), counted
//! before the password or code is checked: the
//! gate reserves the attempt (an atomic increment, with the address's in one transaction while
//! both are under their thresholds) and only then lets the check run, so N concurrent guesses
//! cost N tries. From the fourth attempt after three failures a dialect
//! that has a captcha asks for one (a solved captcha, bound to this account, lets exactly one
//! attempt through); every dialect, captcha or not, locks the account from the eleventh attempt
//! after ten failures. The window is 30 minutes from the last attempt, and only a successful
//! login clears it. Each attempt also counts against the caller's address.

use super::{limits::Limit, security::Event, Auth, Client};
use crate::{
    domain::{Account, UserId},
    schema,
    store::{Key, Lifetime, StoreError, Write},
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

/// Whose run of failures an attempt counts in: the user an identifier names, so a lock holds
/// for all of its identifiers, or an identifier nobody holds (guesses there are throttled
/// alike, so the gate's answers do not tell the two apart).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Suspect<'a> {
    User(UserId),
    Nobody(&'a Account),
}

impl Suspect<'_> {
    fn failures(self) -> Key {
        match self {
            Suspect::User(id) => schema::failed_logins_of(id),
            Suspect::Nobody(account) => schema::failed_logins(account),
        }
    }
}

impl Auth {
    /// Reserves one attempt at `account` (held by `suspect`) for `client`, or refuses it: address over its limit,
    /// account locked, or (captcha dialects) a captcha wanted. A refusal for want of a captcha
    /// gives the reservation back: asking for the captcha is not a guess.
    pub(crate) async fn enter_gate(
        &self,
        suspect: Suspect<'_>,
        account: &Account,
        gate: &Gate,
        client: &Client,
    ) -> Result<()> {
        let key = suspect.failures();
        let until = self.now() + WINDOW;
        // Most attempts are neither near the address's limit nor past the account's free
        // tries: both are counted in one round trip. Any other attempt is counted again below,
        // one counter at a time, and judged by the counts (the batch wrote nothing).
        let free = match gate {
            Gate::Captcha(_) => CAPTCHA_AFTER,
            Gate::Lockout => LOCK_AFTER,
        };
        let mut both = vec![Write::count_within(
            key.clone(),
            Lifetime::Sliding(until),
            free,
        )];
        both.extend(self.limit_write(Limit::Attempts, client).map(|(w, _)| w));
        match self.store().write(both).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.limit(Limit::Attempts, client).await?;
        let attempt = self
            .store()
            .increment(&key, 1, Lifetime::Sliding(until))
            .await?;
        if attempt > LOCK_AFTER {
            self.security_event(Event::LoginLocked, None, client, "refused");
            return Err(Error::TooManyRequests {
                retry_after: WINDOW,
            });
        }
        if let Gate::Captcha(solved) = gate {
            if attempt > CAPTCHA_AFTER {
                let binding = super::Purpose::Login.binding(account);
                if let Err(e) = self.require_captcha(solved.as_deref(), &binding).await {
                    self.store()
                        .increment(&key, -1, Lifetime::Sliding(until))
                        .await?;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Ends a user's run of failures (a success, or a password set by its owner).
    pub(crate) fn clear_failures(&self, user: UserId) -> Write {
        Write::delete(schema::failed_logins_of(user))
    }
}

#[cfg(test)]
mod tests;
