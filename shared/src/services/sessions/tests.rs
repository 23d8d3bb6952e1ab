//! Use-case tests of sessions (refresh, logout, expiry, revocation), driven by a manual clock
//! (no sleeps).

use crate::services::{testing::*, *};

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let t = harness();
    let s = signed_in(&t, "a@x.com").await;
    let second = t
        .auth
        .refresh(&s.tokens.refresh, Dialect::ApiV1)
        .await
        .unwrap();
    assert_ne!(second.refresh, s.tokens.refresh);
    let third = t
        .auth
        .refresh(&second.refresh, Dialect::ApiV1)
        .await
        .unwrap();
    t.clock.advance(60);
    // The first token, long replaced: reuse. The whole session goes, newest tokens included.
    assert_eq!(
        t.auth.refresh(&s.tokens.refresh, Dialect::ApiV1).await,
        Err(Error::Unauthenticated)
    );
    assert_eq!(
        t.auth.refresh(&third.refresh, Dialect::ApiV1).await,
        Err(Error::Unauthenticated)
    );
    assert_eq!(
        t.auth.authenticate(&third.access).await,
        Err(Error::Unauthenticated)
    );
}

#[tokio::test]
async fn previous_token_outside_grace_is_reuse() {
    let t = harness();
    let s = signed_in(&t, "a@x.com").await;
    let next = t
        .auth
        .refresh(&s.tokens.refresh, Dialect::ApiV1)
        .await
        .unwrap();
    t.clock.advance(t.auth.config().refresh_grace + 1);
    assert_eq!(
        t.auth.refresh(&s.tokens.refresh, Dialect::ApiV1).await,
        Err(Error::Unauthenticated)
    );
    assert_eq!(
        t.auth.refresh(&next.refresh, Dialect::ApiV1).await,
        Err(Error::Unauthenticated)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_within_grace_get_the_same_pair() {
    let t = harness();
    let s = signed_in(&t, "a@x.com").await;
    let tabs: Vec<_> = (0..2)
        .map(|_| {
            let (auth, token) = (t.auth.clone(), s.tokens.refresh.clone());
            tokio::spawn(async move { auth.refresh(&token, Dialect::ApiV1).await })
        })
        .collect();
    let mut pairs = Vec::new();
    for tab in tabs {
        pairs.push(tab.await.unwrap().unwrap());
    }
    assert_eq!(pairs[0], pairs[1], "both tabs hold the same new pair");
    // A late second tab within the grace gets it too, and the pair keeps working.
    t.clock.advance(2);
    assert_eq!(
        t.auth
            .refresh(&s.tokens.refresh, Dialect::ApiV1)
            .await
            .unwrap(),
        pairs[0]
    );
    assert!(t.auth.authenticate(&pairs[0].access).await.is_ok());
    assert!(t
        .auth
        .refresh(&pairs[0].refresh, Dialect::ApiV1)
        .await
        .is_ok());
}

#[tokio::test]
async fn logout_one_or_all_and_expiry() {
    let t = harness();
    let s = signed_in(&t, "a@x.com").await;
    let account = t.auth.account("a@x.com").unwrap();
    let other = t
        .auth
        .password_login(
            Attempt::new(&account, &pw("secret1"), &client()),
            &SessionSpec {
                access_ttl: Some(60),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p = t.auth.authenticate(&s.tokens.access).await.unwrap();
    assert_eq!(t.auth.logout(&p).await.unwrap(), 1);
    assert_eq!(
        t.auth.authenticate(&s.tokens.access).await,
        Err(Error::Unauthenticated)
    );
    assert_eq!(t.auth.logout(&p).await.unwrap(), 0);
    assert!(t.auth.authenticate(&other.tokens.access).await.is_ok());
    t.clock.advance(60);
    assert_eq!(
        t.auth.authenticate(&other.tokens.access).await,
        Err(Error::TokenExpired)
    );
    let again = signed_in_again(&t).await;
    // A password change ends every session in the one write that changes the password.
    let account = t.auth.account("a@x.com").unwrap();
    t.auth
        .change_password(None, &account, &pw("secret1"), &pw("secret2"), &client())
        .await
        .unwrap();
    assert!(t
        .auth
        .refresh(&other.tokens.refresh, Dialect::ApiV1)
        .await
        .is_err());
    assert_eq!(
        t.auth.authenticate(&again.access).await,
        Err(Error::Unauthenticated)
    );
}

async fn signed_in_again(t: &Harness) -> Tokens {
    let account = t.auth.account("a@x.com").unwrap();
    t.auth
        .password_login(Attempt::new(&account, &pw("secret1"), &client()), &spec())
        .await
        .unwrap()
        .tokens
}

#[tokio::test]
async fn logout_of_a_dialect_pages_past_other_dialects_sessions() {
    let t = harness();
    t.auth
        .register(new_email("many@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let account = t.auth.account("many@x.com").unwrap();
    let mut form = None;
    let mut others = Vec::new();
    for i in 0..62 {
        // Sixty seed-001 sessions and two seed-004 ones: a page of 50 may hold neither of these.
        let dialect = if i % 31 == 30 {
            Dialect::AuthForm
        } else {
            Dialect::AuthJson
        };
        let spec = SessionSpec {
            dialect: Some(dialect),
            ..Default::default()
        };
        let s = t
            .auth
            .password_login(Attempt::new(&account, &pw("secret1"), &client()), &spec)
            .await
            .unwrap();
        if dialect == Dialect::AuthForm {
            form = Some(s);
        } else {
            others.push(s.tokens);
        }
    }
    let principal = t
        .auth
        .authenticate(&form.unwrap().tokens.access)
        .await
        .unwrap();
    assert_eq!(
        t.auth
            .logout_dialect(&principal, Dialect::AuthForm)
            .await
            .unwrap(),
        2
    );
    // The other dialects' sessions stay until the account changes; then all go at once.
    let user = t.auth.user(principal.user_id).await.unwrap().unwrap();
    t.auth.disable(&user).await.unwrap();
    for s in &others {
        assert_eq!(t.auth.authenticate(&s.access).await, Err(Error::Disabled));
    }
}

#[tokio::test]
async fn ten_thousand_sessions_die_with_one_password_change_in_one_write() {
    let t = harness();
    let (auth, counting) = t.counted_core();
    let user = auth
        .register(new_email("many@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let mut sessions = Vec::new();
    let keys = auth.keyset().await.unwrap();
    for _ in 0..10_000 {
        let (batch, tokens) = auth
            .open_session(&keys, &user, &spec(), LoginType::Password, &client())
            .unwrap();
        batch.commit(t.store.as_ref()).await.unwrap();
        sessions.push(tokens);
    }
    assert!(auth.authenticate(&sessions[9_999].access).await.is_ok());
    let before = counting.calls();
    let account = auth.account("many@x.com").unwrap();
    auth.change_password(None, &account, &pw("secret1"), &pw("secret2"), &client())
        .await
        .unwrap();
    let calls = counting.calls() - before;
    // Address and account attempts, the unique key, the user, and the one write.
    assert!(calls <= 6, "{calls} store calls for 10,000 sessions");
    for s in sessions.iter().step_by(97) {
        assert_eq!(
            auth.authenticate(&s.access).await,
            Err(Error::Unauthenticated)
        );
        assert!(auth.refresh(&s.refresh, Dialect::ApiV1).await.is_err());
    }
}

#[tokio::test]
async fn a_session_refreshed_daily_ends_at_thirty_days() {
    let mut config = crate::config::Config::for_tests();
    config.access_ttl = 3600;
    let t = Harness::builder().config(config).build();
    t.auth
        .register(new_email("daily@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("daily@x.com").unwrap();
    let mut tokens = t
        .auth
        .password_login(Attempt::new(&a, &pw("secret1"), &client()), &spec())
        .await
        .unwrap()
        .tokens;
    let mut days = 0;
    loop {
        t.clock.advance(24 * 3600);
        match t.auth.refresh(&tokens.refresh, Dialect::ApiV1).await {
            Ok(next) => {
                days += 1;
                tokens = next;
            }
            Err(e) => {
                assert_eq!(e, Error::Unauthenticated);
                break;
            }
        }
    }
    assert_eq!(days, 29, "refreshed on days 1 to 29, refused on day 30");
}

#[tokio::test]
async fn an_unknown_refresh_token_for_a_live_session_revokes_it() {
    let t = harness();
    t.auth
        .register(new_email("forge@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("forge@x.com").unwrap();
    let s = t
        .auth
        .password_login(Attempt::new(&a, &pw("secret1"), &client()), &spec())
        .await
        .unwrap();
    let sid = s.tokens.refresh.split('.').next().unwrap();
    let forged = format!("{sid}.{}.{}", s.user.id, crate::random::token());
    assert!(t.auth.refresh(&forged, Dialect::ApiV1).await.is_err());
    assert_eq!(
        t.auth.authenticate(&s.tokens.access).await,
        Err(Error::Unauthenticated)
    );
    assert!(t
        .auth
        .refresh(&s.tokens.refresh, Dialect::ApiV1)
        .await
        .is_err());
}

#[tokio::test]
async fn each_dialect_accepts_only_its_own_sessions() {
    let t = harness();
    t.auth
        .register(new_email("own@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("own@x.com").unwrap();
    let json = SessionSpec {
        dialect: Some(Dialect::AuthJson),
        ..Default::default()
    };
    let s = t
        .auth
        .password_login(Attempt::new(&a, &pw("secret1"), &client()), &json)
        .await
        .unwrap();
    assert!(t
        .auth
        .authenticate_in(&s.tokens.access, Dialect::AuthJson)
        .await
        .is_ok());
    for other in [
        Dialect::AuthForm,
        Dialect::ApiV1,
        Dialect::V1,
        Dialect::Pauli,
    ] {
        assert_eq!(
            t.auth.authenticate_in(&s.tokens.access, other).await,
            Err(Error::Unauthenticated),
            "{other:?}"
        );
    }
    assert!(t
        .auth
        .refresh(&s.tokens.refresh, Dialect::ApiV1)
        .await
        .is_err());
}

#[tokio::test]
async fn a_login_past_the_session_cap_ends_the_oldest_session() {
    let mut config = crate::config::Config::for_tests();
    config.sessions_per_user = 3;
    let t = Harness::builder().config(config).build();
    t.auth
        .register(new_email("cap@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("cap@x.com").unwrap();
    let mut sessions = Vec::new();
    for _ in 0..4 {
        t.clock.advance(1);
        let s = t
            .auth
            .password_login(Attempt::new(&a, &pw("secret1"), &client()), &spec())
            .await
            .unwrap();
        sessions.push(s.tokens);
    }
    assert_eq!(
        t.auth.authenticate(&sessions[0].access).await,
        Err(Error::Unauthenticated),
        "the oldest went"
    );
    for s in &sessions[1..] {
        assert!(t.auth.authenticate(&s.access).await.is_ok());
    }
}

/// Who-am-I keeps what it verified (`seen`): a second call with the same token reads nothing.
/// Every write that touches the session or its user, from any core over the same store, makes
/// the next call read again, so a kept answer never outlives a logout, a disable, a password
/// change or a profile change; nor the token's expiry, nor a change of keyset.
#[tokio::test]
async fn a_kept_whoami_never_outlives_what_ends_or_changes_it() {
    use crate::domain::Permission;
    let t = harness();
    let (auth, counting) = t.counted_core();
    let s = signed_in(&t, "a@x.com").await;
    let whoami = |token: String| {
        let auth = auth.clone();
        async move { auth.whoami_in(&token, Dialect::ApiV1).await }
    };
    let reads = |f: usize| counting.calls() - f;

    let (principal, user) = whoami(s.tokens.access.clone()).await.unwrap();
    let before = counting.calls();
    assert_eq!(
        whoami(s.tokens.access.clone()).await.unwrap(),
        (principal.clone(), user.clone())
    );
    assert_eq!(reads(before), 0, "the second who-am-I is answered as kept");
    // The token is not another dialect's because it was kept for this one.
    assert_eq!(
        auth.whoami_in(&s.tokens.access, Dialect::V1).await,
        Err(Error::Unauthenticated)
    );

    // A profile change made by the other core is seen at once.
    let granted = t
        .auth
        .grant_permission(&user, Permission::parse("app:notes:read").unwrap())
        .await
        .unwrap();
    let before = counting.calls();
    assert_eq!(whoami(s.tokens.access.clone()).await.unwrap().1, granted);
    assert_eq!(reads(before), 1, "read again after the write");

    // A new keyset held reads again (a rotation may retire a key).
    t.auth.rotate_signing_key(0).await.unwrap();
    auth.rotate_signing_key(0).await.unwrap();
    let before = counting.calls();
    assert!(whoami(s.tokens.access.clone()).await.is_ok());
    assert!(reads(before) >= 1, "read again under a new keyset");

    // Logout through the other core ends the kept session too.
    t.auth.logout(&principal).await.unwrap();
    assert_eq!(
        whoami(s.tokens.access.clone()).await,
        Err(Error::Unauthenticated)
    );

    // A password change ends a kept session.
    let again = signed_in_again(&t).await;
    whoami(again.access.clone()).await.unwrap();
    let account = t.auth.account("a@x.com").unwrap();
    t.auth
        .change_password(None, &account, &pw("secret1"), &pw("secret2"), &client())
        .await
        .unwrap();
    assert_eq!(
        whoami(again.access.clone()).await,
        Err(Error::Unauthenticated)
    );

    // Disabling the user ends it as well.
    let third = signed_in_as(&t, "a@x.com", "secret2").await.tokens;
    let (_, user) = whoami(third.access.clone()).await.unwrap();
    t.auth.disable(&user).await.unwrap();
    assert_eq!(whoami(third.access.clone()).await, Err(Error::Disabled));
}

#[tokio::test]
async fn a_kept_whoami_ends_with_its_token() {
    kept_until_its_exp(&harness(), Dialect::ApiV1).await;
}

/// Signs `a@x.com` in through `dialect` with a token of 60 s, and shows who-am-I answers it
/// (kept after the first time) until its `exp` and not a second longer.
async fn kept_until_its_exp(t: &Harness, dialect: Dialect) {
    signed_in(t, "a@x.com").await;
    let account = t.auth.account("a@x.com").unwrap();
    let spec = SessionSpec {
        access_ttl: Some(60),
        dialect: Some(dialect),
        ..Default::default()
    };
    let access = t
        .auth
        .password_login(Attempt::new(&account, &pw("secret1"), &client()), &spec)
        .await
        .unwrap()
        .tokens
        .access;
    for (wait, live) in [(0, true), (0, true), (59, true), (1, false)] {
        t.clock.advance(wait);
        let answer = t.auth.whoami_in(&access, dialect).await;
        match live {
            true => assert!(answer.is_ok(), "{answer:?}"),
            false => assert_eq!(answer, Err(Error::TokenExpired)),
        }
    }
}

/// Signs `a@x.com` in through seed 002 and has who-am-I keep its token.
async fn signed_in_and_kept(t: &Harness) -> SignedIn {
    let s = signed_in(t, "a@x.com").await;
    assert!(t
        .auth
        .whoami_in(&s.tokens.access, Dialect::ApiV1)
        .await
        .is_ok());
    s
}

/// A token that differs from a kept one in its last character (the signature) is refused,
/// not taken for the kept one.
#[tokio::test]
async fn a_forged_token_next_to_a_kept_one_is_refused() {
    let t = harness();
    let s = signed_in_and_kept(&t).await;
    let mut forged = s.tokens.access.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert!(t.auth.whoami_in(&forged, Dialect::ApiV1).await.is_err());
}

/// A legacy token (seed 004's itsdangerous format keeps its `exp` in the header) kept by
/// who-am-I ends with the token all the same.
#[tokio::test]
async fn a_kept_legacy_token_ends_with_its_token() {
    let tokens = crate::config::TokenConfig::read(&|k: &str| {
        (k == "POLYAUTH_LEGACY_SECRET_AUTH_FORM").then(|| "biji-secret".to_string())
    })
    .unwrap();
    let t = Harness::builder()
        .config(crate::config::Config {
            tokens,
            ..crate::config::Config::for_tests()
        })
        .build();
    kept_until_its_exp(&t, Dialect::AuthForm).await;
}

/// The sweeper's deletes are marked like every other write: a clock stepped back after a sweep
/// (an NTP correction) does not answer a swept session from a kept who-am-I.
#[tokio::test]
async fn a_swept_session_is_not_answered_from_a_kept_whoami() {
    use crate::clock::Clock;
    let t = harness();
    let s = signed_in_and_kept(&t).await;
    let past_the_session = s.tokens.refresh_expires_at - t.clock.now() + 1;
    t.clock.advance(past_the_session);
    assert!(t.store.sweep(1000).unwrap() >= 1);
    t.clock.advance(-past_the_session);
    assert_eq!(
        t.auth.whoami_in(&s.tokens.access, Dialect::ApiV1).await,
        Err(Error::Unauthenticated)
    );
}
