//! Key material and token formats. One configured secret is split by purpose (HMAC with a
//! label), so the JWT key, the code-hash key and the refresh-derivation key are independent.

use crate::{domain::UserId, Error, Result};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    codes: [u8; 32],
    refresh: [u8; 32],
}

#[allow(clippy::expect_used, reason = "HMAC takes a key of any length")]
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
        mac.update(b"\x1f");
    }
    mac.finalize().into_bytes().into()
}

pub(crate) fn sha256_hex(data: &str) -> String {
    hex(&Sha256::digest(data.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal-time comparison of two hex digests.
pub fn same_digest(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// The claims of an access token, as seed 001's example shows (`user_id`, `type`, `iat`,
/// `exp`) plus `iss`, `sub`, `sid`, and seed 003's `data.id`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub user_id: u64,
    pub sid: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub iat: i64,
    pub exp: i64,
    pub data: ClaimData,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClaimData {
    pub id: u64,
}

const ACCESS: &str = "access_token";

impl Keys {
    pub fn derive(secret: &str) -> Self {
        let jwt = hmac(secret.as_bytes(), &[b"polyauth/jwt"]);
        Keys {
            encoding: EncodingKey::from_secret(&jwt),
            decoding: DecodingKey::from_secret(&jwt),
            codes: hmac(secret.as_bytes(), &[b"polyauth/codes"]),
            refresh: hmac(secret.as_bytes(), &[b"polyauth/refresh"]),
        }
    }

    /// Deterministic in its inputs: the same session, user and issue time give the same token,
    /// which is what lets two concurrent refreshes answer the same pair.
    pub fn sign_access(
        &self,
        issuer: &str,
        user: UserId,
        sid: &str,
        iat: i64,
        exp: i64,
    ) -> Result<String> {
        let claims = AccessClaims {
            iss: issuer.to_string(),
            sub: user.to_string(),
            user_id: user.0,
            sid: sid.to_string(),
            kind: ACCESS.into(),
            iat,
            exp,
            data: ClaimData { id: user.0 },
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "signing an access token failed");
            Error::Unavailable
        })
    }

    /// Pins HS256 and checks signature, `exp` (against `now`, no leeway), `iss` and `type`.
    pub fn verify_access(&self, issuer: &str, token: &str, now: i64) -> Result<AccessClaims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[issuer]);
        v.validate_exp = false;
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &v).map_err(|e| match e
                .kind()
            {
                ErrorKind::ExpiredSignature => Error::TokenExpired,
                _ => Error::TokenInvalid,
            })?;
        let claims = data.claims;
        if claims.kind != ACCESS {
            return Err(Error::TokenInvalid);
        }
        if claims.exp <= now {
            return Err(Error::TokenExpired);
        }
        Ok(claims)
    }

    /// Verification codes are stored as a keyed hash bound to their purpose and account.
    pub fn code_hash(&self, purpose: &str, account: &str, code: &str) -> String {
        hex(&hmac(
            &self.codes,
            &[purpose.as_bytes(), account.as_bytes(), code.as_bytes()],
        ))
    }

    /// The successor of a refresh token: unguessable without the server key, yet the same for
    /// everyone presenting the same token.
    pub fn next_refresh(&self, sid: &str, user: u64, token: &str) -> String {
        format!(
            "{sid}.{user}.{}",
            URL_SAFE_NO_PAD.encode(hmac(&self.refresh, &[token.as_bytes()]))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_round_trip_and_pin_the_algorithm() {
        let k = Keys::derive(crate::config::DEV_SECRET);
        let t = k
            .sign_access("polyauth", UserId(7), "sid", 1000, 1060)
            .unwrap();
        let c = k.verify_access("polyauth", &t, 1001).unwrap();
        assert_eq!(
            (c.user_id, c.sid.as_str(), c.kind.as_str(), c.exp),
            (7, "sid", "access_token", 1060)
        );
        assert_eq!(
            k.verify_access("polyauth", &t, 1060),
            Err(Error::TokenExpired)
        );
        assert_eq!(k.verify_access("other", &t, 1001), Err(Error::TokenInvalid));
        let other = Keys::derive("another-secret-another-secret-another-secret");
        assert_eq!(
            other.verify_access("polyauth", &t, 1001),
            Err(Error::TokenInvalid)
        );
        // alg=none with the same claims must be refused.
        let parts: Vec<&str> = t.split('.').collect();
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert_eq!(
            k.verify_access("polyauth", &none, 1001),
            Err(Error::TokenInvalid)
        );
        assert_eq!(
            k.sign_access("polyauth", UserId(7), "sid", 1000, 1060)
                .unwrap(),
            t
        );
    }

    #[test]
    fn code_hashes_are_bound_to_purpose_and_account() {
        let k = Keys::derive(crate::config::DEV_SECRET);
        let h = k.code_hash("register", "a@b.com", "123456");
        assert_ne!(h, k.code_hash("login", "a@b.com", "123456"));
        assert_ne!(h, k.code_hash("register", "c@b.com", "123456"));
        assert!(same_digest(
            &h,
            &k.code_hash("register", "a@b.com", "123456")
        ));
    }
}
