//! Writes committed together, each added with what its failed condition means to the caller.
//! The store answers a failed transaction with the index of the write whose condition did not
//! hold; reading that index through this list, rather than by position in the use case, means
//! adding a write anywhere can never change which error a user sees.

use crate::{
    store::{Store, StoreError, Write},
    Error, Result,
};

#[derive(Default)]
pub(crate) struct Batch {
    writes: Vec<Write>,
    meanings: Vec<Meaning>,
}

/// What a write's failed condition means.
enum Meaning {
    Refusal(Error),
    /// The caller's address is past a limit: refused, and logged for the operators.
    Limited(AddressLimit),
    /// A value claimed as it was read has moved on: another caller came first.
    Claim,
}

/// What committing a batch with a claim came to.
#[derive(Debug, PartialEq)]
pub(crate) enum Claimed {
    Committed,
    /// The claim's condition failed and nothing was written: the caller decides again.
    Lost,
}

/// What the count of a per-address limit in a batch (`Auth::limit_write`) means when refused.
pub(crate) struct AddressLimit {
    pub refusal: Error,
    pub limit: &'static str,
    pub bucket: String,
}

impl AddressLimit {
    pub fn refuse(self) -> Error {
        tracing::warn!(limit = self.limit, address = %self.bucket, "address_limited");
        self.refusal
    }
}

impl Batch {
    pub fn new() -> Self {
        Batch::default()
    }

    /// A batch of one write whose failed condition means `on_conflict`.
    pub fn of(write: Write, on_conflict: Error) -> Self {
        let mut batch = Batch::new();
        batch.add(write, on_conflict);
        batch
    }

    /// A write whose failed condition means `on_conflict`.
    pub fn add(&mut self, write: Write, on_conflict: Error) {
        self.writes.push(write);
        self.meanings.push(Meaning::Refusal(on_conflict));
    }

    /// A count of a per-address limit (none for the service's own calls).
    pub fn limit(&mut self, count: Option<(Write, AddressLimit)>) {
        if let Some((write, limit)) = count {
            self.writes.push(write);
            self.meanings.push(Meaning::Limited(limit));
        }
    }

    /// A write that holds only if what it claims is still as it was read (a counter, say).
    pub fn claim(&mut self, write: Write) {
        self.writes.push(write);
        self.meanings.push(Meaning::Claim);
    }

    /// A write whose condition cannot fail in normal operation (a put without one, a key
    /// nobody else can know): a failure means the store changed under us.
    pub fn push(&mut self, write: Write) {
        self.add(write, Error::Unavailable);
    }

    pub fn push_all(&mut self, writes: impl IntoIterator<Item = Write>) {
        for w in writes {
            self.push(w);
        }
    }

    /// Whether a write of this batch is on `key` (a transaction writes each key at most once).
    pub fn touches(&self, key: &crate::store::Key) -> bool {
        self.writes.iter().any(|w| w.key() == key)
    }

    pub fn append(&mut self, other: Batch) {
        self.writes.extend(other.writes);
        self.meanings.extend(other.meanings);
    }

    /// All or nothing; a failed condition answers what that write's caller said it means.
    pub async fn commit(self, store: &dyn Store) -> Result<()> {
        match self.commit_claiming(store).await? {
            Claimed::Committed => Ok(()),
            Claimed::Lost => Err(Error::Unavailable),
        }
    }

    /// `commit`, answering a lost claim rather than failing on it.
    pub async fn commit_claiming(self, store: &dyn Store) -> Result<Claimed> {
        match store.write(self.writes).await {
            Ok(()) => Ok(Claimed::Committed),
            Err(StoreError::ConditionFailed(i)) => match self.meanings.into_iter().nth(i) {
                Some(Meaning::Refusal(e)) => Err(e),
                Some(Meaning::Limited(limit)) => Err(limit.refuse()),
                Some(Meaning::Claim) => Ok(Claimed::Lost),
                None => Err(Error::Unavailable),
            },
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        clock::ManualClock,
        store::{Embedded, Item, Key, Lifetime},
    };
    use std::sync::Arc;

    #[tokio::test]
    async fn a_failed_condition_answers_the_meaning_of_its_write() {
        let store = Embedded::in_memory(Arc::new(ManualClock::new(0)));
        let taken = Item::new(Key::new("A", "1"), Default::default(), None);
        store.write(vec![Write::put(taken.clone())]).await.unwrap();
        for position in 0..3 {
            let mut batch = Batch::new();
            for i in 0..3 {
                let key = Key::new("B", i.to_string());
                batch.push(Write::put(Item::new(key, Default::default(), None)));
                if i == position {
                    batch.add(Write::put_new(taken.clone()), Error::CodeInvalid);
                }
            }
            assert_eq!(batch.commit(&store).await, Err(Error::CodeInvalid));
            assert_eq!(store.get(&Key::new("B", "0")).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_lost_claim_is_answered_and_nothing_is_written() {
        let store = Embedded::in_memory(Arc::new(ManualClock::new(0)));
        let counter = Key::new("COUNTER", "n");
        let claim = |read: i64| Write::count_within(counter.clone(), Lifetime::Forever, read + 1);
        let other = Write::put(Item::new(Key::new("B", "0"), Default::default(), None));
        let mut batch = Batch::new();
        batch.claim(claim(0));
        batch.push(other.clone());
        assert_eq!(batch.commit_claiming(&store).await, Ok(Claimed::Committed));
        // Read as 0 again, but it is 1 now.
        store
            .write(vec![Write::delete(Key::new("B", "0"))])
            .await
            .unwrap();
        let mut stale = Batch::new();
        stale.claim(claim(0));
        stale.push(other);
        assert_eq!(stale.commit_claiming(&store).await, Ok(Claimed::Lost));
        assert_eq!(store.get(&Key::new("B", "0")).await.unwrap(), None);
        assert_eq!(
            store.get(&counter).await.unwrap().map(|c| c.count()),
            Some(1)
        );
    }
}
