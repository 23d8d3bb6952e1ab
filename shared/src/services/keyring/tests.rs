use super::super::testing::*;
use super::super::*;
use crate::{domain::Code, sender::Channel};

fn spec(dialect: Dialect) -> SessionSpec {
    SessionSpec {
        dialect: Some(dialect),
        ..Default::default()
    }
}

/// V1 signs RS256 (so the keyset has RSA keys to publish); ApiV1 keeps HS256.
fn config() -> Config {
    let mut c = Config::for_tests();
    c.tokens
        .set(Dialect::V1, crate::config::ProfileChoice::Rs256);
    c
}

async fn signed_in(auth: &Auth, email: &str, dialect: Dialect) -> SignedIn {
    auth.register(new_email(email, "secret-pass-1"), None, &client())
        .await
        .unwrap();
    let account = auth.account(email).unwrap();
    let password = crate::domain::Password::attempt("secret-pass-1").unwrap();
    auth.password_login(Attempt::new(&account, &password, &client()), &spec(dialect))
        .await
        .unwrap()
}

fn kid(token: &str) -> String {
    super::super::tokens::kid_of(token).unwrap()
}

fn published(jwks: &serde_json::Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_rotation_voids_no_token_refresh_token_or_code() {
    let t = Harness::builder().config(config()).build();
    let hs = signed_in(&t.auth, "hs@x.com", Dialect::ApiV1).await;
    let rs = signed_in(&t.auth, "rs@x.com", Dialect::V1).await;
    let issued = t
        .auth
        .issue_code(
            Purpose::Register,
            &subject("new@x.com"),
            Channel::Email,
            "new@x.com",
            None,
            &client(),
        )
        .await
        .unwrap();
    let code = Code::parse(&t.last_code("new@x.com")).unwrap();
    let before = published(&t.auth.jwks().await.unwrap());
    assert_eq!(before, [kid(&rs.tokens.access)]);

    let rotation = t.auth.rotate_signing_key(0).await.unwrap();
    assert_ne!(rotation.kid, before[0]);
    assert_eq!(rotation.published.len(), 2);
    let after = published(&t.auth.jwks().await.unwrap());
    assert_eq!(
        after,
        [rotation.kid.clone(), before[0].clone()],
        "both keys, newest first"
    );

    // Tokens of the old key keep working, refresh tokens keep rotating, codes still verify.
    for (s, d) in [(&hs, Dialect::ApiV1), (&rs, Dialect::V1)] {
        assert!(t.auth.authenticate_in(&s.tokens.access, d).await.is_ok());
        let next = t.auth.refresh(&s.tokens.refresh, d).await.unwrap();
        assert_eq!(
            kid(&next.access),
            rotation.kid,
            "new tokens use the new key"
        );
        assert!(t.auth.authenticate_in(&next.access, d).await.is_ok());
    }
    assert!(t
        .auth
        .check_code(Purpose::Register, &subject("new@x.com"), &code)
        .await
        .is_ok());
    assert!(issued.expires_at > t.auth.now());

    // Until they expire, as always.
    t.clock.advance(t.auth.config().access_ttl);
    assert_eq!(
        t.auth
            .authenticate_in(&hs.tokens.access, Dialect::ApiV1)
            .await,
        Err(Error::TokenExpired)
    );
}

#[tokio::test]
async fn another_instance_learns_a_rotation_before_the_new_key_signs() {
    let t = Harness::builder().config(config()).build();
    let other = Harness::builder().config(config()).beside(&t).build().auth;
    let first = signed_in(&t.auth, "a@x.com", Dialect::V1).await;
    assert!(other
        .authenticate_in(&first.tokens.access, Dialect::V1)
        .await
        .is_ok());

    // The default rotation publishes first: the other instance rereads within five minutes,
    // before the key signs, so no instance ever meets a token of a key it does not know.
    let rotation = t
        .auth
        .rotate_signing_key(DEFAULT_ACTIVATION_DELAY)
        .await
        .unwrap();
    t.clock.advance(super::RECHECK_SECONDS);
    assert_eq!(published(&other.jwks().await.unwrap())[0], rotation.kid);
    t.clock
        .advance(DEFAULT_ACTIVATION_DELAY - super::RECHECK_SECONDS);
    let account = t.auth.account("a@x.com").unwrap();
    let password = crate::domain::Password::attempt("secret-pass-1").unwrap();
    let signed = other
        .password_login(
            Attempt::new(&account, &password, &client()),
            &spec(Dialect::V1),
        )
        .await
        .unwrap();
    assert_eq!(kid(&signed.tokens.access), rotation.kid);
    assert!(t
        .auth
        .authenticate_in(&signed.tokens.access, Dialect::V1)
        .await
        .is_ok());

    // Rotated at once instead: an instance that read the keyset just now refuses the unknown
    // key for at most 30 s, then rereads it on the next such token.
    let at_once = t.auth.rotate_signing_key(0).await.unwrap();
    let fresh = t
        .auth
        .refresh(&signed.tokens.refresh, Dialect::V1)
        .await
        .unwrap();
    assert_eq!(kid(&fresh.access), at_once.kid);
    t.clock.advance(31);
    assert!(other
        .authenticate_in(&fresh.access, Dialect::V1)
        .await
        .is_ok());
}

#[tokio::test]
async fn a_keyset_sealed_under_another_root_secret_is_replaced() {
    let t = harness();
    let s = signed_in(&t.auth, "a@x.com", Dialect::ApiV1).await;
    let mut changed = Config::for_tests();
    changed.secret = "another-root-secret-another-root-secret".into();
    let other = Harness::builder().config(changed).beside(&t).build().auth;
    // A rotated root secret signs everyone out, and then works.
    assert_eq!(
        other
            .authenticate_in(&s.tokens.access, Dialect::ApiV1)
            .await,
        Err(Error::TokenInvalid)
    );
    let again = signed_in(&other, "b@x.com", Dialect::ApiV1).await;
    assert!(other
        .authenticate_in(&again.tokens.access, Dialect::ApiV1)
        .await
        .is_ok());
}

#[tokio::test]
async fn a_legacy_secret_opens_no_session_of_another_dialect() {
    // Whoever holds seed 004's app secret (the app itself, by design) mints a token in 004's
    // format for a session seed 003 opened: neither the core nor 004 takes it.
    let mut config = config();
    let secret = crate::config::Secret::new("biji-secret".into());
    config.tokens.set(
        Dialect::AuthForm,
        crate::config::ProfileChoice::Legacy(secret),
    );
    let t = Harness::builder().config(config.clone()).build();
    let victim = signed_in(&t.auth, "v@x.com", Dialect::V1).await;
    let profiles = super::super::tokens::Profiles::new(&config.tokens, &config.issuer);
    let keys = t.auth.keyset().await.unwrap();
    let forged = profiles
        .sign(
            Some(Dialect::AuthForm),
            &super::super::tokens::Grant {
                user: victim.user.id,
                sid: &victim.tokens.sid,
                iat: t.auth.now(),
                exp: t.auth.now() + 10 * 365 * 24 * 3600,
            },
            &keys,
            t.auth.now(),
        )
        .unwrap();
    assert_eq!(
        t.auth.authenticate_in(&forged, Dialect::AuthForm).await,
        Err(Error::Unauthenticated)
    );
    assert_eq!(
        t.auth.whoami(&forged).await.map(|_| ()),
        Err(Error::Unauthenticated)
    );
    assert_eq!(
        t.auth.authenticate_in(&forged, Dialect::V1).await,
        Err(Error::TokenInvalid)
    );
    assert!(t
        .auth
        .authenticate_in(&victim.tokens.access, Dialect::V1)
        .await
        .is_ok());
}
