//! Use-case tests of the SMS second step, driven by a manual clock (no sleeps).

use crate::services::{testing::*, *};
use crate::{domain::Code, sender::Channel};

#[tokio::test]
async fn second_factor_pending_resend_complete_and_void() {
    let t = harness();
    let mut new = new_email("m@x.com", "secret1");
    new.mobile = Some(t.auth.phone("13312341234").unwrap());
    t.auth.register(new, None, &client()).await.unwrap();
    let a = t.auth.account("m@x.com").unwrap();
    let step = t
        .auth
        .password_login_with_second_step(Attempt::new(&a, &pw("secret1"), &client()), &spec())
        .await
        .unwrap();
    let LoginStep::SecondFactor(pending) = step else {
        panic!("second factor expected")
    };
    assert!(matches!(
        t.auth
            .resend_second_factor(&pending, Some(Channel::Voice), &client())
            .await,
        Err(Error::TooManyRequests { .. })
    ));
    t.clock.advance(60);
    assert_eq!(
        t.auth
            .resend_second_factor(&pending, Some(Channel::Voice), &client())
            .await
            .unwrap(),
        crate::sender::Channel::Sms,
        "no call to a mobile nobody proved"
    );
    t.clock.advance(60);
    let s = t
        .auth
        .complete_second_factor(
            &pending,
            &Code::parse(&t.last_code("+8613312341234")).unwrap(),
            &spec(),
            &client(),
        )
        .await
        .unwrap();
    assert!(
        t.auth
            .user(s.user.id)
            .await
            .unwrap()
            .unwrap()
            .mobile_confirmed
    );
    let LoginStep::SecondFactor(pending) = t
        .auth
        .password_login_with_second_step(Attempt::new(&a, &pw("secret1"), &client()), &spec())
        .await
        .unwrap()
    else {
        panic!("second factor expected")
    };
    let code = Code::parse(&t.last_code("+8613312341234")).unwrap();
    t.clock.advance(60);
    assert_eq!(
        t.auth
            .resend_second_factor(&pending, Some(Channel::Voice), &client())
            .await
            .unwrap(),
        crate::sender::Channel::Voice,
        "a proven mobile may be called"
    );
    assert_eq!(
        t.outbox.entries().last().unwrap().channel,
        crate::sender::Channel::Voice
    );
    let code2 = Code::parse(&t.last_code("+8613312341234")).unwrap();
    assert_eq!(
        t.auth
            .complete_second_factor(&pending, &code, &spec(), &client())
            .await
            .unwrap_err(),
        Error::CodeInvalid,
        "the resent code replaced the first"
    );
    let s = t
        .auth
        .complete_second_factor(&pending, &code2, &spec(), &client())
        .await
        .unwrap();
    assert!(t.auth.authenticate(&s.tokens.access).await.is_ok());
    assert_eq!(
        t.auth
            .complete_second_factor(&pending, &code2, &spec(), &client())
            .await
            .unwrap_err(),
        Error::NoPendingLogin
    );

    // Five wrong codes void the pending login.
    t.clock.advance(60);
    let LoginStep::SecondFactor(pending) = t
        .auth
        .password_login_with_second_step(Attempt::new(&a, &pw("secret1"), &client()), &spec())
        .await
        .unwrap()
    else {
        panic!()
    };
    let right = t.last_code("+8613312341234");
    let wrong = Code::parse(if right == "123456" {
        "654321"
    } else {
        "123456"
    })
    .unwrap();
    for _ in 0..5 {
        assert_eq!(
            t.auth
                .complete_second_factor(&pending, &wrong, &spec(), &client())
                .await
                .unwrap_err(),
            Error::CodeInvalid
        );
    }
    let right = Code::parse(&right).unwrap();
    assert_eq!(
        t.auth
            .complete_second_factor(&pending, &right, &spec(), &client())
            .await
            .unwrap_err(),
        Error::NoPendingLogin
    );

    // After twenty minutes the pending state is gone.
    t.clock.advance(60);
    let LoginStep::SecondFactor(pending) = t
        .auth
        .password_login_with_second_step(Attempt::new(&a, &pw("secret1"), &client()), &spec())
        .await
        .unwrap()
    else {
        panic!()
    };
    t.clock.advance(20 * 60);
    assert_eq!(
        t.auth
            .resend_second_factor(&pending, Some(Channel::Sms), &client())
            .await
            .unwrap_err(),
        Error::NoPendingLogin
    );
}
