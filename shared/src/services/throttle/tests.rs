//! Use-case tests of the login failure gate, driven by a manual clock (no sleeps).

use crate::services::{testing::*, *};

#[tokio::test]
async fn lockout_after_ten_failures_lapses_after_thirty_minutes() {
    let t = harness();
    t.auth
        .register(new_email("a@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("a@x.com").unwrap();
    for _ in 0..10 {
        assert!(matches!(
            t.auth
                .check_password(Attempt::new(&a, &pw("bad"), &client()))
                .await,
            Err(Error::InvalidCredentials(_))
        ));
    }
    assert!(matches!(
        t.auth
            .check_password(Attempt::new(&a, &pw("secret1"), &client()))
            .await,
        Err(Error::TooManyRequests { .. })
    ));
    // A captcha dialect locks as well: no captcha buys more than ten tries.
    assert!(matches!(
        t.auth
            .check_password(
                Attempt::new(&a, &pw("secret1"), &client()).behind(&Gate::Captcha(None))
            )
            .await,
        Err(Error::TooManyRequests { .. })
    ));
    t.clock.advance(30 * 60);
    assert!(t
        .auth
        .check_password(Attempt::new(&a, &pw("secret1"), &client()))
        .await
        .is_ok());
}

#[tokio::test]
async fn the_right_old_password_ends_a_run_of_failures() {
    let t = harness();
    t.auth
        .register(new_email("runs@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("runs@x.com").unwrap();
    for _ in 0..9 {
        let _ = t
            .auth
            .check_password(Attempt::new(&a, &pw("nope"), &client()))
            .await;
    }
    t.auth
        .change_password(None, &a, &pw("secret1"), &pw("secret2"), &client())
        .await
        .unwrap();
    for _ in 0..9 {
        assert!(matches!(
            t.auth
                .check_password(Attempt::new(&a, &pw("nope"), &client()))
                .await,
            Err(Error::InvalidCredentials(_))
        ));
    }
}

/// The lock is the account's: ten failures through its username lock its email and mobile
/// too, for passwords and codes alike, and a success through any of them ends the run.
#[tokio::test]
async fn ten_failures_through_one_identifier_lock_all_of_the_account() {
    let t = harness();
    let new = NewUser {
        username: Some(crate::domain::Username::parse("echo07", Default::default()).unwrap()),
        mobile: Some(t.auth.phone("13312341234").unwrap()),
        ..new_email("e7@x.com", "secret1")
    };
    t.auth.register(new, None, &client()).await.unwrap();
    let [name, email, mobile] =
        ["echo07", "e7@x.com", "13312341234"].map(|a| t.auth.account(a).unwrap());
    let caller = client();
    let attempt = |a, p| t.auth.check_password(Attempt::new(a, p, &caller));
    let (wrong, right) = (pw("nope"), pw("secret1"));
    for _ in 0..9 {
        assert!(matches!(
            attempt(&name, &wrong).await,
            Err(Error::InvalidCredentials(_))
        ));
    }
    // A login through another identifier ends the run the username started.
    let login = Attempt::new(&email, &right, &caller);
    assert!(t.auth.password_login(login, &spec()).await.is_ok());
    for _ in 0..10 {
        assert!(matches!(
            attempt(&name, &wrong).await,
            Err(Error::InvalidCredentials(_))
        ));
    }
    for locked in [&email, &mobile] {
        assert!(matches!(
            attempt(locked, &right).await,
            Err(Error::TooManyRequests { .. })
        ));
    }
    t.auth
        .send_code(Purpose::Login, &mobile, &client())
        .await
        .unwrap();
    let code = crate::domain::Code::parse(&t.last_code("+8613312341234")).unwrap();
    let by_code = t
        .auth
        .code_login(
            &mobile,
            &code,
            UnknownAccount::Refuse,
            &Gate::Lockout,
            &spec(),
            &client(),
        )
        .await;
    assert!(matches!(by_code, Err(Error::TooManyRequests { .. })));
}

/// Guesses at an identifier nobody holds are throttled as a user's are: the gate's answers
/// do not tell the two apart.
#[tokio::test]
async fn an_identifier_nobody_holds_locks_after_ten_failures_too() {
    let t = harness();
    let ghost = t.auth.account("ghost@x.com").unwrap();
    for _ in 0..10 {
        assert!(matches!(
            t.auth
                .check_password(Attempt::new(&ghost, &pw("nope"), &client()))
                .await,
            Err(Error::InvalidCredentials(_))
        ));
    }
    assert!(matches!(
        t.auth
            .check_password(Attempt::new(&ghost, &pw("nope"), &client()))
            .await,
        Err(Error::TooManyRequests { .. })
    ));
}

/// Seed 003's `register` signs an existing account in by its code: a login like any other,
/// so a locked account is not signed in that way either.
#[tokio::test]
async fn a_locked_account_is_not_signed_in_by_registering_again() {
    let t = harness();
    t.auth
        .register(new_email("b2@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("b2@x.com").unwrap();
    let (wrong, caller) = (pw("nope"), client());
    for _ in 0..10 {
        let refused = t
            .auth
            .check_password(Attempt::new(&a, &wrong, &caller))
            .await;
        assert!(matches!(refused, Err(Error::InvalidCredentials(_))));
    }
    // Registering again with a fresh code, as seed 003's client does.
    let register_again = || async {
        t.auth
            .send_code(Purpose::Register, &a, &client())
            .await
            .unwrap();
        let code = crate::domain::Code::parse(&t.last_code("b2@x.com")).unwrap();
        let new = new_email("b2@x.com", "other-pass-99");
        t.auth
            .register_or_sign_in(Ok(new), &a, &code, &spec(), &client())
            .await
    };
    let again = register_again().await;
    assert!(
        matches!(again, Err(Error::TooManyRequests { .. })),
        "{again:?}"
    );
    // Once the lock lapses, a code signs the account in.
    t.clock.advance(30 * 60);
    assert!(!register_again().await.unwrap().is_new);
}
