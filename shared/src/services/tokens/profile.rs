//! Each dialect's token profile (`config/tokens.rs`): what its access tokens carry, how they
//! are signed, and how polyauth verifies them. Every profile carries the session id `sid`, so
//! polyauth revokes a token at once by ending its session; a legacy profile adds it only where
//! the original's verifier ignores an unknown claim (all four do).
//!
//! Verification pins the profile's algorithm (a token of another algorithm, `none`, or an
//! HS256 token signed with an RSA public key is refused before its claims are read), checks the
//! signature, the profile's claims, then the expiry against the service clock, without leeway.

use super::{keyset::Keyset, timed_jws};
use crate::{
    config::{ProfileChoice, Secret, TokenConfig},
    domain::{Dialect, UserId},
    schema::SessionId,
    Error, Result,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// What an access token grants: the user, the session, and when it was issued and ends.
pub struct Grant<'a> {
    pub user: UserId,
    pub sid: &'a SessionId,
    pub iat: i64,
    pub exp: i64,
}

/// What a verified token names; the session check comes after.
#[derive(Debug, PartialEq)]
pub struct Bearer {
    pub user: UserId,
    pub sid: String,
    /// The token's `exp`.
    pub expires_at: i64,
}

/// polyauth's own claims: seed 001's (`user_id`, `type`, `iat`, `exp`), seed 003's `data.id`,
/// and `iss`, `sub`, `sid`; RS256 tokens add `aud` for JWT authorizers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    pub user_id: u64,
    pub sid: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub iat: i64,
    pub exp: i64,
    pub data: ClaimData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimData {
    pub id: u64,
}

const ACCESS: &str = "access_token";

/// Seed 001's original (Django, PyJWT): `jwt.decode(token, SECRET_KEY, algorithms="HS256")`,
/// then `type == "access_token"`, then `user_id`.
#[derive(Serialize, Deserialize)]
struct DjangoClaims {
    user_id: u64,
    exp: i64,
    iat: i64,
    #[serde(rename = "type")]
    kind: String,
    /// Absent from the original server's own tokens: a session polyauth never opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

/// Seed 002's original (alnitak, golang-jwt v4): `UserId`, `TokenType` 0 for access tokens,
/// `iss` "alnitak", signed with its `AccessJwtSecret`.
#[derive(Serialize, Deserialize)]
struct AlnitakClaims {
    #[serde(rename = "UserId")]
    user_id: u64,
    #[serde(rename = "TokenType")]
    token_type: u8,
    iss: String,
    exp: i64,
    iat: i64,
    /// Absent from the original server's own tokens: a session polyauth never opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

const ALNITAK_ISSUER: &str = "alnitak";

/// Seed 003's original (flame, node jsonwebtoken): `{exp, iat, data: {id}}`.
#[derive(Serialize, Deserialize)]
struct FlameClaims {
    exp: i64,
    iat: i64,
    data: ClaimData,
    /// Absent from the original server's own tokens: a session polyauth never opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

/// Seed 004's original (Biji, itsdangerous): the payload `{"uid"}`, times in the header.
#[derive(Serialize, Deserialize)]
struct BijiPayload {
    uid: u64,
    /// Absent from the original server's own tokens: a session polyauth never opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

enum Profile {
    Hs256,
    Rs256,
    Legacy(Box<Legacy>),
}

struct Legacy {
    dialect: Dialect,
    secret: Secret,
    /// Built once: a key and a validation per check cost every who-am-I their allocations.
    /// `None` only for an empty secret, which configuration refuses.
    key: Option<DecodingKey>,
    validation: Validation,
}

/// The profiles of the five dialects, built once from configuration.
pub struct Profiles {
    by_dialect: Vec<(Dialect, Profile)>,
    issuer: String,
    audience: String,
    /// polyauth's own tokens' validations, built once: each holds sets of claim names, issuer
    /// and audience, which per check cost every who-am-I their allocations.
    hs256: Validation,
    rs256: Validation,
}

impl Profiles {
    pub fn new(config: &TokenConfig, issuer: &str) -> Self {
        let by_dialect = Dialect::ALL
            .iter()
            .map(|&d| {
                let p = match config.profile(d) {
                    ProfileChoice::Hs256 => Profile::Hs256,
                    ProfileChoice::Rs256 => Profile::Rs256,
                    ProfileChoice::Legacy(secret) => Profile::Legacy(Box::new(Legacy {
                        dialect: d,
                        key: DecodingKey::from_secret(secret.expose()).ok(),
                        secret: secret.clone(),
                        validation: validation(Algorithm::HS256, &["exp"]),
                    })),
                };
                (d, p)
            })
            .collect();
        let own = |alg| {
            let mut v = validation(alg, &["exp", "iss", "sub"]);
            v.set_issuer(&[issuer]);
            if alg == Algorithm::RS256 {
                v.validate_aud = true;
                v.set_audience(&[&config.audience]);
            }
            v
        };
        Profiles {
            by_dialect,
            issuer: issuer.to_string(),
            audience: config.audience.clone(),
            hs256: own(Algorithm::HS256),
            rs256: own(Algorithm::RS256),
        }
    }

    fn of(&self, dialect: Dialect) -> &Profile {
        self.by_dialect
            .iter()
            .find(|(d, _)| *d == dialect)
            .map_or(&Profile::Hs256, |(_, p)| p)
    }

    /// Whether `dialect`'s tokens are signed by polyauth's keyset (and name a `kid`).
    pub fn uses_keyset(&self, dialect: Dialect) -> bool {
        !matches!(self.of(dialect), Profile::Legacy(_))
    }

    /// Deterministic in its inputs (HMAC and RSA PKCS#1 v1.5 both are): the same grant gives
    /// the same token, which is what lets two concurrent refreshes answer the same pair.
    pub fn sign(
        &self,
        dialect: Option<Dialect>,
        grant: &Grant,
        keys: &Keyset,
        now: i64,
    ) -> Result<String> {
        let profile = dialect.map_or(&Profile::Hs256, |d| self.of(d));
        match profile {
            Profile::Hs256 | Profile::Rs256 => {
                let key = keys.current(now).ok_or(Error::Unavailable)?;
                let rs = matches!(profile, Profile::Rs256);
                let (alg, encoding) = match (&key.rsa, rs) {
                    (Some(rsa), true) => (Algorithm::RS256, &rsa.encoding),
                    (None, true) => {
                        tracing::error!("an RS256 profile but the signing key has no RSA part");
                        return Err(Error::Unavailable);
                    }
                    (_, false) => (Algorithm::HS256, &key.hs_encoding),
                };
                let mut header = Header::new(alg);
                header.kid = Some(key.kid.clone());
                let claims = AccessClaims {
                    iss: self.issuer.clone(),
                    sub: grant.user.to_string(),
                    aud: rs.then(|| self.audience.clone()),
                    user_id: grant.user.0,
                    sid: grant.sid.to_string(),
                    kind: ACCESS.into(),
                    iat: grant.iat,
                    exp: grant.exp,
                    data: ClaimData { id: grant.user.0 },
                };
                encode(&header, &claims, encoding)
            }
            Profile::Legacy(legacy) => legacy.sign(grant),
        }
    }

    /// The user and session a token of `dialect` names. A keyset token whose `kid` this
    /// keyset does not hold answers `TokenInvalid` (the caller may reload the keyset first).
    pub fn verify(&self, dialect: Dialect, token: &str, keys: &Keyset, now: i64) -> Result<Bearer> {
        match self.of(dialect) {
            Profile::Hs256 => self.verify_own(token, keys, now, Algorithm::HS256),
            Profile::Rs256 => self.verify_own(token, keys, now, Algorithm::RS256),
            Profile::Legacy(legacy) => legacy.verify(token, now),
        }
    }

    fn verify_own(&self, token: &str, keys: &Keyset, now: i64, alg: Algorithm) -> Result<Bearer> {
        let kid = kid_of(token).ok_or(Error::TokenInvalid)?;
        let key = keys.find(&kid).ok_or(Error::TokenInvalid)?;
        let (decoding, v) = match alg {
            Algorithm::RS256 => (
                &key.rsa.as_ref().ok_or(Error::TokenInvalid)?.decoding,
                &self.rs256,
            ),
            _ => (&key.hs_decoding, &self.hs256),
        };
        let c: AccessClaims = decode(token, decoding, v)?;
        if c.kind != ACCESS || c.sub != c.user_id.to_string() {
            return Err(Error::TokenInvalid);
        }
        live(c.exp, now)?;
        Ok(Bearer {
            user: UserId(c.user_id),
            sid: c.sid,
            expires_at: c.exp,
        })
    }
}

/// The `kid` of a token's header, read before its signature is checked only to pick the key
/// (the verification decodes the whole header again, and refuses what this lets through). Only
/// the `kid` is read: decoding every header field twice cost who-am-I a measurable share.
pub fn kid_of(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Kid {
        kid: Option<String>,
    }
    let (header, _) = token.split_once('.')?;
    let json = URL_SAFE_NO_PAD.decode(header).ok()?;
    serde_json::from_slice::<Kid>(&json).ok()?.kid
}

impl Legacy {
    fn sign(&self, g: &Grant) -> Result<String> {
        let header = Header::new(Algorithm::HS256);
        // Configuration refuses an empty secret, the one key HMAC keys refuse.
        let key = EncodingKey::from_secret(self.secret.expose()).map_err(|_| Error::Unavailable)?;
        let sid = Some(g.sid.to_string());
        match self.dialect {
            Dialect::AuthJson => encode(
                &header,
                &DjangoClaims {
                    user_id: g.user.0,
                    exp: g.exp,
                    iat: g.iat,
                    kind: ACCESS.into(),
                    sid,
                },
                &key,
            ),
            Dialect::ApiV1 => encode(
                &header,
                &AlnitakClaims {
                    user_id: g.user.0,
                    token_type: 0,
                    iss: ALNITAK_ISSUER.into(),
                    exp: g.exp,
                    iat: g.iat,
                    sid,
                },
                &key,
            ),
            Dialect::V1 => encode(
                &header,
                &FlameClaims {
                    exp: g.exp,
                    iat: g.iat,
                    data: ClaimData { id: g.user.0 },
                    sid,
                },
                &key,
            ),
            Dialect::AuthForm => timed_jws::sign(
                self.secret.expose(),
                &BijiPayload { uid: g.user.0, sid },
                g.iat,
                g.exp,
            ),
            // Configuration refuses a legacy profile for pauli.
            Dialect::Pauli => Err(Error::Unavailable),
        }
    }

    fn verify(&self, token: &str, now: i64) -> Result<Bearer> {
        let (user, sid, exp) = match self.dialect {
            Dialect::AuthJson => {
                let c: DjangoClaims = self.decode(token)?;
                if c.kind != ACCESS {
                    return Err(Error::TokenInvalid);
                }
                (c.user_id, c.sid, c.exp)
            }
            Dialect::ApiV1 => {
                let c: AlnitakClaims = self.decode(token)?;
                if c.token_type != 0 || c.iss != ALNITAK_ISSUER {
                    return Err(Error::TokenInvalid);
                }
                (c.user_id, c.sid, c.exp)
            }
            Dialect::V1 => {
                let c: FlameClaims = self.decode(token)?;
                (c.data.id, c.sid, c.exp)
            }
            Dialect::AuthForm => {
                let (p, exp): (BijiPayload, i64) =
                    timed_jws::verify(self.secret.expose(), token, now)?;
                (p.uid, p.sid, exp)
            }
            Dialect::Pauli => return Err(Error::TokenInvalid),
        };
        if self.dialect != Dialect::AuthForm {
            live(exp, now)?;
        }
        // A token the original itself signed (before the move) is genuine, expired or not, as
        // above; its session was the original's, so it is told as a signed-out one.
        let sid = sid.ok_or(Error::Unauthenticated)?;
        Ok(Bearer {
            user: UserId(user),
            sid,
            expires_at: exp,
        })
    }

    fn decode<T: DeserializeOwned>(&self, token: &str) -> Result<T> {
        let key = self.key.as_ref().ok_or(Error::TokenInvalid)?;
        decode(token, key, &self.validation)
    }
}

fn validation(alg: Algorithm, required: &[&str]) -> Validation {
    let mut v = Validation::new(alg);
    // Expiry is checked against the service clock, after the signature.
    v.validate_exp = false;
    v.validate_aud = false;
    v.leeway = 0;
    v.set_required_spec_claims(required);
    v
}

fn live(exp: i64, now: i64) -> Result<()> {
    if exp <= now {
        return Err(Error::TokenExpired);
    }
    Ok(())
}

fn encode<T: Serialize>(header: &Header, claims: &T, key: &EncodingKey) -> Result<String> {
    jsonwebtoken::encode(header, claims, key).map_err(|e| {
        tracing::error!(error = %e, "signing an access token failed");
        Error::Unavailable
    })
}

fn decode<T: DeserializeOwned>(token: &str, key: &DecodingKey, v: &Validation) -> Result<T> {
    jsonwebtoken::decode::<T>(token, key, v)
        .map(|d| d.claims)
        .map_err(|_| Error::TokenInvalid)
}

#[cfg(test)]
mod tests;
