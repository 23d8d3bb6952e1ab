//! Use-case tests of administration: permissions, disabling, users created on someone's behalf,
//! driven by a manual clock (no sleeps).

use crate::domain::{Email, Permission};
use crate::services::{testing::*, *};

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
        .check_password(Attempt::new(&a, &pw("secret1"), &client()))
        .await
        .is_err());
    let user = t
        .auth
        .check_password(Attempt::new(&a, &pw("changed1"), &client()))
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
        .grant_permission(
            &admin_user,
            Permission::parse(Permission::USER_AUDIT).unwrap(),
        )
        .await
        .unwrap();
    t.auth
        .grant_permission(
            &admin_user,
            Permission::parse(Permission::USER_CREATE).unwrap(),
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
    let admin_user = t.auth.user(admin.user.id).await.unwrap().unwrap();
    t.auth
        .revoke_permission(
            &admin_user,
            Permission::parse(Permission::USER_CREATE).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        t.auth
            .create_user_as(&principal, new_email("m@x.com", "secret1"))
            .await
            .unwrap_err(),
        Error::MissingPermission(Permission::USER_CREATE),
        "a revoked permission is gone"
    );

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
            .check_password(Attempt::new(&a, &pw("changed1"), &client()))
            .await
            .unwrap_err(),
        Error::Disabled
    );
}

#[tokio::test]
async fn an_admin_created_user_whose_link_cannot_be_mailed_is_not_left_behind() {
    let t = harness();
    let auth = Harness::builder()
        .beside(&t)
        .sender(Arc::new(Down))
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
