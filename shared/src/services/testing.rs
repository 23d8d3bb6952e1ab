//! A core wired to an in-memory store, the outbox and a clock tests move.

use super::{Auth, NewUser};
use crate::{
    clock::ManualClock, config::Config, domain::Password, sender::Outbox, store::Embedded,
};
use std::sync::Arc;

pub(crate) use crate::{store::Store, Error};

pub(crate) struct Harness {
    pub auth: Auth,
    pub clock: Arc<ManualClock>,
    pub store: Arc<Embedded>,
    pub outbox: Outbox,
}

pub(crate) fn harness() -> Harness {
    harness_with(Config::for_tests())
}

/// A harness over `config` (tests of limits tighten the generous test defaults).
pub(crate) fn harness_with(config: Config) -> Harness {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let store = Arc::new(Embedded::in_memory(clock.clone()));
    let outbox = Outbox::new(clock.clone());
    let auth = Auth::new(
        config,
        store.clone(),
        Arc::new(outbox.clone()),
        clock.clone(),
    );
    Harness {
        auth,
        clock,
        store,
        outbox,
    }
}

pub(crate) fn new_email(email: &str, password: &str) -> NewUser {
    NewUser {
        email: Some(crate::domain::Email::parse(email).unwrap()),
        password: Some(Password::attempt(password).unwrap()),
        ..Default::default()
    }
}

/// The code subject of an email address.
pub(crate) fn subject(email: &str) -> crate::schema::CodeSubject {
    let email = crate::domain::Email::parse(email).unwrap();
    crate::schema::CodeSubject::of(&crate::domain::Account::Email(email))
}

impl Harness {
    /// The code in the newest message sent to `to`.
    pub fn last_code(&self, to: &str) -> String {
        self.outbox.last_code(to)
    }

    /// The reset token in the newest link mailed to `to`.
    pub fn last_reset_token(&self, to: &str) -> String {
        self.outbox.last_reset_token(to)
    }
}
