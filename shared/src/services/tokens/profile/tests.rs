use super::*;
use crate::services::tokens::{Material, StoredKey, StoredKeyset};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::Mac;
use serde_json::{json, Value};
use std::collections::HashMap;

const SEAL: [u8; 32] = [3; 32];

fn keyset(kids: &[&str]) -> Keyset {
    let keys = kids
        .iter()
        .map(|kid| {
            let m = Material::generate(true).unwrap();
            StoredKey::seal(&SEAL, kid.to_string(), 0, 0, &m).unwrap()
        })
        .collect();
    Keyset::open(&StoredKeyset { version: 1, keys }, &SEAL)
}

fn profiles(pairs: &[(&str, &str)]) -> Profiles {
    let vars: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = TokenConfig::read(&|k: &str| vars.get(k).cloned()).unwrap();
    Profiles::new(&config, "https://auth.example.com")
}

fn legacy_all() -> Profiles {
    profiles(&[
        ("POLYAUTH_LEGACY_SECRET_AUTH_JSON", "django-secret"),
        ("POLYAUTH_LEGACY_SECRET_API_V1", "alnitak-secret"),
        ("POLYAUTH_LEGACY_SECRET_V1", "shared-secret"),
        ("POLYAUTH_LEGACY_SECRET_AUTH_FORM", "biji-secret"),
    ])
}

static SID: std::sync::LazyLock<SessionId> =
    std::sync::LazyLock::new(|| SessionId::parse("sid-1-aaaaaaaaaaaa").unwrap());

fn grant() -> Grant<'static> {
    Grant {
        user: UserId(42),
        sid: &SID,
        iat: 1000,
        exp: 4600,
    }
}

fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let mut next = || -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap()
    };
    (next(), next())
}

/// An HS verifier written from the JWS spec with the `hmac` crate (not jsonwebtoken), as the
/// originals' libraries check: the signature over `header.payload`, then `exp` against now.
fn independent_hs<D: Mac + hmac::digest::KeyInit>(
    secret: &[u8],
    token: &str,
    now: i64,
) -> Option<Value> {
    let (input, sig) = token.rsplit_once('.')?;
    let mut mac = <D as hmac::digest::KeyInit>::new_from_slice(secret).ok()?;
    mac.update(input.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(sig).ok()?).ok()?;
    let (header, payload) = parts(token);
    let exp = header.get("exp").or(payload.get("exp"))?.as_i64()?;
    (exp > now).then_some(payload)
}

#[test]
fn every_legacy_profile_carries_exactly_the_originals_claims() {
    let p = legacy_all();
    let k = keyset(&["k"]);
    let sign = |d| p.sign(Some(d), &grant(), &k, 1000).unwrap();

    let t = sign(Dialect::AuthJson);
    assert_eq!(parts(&t).0, json!({"typ": "JWT", "alg": "HS256"}));
    let claims = independent_hs::<hmac::Hmac<sha2::Sha256>>(b"django-secret", &t, 1001).unwrap();
    assert_eq!(
        claims,
        json!({"user_id": 42, "exp": 4600, "iat": 1000, "type": "access_token", "sid": "sid-1-aaaaaaaaaaaa"})
    );

    let t = sign(Dialect::ApiV1);
    let claims = independent_hs::<hmac::Hmac<sha2::Sha256>>(b"alnitak-secret", &t, 1001).unwrap();
    assert_eq!(
        claims,
        json!({"UserId": 42, "TokenType": 0, "iss": "alnitak", "exp": 4600, "iat": 1000, "sid": "sid-1-aaaaaaaaaaaa"})
    );

    let t = sign(Dialect::V1);
    let claims = independent_hs::<hmac::Hmac<sha2::Sha256>>(b"shared-secret", &t, 1001).unwrap();
    assert_eq!(
        claims,
        json!({"exp": 4600, "iat": 1000, "data": {"id": 42}, "sid": "sid-1-aaaaaaaaaaaa"})
    );

    let t = sign(Dialect::AuthForm);
    assert_eq!(
        parts(&t).0,
        json!({"alg": "HS512", "iat": 1000, "exp": 4600})
    );
    let claims = independent_hs::<hmac::Hmac<sha2::Sha512>>(b"biji-secret", &t, 1001).unwrap();
    assert_eq!(claims, json!({"uid": 42, "sid": "sid-1-aaaaaaaaaaaa"}));

    for d in [
        Dialect::AuthJson,
        Dialect::ApiV1,
        Dialect::V1,
        Dialect::AuthForm,
    ] {
        let t = sign(d);
        assert_eq!(
            p.verify(d, &t, &k, 1001),
            Ok(Bearer {
                user: UserId(42),
                sid: "sid-1-aaaaaaaaaaaa".into(),
                expires_at: 4600,
            }),
            "{d:?}"
        );
        assert_eq!(p.verify(d, &t, &k, 4600), Err(Error::TokenExpired), "{d:?}");
        assert_eq!(sign(d), t, "deterministic: {d:?}");
    }
}

#[test]
fn a_token_of_one_profile_is_refused_by_every_other() {
    // The same secret everywhere, so only the format tells them apart.
    let same = "one-secret-for-all";
    let legacy = profiles(&[
        ("POLYAUTH_LEGACY_SECRET_AUTH_JSON", same),
        ("POLYAUTH_LEGACY_SECRET_API_V1", same),
        ("POLYAUTH_LEGACY_SECRET_V1", same),
        ("POLYAUTH_LEGACY_SECRET_AUTH_FORM", same),
    ]);
    let own = profiles(&[("POLYAUTH_TOKEN_PROFILE_PAULI", "rs256")]);
    let k = keyset(&["k"]);
    let legacy_dialects = [
        Dialect::AuthJson,
        Dialect::ApiV1,
        Dialect::V1,
        Dialect::AuthForm,
    ];
    let mut tokens: Vec<(&str, String)> = legacy_dialects
        .iter()
        .map(|&d| (d.name(), legacy.sign(Some(d), &grant(), &k, 1000).unwrap()))
        .collect();
    tokens.push((
        "hs256",
        own.sign(Some(Dialect::V1), &grant(), &k, 1000).unwrap(),
    ));
    tokens.push((
        "rs256",
        own.sign(Some(Dialect::Pauli), &grant(), &k, 1000).unwrap(),
    ));
    let verifiers: Vec<(&str, &Profiles, Dialect)> = legacy_dialects
        .iter()
        .map(|&d| (d.name(), &legacy, d))
        .chain([
            ("hs256", &own, Dialect::V1),
            ("rs256", &own, Dialect::Pauli),
        ])
        .collect();
    for (made_by, token) in &tokens {
        for (name, p, d) in &verifiers {
            let verdict = p.verify(*d, token, &k, 1001);
            if made_by == name {
                assert!(verdict.is_ok(), "{name} refuses its own token");
            } else {
                assert_eq!(
                    verdict,
                    Err(Error::TokenInvalid),
                    "{name} took {made_by}'s token"
                );
            }
        }
    }
}

#[test]
fn rs256_tokens_verify_with_the_published_key_alone() {
    let p = profiles(&[
        ("POLYAUTH_TOKEN_PROFILE_V1", "rs256"),
        ("POLYAUTH_TOKEN_AUDIENCE", "my-api"),
    ]);
    let k = keyset(&["old", "new"]);
    let t = p.sign(Some(Dialect::V1), &grant(), &k, 1000).unwrap();
    let (header, claims) = parts(&t);
    assert_eq!(header, json!({"typ": "JWT", "alg": "RS256", "kid": "new"}));
    assert_eq!(claims["aud"], "my-api");
    assert_eq!(claims["iss"], "https://auth.example.com");
    assert_eq!(claims["sub"], "42");

    // Verified with the `rsa` crate from the JWKS entry only (jsonwebtoken signed it).
    let jwks = k.jwks();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kid"] == "new")
        .unwrap();
    let n = rsa::BoxedUint::from_be_slice_vartime(
        &URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap(),
    );
    let e = rsa::BoxedUint::from_be_slice_vartime(
        &URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap(),
    );
    let public = rsa::PublicKey::new(n, e).unwrap();
    let (input, sig) = t.rsplit_once('.').unwrap();
    let digest = <rsa::sha2::Sha256 as rsa::sha2::Digest>::digest(input.as_bytes());
    public
        .verify(
            rsa::pkcs1v15::Pkcs1v15Sign::new::<rsa::sha2::Sha256>(),
            &digest,
            &URL_SAFE_NO_PAD.decode(sig).unwrap(),
        )
        .expect("the JWKS key verifies the token");

    assert!(p.verify(Dialect::V1, &t, &k, 1001).is_ok());
    // Another audience's verifier refuses it.
    let other = profiles(&[("POLYAUTH_TOKEN_PROFILE_V1", "rs256")]);
    assert_eq!(
        other.verify(Dialect::V1, &t, &k, 1001),
        Err(Error::TokenInvalid)
    );
}

fn forge(header: Value, claims: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[test]
fn none_algorithm_confusion_and_unknown_kids_are_refused() {
    let p = profiles(&[("POLYAUTH_TOKEN_PROFILE_V1", "rs256")]);
    let k = keyset(&["k1"]);
    let good = p.sign(Some(Dialect::V1), &grant(), &k, 1000).unwrap();
    let (_, claims) = parts(&good);

    // alg none, with the claims of a valid token.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": "k1"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_eq!(
        p.verify(Dialect::V1, &none, &k, 1001),
        Err(Error::TokenInvalid)
    );

    // Algorithm confusion: HS256 keyed with the published RSA public key, in every encoding a
    // verifier might hand HMAC (the JWK's modulus, and the JWK JSON itself).
    let jwk = k.jwks()["keys"][0].clone();
    for public in [
        URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap(),
        jwk.to_string().into_bytes(),
    ] {
        let confused = forge(
            json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}),
            &claims,
            &public,
        );
        assert_eq!(
            p.verify(Dialect::V1, &confused, &k, 1001),
            Err(Error::TokenInvalid)
        );
    }

    // A kid this keyset does not hold, even with a signature a key of ours made.
    let elsewhere = keyset(&["k2"]);
    let foreign = p
        .sign(Some(Dialect::V1), &grant(), &elsewhere, 1000)
        .unwrap();
    assert_eq!(
        p.verify(Dialect::V1, &foreign, &k, 1001),
        Err(Error::TokenInvalid)
    );

    // HS256 profile: the same tricks fail too.
    let hs = profiles(&[]);
    let hs_token = hs.sign(Some(Dialect::V1), &grant(), &k, 1000).unwrap();
    assert!(hs.verify(Dialect::V1, &hs_token, &k, 1001).is_ok());
    let (_, hs_claims) = parts(&hs_token);
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": "k1"}).to_string()),
        URL_SAFE_NO_PAD.encode(hs_claims.to_string())
    );
    assert_eq!(
        hs.verify(Dialect::V1, &none, &k, 1001),
        Err(Error::TokenInvalid)
    );
    assert_eq!(
        hs.verify(Dialect::V1, &good, &k, 1001),
        Err(Error::TokenInvalid)
    );
}

#[test]
fn the_originals_own_tokens_are_genuine_but_open_no_session() {
    let p = legacy_all();
    let k = keyset(&[]);
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let originals = [
        (
            Dialect::AuthJson,
            forge(
                hs256.clone(),
                &json!({"user_id": 42, "exp": 4600, "iat": 1000, "type": "access_token"}),
                b"django-secret",
            ),
        ),
        (
            Dialect::ApiV1,
            forge(
                hs256.clone(),
                &json!({"UserId": 42, "TokenType": 0, "iss": "alnitak", "exp": 4600, "iat": 1000}),
                b"alnitak-secret",
            ),
        ),
        (
            Dialect::V1,
            forge(
                hs256,
                &json!({"exp": 4600, "iat": 1000, "data": {"id": 42}}),
                b"shared-secret",
            ),
        ),
        (
            Dialect::AuthForm,
            timed_jws::sign(b"biji-secret", &json!({"uid": 42}), 1000, 4600).unwrap(),
        ),
    ];
    for (dialect, token) in &originals {
        // Told as a signed-out session (004: `Unauthorized`), not as a forgery.
        assert!(
            matches!(
                p.verify(*dialect, token, &k, 2000),
                Err(Error::Unauthenticated)
            ),
            "{dialect:?}"
        );
        assert!(
            matches!(
                p.verify(*dialect, token, &k, 5000),
                Err(Error::TokenExpired)
            ),
            "{dialect:?} expired"
        );
    }
}

/// `kid_of` only picks the key, and reads the `kid` jsonwebtoken's own header parse reads;
/// what it cannot read names no key.
#[test]
fn kid_of_reads_the_headers_kid_and_nothing_else() {
    let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    for header in [
        json!({"alg": "HS256", "typ": "JWT", "kid": "k-1"}),
        json!({"kid": "k-2", "alg": "RS256", "x5t": "abc", "cty": "JWT"}),
        json!({"alg": "HS256"}),
    ] {
        let token = format!("{}.{}.sig", enc(header.clone()), enc(json!({"sub": "1"})));
        let theirs = jsonwebtoken::decode_header(&token).unwrap().kid;
        assert_eq!(kid_of(&token), theirs, "{header}");
    }
    for garbage in ["", "abc", "%%%.x.y", &format!("{}.x.y", enc(json!("kid")))] {
        assert_eq!(kid_of(garbage), None, "{garbage:?}");
    }
}
