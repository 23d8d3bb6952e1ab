//! Use-case tests of password changes and resets, driven by a manual clock (no sleeps).

use crate::domain::{Code, Email};
use crate::services::{testing::*, *};

#[tokio::test]
async fn reset_tokens_check_fewer_than_five_times_then_void_and_redeem_ends_sessions() {
    let t = harness();
    let s = signed_in(&t, "r@x.com").await;
    t.clock.advance(60);
    t.auth
        .request_reset_link(&Email::parse("r@x.com").unwrap(), &client())
        .await
        .unwrap();
    t.auth
        .request_reset_link(&Email::parse("nobody@x.com").unwrap(), &client())
        .await
        .unwrap();
    assert!(t.outbox.entries().iter().all(|e| e.to != "nobody@x.com"));
    let token = t.last_reset_token("r@x.com");
    for _ in 1..crate::services::reset::RESET_CHECKS {
        t.auth.check_reset_token(&token).await.unwrap();
    }
    assert_eq!(
        t.auth.check_reset_token(&token).await,
        Err(Error::ResetTokenInvalid)
    );
    assert_eq!(
        t.auth
            .redeem_reset_token(&token, Some(pw("newsecret")), None, &client())
            .await
            .unwrap_err(),
        Error::ResetTokenInvalid
    );

    t.clock.advance(60);
    t.auth
        .request_reset_link(&Email::parse("r@x.com").unwrap(), &client())
        .await
        .unwrap();
    let token = t.last_reset_token("r@x.com");
    // Four checks still leave the reset itself to do, as the original allowed.
    for _ in 1..crate::services::reset::RESET_CHECKS {
        t.auth.check_reset_token(&token).await.unwrap();
    }
    let mobile = t.auth.phone("13312341234").unwrap();
    let u = t
        .auth
        .redeem_reset_token(
            &token,
            Some(pw("newsecret")),
            Some(mobile.clone()),
            &client(),
        )
        .await
        .unwrap();
    assert_eq!(u.mobile, Some(mobile));
    assert_eq!(
        t.auth.authenticate(&s.tokens.access).await,
        Err(Error::Unauthenticated)
    );
    let a = t.auth.account("r@x.com").unwrap();
    assert!(t
        .auth
        .check_password(Attempt::new(&a, &pw("newsecret"), &client()))
        .await
        .is_ok());
    // The new mobile is a claimed identifier now.
    let by_mobile = t
        .auth
        .find_user(&t.auth.account("13312341234").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_mobile.id, u.id);
    assert_eq!(
        t.auth
            .redeem_reset_token(&token, Some(pw("other1")), None, &client())
            .await
            .unwrap_err(),
        Error::ResetTokenInvalid
    );
    // Tokens expire after a day.
    t.clock.advance(60);
    t.auth
        .request_reset_link(&Email::parse("r@x.com").unwrap(), &client())
        .await
        .unwrap();
    let token = t.last_reset_token("r@x.com");
    t.clock.advance(crate::services::reset::RESET_TTL - 1);
    t.auth.check_reset_token(&token).await.unwrap();
    t.clock.advance(1);
    assert_eq!(
        t.auth.check_reset_token(&token).await,
        Err(Error::ResetTokenInvalid)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_logins_racing_a_password_reset_leave_no_session_alive() {
    let t = harness();
    t.auth
        .register(new_email("race@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("race@x.com").unwrap();
    t.auth
        .request_reset_link(&Email::parse("race@x.com").unwrap(), &client())
        .await
        .unwrap();
    let token = t.last_reset_token("race@x.com");
    let logins = (0..50).map(|_| {
        let (auth, a) = (t.auth.clone(), a.clone());
        tokio::spawn(async move {
            auth.password_login(Attempt::new(&a, &pw("secret1"), &client()), &spec())
                .await
        })
    });
    let logins: Vec<_> = logins.collect();
    t.auth
        .redeem_reset_token(&token, Some(pw("secret2")), None, &client())
        .await
        .unwrap();
    for login in futures::future::join_all(logins).await {
        if let Ok(signed) = login.unwrap() {
            assert_eq!(
                t.auth.authenticate(&signed.tokens.access).await,
                Err(Error::Unauthenticated),
                "a login racing the reset kept its session"
            );
        }
    }
}

#[tokio::test]
async fn a_reset_link_cannot_change_a_disabled_account() {
    let t = harness();
    let user = t
        .auth
        .register(new_email("gone@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    t.auth
        .request_reset_link(&Email::parse("gone@x.com").unwrap(), &client())
        .await
        .unwrap();
    let token = t.last_reset_token("gone@x.com");
    t.auth.disable(&user).await.unwrap();
    assert!(t
        .auth
        .redeem_reset_token(&token, Some(pw("newsecret1")), None, &client())
        .await
        .is_err());
    let after = t.auth.user(user.id).await.unwrap().unwrap();
    assert_eq!(
        after.password_hash, user.password_hash,
        "the password stayed"
    );
    assert!(!after.is_active());
}

#[tokio::test]
async fn a_reset_link_that_sets_a_mobile_leaves_it_unproven_and_tells_the_old_one() {
    let t = harness();
    let mut new = new_email("m@x.com", "secret1");
    new.mobile = Some(t.auth.phone("13312341234").unwrap());
    let user = t.auth.register(new, None, &client()).await.unwrap();
    t.auth
        .request_reset_link(&Email::parse("m@x.com").unwrap(), &client())
        .await
        .unwrap();
    let token = t.last_reset_token("m@x.com");
    let changed = t
        .auth
        .redeem_reset_token(
            &token,
            None,
            Some(t.auth.phone("13312349999").unwrap()),
            &client(),
        )
        .await
        .unwrap();
    assert_eq!(changed.id, user.id);
    assert!(!changed.mobile_confirmed);
    assert!(changed.unproven.contains(&crate::domain::Contact::Mobile));
    assert!(
        !changed.unproven.contains(&crate::domain::Contact::Email),
        "the link proved the email"
    );
    let told: Vec<String> = t
        .outbox
        .entries()
        .iter()
        .rev()
        .take(2)
        .map(|e| e.to.clone())
        .collect();
    assert!(told.contains(&"+8613312341234".to_string()), "{told:?}");
    assert!(told.contains(&"m@x.com".to_string()), "{told:?}");
}

#[tokio::test]
async fn probing_taken_mobiles_with_a_reset_link_spends_its_checks() {
    let t = harness();
    let mut other = new_email("other@x.com", "secret1");
    other.mobile = Some(t.auth.phone("13312340000").unwrap());
    t.auth.register(other, None, &client()).await.unwrap();
    t.auth
        .register(new_email("prober@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    t.auth
        .request_reset_link(&Email::parse("prober@x.com").unwrap(), &client())
        .await
        .unwrap();
    let token = t.last_reset_token("prober@x.com");
    let taken = || Some(t.auth.phone("13312340000").unwrap());
    for _ in 0..super::RESET_CHECKS {
        assert!(matches!(
            t.auth
                .redeem_reset_token(&token, None, taken(), &client())
                .await,
            Err(Error::AlreadyExists { .. })
        ));
    }
    assert_eq!(
        t.auth
            .redeem_reset_token(
                &token,
                None,
                Some(t.auth.phone("13312341111").unwrap()),
                &client()
            )
            .await
            .unwrap_err(),
        Error::ResetTokenInvalid,
        "the probes spent the link's checks"
    );
}

#[tokio::test]
async fn production_mails_no_reset_link_that_is_not_https() {
    let mut config = crate::config::Config::for_tests();
    config.env = crate::config::Env::Prod;
    let t = Harness::builder().config(config).build();
    t.auth
        .register(new_email("prod@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    assert_eq!(
        t.auth
            .request_reset_link(&Email::parse("prod@x.com").unwrap(), &client())
            .await,
        Err(Error::Unavailable)
    );
    assert!(t.outbox.entries().is_empty(), "nothing mailed");
}

#[tokio::test]
async fn a_reset_by_code_through_a_claimed_contact_proves_it_and_tells_the_owner() {
    let t = harness();
    let squat = NewUser {
        email: Some(Email::parse("held@x.com").unwrap()),
        password: Some(pw("squatter-pass-1")),
        ..Default::default()
    };
    let user = t.auth.register(squat, None, &client()).await.unwrap();
    let a = t.auth.account("held@x.com").unwrap();
    t.auth
        .send_code(Purpose::ResetPassword, &a, &client())
        .await
        .unwrap();
    let code = Code::parse(&t.last_code("held@x.com")).unwrap();
    let saved = t
        .auth
        .reset_password_with_code(&a, &code, &pw("owner-pass-1"), &client())
        .await
        .unwrap();
    assert!(saved.unproven.is_empty(), "the email is proven");
    assert_eq!(saved.id, user.id);
    let told = t.outbox.entries().pop().unwrap();
    assert_eq!(told.to, "held@x.com");
    assert!(told.subject.contains("收回"), "{}", told.subject);
}

/// A session another change ended is never carried to the new epoch: the second of two
/// concurrent `pass/change`s (its session checked before the first committed) answers as if
/// it came after, and the first one's session stays the only one alive.
#[tokio::test]
async fn changing_ones_own_password_never_revives_an_ended_session() {
    let t = harness();
    let first = signed_in(&t, "own@x.com").await;
    let second = signed_in_as(&t, "own@x.com", "secret1").await;
    let first = t.auth.authenticate(&first.tokens.access).await.unwrap();
    let second_token = second.tokens.access.clone();
    let second = t.auth.authenticate(&second_token).await.unwrap();
    t.auth
        .change_own_password(&first, &pw("secret1"), &pw("second-secret-2"), &client())
        .await
        .unwrap();
    // The second request's session was checked before the first committed.
    let late = t
        .auth
        .change_own_password(
            &second,
            &pw("second-secret-2"),
            &pw("third-secret-3"),
            &client(),
        )
        .await;
    assert_eq!(late.unwrap_err(), Error::Unauthenticated);
    assert!(t.auth.authenticate(&second_token).await.is_err());
    signed_in_as(&t, "own@x.com", "second-secret-2").await;
}
