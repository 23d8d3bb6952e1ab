//! Use-case tests of verification codes, driven by a manual clock (no sleeps).

use crate::domain::Code;
use crate::services::{testing::*, *};

#[tokio::test]
async fn codes_expire_count_attempts_and_are_rate_limited() {
    let t = harness();
    let a = t.auth.account("c@x.com").unwrap();
    let issued = t
        .auth
        .send_code(Purpose::Login, &a, &client())
        .await
        .unwrap();
    assert_eq!(issued.code.as_str(), t.last_code("c@x.com"));
    assert!(matches!(
        t.auth.send_code(Purpose::Login, &a, &client()).await,
        Err(Error::TooManyRequests { .. })
    ));
    // Checking does not consume; a code for one purpose is not good for another.
    t.auth
        .check_code_for(Purpose::Login, &a, &issued.code, &client())
        .await
        .unwrap();
    t.auth
        .check_code_for(Purpose::Login, &a, &issued.code, &client())
        .await
        .unwrap();
    assert_eq!(
        t.auth
            .check_code_for(Purpose::Register, &a, &issued.code, &client())
            .await
            .unwrap_err(),
        Error::CodeInvalid
    );
    // Expiry by the clock.
    t.clock.advance(600);
    assert_eq!(
        t.auth
            .check_code_for(Purpose::Login, &a, &issued.code, &client())
            .await
            .unwrap_err(),
        Error::CodeInvalid
    );
    // Five wrong tries void the code.
    let issued = t
        .auth
        .send_code(Purpose::Login, &a, &client())
        .await
        .unwrap();
    let wrong = Code::parse(if issued.code.as_str() == "123456" {
        "654321"
    } else {
        "123456"
    })
    .unwrap();
    for _ in 0..5 {
        assert_eq!(
            t.auth
                .check_code_for(Purpose::Login, &a, &wrong, &client())
                .await
                .unwrap_err(),
            Error::CodeInvalid
        );
    }
    assert_eq!(
        t.auth
            .check_code_for(Purpose::Login, &a, &issued.code, &client())
            .await
            .unwrap_err(),
        Error::CodeInvalid
    );
    // Hourly cap: ten sends an hour per account and purpose.
    let b = t.auth.account("d@x.com").unwrap();
    for _ in 0..10 {
        t.auth
            .send_code(Purpose::Login, &b, &client())
            .await
            .unwrap();
        t.clock.advance(60);
    }
    assert!(matches!(
        t.auth.send_code(Purpose::Login, &b, &client()).await,
        Err(Error::TooManyRequests { .. })
    ));
    t.clock.advance(3600);
    t.auth
        .send_code(Purpose::Login, &b, &client())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_wrong_codes_void_the_code() {
    let t = harness();
    let a = t.auth.account("burst@x.com").unwrap();
    t.auth
        .send_code(Purpose::Login, &a, &client())
        .await
        .unwrap();
    let right = Code::parse(&t.last_code("burst@x.com")).unwrap();
    let wrong = Code::parse(if right.as_str() == "111111" {
        "222222"
    } else {
        "111111"
    })
    .unwrap();
    let guesses = (0..100).map(|_| {
        let (auth, a, wrong) = (t.auth.clone(), a.clone(), wrong.clone());
        tokio::spawn(async move {
            auth.check_code_for(Purpose::Login, &a, &wrong, &client())
                .await
        })
    });
    for result in futures::future::join_all(guesses).await {
        assert!(result.unwrap().is_err());
    }
    assert!(
        !t.auth
            .code_pending(Purpose::Login, &subject("burst@x.com"))
            .await
            .unwrap(),
        "five of the hundred tries voided the code"
    );
    let tries = crate::store::Query {
        pk: "CODE#login#burst@x.com".into(),
        sk_prefix: "TRIES#".into(),
        sk_from: None,
        after: None,
        limit: 10,
        newest_first: false,
    };
    let page = t.store.query(tries).await.unwrap();
    let tried = page.items[0].attrs["n"].as_i64().unwrap();
    // Every guess past the account's wrong-code lock was refused before it reserved a try;
    // every other one paid one, so at most five were ever compared.
    assert!(tried >= super::MAX_ATTEMPTS, "{tried}");
}

#[tokio::test]
async fn ten_wrong_codes_in_a_day_lock_code_use_for_an_hour() {
    let t = harness();
    let a = t.auth.account("ten@x.com").unwrap();
    let mut right = String::new();
    for round in 0..2 {
        t.clock.advance(61);
        t.auth
            .send_code(Purpose::Login, &a, &client())
            .await
            .unwrap();
        right = t.last_code("ten@x.com");
        let wrong = Code::parse(if right == "111111" {
            "222222"
        } else {
            "111111"
        })
        .unwrap();
        for n in 0..5 {
            let r = t
                .auth
                .check_code_for(Purpose::Login, &a, &wrong, &client())
                .await;
            assert_eq!(r.unwrap_err(), Error::CodeInvalid, "round {round}, try {n}");
        }
    }
    t.clock.advance(61);
    t.auth
        .send_code(Purpose::Login, &a, &client())
        .await
        .unwrap();
    let fresh = Code::parse(&t.last_code("ten@x.com")).unwrap();
    assert_ne!(fresh.as_str(), right);
    assert!(matches!(
        t.auth
            .check_code_for(Purpose::Login, &a, &fresh, &client())
            .await,
        Err(Error::TooManyRequests { .. })
    ));
    t.clock.advance(3600);
    t.auth
        .send_code(Purpose::Login, &a, &client())
        .await
        .unwrap();
    let later = Code::parse(&t.last_code("ten@x.com")).unwrap();
    assert!(t
        .auth
        .check_code_for(Purpose::Login, &a, &later, &client())
        .await
        .is_ok());
}

#[tokio::test]
async fn codes_outstanding_when_the_password_changes_die_with_it() {
    let t = harness();
    t.auth
        .register(new_email("codes@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("codes@x.com").unwrap();
    t.auth
        .send_code(Purpose::Login, &a, &client())
        .await
        .unwrap();
    let code = Code::parse(&t.last_code("codes@x.com")).unwrap();
    t.auth
        .change_password(None, &a, &pw("secret1"), &pw("secret2"), &client())
        .await
        .unwrap();
    assert_eq!(
        t.auth
            .check_code_for(Purpose::Login, &a, &code, &client())
            .await
            .unwrap_err(),
        Error::CodeInvalid
    );
}
