//! The SMS second step after a right password: a pending login valid 20 minutes, identified by
//! a random id the client keeps (in a cookie), whose code goes to the user's mobile. The code is
//! bound to the user, so repeating the password step cannot be used to send SMS floods.

use super::{batch::Batch, codes::Purpose, Auth, Client, LoginType, SessionSpec, SignedIn};
use crate::{
    domain::{Code, User},
    schema::{self, CodeSubject, Pending},
    sender::Channel,
    store::{Condition, Item, Key, Write},
    Error, Result,
};

pub const PENDING_TTL: i64 = 20 * 60;

#[derive(Debug, Clone, PartialEq)]
pub struct PendingId(pub String);

impl Auth {
    pub(crate) async fn start_second_factor(
        &self,
        user: &User,
        client: &Client,
    ) -> Result<PendingId> {
        let mobile = user.mobile.as_ref().ok_or(Error::NoPendingLogin)?;
        let id = crate::random::token();
        let item = Item::of(
            schema::pending(&id),
            &Pending {
                user_id: user.id,
                epoch: user.session_epoch,
            },
            Some(self.now() + PENDING_TTL),
        )?;
        self.store().write(vec![Write::put_new(item)]).await?;
        let account = CodeSubject::second_factor(user.id);
        match self
            .issue_code(
                Purpose::SecondFactor,
                &account,
                Channel::Sms,
                mobile.e164(),
                None,
                client,
            )
            .await
        {
            Ok(_) => Ok(PendingId(id)),
            // A code went out less than a minute ago and, unless it was already used, is still
            // good for this pending login.
            Err(Error::TooManyRequests { .. })
                if self.code_pending(Purpose::SecondFactor, &account).await? =>
            {
                Ok(PendingId(id))
            }
            // No code reaches the user: no pending login either (the caller is told to wait).
            Err(e) => {
                self.store()
                    .write(vec![Write::delete(schema::pending(&id))])
                    .await?;
                Err(e)
            }
        }
    }

    /// Ends a pending login: a password step that failed on top of it voids it, as pauli's
    /// original dropped its `password_verified` mark, so its code no longer signs anyone in.
    pub async fn abandon_second_factor(&self, id: &PendingId) -> Result<()> {
        if !crate::random::well_formed(&id.0) {
            return Ok(());
        }
        Ok(self
            .store()
            .write(vec![Write::delete(schema::pending(&id.0))])
            .await?)
    }

    async fn pending(&self, id: &PendingId) -> Result<(User, Key)> {
        if !crate::random::well_formed(&id.0) {
            return Err(Error::NoPendingLogin);
        }
        let key = schema::pending(&id.0);
        let item = self.store().get(&key).await?.ok_or(Error::NoPendingLogin)?;
        let pending: Pending = item.parse()?;
        let user = self
            .user_as_granted(pending.user_id, pending.epoch, Error::NoPendingLogin)
            .await?;
        Ok((user, key))
    }

    /// Sends the code again over the channel `asked`: voice only when available and the mobile
    /// is confirmed (a call to a number nobody proved is the costliest pumping there is), SMS
    /// otherwise. Answers the channel used. `None`, a channel the dialect does not know, is
    /// refused after the pending login and the resend minute are (pauli's order).
    #[tracing::instrument(name = "resend_second_factor", skip_all)]
    pub async fn resend_second_factor(
        &self,
        id: &PendingId,
        asked: Option<Channel>,
        client: &Client,
    ) -> Result<Channel> {
        let (user, _) = self.pending(id).await?;
        let mobile = user.mobile.as_ref().ok_or(Error::NoPendingLogin)?;
        let Some(asked) = asked else {
            let account = CodeSubject::second_factor(user.id);
            self.send_allowed(Purpose::SecondFactor, &account).await?;
            return Err(Error::invalid("method", "must be voice or sms"));
        };
        let voice = asked == Channel::Voice;
        let channel = if voice && user.mobile_confirmed && self.0.sender.supports_voice() {
            Channel::Voice
        } else {
            Channel::Sms
        };
        self.issue_code(
            Purpose::SecondFactor,
            &CodeSubject::second_factor(user.id),
            channel,
            mobile.e164(),
            None,
            client,
        )
        .await?;
        Ok(channel)
    }

    /// Completes the login with a session of `spec`. Five wrong codes void the pending login.
    #[tracing::instrument(name = "complete_second_factor", skip_all)]
    pub async fn complete_second_factor(
        &self,
        id: &PendingId,
        code: &Code,
        spec: &SessionSpec,
        client: &Client,
    ) -> Result<SignedIn> {
        self.limit(super::limits::Limit::Attempts, client).await?;
        let (user, key) = self.pending(id).await?;
        let account = CodeSubject::second_factor(user.id);
        let checked = self.check_code(Purpose::SecondFactor, &account, code).await;
        self.note_code_outcome(&checked, client);
        let check = match checked {
            Ok(c) => c,
            Err(e) => {
                if e == Error::CodeInvalid
                    && !self.code_pending(Purpose::SecondFactor, &account).await?
                {
                    self.store().write(vec![Write::delete(key)]).await?;
                }
                return Err(e);
            }
        };
        let mut extra = Batch::of(check.consume, Error::CodeInvalid);
        extra.add(
            Write::Delete {
                key,
                cond: Condition::Exists,
            },
            Error::NoPendingLogin,
        );
        // The code went to the mobile, and the password came with it: the mobile is proven
        // (a voice call may follow next time), by the one who also set the password.
        if let Some(proven) = user.proving(crate::domain::Contact::Mobile) {
            extra.push(self.user_update(&user, proven)?);
        }
        let tokens = self
            .sign_in(&user, spec, LoginType::SecondFactor, client, extra)
            .await?;
        Ok(SignedIn {
            user,
            tokens,
            is_new: false,
        })
    }
}

#[cfg(test)]
mod tests;
