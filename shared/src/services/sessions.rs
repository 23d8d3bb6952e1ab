//! Sessions: an access JWT bound to a session id, and an opaque refresh token rotated on every
//! use. A session item holds the hash of the current refresh token and of the ones it replaced:
//! presenting a replaced token revokes the session (the whole family of its tokens), except the
//! immediately previous token within a short grace, which gets the very same new pair, so two
//! tabs refreshing at once both stay signed in; any other token presented for a live session
//! revokes it.
//!
//! A session records how it was made: the dialect that opened it (each dialect accepts only its
//! own) and its assurance level (`aal2` for a password plus an SMS code). It also records the
//! user's session epoch when it opened: a password change, reset, disable or a reclaimed
//! account bumps the epoch in the same write as the change, and every older session is
//! dead at once, however many there are. Checking that costs nothing extra: the session and
//! its user are read in one round trip. A session lives at most `POLYAUTH_SESSION_MAX_AGE`
//! from its login (or as long as its client asked its token to live, when that is longer);
//! refreshing does not extend that.

use super::{
    batch::Batch,
    tokens::{kid_of, Bearer, Grant, Keyset},
    Auth, Client, LoginType,
};
use crate::{
    domain::{Dialect, User, UserId},
    schema::{self, RefreshToken, SessionEntry, SessionId, SessionState},
    store::{Condition, Item, StoreError, Write},
    Error, Result,
};
use std::sync::Arc;

/// The longest an access token may live (seed 004's clients choose theirs, up to this); signing
/// keys are kept for verification at least this long after they are replaced.
pub const LONGEST_ACCESS_TTL: i64 = 90 * 24 * 3600;

/// Replaced refresh-token hashes remembered per session, to recognise reuse.
const REMEMBERED: usize = 16;
/// Rereads of a page of sessions whose deletes a concurrent logout beat, before giving up.
const MAX_RACES: u32 = 5;

/// How strongly a session's user was authenticated.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Aal {
    /// A password, or a code.
    #[default]
    Aal1,
    /// A password and an SMS code.
    Aal2,
}

#[derive(Debug, Clone, Default)]
pub struct SessionSpec {
    /// Access-token lifetime in seconds; the configured default when `None`.
    pub access_ttl: Option<i64>,
    /// Seconds the token's `iat` is set before the issue time (seed 003's original signed
    /// with `iat` 30 s in the past, and its example token shows it).
    pub backdate: i64,
    pub dialect: Option<Dialect>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tokens {
    pub user_id: UserId,
    pub sid: SessionId,
    pub access: String,
    pub refresh: String,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
}

/// A session and its user as read, with what `seen` needs to keep them: each item's key and
/// its stamp from before the read (where the store gives stamps), and the earlier of their
/// expiries.
struct SessionRead {
    principal: Principal,
    user: User,
    stamped: Option<[(crate::store::Key, u64); 2]>,
    until: i64,
}

/// The caller behind a valid access token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: UserId,
    pub sid: SessionId,
    pub dialect: Option<Dialect>,
    pub aal: Aal,
}

impl Auth {
    fn session_expiry(&self, s: &SessionState) -> i64 {
        let idle = s.rotated_at + self.config().refresh_ttl.max(s.access_ttl);
        let lifetime = self.config().session_max_age.max(s.access_ttl);
        idle.min(s.created_at + lifetime)
    }

    fn session_writes(
        &self,
        sid: &SessionId,
        s: &SessionState,
        dialect: Option<Dialect>,
        cond: Condition,
    ) -> Result<Vec<Write>> {
        let until = Some(self.session_expiry(s));
        Ok(vec![
            Write::Put {
                item: Item::of(schema::session(sid), s, until)?,
                cond,
            },
            Write::put(Item::of(
                schema::session_entry(s.user_id, sid),
                &SessionEntry {
                    sid: sid.to_string(),
                    dialect,
                    created_at: s.created_at,
                },
                until,
            )?),
        ])
    }

    fn tokens(
        &self,
        keys: &Keyset,
        sid: &SessionId,
        s: &SessionState,
        refresh: RefreshToken,
    ) -> Result<Tokens> {
        let grant = Grant {
            user: s.user_id,
            sid,
            iat: s.rotated_at - s.backdate,
            exp: s.rotated_at + s.access_ttl,
        };
        let access = self.0.profiles.sign(s.dialect, &grant, keys, self.now())?;
        Ok(Tokens {
            user_id: s.user_id,
            sid: sid.clone(),
            access,
            refresh: refresh.into_string(),
            access_expires_at: s.rotated_at + s.access_ttl,
            refresh_expires_at: self.session_expiry(s),
        })
    }

    /// The writes that open a session for `user` and record the login, plus its tokens.
    /// Callers put these in one transaction with whatever else the login changes.
    pub(crate) fn open_session(
        &self,
        keys: &Keyset,
        user: &User,
        spec: &SessionSpec,
        kind: LoginType,
        client: &Client,
    ) -> Result<(Batch, Tokens)> {
        let now = self.now();
        let sid = SessionId::generate();
        let refresh = RefreshToken::issue(&sid, user.id, &crate::random::token());
        let state = SessionState {
            user_id: user.id,
            refresh_hash: super::tokens::sha256_hex(refresh.as_str()),
            replaced: vec![],
            rotated_at: now,
            access_ttl: spec
                .access_ttl
                .unwrap_or(self.config().access_ttl)
                .min(LONGEST_ACCESS_TTL),
            backdate: spec.backdate,
            dialect: spec.dialect,
            created_at: now,
            aal: match kind {
                LoginType::SecondFactor => Aal::Aal2,
                _ => Aal::Aal1,
            },
            epoch: user.session_epoch,
        };
        let mut batch = Batch::new();
        // A fresh random session id: its `NotExists` condition cannot fail in practice.
        batch.push_all(self.session_writes(&sid, &state, spec.dialect, Condition::NotExists)?);
        batch.push(self.login_record(user.id, kind, client)?);
        let tokens = self.tokens(keys, &sid, &state, refresh)?;
        Ok((batch, tokens))
    }

    /// Opens a session and records the login in one write, with the `extra` writes that go
    /// with it (spending the code that authorised it, say).
    pub(crate) async fn sign_in(
        &self,
        user: &User,
        spec: &SessionSpec,
        kind: LoginType,
        client: &Client,
        extra: Batch,
    ) -> Result<Tokens> {
        let query =
            schema::sessions_of(user.id).query(None, self.config().sessions_per_user, false);
        let open = self.store().query(query).await?.items;
        self.sign_in_among(user, &open, spec, kind, client, extra)
            .await
    }

    /// `sign_in` for a caller that has read the user's session entries (`open`, as
    /// `user_signing_in` reads them) already.
    pub(crate) async fn sign_in_among(
        &self,
        user: &User,
        open: &[Item],
        spec: &SessionSpec,
        kind: LoginType,
        client: &Client,
        extra: Batch,
    ) -> Result<Tokens> {
        let keys = self.keyset().await?;
        let (mut batch, tokens) = self.open_session(&keys, user, spec, kind, client)?;
        batch.push_all(self.evictions(user.id, open));
        batch.append(extra);
        batch.commit(self.store()).await?;
        signed_in_metric(spec);
        Ok(tokens)
    }

    /// A user by id with its session entries, in one query of its partition: what a password
    /// login reads, so that the session cap costs no read of its own.
    pub(crate) async fn user_signing_in(&self, id: UserId) -> Result<Option<(User, Vec<Item>)>> {
        let cap = self.config().sessions_per_user;
        let query = schema::profile_and_sessions(id).query(None, cap + 1, false);
        let mut items = self.store().query(query).await?.items.into_iter();
        let Some(profile) = items.next().filter(|i| i.key == schema::user(id)) else {
            return Ok(None);
        };
        Ok(Some((profile.parse()?, items.collect())))
    }

    /// The writes that end a user's oldest sessions when a new one would pass the cap, from
    /// the first `sessions_per_user` of its session entries.
    fn evictions(&self, user: UserId, open: &[Item]) -> Vec<Write> {
        let cap = self.config().sessions_per_user;
        if open.len() < cap {
            return Vec::new();
        }
        let mut live: Vec<(i64, SessionId)> = open
            .iter()
            .take(cap)
            .filter_map(|i| {
                let entry = i.parse::<SessionEntry>().ok()?;
                Some((entry.created_at, SessionId::parse(&entry.sid)?))
            })
            .collect();
        live.sort();
        let excess = (live.len() + 1).saturating_sub(cap);
        live.into_iter()
            .take(excess)
            .flat_map(|(_, sid)| {
                [
                    Write::delete(schema::session(&sid)),
                    Write::delete(schema::session_entry(user, &sid)),
                ]
            })
            .collect()
    }

    /// Verifies an access token and that its session is still open (logout, password changes
    /// and disabling end sessions, and with them their access tokens, at once). Any dialect's
    /// session: for core callers; dialects use `authenticate_in`.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal> {
        Ok(self.whoami(access_token).await?.0)
    }

    /// `authenticate` for a dialect: only a session that dialect opened, and for seed 000 with
    /// the SMS second factor on, one of a user with a proven mobile only at `aal2` (a password
    /// alone, through whatever dialect, does not open pauli).
    pub async fn authenticate_in(&self, access_token: &str, dialect: Dialect) -> Result<Principal> {
        Ok(self.whoami_in(access_token, dialect).await?.0)
    }

    /// The user behind an access token, for who-am-I endpoints (one round trip, none when this
    /// process has verified the same token and the store vouches nothing changed since: `seen`).
    #[tracing::instrument(name = "whoami_in", skip_all)]
    pub async fn whoami_in(
        &self,
        access_token: &str,
        dialect: Dialect,
    ) -> Result<(Principal, User)> {
        let held = self.keyset().await?;
        let uses_keyset = self.0.profiles.uses_keyset(dialect);
        let now = self.now();
        let kept_under = uses_keyset.then_some(&held);
        if let Some(kept) = self
            .0
            .seen
            .recall(access_token, dialect, kept_under, now, self.store())
        {
            return Ok(kept);
        }
        let (bearer, keyset) = self.bearer(access_token, dialect, held).await?;
        let token_until = bearer.expires_at;
        let read = self.session_and_user(bearer).await?;
        let (principal, user) = (read.principal, read.user);
        if principal.dialect != Some(dialect) {
            return Err(Error::Unauthenticated);
        }
        if dialect == Dialect::Pauli && !self.assured_enough(&principal, &user) {
            return Err(Error::Unauthenticated);
        }
        if let Some(stamped) = read.stamped {
            self.0.seen.keep(seen::Entry {
                token: access_token.into(),
                dialect,
                keyset: uses_keyset.then_some(keyset),
                read: stamped,
                until: read.until.min(token_until),
                principal: principal.clone(),
                user: user.clone(),
            });
        }
        Ok((principal, user))
    }

    /// Whether a session is strong enough for pauli and its permissions: `aal2` wherever the
    /// second factor applies (the user has a proven mobile and the factor is on).
    pub(crate) fn assured_enough(&self, principal: &Principal, user: &User) -> bool {
        let needs_two = self.config().sms_second_factor && user.mobile_confirmed;
        principal.aal == Aal::Aal2 || !needs_two
    }

    /// Verifies `access_token` by `dialect`'s token profile against `held`, the keyset this
    /// process holds; answers the keyset it checked against. A keyset token naming a key
    /// `held` lacks rereads the keyset first (another instance may have rotated it).
    async fn bearer(
        &self,
        access_token: &str,
        dialect: Dialect,
        held: Arc<Keyset>,
    ) -> Result<(Bearer, Arc<Keyset>)> {
        let profiles = &self.0.profiles;
        let kid = profiles
            .uses_keyset(dialect)
            .then(|| kid_of(access_token))
            .flatten();
        let keys = self.keyset_knowing(held, kid.as_deref()).await?;
        let bearer = profiles.verify(dialect, access_token, &keys, self.now())?;
        Ok((bearer, keys))
    }

    /// The session of a verified token and its user, read together: a session from before the
    /// user's latest epoch bump, or of a disabled user, is dead.
    async fn session_and_user(&self, claims: Bearer) -> Result<SessionRead> {
        let user_id = claims.user;
        let sid = SessionId::parse(&claims.sid).ok_or(Error::Unauthenticated)?;
        let keys = [schema::session(&sid), schema::user(user_id)];
        let stamps = [self.store().stamp(&keys[0]), self.store().stamp(&keys[1])];
        let read = self.store().get_many(&keys).await?;
        let (session, user) = match <[Option<Item>; 2]>::try_from(read) {
            Ok([session, user]) => (session, user),
            Err(_) => return Err(Error::Unavailable),
        };
        let until = [&session, &user]
            .into_iter()
            .filter_map(|item| item.as_ref()?.expires_at)
            .fold(i64::MAX, i64::min);
        let user: Option<User> = user.map(|i| i.parse()).transpose()?;
        let Some(user) = user else {
            return Err(Error::Unauthenticated);
        };
        if !user.is_active() {
            return Err(Error::Disabled);
        }
        let Some(session) = session else {
            return Err(Error::Unauthenticated);
        };
        let state: SessionState = session.parse()?;
        if state.user_id != user_id || state.epoch < user.session_epoch {
            return Err(Error::Unauthenticated);
        }
        let principal = Principal {
            user_id,
            sid,
            dialect: state.dialect,
            aal: state.aal,
        };
        let [session_key, user_key] = keys;
        let stamped = match stamps {
            [Some(session), Some(user)] => Some([(session_key, session), (user_key, user)]),
            _ => None,
        };
        Ok(SessionRead {
            principal,
            user,
            stamped,
            until,
        })
    }

    /// Exchanges a refresh token of a session `dialect` opened for a new pair.
    #[tracing::instrument(name = "refresh", skip_all)]
    pub async fn refresh(&self, refresh_token: &str, dialect: Dialect) -> Result<Tokens> {
        let presented_token = RefreshToken::parse(refresh_token).ok_or(Error::Unauthenticated)?;
        let sid = presented_token.sid();
        let presented = super::tokens::sha256_hex(refresh_token);
        let keys = self.keyset().await?;
        // Two passes at most: a lost race re-reads the winner's state and takes the grace path.
        for _ in 0..2 {
            let (state, user) = self
                .session_for_refresh(sid, presented_token.user())
                .await?;
            if state.dialect != Some(dialect) {
                return Err(Error::Unauthenticated);
            }
            if !user.is_active() {
                return Err(Error::Disabled);
            }
            if state.epoch < user.session_epoch {
                return Err(Error::Unauthenticated);
            }
            let next = self.0.keys.next_refresh(sid, state.user_id, refresh_token);
            let now = self.now();
            if super::tokens::same_digest(&presented, &state.refresh_hash) {
                let mut replaced = state.replaced.clone();
                replaced.push(presented.clone());
                if replaced.len() > REMEMBERED {
                    replaced.remove(0);
                }
                let rotated = SessionState {
                    refresh_hash: super::tokens::sha256_hex(next.as_str()),
                    replaced,
                    rotated_at: now,
                    ..state
                };
                let cond = Condition::equals("refresh_hash", presented.clone());
                let dialect = rotated.dialect;
                match self
                    .store()
                    .write(self.session_writes(sid, &rotated, dialect, cond)?)
                    .await
                {
                    Ok(()) => return self.tokens(&keys, sid, &rotated, next),
                    Err(StoreError::ConditionFailed(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            let was_previous = state
                .replaced
                .last()
                .is_some_and(|h| super::tokens::same_digest(h, &presented));
            if was_previous
                && now <= state.rotated_at + self.config().refresh_grace
                && super::tokens::same_digest(
                    &super::tokens::sha256_hex(next.as_str()),
                    &state.refresh_hash,
                )
            {
                return self.tokens(&keys, sid, &state, next);
            }
            // Neither the current token nor the previous one within the grace: a stolen or
            // forged token is in play, so the whole session goes.
            let caller = Client {
                dialect: Some(dialect),
                ..Client::default()
            };
            self.security_event(
                super::security::Event::RefreshReuse,
                Some(state.user_id),
                &caller,
                "session revoked",
            );
            self.end_session(state.user_id, sid).await?;
            return Err(Error::Unauthenticated);
        }
        Err(Error::Unauthenticated)
    }

    /// A refresh token's session and its user: in one round trip when the token names the
    /// user (every token issued now does), else one after the other.
    async fn session_for_refresh(
        &self,
        sid: &SessionId,
        user_hint: Option<UserId>,
    ) -> Result<(SessionState, User)> {
        let (session, user) = match user_hint {
            Some(uid) => {
                let read = self
                    .store()
                    .get_many(&[schema::session(sid), schema::user(uid)])
                    .await?;
                match <[Option<Item>; 2]>::try_from(read) {
                    Ok([session, user]) => (session, user.map(|i| i.parse::<User>()).transpose()?),
                    Err(_) => return Err(Error::Unavailable),
                }
            }
            None => {
                let session = self.store().get(&schema::session(sid)).await?;
                let user = match &session {
                    Some(item) => self.user(item.parse::<SessionState>()?.user_id).await?,
                    None => None,
                };
                (session, user)
            }
        };
        let state: SessionState = session.ok_or(Error::Unauthenticated)?.parse()?;
        match user {
            Some(user) if user.id == state.user_id => Ok((state, user)),
            _ => Err(Error::Unauthenticated),
        }
    }

    /// Ends one session. Answers how many sessions ended (0 if it was already gone).
    #[tracing::instrument(name = "logout", skip_all)]
    pub async fn logout(&self, principal: &Principal) -> Result<u64> {
        self.end_session(principal.user_id, &principal.sid).await
    }

    /// Ends the session a refresh token belongs to, if it is the session's current or a
    /// replaced token.
    #[tracing::instrument(name = "logout_refresh", skip_all)]
    pub async fn logout_refresh(&self, refresh_token: &str) -> Result<u64> {
        let Some(presented_token) = RefreshToken::parse(refresh_token) else {
            return Ok(0);
        };
        let sid = presented_token.sid();
        let Some(item) = self.store().get(&schema::session(sid)).await? else {
            return Ok(0);
        };
        let state: SessionState = item.parse()?;
        let presented = super::tokens::sha256_hex(refresh_token);
        let known = std::iter::once(&state.refresh_hash)
            .chain(&state.replaced)
            .any(|h| super::tokens::same_digest(h, &presented));
        if !known {
            return Ok(0);
        }
        self.end_session(state.user_id, sid).await
    }

    async fn end_session(&self, user: UserId, sid: &SessionId) -> Result<u64> {
        let writes = vec![
            Write::Delete {
                key: schema::session(sid),
                cond: Condition::Exists,
            },
            Write::delete(schema::session_entry(user, sid)),
        ];
        match self.store().write(writes).await {
            Ok(()) => Ok(1),
            Err(StoreError::ConditionFailed(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Ends every session of the caller's user opened through the caller's own dialect (seed
    /// 004's logout removed all of the user's tokens).
    #[tracing::instrument(name = "logout_dialect", skip_all)]
    pub async fn logout_dialect(&self, principal: &Principal, dialect: Dialect) -> Result<u64> {
        self.end_sessions(principal.user_id, dialect).await
    }

    async fn end_sessions(&self, user: UserId, dialect: Dialect) -> Result<u64> {
        let mut ended = 0;
        // Pages follow the cursor: sessions of other dialects stay, so re-reading from the
        // start would find them again forever.
        let mut after: Option<String> = None;
        let mut raced = 0;
        loop {
            let query = schema::sessions_of(user).query(after.clone(), 50, false);
            let page = self.store().query(query).await?;
            let writes: Vec<Write> = page
                .items
                .iter()
                .filter(|i| {
                    i.parse::<SessionEntry>()
                        .is_ok_and(|e| e.dialect == Some(dialect))
                })
                .filter_map(|i| schema::entry_session(&i.key))
                .flat_map(|sid| {
                    [
                        Write::delete(schema::session(&sid)),
                        Write::Delete {
                            key: schema::session_entry(user, &sid),
                            cond: Condition::Exists,
                        },
                    ]
                })
                .collect();
            let this_page = writes.len() as u64 / 2;
            if !writes.is_empty() {
                match self.store().write(writes).await {
                    Ok(()) => ended += this_page,
                    // A concurrent logout ended one of them first: the count is of sessions
                    // this call ended (seed 004's), so the page is read again.
                    Err(StoreError::ConditionFailed(_)) if raced < MAX_RACES => {
                        raced += 1;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(ended),
            }
        }
    }

    /// The user behind an access token of any dialect (core callers): a dialect whose profile
    /// verifies it and whose session it names, as `whoami_in` checks for each (several
    /// dialects may share a profile; a legacy secret never opens another dialect's session).
    #[tracing::instrument(name = "whoami", skip_all)]
    pub async fn whoami(&self, access_token: &str) -> Result<(Principal, User)> {
        let mut refusal = Error::TokenInvalid;
        let held = self.keyset().await?;
        for dialect in Dialect::ALL {
            let bearer = match self.bearer(access_token, dialect, held.clone()).await {
                Ok((bearer, _)) => bearer,
                Err(e @ Error::TokenExpired) => {
                    refusal = e;
                    continue;
                }
                Err(Error::TokenInvalid) => continue,
                Err(e) => return Err(e),
            };
            let SessionRead {
                principal, user, ..
            } = self.session_and_user(bearer).await?;
            // The profile that verified the token must be its session's own; a session opened
            // without a dialect (core callers) takes polyauth's own tokens only.
            let own = match principal.dialect {
                Some(d) => d == dialect,
                None => self.0.profiles.uses_keyset(dialect),
            };
            if !own {
                refusal = Error::Unauthenticated;
                continue;
            }
            if principal.dialect == Some(Dialect::Pauli) && !self.assured_enough(&principal, &user)
            {
                return Err(Error::Unauthenticated);
            }
            return Ok((principal, user));
        }
        Err(refusal)
    }
}

/// Counts a session opened (a login, or a registration that signs in).
pub(crate) fn signed_in_metric(spec: &SessionSpec) {
    let dialect = spec.dialect.map_or("", Dialect::name);
    crate::metrics::count(
        crate::metrics::Metric::LoginSucceeded,
        &[("Dialect", dialect)],
    );
}

pub(crate) mod seen;
#[cfg(test)]
mod tests;
