//! polyauth's own signing keys. Each generation has an id (`kid`), an HS256 secret and, once an
//! RS256 profile needs one, an RSA key pair. The keyset lives in the store as one item, each
//! generation's material sealed (XChaCha20-Poly1305 under a key derived from the root secret),
//! so a copy of the table alone signs nothing.
//!
//! Rotation adds a generation that starts signing at `activates_at`; until then it is already
//! published and accepted, so every instance and every JWKS cache knows it before a token uses
//! it. A replaced generation is kept for verification while tokens it signed can still be
//! alive: the longest access-token lifetime plus two hours after its successor took over.

use crate::{Error, Result};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::{pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts, PrivateKey};

/// How long a replaced generation still verifies: the longest token plus two hours.
pub const RETAIN_AFTER_REPLACED: i64 = crate::services::LONGEST_ACCESS_TTL + 2 * 3600;

const RSA_BITS: usize = 2048;

/// One generation's secret material, as it is sealed.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Material {
    hs: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rsa: Option<String>,
}

impl Material {
    /// Fresh material; RSA key generation takes tens of milliseconds, so callers run this off
    /// the async runtime.
    pub fn generate(with_rsa: bool) -> Result<Self> {
        let rsa = if with_rsa {
            Some(generate_rsa()?)
        } else {
            None
        };
        Ok(Material {
            hs: URL_SAFE_NO_PAD.encode(crate::random::bytes::<32>()),
            rsa,
        })
    }

    pub fn add_rsa(&mut self) -> Result<()> {
        if self.rsa.is_none() {
            self.rsa = Some(generate_rsa()?);
        }
        Ok(())
    }
}

fn generate_rsa() -> Result<String> {
    let key = PrivateKey::new(&mut getrandom::SysRng, RSA_BITS).map_err(|e| {
        tracing::error!(error = %e, "generating an RSA signing key failed");
        Error::Unavailable
    })?;
    let der = key.to_pkcs1_der().map_err(|e| {
        tracing::error!(error = %e, "encoding an RSA signing key failed");
        Error::Unavailable
    })?;
    Ok(URL_SAFE_NO_PAD.encode(der.as_bytes()))
}

/// The keyset item as stored: `version` makes every change a compare-and-set.
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub struct StoredKeyset {
    pub version: u64,
    pub keys: Vec<StoredKey>,
}

#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct StoredKey {
    pub kid: String,
    pub created_at: i64,
    pub activates_at: i64,
    sealed: String,
}

impl StoredKey {
    pub fn seal(
        seal_key: &[u8; 32],
        kid: String,
        created_at: i64,
        activates_at: i64,
        material: &Material,
    ) -> Result<Self> {
        let plain = serde_json::to_vec(material).map_err(|_| Error::Unavailable)?;
        let nonce = crate::random::bytes::<24>();
        let sealed = XChaCha20Poly1305::new(seal_key.into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| Error::Unavailable)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(StoredKey {
            kid,
            created_at,
            activates_at,
            sealed: URL_SAFE_NO_PAD.encode(out),
        })
    }

    /// `None` when the root secret that sealed it is not this one (it was rotated).
    pub fn open(&self, seal_key: &[u8; 32]) -> Option<Material> {
        let raw = URL_SAFE_NO_PAD.decode(&self.sealed).ok()?;
        if raw.len() < 24 {
            return None;
        }
        let (nonce, sealed) = raw.split_at(24);
        let plain = XChaCha20Poly1305::new(seal_key.into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: self.kid.as_bytes(),
                },
            )
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

/// An RSA key pair ready to sign and verify, with its public numbers for the JWKS.
pub struct RsaKey {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    n: String,
    e: String,
}

pub struct SigningKey {
    pub kid: String,
    pub activates_at: i64,
    pub hs_encoding: EncodingKey,
    pub hs_decoding: DecodingKey,
    pub rsa: Option<RsaKey>,
}

impl SigningKey {
    fn from_material(kid: &str, activates_at: i64, m: &Material) -> Option<Self> {
        let hs = URL_SAFE_NO_PAD.decode(&m.hs).ok()?;
        let rsa = match &m.rsa {
            None => None,
            Some(der) => Some(rsa_key(&URL_SAFE_NO_PAD.decode(der).ok()?)?),
        };
        Some(SigningKey {
            kid: kid.to_string(),
            activates_at,
            hs_encoding: EncodingKey::from_secret(&hs).ok()?,
            hs_decoding: DecodingKey::from_secret(&hs).ok()?,
            rsa,
        })
    }
}

fn rsa_key(der: &[u8]) -> Option<RsaKey> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let private = PrivateKey::from_pkcs1_der(der).ok()?;
    let public = private.to_public_key();
    let n = URL_SAFE_NO_PAD.encode(public.n_bytes());
    let e = URL_SAFE_NO_PAD.encode(public.e_bytes());
    Some(RsaKey {
        encoding: EncodingKey::from_rsa_der(der),
        decoding: DecodingKey::from_rsa_components(&n, &e).ok()?,
        n,
        e,
    })
}

/// The generations this process can use, oldest first.
pub struct Keyset {
    pub version: u64,
    keys: Vec<SigningKey>,
}

impl Keyset {
    /// Opens what the root secret can open; generations it cannot are skipped (and logged).
    pub fn open(stored: &StoredKeyset, seal_key: &[u8; 32]) -> Self {
        let keys = stored
            .keys
            .iter()
            .filter_map(|k| {
                let key = k
                    .open(seal_key)
                    .and_then(|m| SigningKey::from_material(&k.kid, k.activates_at, &m));
                if key.is_none() {
                    tracing::warn!(kid = %k.kid, "a signing key does not open with this root secret");
                }
                key
            })
            .collect();
        Keyset {
            version: stored.version,
            keys,
        }
    }

    /// The generation that signs now: the newest one already active, or, on a clock behind
    /// the one that wrote the keyset, the oldest (it is published either way).
    pub fn current(&self, now: i64) -> Option<&SigningKey> {
        self.keys
            .iter()
            .rev()
            .find(|k| k.activates_at <= now)
            .or(self.keys.first())
    }

    /// Whether this root secret opens none of the stored generations.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Whether the signing generation can sign RS256.
    pub fn current_has_rsa(&self, now: i64) -> bool {
        self.current(now).is_some_and(|k| k.rsa.is_some())
    }

    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }

    /// The public RSA keys as a JWK Set (RFC 7517), newest first.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .rev()
            .filter_map(|k| {
                let rsa = k.rsa.as_ref()?;
                Some(serde_json::json!({
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": k.kid,
                    "n": rsa.n,
                    "e": rsa.e,
                }))
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

impl StoredKeyset {
    /// Drops generations whose successor took over more than `RETAIN_AFTER_REPLACED` ago.
    pub fn prune(&mut self, now: i64) {
        let successors: Vec<i64> = self.keys.iter().skip(1).map(|k| k.activates_at).collect();
        let mut i = 0;
        self.keys.retain(|_| {
            let keep = successors
                .get(i)
                .is_none_or(|&next| next.saturating_add(RETAIN_AFTER_REPLACED) > now);
            i += 1;
            keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(seal: &[u8; 32], kid: &str, at: i64, rsa: bool) -> StoredKey {
        let m = Material::generate(rsa).unwrap();
        StoredKey::seal(seal, kid.into(), at, at, &m).unwrap()
    }

    #[test]
    fn sealed_material_opens_only_with_its_root_secret_and_kid() {
        let seal = [7u8; 32];
        let k = stored(&seal, "k1", 0, false);
        assert!(k.open(&seal).is_some());
        assert!(k.open(&[8u8; 32]).is_none());
        let mut moved = k.clone();
        moved.kid = "k2".into();
        assert!(
            moved.open(&seal).is_none(),
            "the kid is bound to its material"
        );
        let set = Keyset::open(
            &StoredKeyset {
                version: 1,
                keys: vec![k],
            },
            &[8u8; 32],
        );
        assert!(set.is_empty() && set.current(10).is_none());
    }

    #[test]
    fn the_newest_active_generation_signs_and_every_one_is_published() {
        let seal = [1u8; 32];
        let mut s = StoredKeyset {
            version: 3,
            keys: vec![stored(&seal, "old", 0, true), stored(&seal, "new", 0, true)],
        };
        s.keys[0].activates_at = 50;
        s.keys[1].activates_at = 100;
        let set = Keyset::open(&s, &seal);
        assert_eq!(
            set.current(10).map(|k| k.kid.as_str()),
            Some("old"),
            "a clock behind the writer's signs with the oldest"
        );
        assert_eq!(set.current(99).map(|k| k.kid.as_str()), Some("old"));
        assert_eq!(set.current(100).map(|k| k.kid.as_str()), Some("new"));
        let jwks = set.jwks();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, ["new", "old"]);
        assert_eq!(jwks["keys"][0]["e"], "AQAB");
        assert!(jwks["keys"][0].get("d").is_none(), "no private part");
    }

    #[test]
    fn a_replaced_generation_is_kept_while_its_tokens_can_live() {
        let seal = [1u8; 32];
        let mut s = StoredKeyset {
            version: 1,
            keys: vec![
                stored(&seal, "a", 0, false),
                stored(&seal, "b", 1000, false),
            ],
        };
        s.prune(1000 + RETAIN_AFTER_REPLACED - 1);
        assert_eq!(s.keys.len(), 2);
        s.prune(1000 + RETAIN_AFTER_REPLACED);
        assert_eq!(
            s.keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
    }
}
