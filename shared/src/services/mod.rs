//! Use cases. `Auth` is the one handle every dialect holds; each module here adds the methods
//! of one use case to it. Services take domain types and return domain results: no HTTP here.
//! Each use case a dialect calls is a tracing span of its name, so the store and sender calls
//! and the security events inside it say which use case they served. Where each item lives in
//! the table is `crate::schema`'s business, not a service's.

mod admin;
mod audit;
mod batch;
mod captcha;
mod codes;
mod equalizer;
mod import;
mod keyring;
pub mod legacy_hash;
mod limits;
mod login;
mod messages;
mod passwords;
mod registration;
mod reset;
mod second_factor;
mod security;
mod sessions;
mod throttle;
pub mod tokens;
mod users;

pub use crate::domain::Dialect;
pub use crate::schema::LoginRecord;
pub use captcha::Challenge;
pub use codes::{CodeCheck, IssuedCode, Purpose};
pub use import::{BadField, ImportLine, ImportedUser, LegacyId, Outcome};
pub use keyring::{Rotation, DEFAULT_ACTIVATION_DELAY};
pub use login::{AppSession, Attempt, LoginStep, SignedIn, UnknownAccount};
pub use passwords::Hasher;
pub use registration::NewUser;
pub use reset::RESETS_PER_DAY;
pub use second_factor::{PendingId, PENDING_TTL};
pub use sessions::{Aal, Principal, SessionSpec, Tokens, LONGEST_ACCESS_TTL};
pub use throttle::Gate;
pub use tokens::AccessClaims;

use crate::{
    clock::Clock,
    config::Config,
    domain::{Account, ParseError, Phone},
    sender::Sender,
    store::Store,
};
use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
};

/// How many times a use case that checks a user and then saves it runs when its save keeps
/// losing to concurrent changes of that user (`Auth::save_user_unless_changed`): each run reads
/// what won, so a double submit gets the answer the second of two sequential requests gets.
const SETTLE_TRIES: usize = 3;

/// Who is calling: the address every per-address limit counts and the login audit records.
/// Resolved by the HTTP edge (`http::identify`); an internal caller (an admin command) has no
/// address, and no per-address limit applies to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Client {
    pub address: Option<IpAddr>,
    pub user_agent: String,
    /// The dialect the request came through, for security events.
    pub dialect: Option<Dialect>,
    /// The service acting on its own behalf (an admin command, a send the use case already
    /// counted): no per-address limit applies.
    pub internal: bool,
}

impl Client {
    pub fn new(address: Option<IpAddr>, user_agent: String) -> Self {
        Client {
            address,
            user_agent,
            dialect: None,
            internal: false,
        }
    }

    /// The service itself, for admin commands and nested use cases.
    pub fn internal() -> Self {
        Client {
            internal: true,
            ..Client::default()
        }
    }

    /// The address as the audit shows it.
    pub fn ip(&self) -> String {
        self.address.map(|a| a.to_string()).unwrap_or_default()
    }

    /// The bucket per-address limits count in: an IPv4 address, or the /64 of an IPv6 one
    /// (one subscriber's network, which a client can hop around freely); requests whose address
    /// could not be read share one bucket. `None` for the service itself.
    pub fn bucket(&self) -> Option<String> {
        if self.internal {
            return None;
        }
        let Some(address) = self.address else {
            return Some("unknown".into());
        };
        match address {
            IpAddr::V4(v4) => Some(v4.to_string()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Some(v4.to_string()),
                None => {
                    let s = v6.segments();
                    Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
                }
            },
        }
    }
}

/// How a login happened, as written in the audit record's `login_type`: seed 000's original
/// values for the steps it had (`password-succ`, `password-sms`, `sms-succ`), polyauth's own
/// for the logins only other dialects have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginType {
    Password,
    /// A right password whose login continues with an SMS code (a record of its own).
    PasswordSms,
    Code,
    SecondFactor,
    Register,
    ResetPassword,
}

impl LoginType {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginType::Password => "password-succ",
            LoginType::PasswordSms => "password-sms",
            LoginType::Code => "code-succ",
            LoginType::SecondFactor => "sms-succ",
            LoginType::Register => "register",
            LoginType::ResetPassword => "reset-password",
        }
    }
}

#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    config: Config,
    store: Arc<dyn Store>,
    sender: Arc<dyn Sender>,
    clock: Arc<dyn Clock>,
    hasher: Hasher,
    keys: tokens::Keys,
    profiles: tokens::Profiles,
    keyring: keyring::Keyring,
    /// Who-am-I answers kept while the store vouches for them.
    seen: sessions::seen::Seen,
    ulids: Mutex<ulid::Generator>,
    /// Seed 000's reset links and seed 002's reset codes answer alike for unknown emails.
    reset_link_timing: equalizer::Equalizer,
    reset_code_timing: equalizer::Equalizer,
}

impl Auth {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        sender: Arc<dyn Sender>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let keys = tokens::Keys::derive(&config.secret);
        let profiles = tokens::Profiles::new(&config.tokens, &config.issuer);
        let hasher = Hasher::with_queue(config.limits.hash_queue_per_core);
        Auth(Arc::new(Inner {
            config,
            store,
            sender,
            clock,
            hasher,
            keys,
            profiles,
            keyring: Default::default(),
            seen: sessions::seen::Seen::new(),
            ulids: Mutex::new(ulid::Generator::new()),
            reset_link_timing: Default::default(),
            reset_code_timing: Default::default(),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn now(&self) -> i64 {
        self.0.clock.now()
    }

    /// Parses an identifier with the configured default country code.
    pub fn account(&self, raw: &str) -> Result<Account, ParseError> {
        Account::parse(raw, &self.0.config.default_country_code)
    }

    pub fn account_named(&self, raw: &str) -> Result<Option<Account>, ParseError> {
        Account::named(raw, &self.0.config.default_country_code)
    }

    pub fn contact(&self, raw: &str) -> Result<Account, ParseError> {
        Account::parse_contact(raw, &self.0.config.default_country_code)
    }

    pub fn phone(&self, raw: &str) -> Result<Phone, ParseError> {
        Phone::parse(raw, &self.0.config.default_country_code)
    }

    /// A phone as clients of this deployment expect to see it.
    pub fn show_phone(&self, phone: &Phone) -> String {
        phone.display(&self.0.config.default_country_code)
    }

    pub fn hasher(&self) -> &Hasher {
        &self.0.hasher
    }

    fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }
}

#[cfg(test)]
pub(crate) mod testing;
