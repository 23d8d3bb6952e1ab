//! Sessions: an access JWT bound to a session id, and an opaque refresh token rotated on every
//! use. A session item holds the hash of the current refresh token and of the ones it replaced:
//! presenting a replaced token revokes the session (the whole family of its tokens), except the
//! immediately previous token within a short grace, which gets the very same new pair, so two
//! tabs refreshing at once both stay signed in.

use super::{batch::Batch, Auth, Client, LoginType};
use crate::{
    domain::{User, UserId},
    store::{Condition, Item, Key, Query, StoreError, Write},
    Error, Result,
};

/// Replaced refresh-token hashes remembered per session, to recognise reuse.
const REMEMBERED: usize = 16;

/// The dialect a session was opened through. Seed 004's logout ends every session its own
/// clients opened, and only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    Pauli,
    AuthJson,
    ApiV1,
    V1,
    AuthForm,
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
    pub sid: String,
    pub access: String,
    pub refresh: String,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
}

/// The caller behind a valid access token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: UserId,
    pub sid: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SessionState {
    user_id: UserId,
    refresh_hash: String,
    #[serde(default)]
    replaced: Vec<String>,
    rotated_at: i64,
    access_ttl: i64,
    #[serde(default)]
    backdate: i64,
    #[serde(default)]
    dialect: Option<Dialect>,
    created_at: i64,
}

fn session_key(sid: &str) -> Key {
    Key::new(format!("SESSION#{sid}"), "SESSION")
}

/// The per-user index entry, to list and revoke a user's sessions.
fn index_key(user: UserId, sid: &str) -> Key {
    Key::new(format!("USER#{user}"), format!("SESSION#{sid}"))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IndexEntry {
    sid: String,
    #[serde(default)]
    dialect: Option<Dialect>,
}

impl Auth {
    fn session_expiry(&self, s: &SessionState) -> i64 {
        s.rotated_at + self.config().refresh_ttl.max(s.access_ttl)
    }

    fn session_writes(
        &self,
        sid: &str,
        s: &SessionState,
        dialect: Option<Dialect>,
        cond: Condition,
    ) -> Vec<Write> {
        let until = Some(self.session_expiry(s));
        vec![
            Write::Put {
                item: Item::of(session_key(sid), s, until),
                cond,
            },
            Write::put(Item::of(
                index_key(s.user_id, sid),
                &IndexEntry {
                    sid: sid.into(),
                    dialect,
                },
                until,
            )),
        ]
    }

    fn tokens(&self, sid: &str, s: &SessionState, refresh: String) -> Result<Tokens> {
        let access = self.0.keys.sign_access(
            &self.config().issuer,
            s.user_id,
            sid,
            s.rotated_at - s.backdate,
            s.rotated_at + s.access_ttl,
        )?;
        Ok(Tokens {
            user_id: s.user_id,
            sid: sid.to_string(),
            access,
            refresh,
            access_expires_at: s.rotated_at + s.access_ttl,
            refresh_expires_at: self.session_expiry(s),
        })
    }

    /// The writes that open a session for `user` and record the login, plus its tokens.
    /// Callers put these in one transaction with whatever else the login changes.
    pub(crate) fn open_session(
        &self,
        user: &User,
        spec: &SessionSpec,
        kind: LoginType,
        client: &Client,
    ) -> Result<(Batch, Tokens)> {
        let now = self.now();
        let sid = crate::random::id();
        let refresh = format!("{sid}.{}", crate::random::token());
        let state = SessionState {
            user_id: user.id,
            refresh_hash: super::tokens::sha256_hex(&refresh),
            replaced: vec![],
            rotated_at: now,
            access_ttl: spec.access_ttl.unwrap_or(self.config().access_ttl),
            backdate: spec.backdate,
            dialect: spec.dialect,
            created_at: now,
        };
        let mut batch = Batch::new();
        // A fresh random session id: its `NotExists` condition cannot fail in practice.
        batch.push_all(self.session_writes(&sid, &state, spec.dialect, Condition::NotExists));
        batch.push(self.login_record(user.id, kind, client));
        let tokens = self.tokens(&sid, &state, refresh)?;
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
        let (mut batch, tokens) = self.open_session(user, spec, kind, client)?;
        batch.append(extra);
        batch.commit(self.store()).await?;
        Ok(tokens)
    }

    /// Verifies an access token and that its session is still open (logout and password
    /// changes end sessions, and with them their access tokens, at once).
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal> {
        let claims = self
            .0
            .keys
            .verify_access(&self.config().issuer, access_token, self.now())?;
        let Some(item) = self.store().get(&session_key(&claims.sid)).await? else {
            return Err(self.why_session_gone(UserId(claims.user_id)).await);
        };
        let state: SessionState = item.parse()?;
        if state.user_id.0 != claims.user_id {
            return Err(Error::Unauthenticated);
        }
        Ok(Principal {
            user_id: state.user_id,
            sid: claims.sid,
        })
    }

    /// A session that is gone was logged out, replaced, or ended with its user's account: only
    /// the failure path pays for the profile read that tells the last apart.
    async fn why_session_gone(&self, user: UserId) -> Error {
        match self.user(user).await {
            Ok(Some(u)) if !u.is_active() => Error::Disabled,
            Ok(_) => Error::Unauthenticated,
            Err(e) => e,
        }
    }

    /// Exchanges a refresh token for a new pair.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens> {
        let sid = refresh_token
            .split_once('.')
            .map(|(s, _)| s)
            .filter(|s| crate::random::well_formed(s) && refresh_token.len() <= 256)
            .ok_or(Error::Unauthenticated)?;
        let presented = super::tokens::sha256_hex(refresh_token);
        let next = self.0.keys.next_refresh(sid, refresh_token);
        // Two passes at most: a lost race re-reads the winner's state and takes the grace path.
        for _ in 0..2 {
            let item = self
                .store()
                .get(&session_key(sid))
                .await?
                .ok_or(Error::Unauthenticated)?;
            let state: SessionState = item.parse()?;
            let now = self.now();
            if super::tokens::same_digest(&presented, &state.refresh_hash) {
                let mut replaced = state.replaced.clone();
                replaced.push(presented.clone());
                if replaced.len() > REMEMBERED {
                    replaced.remove(0);
                }
                let rotated = SessionState {
                    refresh_hash: super::tokens::sha256_hex(&next),
                    replaced,
                    rotated_at: now,
                    ..state
                };
                let cond = Condition::equals("refresh_hash", presented.clone());
                let dialect = rotated.dialect;
                match self
                    .store()
                    .write(self.session_writes(sid, &rotated, dialect, cond))
                    .await
                {
                    Ok(()) => return self.tokens(sid, &rotated, next),
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
                    &super::tokens::sha256_hex(&next),
                    &state.refresh_hash,
                )
            {
                return self.tokens(sid, &state, next);
            }
            if state
                .replaced
                .iter()
                .any(|h| super::tokens::same_digest(h, &presented))
            {
                tracing::warn!(user = %state.user_id, "refresh token reuse: revoking the session");
                self.end_session(state.user_id, sid).await?;
            }
            return Err(Error::Unauthenticated);
        }
        Err(Error::Unauthenticated)
    }

    /// Ends one session. Answers how many sessions ended (0 if it was already gone).
    pub async fn logout(&self, principal: &Principal) -> Result<u64> {
        self.end_session(principal.user_id, &principal.sid).await
    }

    /// Ends the session a refresh token belongs to, if it is the session's current or a
    /// replaced token.
    pub async fn logout_refresh(&self, refresh_token: &str) -> Result<u64> {
        let Some((sid, _)) = refresh_token
            .split_once('.')
            .filter(|(s, _)| crate::random::well_formed(s) && refresh_token.len() <= 256)
        else {
            return Ok(0);
        };
        let Some(item) = self.store().get(&session_key(sid)).await? else {
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

    async fn end_session(&self, user: UserId, sid: &str) -> Result<u64> {
        let writes = vec![
            Write::Delete {
                key: session_key(sid),
                cond: Condition::Exists,
            },
            Write::delete(index_key(user, sid)),
        ];
        match self.store().write(writes).await {
            Ok(()) => Ok(1),
            Err(StoreError::ConditionFailed(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Ends every session of a user, or only those opened through `dialect`. Answers how many
    /// ended.
    pub async fn logout_all(&self, user: UserId) -> Result<u64> {
        self.end_sessions(user, None).await
    }

    /// Ends every session of the caller's user opened through the caller's own dialect (seed
    /// 004's logout removed all of the user's tokens).
    pub async fn logout_dialect(&self, principal: &Principal, dialect: Dialect) -> Result<u64> {
        self.end_sessions(principal.user_id, Some(dialect)).await
    }

    async fn end_sessions(&self, user: UserId, dialect: Option<Dialect>) -> Result<u64> {
        let mut ended = 0;
        // Pages follow the cursor: sessions of other dialects stay, so re-reading from the
        // start would find them again forever.
        let mut after = None;
        loop {
            let page = self
                .store()
                .query(Query {
                    pk: format!("USER#{user}"),
                    sk_prefix: "SESSION#".into(),
                    after: after.take(),
                    limit: 50,
                    newest_first: false,
                })
                .await?;
            let writes: Vec<Write> = page
                .items
                .iter()
                .filter(|i| {
                    dialect.is_none() || i.parse::<IndexEntry>().is_ok_and(|e| e.dialect == dialect)
                })
                .filter_map(|i| i.key.sk.strip_prefix("SESSION#"))
                .flat_map(|sid| {
                    [
                        Write::delete(session_key(sid)),
                        Write::delete(index_key(user, sid)),
                    ]
                })
                .collect();
            ended += writes.len() as u64 / 2;
            if !writes.is_empty() {
                self.store().write(writes).await?;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(ended),
            }
        }
    }

    /// The user behind an access token, for who-am-I endpoints.
    pub async fn whoami(&self, access_token: &str) -> Result<(Principal, User)> {
        let principal = self.authenticate(access_token).await?;
        let user = self
            .user(principal.user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if !user.is_active() {
            return Err(Error::Unauthenticated);
        }
        Ok((principal, user))
    }
}
