//! The development outbox: every message is printed to the console and kept, so a developer
//! (or a test) reads codes and reset links without email or SMS. Never used in production:
//! the configuration refuses it there.

use super::{Channel, Message, SendError, Sender};
use crate::clock::{rfc3339, Clock};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxEntry {
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub sent_at: String,
}

/// Keeps at most this many messages; a long-running dev server must not grow without bound.
const KEEP: usize = 1000;

#[derive(Clone)]
pub struct Outbox {
    entries: Arc<Mutex<Vec<OutboxEntry>>>,
    clock: Arc<dyn Clock>,
}

impl Outbox {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Outbox {
            entries: Arc::default(),
            clock,
        }
    }

    /// Oldest first, newest last.
    pub fn entries(&self) -> Vec<OutboxEntry> {
        self.entries.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Sender for Outbox {
    async fn send(&self, m: &Message) -> Result<(), SendError> {
        let entry = OutboxEntry {
            channel: m.channel,
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            sent_at: rfc3339(self.clock.now()),
        };
        // On stderr, with the logs, so a command's stdout stays machine-readable.
        // One line per message, so log readers can tell it from the log proper.
        eprintln!(
            "[outbox] {:?} to {}: {} | {}",
            entry.channel,
            entry.to,
            entry.subject,
            entry.body.replace('\n', " / ")
        );
        let mut entries = self
            .entries
            .lock()
            .map_err(|_| SendError("outbox poisoned".into()))?;
        if entries.len() >= KEEP {
            entries.remove(0);
        }
        entries.push(entry);
        Ok(())
    }

    fn supports_voice(&self) -> bool {
        true
    }

    fn reveals_captchas(&self) -> bool {
        true
    }
}

#[cfg(test)]
impl Outbox {
    /// The body of the newest message to `to` (tests read codes and links from it).
    pub(crate) fn last_body(&self, to: &str) -> String {
        self.entries()
            .into_iter()
            .rev()
            .find(|e| e.to == to)
            .map(|e| e.body)
            .unwrap_or_else(|| panic!("no message to {to}"))
    }

    /// The verification code in the newest message to `to`.
    pub(crate) fn last_code(&self, to: &str) -> String {
        let body = self.last_body(to);
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == crate::domain::Code::LEN)
            .unwrap_or_else(|| panic!("no code in {body:?}"))
            .to_string()
    }

    /// The reset token in the newest link mailed to `to`.
    pub(crate) fn last_reset_token(&self, to: &str) -> String {
        let body = self.last_body(to);
        body.split("code=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no reset link in {body:?}"))
            .to_string()
    }
}

#[cfg(test)]
mod contract {
    use super::*;
    use crate::{clock::ManualClock, sender::contract::Deliveries};

    impl Deliveries for Outbox {
        async fn delivered(&self) -> Vec<Message> {
            self.entries()
                .into_iter()
                .map(|e| Message {
                    channel: e.channel,
                    to: e.to,
                    subject: e.subject,
                    body: e.body,
                })
                .collect()
        }
    }

    crate::sender_contract_tests!(|| async {
        let outbox = Outbox::new(Arc::new(ManualClock::new(0)));
        (outbox.clone(), outbox)
    });
}
