//! Configuration, read once from `POLYAUTH_*` environment variables (Lambda's way) with safe
//! local defaults. Production refuses the development secret and the development outbox.

mod limits;
mod tokens;
mod web;

pub use limits::{Limits, Rate};
use std::{collections::HashMap, net::SocketAddr, path::PathBuf};
pub use tokens::{ProfileChoice, Secret, TokenConfig};
pub use web::{Cookies, SameSite, Web};

/// The development JWT secret. Known to everyone, so `prod` refuses to start with it.
pub const DEV_SECRET: &str = "polyauth-development-secret-do-not-use-in-production";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Env {
    Dev,
    Prod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Embedded,
    Memory,
    DynamoDb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    Outbox,
    /// SES v2 for email, SNS for SMS, SMS-voice v2 for voice (when an origination is set).
    Aws,
}

/// The sender address used when none is configured; refused in production.
pub const DEFAULT_EMAIL_FROM: &str = "no-reply@example.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

#[derive(Clone)]
pub struct Config {
    pub env: Env,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub store: StoreKind,
    /// The DynamoDB table, when the store is `dynamodb`.
    pub table: String,
    pub sender: SenderKind,
    /// The SES identity mail is sent from, when the sender is `aws`.
    pub email_from: String,
    pub sms_sender_id: Option<String>,
    /// The origination identity of voice calls; without one, voice falls back to SMS.
    pub voice_origination: Option<String>,
    /// The root secret: hashes codes, derives refresh tokens, seals the signing keys.
    pub secret: String,
    pub issuer: String,
    pub tokens: TokenConfig,
    pub default_country_code: String,
    pub public_url: String,
    /// Where a reset link points: the front-end page that takes the token, `{code}` standing
    /// for it (seed 000's original mailed `<front-end>#/resetpwd?code=<token>`).
    pub reset_link: String,
    pub lang: Lang,
    pub sms_second_factor: bool,
    pub web: Web,
    /// CloudWatch embedded-metric lines on stdout (`POLYAUTH_METRICS=emf|off`; on by default
    /// on Lambda, off locally).
    pub metrics: bool,
    pub access_ttl: i64,
    pub refresh_ttl: i64,
    pub refresh_grace: i64,
    /// A session's absolute lifetime from its login (`POLYAUTH_SESSION_MAX_AGE`, 30 days).
    pub session_max_age: i64,
    pub limits: Limits,
    /// Live sessions a user may hold; a login past it ends the oldest
    /// (`POLYAUTH_SESSIONS_PER_USER`, 100).
    pub sessions_per_user: usize,
    /// Set by the Lambda entry point: no response ever shows a code there, whatever the stage.
    pub on_lambda: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("env", &self.env)
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("store", &self.store)
            .field("table", &self.table)
            .field("sender", &self.sender)
            .field("email_from", &self.email_from)
            .field("secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("tokens", &self.tokens)
            .field("default_country_code", &self.default_country_code)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("{var}: {reason}")]
    Bad { var: &'static str, reason: String },
    #[error("POLYAUTH_ENV=prod refuses {0}")]
    UnsafeForProd(&'static str),
}

impl Config {
    /// Reads the process environment. Call once, at start-up.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Safe defaults for tests: development mode, in-memory store, outbox.
    #[allow(clippy::expect_used, reason = "constant input that always parses")]
    pub fn for_tests() -> Self {
        let mut vars = HashMap::new();
        vars.insert("POLYAUTH_STORE".into(), "memory".into());
        let mut config = Self::from_vars(vars).expect("default test config is valid");
        config.limits = config.limits.generous();
        config
    }

    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let env = match get("POLYAUTH_ENV").as_deref() {
            None | Some("dev") => Env::Dev,
            Some("prod") => Env::Prod,
            Some(other) => {
                return Err(bad("POLYAUTH_ENV", format!("{other:?} is not dev or prod")))
            }
        };
        let addr = get("POLYAUTH_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|e| bad("POLYAUTH_ADDR", format!("{e}")))?;
        let store = match get("POLYAUTH_STORE").as_deref() {
            None | Some("embedded") => StoreKind::Embedded,
            Some("memory") => StoreKind::Memory,
            Some("dynamodb") => StoreKind::DynamoDb,
            Some(other) => {
                return Err(bad(
                    "POLYAUTH_STORE",
                    format!("{other:?} is not embedded, memory or dynamodb"),
                ))
            }
        };
        let sender = match get("POLYAUTH_SENDER").as_deref() {
            None | Some("outbox") => SenderKind::Outbox,
            Some("aws") => SenderKind::Aws,
            Some(other) => {
                return Err(bad(
                    "POLYAUTH_SENDER",
                    format!("{other:?} is not outbox or aws"),
                ))
            }
        };
        let table = get("POLYAUTH_TABLE").unwrap_or_else(|| "polyauth".into());
        let table_ok = (3..=255).contains(&table.len())
            && table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !table_ok {
            return Err(bad(
                "POLYAUTH_TABLE",
                "3 to 255 of a-z, A-Z, 0-9, _ - .".into(),
            ));
        }
        let email_from = get("POLYAUTH_EMAIL_FROM").unwrap_or_else(|| DEFAULT_EMAIL_FROM.into());
        if !email_from.contains('@') || email_from.chars().any(char::is_control) {
            return Err(bad(
                "POLYAUTH_EMAIL_FROM",
                "must be an email address".into(),
            ));
        }
        let secret = get("POLYAUTH_JWT_SECRET").unwrap_or_else(|| DEV_SECRET.into());
        if secret.len() < 32 {
            return Err(bad(
                "POLYAUTH_JWT_SECRET",
                "must be at least 32 bytes".into(),
            ));
        }
        let default_country_code =
            get("POLYAUTH_DEFAULT_COUNTRY_CODE").unwrap_or_else(|| "86".into());
        if default_country_code.is_empty()
            || default_country_code.len() > 3
            || !default_country_code.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad(
                "POLYAUTH_DEFAULT_COUNTRY_CODE",
                "1 to 3 digits, without +".into(),
            ));
        }
        let lang = match get("POLYAUTH_LANG").as_deref() {
            None | Some("zh") => Lang::Zh,
            Some("en") => Lang::En,
            Some(other) => return Err(bad("POLYAUTH_LANG", format!("{other:?} is not zh or en"))),
        };
        let public_url = get("POLYAUTH_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        let reset_link = get("POLYAUTH_RESET_LINK").unwrap_or_else(|| {
            format!(
                "{}/#/resetpwd?code={{code}}",
                public_url.trim_end_matches('/')
            )
        });
        if !reset_link.contains("{code}") || reset_link.chars().any(char::is_whitespace) {
            return Err(bad(
                "POLYAUTH_RESET_LINK",
                "a URL without spaces holding {code} where the token goes".into(),
            ));
        }
        let limits = Limits::read(&get, &default_country_code)?;
        let config = Config {
            env,
            addr,
            data_dir: get("POLYAUTH_DATA_DIR")
                .unwrap_or_else(|| ".polyauth".into())
                .into(),
            store,
            table,
            sender,
            email_from,
            sms_sender_id: get("POLYAUTH_SMS_SENDER_ID"),
            voice_origination: get("POLYAUTH_VOICE_ORIGINATION"),
            secret,
            issuer: get("POLYAUTH_JWT_ISSUER").unwrap_or_else(|| "polyauth".into()),
            tokens: TokenConfig::read(&get)?,
            default_country_code,
            public_url,
            reset_link,
            lang,
            sms_second_factor: flag(&get, "POLYAUTH_SMS_SECOND_FACTOR", true)?,
            web: Web::read(&get, env == Env::Prod)?,
            metrics: match get("POLYAUTH_METRICS").as_deref() {
                None => vars.contains_key("AWS_LAMBDA_FUNCTION_NAME"),
                Some("emf") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(bad(
                        "POLYAUTH_METRICS",
                        format!("{other:?} is not emf or off"),
                    ))
                }
            },
            access_ttl: seconds(&get, "POLYAUTH_ACCESS_TTL", 3600)?,
            refresh_ttl: seconds(&get, "POLYAUTH_REFRESH_TTL", 7 * 24 * 3600)?,
            refresh_grace: seconds(&get, "POLYAUTH_REFRESH_GRACE", 10)?,
            session_max_age: seconds(&get, "POLYAUTH_SESSION_MAX_AGE", 30 * 24 * 3600)?,
            limits,
            sessions_per_user: number(
                &get,
                "POLYAUTH_SESSIONS_PER_USER",
                100,
                |n| (1..=1000).contains(&n),
                "1 to 1000",
            )? as usize,
            on_lambda: false,
        };
        let dev_on_network = flag(&get, "POLYAUTH_DEV_ON_NETWORK", false)?;
        // Development mode shows codes and reset links to whoever asks: only to this machine,
        // unless asked for in so many words.
        if config.env == Env::Dev && !config.addr.ip().is_loopback() && !dev_on_network {
            return Err(bad(
                "POLYAUTH_ADDR",
                format!(
                    "{} is not a loopback address; development mode shows codes to every \
                     caller, so it listens on one (set POLYAUTH_DEV_ON_NETWORK=1 to override)",
                    config.addr
                ),
            ));
        }
        if config.env == Env::Prod {
            if config.secret == DEV_SECRET {
                return Err(ConfigError::UnsafeForProd("the development JWT secret"));
            }
            if config.sender == SenderKind::Outbox {
                return Err(ConfigError::UnsafeForProd(
                    "the development outbox (set POLYAUTH_SENDER)",
                ));
            }
            if config.email_from == DEFAULT_EMAIL_FROM {
                return Err(ConfigError::UnsafeForProd(
                    "the placeholder sender address (set POLYAUTH_EMAIL_FROM)",
                ));
            }
            let link_configured =
                get("POLYAUTH_RESET_LINK").is_some() || get("POLYAUTH_PUBLIC_URL").is_some();
            if link_configured && !config.reset_link.starts_with("https://") {
                return Err(ConfigError::UnsafeForProd(
                    "a reset link that is not https (POLYAUTH_RESET_LINK, POLYAUTH_PUBLIC_URL)",
                ));
            }
            if !link_configured {
                // A first deployment does not know its URL yet (the template's PublicUrl is
                // set after it): it starts, and refuses to mail a link until then.
                tracing::error!(
                    "no POLYAUTH_PUBLIC_URL or POLYAUTH_RESET_LINK: reset links are refused"
                );
            }
        }
        Ok(config)
    }

    pub fn is_dev(&self) -> bool {
        self.env == Env::Dev
    }

    /// Whether a response may show a code (seed 003's development answer): development mode,
    /// and never on Lambda.
    pub fn shows_codes(&self) -> bool {
        self.is_dev() && !self.on_lambda
    }

    /// Whether any adapter talks to AWS (so the SDK configuration is loaded).
    pub fn uses_aws(&self) -> bool {
        self.store == StoreKind::DynamoDb || self.sender == SenderKind::Aws
    }
}

fn bad(var: &'static str, reason: String) -> ConfigError {
    ConfigError::Bad { var, reason }
}

/// How the readers below take the environment: a variable's value, if set.
type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

fn flag(get: Get, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(var).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "on" | "yes") => Ok(true),
        Some("0" | "false" | "off" | "no") => Ok(false),
        Some(other) => Err(bad(var, format!("{other:?} is not true or false"))),
    }
}

/// A whole number: `default` when `var` is unset; refused, saying it is not `what`, unless
/// `accept` takes it.
fn number(
    get: Get,
    var: &'static str,
    default: i64,
    accept: impl Fn(i64) -> bool,
    what: &str,
) -> Result<i64, ConfigError> {
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|n| accept(*n))
        .ok_or_else(|| bad(var, format!("{raw:?} is not {what}")))
}

fn seconds(get: Get, var: &'static str, default: i64) -> Result<i64, ConfigError> {
    number(get, var, default, |n| n > 0, "a positive number of seconds")
}

/// `pairs` as the environment, for tests.
#[cfg(test)]
fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `pairs` as the readers of the parts take the environment, for their tests.
#[cfg(test)]
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars = vars(pairs);
    move |k| vars.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusal of the configuration `pairs`, as it is printed.
    fn refused(pairs: &[(&str, &str)]) -> String {
        Config::from_vars(vars(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn reset_links_follow_the_template() {
        let c = Config::from_vars(HashMap::new()).unwrap();
        assert_eq!(c.reset_link, "http://127.0.0.1:3000/#/resetpwd?code={code}");
        let c = Config::from_vars(vars(&[(
            "POLYAUTH_RESET_LINK",
            "https://app.example.com/#/resetpwd?code={code}",
        )]))
        .unwrap();
        assert_eq!(
            c.reset_link,
            "https://app.example.com/#/resetpwd?code={code}"
        );
        assert!(Config::from_vars(vars(&[("POLYAUTH_RESET_LINK", "https://x/")])).is_err());
    }

    #[test]
    fn defaults_are_local_and_safe() {
        let c = Config::from_vars(HashMap::new()).unwrap();
        assert_eq!(c.env, Env::Dev);
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.default_country_code, "86");
        assert_eq!(c.store, StoreKind::Embedded);
        assert!(!c.web.cookies.secure);
    }

    #[test]
    fn prod_refuses_dev_secret_and_outbox() {
        let err = Config::from_vars(vars(&[("POLYAUTH_ENV", "prod")])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::UnsafeForProd("the development JWT secret")
        );
        let err = Config::from_vars(vars(&[
            ("POLYAUTH_ENV", "prod"),
            (
                "POLYAUTH_JWT_SECRET",
                "a-real-secret-that-is-long-enough-for-hs256",
            ),
        ]))
        .unwrap_err();
        assert!(matches!(err, ConfigError::UnsafeForProd(_)));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert!(refused(&[("POLYAUTH_ADDR", "nope")]).starts_with("POLYAUTH_ADDR"));
        assert!(refused(&[("POLYAUTH_JWT_SECRET", "short")]).starts_with("POLYAUTH_JWT_SECRET"));
    }

    #[test]
    fn aws_adapters_are_chosen_by_name() {
        let c = Config::from_vars(vars(&[
            ("POLYAUTH_STORE", "dynamodb"),
            ("POLYAUTH_TABLE", "auth-prod"),
            ("POLYAUTH_SENDER", "aws"),
            ("POLYAUTH_EMAIL_FROM", "auth@corp.example"),
            ("POLYAUTH_SMS_SENDER_ID", "CORP"),
        ]))
        .unwrap();
        assert_eq!((c.store, c.sender), (StoreKind::DynamoDb, SenderKind::Aws));
        assert_eq!(
            (c.table.as_str(), c.email_from.as_str()),
            ("auth-prod", "auth@corp.example")
        );
        assert_eq!(
            (c.sms_sender_id.as_deref(), c.voice_origination.as_deref()),
            (Some("CORP"), None)
        );
        assert!(c.uses_aws());
        let d = Config::from_vars(HashMap::new()).unwrap();
        assert_eq!(
            (d.table.as_str(), d.email_from.as_str()),
            ("polyauth", DEFAULT_EMAIL_FROM)
        );
        assert!(!d.uses_aws());
        assert!(refused(&[("POLYAUTH_TABLE", "no spaces")]).starts_with("POLYAUTH_TABLE"));
        assert!(refused(&[("POLYAUTH_EMAIL_FROM", "nobody")]).starts_with("POLYAUTH_EMAIL_FROM"));
    }

    #[test]
    fn prod_refuses_the_placeholder_sender_address() {
        let prod = [
            ("POLYAUTH_ENV", "prod"),
            (
                "POLYAUTH_JWT_SECRET",
                "a-real-secret-that-is-long-enough-for-hs256",
            ),
            ("POLYAUTH_SENDER", "aws"),
        ];
        let err = Config::from_vars(vars(&prod)).unwrap_err();
        assert!(err.to_string().contains("POLYAUTH_EMAIL_FROM"), "{err}");
        let mut set = prod.to_vec();
        set.push(("POLYAUTH_EMAIL_FROM", "auth@corp.example"));
        assert_eq!(
            Config::from_vars(vars(&set)).unwrap().sender,
            SenderKind::Aws
        );
    }

    #[test]
    fn development_mode_stays_on_this_machine_unless_told() {
        let err = Config::from_vars(vars(&[("POLYAUTH_ADDR", "0.0.0.0:3000")])).unwrap_err();
        assert!(err.to_string().starts_with("POLYAUTH_ADDR"), "{err}");
        let c = Config::from_vars(vars(&[
            ("POLYAUTH_ADDR", "0.0.0.0:3000"),
            ("POLYAUTH_DEV_ON_NETWORK", "1"),
        ]))
        .unwrap();
        assert!(c.shows_codes());
        let on_lambda = Config {
            on_lambda: true,
            ..c
        };
        assert!(!on_lambda.shows_codes());
    }

    #[test]
    fn prod_refuses_a_reset_link_that_is_not_https() {
        let prod = [
            ("POLYAUTH_ENV", "prod"),
            (
                "POLYAUTH_JWT_SECRET",
                "a-real-secret-that-is-long-enough-for-hs256",
            ),
            ("POLYAUTH_SENDER", "aws"),
            ("POLYAUTH_EMAIL_FROM", "auth@corp.example"),
            ("POLYAUTH_RESET_LINK", "http://app.example/#/r?code={code}"),
        ];
        let err = Config::from_vars(vars(&prod)).unwrap_err();
        assert!(err.to_string().contains("https"), "{err}");
        let mut ok = prod.to_vec();
        ok[4] = ("POLYAUTH_RESET_LINK", "https://app.example/#/r?code={code}");
        assert!(Config::from_vars(vars(&ok)).is_ok());
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let c = Config::from_vars(HashMap::new()).unwrap();
        assert!(!format!("{c:?}").contains(DEV_SECRET));
    }
}
