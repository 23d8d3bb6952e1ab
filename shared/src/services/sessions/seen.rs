//! Who-am-I answers this process has verified, kept for as long as nothing they came from can
//! have changed. Every authenticated request of a client presents the same token until it
//! expires, and answering it anew verifies the JWT and reads and decodes two items, most of
//! what such a request costs. An answer is given again only when:
//!
//! - the token is the very one verified (compared in equal time; the map is keyed by a keyed
//!   hash, so a caller cannot aim at another token's entry), for the same dialect;
//! - the token, the session and the user all still live (the earliest of their expiries);
//! - the keyset it was verified with is still the one held (a reread may retire a key);
//! - the store vouches that neither item has been written since they were read (their stamps,
//!   taken before the read, are unchanged: `Store::stamp`). Only a store that sees every write
//!   of its data vouches, the embedded one; on DynamoDB nothing is kept.
//!
//! A logout, password change, disable or profile change writes one of the two items, so the
//! next request after it reads them again, as before.

use super::Principal;
use crate::{
    domain::{Dialect, User},
    services::tokens::Keyset,
    store::{Key, Store},
};
use std::{hash::BuildHasher, sync::Arc};
use subtle::ConstantTimeEq;

/// Tokens kept at most: each entry is about a kilobyte.
const CAPACITY: usize = 4096;

pub(crate) struct Seen {
    kept: quick_cache::sync::Cache<u64, Arc<Entry>>,
    hasher: std::hash::RandomState,
}

/// A verified answer and what it was read under.
pub(crate) struct Entry {
    pub token: Box<str>,
    pub dialect: Dialect,
    /// The keyset that verified the token, where the dialect's profile uses one.
    pub keyset: Option<Arc<Keyset>>,
    /// The session's and the user's keys, and their stamps before they were read.
    pub read: [(Key, u64); 2],
    /// The earliest expiry of the token, the session and the user.
    pub until: i64,
    pub principal: Principal,
    pub user: User,
}

impl Seen {
    pub(crate) fn new() -> Self {
        Seen {
            kept: quick_cache::sync::Cache::new(CAPACITY),
            hasher: std::hash::RandomState::new(),
        }
    }

    /// The answer kept for `token` in `dialect`, if it still holds at `now` with `keyset` held.
    pub(crate) fn recall(
        &self,
        token: &str,
        dialect: Dialect,
        keyset: Option<&Arc<Keyset>>,
        now: i64,
        store: &dyn Store,
    ) -> Option<(Principal, User)> {
        let entry = self.kept.get(&self.hasher.hash_one(token))?;
        let same_token: bool = entry.token.as_bytes().ct_eq(token.as_bytes()).into();
        let same_keys = match (&entry.keyset, keyset) {
            (Some(kept), Some(held)) => Arc::ptr_eq(kept, held),
            (None, None) => true,
            _ => false,
        };
        let unwritten = entry
            .read
            .iter()
            .all(|(key, stamp)| store.stamp(key) == Some(*stamp));
        (same_token && entry.dialect == dialect && now < entry.until && same_keys && unwritten)
            .then(|| (entry.principal.clone(), entry.user.clone()))
    }

    pub(crate) fn keep(&self, entry: Entry) {
        self.kept
            .insert(self.hasher.hash_one(&*entry.token), Arc::new(entry));
    }
}
