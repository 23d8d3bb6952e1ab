//! The `Store` port: narrow and DynamoDB-shaped, so the embedded adapter and DynamoDB behave
//! alike. Items live under a partition key and a sort key, carry JSON attributes and an
//! optional expiry; expired items are absent on every read, whatever the backend has swept.

// The contract suite every adapter passes and the failure-injecting wrapper are for tests only
// (this crate's and the integration tests', through the `testing` feature), not the binaries.
#[cfg(any(test, feature = "testing"))]
pub mod contract;
pub mod dynamodb;
mod embedded;
#[cfg(any(test, feature = "testing"))]
pub mod failing;

pub use dynamodb::Dynamo;
pub use embedded::Embedded;

use serde_json::{Map, Value};

/// The attribute a counter item keeps its count in (adapters write it; readers use
/// `Item::count`).
pub(crate) const COUNT: &str = "n";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: Key,
    pub attrs: Map<String, Value>,
    /// Epoch seconds (DynamoDB's TTL attribute `expires_at`).
    pub expires_at: Option<i64>,
}

impl Item {
    pub fn new(key: Key, attrs: Map<String, Value>, expires_at: Option<i64>) -> Self {
        Item {
            key,
            attrs,
            expires_at,
        }
    }

    /// An item whose attributes are a serialised value; a value that is not a JSON object (or
    /// does not serialise) is refused rather than stored as an empty item.
    pub fn of<T: serde::Serialize>(
        key: Key,
        value: &T,
        expires_at: Option<i64>,
    ) -> Result<Self, StoreError> {
        match serde_json::to_value(value) {
            Ok(Value::Object(attrs)) => Ok(Item::new(key, attrs, expires_at)),
            Ok(other) => Err(StoreError::Unavailable(format!(
                "item {}/{}: attributes must be an object, not {other}",
                key.pk, key.sk
            ))),
            Err(e) => Err(StoreError::Unavailable(format!(
                "item {}/{} does not serialise: {e}",
                key.pk, key.sk
            ))),
        }
    }

    /// The attributes read back as a value; a shape mismatch means a corrupt or foreign item.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        // Read in place: copying the attributes first cost who-am-I a map per item.
        T::deserialize(&self.attrs).map_err(|e| {
            StoreError::Unavailable(format!(
                "item {}/{} unreadable: {e}",
                self.key.pk, self.key.sk
            ))
        })
    }

    /// A counter item (what `Store::increment` keeps) holding `n`.
    pub fn counter(key: Key, n: i64, expires_at: Option<i64>) -> Self {
        let mut attrs = Map::new();
        attrs.insert(COUNT.into(), n.into());
        Item::new(key, attrs, expires_at)
    }

    /// The count of a counter item (0 when it has none).
    pub fn count(&self) -> i64 {
        self.attrs.get(COUNT).and_then(Value::as_i64).unwrap_or(0)
    }

    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}

/// A precondition on one item of a write, checked against its live (unexpired) state.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    None,
    NotExists,
    Exists,
    /// The item exists and this attribute equals the value.
    Equals(String, Value),
}

impl Condition {
    pub fn equals(attr: &str, value: impl Into<Value>) -> Self {
        Condition::Equals(attr.to_string(), value.into())
    }

    pub fn holds(&self, current: Option<&Item>) -> bool {
        match self {
            Condition::None => true,
            Condition::NotExists => current.is_none(),
            Condition::Exists => current.is_some(),
            Condition::Equals(attr, v) => current.and_then(|i| i.attrs.get(attr)) == Some(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put {
        item: Item,
        cond: Condition,
    },
    Delete {
        key: Key,
        cond: Condition,
    },
    Check {
        key: Key,
        cond: Condition,
    },
    /// `increment` inside a batch, so that a use case's limits are counted in the same round
    /// trip as its other writes.
    Count(Count),
}

/// Adds `by` to the counter at `key` (absent or expired: starts at `by`, expiring as
/// `lifetime` says), failing the batch when the count would pass `at_most`. It answers no
/// count: a caller that needs one past the limit falls back to `increment`.
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    pub key: Key,
    pub by: i64,
    pub lifetime: Lifetime,
    pub at_most: Option<i64>,
}

impl Write {
    pub fn put(item: Item) -> Self {
        Write::Put {
            item,
            cond: Condition::None,
        }
    }

    pub fn put_new(item: Item) -> Self {
        Write::Put {
            item,
            cond: Condition::NotExists,
        }
    }

    pub fn delete(key: Key) -> Self {
        Write::Delete {
            key,
            cond: Condition::None,
        }
    }

    /// One more of the counter at `key`, refused once it has reached `limit`.
    pub fn count_within(key: Key, lifetime: Lifetime, limit: i64) -> Self {
        Write::Count(Count {
            key,
            by: 1,
            lifetime,
            at_most: Some(limit),
        })
    }

    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => &item.key,
            Write::Delete { key, .. } | Write::Check { key, .. } => key,
            Write::Count(count) => &count.key,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub pk: String,
    pub sk_prefix: String,
    /// Where the range starts (inclusive) within the prefix; `None`: at the prefix.
    pub sk_from: Option<String>,
    /// Opaque cursor from the previous page's `next`.
    pub after: Option<String>,
    pub limit: usize,
    pub newest_first: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The condition of the write at this index of the batch did not hold; nothing was written.
    #[error("condition failed on write {0}")]
    ConditionFailed(usize),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait::async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Reads up to 100 items in one round trip (DynamoDB's `BatchGetItem`, consistent),
    /// answered in the order of `keys`.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;

    async fn query(&self, query: Query) -> Result<Page, StoreError>;

    /// Applies every write or none. At most 100 writes (DynamoDB's transaction limit) and each
    /// key at most once.
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Adds `by` to the counter item's `n` and answers the new value. A missing or expired
    /// counter starts from zero, with the expiry `lifetime` gives it.
    async fn increment(&self, key: &Key, by: i64, lifetime: Lifetime) -> Result<i64, StoreError>;

    /// A stamp of `key` that changes when a write of it begins and again when it ends, where
    /// this store sees every write of its data (the embedded store, owned by one process). A
    /// reader that took it before reading `key` may keep what it read while the stamp stays the
    /// same. `None` where the store cannot tell (DynamoDB, which every instance writes) and
    /// while a write of `key` is in flight.
    fn stamp(&self, _key: &Key) -> Option<u64> {
        None
    }
}

/// How long a counter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Until deleted (the id counter, import markers).
    Forever,
    /// A fixed window: the expiry set when the counter starts is kept by later increments.
    Window(i64),
    /// Moved to this expiry by every increment (a lockout that lasts while attempts go on).
    Sliding(i64),
}

impl Lifetime {
    /// The expiry a counter gets, and whether an increment moves it.
    pub fn expiry(self) -> (Option<i64>, bool) {
        match self {
            Lifetime::Forever => (None, false),
            Lifetime::Window(t) => (Some(t), false),
            Lifetime::Sliding(t) => (Some(t), true),
        }
    }

    /// The counter after adding `by` to `current` (its live state: `None` when absent or
    /// expired), the same on every adapter.
    pub fn next(self, key: &Key, current: Option<&Item>, by: i64) -> Item {
        let (expires_at, renew) = self.expiry();
        match current {
            Some(item) => Item::counter(
                key.clone(),
                item.count() + by,
                if renew { expires_at } else { item.expires_at },
            ),
            None => Item::counter(key.clone(), by, expires_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_made_of_an_object_only() {
        let key = Key::new("P", "S");
        let item = Item::of(key.clone(), &serde_json::json!({"n": 1}), Some(5)).unwrap();
        assert_eq!(item.attrs.get("n"), Some(&Value::from(1)));
        assert!(
            Item::of(key.clone(), &7, None).is_err(),
            "a number is no item"
        );
        assert!(Item::of(key, &"text", None).is_err(), "nor is a string");
    }
}
