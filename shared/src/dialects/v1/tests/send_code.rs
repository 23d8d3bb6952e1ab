use super::*;
use crate::{
    config::{Config, Env},
    sender::Channel,
    services::testing::Harness,
};

#[tokio::test]
async fn send_code_to_a_mobile_texts_it_and_shows_it_in_dev_as_an_int() {
    let t = test_app();
    let r = post(
        &t,
        "send-code",
        json!({"account": MOBILE, "flag": "register"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["message"], "开发模式，验证码发送成功");
    let sent = t.last_code(E164);
    assert_eq!(
        r.json["code"].as_u64(),
        Some(sent.parse::<u64>().unwrap()),
        "{}",
        r.json
    );
    let entries = t.app.outbox.as_ref().unwrap().entries();
    let last = entries.last().unwrap();
    assert_eq!((last.channel, last.to.as_str()), (Channel::Sms, E164));
}

#[tokio::test]
async fn send_code_to_an_email_mails_it() {
    let t = test_app();
    let r = post(
        &t,
        "send-code",
        json!({"account": "Bob@Example.com", "flag": "login"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let entries = t.app.outbox.as_ref().unwrap().entries();
    let last = entries.last().unwrap();
    assert_eq!(
        (last.channel, last.to.as_str()),
        (Channel::Email, "bob@example.com")
    );
    assert_eq!(
        r.json["code"].as_u64(),
        Some(t.last_code("bob@example.com").parse::<u64>().unwrap())
    );
}

#[tokio::test]
async fn send_code_in_production_never_returns_the_code() {
    let t = Harness::builder()
        .config(Config {
            env: Env::Prod,
            ..Config::for_tests()
        })
        .app();
    let r = post(
        &t,
        "send-code",
        json!({"account": MOBILE, "flag": "register"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    // The original's zh-CN texts: `sms sending success`, `mail sending success`.
    assert_eq!(r.json, json!({"message": "短信发送成功"}));
    let sent = t.last_code(E164);
    assert!(!r.json.to_string().contains(&sent));
    let mailed = post(
        &t,
        "send-code",
        json!({"account": "m@x.com", "flag": "register"}),
    )
    .await;
    assert_eq!(mailed.json, json!({"message": "邮件发送成功"}));
    // The code that was sent still works.
    let r = post(
        &t,
        "register",
        json!({"account": MOBILE, "password": "pass-word-123456", "code": sent}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn resending_within_a_minute_is_refused() {
    let t = test_app();
    let first = code_for(&t, MOBILE, E164, "register").await;
    t.clock.advance(30);
    let r = post(
        &t,
        "send-code",
        json!({"account": MOBILE, "flag": "register"}),
    )
    .await;
    assert_error(&r, 429, "请求过于频繁");
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("30")
    );
    assert_eq!(t.last_code(E164), first, "nothing was sent");
    // Another purpose is another code.
    let r = post(&t, "send-code", json!({"account": MOBILE, "flag": "login"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    t.clock.advance(30);
    let r = post(
        &t,
        "send-code",
        json!({"account": MOBILE, "flag": "register"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn send_code_refuses_bad_parameters_naming_the_field() {
    let t = test_app();
    assert_bad_value(
        &post(
            &t,
            "send-code",
            json!({"account": MOBILE, "flag": "signup"}),
        )
        .await,
        "flag",
    );
    assert_required(
        &post(&t, "send-code", json!({"account": MOBILE})).await,
        "flag",
    );
    // Neither a mobile nor an email: 403 on send-code, as the original.
    assert_exact(
        &post(
            &t,
            "send-code",
            json!({"account": "alice", "flag": "login"}),
        )
        .await,
        403,
        NOT_CONTACT,
    );
    // Numbers no mobile of the default country can be (its original's `^1[3-9][0-9]{9}$`):
    // refused before a text is spent on them.
    for number in [
        "12",
        "1234567",
        "023-12345678",
        "133123412345",
        "12312341234",
    ] {
        assert_exact(
            &post(&t, "send-code", json!({"account": number, "flag": "login"})).await,
            403,
            NOT_CONTACT,
        );
    }
    // A country texts are not enabled for: polyauth's own refusal, in Chinese.
    assert_exact(
        &post(
            &t,
            "send-code",
            json!({"account": "+14155550123", "flag": "register"}),
        )
        .await,
        403,
        "暂不支持向该国家或地区的手机号发送短信",
    );
    assert_required(
        &post(&t, "send-code", json!({"flag": "login"})).await,
        "account",
    );
    assert_required(
        &post(
            &t,
            "send-code",
            json!({"account": 13312341234u64, "flag": "login"}),
        )
        .await,
        "account",
    );
    assert!(t.app.outbox.as_ref().unwrap().entries().is_empty());
}
