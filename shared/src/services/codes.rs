//! Verification codes: purpose-bound, stored only as a keyed hash, 10-minute lifetime, five
//! tries, one send per 60 s (a used code's next may go at once: only whoever holds the
//! destination could have used it) and at most ten an hour per account. The hourly window lives on
//! the code item itself, so sending a code costs one read and one conditional write (plus the
//! caller address's send limit and the day's budget of the channel, one increment each).
//!
//! A try is reserved before the code is compared (an atomic increment of the code's try
//! counter), so N concurrent guesses cost N tries and at most five are ever compared. Wrong
//! codes also count against the account: ten in a day lock code use there for an hour.

use super::{
    batch::Batch, captcha::Solved, limits::Limit, messages, security::Event, Auth, Client,
};
use crate::{
    domain::{Account, Code},
    schema::{self, CodeState, CodeSubject},
    sender::Channel,
    store::{Condition, Item, Key, Lifetime, StoreError, Write},
    Error, Result,
};

pub const CODE_TTL: i64 = 600;
pub const RESEND_AFTER: i64 = 60;
pub const MAX_ATTEMPTS: i64 = 5;
pub const HOURLY_CAP: i64 = 10;
/// Wrong codes an account takes in a day before code use there is locked for an hour.
pub const WRONG_CODES_PER_DAY: i64 = 10;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

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

    /// What a captcha solved to send this code may be spent on: this purpose, this account.
    pub(crate) fn binding(self, account: &crate::domain::Account) -> String {
        format!("{}:{}", self.as_str(), account.key())
    }

    /// The codes an account-bound use accepts: its own, and the shared email code.
    fn accepted(self) -> [Purpose; 2] {
        [self, Purpose::AnyEmail]
    }
}

/// An outstanding, usable code as read.
struct LiveCode {
    state: CodeState,
    hash: String,
}

impl LiveCode {
    /// The counter of this code's tries (a code sent again has a fresh one).
    fn tries(&self, purpose: Purpose, account: &CodeSubject) -> Key {
        schema::code_tries(purpose, account, self.state.sent_at)
    }

    /// The write that uses this code up, holding only while it is the code read.
    /// The write that uses this code up (its owner could use it: a new one may follow at once).
    fn spent(&self, purpose: Purpose, account: &CodeSubject) -> Result<Write> {
        self.ended(purpose, account, true)
    }

    /// The write that voids this code after its last wrong try (the resend minute still holds).
    fn voided(&self, purpose: Purpose, account: &CodeSubject) -> Result<Write> {
        self.ended(purpose, account, false)
    }

    fn ended(&self, purpose: Purpose, account: &CodeSubject, used: bool) -> Result<Write> {
        let ended = CodeState {
            hash: None,
            used,
            ..self.state.clone()
        };
        Ok(Write::Put {
            item: ended.item(schema::code(purpose, account))?,
            cond: Condition::equals("hash", self.hash.clone()),
        })
    }

    /// This code, found right once its try was reserved.
    fn checked(&self, purpose: Purpose, account: &CodeSubject) -> Result<CodeCheck> {
        Ok(CodeCheck {
            expires_at: self.state.code_expires_at,
            account: account.as_str().to_string(),
            tries: self.tries(purpose, account),
            consume: self.spent(purpose, account)?,
        })
    }
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
    /// The key the code was sent to (an email or E.164 number), which it proves.
    pub(crate) account: String,
    /// The try counter this check reserved a try of.
    tries: Key,
    pub(crate) consume: Write,
}

/// What one reserved try found.
enum Judged {
    Right(Box<CodeCheck>),
    Wrong,
}

impl CodeState {
    fn item(&self, key: Key) -> Result<Item> {
        let until = self.code_expires_at.max(self.window_start + HOUR);
        Ok(Item::of(key, self, Some(until))?)
    }
}

impl Auth {
    /// Sends a fresh code for `purpose` to `to` over `channel`; `account` is the key the code
    /// is bound to (an email, an E.164 number, or a pending login id). Refused before anything
    /// is written: a text message to a country not enabled, a resend within the minute or past
    /// the hour's cap, the channel's daily budget spent, a caller over its send limit (counted
    /// with the code's write, which hands the budget's message back). A solved `captcha` the
    /// send went through on is spent with the code's write, and put back if the code cannot
    /// be sent: a refused send keeps it.
    pub(crate) async fn issue_code(
        &self,
        purpose: Purpose,
        account: &CodeSubject,
        channel: Channel,
        to: &str,
        captcha: Option<&Solved>,
        client: &Client,
    ) -> Result<IssuedCode> {
        if matches!(channel, Channel::Sms | Channel::Voice) {
            self.check_sms_destination(to)?;
        }
        let now = self.now();
        let key = schema::code(purpose, account);
        let current = self.store().get(&key).await?;
        let previous: Option<CodeState> = current.as_ref().map(|i| i.parse()).transpose()?;
        let (window_start, window_count) = match &previous {
            Some(p) => send_window(
                now,
                (!p.used).then_some(p.sent_at),
                p.window_start,
                p.window_count,
            )?,
            None => (now, 1),
        };
        self.spend_budget(channel).await?;
        let code = Code::generate();
        let state = CodeState {
            hash: Some(
                self.0
                    .keys
                    .code_hash(purpose.as_str(), account.as_str(), code.as_str()),
            ),
            sent_at: now,
            code_expires_at: now + purpose.ttl(),
            window_start,
            window_count,
            used: false,
        };
        let cond = match &previous {
            Some(p) => Condition::equals("sent_at", p.sent_at),
            None => Condition::NotExists,
        };
        // The caller's send is counted with the code's write: one round trip for both.
        let mut batch = Batch::of(
            Write::Put {
                item: state.item(key.clone())?,
                cond,
            },
            Error::TooManyRequests {
                retry_after: RESEND_AFTER,
            },
        );
        batch.limit(self.limit_write(Limit::Sends, client));
        if let Some(solved) = captcha {
            batch.add(solved.spend.clone(), Error::CaptchaInvalid);
        }
        if let Err(e) = batch.commit(self.store()).await {
            self.refund_budget(channel).await;
            return Err(e);
        }
        let message = messages::code(self.config().lang, purpose, channel, to, &code);
        if let Err(e) = self.0.sender.send(&message).await {
            tracing::error!(error = %e, "sending a code failed");
            // The code never reached anyone: undo it, so the next try is not refused as a resend.
            let mut undo = vec![match current {
                Some(item) => Write::put(item),
                None => Write::delete(key.clone()),
            }];
            undo.extend(captcha.map(|solved| Write::put(solved.item.clone())));
            if let Err(e) = self.store().write(undo).await {
                tracing::error!(error = %e, "undoing an unsent code failed");
            }
            return Err(Error::Unavailable);
        }
        tracing::info!(
            channel = channel.as_str(),
            purpose = purpose.as_str(),
            ip = %client.ip(),
            "message_sent"
        );
        let country = match channel {
            Channel::Sms | Channel::Voice => self.sms_country(to).unwrap_or("other"),
            Channel::Email | Channel::Captcha => "none",
        };
        crate::metrics::count(
            crate::metrics::Metric::CodeSent,
            &[("Channel", channel.as_str()), ("Country", country)],
        );
        Ok(IssuedCode {
            code,
            expires_at: now + purpose.ttl(),
        })
    }

    /// Checks a code without using it up. A wrong code costs one of the five tries; the last
    /// wrong one voids the code.
    pub(crate) async fn check_code(
        &self,
        purpose: Purpose,
        account: &CodeSubject,
        code: &Code,
    ) -> Result<CodeCheck> {
        self.check_code_among(&[purpose], account, code).await
    }

    /// The outstanding usable codes of `purposes`, after refusing a subject locked by too many
    /// wrong codes: the lock and every code in one read.
    async fn live_codes(
        &self,
        purposes: &[Purpose],
        account: &CodeSubject,
    ) -> Result<Vec<(Purpose, LiveCode)>> {
        Ok(self.live_codes_and(purposes, account, None).await?.0)
    }

    /// `live_codes`, with the item at `also` read in the same request.
    async fn live_codes_and(
        &self,
        purposes: &[Purpose],
        account: &CodeSubject,
        also: Option<Key>,
    ) -> Result<(Vec<(Purpose, LiveCode)>, Option<Item>)> {
        let keys: Vec<Key> = std::iter::once(schema::wrong_codes(account))
            .chain(purposes.iter().map(|&p| schema::code(p, account)))
            .chain(also)
            .collect();
        let mut read = self.store().get_many(&keys).await?.into_iter();
        self.code_use_allowed(read.next().flatten())?;
        let now = self.now();
        let mut live = Vec::new();
        for &purpose in purposes {
            let Some(item) = read.next().flatten() else {
                continue;
            };
            let state: CodeState = item.parse()?;
            if let Some(hash) = state.hash.clone().filter(|_| now < state.code_expires_at) {
                live.push((purpose, LiveCode { state, hash }));
            }
        }
        Ok((live, read.next().flatten()))
    }

    fn presented(&self, purpose: Purpose, account: &CodeSubject, code: &Code) -> String {
        self.0
            .keys
            .code_hash(purpose.as_str(), account.as_str(), code.as_str())
    }

    /// One try of `code` against a code read earlier: the try is reserved first, and a code
    /// whose five tries are gone is not compared at all. Right: the write that spends it.
    /// The fifth wrong try voids the code.
    async fn judge_code(
        &self,
        purpose: Purpose,
        account: &CodeSubject,
        code: &Code,
        live: LiveCode,
    ) -> Result<Judged> {
        let tries = live.tries(purpose, account);
        let tried = self
            .store()
            .increment(&tries, 1, Lifetime::Window(live.state.code_expires_at))
            .await?;
        if tried > MAX_ATTEMPTS {
            return Ok(Judged::Wrong);
        }
        if super::tokens::same_digest(&self.presented(purpose, account, code), &live.hash) {
            return Ok(Judged::Right(Box::new(live.checked(purpose, account)?)));
        }
        if tried == MAX_ATTEMPTS {
            match self
                .store()
                .write(vec![live.voided(purpose, account)?])
                .await
            {
                Ok(()) | Err(StoreError::ConditionFailed(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Judged::Wrong)
    }

    /// A code for `purpose` checked in one read and one transaction: the codes read with the
    /// item at `also`, then the caller address's `limits` and a try of every live code counted
    /// together, and only then the code compared. A wrong code is then paid for as
    /// `check_code_among` pays (a try of each live code, one wrong code against the account).
    /// `None`, with nothing written, when the case is not the usual one (code use locked, no
    /// live code, a limit reached, a code on its last try, whose wrong guess voids it): the
    /// caller checks one count at a time then, which answers each such case.
    pub(crate) async fn code_checked_at_once(
        &self,
        purpose: Purpose,
        account: &CodeSubject,
        code: &Code,
        limits: &[Limit],
        client: &Client,
        also: Key,
    ) -> Result<Option<(CodeCheck, Option<Item>)>> {
        let read = self
            .live_codes_and(&purpose.accepted(), account, Some(also))
            .await;
        let (live, also) = match read {
            Err(Error::TooManyRequests { .. }) => return Ok(None),
            read => read?,
        };
        if live.is_empty() {
            return Ok(None);
        }
        let mut counts: Vec<Write> = limits
            .iter()
            .filter_map(|&limit| self.limit_write(limit, client).map(|(w, _)| w))
            .collect();
        counts.extend(live.iter().map(|(p, live)| {
            let until = Lifetime::Window(live.state.code_expires_at);
            Write::count_within(live.tries(*p, account), until, MAX_ATTEMPTS - 1)
        }));
        match self.store().write(counts).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let presented = |p: Purpose| self.presented(p, account, code);
        if let Some((p, live)) = live
            .iter()
            .find(|(p, live)| super::tokens::same_digest(&presented(*p), &live.hash))
        {
            return Ok(Some((live.checked(*p, account)?, also)));
        }
        self.note_wrong_code(account).await?;
        self.note_code_outcome(&Err(Error::CodeInvalid), client);
        Err(Error::CodeInvalid)
    }

    /// Refuses code use on a subject locked by too many wrong codes (its counter, as read).
    fn code_use_allowed(&self, wrong_codes: Option<Item>) -> Result<()> {
        let Some(item) = wrong_codes else {
            return Ok(());
        };
        let wrong = item.count();
        if wrong >= WRONG_CODES_PER_DAY {
            return Err(Error::TooManyRequests {
                retry_after: item.expires_at.map_or(HOUR, |t| t - self.now()),
            });
        }
        Ok(())
    }

    /// Counts a wrong code against the account; the tenth in a day locks code use there for
    /// an hour (the counter itself, rewritten to expire then).
    async fn note_wrong_code(&self, account: &CodeSubject) -> Result<()> {
        let key = schema::wrong_codes(account);
        let now = self.now();
        let wrong = self
            .store()
            .increment(&key, 1, Lifetime::Window(now + DAY))
            .await?;
        if wrong == WRONG_CODES_PER_DAY {
            let lock = Item::counter(key, wrong, Some(now + HOUR));
            self.store().write(vec![Write::put(lock)]).await?;
        }
        Ok(())
    }

    /// The security event of a code check that failed: a wrong code, or one refused while
    /// code use is locked.
    pub(crate) fn note_code_outcome(&self, checked: &Result<CodeCheck>, client: &Client) {
        match checked {
            Err(Error::CodeInvalid) => {
                self.security_event(Event::CodeFailed, None, client, "wrong or expired code")
            }
            Err(Error::TooManyRequests { .. }) => {
                self.security_event(Event::CodeUseLocked, None, client, "refused")
            }
            _ => {}
        }
    }
}

/// The hourly send window: refused within `RESEND_AFTER` of the send the minute counts from
/// (`resend_from`; none after a used code) or past `HOURLY_CAP` in the window, else the window
/// (kept or new) with this send counted.
pub(crate) fn send_window(
    now: i64,
    resend_from: Option<i64>,
    window_start: i64,
    window_count: i64,
) -> Result<(i64, i64)> {
    if let Some(sent_at) = resend_from.filter(|sent_at| now < sent_at + RESEND_AFTER) {
        return Err(Error::TooManyRequests {
            retry_after: sent_at + RESEND_AFTER - now,
        });
    }
    if now >= window_start + HOUR {
        return Ok((now, 1));
    }
    if window_count >= HOURLY_CAP {
        return Err(Error::TooManyRequests {
            retry_after: window_start + HOUR - now,
        });
    }
    Ok((window_start, window_count + 1))
}

impl Auth {
    /// Refuses, as `issue_code` would, a send of `purpose` to `account` that is too soon (or
    /// past the hour's cap); writes nothing.
    pub(crate) async fn send_allowed(&self, purpose: Purpose, account: &CodeSubject) -> Result<()> {
        let Some(item) = self.store().get(&schema::code(purpose, account)).await? else {
            return Ok(());
        };
        let p: CodeState = item.parse()?;
        let resend_from = (!p.used).then_some(p.sent_at);
        send_window(self.now(), resend_from, p.window_start, p.window_count).map(|_| ())
    }

    /// Whether a usable code is outstanding (not spent, voided or expired).
    pub(crate) async fn code_pending(
        &self,
        purpose: Purpose,
        account: &CodeSubject,
    ) -> Result<bool> {
        let Some(item) = self.store().get(&schema::code(purpose, account)).await? else {
            return Ok(false);
        };
        let state: CodeState = item.parse()?;
        Ok(state.hash.is_some() && self.now() < state.code_expires_at)
    }
}

impl Auth {
    /// The writes that void every code outstanding for a user's email and mobile.
    pub(crate) fn codes_of(&self, user: &crate::domain::User) -> Vec<Write> {
        let emails = user.email.iter().cloned().map(Account::Email);
        let mobiles = user.mobile.iter().cloned().map(Account::Mobile);
        emails
            .chain(mobiles)
            .flat_map(|account| {
                let subject = CodeSubject::of(&account);
                ACCOUNT_PURPOSES
                    .iter()
                    .map(move |&purpose| Write::delete(schema::code(purpose, &subject)))
            })
            .collect()
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
    #[tracing::instrument(name = "check_code_any", skip_all)]
    pub async fn check_code_any(
        &self,
        account: &crate::domain::Account,
        code: &Code,
        client: &Client,
    ) -> Result<CodeCheck> {
        self.limit(Limit::Attempts, client).await?;
        let checked = self
            .check_code_among(&ACCOUNT_PURPOSES, &CodeSubject::of(account), code)
            .await;
        self.note_code_outcome(&checked, client);
        let check = checked?;
        // A right code checked, not used: its try is given back for the use to come.
        self.store()
            .increment(&check.tries, -1, Lifetime::Window(check.expires_at))
            .await?;
        Ok(check)
    }

    /// Checks a code for an account-bound use, which also takes the shared email code.
    pub(crate) async fn check_account_code(
        &self,
        purpose: Purpose,
        account: &CodeSubject,
        code: &Code,
    ) -> Result<CodeCheck> {
        self.check_code_among(&purpose.accepted(), account, code)
            .await
    }

    /// Checks a code against the outstanding codes of several purposes, without using it up.
    /// The code it matches pays one try; a code matching none pays one try of each, and counts
    /// once against the account.
    async fn check_code_among(
        &self,
        purposes: &[Purpose],
        key: &CodeSubject,
        code: &Code,
    ) -> Result<CodeCheck> {
        let mut others = Vec::new();
        for (purpose, live) in self.live_codes(purposes, key).await? {
            if super::tokens::same_digest(&self.presented(purpose, key, code), &live.hash) {
                if let Judged::Right(check) = self.judge_code(purpose, key, code, live).await? {
                    return Ok(*check);
                }
                self.note_wrong_code(key).await?;
                return Err(Error::CodeInvalid);
            }
            others.push((purpose, live));
        }
        for (purpose, live) in others {
            self.judge_code(purpose, key, code, live).await?;
        }
        self.note_wrong_code(key).await?;
        Err(Error::CodeInvalid)
    }
}

#[cfg(test)]
mod tests;
