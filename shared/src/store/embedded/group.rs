//! Group commit: one thread owns the write side of the database. Batches that arrive while a
//! commit is in flight wait in a queue, and the next redb transaction commits all of them. Each
//! batch still checks its own conditions (seeing the batches before it in the group) and is
//! applied whole or not at all, and each caller is answered only after the commit that holds its
//! batch. A redb commit costs about the same for one batch as for hundreds, so under concurrency
//! the commit rate no longer caps the write rate; durability is what every commit has (see the
//! module above).

use super::{decode, encode, raw_key, unavailable, Db, EXPIRY, ITEMS};
use crate::{
    clock::Clock,
    store::{Item, Key, Lifetime, StoreError, Write},
};
use redb::ReadableTable;
use std::borrow::Cow;
use std::sync::{mpsc, Arc, Weak};
use tokio::sync::oneshot;

/// Batches one transaction takes at most, so one commit's latency stays bounded.
const MAX_GROUP: usize = 256;

enum Job {
    Write {
        writes: Vec<Write>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Increment {
        key: Key,
        by: i64,
        lifetime: Lifetime,
        reply: oneshot::Sender<Result<i64, StoreError>>,
    },
}

impl Job {
    /// The keys the job may write (a `Check` only reads its key).
    fn written(&self) -> Box<dyn Iterator<Item = &Key> + '_> {
        match self {
            Job::Write { writes, .. } => Box::new(
                writes
                    .iter()
                    .filter(|w| !matches!(w, Write::Check { .. }))
                    .map(Write::key),
            ),
            Job::Increment { key, .. } => Box::new(std::iter::once(key)),
        }
    }
}

/// What a job did inside the group's transaction.
enum Done {
    Written,
    Counted(i64),
}

type Items<'t> = redb::Table<'t, &'static str, &'static [u8]>;
type Expiry<'t> = redb::Table<'t, (i64, &'static str), ()>;

/// The queue to the committer thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Committer {
    queue: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the committer. It holds the database weakly: the store's last handle still closes
    /// (and flushes) it.
    pub(super) fn start(db: &Arc<Db>, clock: Arc<dyn Clock>) -> Result<Committer, StoreError> {
        let (queue, jobs) = mpsc::channel();
        let db = Arc::downgrade(db);
        std::thread::Builder::new()
            .name("redb-commit".into())
            .spawn(move || run(&jobs, &db, clock.as_ref()))
            .map_err(unavailable)?;
        Ok(Committer { queue })
    }

    pub(super) async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Write { writes, reply })?;
        answer.await.map_err(unavailable)?
    }

    pub(super) async fn increment(
        &self,
        key: &Key,
        by: i64,
        lifetime: Lifetime,
    ) -> Result<i64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Increment {
            key: key.clone(),
            by,
            lifetime,
            reply,
        })?;
        answer.await.map_err(unavailable)?
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.queue
            .send(job)
            .map_err(|_| unavailable("the store's committer has stopped"))
    }
}

fn run(jobs: &mpsc::Receiver<Job>, db: &Weak<Db>, clock: &dyn Clock) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // A panic in one group answers that group and leaves the committer serving the next.
        let outcome = match db.upgrade() {
            Some(db) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut writing = db.stamps.writing();
                let written: Vec<String> =
                    group.iter().flat_map(Job::written).map(raw_key).collect();
                writing.mark(written.iter().map(String::as_str));
                commit(&db, &group, clock.now())
            }))
            .unwrap_or_else(|_| {
                tracing::error!("a store commit panicked");
                Err(unavailable("the commit failed"))
            }),
            None => Err(unavailable("the store is closed")),
        };
        answer(group, outcome);
    }
}

/// One transaction for the whole group: each job's own answer, or the group's failure (nothing
/// of any job is then written).
fn commit(db: &Db, group: &[Job], now: i64) -> Result<Vec<Result<Done, StoreError>>, StoreError> {
    let tx = db.begin_write()?;
    let done = {
        let mut items = tx.open_table(ITEMS).map_err(unavailable)?;
        let mut expiry = tx.open_table(EXPIRY).map_err(unavailable)?;
        let mut done = Vec::with_capacity(group.len());
        for job in group {
            done.push(match job {
                Job::Write { writes, .. } => {
                    apply(&mut items, &mut expiry, writes, now)?.map(|()| Done::Written)
                }
                Job::Increment {
                    key, by, lifetime, ..
                } => count(&mut items, &mut expiry, key, *by, *lifetime, now)?.map(Done::Counted),
            });
        }
        done
    };
    tx.commit().map_err(unavailable)?;
    Ok(done)
}

fn answer(group: Vec<Job>, outcome: Result<Vec<Result<Done, StoreError>>, StoreError>) {
    let results: Vec<Result<Done, StoreError>> = match outcome {
        Ok(done) => done,
        Err(e) => group.iter().map(|_| Err(e.clone())).collect(),
    };
    // A caller that stopped waiting (its request was cancelled) needs no answer.
    for (job, result) in group.into_iter().zip(results) {
        match job {
            Job::Write { reply, .. } => {
                let _ = reply.send(result.map(|_| ()));
            }
            Job::Increment { reply, .. } => {
                let _ = reply.send(result.and_then(|done| match done {
                    Done::Counted(n) => Ok(n),
                    Done::Written => Err(unavailable("an increment answered no count")),
                }));
            }
        }
    }
}

fn stored(items: &Items, k: &str) -> Result<Option<Item>, StoreError> {
    match items.get(k).map_err(unavailable)? {
        Some(v) => Ok(Some(decode(k, v.value())?)),
        None => Ok(None),
    }
}

/// One batch: every condition checked before anything is written, so a refused batch leaves
/// no trace. The outer error fails the group (a write the database refused midway); the inner
/// one is this batch's answer.
fn apply(
    items: &mut Items,
    expiry: &mut Expiry,
    writes: &[Write],
    now: i64,
) -> Result<Result<(), StoreError>, StoreError> {
    let mut plan = Vec::with_capacity(writes.len());
    for (i, w) in writes.iter().enumerate() {
        let k = raw_key(w.key());
        if writes[..i].iter().any(|before| before.key() == w.key()) {
            // DynamoDB's answer (a ValidationException): a caller's bug, never applied.
            return Ok(Err(unavailable(format!(
                "write {i} names an item written before it"
            ))));
        }
        let current = match stored(items, &k) {
            Ok(current) => current,
            Err(e) => return Ok(Err(e)),
        };
        let old_expiry = current.as_ref().and_then(|item| item.expires_at);
        let live = current.as_ref().filter(|item| item.is_live(now));
        let (holds, after) = match w {
            Write::Put { item, cond } => (cond.holds(live), Some(Some(Cow::Borrowed(item)))),
            Write::Delete { cond, .. } => (cond.holds(live), Some(None)),
            Write::Check { cond, .. } => (cond.holds(live), None),
            Write::Count(c) => {
                let next = c.lifetime.next(&c.key, live, c.by);
                let within = c.at_most.is_none_or(|max| next.count() <= max);
                (within, Some(Some(Cow::Owned(next))))
            }
        };
        if !holds {
            return Ok(Err(StoreError::ConditionFailed(i)));
        }
        if let Some(after) = after {
            plan.push((k, old_expiry, after));
        }
    }
    for (k, old, after) in plan {
        put_or_remove(items, expiry, &k, old, after.as_deref())?;
    }
    Ok(Ok(()))
}

/// Replaces what is stored at `k` (whose expiry was `old`) by `after`, or removes it.
fn put_or_remove(
    items: &mut Items,
    expiry: &mut Expiry,
    k: &str,
    old: Option<i64>,
    after: Option<&Item>,
) -> Result<(), StoreError> {
    if let Some(t) = old {
        expiry.remove((t, k)).map_err(unavailable)?;
    }
    match after {
        Some(item) => {
            items
                .insert(k, encode(item)?.as_slice())
                .map_err(unavailable)?;
            if let Some(t) = item.expires_at {
                expiry.insert((t, k), ()).map_err(unavailable)?;
            }
        }
        None => {
            items.remove(k).map_err(unavailable)?;
        }
    }
    Ok(())
}

/// A counter's increment: a live counter grows (its expiry as `lifetime` says), an absent or
/// expired one starts at `by`.
fn count(
    items: &mut Items,
    expiry: &mut Expiry,
    key: &Key,
    by: i64,
    lifetime: Lifetime,
    now: i64,
) -> Result<Result<i64, StoreError>, StoreError> {
    let k = raw_key(key);
    let current = match stored(items, &k) {
        Ok(current) => current,
        Err(e) => return Ok(Err(e)),
    };
    let old = current.as_ref().and_then(|i| i.expires_at);
    let next = lifetime.next(key, current.as_ref().filter(|item| item.is_live(now)), by);
    put_or_remove(items, expiry, &k, old, Some(&next))?;
    Ok(Ok(next.count()))
}
