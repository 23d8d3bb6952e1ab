//! Signing in: by password (any identifier), or by a code sent to an email or mobile, which
//! may create the account. Unknown accounts cost the same hashing work as known ones.

use super::{
    batch::Batch, captcha::Solved, codes::Purpose, limits::Limit, registration::NewId,
    security::Event, throttle::Suspect, Auth, Client, Gate, LoginType, PendingId, SessionSpec,
    Tokens,
};
use crate::{
    domain::{Account, Code, Password, User},
    error::CredentialFault,
    schema::CodeSubject,
    sender::Channel,
    store::{Item, Write},
    Error, Result,
};

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub tokens: Tokens,
    /// The account was created by this login.
    pub is_new: bool,
}

/// Seed 003's app's own session cookie for a sign-in (`tokens/cookie_session.rs`).
pub struct AppSession {
    pub value: String,
    pub signature: String,
    /// The browser drops it with the access token. The value itself never expires: only a
    /// new key (polyauth's and the app's) revokes what was issued.
    pub expires_at: i64,
}

impl Auth {
    /// The app session a sign-in also hands out, where the operator gave polyauth the app's
    /// `cookie-session` key (`POLYAUTH_LEGACY_SESSION_KEY_V1`); none otherwise.
    pub fn app_session(&self, s: &SignedIn) -> Option<AppSession> {
        let key = self.config().tokens.v1_session_key.as_ref()?;
        let (value, signature) = super::tokens::cookie_session::issue(key, s.user.id);
        Some(AppSession {
            value,
            signature,
            expires_at: s.tokens.access_expires_at,
        })
    }
}

/// A password that checked out: the user, its session entries, the writes its success makes
/// (the failure count cleared, a legacy hash upgraded) and whether the hash was upgraded.
struct Verified {
    user: User,
    open: Vec<Item>,
    extra: Batch,
    upgraded: bool,
}

/// A password sign-in as a client asks for it, behind the gate its dialect puts in front.
#[derive(Clone, Copy)]
pub struct Attempt<'a> {
    pub account: &'a Account,
    pub password: &'a Password,
    pub gate: &'a Gate,
    pub client: &'a Client,
}

impl<'a> Attempt<'a> {
    /// An attempt behind the failure lockout, the gate most dialects put in front.
    pub fn new(account: &'a Account, password: &'a Password, client: &'a Client) -> Self {
        Self {
            account,
            password,
            gate: &Gate::Lockout,
            client,
        }
    }

    /// The same attempt behind another gate (seed 002's captcha).
    pub fn behind(self, gate: &'a Gate) -> Self {
        Self { gate, ..self }
    }
}

#[derive(Debug, Clone)]
pub enum LoginStep {
    SignedIn(Box<SignedIn>),
    /// The password was right; a code went to the user's mobile and must be entered next.
    SecondFactor(PendingId),
}

impl Auth {
    /// Checks a password without signing in: for endpoints that re-confirm it. The attempt is
    /// reserved at the gate first; a full hashing queue turns it away before any write.
    pub async fn check_password(&self, attempt: Attempt<'_>) -> Result<User> {
        Ok(self.password_checked(attempt).await?.0)
    }

    /// The user re-confirming their password for a change to their account: the caller's
    /// session, when there is one, must be that user's (`Forbidden` otherwise).
    pub(crate) async fn reconfirmed(
        &self,
        caller: Option<&super::Principal>,
        account: &Account,
        password: &Password,
        client: &Client,
    ) -> Result<User> {
        let user = self
            .check_password(Attempt::new(account, password, client))
            .await?;
        if caller.is_some_and(|p| p.user_id != user.id) {
            return Err(Error::Forbidden);
        }
        Ok(user)
    }

    /// `check_password`, answering the user's session entries with it (read together: see
    /// `user_signing_in`).
    async fn password_checked(&self, attempt: Attempt<'_>) -> Result<(User, Vec<Item>)> {
        let Attempt {
            account,
            password,
            gate,
            client,
        } = attempt;
        let _admitted = self.0.hasher.admit()?;
        let holder = self.id_holding(account).await?;
        let suspect = holder.map_or(Suspect::Nobody(account), Suspect::User);
        self.enter_gate(suspect, account, gate, client).await?;
        let found = match holder {
            Some(id) => self.user_signing_in(id).await?,
            None => None,
        };
        let Some((user, open)) = found else {
            self.0.hasher.verify_nobody(password).await?;
            self.security_event(Event::LoginFailed, None, client, "unknown account");
            return Err(Error::InvalidCredentials(CredentialFault::UnknownAccount));
        };
        if !self.0.hasher.verify(&user.password_hash, password).await? {
            self.security_event(Event::LoginFailed, Some(user.id), client, "wrong password");
            return Err(Error::InvalidCredentials(CredentialFault::WrongPassword));
        }
        if !user.is_active() {
            self.security_event(Event::LoginFailed, Some(user.id), client, "disabled");
            return Err(Error::Disabled);
        }
        Ok((user, open))
    }

    /// Signs in with a password, in one write (no second step: for dialects without one).
    #[tracing::instrument(name = "password_login", skip_all)]
    pub async fn password_login(
        &self,
        attempt: Attempt<'_>,
        spec: &SessionSpec,
    ) -> Result<SignedIn> {
        let verified = self.verified_login(attempt).await?;
        self.password_session(verified, spec, attempt.client).await
    }

    /// The session a verified password opens, with the writes its check left to do.
    async fn password_session(
        &self,
        verified: Verified,
        spec: &SessionSpec,
        client: &Client,
    ) -> Result<SignedIn> {
        let Verified {
            user,
            open,
            extra,
            upgraded,
        } = verified;
        let tokens = self
            .sign_in_among(&user, &open, spec, LoginType::Password, client, extra)
            .await?;
        log_upgrade(&user, upgraded);
        Ok(SignedIn {
            user,
            tokens,
            is_new: false,
        })
    }

    /// Signs in with a password, or, for a user with a mobile while the deployment has the
    /// SMS second factor on, sends that code and answers the pending second step (seed 000).
    #[tracing::instrument(name = "password_login_with_second_step", skip_all)]
    pub async fn password_login_with_second_step(
        &self,
        attempt: Attempt<'_>,
        spec: &SessionSpec,
    ) -> Result<LoginStep> {
        let client = attempt.client;
        let (user, open) = self.password_checked(attempt).await?;
        // A mobile no text may go to (an imported one, in a country not enabled) cannot finish
        // the step. Refused as a wrong password, and before anything a right one writes (the
        // failures cleared, the hash upgraded, the record): else the answer, the lockout count
        // or the time taken would tell whoever tries a password that it was right.
        if let Some(mobile) = user
            .mobile
            .as_ref()
            .filter(|_| self.config().sms_second_factor)
        {
            if !self.texts_reach(mobile) {
                tracing::warn!(user = %user.id, "second_factor_unreachable_mobile");
                return Err(Error::InvalidCredentials(CredentialFault::WrongPassword));
            }
        }
        let mut verified = self.verified(user, open, attempt.password).await?;
        if !(self.config().sms_second_factor && verified.user.mobile.is_some()) {
            let signed_in = self.password_session(verified, spec, client).await?;
            return Ok(LoginStep::SignedIn(Box::new(signed_in)));
        }
        let user = verified.user;
        verified
            .extra
            .push(self.login_record(user.id, LoginType::PasswordSms, client)?);
        verified.extra.commit(self.store()).await?;
        log_upgrade(&user, verified.upgraded);
        Ok(LoginStep::SecondFactor(
            self.start_second_factor(&user, client).await?,
        ))
    }

    /// The password check of a login and the writes that go with its success: the failure
    /// count cleared and, for an imported user, the legacy hash replaced by argon2id (a login
    /// racing another change of the user then fails rather than undo it).
    async fn verified_login(&self, attempt: Attempt<'_>) -> Result<Verified> {
        let (user, open) = self.password_checked(attempt).await?;
        self.verified(user, open, attempt.password).await
    }

    /// `verified_login` for a user whose password has just checked out.
    async fn verified(&self, user: User, open: Vec<Item>, password: &Password) -> Result<Verified> {
        let mut extra = Batch::new();
        extra.push(self.clear_failures(user.id));
        let upgrade = self.upgraded_hash(&user, password).await?;
        let upgraded = upgrade.is_some();
        extra.push_all(upgrade);
        Ok(Verified {
            user,
            open,
            extra,
            upgraded,
        })
    }

    /// Sends a code for `purpose` to an email (mail) or mobile (SMS).
    #[tracing::instrument(name = "send_code", skip_all)]
    pub async fn send_code(
        &self,
        purpose: Purpose,
        account: &Account,
        client: &Client,
    ) -> Result<super::IssuedCode> {
        self.send_code_on(purpose, account, None, client).await
    }

    /// `send_code`, through on a solved `captcha` (spent with the code).
    async fn send_code_on(
        &self,
        purpose: Purpose,
        account: &Account,
        captcha: Option<&Solved>,
        client: &Client,
    ) -> Result<super::IssuedCode> {
        let (channel, to) = match account {
            Account::Email(e) => (Channel::Email, e.as_str().to_string()),
            Account::Mobile(m) => (Channel::Sms, m.e164().to_string()),
            Account::Username(_) => {
                return Err(Error::invalid(
                    "account",
                    "must be a mobile number or an email",
                ))
            }
        };
        let subject = CodeSubject::of(account);
        self.issue_code(purpose, &subject, channel, &to, captcha, client)
            .await
    }

    /// The write that replaces a user's legacy (imported) hash with argon2id of the password
    /// that just verified against it; `None` for a user whose hash is polyauth's own.
    async fn upgraded_hash(&self, user: &User, password: &Password) -> Result<Option<Write>> {
        if super::legacy_hash::is_current(&user.password_hash) {
            return Ok(None);
        }
        let mut updated = user.clone();
        updated.password_hash = self.0.hasher.hash(password).await?;
        updated.version = user.version + 1;
        Ok(Some(self.user_update(user, updated)?))
    }

    /// Sends a code once a solved captcha is presented (spending it with the code: a send
    /// refused for a resend too soon, a limit or an outage keeps it), else asks for one.
    #[tracing::instrument(name = "send_code_behind_captcha", skip_all)]
    pub async fn send_code_behind_captcha(
        &self,
        purpose: Purpose,
        account: &Account,
        captcha: Option<&str>,
        client: &Client,
    ) -> Result<super::IssuedCode> {
        let solved = self
            .solved_captcha(captcha, &purpose.binding(account))
            .await?;
        self.send_code_on(purpose, account, Some(&solved), client)
            .await
    }

    /// Checks a code for `purpose` without spending it; the attempt counts against the
    /// caller's address.
    #[tracing::instrument(name = "check_code_for", skip_all)]
    pub async fn check_code_for(
        &self,
        purpose: Purpose,
        account: &Account,
        code: &Code,
        client: &Client,
    ) -> Result<super::CodeCheck> {
        self.limit(Limit::Attempts, client).await?;
        let checked = self
            .check_account_code(purpose, &CodeSubject::of(account), code)
            .await;
        self.note_code_outcome(&checked, client);
        checked
    }

    /// Signs in with a code sent to an email or mobile; `unknown` says what an account nobody
    /// holds yet gets (seed 003 registers it; `is_new` then says so).
    #[tracing::instrument(name = "code_login", skip_all)]
    pub async fn code_login(
        &self,
        account: &Account,
        code: &Code,
        unknown: UnknownAccount,
        gate: &Gate,
        spec: &SessionSpec,
        client: &Client,
    ) -> Result<SignedIn> {
        let found = self.find_user(account).await?;
        let suspect = found
            .as_ref()
            .map_or(Suspect::Nobody(account), |u| Suspect::User(u.id));
        self.enter_gate(suspect, account, gate, client).await?;
        let checked = self
            .check_account_code(Purpose::Login, &CodeSubject::of(account), code)
            .await;
        self.note_code_outcome(&checked, client);
        let check = checked?;
        let existing = |user: User, check| async move {
            if !user.is_active() {
                return Err(Error::Disabled);
            }
            let extra = Batch::of(self.clear_failures(user.id), Error::Unavailable);
            self.sign_in_by_code(user, check, extra, spec, client).await
        };
        match (found, unknown) {
            (Some(user), _) => existing(user, check).await,
            (None, UnknownAccount::Register) => {
                self.limit(Limit::Registrations, client).await?;
                let new = super::NewUser::of_contact(account);
                let keys = self.keyset().await?;
                let created = self
                    .create_user(new, Some(check.clone()), NewId::Next, |user| {
                        self.open_session(&keys, user, spec, LoginType::Code, client)
                    })
                    .await;
                match created {
                    Ok((user, tokens)) => {
                        super::sessions::signed_in_metric(spec);
                        Ok(SignedIn {
                            user,
                            tokens,
                            is_new: true,
                        })
                    }
                    // Another request made the account meanwhile (a registration racing this
                    // login): sign in to it, as this request would have a moment later.
                    Err(Error::AlreadyExists { .. }) => match self.find_user(account).await? {
                        Some(user) => existing(user, check).await,
                        None => Err(Error::Unavailable),
                    },
                    Err(e) => Err(e),
                }
            }
            (None, UnknownAccount::Refuse) => {
                Err(Error::InvalidCredentials(CredentialFault::UnknownAccount))
            }
        }
    }
}

impl Auth {
    /// Signs an existing user in with a code that checked out, spending it with `extra`. What
    /// the code proves goes in the same write: a contact that was only claimed changes hands
    /// (the claimer's password, sessions and codes end, and the owner is told after).
    pub(crate) async fn sign_in_by_code(
        &self,
        user: User,
        check: super::CodeCheck,
        mut extra: Batch,
        spec: &SessionSpec,
        client: &Client,
    ) -> Result<SignedIn> {
        extra.add(check.consume.clone(), Error::CodeInvalid);
        let proof = self.proof(&user, &check).await?;
        let reclaimed = proof.as_ref().and_then(|p| p.reclaimed);
        let user = match proof {
            Some(p) => {
                self.hand_over(&user, p.reclaimed, &mut extra);
                extra.push(p.write);
                p.user
            }
            None => user,
        };
        let tokens = self
            .sign_in(&user, spec, LoginType::Code, client, extra)
            .await?;
        if let Some(contact) = reclaimed {
            self.tell_reclaimed(&user, contact, client).await;
        }
        Ok(SignedIn {
            user,
            tokens,
            is_new: false,
        })
    }
}

/// What a code login does for an account nobody holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownAccount {
    Register,
    Refuse,
}

fn log_upgrade(user: &User, upgraded: bool) {
    if upgraded {
        tracing::info!(user = %user.id, "hash_upgraded");
        crate::metrics::count(crate::metrics::Metric::LegacyHashUpgraded, &[]);
    }
}

#[cfg(test)]
mod tests;
