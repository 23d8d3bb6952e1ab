//! A core wired to an in-memory store, the outbox and a clock tests move, built by
//! `Harness::builder()` (or `harness()` for the default world).

use super::{Attempt, Auth, Client, Dialect, NewUser, SessionSpec, SignedIn};
use crate::{
    app::testing::TestApp,
    clock::ManualClock,
    config::Config,
    domain::Password,
    sender::{Outbox, Sender},
    store::Embedded,
};
use std::sync::Arc;

pub(crate) use crate::{store::Store, Error};

pub(crate) struct Harness {
    pub auth: Auth,
    pub clock: Arc<ManualClock>,
    pub store: Arc<Embedded>,
    pub outbox: Outbox,
}

/// The default world: the test configuration, an in-memory store, the outbox as the sender.
pub(crate) fn harness() -> Harness {
    Harness::builder().build()
}

/// How a test's world is put together. Whatever is not set is the default: the test
/// configuration, a manual clock at 1 700 000 000, a new in-memory store the core uses
/// directly, and a new outbox that is also the sender.
#[derive(Default)]
pub(crate) struct HarnessBuilder {
    config: Option<Config>,
    clock: Option<Arc<ManualClock>>,
    store: Option<OpenStore>,
    store_through: Option<Arc<dyn Store>>,
    outbox: Option<Outbox>,
    sender: Option<WrapOutbox>,
}

/// Opens the harness's store on its clock.
type OpenStore = Box<dyn FnOnce(Arc<ManualClock>) -> Arc<Embedded>>;
/// Makes the core's sender of the harness's outbox.
type WrapOutbox = Box<dyn FnOnce(&Outbox) -> Arc<dyn Sender>>;

impl Harness {
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    /// A second core beside this one whose store calls are counted (the store underneath is
    /// this harness's, so each core sees what the other writes).
    pub fn counted_core(&self) -> (Auth, Arc<crate::store::failing::FailFrom<Embedded>>) {
        let counting = Arc::new(crate::store::failing::FailFrom::new(
            self.store.as_ref().clone(),
            usize::MAX,
        ));
        let auth = Harness::builder()
            .beside(self)
            .store_through(counting.clone())
            .build()
            .auth;
        (auth, counting)
    }

    /// The code in the newest message sent to `to`.
    pub fn last_code(&self, to: &str) -> String {
        self.outbox.last_code(to)
    }

    /// The reset token in the newest link mailed to `to`.
    pub fn last_reset_token(&self, to: &str) -> String {
        self.outbox.last_reset_token(to)
    }
}

impl HarnessBuilder {
    /// The configuration instead of `Config::for_tests()` (tests of limits tighten its
    /// generous defaults).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// The store opened by `open` on the harness's clock instead of a new in-memory one (a
    /// store on file).
    pub fn store(mut self, open: impl FnOnce(Arc<ManualClock>) -> Embedded + 'static) -> Self {
        self.store = Some(Box::new(move |clock| Arc::new(open(clock))));
        self
    }

    /// The core reaches the harness's store through `store`, a wrapper around it (one that
    /// counts or fails calls); the harness's `store` stays the store underneath.
    pub fn store_through(mut self, store: Arc<dyn Store>) -> Self {
        self.store_through = Some(store);
        self
    }

    /// `sender` delivers the core's messages instead of the outbox (which stays empty).
    pub fn sender(self, sender: Arc<dyn Sender>) -> Self {
        self.sender_over_outbox(move |_| sender)
    }

    /// The sender `wrap` makes of the harness's outbox (one that delivers there, but not
    /// everything the outbox would).
    pub fn sender_over_outbox(
        mut self,
        wrap: impl FnOnce(&Outbox) -> Arc<dyn Sender> + 'static,
    ) -> Self {
        self.sender = Some(Box::new(wrap));
        self
    }

    /// Another core beside `other`'s: the same clock, store and outbox, as two instances of
    /// one deployment share them.
    pub fn beside(mut self, other: &Harness) -> Self {
        self.clock = Some(other.clock.clone());
        let store = other.store.clone();
        self.store = Some(Box::new(move |_| store));
        self.outbox = Some(other.outbox.clone());
        self
    }

    pub fn build(self) -> Harness {
        let clock = self
            .clock
            .unwrap_or_else(|| Arc::new(ManualClock::new(1_700_000_000)));
        let store = match self.store {
            Some(open) => open(clock.clone()),
            None => Arc::new(Embedded::in_memory(clock.clone())),
        };
        let outbox = self.outbox.unwrap_or_else(|| Outbox::new(clock.clone()));
        let sender: Arc<dyn Sender> = match self.sender {
            Some(wrap) => wrap(&outbox),
            None => Arc::new(outbox.clone()),
        };
        let auth = Auth::new(
            self.config.unwrap_or_else(Config::for_tests),
            self.store_through.unwrap_or_else(|| store.clone()),
            sender,
            clock.clone(),
        );
        Harness {
            auth,
            clock,
            store,
            outbox,
        }
    }

    /// The whole app over the harness, driven through its router.
    pub fn app(self) -> TestApp {
        TestApp::over(self.build())
    }
}

pub(crate) fn new_email(email: &str, password: &str) -> NewUser {
    NewUser {
        email: Some(crate::domain::Email::parse(email).unwrap()),
        password: Some(Password::attempt(password).unwrap()),
        ..Default::default()
    }
}

/// A sender whose service cannot be reached: every message fails.
pub(crate) struct Down;

#[async_trait::async_trait]
impl crate::sender::Sender for Down {
    async fn send(
        &self,
        _: &crate::sender::Message,
    ) -> std::result::Result<(), crate::sender::SendError> {
        Err(crate::sender::SendError("unreachable".into()))
    }

    fn supports_voice(&self) -> bool {
        false
    }
}

/// The code subject of an email address.
pub(crate) fn subject(email: &str) -> crate::schema::CodeSubject {
    let email = crate::domain::Email::parse(email).unwrap();
    crate::schema::CodeSubject::of(&crate::domain::Account::Email(email))
}

pub(crate) fn client() -> Client {
    Client::new("127.0.0.1".parse().ok(), "test".into())
}

/// Sessions opened as seed 002's clients open them.
pub(crate) fn spec() -> SessionSpec {
    SessionSpec {
        dialect: Some(Dialect::ApiV1),
        ..Default::default()
    }
}

pub(crate) fn pw(s: &str) -> Password {
    Password::attempt(s).unwrap()
}

/// Registers `email` with the password `secret1` and signs it in.
pub(crate) async fn signed_in(t: &Harness, email: &str) -> SignedIn {
    t.auth
        .register(new_email(email, "secret1"), None, &client())
        .await
        .unwrap();
    signed_in_as(t, email, "secret1").await
}

pub(crate) async fn signed_in_as(t: &Harness, email: &str, password: &str) -> SignedIn {
    let account = t.auth.account(email).unwrap();
    t.auth
        .password_login(Attempt::new(&account, &pw(password), &client()), &spec())
        .await
        .unwrap()
}
