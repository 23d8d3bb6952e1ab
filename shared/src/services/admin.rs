//! Administration: creating users on someone's behalf, permissions, disabling. Reached from the
//! local binary's admin commands, and from dialect endpoints for callers holding a permission.

use super::{batch::Batch, security::Event, Auth, Client, LoginRecord, NewUser, Principal};
use crate::{
    domain::{Account, Password, Permission, Status, User, UserId},
    schema,
    store::{Condition, Write},
    Error, Result,
};

impl Auth {
    /// Creates a user; without a password, a random one is set and the user is mailed a reset
    /// link to choose their own. A link that cannot be sent takes the new user back with it,
    /// so a retry starts afresh instead of finding the email taken.
    #[tracing::instrument(name = "admin_create_user", skip_all)]
    pub async fn admin_create_user(&self, new: NewUser) -> Result<User> {
        let mail_link = new.password.is_none();
        let user = self.register(new, None, &Client::internal()).await?;
        if mail_link {
            if let Err(e) = self.send_reset_link(&user).await {
                self.remove_new_user(&user).await?;
                return Err(e);
            }
        }
        Ok(user)
    }

    /// Deletes a user nobody has used yet (its first version) with its claims, in one write.
    async fn remove_new_user(&self, user: &User) -> Result<()> {
        let mut batch = Batch::new();
        batch.push(Write::Delete {
            key: schema::user(user.id),
            cond: Condition::equals("version", user.version),
        });
        for account in super::users::accounts(user) {
            batch.push(Write::delete(schema::unique(&account)));
        }
        batch.commit(self.store()).await
    }

    pub async fn user_by(&self, who: &str) -> Result<User> {
        if let Ok(id) = who.parse::<u64>() {
            if !who.starts_with('+') && who.len() < 11 {
                return self.user(UserId(id)).await?.ok_or(Error::NotFound);
            }
        }
        let account = self.account(who).map_err(|e| e.field("user"));
        if let Ok(account) = &account {
            if let Some(user) = self.find_user(account).await? {
                return Ok(user);
            }
        }
        // An original's string id (a pauli ObjectId): what an operator who imported its users
        // knows them by.
        if let Some(user) = self.user_by_legacy_id(who).await? {
            return Ok(user);
        }
        account?;
        Err(Error::NotFound)
    }

    #[tracing::instrument(name = "grant_permission", skip_all)]
    pub async fn grant_permission(&self, user: &User, permission: Permission) -> Result<User> {
        let mut updated = user.clone();
        updated.permissions.insert(permission);
        self.permissions_changed(user, updated, "granted").await
    }

    #[tracing::instrument(name = "revoke_permission", skip_all)]
    pub async fn revoke_permission(&self, user: &User, permission: Permission) -> Result<User> {
        let mut updated = user.clone();
        updated.permissions.remove(&permission);
        self.permissions_changed(user, updated, "revoked").await
    }

    async fn permissions_changed(
        &self,
        user: &User,
        updated: User,
        outcome: &'static str,
    ) -> Result<User> {
        let saved = self.save_user(user, updated, Batch::new()).await?;
        let admin = Client::internal();
        self.security_event(Event::PermissionChanged, Some(user.id), &admin, outcome);
        Ok(saved)
    }

    /// Disables a user and ends all their sessions; they can no longer sign in anywhere.
    #[tracing::instrument(name = "disable", skip_all)]
    pub async fn disable(&self, user: &User) -> Result<User> {
        self.disable_as(user, &Client::internal(), Batch::new())
            .await?
            .ok_or(Error::Unavailable)
    }

    /// `None` when the user changed since it was read (nothing written).
    async fn disable_as(&self, user: &User, client: &Client, extra: Batch) -> Result<Option<User>> {
        let mut updated = user.clone();
        updated.status = Status::Disabled;
        updated.session_epoch += 1;
        let saved = self.save_user_unless_changed(user, updated, extra).await?;
        if saved.is_some() {
            self.security_event(Event::UserDisabled, Some(user.id), client, "disabled");
        }
        Ok(saved)
    }

    /// A user disabling their own account: the token's owner must be the account whose
    /// password is given.
    #[tracing::instrument(name = "disable_self", skip_all)]
    pub async fn disable_self(
        &self,
        principal: &Principal,
        account: &Account,
        password: &Password,
        client: &Client,
    ) -> Result<User> {
        for _ in 0..super::SETTLE_TRIES {
            let user = self
                .reconfirmed(Some(principal), account, password, client)
                .await?;
            let cleared = Batch::of(self.clear_failures(user.id), Error::Unavailable);
            if let Some(saved) = self.disable_as(&user, client, cleared).await? {
                return Ok(saved);
            }
        }
        Err(Error::Unavailable)
    }

    async fn holder(&self, principal: &Principal, permission: &'static str) -> Result<User> {
        let user = self
            .user(principal.user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        // A permission is used only at the strength the account can reach: with a proven
        // mobile, a password alone is not enough.
        if !user.is_active() || !self.assured_enough(principal, &user) {
            return Err(Error::Unauthenticated);
        }
        if !user.has(permission) {
            return Err(Error::MissingPermission(permission));
        }
        Ok(user)
    }

    /// Whether `principal` may use `permission`, on its own: for answering a request that is
    /// refused anyway in the order its original checked (the permission before the parameters).
    pub async fn authorize(&self, principal: &Principal, permission: &'static str) -> Result<()> {
        self.holder(principal, permission).await.map(|_| ())
    }

    #[tracing::instrument(name = "create_user_as", skip_all)]
    pub async fn create_user_as(&self, principal: &Principal, new: NewUser) -> Result<User> {
        self.holder(principal, Permission::USER_CREATE).await?;
        self.admin_create_user(new).await
    }

    /// A user's login records for a holder of the audit permission, the user named by a
    /// polyauth id or an original's string id; `None` for no such user.
    #[tracing::instrument(name = "login_records_by", skip_all)]
    pub async fn login_records_by(
        &self,
        principal: &Principal,
        user: &super::LegacyId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<(User, Vec<LoginRecord>)>> {
        self.holder(principal, Permission::USER_AUDIT).await?;
        let found = match user {
            super::LegacyId::Number(n) => self.user(UserId(*n)).await?,
            super::LegacyId::Text(t) => self.user_by_legacy_id(t).await?,
        };
        let Some(found) = found else {
            return Ok(None);
        };
        let records = self.login_records(found.id, after, limit).await?;
        Ok(Some((found, records)))
    }
}

#[cfg(test)]
mod tests;
