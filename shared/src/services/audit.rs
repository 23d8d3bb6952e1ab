//! Login records, kept under the user's partition with a ULID sort key, so newest-first order
//! and cursor pagination are a plain reverse range query. Each expires after the configured
//! retention (`POLYAUTH_LOGIN_RECORD_DAYS`, default 400 days).

use super::{Auth, Client, LoginType};
use crate::{
    domain::UserId,
    schema::{self, LoginRecord},
    store::{Item, Write},
    Result,
};

pub const MAX_PAGE: usize = 100;

impl Auth {
    pub(crate) fn login_record(
        &self,
        user: UserId,
        kind: LoginType,
        client: &Client,
    ) -> Result<Write> {
        let now = self.now();
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64);
        let record_id = self
            .0
            .ulids
            .lock()
            .ok()
            .and_then(|mut g| g.generate_from_datetime(at).ok())
            .unwrap_or_else(|| ulid::Ulid::from_datetime(at))
            .to_string();
        let record = LoginRecord {
            record_id: record_id.clone(),
            login_type: kind,
            user_id: user,
            time: now,
            ip: client.ip(),
            user_agent: client.user_agent.clone(),
        };
        // Kept for the configured retention, then swept like any expired item.
        let until = now + self.config().limits.login_record_days * 24 * 3600;
        Ok(Write::put(Item::of(
            schema::login_record(user, &record_id),
            &record,
            Some(until),
        )?))
    }

    /// Newest first; `after` is the `record_id` of the last record of the previous page.
    pub async fn login_records(
        &self,
        user: UserId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LoginRecord>> {
        let after = after.map(|a| schema::login_record(user, a).sk);
        let query = schema::logins_of(user).query(after, limit.clamp(1, MAX_PAGE), true);
        let page = self.store().query(query).await?;
        page.items
            .iter()
            .map(|i| i.parse().map_err(Into::into))
            .collect()
    }
}

#[cfg(test)]
mod tests;
