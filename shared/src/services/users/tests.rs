//! Use-case tests of handing an account over to the proven owner of its contact, driven by a
//! manual clock (no sleeps).

use crate::domain::{Code, Email};
use crate::services::{testing::*, *};

#[tokio::test]
async fn a_code_login_into_a_squatted_email_leaves_the_squatter_nothing() {
    let t = harness();
    // The squatter signs up with someone else's email (001 `create` checks no proof).
    let squat = NewUser {
        email: Some(Email::parse("victim@x.com").unwrap()),
        username: Some(crate::domain::Username::parse("squatter", Default::default()).unwrap()),
        password: Some(pw("squatter-pass-1")),
        ..Default::default()
    };
    let user = t.auth.register(squat, None, &client()).await.unwrap();
    assert!(user.unproven.contains(&crate::domain::Contact::Email));
    let by_name = t.auth.account("squatter").unwrap();
    let squatter = t
        .auth
        .password_login(
            Attempt::new(&by_name, &pw("squatter-pass-1"), &client()),
            &spec(),
        )
        .await
        .unwrap();
    // The owner of the email signs in with a code sent to it.
    let email = t.auth.account("victim@x.com").unwrap();
    t.auth
        .send_code(Purpose::Login, &email, &client())
        .await
        .unwrap();
    let code = Code::parse(&t.last_code("victim@x.com")).unwrap();
    let owner = t
        .auth
        .code_login(
            &email,
            &code,
            UnknownAccount::Register,
            &Gate::Lockout,
            &spec(),
            &client(),
        )
        .await
        .unwrap();
    assert_eq!(owner.user.id, user.id);
    assert!(t.auth.authenticate(&owner.tokens.access).await.is_ok());
    assert_eq!(
        t.auth.authenticate(&squatter.tokens.access).await,
        Err(Error::Unauthenticated),
        "the squatter's session ended"
    );
    assert!(matches!(
        t.auth
            .password_login(
                Attempt::new(&by_name, &pw("squatter-pass-1"), &client()),
                &spec()
            )
            .await,
        Err(Error::InvalidCredentials(_))
    ));
    let told = t.outbox.entries().pop().unwrap();
    assert_eq!(told.to, "victim@x.com");
    assert!(
        told.body.contains("收回") || told.subject.contains("收回"),
        "{}",
        told.body
    );
    let after = t.auth.user(user.id).await.unwrap().unwrap();
    assert!(after.unproven.is_empty());
    // A second code login changes nothing more: the email is proven.
    t.clock.advance(61);
    t.auth
        .send_code(Purpose::Login, &email, &client())
        .await
        .unwrap();
    let code = Code::parse(&t.last_code("victim@x.com")).unwrap();
    let again = t
        .auth
        .code_login(
            &email,
            &code,
            UnknownAccount::Register,
            &Gate::Lockout,
            &spec(),
            &client(),
        )
        .await
        .unwrap();
    assert!(t.auth.authenticate(&owner.tokens.access).await.is_ok());
    assert!(t.auth.authenticate(&again.tokens.access).await.is_ok());
}

#[tokio::test]
async fn a_handed_over_account_takes_the_claimers_outstanding_codes_with_it() {
    let t = harness();
    let mut squat = new_email("victim2@x.com", "secret1");
    squat.mobile = Some(t.auth.phone("13312347777").unwrap());
    t.auth.register(squat, None, &client()).await.unwrap();
    let mobile = t.auth.account("13312347777").unwrap();
    t.auth
        .send_code(Purpose::Login, &mobile, &client())
        .await
        .unwrap();
    let pending = Code::parse(&t.last_code("+8613312347777")).unwrap();
    let email = t.auth.account("victim2@x.com").unwrap();
    t.auth
        .send_code(Purpose::Login, &email, &client())
        .await
        .unwrap();
    let code = Code::parse(&t.last_code("victim2@x.com")).unwrap();
    t.auth
        .code_login(
            &email,
            &code,
            UnknownAccount::Refuse,
            &Gate::Lockout,
            &spec(),
            &client(),
        )
        .await
        .unwrap();
    assert_eq!(
        t.auth
            .check_code_for(Purpose::Login, &mobile, &pending, &client())
            .await
            .unwrap_err(),
        Error::CodeInvalid
    );
}
