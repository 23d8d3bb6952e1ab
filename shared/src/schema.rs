//! The single table of `DESIGN.md` ("Data"): every key polyauth reads or writes, and the
//! shape of every item a use case stores, in one place. A key format written anywhere else
//! could drift from the one its reader uses; here a reader sees the whole table at a glance,
//! and moving an item (or adding one) is one edit. The user item is the domain's `User`
//! itself; the signing keyset's shape lives with its cryptography (`tokens::keyset`).

mod items;

pub use items::LoginRecord;
pub(crate) use items::{
    Captcha, Claim, CodeState, LinkWindow, Pending, ResetState, SessionEntry, SessionState,
};

use crate::{
    domain::{Account, UserId, Username},
    services::Purpose,
    store::{Key, Query},
};

/// A session's id: the `sid` claim of its access tokens and the head of its refresh token.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    pub(crate) fn generate() -> Self {
        SessionId(crate::random::id())
    }

    /// A session id a client sent back (a token claim, a refresh token's head); `None` unless
    /// it can be one of ours, so nothing else becomes a store key.
    pub fn parse(raw: &str) -> Option<Self> {
        crate::random::well_formed(raw).then(|| SessionId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A refresh token as its client holds it: `sid.user.secret`, so that the session and its
/// user are read in one round trip (tokens issued before the user was named are `sid.secret`).
/// Only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    raw: String,
    sid: SessionId,
    user: Option<UserId>,
}

impl RefreshToken {
    /// A fresh token for `user`'s session `sid`, ending in `secret`.
    pub(crate) fn issue(sid: &SessionId, user: UserId, secret: &str) -> Self {
        RefreshToken {
            raw: format!("{sid}.{user}.{secret}"),
            sid: sid.clone(),
            user: Some(user),
        }
    }

    /// A presented token; `None` for anything that cannot be ours (checked before any part of
    /// it becomes a store key).
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > 256 {
            return None;
        }
        let mut parts = raw.split('.');
        let sid = SessionId::parse(parts.next()?)?;
        let user = match (parts.next(), parts.next()) {
            (Some(uid), Some(_)) => Some(UserId(uid.parse().ok()?)),
            (Some(_), None) => None,
            _ => return None,
        };
        Some(RefreshToken {
            raw: raw.to_string(),
            sid,
            user,
        })
    }

    pub fn sid(&self) -> &SessionId {
        &self.sid
    }

    /// The user the token names, when it names one.
    pub fn user(&self) -> Option<UserId> {
        self.user
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn into_string(self) -> String {
        self.raw
    }
}

/// Whom a code is bound to: the identifier it was sent to (an email or an E.164 number, a
/// username's folded form for completeness), or a user's pending second factor. Its text is
/// part of the code's key and of the code's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSubject(String);

impl CodeSubject {
    pub fn of(account: &Account) -> Self {
        CodeSubject(account.key())
    }

    /// The second factor of `user`'s pending login (the code goes to the user's mobile but
    /// is bound to the user, so repeating the password step cannot flood that number).
    pub(crate) fn second_factor(user: UserId) -> Self {
        CodeSubject(format!("user:{user}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a query reads: one partition, the sort keys under a prefix (from `sk_from` on).
pub struct Range {
    pub pk: String,
    pub sk_prefix: &'static str,
    pub sk_from: Option<&'static str>,
}

impl Range {
    pub fn query(self, after: Option<String>, limit: usize, newest_first: bool) -> Query {
        Query {
            pk: self.pk,
            sk_prefix: self.sk_prefix.into(),
            sk_from: self.sk_from.map(Into::into),
            after,
            limit,
            newest_first,
        }
    }
}

const PROFILE: &str = "PROFILE";
const SESSIONS: &str = "SESSION#";
const LOGINS: &str = "LOGIN#";

fn user_pk(id: UserId) -> String {
    format!("USER#{id}")
}

/// The user item (the domain's `User`).
pub fn user(id: UserId) -> Key {
    Key::new(user_pk(id), PROFILE)
}

/// The item that maps an email, mobile or (case-folded) username to its user (a `Claim`).
pub fn unique(account: &Account) -> Key {
    let pk = match account {
        Account::Email(e) => format!("EMAIL#{}", e.as_str()),
        Account::Mobile(p) => format!("MOBILE#{}", p.e164()),
        Account::Username(u) => format!("USERNAME#{}", u.folded()),
    };
    Key::new(pk, "USER")
}

/// A username claimed before names were compared case-insensitively: keyed by its own case.
pub fn unique_username_as_spelled(name: &Username) -> Key {
    Key::new(format!("USERNAME#{}", name.as_str()), "USER")
}

/// The counter that hands out user ids.
pub fn user_ids() -> Key {
    Key::new("COUNTER#user", "COUNT")
}

/// The marker of an imported user's id in the original system (idempotent re-imports).
pub fn legacy_user(original_id: &str) -> Key {
    Key::new(format!("LEGACY#{original_id}"), "USER")
}

pub fn session(sid: &SessionId) -> Key {
    Key::new(format!("SESSION#{sid}"), "SESSION")
}

/// A session's entry under its user (a `SessionEntry`), to list and revoke the user's sessions.
pub fn session_entry(user: UserId, sid: &SessionId) -> Key {
    Key::new(user_pk(user), format!("{SESSIONS}{sid}"))
}

pub fn sessions_of(user: UserId) -> Range {
    Range {
        pk: user_pk(user),
        sk_prefix: SESSIONS,
        sk_from: None,
    }
}

/// The user item and then its session entries, in one range: in a user's partition nothing
/// sorts after `PROFILE` but `SESSION#` (login records sort before it).
pub fn profile_and_sessions(user: UserId) -> Range {
    Range {
        pk: user_pk(user),
        sk_prefix: "",
        sk_from: Some(PROFILE),
    }
}

/// The session an entry of `sessions_of` names.
pub fn entry_session(entry: &Key) -> Option<SessionId> {
    entry.sk.strip_prefix(SESSIONS).and_then(SessionId::parse)
}

/// A login record (`audit::LoginRecord`), newest last in sort order (ULID ids).
pub fn login_record(user: UserId, record_id: &str) -> Key {
    Key::new(user_pk(user), format!("{LOGINS}{record_id}"))
}

pub fn logins_of(user: UserId) -> Range {
    Range {
        pk: user_pk(user),
        sk_prefix: LOGINS,
        sk_from: None,
    }
}

fn code_pk(purpose: Purpose, subject: &CodeSubject) -> String {
    format!("CODE#{}#{}", purpose.as_str(), subject.as_str())
}

/// The outstanding code of one purpose for one subject (a `CodeState`).
pub fn code(purpose: Purpose, subject: &CodeSubject) -> Key {
    Key::new(code_pk(purpose, subject), "CODE")
}

/// The try counter of one sent code (a new code starts from zero).
pub fn code_tries(purpose: Purpose, subject: &CodeSubject, sent_at: i64) -> Key {
    Key::new(code_pk(purpose, subject), format!("TRIES#{sent_at}"))
}

/// The counter of wrong codes against a subject (a day's count, then the lock).
pub fn wrong_codes(subject: &CodeSubject) -> Key {
    Key::new(format!("THROTTLE#code#{}", subject.as_str()), "COUNT")
}

/// A mailed reset link, by the SHA-256 (hex) of its token (a `ResetState`).
pub fn reset(token_digest: &str) -> Key {
    Key::new(format!("RESET#{token_digest}"), "RESET")
}

/// Reset requests for an email in a day.
pub fn resets_of(email: &str) -> Key {
    Key::new(format!("THROTTLE#reset#{email}"), "COUNT")
}

/// The resend window of reset links to an email (a `LinkWindow`).
pub fn reset_link_window(email: &str) -> Key {
    Key::new(format!("THROTTLE#reset-link#{email}"), "WINDOW")
}

/// Consecutive failed logins at an identifier nobody holds.
pub fn failed_logins(account: &Account) -> Key {
    Key::new(format!("THROTTLE#login#{}", account.key()), "COUNT")
}

/// Consecutive failed logins of a user, whichever of its identifiers they were made with (an
/// email has an `@`, a mobile a `+`, a username a `u:`: none reads `id:`).
pub fn failed_logins_of(user: UserId) -> Key {
    Key::new(format!("THROTTLE#login#id:{}", user.0), "COUNT")
}

/// One window of a rate limit for one bucket (an address, a prefix): the key names the
/// window, so the window's end is the `Retry-After` and the TTL sweeps it.
pub fn rate_window(limit: &str, bucket: &str, window: i64) -> Key {
    Key::new(format!("RATE#{limit}#{bucket}"), format!("W#{window}"))
}

/// One day of a deployment-wide message budget.
pub fn budget_window(channel: &str, window: i64) -> Key {
    Key::new(format!("BUDGET#{channel}"), format!("W#{window}"))
}

/// A captcha challenge (a `Captcha`).
pub fn captcha(id: &str) -> Key {
    Key::new(format!("CAPTCHA#{id}"), "CAPTCHA")
}

/// A pending second factor (a `Pending`).
pub fn pending(id: &str) -> Key {
    Key::new(format!("PENDING#{id}"), "PENDING")
}

/// The signing keyset (`tokens::keyset::StoredKeyset`).
pub fn signing_keyset() -> Key {
    Key::new("KEYS", "SIGNING")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, Phone};

    /// Keys are what the stored data is found by: a change here strands every item written
    /// before it, so the formats are pinned.
    #[test]
    fn keys_keep_their_stored_format() {
        let email = Account::Email(Email::parse("Ann@Example.com").unwrap());
        let mobile = Account::Mobile(Phone::parse("13312341234", "86").unwrap());
        let name = Username::parse("Ann_1", Default::default()).unwrap();
        let sid = SessionId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
        let pairs = [
            (user(UserId(7)), "USER#7", "PROFILE"),
            (unique(&email), "EMAIL#ann@example.com", "USER"),
            (unique(&mobile), "MOBILE#+8613312341234", "USER"),
            (
                unique(&Account::Username(name.clone())),
                "USERNAME#ann_1",
                "USER",
            ),
            (unique_username_as_spelled(&name), "USERNAME#Ann_1", "USER"),
            (session(&sid), "SESSION#AAAAAAAAAAAAAAAAAAAAAA", "SESSION"),
            (
                session_entry(UserId(7), &sid),
                "USER#7",
                "SESSION#AAAAAAAAAAAAAAAAAAAAAA",
            ),
            (login_record(UserId(7), "01J"), "USER#7", "LOGIN#01J"),
            (
                code(Purpose::Register, &CodeSubject::of(&mobile)),
                "CODE#register#+8613312341234",
                "CODE",
            ),
            (
                code_tries(Purpose::Login, &CodeSubject::second_factor(UserId(7)), 5),
                "CODE#login#user:7",
                "TRIES#5",
            ),
            (
                wrong_codes(&CodeSubject::of(&email)),
                "THROTTLE#code#ann@example.com",
                "COUNT",
            ),
            (
                failed_logins(&email),
                "THROTTLE#login#ann@example.com",
                "COUNT",
            ),
            (failed_logins_of(UserId(7)), "THROTTLE#login#id:7", "COUNT"),
            (
                rate_window("sends", "198.51.100.0", 3),
                "RATE#sends#198.51.100.0",
                "W#3",
            ),
            (budget_window("sms", 9), "BUDGET#sms", "W#9"),
            (user_ids(), "COUNTER#user", "COUNT"),
            (legacy_user("u-1"), "LEGACY#u-1", "USER"),
            (reset("ab"), "RESET#ab", "RESET"),
            (captcha("c"), "CAPTCHA#c", "CAPTCHA"),
            (pending("p"), "PENDING#p", "PENDING"),
            (signing_keyset(), "KEYS", "SIGNING"),
        ];
        for (key, pk, sk) in pairs {
            assert_eq!(key, Key::new(pk, sk));
        }
        assert_eq!(entry_session(&session_entry(UserId(7), &sid)), Some(sid));
    }

    #[test]
    fn a_refresh_token_names_its_session_and_user() {
        let sid = SessionId::generate();
        let token = RefreshToken::issue(&sid, UserId(42), "secret");
        let read = RefreshToken::parse(token.as_str()).unwrap();
        assert_eq!(read, token);
        assert_eq!((read.sid(), read.user()), (&sid, Some(UserId(42))));
        let older = RefreshToken::parse(&format!("{sid}.secret")).unwrap();
        assert_eq!(older.user(), None);
    }

    #[test]
    fn only_what_could_be_ours_parses() {
        let sid = SessionId::generate();
        for bad in [
            String::new(),
            "short.1.x".into(),
            format!("{sid}"),
            format!("{sid}.notanumber.x"),
            format!("{sid}.1.x.{}", "y".repeat(300)),
            format!("{}.1.x", "a/b".repeat(8)),
        ] {
            assert_eq!(RefreshToken::parse(&bad), None, "{bad:?}");
        }
        assert_eq!(SessionId::parse("has space in it 0123"), None);
    }
}
