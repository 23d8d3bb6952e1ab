//! The AWS sender: email through SES v2 and SMS through SNS, sent to moto and read back from
//! what moto accepted. moto does not emulate End User Messaging SMS and voice v2
//! (`SendVoiceMessage`), and its SNS keeps no message attributes; those requests go to a tiny
//! local HTTP endpoint instead, which records them and answers as AWS would.

use crate::support::moto;
use polyauth::sender::{
    contract::{message, Deliveries},
    AwsSender, AwsSenderSettings, Channel, Message, Sender,
};
use std::sync::{Arc, Mutex};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

async fn sender_on_moto(from: &str, voice_origination: Option<&str>) -> AwsSender {
    let moto = moto::moto();
    moto.verify_email(from).await;
    let settings = AwsSenderSettings {
        email_from: from.into(),
        sms_sender_id: None,
        voice_origination: voice_origination.map(String::from),
    };
    AwsSender::new(&moto.sdk().await, settings)
}

/// What moto's SES and SNS accepted, as messages.
struct OnMoto;

impl Deliveries for OnMoto {
    async fn delivered(&self) -> Vec<Message> {
        let moto = moto::moto();
        let mut out: Vec<Message> = Vec::new();
        for mail in moto.emails().await {
            for to in &mail.to {
                out.push(Message {
                    channel: Channel::Email,
                    to: to.clone(),
                    subject: mail.subject.clone(),
                    body: mail.text(),
                });
            }
        }
        out.extend(moto.sms().await.into_iter().map(|sms| Message {
            channel: Channel::Sms,
            to: sms.to,
            subject: String::new(),
            body: sms.body,
        }));
        out
    }
}

/// The sender contract (`polyauth::sender::contract`) on SES v2 and SNS, as the outbox passes it.
mod sender_contract {
    use super::*;
    polyauth::sender_contract_tests!(|| async {
        let from = format!("{}@example.com", moto::fresh_name("sender"));
        (sender_on_moto(&from, None).await, OnMoto)
    });
}

#[tokio::test]
async fn email_goes_out_through_ses_with_text_and_html() {
    let from = format!("{}@example.com", moto::fresh_name("sender"));
    let to = format!("{}@example.com", moto::fresh_name("rcpt"));
    let sender = sender_on_moto(&from, None).await;
    sender
        .send(&message(
            Channel::Email,
            &to,
            "Your code is 482913.\nIt expires in 10 minutes <soon> & then it's gone.",
        ))
        .await
        .expect("SES accepts the mail");
    let mails = moto::moto().emails().await;
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.to == [to.clone()])
        .expect("moto's SES holds the mail");
    assert_eq!(mail.from, from);
    assert_eq!(mail.subject, "Your polyauth code");
    assert!(
        mail.html.contains("Your code is 482913.<br>"),
        "{}",
        mail.html
    );
    assert!(
        mail.html.contains("&lt;soon&gt; &amp; then it&#39;s gone."),
        "{}",
        mail.html
    );
    assert!(mail.text().contains("<soon> & then it's gone."));
}

#[tokio::test]
async fn an_unverified_sender_address_is_a_send_error_without_secrets() {
    let moto = moto::moto();
    let settings = AwsSenderSettings {
        email_from: format!("{}@unverified.example", moto::fresh_name("nobody")),
        sms_sender_id: None,
        voice_origination: None,
    };
    let sender = AwsSender::new(&moto.sdk().await, settings);
    let err = sender
        .send(&message(
            Channel::Email,
            "someone@example.com",
            "code 123456",
        ))
        .await
        .unwrap_err();
    assert!(err.0.contains("SendEmail"), "{err}");
    assert!(
        !err.0.contains("testing"),
        "no credentials in errors: {err}"
    );
}

/// One recorded request: its head (request line and headers, lower-cased) and body.
#[derive(Debug, Clone)]
struct Recorded {
    head: String,
    body: String,
}

/// A local HTTP endpoint that records every request and answers as the AWS service would
/// (JSON for the JSON protocols, SNS's XML for its query protocol).
async fn recorder() -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let Ok(n) = conn.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + length {
                        break (
                            head,
                            String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).into_owned(),
                        );
                    }
                };
                let (kind, answer) = if head.contains("x-www-form-urlencoded") {
                    (
                        "text/xml",
                        "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult>\
                         <MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId>\
                         </ResponseMetadata></PublishResponse>",
                    )
                } else {
                    ("application/x-amz-json-1.0", r#"{"MessageId":"m-1"}"#)
                };
                log.lock().unwrap().push(Recorded { head, body });
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    (endpoint, seen)
}

#[tokio::test]
async fn voice_goes_out_through_sms_voice_v2_when_configured() {
    let (endpoint, seen) = recorder().await;
    let settings = AwsSenderSettings {
        email_from: "auth@example.com".into(),
        sms_sender_id: None,
        voice_origination: Some("+12065550100".into()),
    };
    let sender = AwsSender::new(
        &polyauth::aws::endpoint_config(&endpoint, moto::REGION).await,
        settings,
    );
    assert!(sender.supports_voice());
    sender
        .send(&message(
            Channel::Voice,
            "+8613312340003",
            "Your code is 3 1 4 1 5 9",
        ))
        .await
        .expect("the call is placed");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0]
            .head
            .contains("x-amz-target: pinpointsmsvoicev2.sendvoicemessage"),
        "{}",
        seen[0].head
    );
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["DestinationPhoneNumber"], "+8613312340003");
    assert_eq!(body["OriginationIdentity"], "+12065550100");
    assert_eq!(body["MessageBody"], "Your code is 3 1 4 1 5 9");
    assert_eq!(body["MessageBodyTextType"], "TEXT");
}

#[tokio::test]
async fn sms_is_transactional_and_carries_the_sender_id() {
    let (endpoint, seen) = recorder().await;
    let settings = AwsSenderSettings {
        email_from: "auth@example.com".into(),
        sms_sender_id: Some("POLYAUTH".into()),
        voice_origination: None,
    };
    let sender = AwsSender::new(
        &polyauth::aws::endpoint_config(&endpoint, moto::REGION).await,
        settings,
    );
    sender
        .send(&message(Channel::Sms, "+8613312340004", "code 271828"))
        .await
        .expect("SNS accepts");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let form: Vec<(String, String)> =
        serde_urlencoded::from_str(&seen[0].body).expect("a form body");
    let get = |k: &str| {
        form.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("Action"), Some("Publish"));
    assert_eq!(get("PhoneNumber"), Some("+8613312340004"));
    assert_eq!(get("Message"), Some("code 271828"));
    let attributes: Vec<(Option<&str>, Option<&str>)> = (1..=2)
        .map(|i| {
            (
                get(&format!("MessageAttributes.entry.{i}.Name")),
                get(&format!("MessageAttributes.entry.{i}.Value.StringValue")),
            )
        })
        .collect();
    assert!(
        attributes.contains(&(Some("AWS.SNS.SMS.SMSType"), Some("Transactional"))),
        "{form:?}"
    );
    assert!(
        attributes.contains(&(Some("AWS.SNS.SMS.SenderID"), Some("POLYAUTH"))),
        "{form:?}"
    );
}
