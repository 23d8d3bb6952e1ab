//! The abuse limits: how much one address, one deployment and the hashing queue may take.
//! Every counter lives in the store, so a limit holds across any number of Lambda instances.

use super::{bad, number, ConfigError, Get};

/// At most `count` events per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: i64,
    pub window: i64,
}

impl Rate {
    pub const fn new(count: i64, window: i64) -> Self {
        Rate { count, window }
    }

    /// `COUNT/SECONDS`, e.g. `30/300`.
    fn parse(get: Get, var: &'static str, default: Rate) -> Result<Rate, ConfigError> {
        let Some(raw) = get(var) else {
            return Ok(default);
        };
        let parsed = raw.split_once('/').and_then(|(n, w)| {
            let (n, w) = (n.trim().parse::<i64>().ok()?, w.trim().parse::<i64>().ok()?);
            (n > 0 && w > 0 && w <= 31 * 24 * 3600).then_some(Rate::new(n, w))
        });
        parsed.ok_or_else(|| bad(var, format!("{raw:?} is not COUNT/SECONDS, e.g. 30/300")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Password and code attempts per address (`POLYAUTH_LIMIT_ATTEMPTS`).
    pub attempts: Rate,
    /// Codes and links sent per address (`POLYAUTH_LIMIT_SENDS`).
    pub sends: Rate,
    /// Captcha challenges rendered per address (`POLYAUTH_LIMIT_CAPTCHAS`).
    pub captchas: Rate,
    /// Registrations per address (`POLYAUTH_LIMIT_REGISTRATIONS`).
    pub registrations: Rate,
    /// SMS and voice messages per UTC day, deployment-wide (`POLYAUTH_SMS_DAILY_BUDGET`).
    pub sms_daily: i64,
    /// Mails per UTC day, deployment-wide (`POLYAUTH_EMAIL_DAILY_BUDGET`).
    pub email_daily: i64,
    /// Calling codes SMS and voice may go to (`POLYAUTH_SMS_COUNTRIES`, default the default
    /// country code alone).
    pub sms_countries: Vec<String>,
    /// Proxies in front of the service that append to `X-Forwarded-For`
    /// (`POLYAUTH_TRUSTED_PROXIES`, default 0: the peer is the client).
    pub trusted_proxies: usize,
    /// Hashing jobs allowed to wait per core before logins are turned away
    /// (`POLYAUTH_HASH_QUEUE_PER_CORE`).
    pub hash_queue_per_core: usize,
    /// Days login records are kept (`POLYAUTH_LOGIN_RECORD_DAYS`).
    pub login_record_days: i64,
}

impl Limits {
    pub(super) fn read(get: Get, default_cc: &str) -> Result<Limits, ConfigError> {
        let countries = match get("POLYAUTH_SMS_COUNTRIES") {
            None => vec![default_cc.to_string()],
            Some(list) => {
                let codes: Vec<String> = list
                    .split(',')
                    .map(|c| c.trim().trim_start_matches('+').to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                let valid = codes
                    .iter()
                    .all(|c| c.len() <= 3 && c.bytes().all(|b| b.is_ascii_digit()));
                if !valid {
                    return Err(bad(
                        "POLYAUTH_SMS_COUNTRIES",
                        "calling codes separated by commas, e.g. 86,852".into(),
                    ));
                }
                codes
            }
        };
        Ok(Limits {
            attempts: Rate::parse(get, "POLYAUTH_LIMIT_ATTEMPTS", Rate::new(30, 300))?,
            sends: Rate::parse(get, "POLYAUTH_LIMIT_SENDS", Rate::new(10, 3600))?,
            captchas: Rate::parse(get, "POLYAUTH_LIMIT_CAPTCHAS", Rate::new(60, 3600))?,
            registrations: Rate::parse(get, "POLYAUTH_LIMIT_REGISTRATIONS", Rate::new(20, 3600))?,
            sms_daily: count(get, "POLYAUTH_SMS_DAILY_BUDGET", 1000)?,
            email_daily: count(get, "POLYAUTH_EMAIL_DAILY_BUDGET", 10_000)?,
            sms_countries: countries,
            trusted_proxies: count(get, "POLYAUTH_TRUSTED_PROXIES", 0)? as usize,
            hash_queue_per_core: count(get, "POLYAUTH_HASH_QUEUE_PER_CORE", 64)? as usize,
            login_record_days: count(get, "POLYAUTH_LOGIN_RECORD_DAYS", 400)?,
        })
    }

    /// Limits no test run reaches: for suites that are not about limits.
    pub fn generous(mut self) -> Limits {
        let many = Rate::new(1_000_000, 60);
        self.attempts = many;
        self.sends = many;
        self.captchas = many;
        self.registrations = many;
        self.sms_daily = 1_000_000_000;
        self.email_daily = 1_000_000_000;
        self
    }
}

fn count(get: Get, var: &'static str, default: i64) -> Result<i64, ConfigError> {
    let within = |n| (0..=1_000_000_000).contains(&n);
    number(get, var, default, within, "a whole number")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Limits, ConfigError> {
        Limits::read(&crate::config::env(pairs), "86")
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let l = read(&[]).unwrap();
        assert_eq!(l.attempts, Rate::new(30, 300));
        assert_eq!(l.sends, Rate::new(10, 3600));
        assert_eq!(l.captchas, Rate::new(60, 3600));
        assert_eq!(l.registrations, Rate::new(20, 3600));
        assert_eq!((l.sms_daily, l.email_daily), (1000, 10_000));
        assert_eq!(l.sms_countries, vec!["86".to_string()]);
        assert_eq!((l.trusted_proxies, l.hash_queue_per_core), (0, 64));
        assert_eq!(l.login_record_days, 400);
    }

    #[test]
    fn values_are_read_and_bad_ones_named() {
        let l = read(&[
            ("POLYAUTH_LIMIT_SENDS", "3/60"),
            ("POLYAUTH_SMS_COUNTRIES", "+86, 852"),
        ])
        .unwrap();
        assert_eq!(l.sends, Rate::new(3, 60));
        assert_eq!(l.sms_countries, vec!["86".to_string(), "852".to_string()]);
        for (var, value) in [
            ("POLYAUTH_LIMIT_ATTEMPTS", "30"),
            ("POLYAUTH_LIMIT_ATTEMPTS", "0/60"),
            ("POLYAUTH_SMS_COUNTRIES", "china"),
            ("POLYAUTH_SMS_DAILY_BUDGET", "-1"),
        ] {
            let err = read(&[(var, value)]).unwrap_err();
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }
}
