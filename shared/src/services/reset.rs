//! Password changes and resets. A reset token is 256 random bits, mailed in a link, stored only
//! as its SHA-256, so the token alone identifies the user (seed 000 carries nothing else). Every
//! change of password ends every session of the user.

use super::{
    batch::Batch,
    codes::{send_window, Purpose},
    limits::Limit,
    messages,
    security::Event,
    throttle::{Gate, Suspect},
    Auth, Client,
};
use crate::{
    domain::{Account, Code, Contact, Email, Password, Phone, User},
    schema::{self, LinkWindow, ResetState},
    sender::Channel,
    store::{Condition, Item, Key, Lifetime, StoreError, Write},
    Error, Result,
};

const DAY: i64 = 24 * 3600;
/// Reset requests per email in a day.
pub const RESETS_PER_DAY: i64 = 50;

/// A day, as seed 000's original kept its reset records.
pub const RESET_TTL: i64 = 24 * 3600;
/// Seed 000's original counted each check of a reset token and let one through while fewer
/// than five had been made (the fifth is refused); setting the password needs the count still
/// under five.
pub const RESET_CHECKS: i64 = 5;

impl Auth {
    /// Mails a reset link if the email belongs to a user; answers the same either way.
    /// Like codes, one request per email a minute and ten an hour, and the caller's address
    /// within its send limit; at most `RESETS_PER_DAY` a day (seed 000's original's
    /// threshold). All counted whether or not the email is known, so no limit tells anything
    /// about accounts.
    #[tracing::instrument(name = "request_reset_link", skip_all)]
    pub async fn request_reset_link(&self, email: &Email, client: &Client) -> Result<()> {
        self.limit(Limit::Sends, client).await?;
        self.reset_link_window(email).await?;
        let key = schema::resets_of(email.as_str());
        let window_end = self.now() + DAY;
        let count = self
            .store()
            .increment(&key, 1, Lifetime::Window(window_end))
            .await?;
        if count > RESETS_PER_DAY {
            return Err(Error::ResetsExhausted {
                retry_after: match self.store().get(&key).await? {
                    Some(item) => item.expires_at.map_or(DAY, |t| t - self.now()),
                    None => DAY,
                },
            });
        }
        match self.find_user(&Account::Email(email.clone())).await? {
            Some(user) if user.is_active() => {
                self.security_event(Event::ResetRequested, Some(user.id), client, "link mailed");
                self.0
                    .reset_link_timing
                    .work(self.send_reset_link(&user))
                    .await
            }
            _ => {
                self.security_event(Event::ResetRequested, None, client, "no such account");
                self.0.reset_link_timing.imitate().await;
                Ok(())
            }
        }
    }

    /// Tells the old mobile and the email that a reset link changed the mobile (best effort,
    /// after the change is saved).
    async fn tell_mobile_changed(&self, user: &User, old: Option<&Phone>) {
        let lang = self.config().lang;
        let mut told = Vec::new();
        if let Some(old) = old {
            told.push(messages::mobile_changed(lang, Channel::Sms, old.e164()));
        }
        if let Some(email) = &user.email {
            told.push(messages::mobile_changed(
                lang,
                Channel::Email,
                email.as_str(),
            ));
        }
        for message in told {
            if let Err(e) = self.0.sender.send(&message).await {
                tracing::error!(error = %e, "telling of a mobile change failed");
            }
        }
    }

    /// The minute and hour windows of reset links to `email` (one read, one conditional write).
    async fn reset_link_window(&self, email: &Email) -> Result<()> {
        let key = schema::reset_link_window(email.as_str());
        let now = self.now();
        let current = self.store().get(&key).await?;
        let previous: Option<LinkWindow> = current.as_ref().map(|i| i.parse()).transpose()?;
        let (window_start, window_count) = match &previous {
            Some(p) => send_window(now, Some(p.sent_at), p.window_start, p.window_count)?,
            None => (now, 1),
        };
        let next = LinkWindow {
            sent_at: now,
            window_start,
            window_count,
        };
        let cond = match &previous {
            Some(p) => Condition::equals("sent_at", p.sent_at),
            None => Condition::NotExists,
        };
        let item = Item::of(key, &next, Some(window_start + 3600))?;
        match self.store().write(vec![Write::Put { item, cond }]).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed(_)) => Err(Error::TooManyRequests {
                retry_after: super::codes::RESEND_AFTER,
            }),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn send_reset_link(&self, user: &User) -> Result<()> {
        let Some(email) = &user.email else {
            return Ok(());
        };
        self.spend_budget(Channel::Email).await?;
        // Production mails no link a network can read: one left unconfigured (first deployment,
        // before its URL is known) is refused here, as a configured one is at start-up.
        if !self.config().is_dev() && !self.config().reset_link.starts_with("https://") {
            tracing::error!("reset links need an https POLYAUTH_PUBLIC_URL or POLYAUTH_RESET_LINK");
            return Err(Error::Unavailable);
        }
        let token = crate::random::token();
        let key = schema::reset(&super::tokens::sha256_hex(&token));
        let state = ResetState {
            user_id: user.id,
            checks_left: RESET_CHECKS,
            epoch: user.session_epoch,
        };
        let item = Item::of(key.clone(), &state, Some(self.now() + RESET_TTL))?;
        self.store().write(vec![Write::put_new(item)]).await?;
        let link = self.config().reset_link.replace("{code}", &token);
        let message = messages::reset_link(self.config().lang, email.as_str(), &link, &token);
        if let Err(e) = self.0.sender.send(&message).await {
            tracing::error!(error = %e, "sending a reset link failed");
            self.store().write(vec![Write::delete(key)]).await?;
            return Err(Error::Unavailable);
        }
        tracing::info!(channel = "email", purpose = "reset-link", user = %user.id, "message_sent");
        Ok(())
    }

    /// The live state of a reset token, with the item's expiry (kept when it is rewritten).
    async fn reset_state(&self, token: &str) -> Result<(Key, ResetState, Option<i64>)> {
        let key = schema::reset(&super::tokens::sha256_hex(token));
        let item = self
            .store()
            .get(&key)
            .await?
            .ok_or(Error::ResetTokenInvalid)?;
        let state: ResetState = item.parse()?;
        if state.checks_left <= 0 {
            return Err(Error::ResetTokenInvalid);
        }
        Ok((key, state, item.expires_at))
    }

    /// Tells whether a reset token is good; each check counts, and the `RESET_CHECKS`-th is
    /// refused.
    #[tracing::instrument(name = "check_reset_token", skip_all)]
    pub async fn check_reset_token(&self, token: &str) -> Result<()> {
        let (key, state, expires_at) = self.reset_state(token).await?;
        let current = self
            .user(state.user_id)
            .await?
            .is_some_and(|u| u.is_active() && u.session_epoch == state.epoch);
        if !current {
            return Err(Error::ResetTokenInvalid);
        }
        let next = ResetState {
            checks_left: state.checks_left - 1,
            ..state.clone()
        };
        let write = Write::Put {
            item: Item::of(key, &next, expires_at)?,
            cond: Condition::equals("checks_left", state.checks_left),
        };
        match self.store().write(vec![write]).await {
            Ok(()) if next.checks_left > 0 => Ok(()),
            Ok(()) => Err(Error::ResetTokenInvalid),
            Err(StoreError::ConditionFailed(_)) => Err(Error::ResetTokenInvalid),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a new password and/or mobile with a reset token, and ends every session. A
    /// redemption that sets neither voids the token, as pauli's original did.
    #[tracing::instrument(name = "redeem_reset_token", skip_all)]
    pub async fn redeem_reset_token(
        &self,
        token: &str,
        password: Option<Password>,
        mobile: Option<Phone>,
        client: &Client,
    ) -> Result<User> {
        let (key, state, _) = self.reset_state(token).await?;
        if password.is_none() && mobile.is_none() {
            self.store().write(vec![Write::delete(key)]).await?;
            return Err(Error::ResetTokenInvalid);
        }
        // A disabled account stays as it was left.
        let user = self
            .user_as_granted(state.user_id, state.epoch, Error::ResetTokenInvalid)
            .await?;
        let mut updated = user.clone();
        if let Some(p) = &password {
            p.vet(&user_identifiers(&user))
                .map_err(|_| Error::WeakPassword)?;
            updated.password_hash = self.0.hasher.hash(p).await?;
        }
        // The link was mailed to the email: whoever opened it holds the email.
        updated.unproven.remove(&Contact::Email);
        let old_mobile = user.mobile.clone();
        let mobile_changed = mobile
            .as_ref()
            .is_some_and(|m| Some(m) != old_mobile.as_ref());
        if let Some(m) = mobile {
            if mobile_changed {
                // A mobile set by a link is only claimed: an SMS code to it proves it.
                updated.mobile_confirmed = false;
                updated.unproven.insert(Contact::Mobile);
            }
            updated.mobile = Some(m);
        }
        // Every session, pending step and older reset link dies in this same write.
        updated.session_epoch += 1;
        let spend = Write::Delete {
            key,
            cond: Condition::equals("checks_left", state.checks_left),
        };
        let saved = match self
            .save_user(&user, updated, Batch::of(spend, Error::ResetTokenInvalid))
            .await
        {
            Ok(saved) => saved,
            Err(e @ Error::AlreadyExists { .. }) => {
                // Probing which mobiles are taken costs the link a check, like any other try.
                let _ = self.check_reset_token(token).await;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let outcome = match (password.is_some(), mobile_changed) {
            (true, true) => "password and mobile set",
            (true, false) => "password set",
            (false, _) => "mobile set",
        };
        self.security_event(Event::ResetCompleted, Some(user.id), client, outcome);
        if mobile_changed {
            self.security_event(Event::MobileChanged, Some(user.id), client, "by reset link");
            self.tell_mobile_changed(&saved, old_mobile.as_ref()).await;
        }
        Ok(saved)
    }

    /// Sets a new password with a reset-password code sent to the account, and ends every
    /// session.
    #[tracing::instrument(name = "reset_password_with_code", skip_all)]
    pub async fn reset_password_with_code(
        &self,
        account: &Account,
        code: &Code,
        password: &Password,
        client: &Client,
    ) -> Result<User> {
        let check = self
            .check_code_for(Purpose::ResetPassword, account, code, client)
            .await?;
        let Some(user) = self.find_user(account).await? else {
            // Nobody to reset: the code is left for what else it may be for (seed 002 mails
            // one code that registering accepts too).
            return Err(Error::CodeInvalid);
        };
        if !user.is_active() {
            return Err(Error::Disabled);
        }
        // The code came back through one of the user's contacts: that contact is proven now,
        // and if it had only been claimed, its holder has just taken the account back.
        let proven = user.contact_of(&check.account);
        let reclaimed = proven.filter(|c| user.unproven.contains(c));
        let saved = self
            .set_password(
                &user,
                password,
                Batch::of(check.consume, Error::CodeInvalid),
                client,
                proven,
            )
            .await?
            .ok_or(Error::Unavailable)?;
        if let Some(contact) = reclaimed {
            self.tell_reclaimed(&saved, contact, client).await;
        }
        Ok(saved)
    }

    /// Changes a password after checking the old one (no captcha: the caller re-authenticates).
    /// A caller who also presented a session must be that account's user.
    #[tracing::instrument(name = "change_password", skip_all)]
    pub async fn change_password(
        &self,
        caller: Option<&super::Principal>,
        account: &Account,
        old: &Password,
        new: &Password,
        client: &Client,
    ) -> Result<User> {
        for _ in 0..super::SETTLE_TRIES {
            let user = self.reconfirmed(caller, account, old, client).await?;
            // The right old password ends the run of failures, as a login would.
            let cleared = Batch::of(self.clear_failures(user.id), Error::Unavailable);
            if let Some(saved) = self.set_password(&user, new, cleared, client, None).await? {
                return Ok(saved);
            }
        }
        Err(Error::Unavailable)
    }

    /// Changes the caller's own password after checking the old one (seed 000's `pass/change`).
    /// Every other session ends with the epoch bump; the caller's own is carried over to the
    /// new epoch in the same write, as the original kept the session it was asked from.
    #[tracing::instrument(name = "change_own_password", skip_all)]
    pub async fn change_own_password(
        &self,
        principal: &super::Principal,
        old: &Password,
        new: &Password,
        client: &Client,
    ) -> Result<User> {
        for _ in 0..super::SETTLE_TRIES {
            let user = self
                .user(principal.user_id)
                .await?
                .ok_or(Error::Unauthenticated)?;
            // Any identifier of the user names the same run of failures (the gate's).
            let account = super::users::accounts(&user)
                .into_iter()
                .next()
                .ok_or(Error::Unauthenticated)?;
            let user = self
                .reconfirmed(Some(principal), &account, old, client)
                .await?;
            let key = schema::session(&principal.sid);
            let current = self
                .store()
                .get(&key)
                .await?
                .ok_or(Error::Unauthenticated)?;
            let mut session: schema::SessionState = current.parse()?;
            // Ended meanwhile (another password change, a reset): never carried back to life.
            if session.user_id != user.id || session.epoch < user.session_epoch {
                return Err(Error::Unauthenticated);
            }
            let rotated_at = session.rotated_at;
            session.epoch = user.session_epoch + 1;
            let mut extra = Batch::of(self.clear_failures(user.id), Error::Unavailable);
            // Read as it was: a refresh that rotated it meanwhile makes this run again.
            extra.claim(Write::Put {
                item: Item::of(key, &session, current.expires_at)?,
                cond: Condition::equals("rotated_at", rotated_at),
            });
            if let Some(saved) = self.set_password(&user, new, extra, client, None).await? {
                return Ok(saved);
            }
        }
        Err(Error::Unavailable)
    }

    /// Sets a new password; the session-epoch bump in the same write ends every session.
    /// `None` when the user changed since it was read (nothing written).
    async fn set_password(
        &self,
        user: &User,
        password: &Password,
        extra: Batch,
        client: &Client,
        proven: Option<Contact>,
    ) -> Result<Option<User>> {
        password
            .vet(&user_identifiers(user))
            .map_err(|_| Error::WeakPassword)?;
        let mut updated = user.clone();
        if let Some(contact) = proven {
            updated.unproven.remove(&contact);
            if contact == Contact::Mobile {
                updated.mobile_confirmed = true;
            }
        }
        updated.password_hash = self.0.hasher.hash(password).await?;
        updated.session_epoch += 1;
        let saved = self.save_user_unless_changed(user, updated, extra).await?;
        if saved.is_some() {
            self.security_event(Event::PasswordChanged, Some(user.id), client, "changed");
        }
        Ok(saved)
    }
}

impl Auth {
    /// Mails a reset-password code to a known account once a solved captcha is presented;
    /// answers the same for unknown accounts.
    #[tracing::instrument(name = "request_reset_code", skip_all)]
    pub async fn request_reset_code(
        &self,
        account: &Account,
        captcha: Option<&str>,
        client: &Client,
    ) -> Result<()> {
        self.require_captcha(captcha, &Purpose::ResetPassword.binding(account))
            .await?;
        // Counted for known and unknown emails alike (the send below is then internal).
        self.limit(Limit::Sends, client).await?;
        match self.find_user(account).await? {
            Some(user) if user.is_active() => {
                self.security_event(Event::ResetRequested, Some(user.id), client, "code mailed");
                let sent = self
                    .0
                    .reset_code_timing
                    .work(self.send_code(Purpose::ResetPassword, account, &Client::internal()))
                    .await;
                // Whatever kept the code from going out (the account's resend window, the day's
                // budget, the mail service) is not told: an unknown email would answer ok.
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "a reset code was not sent");
                }
                Ok(())
            }
            _ => {
                self.security_event(Event::ResetRequested, None, client, "no such account");
                self.0.reset_code_timing.imitate().await;
                Ok(())
            }
        }
    }
}

impl Auth {
    /// Resets the password with a code (ending every older session), then opens a new session,
    /// which also clears the account's login failures (seed 003 answers a token on reset).
    #[tracing::instrument(name = "reset_password_and_sign_in", skip_all)]
    pub async fn reset_password_and_sign_in(
        &self,
        account: &Account,
        code: &Code,
        password: &Password,
        spec: &super::SessionSpec,
        client: &Client,
    ) -> Result<super::SignedIn> {
        // Signing in by a code is a login: behind the account's lockout, as `code_login` is (a
        // locked account is signed in no way, and its count clears only when it is).
        if let Some(holder) = self.id_holding(account).await? {
            self.enter_gate(Suspect::User(holder), account, &Gate::Lockout, client)
                .await?;
        }
        let user = self
            .reset_password_with_code(account, code, password, client)
            .await?;
        let clear = self.clear_failures(user.id);
        let tokens = self
            .sign_in(
                &user,
                spec,
                super::LoginType::ResetPassword,
                client,
                Batch::of(clear, Error::Unavailable),
            )
            .await?;
        Ok(super::SignedIn {
            user,
            tokens,
            is_new: false,
        })
    }
}

fn user_identifiers(user: &User) -> Vec<String> {
    super::registration::identifiers_of(&super::users::accounts(user))
}

#[cfg(test)]
mod tests;
