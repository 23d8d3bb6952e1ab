//! Reading and writing user items and the unique items that map email / mobile / username to
//! a user id. Every user write is conditional on the version read, so concurrent edits fail
//! instead of merging.

use super::{
    batch::{Batch, Claimed},
    Auth,
};
use crate::{
    domain::{Account, Contact, Email, Password, Phone, User, UserId, Username},
    schema::{self, Claim},
    sender::Channel,
    store::{Condition, Item, Write},
    Error, Result,
};

/// A contact proven by a code: the user as it is to be saved, the write that saves it, and
/// the contact that changed hands, if one did.
pub(crate) struct Proof {
    pub user: User,
    pub write: Write,
    pub reclaimed: Option<Contact>,
}

pub(crate) fn claim(account: &Account, id: UserId) -> Result<Write> {
    Ok(Write::put_new(Item::of(
        schema::unique(account),
        &Claim { user_id: id },
        None,
    )?))
}

/// The identifiers a user holds, each with the request field name it is known by.
pub(crate) fn accounts(user: &User) -> Vec<Account> {
    accounts_of(&user.email, &user.mobile, &user.username)
}

pub(crate) fn accounts_of(
    email: &Option<Email>,
    mobile: &Option<Phone>,
    username: &Option<Username>,
) -> Vec<Account> {
    let mut out = Vec::new();
    if let Some(e) = email {
        out.push(Account::Email(e.clone()));
    }
    if let Some(m) = mobile {
        out.push(Account::Mobile(m.clone()));
    }
    if let Some(u) = username {
        out.push(Account::Username(u.clone()));
    }
    out
}

impl Auth {
    pub async fn user(&self, id: UserId) -> Result<Option<User>> {
        match self.store().get(&schema::user(id)).await? {
            Some(item) => Ok(Some(item.parse()?)),
            None => Ok(None),
        }
    }

    /// The user a stored grant (a reset link, a pending login) was made for, while nothing
    /// has changed since: the same session epoch, and still active. `gone` otherwise.
    pub(crate) async fn user_as_granted(
        &self,
        id: UserId,
        epoch: u64,
        gone: Error,
    ) -> Result<User> {
        let user = self
            .user(id)
            .await?
            .filter(|u| u.session_epoch == epoch)
            .ok_or(gone)?;
        if !user.is_active() {
            return Err(Error::Disabled);
        }
        Ok(user)
    }

    pub async fn find_user(&self, account: &Account) -> Result<Option<User>> {
        match self.id_holding(account).await? {
            Some(id) => self.user(id).await,
            None => Ok(None),
        }
    }

    /// The id of the user holding `account`, from its unique item.
    pub(crate) async fn id_holding(&self, account: &Account) -> Result<Option<UserId>> {
        let mut found = self.store().get(&schema::unique(account)).await?;
        // A username claimed before names were compared case-insensitively keeps its case.
        if let (None, Account::Username(u)) = (&found, account) {
            if u.folded() != u.as_str() {
                let exact = schema::unique_username_as_spelled(u);
                found = self.store().get(&exact).await?;
            }
        }
        let Some(item) = found else {
            return Ok(None);
        };
        let claim: Claim = item.parse()?;
        Ok(Some(claim.user_id))
    }

    /// What a code that came back from one of `user`'s contacts proves. A contact that was
    /// only claimed now belongs to whoever holds it: the password is replaced by a random
    /// one and the epoch bumped (every session and pending step of the claimer ends), and
    /// `reclaimed` says the owner is to be told. `None` when nothing changes.
    pub(crate) async fn proof(
        &self,
        user: &User,
        code: &super::CodeCheck,
    ) -> Result<Option<Proof>> {
        let Some(contact) = user.contact_of(&code.account) else {
            return Ok(None);
        };
        let Some(mut proven) = user.proving(contact) else {
            return Ok(None);
        };
        let reclaimed = user.unproven.contains(&contact);
        if reclaimed {
            proven.password_hash = self.0.hasher.hash(&Password::random()).await?;
            proven.session_epoch += 1;
        }
        Ok(Some(Proof {
            write: self.user_update(user, proven.clone())?,
            user: proven,
            reclaimed: reclaimed.then_some(contact),
        }))
    }

    /// When a contact changed hands, the old account's outstanding codes go with it (all but
    /// the one `batch` already spends).
    pub(crate) fn hand_over(&self, read: &User, reclaimed: Option<Contact>, batch: &mut Batch) {
        if reclaimed.is_none() {
            return;
        }
        for void in self.codes_of(read) {
            if !batch.touches(void.key()) {
                batch.push(void);
            }
        }
    }

    /// Tells the owner of a reclaimed contact what happened (after the commit that did it), at
    /// that contact and at the account's email.
    pub(crate) async fn tell_reclaimed(
        &self,
        user: &User,
        contact: Contact,
        client: &super::Client,
    ) {
        let outcome = match contact {
            Contact::Email => "email proven",
            Contact::Mobile => "mobile proven",
        };
        self.security_event(
            super::security::Event::AccountReclaimed,
            Some(user.id),
            client,
            outcome,
        );
        let lang = self.config().lang;
        let mut told = Vec::new();
        if let Some(e) = &user.email {
            told.push(super::messages::reclaimed(lang, Channel::Email, e.as_str()));
        }
        if let (Contact::Mobile, Some(m)) = (contact, &user.mobile) {
            told.push(super::messages::reclaimed(lang, Channel::Sms, m.e164()));
        }
        for message in told {
            if let Err(e) = self.0.sender.send(&message).await {
                tracing::error!(error = %e, "telling the owner of a reclaimed account failed");
            }
        }
    }

    /// The write that replaces `user` (as read) with `updated`, guarded by the version read.
    pub(crate) fn user_update(&self, read: &User, updated: User) -> Result<Write> {
        Ok(Write::Put {
            item: Item::of(schema::user(updated.id), &updated, None)?,
            cond: Condition::equals("version", read.version),
        })
    }

    /// Saves an edit made to a user read earlier, moving unique claims whose identifier
    /// changed, together with the `extra` writes (spending a code or token, say), all or
    /// nothing. Answers the user as saved.
    pub(crate) async fn save_user(&self, read: &User, updated: User, extra: Batch) -> Result<User> {
        self.save_user_unless_changed(read, updated, extra)
            .await?
            .ok_or(Error::Unavailable)
    }

    /// `save_user`, answering `None` (and writing nothing) when the user changed since `read`:
    /// a use case that checked something of the user (its password, its status) decides again
    /// on what won, as if the two requests had come one after the other.
    pub(crate) async fn save_user_unless_changed(
        &self,
        read: &User,
        mut updated: User,
        extra: Batch,
    ) -> Result<Option<User>> {
        updated.version = read.version + 1;
        let before = accounts(read);
        let after = accounts(&updated);
        // The caller's writes first: when a double submit loses on both its code (or token)
        // and the user's version, the stores name the first failed write, and the code's
        // meaning (`CodeInvalid`, `ResetTokenInvalid`) is the answer that fits.
        let voids: Vec<Write> = if updated.session_epoch > read.session_epoch {
            self.codes_of(read)
                .into_iter()
                .filter(|w| !extra.touches(w.key()))
                .collect()
        } else {
            Vec::new()
        };
        let mut batch = extra;
        batch.claim(self.user_update(read, updated.clone())?);
        for a in after.iter().filter(|a| !before.contains(a)) {
            batch.add(
                claim(a, updated.id)?,
                Error::AlreadyExists { field: a.field() },
            );
        }
        for a in before.iter().filter(|a| !after.contains(a)) {
            batch.push(Write::delete(schema::unique(a)));
        }
        // An epoch bump ends what was outstanding for the old account too: its codes.
        batch.push_all(voids);
        Ok(match batch.commit_claiming(self.store()).await? {
            Claimed::Committed => Some(updated),
            Claimed::Lost => None,
        })
    }
}

#[cfg(test)]
mod tests;
