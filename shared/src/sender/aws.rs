//! The AWS sender: email through SES v2 (`SendEmail`, simple content with a text and an HTML
//! body), SMS through SNS (`Publish` to the number, transactional), and voice through AWS End
//! User Messaging SMS and voice v2 (`SendVoiceMessage`) when an origination identity is
//! configured; without one, `supports_voice` is false and the core sends an SMS instead. A
//! Lambda function links only the text channels its endpoints send (`Texts`).
//! Errors name the service and AWS's reason, never credentials.

use super::{Channel, Message, SendError, Sender};
use aws_config::SdkConfig;
use aws_sdk_pinpointsmsvoicev2::types::VoiceMessageBodyTextType;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent};
use aws_sdk_sns::types::MessageAttributeValue;
use std::sync::Arc;

/// Where messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSenderSettings {
    /// The SES identity mail is sent from (a verified address or an address of a verified domain).
    pub email_from: String,
    /// SNS `AWS.SNS.SMS.SenderID`, where the destination country supports sender ids.
    pub sms_sender_id: Option<String>,
    /// The origination identity (phone number, pool or their ARN) voice calls are made from.
    pub voice_origination: Option<String>,
}

#[derive(Clone)]
pub struct AwsSender {
    ses: aws_sdk_sesv2::Client,
    texts: Option<Arc<dyn Texts>>,
    settings: AwsSenderSettings,
}

/// Text messages (SMS, and voice where a function calls), apart from mail so that a function
/// sending none links neither SNS nor SMS-voice: each function names its own (`lambda.rs`).
#[async_trait::async_trait]
pub trait Texts: Send + Sync {
    async fn send(&self, m: &Message, settings: &AwsSenderSettings) -> Result<(), SendError>;

    /// Whether voice calls can be made (else a voice message goes as an SMS).
    fn calls(&self) -> bool;
}

/// How a function's text messages leave, built from the shared SDK configuration.
pub type TextsOf = fn(&SdkConfig) -> Option<Arc<dyn Texts>>;

/// A function that sends mail only.
pub fn no_texts(_: &SdkConfig) -> Option<Arc<dyn Texts>> {
    None
}

/// SMS through SNS; a voice message goes as an SMS.
pub fn sms(sdk: &SdkConfig) -> Option<Arc<dyn Texts>> {
    Some(Arc::new(Sns(aws_sdk_sns::Client::new(sdk))))
}

/// SMS through SNS and voice through SMS-voice v2.
pub fn sms_and_voice(sdk: &SdkConfig) -> Option<Arc<dyn Texts>> {
    Some(Arc::new(SnsAndVoice {
        sns: Sns(aws_sdk_sns::Client::new(sdk)),
        voice: aws_sdk_pinpointsmsvoicev2::Client::new(sdk),
    }))
}

impl AwsSender {
    /// Every channel (the local binary, the tests): SES, SNS and SMS-voice.
    pub fn new(sdk: &SdkConfig, settings: AwsSenderSettings) -> Self {
        Self::with_texts(sdk, settings, sms_and_voice)
    }

    /// Mail through SES and text messages as `texts` builds them, clients built once.
    pub fn with_texts(sdk: &SdkConfig, settings: AwsSenderSettings, texts: TextsOf) -> Self {
        let sdk = &crate::aws::for_sending(sdk);
        AwsSender {
            ses: aws_sdk_sesv2::Client::new(sdk),
            texts: texts(sdk),
            settings,
        }
    }

    async fn email(&self, m: &Message) -> Result<(), SendError> {
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| SendError(format!("SES message: {e}")))
        };
        let message = aws_sdk_sesv2::types::Message::builder()
            .subject(content(&m.subject)?)
            .body(
                Body::builder()
                    .text(content(&m.body)?)
                    .html(content(&html(&m.body))?)
                    .build(),
            )
            .build();
        self.ses
            .send_email()
            .from_email_address(&self.settings.email_from)
            .destination(Destination::builder().to_addresses(&m.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| SendError(format!("SES SendEmail: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }
}

struct Sns(aws_sdk_sns::Client);

#[async_trait::async_trait]
impl Texts for Sns {
    async fn send(&self, m: &Message, settings: &AwsSenderSettings) -> Result<(), SendError> {
        let string = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| SendError(format!("SNS message attribute: {e}")))
        };
        let mut publish = self
            .0
            .publish()
            .phone_number(&m.to)
            .message(&m.body)
            .message_attributes("AWS.SNS.SMS.SMSType", string("Transactional")?);
        if let Some(id) = &settings.sms_sender_id {
            publish = publish.message_attributes("AWS.SNS.SMS.SenderID", string(id)?);
        }
        publish
            .send()
            .await
            .map_err(|e| SendError(format!("SNS Publish: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }

    fn calls(&self) -> bool {
        false
    }
}

struct SnsAndVoice {
    sns: Sns,
    voice: aws_sdk_pinpointsmsvoicev2::Client,
}

#[async_trait::async_trait]
impl Texts for SnsAndVoice {
    async fn send(&self, m: &Message, settings: &AwsSenderSettings) -> Result<(), SendError> {
        let (Channel::Voice, Some(origination)) = (m.channel, &settings.voice_origination) else {
            return self.sns.send(m, settings).await;
        };
        self.voice
            .send_voice_message()
            .destination_phone_number(&m.to)
            .origination_identity(origination)
            .message_body(&m.body)
            .message_body_text_type(VoiceMessageBodyTextType::Text)
            .send()
            .await
            .map_err(|e| {
                SendError(format!(
                    "SMS-voice SendVoiceMessage: {}",
                    DisplayErrorContext(&e)
                ))
            })?;
        Ok(())
    }

    fn calls(&self) -> bool {
        true
    }
}

/// The HTML body: the text, escaped, with its line breaks kept.
pub(crate) fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[async_trait::async_trait]
impl Sender for AwsSender {
    #[tracing::instrument(name = "sender.send", skip_all, fields(channel = m.channel.as_str()), err(Display))]
    async fn send(&self, m: &Message) -> Result<(), SendError> {
        match (m.channel, &self.texts) {
            (Channel::Email, _) => self.email(m).await,
            (Channel::Sms | Channel::Voice, Some(texts)) => texts.send(m, &self.settings).await,
            (Channel::Sms | Channel::Voice, None) => {
                Err(SendError("this function sends no text messages".into()))
            }
            (Channel::Captcha, _) => Err(SendError("slider answers are never sent".into())),
        }
    }

    fn supports_voice(&self) -> bool {
        self.settings.voice_origination.is_some() && self.texts.as_ref().is_some_and(|t| t.calls())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_keeps_line_breaks() {
        assert_eq!(
            html("a <b> & \"c\"\nd's\r\n"),
            "a &lt;b&gt; &amp; &quot;c&quot;<br>\nd&#39;s<br>\n"
        );
    }
}
