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
