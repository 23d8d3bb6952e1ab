//! Creating users. Uniqueness of every identifier and the spending of the authorising code are
//! one conditional transaction with the user item: two racing registrations of one email end
//! with exactly one user, and a failed registration leaves nothing behind.

use super::{batch::Batch, codes::CodeCheck, users, Auth};
use crate::{
    domain::{
        Account, Email, Password, Permission, Phone, Profile, Status, User, UserId, Username,
    },
    schema,
    store::{Item, Lifetime, Write},
    Error, Result,
};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: Option<Email>,
    pub mobile: Option<Phone>,
    pub username: Option<Username>,
    /// `None` sets a random password nobody knows (accounts created by an administrator, or by
    /// a code login, until the user resets it).
    pub password: Option<Password>,
    pub profile: Profile,
    pub permissions: BTreeSet<Permission>,
}

/// What a new password must not contain: the email's name, the mobile's digits, the username.
pub(crate) fn identifiers_of(accounts: &[Account]) -> Vec<String> {
    let mut out = Vec::new();
    for account in accounts {
        match account {
            Account::Email(e) => {
                out.push(e.as_str().split('@').next().unwrap_or_default().to_string());
            }
            Account::Mobile(m) => {
                let digits = m.e164().trim_start_matches('+');
                out.push(digits.to_string());
                let tail = digits.len().saturating_sub(8);
                out.push(digits.get(tail..).unwrap_or(digits).to_string());
            }
            Account::Username(u) => out.push(u.as_str().to_string()),
        }
    }
    out
}

impl NewUser {
    /// A user known only by the email or mobile a code was sent to.
    pub fn of_contact(account: &crate::domain::Account) -> NewUser {
        use crate::domain::Account;
        NewUser {
            email: match account {
                Account::Email(e) => Some(e.clone()),
                _ => None,
            },
            mobile: match account {
                Account::Mobile(m) => Some(m.clone()),
                _ => None,
            },
            ..Default::default()
        }
    }
}

impl Auth {
    /// A fresh user id from the store's counter (above every imported id).
    pub(crate) async fn next_user_id(&self) -> Result<UserId> {
        let n = self
            .store()
            .increment(&schema::user_ids(), 1, Lifetime::Forever)
            .await?;
        Ok(UserId(u64::try_from(n).map_err(|_| Error::Unavailable)?))
    }

    /// Registers a user; the registration counts against the caller's address.
    #[tracing::instrument(name = "register", skip_all)]
    pub async fn register(
        &self,
        new: NewUser,
        code: Option<CodeCheck>,
        client: &super::Client,
    ) -> Result<User> {
        self.limit(super::limits::Limit::Registrations, client)
            .await?;
        let (user, ()) = self
            .create_user(new, code, |_| Ok((Batch::new(), ())))
            .await?;
        Ok(user)
    }

    /// Registers, spending `code`, together with the writes `then` makes for the new user (its
    /// first session, say), all in one transaction.
    pub(crate) async fn create_user<T>(
        &self,
        new: NewUser,
        code: Option<CodeCheck>,
        then: impl FnOnce(&User) -> Result<(Batch, T)>,
    ) -> Result<(User, T)> {
        if new.email.is_none() && new.mobile.is_none() && new.username.is_none() {
            return Err(Error::invalid(
                "account",
                "an email, mobile or username is required",
            ));
        }
        let password = new.password.clone().unwrap_or_else(Password::random);
        password
            .vet(&identifiers_of(&users::accounts_of(
                &new.email,
                &new.mobile,
                &new.username,
            )))
            .map_err(|_| Error::WeakPassword)?;
        let password_hash = self.0.hasher.hash(&password).await?;
        let id = self.next_user_id().await?;
        let mut profile = new.profile;
        if profile.nickname.is_empty() {
            profile.nickname = match (&new.mobile, &new.email, &new.username) {
                (Some(m), _, _) => m.masked(&self.config().default_country_code),
                (None, Some(e), _) => e.masked(),
                (None, None, Some(u)) => u.as_str().to_string(),
                (None, None, None) => String::new(),
            };
        }
        let proven = |key: &str| code.as_ref().is_some_and(|c| c.account == key);
        let mobile_confirmed = new.mobile.as_ref().is_some_and(|m| proven(m.e164()));
        let mut unproven = std::collections::BTreeSet::new();
        if new.email.as_ref().is_some_and(|e| !proven(e.as_str())) {
            unproven.insert(crate::domain::Contact::Email);
        }
        if new.mobile.is_some() && !mobile_confirmed {
            unproven.insert(crate::domain::Contact::Mobile);
        }
        let user = User {
            id,
            email: new.email,
            mobile: new.mobile,
            username: new.username,
            profile,
            status: Status::Active,
            permissions: new.permissions,
            password_hash,
            created_at: self.now(),
            legacy_id: None,
            mobile_confirmed,
            unproven,
            session_epoch: 0,
            version: 1,
        };
        let mut batch = Batch::new();
        // The id comes from the counter: nobody else holds it.
        batch.push(Write::put_new(Item::of(schema::user(id), &user, None)?));
        for a in users::accounts(&user) {
            batch.add(
                users::claim(&a, id)?,
                Error::AlreadyExists { field: a.field() },
            );
        }
        // A name claimed before names were compared case-insensitively keeps its case: the
        // same spelling is taken too.
        if let Some(u) = user.username.as_ref().filter(|u| u.folded() != u.as_str()) {
            batch.add(
                Write::Check {
                    key: schema::unique_username_as_spelled(u),
                    cond: crate::store::Condition::NotExists,
                },
                Error::AlreadyExists { field: "username" },
            );
        }
        if let Some(c) = code {
            batch.add(c.consume, Error::CodeInvalid);
        }
        let (extra, out) = then(&user)?;
        batch.append(extra);
        batch.commit(self.store()).await?;
        Ok((user, out))
    }
}

impl Auth {
    /// Registers, spending `code`, and opens the new user's first session in the same
    /// transaction (seed 003 answers a token on registration).
    #[tracing::instrument(name = "register_and_sign_in", skip_all)]
    pub async fn register_and_sign_in(
        &self,
        new: NewUser,
        code: Option<CodeCheck>,
        spec: &super::SessionSpec,
        client: &super::Client,
    ) -> Result<super::SignedIn> {
        self.limit(super::limits::Limit::Registrations, client)
            .await?;
        let keys = self.keyset().await?;
        let (user, tokens) = self
            .create_user(new, code, |user| {
                self.open_session(&keys, user, spec, super::LoginType::Register, client)
            })
            .await?;
        super::sessions::signed_in_metric(spec);
        Ok(super::SignedIn {
            user,
            tokens,
            is_new: true,
        })
    }
}

impl Auth {
    /// Registers `new` under `account` with a registration code, or, when the account already
    /// exists, signs its user in with that code instead (seed 003's original did so; the
    /// password sent is then ignored, so `new` may be the reason it could not be built, which
    /// only a new account answers). `is_new` tells the two apart.
    #[tracing::instrument(name = "register_or_sign_in", skip_all)]
    pub async fn register_or_sign_in(
        &self,
        new: Result<NewUser>,
        account: &crate::domain::Account,
        code: CodeCheck,
        spec: &super::SessionSpec,
        client: &super::Client,
    ) -> Result<super::SignedIn> {
        let Some(user) = self.find_user(account).await? else {
            return self
                .register_and_sign_in(new?, Some(code), spec, client)
                .await;
        };
        if !user.is_active() {
            return Err(Error::Disabled);
        }
        self.sign_in_by_code(user, code, Batch::new(), spec, client)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::testing::*;

    #[tokio::test]
    async fn registers_with_unique_identifiers_and_default_nickname() {
        let t = harness();
        let u = t
            .auth
            .register(
                new_email("a@x.com", "secret1"),
                None,
                &crate::services::Client::default(),
            )
            .await
            .unwrap();
        assert_eq!(u.profile.nickname, "a***@x.com");
        let again = t
            .auth
            .register(
                new_email("A@X.com", "secret2"),
                None,
                &crate::services::Client::default(),
            )
            .await;
        assert_eq!(again.unwrap_err(), Error::AlreadyExists { field: "email" });
        let m = NewUser {
            mobile: Some(t.auth.phone("13312341234").unwrap()),
            ..Default::default()
        };
        let u2 = t
            .auth
            .register(m, None, &crate::services::Client::default())
            .await
            .unwrap();
        assert_eq!(u2.profile.nickname, "133****1234");
        assert!(u2.id.0 > u.id.0);
        let found = t
            .auth
            .find_user(&t.auth.account("a@x.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, u.id);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hundred_concurrent_registrations_make_one_user() {
        let t = harness();
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let auth = t.auth.clone();
                tokio::spawn(async move {
                    auth.register(
                        new_email("race@x.com", "secret1"),
                        None,
                        &crate::services::Client::default(),
                    )
                    .await
                })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e, Error::AlreadyExists { field: "email" }),
            }
        }
        assert_eq!(ok, 1);
    }

    #[tokio::test]
    async fn usernames_are_one_account_across_case_and_width() {
        let t = harness();
        let new = NewUser {
            username: Some(crate::domain::Username::parse("Alice", Default::default()).unwrap()),
            password: Some(pw("secret1")),
            ..Default::default()
        };
        let alice = t.auth.register(new, None, &client()).await.unwrap();
        for other in ["alice", "ＡＬＩＣＥ"] {
            let a = t.auth.account(other).unwrap();
            assert_eq!(
                t.auth.find_user(&a).await.unwrap().map(|u| u.id),
                Some(alice.id)
            );
            let again = NewUser {
                username: Some(crate::domain::Username::parse(other, Default::default()).unwrap()),
                password: Some(pw("secret1")),
                ..Default::default()
            };
            assert!(matches!(
                t.auth.register(again, None, &client()).await,
                Err(Error::AlreadyExists { .. })
            ));
        }
    }
}
