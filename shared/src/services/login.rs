//! Signing in: by password (any identifier), or by a code sent to an email or mobile, which
//! may create the account. Unknown accounts cost the same hashing work as known ones.

use super::{codes::Purpose, Auth, Client, Gate, LoginType, PendingId, SessionSpec, Tokens};
use crate::{
    domain::{Account, Code, Password, User},
    error::CredentialFault,
    sender::Channel,
    store::Write,
    Error, Result,
};

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub tokens: Tokens,
    /// The account was created by this login.
    pub is_new: bool,
}

#[derive(Debug, Clone)]
pub enum LoginStep {
    SignedIn(Box<SignedIn>),
    /// The password was right; a code went to the user's mobile and must be entered next.
    SecondFactor(PendingId),
}

impl Auth {
    /// Checks a password without signing in: for endpoints that re-confirm it.
    pub async fn check_password(
        &self,
        account: &Account,
        password: &Password,
        gate: &Gate,
    ) -> Result<User> {
        self.pass_gate(account, gate).await?;
        let Some(user) = self.find_user(account).await? else {
            self.0.hasher.verify_nobody(password).await?;
            self.record_failure(account).await?;
            return Err(Error::InvalidCredentials(CredentialFault::UnknownAccount));
        };
        if !self.0.hasher.verify(&user.password_hash, password).await? {
            self.record_failure(account).await?;
            return Err(Error::InvalidCredentials(CredentialFault::WrongPassword));
        }
        if !user.is_active() {
            return Err(Error::Disabled);
        }
        Ok(user)
    }

    /// `second_factor`: the dialect can carry a second step; users with a mobile then get one
    /// when the deployment has SMS second factor on.
    pub async fn password_login(
        &self,
        account: &Account,
        password: &Password,
        gate: &Gate,
        spec: &SessionSpec,
        client: &Client,
        second_factor: bool,
    ) -> Result<LoginStep> {
        let user = self.check_password(account, password, gate).await?;
        let mut extra = vec![(self.clear_failures(account), Error::Unavailable)];
        // An imported user's legacy hash becomes argon2id with this login's write; a login
        // racing another change of the user fails rather than undo it.
        let upgrade = self.upgraded_hash(&user, password).await?;
        let upgraded = upgrade.is_some();
        extra.extend(upgrade.map(|w| (w, Error::Unavailable)));
        if second_factor && self.config().sms_second_factor && user.mobile.is_some() {
            let record = self.login_record(user.id, LoginType::PasswordSms, client);
            let mut writes: Vec<Write> = extra.into_iter().map(|(w, _)| w).collect();
            writes.push(record);
            self.store().write(writes).await?;
            if upgraded {
                tracing::info!(user = %user.id, "hash_upgraded");
            }
            return Ok(LoginStep::SecondFactor(
                self.start_second_factor(&user).await?,
            ));
        }
        let tokens = self
            .sign_in(&user, spec, LoginType::Password, client, extra)
            .await?;
        if upgraded {
            tracing::info!(user = %user.id, "hash_upgraded");
        }
        Ok(LoginStep::SignedIn(Box::new(SignedIn {
            user,
            tokens,
            is_new: false,
        })))
    }

    /// Sends a code for `purpose` to an email (mail) or mobile (SMS).
    pub async fn send_code(
        &self,
        purpose: Purpose,
        account: &Account,
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
        self.issue_code(purpose, &account.key(), channel, &to).await
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
        Ok(Some(self.user_update(user, updated)))
    }

    /// Sends a code once a solved captcha is presented (spending it), else asks for one.
    pub async fn send_code_behind_captcha(
        &self,
        purpose: Purpose,
        account: &Account,
        captcha: Option<&str>,
    ) -> Result<super::IssuedCode> {
        self.require_captcha(captcha).await?;
        self.send_code(purpose, account).await
    }

    /// Checks a code for `purpose` without spending it.
    pub async fn check_code_for(
        &self,
        purpose: Purpose,
        account: &Account,
        code: &Code,
    ) -> Result<super::CodeCheck> {
        self.check_account_code(purpose, &account.key(), code).await
    }

    /// `create`: an unknown account is registered by this login (seed 003), else refused.
    pub async fn code_login(
        &self,
        account: &Account,
        code: &Code,
        create: bool,
        gate: &Gate,
        spec: &SessionSpec,
        client: &Client,
    ) -> Result<SignedIn> {
        self.pass_gate(account, gate).await?;
        let check = match self
            .check_account_code(Purpose::Login, &account.key(), code)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                if e == Error::CodeInvalid {
                    self.record_failure(account).await?;
                }
                return Err(e);
            }
        };
        let clear = self.clear_failures(account);
        match self.find_user(account).await? {
            Some(user) if !user.is_active() => Err(Error::Disabled),
            Some(user) => {
                let tokens = self
                    .sign_in(
                        &user,
                        spec,
                        LoginType::Code,
                        client,
                        vec![
                            (check.consume, Error::CodeInvalid),
                            (clear, Error::Unavailable),
                        ],
                    )
                    .await?;
                Ok(SignedIn {
                    user,
                    tokens,
                    is_new: false,
                })
            }
            None if create => {
                let new = super::NewUser {
                    email: match account {
                        Account::Email(e) => Some(e.clone()),
                        _ => None,
                    },
                    mobile: match account {
                        Account::Mobile(m) => Some(m.clone()),
                        _ => None,
                    },
                    ..Default::default()
                };
                let (user, tokens) = self
                    .create_user(new, Some(check), |user| {
                        let (mut writes, tokens) =
                            self.open_session(user, spec, LoginType::Code, client)?;
                        writes.push(clear);
                        Ok((writes, tokens))
                    })
                    .await?;
                Ok(SignedIn {
                    user,
                    tokens,
                    is_new: true,
                })
            }
            None => Err(Error::InvalidCredentials(CredentialFault::UnknownAccount)),
        }
    }
}
