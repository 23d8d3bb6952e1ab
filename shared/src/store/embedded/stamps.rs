//! Write stamps: how a reader in this process knows that nothing it read has been written
//! since. The committer thread is the only writer of the items, so it can tell: before a
//! group's transaction it makes the stamp of every key the group writes odd, and after it, even
//! again. A reader takes a key's stamp before reading the key; while the stamp is the same even
//! number, no write of the key has begun since, and what it read is still what is stored.
//!
//! Keys share a fixed number of stamps (by a keyed hash): two keys on one stamp only make a
//! reader read again sooner, never keep something stale.

use crate::store::Key;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

const SLOTS: usize = 4096;

pub(super) struct Stamps {
    slots: Box<[AtomicU64]>,
    hasher: std::hash::RandomState,
}

impl Stamps {
    pub(super) fn new() -> Self {
        Stamps {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hasher: std::hash::RandomState::new(),
        }
    }

    fn slot(&self, key: &Key) -> usize {
        let hash = self.hasher.hash_one((key.pk.as_str(), key.sk.as_str()));
        (hash % SLOTS as u64) as usize
    }

    /// The stamp of `key`, when no write of it is in flight.
    pub(super) fn settled(&self, key: &Key) -> Option<u64> {
        let stamp = self.slots[self.slot(key)].load(Ordering::SeqCst);
        stamp.is_multiple_of(2).then_some(stamp)
    }

    /// Marks the writes of `keys` as in flight, each stamp once however many of the keys share
    /// it (two bumps would make it look settled); answers what `end` takes.
    pub(super) fn begin<'k>(&self, keys: impl Iterator<Item = &'k Key>) -> Vec<usize> {
        let mut slots: Vec<usize> = keys.map(|k| self.slot(k)).collect();
        slots.sort_unstable();
        slots.dedup();
        for &s in &slots {
            self.slots[s].fetch_add(1, Ordering::SeqCst);
        }
        slots
    }

    /// Marks the writes `begin` marked as done, whether their transaction committed or not.
    pub(super) fn end(&self, slots: &[usize]) {
        for &s in slots {
            self.slots[s].fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_changes_the_stamp_and_is_unsettled_while_in_flight() {
        let stamps = Stamps::new();
        let a = Key::new("USER#1", "PROFILE");
        let before = stamps.settled(&a).unwrap();
        let marked = stamps.begin([&a, &a].into_iter());
        assert_eq!(stamps.settled(&a), None, "in flight");
        stamps.end(&marked);
        let after = stamps.settled(&a).unwrap();
        assert_ne!(before, after);
    }

    #[test]
    fn keys_sharing_a_stamp_mark_it_once() {
        let stamps = Stamps::new();
        let keys: Vec<Key> = (0..SLOTS * 2)
            .map(|i| Key::new(format!("K#{i}"), "S"))
            .collect();
        let marked = stamps.begin(keys.iter());
        assert!(marked.len() <= SLOTS);
        assert!(keys.iter().all(|k| stamps.settled(k).is_none()));
        stamps.end(&marked);
        assert!(keys.iter().all(|k| stamps.settled(k).is_some()));
    }
}
