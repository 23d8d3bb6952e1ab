//! Use-case tests of signing in by password or code, driven by a manual clock (no sleeps).

use crate::error::CredentialFault;
use crate::services::{testing::*, *};

#[tokio::test]
async fn code_login_creates_the_account_when_asked() {
    let t = harness();
    let a = t.auth.account("13312341234").unwrap();
    let issued = t
        .auth
        .send_code(Purpose::Login, &a, &client())
        .await
        .unwrap();
    assert_eq!(t.last_code("+8613312341234"), issued.code.as_str());
    let refused = t
        .auth
        .code_login(
            &a,
            &issued.code,
            UnknownAccount::Refuse,
            &Gate::Lockout,
            &spec(),
            &client(),
        )
        .await;
    assert_eq!(
        refused.unwrap_err(),
        Error::InvalidCredentials(CredentialFault::UnknownAccount)
    );
    let s = t
        .auth
        .code_login(
            &a,
            &issued.code,
            UnknownAccount::Register,
            &Gate::Lockout,
            &spec(),
            &client(),
        )
        .await
        .unwrap();
    assert!(s.is_new);
    assert_eq!(s.user.profile.nickname, "133****1234");
    // The code is spent by that login.
    let again = t
        .auth
        .code_login(
            &a,
            &issued.code,
            UnknownAccount::Register,
            &Gate::Lockout,
            &spec(),
            &client(),
        )
        .await;
    assert_eq!(again.unwrap_err(), Error::CodeInvalid);
    t.clock.advance(60);
    let issued = t
        .auth
        .send_code(Purpose::Login, &a, &client())
        .await
        .unwrap();
    let s2 = t
        .auth
        .code_login(
            &a,
            &issued.code,
            UnknownAccount::Register,
            &Gate::Lockout,
            &spec(),
            &client(),
        )
        .await
        .unwrap();
    assert!(!s2.is_new);
    assert_eq!(s2.user.id, s.user.id);
}

#[tokio::test]
async fn unknown_accounts_cost_the_same_hashing_work() {
    let t = harness();
    t.auth
        .register(new_email("a@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let known = t.auth.account("a@x.com").unwrap();
    let unknown = t.auth.account("nobody@x.com").unwrap();
    let before = t.auth.hasher().verifications();
    let r = t
        .auth
        .check_password(Attempt::new(&known, &pw("wrong"), &client()))
        .await;
    assert_eq!(
        r.unwrap_err(),
        Error::InvalidCredentials(CredentialFault::WrongPassword)
    );
    let after_known = t.auth.hasher().verifications();
    let r = t
        .auth
        .check_password(Attempt::new(&unknown, &pw("wrong"), &client()))
        .await;
    assert_eq!(
        r.unwrap_err(),
        Error::InvalidCredentials(CredentialFault::UnknownAccount)
    );
    let after_unknown = t.auth.hasher().verifications();
    assert_eq!(after_known - before, 1);
    assert_eq!(
        after_unknown - after_known,
        1,
        "one argon2id verify for an unknown account too"
    );
}
