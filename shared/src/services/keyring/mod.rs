//! The signing keyset as this process holds it: read from the store on first use, created there
//! if none exists yet (a compare-and-set, so concurrent instances agree on one), read again every
//! five minutes and when a token names a `kid` this process has not seen (at most every 30 s), so
//! every Lambda instance learns of a rotation before the new key signs.

use super::{
    tokens::{Keyset, Material, StoredKey, StoredKeyset},
    Auth,
};
use crate::{
    schema,
    store::{Condition, Item, StoreError, Write},
    Error, Result,
};
use std::sync::{Arc, RwLock};

/// How often a process rereads the keyset; a rotation activates later than this by default.
pub const RECHECK_SECONDS: i64 = 300;
/// The shortest time between rereads prompted by an unknown `kid`.
const UNKNOWN_KID_RECHECK: i64 = 30;
/// The default delay between a rotation and its key signing: API Gateway's JWT authorizers
/// may cache a JWKS for two hours, and every instance rereads within `RECHECK_SECONDS`.
pub const DEFAULT_ACTIVATION_DELAY: i64 = 2 * 3600 + 2 * RECHECK_SECONDS;

#[derive(Default)]
pub(crate) struct Keyring {
    held: RwLock<Option<Held>>,
    loading: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Held {
    keyset: Arc<Keyset>,
    read_at: i64,
}

/// What a rotation did, for the admin command's answer.
#[derive(Debug, serde::Serialize)]
pub struct Rotation {
    pub kid: String,
    pub activates_at: i64,
    pub published: Vec<String>,
}

impl Auth {
    fn held(&self) -> Option<Held> {
        self.0.keyring.held.read().ok().and_then(|h| h.clone())
    }

    /// The keyset, reread when older than `RECHECK_SECONDS`; while the store cannot be read,
    /// the keyset held keeps serving (a reread is a refresh, not a dependency of each request).
    pub(crate) async fn keyset(&self) -> Result<Arc<Keyset>> {
        let now = self.now();
        match self.held() {
            Some(h) if h.read_at + RECHECK_SECONDS > now => Ok(h.keyset),
            Some(h) => match self.reload_keyset(now).await {
                Ok(keyset) => Ok(keyset),
                Err(e) => {
                    tracing::warn!(error = %e, "rereading the signing keyset failed: keeping the one held");
                    Ok(h.keyset)
                }
            },
            None => self.reload_keyset(now).await,
        }
    }

    /// `keyset` (the one held) after a token named `kid`: reread once if it does not know it.
    pub(crate) async fn keyset_knowing(
        &self,
        keyset: Arc<Keyset>,
        kid: Option<&str>,
    ) -> Result<Arc<Keyset>> {
        let now = self.now();
        let unknown = kid.is_some_and(|k| keyset.find(k).is_none());
        let stale = self
            .held()
            .is_some_and(|h| h.read_at + UNKNOWN_KID_RECHECK <= now);
        if unknown && stale {
            return self.reload_keyset(now).await;
        }
        Ok(keyset)
    }

    async fn reload_keyset(&self, now: i64) -> Result<Arc<Keyset>> {
        let _one_at_a_time = self.0.keyring.loading.lock().await;
        if let Some(h) = self.held().filter(|h| h.read_at >= now) {
            return Ok(h.keyset);
        }
        let keyset = Arc::new(self.read_or_create_keyset().await?);
        if let Ok(mut held) = self.0.keyring.held.write() {
            *held = Some(Held {
                keyset: keyset.clone(),
                read_at: now,
            });
        }
        Ok(keyset)
    }

    /// Reads the stored keyset; adds a generation when there is none or none this root secret
    /// opens (the others are kept, never wiped: an instance or a command with a wrong secret
    /// must not sign everyone out), and gives the signing key an RSA part when a profile needs
    /// one. Each change is a
    /// compare-and-set on the item's version: the loser of a race reads the winner's keyset.
    async fn read_or_create_keyset(&self) -> Result<Keyset> {
        let seal = *self.0.keys.seal_key();
        let needs_rsa = self.config().tokens.any_rs256();
        for _ in 0..3 {
            let now = self.now();
            let (mut stored, cond) = match self.store().get(&schema::signing_keyset()).await? {
                Some(item) => {
                    let s: StoredKeyset = item.parse()?;
                    let cond = Condition::equals("version", s.version);
                    (s, cond)
                }
                None => (StoredKeyset::default(), Condition::NotExists),
            };
            let keyset = Keyset::open(&stored, &seal);
            let signing = keyset.current(now).map(|k| k.kid.clone());
            match signing {
                Some(_) if !needs_rsa || keyset.current_has_rsa(now) => return Ok(keyset),
                Some(kid) => {
                    let Some(key) = stored.keys.iter_mut().find(|k| k.kid == kid) else {
                        return Err(Error::Unavailable);
                    };
                    let material = key.open(&seal).ok_or(Error::Unavailable)?;
                    let material = add_rsa(material).await?;
                    *key = StoredKey::seal(
                        &seal,
                        key.kid.clone(),
                        key.created_at,
                        key.activates_at,
                        &material,
                    )?;
                }
                None => {
                    if !stored.keys.is_empty() {
                        tracing::warn!(
                            "no stored signing key opens with this root secret: adding one that does"
                        );
                    }
                    let material = generate(needs_rsa).await?;
                    stored.keys.push(StoredKey::seal(
                        &seal,
                        crate::random::id(),
                        now,
                        now,
                        &material,
                    )?);
                }
            }
            stored.version += 1;
            if self.put_keyset(&stored, cond).await? {
                return Ok(Keyset::open(&stored, &seal));
            }
        }
        Err(Error::Unavailable)
    }

    /// Writes the keyset if nobody changed it since it was read; `false` when somebody did.
    async fn put_keyset(&self, stored: &StoredKeyset, cond: Condition) -> Result<bool> {
        let write = Write::Put {
            item: Item::of(schema::signing_keyset(), stored, None)?,
            cond,
        };
        match self.store().write(vec![write]).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Adds a signing key that signs from `activate_in` seconds on; tokens of the older keys
    /// keep verifying until they expire, codes and refresh tokens are untouched (they hang on
    /// the root secret, not on this keyset).
    #[tracing::instrument(name = "rotate_signing_key", skip_all)]
    pub async fn rotate_signing_key(&self, activate_in: i64) -> Result<Rotation> {
        let seal = *self.0.keys.seal_key();
        self.keyset().await?;
        for _ in 0..3 {
            let now = self.now();
            let item = self
                .store()
                .get(&schema::signing_keyset())
                .await?
                .ok_or(Error::Unavailable)?;
            let mut stored: StoredKeyset = item.parse()?;
            if Keyset::open(&stored, &seal).is_empty() {
                tracing::error!(
                    "refusing to rotate: this root secret opens none of the stored signing keys"
                );
                return Err(Error::Unavailable);
            }
            let cond = Condition::equals("version", stored.version);
            // Always with an RSA part: the command may run where no profile is rs256 (an
            // operator's shell) for a stack where one is, and the key must be published before
            // it signs.
            let material = generate(true).await?;
            let kid = crate::random::id();
            let activates_at = now.saturating_add(activate_in.max(0));
            stored.keys.push(StoredKey::seal(
                &seal,
                kid.clone(),
                now,
                activates_at,
                &material,
            )?);
            stored.prune(now);
            stored.version += 1;
            if self.put_keyset(&stored, cond).await? {
                {
                    let keyset = Arc::new(Keyset::open(&stored, &seal));
                    let published = keyset.kids().into_iter().map(String::from).collect();
                    if let Ok(mut held) = self.0.keyring.held.write() {
                        // A reread that raced this rotation may hold an older version already.
                        if held
                            .as_ref()
                            .is_none_or(|h| h.keyset.version < keyset.version)
                        {
                            *held = Some(Held {
                                keyset,
                                read_at: now,
                            });
                        }
                    }
                    self.security_event(
                        super::security::Event::SigningKeyRotated,
                        None,
                        &super::Client::internal(),
                        &kid,
                    );
                    return Ok(Rotation {
                        kid,
                        activates_at,
                        published,
                    });
                }
            }
        }
        Err(Error::Unavailable)
    }

    /// The public signing keys (RS256) as a JWK Set.
    pub async fn jwks(&self) -> Result<serde_json::Value> {
        Ok(self.keyset().await?.jwks())
    }
}

async fn generate(with_rsa: bool) -> Result<Material> {
    tokio::task::spawn_blocking(move || Material::generate(with_rsa))
        .await
        .map_err(|_| Error::Unavailable)?
}

async fn add_rsa(mut material: Material) -> Result<Material> {
    tokio::task::spawn_blocking(move || {
        material.add_rsa()?;
        Ok(material)
    })
    .await
    .map_err(|_| Error::Unavailable)?
}

#[cfg(test)]
mod tests;
