//! Limits beyond one account: per caller address (an IPv4 address or an IPv6 /64) and per
//! deployment (the daily SMS and mail budgets, the SMS destination countries). Each is a store
//! counter in a fixed window, one atomic increment per guarded request, so it holds across any
//! number of Lambda instances; the window's end is the `Retry-After`.

use super::{batch::AddressLimit, Auth, Client};
use crate::{
    config::Rate,
    schema,
    sender::Channel,
    store::{Key, Lifetime, Write},
    Error, Result,
};

/// What one address is limited in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// Password and code attempts.
    Attempts,
    /// Codes and links sent.
    Sends,
    /// Captcha challenges rendered.
    Captchas,
    Registrations,
}

impl Limit {
    fn name(self) -> &'static str {
        match self {
            Limit::Attempts => "attempts",
            Limit::Sends => "sends",
            Limit::Captchas => "captchas",
            Limit::Registrations => "registrations",
        }
    }
}

const DAY: i64 = 24 * 3600;

impl Auth {
    fn rate(&self, limit: Limit) -> Rate {
        let limits = &self.config().limits;
        match limit {
            Limit::Attempts => limits.attempts,
            Limit::Sends => limits.sends,
            Limit::Captchas => limits.captchas,
            Limit::Registrations => limits.registrations,
        }
    }

    /// One event of `limit` for the caller's address as a write to join a use case's batch
    /// (refused there once the window is full), with what the refusal means; `None` for the
    /// service's own calls. Saves the round trip of `limit` where the caller writes anyway.
    pub(crate) fn limit_write(
        &self,
        limit: Limit,
        client: &Client,
    ) -> Option<(Write, AddressLimit)> {
        let bucket = client.bucket()?;
        let rate = self.rate(limit);
        let (window, end) = self.window(rate.window);
        let key = schema::rate_window(limit.name(), &bucket, window);
        let write = Write::count_within(key, Lifetime::Window(end), rate.count);
        let refusal = Error::TooManyRequests {
            retry_after: end - self.now(),
        };
        Some((
            write,
            AddressLimit {
                refusal,
                limit: limit.name(),
                bucket,
            },
        ))
    }

    /// Counts one event of `limit` for the caller's address; past the limit, refused until the
    /// window ends. The service's own calls are not limited.
    pub(crate) async fn limit(&self, limit: Limit, client: &Client) -> Result<()> {
        let Some(bucket) = client.bucket() else {
            return Ok(());
        };
        let rate = self.rate(limit);
        let (n, retry_after) = self
            .count_in_window(|w| schema::rate_window(limit.name(), &bucket, w), rate)
            .await?;
        if n > rate.count {
            let refusal = Error::TooManyRequests { retry_after };
            return Err(AddressLimit {
                refusal,
                limit: limit.name(),
                bucket,
            }
            .refuse());
        }
        Ok(())
    }

    /// Spends one message of today's deployment-wide budget of `channel` (UTC days).
    pub(crate) async fn spend_budget(&self, channel: Channel) -> Result<()> {
        let Some((name, budget)) = self.budget_of(channel) else {
            return Ok(());
        };
        let (n, retry_after) = self
            .count_in_window(|w| schema::budget_window(name, w), Rate::new(budget, DAY))
            .await?;
        if n > budget {
            tracing::error!(channel = name, budget, "daily_budget_spent");
            return Err(Error::TooManyRequests { retry_after });
        }
        if (n - 1) * 5 < budget * 4 && n * 5 >= budget * 4 {
            tracing::warn!(channel = name, budget, sent = n, "daily_budget_80_percent");
        }
        Ok(())
    }

    /// Gives back a message `spend_budget` took for one that was not sent. Best effort: a
    /// store failure leaves today's count one too high, never a message unaccounted for.
    pub(crate) async fn refund_budget(&self, channel: Channel) {
        let Some((name, _)) = self.budget_of(channel) else {
            return;
        };
        let (day, end) = self.window(DAY);
        let key = schema::budget_window(name, day);
        if let Err(e) = self
            .store()
            .increment(&key, -1, Lifetime::Window(end))
            .await
        {
            tracing::warn!(error = %e, channel = name, "budget_refund_failed");
        }
    }

    fn budget_of(&self, channel: Channel) -> Option<(&'static str, i64)> {
        let limits = &self.config().limits;
        match channel {
            Channel::Sms | Channel::Voice => Some(("sms", limits.sms_daily)),
            Channel::Email => Some(("email", limits.email_daily)),
            Channel::Captcha => None,
        }
    }

    /// Whether texts may go to `mobile` (its country is enabled).
    pub fn texts_reach(&self, mobile: &crate::domain::Phone) -> bool {
        self.sms_country(mobile.e164()).is_some()
    }

    /// The enabled country calling code `e164` belongs to.
    pub(crate) fn sms_country(&self, e164: &str) -> Option<&str> {
        let digits = e164.trim_start_matches('+');
        self.config()
            .limits
            .sms_countries
            .iter()
            .find(|cc| digits.starts_with(cc.as_str()))
            .map(String::as_str)
    }

    /// Refuses an SMS or voice destination outside the configured calling codes.
    pub(crate) fn check_sms_destination(&self, e164: &str) -> Result<()> {
        let digits = e164.trim_start_matches('+');
        if self.sms_country(e164).is_some() {
            Ok(())
        } else {
            tracing::warn!(country_of = %&digits[..digits.len().min(3)], "sms_country_refused");
            Err(Error::invalid(
                "mobile",
                "text messages to this country are not enabled",
            ))
        }
    }

    /// Adds one to the counter of the current `rate.window` (`key` names each window);
    /// answers the count and the seconds to the window's end.
    async fn count_in_window(&self, key: impl Fn(i64) -> Key, rate: Rate) -> Result<(i64, i64)> {
        let (window, end) = self.window(rate.window);
        let n = self
            .store()
            .increment(&key(window), 1, Lifetime::Window(end))
            .await?;
        Ok((n, end - self.now()))
    }

    /// The fixed window of `seconds` now falls in: its number (which names its counter's key)
    /// and its end.
    fn window(&self, seconds: i64) -> (i64, i64) {
        let window = self.now().div_euclid(seconds);
        (window, (window + 1) * seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::Config, services::testing::*};

    fn from(ip: &str) -> Client {
        Client::new(ip.parse().ok(), String::new())
    }

    fn strict() -> Config {
        let mut config = Config::for_tests();
        config.limits.sends = Rate::new(10, 3600);
        config.limits.sms_daily = 5;
        config
    }

    #[tokio::test]
    async fn the_eleventh_send_from_an_address_waits_for_the_window() {
        let t = Harness::builder().config(strict()).build();
        for _ in 0..10 {
            t.auth
                .limit(Limit::Sends, &from("198.51.100.7"))
                .await
                .unwrap();
        }
        let Err(Error::TooManyRequests { retry_after }) =
            t.auth.limit(Limit::Sends, &from("198.51.100.7")).await
        else {
            panic!("the eleventh send passed");
        };
        assert!((1..=3600).contains(&retry_after), "{retry_after}");
        t.auth
            .limit(Limit::Sends, &from("198.51.100.8"))
            .await
            .unwrap();
        t.clock.advance(retry_after);
        t.auth
            .limit(Limit::Sends, &from("198.51.100.7"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_ipv6_slash_64_is_one_address() {
        let t = Harness::builder().config(strict()).build();
        for i in 0..10 {
            let ip = format!("2001:db8:1:2::{i:x}");
            t.auth.limit(Limit::Sends, &from(&ip)).await.unwrap();
        }
        assert!(t
            .auth
            .limit(Limit::Sends, &from("2001:db8:1:2:ffff::1"))
            .await
            .is_err());
        t.auth
            .limit(Limit::Sends, &from("2001:db8:1:3::1"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_service_itself_is_not_limited_and_unknown_addresses_share_a_bucket() {
        let t = Harness::builder().config(strict()).build();
        for _ in 0..20 {
            t.auth
                .limit(Limit::Sends, &Client::internal())
                .await
                .unwrap();
        }
        for _ in 0..10 {
            t.auth
                .limit(Limit::Sends, &Client::default())
                .await
                .unwrap();
        }
        assert!(t
            .auth
            .limit(Limit::Sends, &Client::default())
            .await
            .is_err());
    }

    #[tokio::test]
    async fn the_daily_sms_budget_holds_and_mail_has_its_own() {
        let t = Harness::builder().config(strict()).build();
        for _ in 0..5 {
            t.auth.spend_budget(Channel::Sms).await.unwrap();
        }
        assert!(matches!(
            t.auth.spend_budget(Channel::Voice).await,
            Err(Error::TooManyRequests { .. })
        ));
        t.auth.spend_budget(Channel::Email).await.unwrap();
    }

    #[test]
    fn only_listed_countries_get_text_messages() {
        let t = Harness::builder().config(strict()).build();
        t.auth.check_sms_destination("+8613312341234").unwrap();
        assert!(matches!(
            t.auth.check_sms_destination("+88216000001"),
            Err(Error::Invalid { .. })
        ));
    }
}
