//! Use cases. `Auth` is the one handle every dialect holds; each module here adds the methods
//! of one use case to it. Services take domain types and return domain results: no HTTP here.

mod admin;
mod audit;
mod batch;
mod captcha;
mod codes;
mod import;
pub mod legacy_hash;
mod login;
mod messages;
mod passwords;
mod registration;
mod reset;
mod second_factor;
mod sessions;
mod throttle;
pub mod tokens;
mod users;

pub use audit::LoginRecord;
pub use captcha::Challenge;
pub use codes::{CodeCheck, IssuedCode, Purpose};
pub use import::{BadField, ImportLine, ImportedUser, LegacyId, Outcome};
pub use login::{LoginStep, SignedIn, UnknownAccount};
pub use passwords::Hasher;
pub use registration::NewUser;
pub use reset::RESETS_PER_DAY;
pub use second_factor::{PendingId, PENDING_TTL};
pub use sessions::{Dialect, Principal, SessionSpec, Tokens};
pub use throttle::Gate;
pub use tokens::AccessClaims;

use crate::{
    clock::Clock,
    config::Config,
    domain::{Account, ParseError, Phone},
    sender::Sender,
    store::Store,
};
use std::sync::{Arc, Mutex};

/// Who is calling, for the login audit. Filled by the HTTP edge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
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
    ulids: Mutex<ulid::Generator>,
}

impl Auth {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        sender: Arc<dyn Sender>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let keys = tokens::Keys::derive(&config.secret);
        Auth(Arc::new(Inner {
            config,
            store,
            sender,
            clock,
            hasher: Hasher::new(),
            keys,
            ulids: Mutex::new(ulid::Generator::new()),
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
#[cfg(test)]
mod tests;
