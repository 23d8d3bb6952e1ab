//! Creating users. Uniqueness of every identifier and the spending of the authorising code are
//! one conditional transaction with the user item: two racing registrations of one email end
//! with exactly one user, and a failed registration leaves nothing behind.

use super::{
    batch::{Batch, Claimed},
    codes::{CodeCheck, Purpose},
    limits::Limit,
    throttle::Suspect,
    users, Auth, Client, Gate,
};
use crate::{
    domain::{
        Account, Code, Email, Password, Permission, Phone, Profile, Status, User, UserId, Username,
    },
    schema::{self, CodeSubject},
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

/// Where a new user's id comes from: the store's counter, above every imported id.
pub(crate) enum NewId {
    /// The counter's next, taken on its own (one increment).
    Next,
    /// One past the counter as it was read, claimed in the user's own transaction; when
    /// another registration claimed it first, the counter's next after all.
    After(i64),
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
        // The id is claimed in the user's own transaction, so a registration refused there (a
        // taken identifier) takes no id, as the originals' `exists()` checks took none.
        let counter = self.store().get(&schema::user_ids()).await?;
        let id = NewId::After(counter.map_or(0, |c| c.count()));
        let (user, ()) = self
            .create_user(new, code, id, |_| Ok((Batch::new(), ())))
            .await?;
        Ok(user)
    }

    /// Registers with a code sent to `account` for registration.
    #[tracing::instrument(name = "register_with_code", skip_all)]
    pub async fn register_with_code(
        &self,
        new: NewUser,
        account: &Account,
        code: &Code,
        client: &Client,
    ) -> Result<User> {
        let (check, id) = self.registration_code(account, code, client).await?;
        let (user, ()) = self
            .create_user(new, Some(check), id, |_| {
                let mut counted = Batch::new();
                counted.limit(self.limit_write(Limit::Registrations, client));
                Ok((counted, ()))
            })
            .await?;
        Ok(user)
    }

    /// A registration code checked, and where the new user's id is to come from; the
    /// address's registration is for the user's own transaction to count. The usual case is
    /// one read and one transaction: the codes read with the id counter, the address's attempt
    /// counted with the codes' tries; the user is then written under the id after the counter
    /// as read. Any other case is `check_code_for`'s, one count at a time.
    async fn registration_code(
        &self,
        account: &Account,
        code: &Code,
        client: &Client,
    ) -> Result<(CodeCheck, NewId)> {
        let subject = CodeSubject::of(account);
        let at_once = self
            .code_checked_at_once(
                Purpose::Register,
                &subject,
                code,
                &[Limit::Attempts],
                client,
                schema::user_ids(),
            )
            .await?;
        if let Some((check, counter)) = at_once {
            return Ok((check, NewId::After(counter.map_or(0, |c| c.count()))));
        }
        let check = self
            .check_code_for(Purpose::Register, account, code, client)
            .await?;
        Ok((check, NewId::Next))
    }

    /// Registers, spending `code`, together with the writes `then` makes for the new user (its
    /// first session, say), all in one transaction. `then` runs again if the id claimed as
    /// `id` says was taken meanwhile (nothing was written then).
    pub(crate) async fn create_user<T>(
        &self,
        new: NewUser,
        code: Option<CodeCheck>,
        id: NewId,
        then: impl Fn(&User) -> Result<(Batch, T)>,
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
        let (id, mut claim) = match id {
            NewId::Next => (self.next_user_id().await?, None),
            NewId::After(n) => {
                let next = n.checked_add(1).and_then(|next| u64::try_from(next).ok());
                (UserId(next.ok_or(Error::Unavailable)?), Some(n))
            }
        };
        let mut profile = new.profile;
        // A display name given under another dialect's word (pauli's `name`, an admin's
        // `--name`) is the nickname too; the masked account only stands in for none.
        if profile.nickname.is_empty() && !profile.name.is_empty() {
            profile.nickname = profile.name.clone();
        }
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
        let mut user = User {
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
        loop {
            let mut batch = Batch::new();
            let item = Write::put_new(Item::of(schema::user(user.id), &user, None)?);
            match claim {
                // The counter first: when it moved on, it says why the user's item fails too.
                Some(n) => {
                    let id = Write::count_within(schema::user_ids(), Lifetime::Forever, n + 1);
                    batch.claim(id);
                    batch.claim(item);
                }
                // The id comes from the counter: nobody else holds it.
                None => batch.push(item),
            }
            batch.append(identity_writes(&user, code.as_ref())?);
            let (extra, out) = then(&user)?;
            batch.append(extra);
            let committed = batch.commit_claiming(self.store()).await;
            match (committed, claim.take()) {
                (Ok(Claimed::Committed), _) => return Ok((user, out)),
                // Another registration took the id, or the counter was too contended to claim
                // (a store that stays down fails the increment too).
                (Ok(Claimed::Lost) | Err(Error::Unavailable), Some(_)) => {
                    user.id = self.next_user_id().await?;
                }
                (Ok(Claimed::Lost), None) => return Err(Error::Unavailable),
                (Err(e), _) => return Err(e),
            }
        }
    }
}

/// The claims of a new user's identifiers and the spending of its code.
fn identity_writes(user: &User, code: Option<&CodeCheck>) -> Result<Batch> {
    let mut batch = Batch::new();
    for a in users::accounts(user) {
        batch.add(
            users::claim(&a, user.id)?,
            Error::AlreadyExists { field: a.field() },
        );
    }
    // A name claimed before names were compared case-insensitively keeps its case: the same
    // spelling is taken too.
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
        batch.add(c.consume.clone(), Error::CodeInvalid);
    }
    Ok(batch)
}

impl Auth {
    /// Registers `new` under `account` with a registration code, or, when the account already
    /// exists, signs its user in with that code instead (seed 003's original did so; the
    /// password sent is then ignored, so `new` may be the reason it could not be built, which
    /// only a new account answers). A new user's first session is opened in the same
    /// transaction (seed 003 answers a token on registration); `is_new` tells the two apart.
    #[tracing::instrument(name = "register_or_sign_in", skip_all)]
    pub async fn register_or_sign_in(
        &self,
        new: Result<NewUser>,
        account: &Account,
        code: &Code,
        spec: &super::SessionSpec,
        client: &Client,
    ) -> Result<super::SignedIn> {
        let user = match self.find_user(account).await? {
            Some(user) => user,
            None => match self.register_new(new, account, code, spec, client).await {
                // Another request made the account meanwhile (the same registration twice, or
                // a code login): sign in to it, as this request would have a moment later.
                Err(Error::AlreadyExists { field }) => self
                    .find_user(account)
                    .await?
                    .ok_or(Error::AlreadyExists { field })?,
                done => return done,
            },
        };
        self.sign_in_registered(user, account, code, spec, client)
            .await
    }

    /// `register_or_sign_in` for an account nobody holds.
    async fn register_new(
        &self,
        new: Result<NewUser>,
        account: &Account,
        code: &Code,
        spec: &super::SessionSpec,
        client: &Client,
    ) -> Result<super::SignedIn> {
        let (check, id) = self.registration_code(account, code, client).await?;
        let keys = self.keyset().await?;
        let (user, tokens) = self
            .create_user(new?, Some(check), id, |user| {
                let (mut batch, tokens) =
                    self.open_session(&keys, user, spec, super::LoginType::Register, client)?;
                batch.limit(self.limit_write(Limit::Registrations, client));
                Ok((batch, tokens))
            })
            .await?;
        super::sessions::signed_in_metric(spec);
        Ok(super::SignedIn {
            user,
            tokens,
            is_new: true,
        })
    }

    /// `register_or_sign_in` for an account that exists: a sign-in with the registration code.
    async fn sign_in_registered(
        &self,
        user: User,
        account: &Account,
        code: &Code,
        spec: &super::SessionSpec,
        client: &Client,
    ) -> Result<super::SignedIn> {
        // Signing in by a code is a login: behind the account's lockout, as `code_login` is.
        self.enter_gate(Suspect::User(user.id), account, &Gate::Lockout, client)
            .await?;
        let checked = self
            .check_account_code(Purpose::Register, &CodeSubject::of(account), code)
            .await;
        self.note_code_outcome(&checked, client);
        let check = checked?;
        if !user.is_active() {
            return Err(Error::Disabled);
        }
        let cleared = Batch::of(self.clear_failures(user.id), Error::Unavailable);
        self.sign_in_by_code(user, check, cleared, spec, client)
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
        assert_eq!(u.profile.nickname, "a@x****.com");
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
        // A name given (pauli's, an admin's) is the nickname, not the masked account.
        let mut named = new_email("named@x.com", "secret3");
        named.profile.name = "Dave".into();
        let u3 = t
            .auth
            .register(named, None, &crate::services::Client::default())
            .await
            .unwrap();
        assert_eq!(
            (u3.profile.name.as_str(), u3.profile.nickname.as_str()),
            ("Dave", "Dave")
        );
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

    /// A registration code sent to `email` on behalf of `caller`.
    async fn code_for(t: &Harness, email: &str, caller: &Client) -> Code {
        let account = t.auth.account(email).unwrap();
        t.auth
            .send_code(Purpose::Register, &account, caller)
            .await
            .unwrap();
        Code::parse(&t.last_code(email)).unwrap()
    }

    async fn register_by_code(
        t: &Harness,
        email: &str,
        code: &Code,
        caller: &Client,
    ) -> Result<User> {
        let account = t.auth.account(email).unwrap();
        t.auth
            .register_with_code(new_email(email, "secret-pass-1"), &account, code, caller)
            .await
    }

    #[tokio::test]
    async fn a_code_registration_takes_the_next_id_and_spends_the_code() {
        let t = harness();
        let first = t
            .auth
            .register(new_email("a@x.com", "secret1"), None, &client())
            .await
            .unwrap();
        let code = code_for(&t, "b@x.com", &client()).await;
        let b = register_by_code(&t, "b@x.com", &code, &client())
            .await
            .unwrap();
        assert_eq!(b.id.0, first.id.0 + 1);
        assert!(b.unproven.is_empty(), "the code proved the email");
        let account = t.auth.account("b@x.com").unwrap();
        assert_eq!(
            t.auth.find_user(&account).await.unwrap().map(|u| u.id),
            Some(b.id)
        );
        // The code is spent: it registers nobody else, and the next id is the counter's next.
        assert_eq!(
            register_by_code(&t, "b@x.com", &code, &client())
                .await
                .unwrap_err(),
            Error::CodeInvalid
        );
        let c = t
            .auth
            .register(new_email("c@x.com", "secret1"), None, &client())
            .await
            .unwrap();
        assert_eq!(c.id.0, b.id.0 + 1);
    }

    /// A code that is not `code`.
    fn other_than(code: &Code) -> Code {
        let digit = if code.as_str().starts_with('0') {
            "1"
        } else {
            "0"
        };
        Code::parse(&digit.repeat(6)).unwrap()
    }

    /// Four wrong codes leave the right one its last try; five void it.
    #[tokio::test]
    async fn wrong_codes_cost_tries_and_the_fifth_voids_the_code() {
        let t = harness();
        for (email, wrong_ones, registers) in [("b@x.com", 4, true), ("c@x.com", 5, false)] {
            let code = code_for(&t, email, &client()).await;
            for _ in 0..wrong_ones {
                let wrong = register_by_code(&t, email, &other_than(&code), &client()).await;
                assert_eq!(wrong.unwrap_err(), Error::CodeInvalid);
            }
            let right = register_by_code(&t, email, &code, &client()).await;
            assert_eq!(right.is_ok(), registers, "{email}: {right:?}");
        }
    }

    /// Wrong codes on the way to a registration count against the account as any others:
    /// the first four checked at once, the fifth (which voids the code) and the rest one count
    /// at a time; the tenth in a day locks code use on the account.
    #[tokio::test]
    async fn wrong_registration_codes_lock_the_account_after_ten() {
        let t = harness();
        let code = code_for(&t, "b@x.com", &client()).await;
        for _ in 0..10 {
            let wrong = register_by_code(&t, "b@x.com", &other_than(&code), &client()).await;
            assert_eq!(wrong.unwrap_err(), Error::CodeInvalid);
        }
        assert!(matches!(
            register_by_code(&t, "b@x.com", &code, &client()).await,
            Err(Error::TooManyRequests { .. })
        ));
    }

    /// An address past its attempts learns nothing of a code: the right one and a wrong one
    /// are refused alike, after the same store requests (no comparison tells them apart), and
    /// the code is still good from elsewhere.
    #[tokio::test]
    async fn an_address_past_its_attempts_learns_nothing_of_the_code() {
        use crate::store::failing::FailFrom;
        let mut config = crate::config::Config::for_tests();
        config.limits.attempts = crate::config::Rate::new(2, 300);
        let t = Harness::builder().config(config.clone()).build();
        let counting = std::sync::Arc::new(FailFrom::new(t.store.as_ref().clone(), usize::MAX));
        let through = Harness::builder()
            .config(config)
            .beside(&t)
            .store_through(counting.clone())
            .build();
        let code = code_for(&t, "b@x.com", &client()).await;
        for _ in 0..2 {
            let wrong = register_by_code(&t, "b@x.com", &other_than(&code), &client()).await;
            assert_eq!(wrong.unwrap_err(), Error::CodeInvalid);
        }
        let mut requests = Vec::new();
        for guess in [other_than(&code), code.clone()] {
            let before = counting.calls();
            let refused = register_by_code(&through, "b@x.com", &guess, &client()).await;
            assert!(matches!(refused, Err(Error::TooManyRequests { .. })));
            requests.push(counting.calls() - before);
        }
        assert_eq!(requests[0], requests[1], "store requests, wrong then right");
        let elsewhere = Client::new("192.0.2.7".parse().ok(), "test".into());
        assert!(register_by_code(&t, "b@x.com", &code, &elsewhere)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn an_address_past_its_registrations_is_refused_before_the_code_is_spent() {
        let mut config = crate::config::Config::for_tests();
        config.limits.registrations = crate::config::Rate::new(1, 3600);
        let t = Harness::builder().config(config).build();
        let one = code_for(&t, "a@x.com", &client()).await;
        register_by_code(&t, "a@x.com", &one, &client())
            .await
            .unwrap();
        let two = code_for(&t, "b@x.com", &client()).await;
        assert!(matches!(
            register_by_code(&t, "b@x.com", &two, &client()).await,
            Err(Error::TooManyRequests { .. })
        ));
        // Another address registers with the same, unspent code.
        let elsewhere = Client::new("192.0.2.7".parse().ok(), "test".into());
        assert!(register_by_code(&t, "b@x.com", &two, &elsewhere)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn an_id_another_registration_claimed_first_is_not_taken_again() {
        let t = harness();
        // Both read the counter at 0; `a` writes first under id 1.
        let a = t
            .auth
            .register(new_email("a@x.com", "secret1"), None, &client())
            .await
            .unwrap();
        assert_eq!(a.id, UserId(1));
        let (b, ()) = t
            .auth
            .create_user(
                new_email("b@x.com", "secret1"),
                None,
                NewId::After(0),
                |_| Ok((Batch::new(), ())),
            )
            .await
            .unwrap();
        assert_eq!(b.id, UserId(2));
        for (email, id) in [("a@x.com", a.id), ("b@x.com", b.id)] {
            let account = t.auth.account(email).unwrap();
            let user = t.auth.find_user(&account).await.unwrap().unwrap();
            assert_eq!(
                (user.id, user.email.unwrap().as_str().to_string()),
                (id, email.to_string())
            );
        }
        let counter = t
            .auth
            .store()
            .get(&schema::user_ids())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(counter.count(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_code_registrations_each_get_their_own_id() {
        let t = harness();
        let mut codes = Vec::new();
        for i in 0..12 {
            let email = format!("u{i}@x.com");
            let code = code_for(&t, &email, &client()).await;
            codes.push((email, code));
        }
        let tasks: Vec<_> = codes
            .into_iter()
            .map(|(email, code)| {
                let auth = t.auth.clone();
                tokio::spawn(async move {
                    let account = auth.account(&email).unwrap();
                    auth.register_with_code(
                        new_email(&email, "secret-pass-1"),
                        &account,
                        &code,
                        &client(),
                    )
                    .await
                    .map(|u| (email, u.id))
                })
            })
            .collect();
        let mut ids = BTreeSet::new();
        for task in tasks {
            let (email, id) = task.await.unwrap().unwrap();
            let account = t.auth.account(&email).unwrap();
            assert_eq!(
                t.auth.find_user(&account).await.unwrap().map(|u| u.id),
                Some(id)
            );
            ids.insert(id.0);
        }
        assert_eq!(ids, (1..=12).collect::<BTreeSet<u64>>());
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
