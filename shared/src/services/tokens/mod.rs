//! Key material by purpose. The root secret (`POLYAUTH_JWT_SECRET`) is split with labelled
//! HMACs into the key that hashes codes, the key that derives refresh tokens and the key that
//! seals the stored signing keys; access tokens are signed by the keyset (`keyset.rs`) or an
//! original app's secret (`profile.rs`). Rotating a signing key therefore voids no code, reset
//! link or refresh token; rotating the root secret signs everyone out.

pub mod cookie_session;
mod keyset;
mod profile;
mod timed_jws;

pub use keyset::{Keyset, Material, SigningKey, StoredKey, StoredKeyset};
pub use profile::{kid_of, AccessClaims, Bearer, Grant, Profiles};

use crate::{
    domain::UserId,
    schema::{RefreshToken, SessionId},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub struct Keys {
    codes: [u8; 32],
    refresh: [u8; 32],
    seal: [u8; 32],
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

impl Keys {
    pub fn derive(secret: &str) -> Self {
        Keys {
            codes: hmac(secret.as_bytes(), &[b"polyauth/codes"]),
            refresh: hmac(secret.as_bytes(), &[b"polyauth/refresh"]),
            seal: hmac(secret.as_bytes(), &[b"polyauth/keyset"]),
        }
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
    pub fn next_refresh(&self, sid: &SessionId, user: UserId, token: &str) -> RefreshToken {
        let secret = URL_SAFE_NO_PAD.encode(hmac(&self.refresh, &[token.as_bytes()]));
        RefreshToken::issue(sid, user, &secret)
    }

    pub(crate) fn seal_key(&self) -> &[u8; 32] {
        &self.seal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
