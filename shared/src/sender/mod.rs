//! The `Sender` port: delivers one email, SMS or voice message. What the message says is the
//! core's business (`services::messages`); how it travels is the adapter's.

mod aws;
#[cfg(any(test, feature = "testing"))]
pub mod contract;
mod outbox;

pub use aws::{no_texts, sms, sms_and_voice, AwsSender, AwsSenderSettings, Texts, TextsOf};
pub use outbox::{Outbox, OutboxEntry};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
    Voice,
    /// A slider captcha's answer, for local clients and tests: only a development sender
    /// that `reveals_captchas` ever receives one.
    Captcha,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Voice => "voice",
            Channel::Captcha => "captcha",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub channel: Channel,
    /// An email address or an E.164 number.
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("sender unavailable: {0}")]
pub struct SendError(pub String);

#[async_trait::async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), SendError>;

    /// Whether voice calls are delivered; callers fall back to SMS otherwise.
    fn supports_voice(&self) -> bool;

    /// Whether this sender takes slider answers (the development outbox does; nothing that
    /// reaches a real person ever should).
    fn reveals_captchas(&self) -> bool {
        false
    }
}
