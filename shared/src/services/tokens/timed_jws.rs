//! itsdangerous 1.x `TimedJSONWebSignatureSerializer` tokens, seed 004's original format: a
//! compact JWS signed HS512 with the app's `SECRET_KEY` as is (no salt, so no key derivation),
//! `iat` and `exp` in the protected header, the payload `{"uid": <id>}`. No JWT crate writes
//! expiry into the header, so this small format is written here.

use crate::Error;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha512;

type HmacSha512 = Hmac<Sha512>;

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    alg: String,
    iat: i64,
    exp: i64,
}

#[allow(clippy::expect_used, reason = "HMAC takes a key of any length")]
fn mac(secret: &[u8], signing_input: &str) -> HmacSha512 {
    let mut mac = HmacSha512::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(signing_input.as_bytes());
    mac
}

pub fn sign<T: serde::Serialize>(
    secret: &[u8],
    payload: &T,
    iat: i64,
    exp: i64,
) -> crate::Result<String> {
    let header = serde_json::to_vec(&Header {
        alg: "HS512".into(),
        iat,
        exp,
    })
    .map_err(|_| Error::Unavailable)?;
    let body = serde_json::to_vec(payload).map_err(|_| Error::Unavailable)?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(body)
    );
    let sig = mac(secret, &input).finalize().into_bytes();
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// As itsdangerous's `loads`: the signature (equal-time), then `alg` is HS512, then `exp` is a
/// non-negative integer after `now` (polyauth's rule for every token: a token is dead at its
/// `exp`; itsdangerous still took it in that second). Anything else is `TokenInvalid`.
/// Answers the payload and the `exp`.
pub fn verify<T: serde::de::DeserializeOwned>(
    secret: &[u8],
    token: &str,
    now: i64,
) -> crate::Result<(T, i64)> {
    let (input, sig) = token.rsplit_once('.').ok_or(Error::TokenInvalid)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| Error::TokenInvalid)?;
    mac(secret, input)
        .verify_slice(&sig)
        .map_err(|_| Error::TokenInvalid)?;
    let (header, body) = input.split_once('.').ok_or(Error::TokenInvalid)?;
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(Error::TokenInvalid)?;
    if header.alg != "HS512" || header.exp < 0 {
        return Err(Error::TokenInvalid);
    }
    if header.exp <= now {
        return Err(Error::TokenExpired);
    }
    let payload = URL_SAFE_NO_PAD
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(Error::TokenInvalid)?;
    Ok((payload, header.exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Uid {
        uid: u64,
    }

    #[test]
    fn round_trip_expiry_and_tampering() {
        let t = sign(b"key", &Uid { uid: 9 }, 100, 200).unwrap();
        assert_eq!(verify::<Uid>(b"key", &t, 199), Ok((Uid { uid: 9 }, 200)));
        assert_eq!(verify::<Uid>(b"key", &t, 200), Err(Error::TokenExpired));
        assert_eq!(verify::<Uid>(b"other", &t, 150), Err(Error::TokenInvalid));
        let (head, _) = t.split_once('.').unwrap();
        let forged = format!("{head}.{}.", URL_SAFE_NO_PAD.encode(br#"{"uid":1}"#));
        assert_eq!(
            verify::<Uid>(b"key", &forged, 150),
            Err(Error::TokenInvalid)
        );
    }

    #[test]
    fn a_header_of_another_algorithm_is_refused_even_when_signed() {
        // Signed with the right key but claiming HS256: itsdangerous refuses the mismatch.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","iat":1,"exp":999}"#);
        let body = URL_SAFE_NO_PAD.encode(br#"{"uid":1}"#);
        let input = format!("{header}.{body}");
        let sig = URL_SAFE_NO_PAD.encode(mac(b"key", &input).finalize().into_bytes());
        assert_eq!(
            verify::<Uid>(b"key", &format!("{input}.{sig}"), 5),
            Err(Error::TokenInvalid)
        );
    }
}
