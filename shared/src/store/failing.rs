//! A test double: a store that goes down at its Nth call. Wrapped around a real adapter, it
//! shows what a use case leaves behind when the store fails in the middle of it (with
//! all-or-nothing writes, the answer must be: nothing half-done).

use super::{Item, Key, Lifetime, Page, Query, Store, StoreError, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct FailFrom<S> {
    inner: S,
    /// Calls numbered from this one on (0-based) fail; `usize::MAX` never.
    from: AtomicUsize,
    calls: AtomicUsize,
}

impl<S: Store> FailFrom<S> {
    /// A store whose calls fail from the `from`th on (0-based), as if the backend went away.
    pub fn new(inner: S, from: usize) -> Self {
        FailFrom {
            inner,
            from: AtomicUsize::new(from),
            calls: AtomicUsize::new(0),
        }
    }

    /// The calls made so far, failed ones included.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Brings the store back: no call fails any more.
    pub fn heal(&self) {
        self.from.store(usize::MAX, Ordering::SeqCst);
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn call(&self) -> Result<(), StoreError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n >= self.from.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(format!(
                "injected fault at call {n}"
            )));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl<S: Store> Store for FailFrom<S> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.call()?;
        self.inner.get(key).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.call()?;
        self.inner.query(query).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.call()?;
        self.inner.get_many(keys).await
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.call()?;
        self.inner.write(writes).await
    }

    async fn increment(&self, key: &Key, by: i64, lifetime: Lifetime) -> Result<i64, StoreError> {
        self.call()?;
        self.inner.increment(key, by, lifetime).await
    }

    /// The inner store's, neither counted nor failed: a stamp is not a call of the backend. A
    /// who-am-I kept under unchanged stamps is answered while the backend is down, as nothing
    /// it came from can have changed.
    fn stamp(&self, key: &Key) -> Option<u64> {
        self.inner.stamp(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clock::ManualClock, store::Embedded};
    use std::sync::Arc;

    #[tokio::test]
    async fn fails_from_the_nth_call_until_healed() {
        let store = FailFrom::new(Embedded::in_memory(Arc::new(ManualClock::new(0))), 1);
        let key = Key::new("P", "S");
        assert_eq!(store.get(&key).await, Ok(None));
        assert!(matches!(
            store.increment(&key, 1, Lifetime::Forever).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            store.get(&key).await,
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(store.calls(), 3);
        store.heal();
        assert_eq!(store.increment(&key, 1, Lifetime::Forever).await, Ok(1));
        assert_eq!(store.inner().get(&key).await.map(|i| i.is_some()), Ok(true));
    }
}
