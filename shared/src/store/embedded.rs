//! The embedded adapter: redb, in a file (persistent) or in memory (tests).
//!
//! Durability: commits skip fsync, and a background flusher makes them durable every 100 ms
//! (and at shutdown), so a write costs microseconds instead of a disk flush, and the pages redb
//! keeps for not-yet-durable commits stay few; a machine crash can lose the last 100 ms of
//! writes. Every commit is atomic either way. Writes go through one committer thread
//! (`group`), which commits the batches waiting for it together; each batch is still
//! all-or-nothing, and one writer serialises conditional checks, which is what makes uniqueness
//! hold under concurrency.
//!
//! Expired items are absent on every read, and a sweeper deletes them: an index by expiry
//! (`EXPIRY`) is kept in the same transactions as the items, and each sweep deletes at most
//! `SWEEP_BATCH` of the oldest expired, every `SWEEP_EVERY`, so unauthenticated requests that
//! write short-lived items (captchas, counters) cannot grow the file without bound.

mod group;
mod stamps;

use super::{Item, Key, Lifetime, Page, Query, Store, StoreError, Write};
use crate::clock::Clock;
use redb::{
    backends::InMemoryBackend, Database, Durability, ReadableTable, ReadableTableMetadata,
    TableDefinition,
};
use serde_json::{Map, Value};
use std::{
    path::Path,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
/// `(expires_at, raw key)` of every item that expires.
const EXPIRY: TableDefinition<(i64, &str), ()> = TableDefinition::new("expiry");
/// Items a sweep deletes at most, and how often the sweeper runs.
pub const SWEEP_BATCH: usize = 1000;
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
const SEP: char = '\u{0}';
const MAX: char = '\u{10FFFF}';

/// redb's page cache; its default (1 GiB) is sized for databases far larger than an auth store.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// How often pending commits are made durable.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// The database, with a flag for commits not yet made durable. Dropping the last handle makes
/// them durable.
struct Db {
    redb: Database,
    dirty: AtomicBool,
    /// What every write of the items marks (`stamps`).
    stamps: stamps::Stamps,
}

impl Db {
    fn begin_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        let mut tx = self.redb.begin_write().map_err(unavailable)?;
        tx.set_durability(Durability::None);
        self.dirty.store(true, Ordering::Release);
        Ok(tx)
    }

    fn begin_read(&self) -> Result<redb::ReadTransaction, StoreError> {
        self.redb.begin_read().map_err(unavailable)
    }

    /// One empty commit with full durability persists every commit before it.
    fn flush(&self) {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let done = self.redb.begin_write().map(|mut tx| {
            tx.set_durability(Durability::Immediate);
            tx.commit()
        });
        if !matches!(done, Ok(Ok(()))) {
            self.dirty.store(true, Ordering::Release);
            tracing::error!("flushing the embedded store failed");
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Sweeps every `SWEEP_EVERY` while the store is open.
fn start_sweeper(store: &Embedded) {
    let weak = Arc::downgrade(&store.db);
    let clock = store.clock.clone();
    let spawned = std::thread::Builder::new()
        .name("redb-sweep".into())
        .spawn(move || loop {
            std::thread::sleep(SWEEP_EVERY);
            let Some(db) = weak.upgrade() else {
                return;
            };
            if let Err(e) = sweep(&db, clock.now(), SWEEP_BATCH) {
                tracing::error!(error = %e, "sweeping expired items failed");
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the store sweeper; expired items stay on disk");
    }
}

/// Flushes every `FLUSH_EVERY` while the database is open.
fn start_flusher(db: &Arc<Db>) {
    let weak = Arc::downgrade(db);
    let spawned = std::thread::Builder::new()
        .name("redb-flush".into())
        .spawn(move || loop {
            std::thread::sleep(FLUSH_EVERY);
            match weak.upgrade() {
                Some(db) => db.flush(),
                None => return,
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the store flusher; commits become durable at shutdown");
    }
}

#[derive(Clone)]
pub struct Embedded {
    db: Arc<Db>,
    clock: Arc<dyn Clock>,
    committer: group::Committer,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    attrs: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn raw_key(key: &Key) -> String {
    format!("{}{SEP}{}", key.pk, key.sk)
}

fn decode(raw_key: &str, bytes: &[u8]) -> Result<Item, StoreError> {
    let (pk, sk) = raw_key.split_once(SEP).unwrap_or((raw_key, ""));
    let stored: Stored = serde_json::from_slice(bytes).map_err(unavailable)?;
    Ok(Item::new(Key::new(pk, sk), stored.attrs, stored.expires_at))
}

/// `Stored`'s layout, written from the item in place (copying its attributes first cost every
/// write a map).
#[derive(serde::Serialize)]
struct StoredRef<'a> {
    attrs: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

fn encode(item: &Item) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(&StoredRef {
        attrs: &item.attrs,
        expires_at: item.expires_at,
    })
    .map_err(unavailable)
}

impl Embedded {
    /// The database file a store in `dir` lives in.
    pub fn file_in(dir: &Path) -> std::path::PathBuf {
        dir.join("polyauth.redb")
    }

    /// Opens (or creates) the database file `polyauth.redb` in `dir`. The file holds password
    /// hashes and sealed keys: it is the owner's alone (0600), as is a directory created for it
    /// (0700), whatever the umask.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let in_dir = |e: std::io::Error| unavailable(format!("{}: {e}", dir.display()));
        let mut dirs = std::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
        dirs.create(dir).map_err(in_dir)?;
        let path = Self::file_in(dir);
        let mut file = std::fs::OpenOptions::new();
        file.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
        file.open(&path).map_err(in_dir)?;
        #[cfg(unix)]
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(in_dir)?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(unavailable)?;
        let store = Self::init(db, clock)?;
        start_flusher(&store.db);
        start_sweeper(&store);
        Ok(store)
    }

    /// A database in memory (`POLYAUTH_STORE=memory`); fails only when its committer thread
    /// cannot start.
    pub fn memory(clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .map_err(unavailable)?;
        Self::init(db, clock)
    }

    /// [`Embedded::memory`] for tests and benchmarks, where a machine that cannot start a thread
    /// has nothing to test.
    #[allow(
        clippy::expect_used,
        reason = "tests and benchmarks only: an in-memory backend has no I/O to fail"
    )]
    pub fn in_memory(clock: Arc<dyn Clock>) -> Self {
        Self::memory(clock).expect("an in-memory store starts")
    }

    fn init(db: Database, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let tx = db.begin_write().map_err(unavailable)?;
        tx.open_table(ITEMS).map_err(unavailable)?;
        tx.open_table(EXPIRY).map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        let db = Arc::new(Db {
            redb: db,
            dirty: AtomicBool::new(false),
            stamps: stamps::Stamps::new(),
        });
        let committer = group::Committer::start(&db, clock.clone())?;
        Ok(Embedded {
            db,
            clock,
            committer,
        })
    }

    fn live(&self, item: Item, now: i64) -> Option<Item> {
        item.is_live(now).then_some(item)
    }

    /// Deletes up to `limit` expired items, oldest expiry first; answers how many.
    pub fn sweep(&self, limit: usize) -> Result<usize, StoreError> {
        sweep(&self.db, self.clock.now(), limit)
    }

    /// Items stored, expired or not (what a sweep leaves behind).
    pub fn stored_items(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(ITEMS).map_err(unavailable)?;
        table.len().map_err(unavailable)
    }
}

/// Deletes up to `limit` expired items, oldest expiry first; answers how many.
fn sweep(db: &Db, now: i64, limit: usize) -> Result<usize, StoreError> {
    let mut writing = db.stamps.writing();
    let tx = db.begin_write()?;
    let swept = {
        let mut table = tx.open_table(ITEMS).map_err(unavailable)?;
        let mut expiry = tx.open_table(EXPIRY).map_err(unavailable)?;
        let due: Vec<(i64, String)> = expiry
            .range((i64::MIN, "")..=(now, "\u{10FFFF}"))
            .map_err(unavailable)?
            .take(limit)
            .map(|entry| entry.map(|(k, _)| (k.value().0, k.value().1.to_string())))
            .collect::<Result<_, _>>()
            .map_err(unavailable)?;
        writing.mark(due.iter().map(|(_, k)| k.as_str()));
        for (t, k) in &due {
            expiry.remove((*t, k.as_str())).map_err(unavailable)?;
            let expired = match table.get(k.as_str()).map_err(unavailable)? {
                Some(v) => decode(k, v.value())?.expires_at == Some(*t),
                None => false,
            };
            if expired {
                table.remove(k.as_str()).map_err(unavailable)?;
            }
        }
        due.len()
    };
    tx.commit().map_err(unavailable)?;
    drop(writing);
    Ok(swept)
}

#[async_trait::async_trait]
impl Store for Embedded {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let k = raw_key(key);
        let tx = self.db.begin_read()?;
        let table = tx.open_table(ITEMS).map_err(unavailable)?;
        match table.get(k.as_str()).map_err(unavailable)? {
            Some(v) => Ok(self.live(decode(&k, v.value())?, self.clock.now())),
            None => Ok(None),
        }
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let now = self.clock.now();
        let tx = self.db.begin_read()?;
        let table = tx.open_table(ITEMS).map_err(unavailable)?;
        keys.iter()
            .map(|key| {
                let k = raw_key(key);
                match table.get(k.as_str()).map_err(unavailable)? {
                    Some(v) => Ok(self.live(decode(&k, v.value())?, now)),
                    None => Ok(None),
                }
            })
            .collect()
    }

    async fn query(&self, q: Query) -> Result<Page, StoreError> {
        let now = self.clock.now();
        let mut lo = format!("{}{SEP}{}", q.pk, q.sk_prefix);
        if let Some(from) = &q.sk_from {
            lo = lo.max(format!("{}{SEP}{from}", q.pk));
        }
        let hi = format!("{}{SEP}{}{MAX}", q.pk, q.sk_prefix);
        let (lo, hi) = match (&q.after, q.newest_first) {
            (Some(after), false) => (format!("{}{SEP}{after}{SEP}", q.pk).max(lo), hi),
            (Some(after), true) => (lo, format!("{}{SEP}{after}", q.pk).min(hi)),
            (None, _) => (lo, hi),
        };
        let tx = self.db.begin_read()?;
        let table = tx.open_table(ITEMS).map_err(unavailable)?;
        let range = table.range(lo.as_str()..hi.as_str()).map_err(unavailable)?;
        let iter: Box<dyn Iterator<Item = _>> = if q.newest_first {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        let mut items = Vec::new();
        let mut more = false;
        for entry in iter {
            let (k, v) = entry.map_err(unavailable)?;
            let Some(item) = self.live(decode(k.value(), v.value())?, now) else {
                continue;
            };
            if items.len() == q.limit {
                more = true;
                break;
            }
            items.push(item);
        }
        let next = if more {
            items.last().map(|i| i.key.sk.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.committer.write(writes).await
    }

    async fn increment(&self, key: &Key, by: i64, lifetime: Lifetime) -> Result<i64, StoreError> {
        self.committer.increment(key, by, lifetime).await
    }

    /// Every write of the items is this process's (the committer's and the sweeper's), and each
    /// marks what it writes.
    fn stamp(&self, key: &Key) -> Option<u64> {
        self.db.stamps.settled(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(1_700_000_000))
    }

    mod contract_in_memory {
        use super::*;
        crate::store_contract_tests!(clock(), |c: Arc<ManualClock>| async move {
            (Embedded::in_memory(c), ())
        });
    }

    mod contract_on_file {
        use super::*;
        crate::store_contract_tests!(clock(), |c: Arc<ManualClock>| async move {
            let dir = tempfile::tempdir().unwrap();
            (Embedded::open(dir.path(), c).unwrap(), dir)
        });
    }

    /// Concurrent batches share commits, yet each keeps its own conditions and all-or-nothing:
    /// of many batches racing for one unique key, one is written whole and the others not at
    /// all; concurrent increments of one counter each see a distinct count.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn grouped_batches_stay_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Embedded::open(dir.path(), clock()).unwrap();
        let unique = Key::new("UNIQUE", "S");
        let racers = (0..200).map(|i| {
            let s = s.clone();
            let unique = unique.clone();
            tokio::spawn(async move {
                let mine = Item::new(Key::new(format!("MINE{i}"), "S"), Map::new(), None);
                let claim = Write::put_new(Item::new(unique, Map::new(), None));
                (i, s.write(vec![Write::put(mine), claim]).await)
            })
        });
        let counters = (0..200).map(|_| {
            let s = s.clone();
            tokio::spawn(
                async move { s.increment(&Key::new("N", "S"), 1, Lifetime::Forever).await },
            )
        });
        let (raced, counted) = tokio::join!(
            futures::future::join_all(racers),
            futures::future::join_all(counters)
        );
        let mut winners = 0;
        for r in raced {
            let (i, result) = r.unwrap();
            let mine = s.get(&Key::new(format!("MINE{i}"), "S")).await.unwrap();
            match result {
                Ok(()) => {
                    winners += 1;
                    assert!(mine.is_some(), "a written batch is written whole");
                }
                Err(e) => {
                    assert_eq!(e, StoreError::ConditionFailed(1));
                    assert!(mine.is_none(), "a refused batch leaves no trace");
                }
            }
        }
        assert_eq!(winners, 1);
        let mut counts: Vec<i64> = counted.into_iter().map(|r| r.unwrap().unwrap()).collect();
        counts.sort_unstable();
        assert_eq!(counts, (1..=200).collect::<Vec<_>>());
    }

    /// Password hashes and sealed keys are not for other local users, whatever the umask: the
    /// file is 0600, a directory made for it 0700, and a file left readable is tightened.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_and_its_new_directory_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        drop(Embedded::open(&dir, clock()).unwrap());
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("polyauth.redb");
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(Embedded::open(&dir, clock()).unwrap());
        assert_eq!(mode(&file), 0o600);
    }

    #[tokio::test]
    async fn file_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let key = Key::new("P", "S");
        {
            let s = Embedded::open(dir.path(), c.clone()).unwrap();
            s.write(vec![Write::put(Item::new(key.clone(), Map::new(), None))])
                .await
                .unwrap();
        }
        let s = Embedded::open(dir.path(), c).unwrap();
        assert!(s.get(&key).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_sweep_deletes_expired_items_only_and_at_most_its_batch() {
        let c = clock();
        let s = Embedded::in_memory(c.clone());
        let t = c.now();
        let put = |name: String, expires: Option<i64>| {
            Write::put(Item::new(Key::new(name, "S"), Map::new(), expires))
        };
        s.write(
            (0..5)
                .map(|i| put(format!("short{i}"), Some(t + 10)))
                .collect(),
        )
        .await
        .unwrap();
        s.write(vec![
            put("long".into(), Some(t + 1000)),
            put("forever".into(), None),
        ])
        .await
        .unwrap();
        // Renewed before it expired: its old expiry must not sweep it.
        s.write(vec![put("short0".into(), Some(t + 1000))])
            .await
            .unwrap();
        s.increment(&Key::new("counter", "S"), 1, Lifetime::Window(t + 10))
            .await
            .unwrap();
        assert_eq!(s.sweep(100).unwrap(), 0, "nothing is due yet");
        c.advance(11);
        assert_eq!(s.sweep(2).unwrap(), 2, "a sweep stops at its batch");
        assert_eq!(s.sweep(100).unwrap(), 3);
        assert_eq!(
            s.stored_items().unwrap(),
            3,
            "short0, long and forever stay"
        );
        assert!(s.get(&Key::new("short0", "S")).await.unwrap().is_some());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_captcha_flood_leaves_the_file_bounded_after_a_sweep() {
        use crate::services::{testing::Harness, Client};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let t = Harness::builder()
            .store(move |clock| Embedded::open(&path, clock).unwrap())
            .build();
        let file = dir.path().join("polyauth.redb");
        let caller = Client::new("198.51.100.1".parse().ok(), String::new());
        let mut sizes = Vec::new();
        for _ in 0..3 {
            for _ in 0..400 {
                t.auth.captcha(None, &caller).await.unwrap();
            }
            assert!(t.store.stored_items().unwrap() >= 400);
            t.clock.advance(3600);
            while t.store.sweep(SWEEP_BATCH).unwrap() > 0 {}
            assert_eq!(
                t.store.stored_items().unwrap(),
                0,
                "every captcha and counter expired"
            );
            t.store.db.flush();
            sizes.push(std::fs::metadata(&file).unwrap().len());
        }
        // Without reuse, three floods would triple the file; the pages freed by a sweep are
        // reused (how many depends on when redb's background work runs, so not to the page).
        assert!(
            sizes[2] < sizes[0] * 2,
            "the file kept growing across floods: {sizes:?}"
        );
    }
}
