//! Use-case tests across services, driven by a manual clock (no sleeps).

use super::testing::*;
use super::*;
use crate::{
    domain::{Code, Email, Password, Permission},
    error::CredentialFault,
};

fn client() -> Client {
    Client::new("127.0.0.1".parse().ok(), "test".into())
}

/// Sessions opened as seed 002's clients open them.
fn spec() -> SessionSpec {
    SessionSpec {
        dialect: Some(Dialect::ApiV1),
        ..Default::default()
    }
}

fn pw(s: &str) -> Password {
    Password::attempt(s).unwrap()
}

async fn signed_in(t: &Harness, email: &str) -> SignedIn {
    t.auth
        .register(new_email(email, "secret1"), None, &client())
        .await
        .unwrap();
    let account = t.auth.account(email).unwrap();
    t.auth
        .password_login(&account, &pw("secret1"), &Gate::Lockout, &spec(), &client())
        .await
        .unwrap()
}

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
            &account,
            &pw("secret1"),
            &Gate::Lockout,
            &SessionSpec {
                access_ttl: Some(60),
                ..Default::default()
            },
            &client(),
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
        .password_login(&account, &pw("secret1"), &Gate::Lockout, &spec(), &client())
        .await
        .unwrap()
        .tokens
}

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
        .check_password(&known, &pw("wrong"), &Gate::Lockout, &client())
        .await;
    assert_eq!(
        r.unwrap_err(),
        Error::InvalidCredentials(CredentialFault::WrongPassword)
    );
    let after_known = t.auth.hasher().verifications();
    let r = t
        .auth
        .check_password(&unknown, &pw("wrong"), &Gate::Lockout, &client())
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
                .check_password(&a, &pw("bad"), &Gate::Lockout, &client())
                .await,
            Err(Error::InvalidCredentials(_))
        ));
    }
    assert!(matches!(
        t.auth
            .check_password(&a, &pw("secret1"), &Gate::Lockout, &client())
            .await,
        Err(Error::TooManyRequests { .. })
    ));
    // A captcha dialect locks as well: no captcha buys more than ten tries.
    assert!(matches!(
        t.auth
            .check_password(&a, &pw("secret1"), &Gate::Captcha(None), &client())
            .await,
        Err(Error::TooManyRequests { .. })
    ));
    t.clock.advance(30 * 60);
    assert!(t
        .auth
        .check_password(&a, &pw("secret1"), &Gate::Lockout, &client())
        .await
        .is_ok());
}

#[tokio::test]
async fn second_factor_pending_resend_complete_and_void() {
    let t = harness();
    let mut new = new_email("m@x.com", "secret1");
    new.mobile = Some(t.auth.phone("13312341234").unwrap());
    t.auth.register(new, None, &client()).await.unwrap();
    let a = t.auth.account("m@x.com").unwrap();
    let step = t
        .auth
        .password_login_with_second_step(&a, &pw("secret1"), &Gate::Lockout, &spec(), &client())
        .await
        .unwrap();
    let LoginStep::SecondFactor(pending) = step else {
        panic!("second factor expected")
    };
    assert!(matches!(
        t.auth.resend_second_factor(&pending, true, &client()).await,
        Err(Error::TooManyRequests { .. })
    ));
    t.clock.advance(60);
    assert_eq!(
        t.auth
            .resend_second_factor(&pending, true, &client())
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
        .password_login_with_second_step(&a, &pw("secret1"), &Gate::Lockout, &spec(), &client())
        .await
        .unwrap()
    else {
        panic!("second factor expected")
    };
    let code = Code::parse(&t.last_code("+8613312341234")).unwrap();
    t.clock.advance(60);
    assert_eq!(
        t.auth
            .resend_second_factor(&pending, true, &client())
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
        .password_login_with_second_step(&a, &pw("secret1"), &Gate::Lockout, &spec(), &client())
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
        .password_login_with_second_step(&a, &pw("secret1"), &Gate::Lockout, &spec(), &client())
        .await
        .unwrap()
    else {
        panic!()
    };
    t.clock.advance(20 * 60);
    assert_eq!(
        t.auth
            .resend_second_factor(&pending, false, &client())
            .await
            .unwrap_err(),
        Error::NoPendingLogin
    );
}

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
        .check_password(&a, &pw("newsecret"), &Gate::Lockout, &client())
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

#[tokio::test]
async fn password_change_disable_and_permissions() {
    let t = harness();
    let s = signed_in(&t, "p@x.com").await;
    let a = t.auth.account("p@x.com").unwrap();
    t.auth
        .change_password(None, &a, &pw("secret1"), &pw("changed1"), &client())
        .await
        .unwrap();
    assert_eq!(
        t.auth.authenticate(&s.tokens.access).await,
        Err(Error::Unauthenticated)
    );
    assert!(t
        .auth
        .check_password(&a, &pw("secret1"), &Gate::Lockout, &client())
        .await
        .is_err());
    let user = t
        .auth
        .check_password(&a, &pw("changed1"), &Gate::Lockout, &client())
        .await
        .unwrap();

    let admin = signed_in(&t, "admin@x.com").await;
    let principal = t.auth.authenticate(&admin.tokens.access).await.unwrap();
    assert_eq!(
        t.auth
            .login_records_by(&principal, &LegacyId::Number(user.id.0), None, 10)
            .await
            .unwrap_err(),
        Error::MissingPermission(crate::domain::Permission::USER_AUDIT)
    );
    assert_eq!(
        t.auth
            .create_user_as(&principal, new_email("n@x.com", "secret1"))
            .await
            .unwrap_err(),
        Error::MissingPermission(crate::domain::Permission::USER_CREATE)
    );
    let admin_user = t.auth.user(admin.user.id).await.unwrap().unwrap();
    let admin_user = t
        .auth
        .set_permission(
            &admin_user,
            Permission::parse(Permission::USER_AUDIT).unwrap(),
            true,
        )
        .await
        .unwrap();
    t.auth
        .set_permission(
            &admin_user,
            Permission::parse(Permission::USER_CREATE).unwrap(),
            true,
        )
        .await
        .unwrap();
    let records = t
        .auth
        .login_records_by(&principal, &LegacyId::Number(user.id.0), None, 10)
        .await
        .unwrap()
        .map(|(_, records)| records)
        .unwrap_or_default();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].login_type, LoginType::Password);
    let created = t
        .auth
        .create_user_as(
            &principal,
            NewUser {
                email: Some(Email::parse("n@x.com").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        t.outbox.entries().last().unwrap().to,
        "n@x.com",
        "a reset link went to the new user"
    );
    assert!(created.is_active());

    let s = signed_in_as(&t, "p@x.com", "changed1").await;
    let user = t.auth.user(user.id).await.unwrap().unwrap();
    t.auth.disable(&user).await.unwrap();
    assert_eq!(
        t.auth.authenticate(&s.tokens.access).await,
        Err(Error::Disabled),
        "a disabled user's session is gone, and said so"
    );
    assert_eq!(
        t.auth
            .check_password(&a, &pw("changed1"), &Gate::Lockout, &client())
            .await
            .unwrap_err(),
        Error::Disabled
    );
}

async fn signed_in_as(t: &Harness, email: &str, password: &str) -> SignedIn {
    let account = t.auth.account(email).unwrap();
    t.auth
        .password_login(&account, &pw(password), &Gate::Lockout, &spec(), &client())
        .await
        .unwrap()
}

#[tokio::test]
async fn login_records_page_newest_first_without_gaps() {
    let t = harness();
    let s = signed_in(&t, "l@x.com").await;
    for _ in 0..24 {
        signed_in_as(&t, "l@x.com", "secret1").await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = t
            .auth
            .login_records(s.user.id, cursor.as_deref(), 10)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(|r| r.record_id.clone());
        seen.extend(page);
    }
    assert_eq!(seen.len(), 25);
    let ids: Vec<_> = seen.iter().map(|r| r.record_id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(ids, sorted, "newest first");
    sorted.dedup();
    assert_eq!(sorted.len(), 25, "no repeats");
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
            .password_login(&account, &pw("secret1"), &Gate::Lockout, &spec, &client())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_hashing_queue_turns_logins_away_before_any_write() {
    let mut config = crate::config::Config::for_tests();
    config.limits.hash_queue_per_core = 1;
    let t = Harness::builder().config(config).build();
    t.auth
        .register(new_email("q@x.com", "secret1"), None, &client())
        .await
        .unwrap();
    let a = t.auth.account("q@x.com").unwrap();
    let attempts = (0..40).map(|_| {
        let (auth, a) = (t.auth.clone(), a.clone());
        tokio::spawn(async move {
            auth.check_password(&a, &pw("wrong"), &Gate::Lockout, &client())
                .await
        })
    });
    let mut busy = 0;
    let mut judged = 0;
    for result in futures::future::join_all(attempts).await {
        match result.unwrap() {
            Err(Error::Unavailable) => busy += 1,
            Err(Error::InvalidCredentials(_) | Error::TooManyRequests { .. }) => judged += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(busy > 0, "the queue never filled");
    let throttle = crate::store::Key::new("THROTTLE#login#q@x.com", "COUNT");
    let counted = t.store.get(&throttle).await.unwrap().unwrap().attrs["n"]
        .as_i64()
        .unwrap();
    assert_eq!(
        counted, judged,
        "turned-away logins wrote nothing: {busy} busy, {judged} judged"
    );
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
            .code_pending(Purpose::Login, "burst@x.com")
            .await
            .unwrap(),
        "five of the hundred tries voided the code"
    );
    let tries = crate::store::Query {
        pk: "CODE#login#burst@x.com".into(),
        sk_prefix: "TRIES#".into(),
        after: None,
        limit: 10,
        newest_first: false,
    };
    let page = t.store.query(tries).await.unwrap();
    let tried = page.items[0].attrs["n"].as_i64().unwrap();
    // Every guess past the account's wrong-code lock was refused before it reserved a try;
    // every other one paid one, so at most five were ever compared.
    assert!(tried >= super::codes::MAX_ATTEMPTS, "{tried}");
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
async fn ten_thousand_sessions_die_with_one_password_change_in_one_write() {
    use crate::store::failing::FailFrom;
    let t = harness();
    let counting = Arc::new(FailFrom::new(t.store.as_ref().clone(), usize::MAX));
    let auth = Harness::builder()
        .beside(&t)
        .store_through(counting.clone())
        .build()
        .auth;
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
            auth.password_login(&a, &pw("secret1"), &Gate::Lockout, &spec(), &client())
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
        .password_login(&a, &pw("secret1"), &Gate::Lockout, &spec(), &client())
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
        .password_login(&a, &pw("secret1"), &Gate::Lockout, &spec(), &client())
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
        .password_login(&a, &pw("secret1"), &Gate::Lockout, &json, &client())
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

struct Unreachable;

#[async_trait::async_trait]
impl crate::sender::Sender for Unreachable {
    async fn send(
        &self,
        _: &crate::sender::Message,
    ) -> std::result::Result<(), crate::sender::SendError> {
        Err(crate::sender::SendError("unreachable".into()))
    }

    fn supports_voice(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn an_admin_created_user_whose_link_cannot_be_mailed_is_not_left_behind() {
    let t = harness();
    let auth = Harness::builder()
        .beside(&t)
        .sender(Arc::new(Unreachable))
        .build()
        .auth;
    let new = NewUser {
        email: Some(Email::parse("boss@x.com").unwrap()),
        ..Default::default()
    };
    assert_eq!(
        auth.admin_create_user(new.clone()).await.unwrap_err(),
        Error::Unavailable
    );
    let a = auth.account("boss@x.com").unwrap();
    assert!(auth.find_user(&a).await.unwrap().is_none());
    // Once mail works, the same user is created as if nothing had happened.
    assert!(t.auth.admin_create_user(new).await.is_ok());
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
async fn usernames_are_one_account_across_case_and_width() {
    let t = harness();
    let new = NewUser {
        username: Some(crate::domain::Username::parse("Alice", Default::default()).unwrap()),
        password: Some(pw("secret1")),
        ..Default::default()
    };
    let alice = t.auth.register(new, None, &client()).await.unwrap();
    for other in ["alice", "ＡＬＩＣＥ"] {
        let a = t.auth.account(other).unwrap();
        assert_eq!(
            t.auth.find_user(&a).await.unwrap().map(|u| u.id),
            Some(alice.id)
        );
        let again = NewUser {
            username: Some(crate::domain::Username::parse(other, Default::default()).unwrap()),
            password: Some(pw("secret1")),
            ..Default::default()
        };
        assert!(matches!(
            t.auth.register(again, None, &client()).await,
            Err(Error::AlreadyExists { .. })
        ));
    }
}

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
            &by_name,
            &pw("squatter-pass-1"),
            &Gate::Lockout,
            &spec(),
            &client(),
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
                &by_name,
                &pw("squatter-pass-1"),
                &Gate::Lockout,
                &spec(),
                &client()
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
    for _ in 0..super::reset::RESET_CHECKS {
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
            .password_login(&a, &pw("secret1"), &Gate::Lockout, &spec(), &client())
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
            .check_password(&a, &pw("nope"), &Gate::Lockout, &client())
            .await;
    }
    t.auth
        .change_password(None, &a, &pw("secret1"), &pw("secret2"), &client())
        .await
        .unwrap();
    for _ in 0..9 {
        assert!(matches!(
            t.auth
                .check_password(&a, &pw("nope"), &Gate::Lockout, &client())
                .await,
            Err(Error::InvalidCredentials(_))
        ));
    }
}
