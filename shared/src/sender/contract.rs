//! The contract every `Sender` passes, one function per property, for the development outbox
//! and the AWS sender alike (`sender_contract_tests!` makes each a test of its own). What a
//! sender delivered is read back through `Deliveries`: the outbox's entries, or what the
//! emulated AWS services accepted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test suite: a failed assumption is a failed test"
)]

use super::{Channel, Message, Sender};

/// What a sender has delivered so far, oldest first, as messages: an email or SMS as sent (a
/// voice message that fell back to SMS reads as an SMS).
pub trait Deliveries: Send + Sync {
    fn delivered(&self) -> impl std::future::Future<Output = Vec<Message>> + Send;
}

/// One named test per property: `$make` is an async closure answering the sender and its
/// deliveries. Recipients are made from a fresh id, so tests can share one emulator.
#[macro_export]
macro_rules! sender_contract_tests {
    ($make:expr) => {
        $crate::sender_contract_tests!(@each $make;
            an_email_arrives_whole an_sms_arrives_whole
            voice_arrives_by_voice_or_as_its_sms a_captcha_answer_reaches_only_a_revealing_sender);
    };
    (@each $make:expr; $($property:ident)*) => {
        $(
            #[tokio::test]
            async fn $property() {
                let (sender, deliveries) = ($make)().await;
                $crate::sender::contract::$property(&sender, &deliveries, &$crate::random::id())
                    .await;
            }
        )*
    };
}

/// A message with the subject every test uses.
pub fn message(channel: Channel, to: &str, body: &str) -> Message {
    Message {
        channel,
        to: to.into(),
        subject: "Your polyauth code".into(),
        body: body.into(),
    }
}

/// A mobile number no other test uses, in E.164.
fn mobile(fresh: &str) -> String {
    let digits: u64 = fresh
        .bytes()
        .fold(0u64, |n, b| n.wrapping_mul(31).wrapping_add(u64::from(b)));
    format!("+86133{:08}", digits % 100_000_000)
}

async fn delivered_to(deliveries: &impl Deliveries, to: &str) -> Vec<Message> {
    deliveries
        .delivered()
        .await
        .into_iter()
        .filter(|m| m.to == to)
        .collect()
}

/// An email reaches its one recipient once, with its subject and every line of its body.
pub async fn an_email_arrives_whole(s: &impl Sender, d: &impl Deliveries, fresh: &str) {
    let to = format!("{}@example.com", fresh.to_lowercase());
    let body = "Your code is 482913.\nIt expires in 10 minutes <soon> & then it's gone.";
    s.send(&message(Channel::Email, &to, body)).await.unwrap();
    let got = delivered_to(d, &to).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].channel, Channel::Email);
    assert_eq!(got[0].subject, "Your polyauth code");
    for line in body.lines() {
        assert!(got[0].body.contains(line), "{line:?} missing in {got:?}");
    }
}

/// An SMS reaches its number once with its text, Chinese included.
pub async fn an_sms_arrives_whole(s: &impl Sender, d: &impl Deliveries, fresh: &str) {
    let to = mobile(fresh);
    let body = "您的验证码是 774411，10 分钟内有效。";
    s.send(&message(Channel::Sms, &to, body)).await.unwrap();
    let got = delivered_to(d, &to).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].body, body);
}

/// A voice message goes by voice where the sender supports it, and otherwise arrives as an SMS
/// with the same words: the caller's code is never lost.
pub async fn voice_arrives_by_voice_or_as_its_sms(
    s: &impl Sender,
    d: &impl Deliveries,
    fresh: &str,
) {
    let to = mobile(fresh);
    let body = "Your code is 5 5 1 2 0 9";
    s.send(&message(Channel::Voice, &to, body)).await.unwrap();
    let got = delivered_to(d, &to).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let expected = if s.supports_voice() {
        Channel::Voice
    } else {
        Channel::Sms
    };
    assert_eq!(got[0].channel, expected);
    assert!(got[0].body.contains(body), "{got:?}");
}

/// A slider answer is delivered only by a sender that says it reveals them (the development
/// outbox); any other refuses it and delivers nothing.
pub async fn a_captcha_answer_reaches_only_a_revealing_sender(
    s: &impl Sender,
    d: &impl Deliveries,
    fresh: &str,
) {
    let to = format!("captcha-{fresh}");
    let sent = s.send(&message(Channel::Captcha, &to, "x=123")).await;
    let got = delivered_to(d, &to).await;
    if s.reveals_captchas() {
        assert!(sent.is_ok());
        assert_eq!(got.len(), 1, "{got:?}");
    } else {
        assert!(sent.is_err(), "a captcha answer was accepted");
        assert!(got.is_empty(), "{got:?}");
    }
}
