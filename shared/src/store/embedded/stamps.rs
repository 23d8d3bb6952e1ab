//! Write stamps: how a reader in this process knows that nothing it read has been written
//! since. Every write of the items is a transaction of this process (the committer's groups and
//! the sweeper's deletes), and each takes `Stamps::writing` first: before its transaction
//! commits it makes the stamp of every key it writes odd, and when it ends, even again. A reader
//! takes a key's stamp before reading the key; while the stamp is the same even number, no write
//! of the key has begun since, and what it read is still what is stored.
//!
//! Keys share a fixed number of stamps (by a keyed hash of the stored key, `pk`, NUL, `sk`): two
//! keys on one stamp only make a reader read again sooner, never keep something stale. One
//! writer marks at a time (redb runs one write transaction at a time anyway), so two writers
//! never make a shared stamp look even while both are in flight.

use crate::store::Key;
use std::hash::{BuildHasher, Hasher};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Mutex, MutexGuard,
};

const SLOTS: usize = 4096;

pub(super) struct Stamps {
    slots: Box<[AtomicU64]>,
    hasher: std::hash::RandomState,
    writer: Mutex<()>,
}

/// One writer's marks: every stamp it marked becomes even again when it is dropped, whether its
/// transaction committed, failed or panicked.
pub(super) struct Writing<'s> {
    stamps: &'s Stamps,
    marked: Vec<usize>,
    /// `marked` as a bit per stamp, to mark each once in a group of any size.
    seen: [u64; SLOTS / 64],
    _one_writer: MutexGuard<'s, ()>,
}

impl Stamps {
    pub(super) fn new() -> Self {
        Stamps {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hasher: std::hash::RandomState::new(),
            writer: Mutex::new(()),
        }
    }

    fn slot_of(&self, parts: &[&[u8]]) -> usize {
        let mut h = self.hasher.build_hasher();
        for part in parts {
            h.write(part);
        }
        (h.finish() % SLOTS as u64) as usize
    }

    /// The stamp of `key`, when no write of it is in flight.
    pub(super) fn settled(&self, key: &Key) -> Option<u64> {
        let slot = self.slot_of(&[key.pk.as_bytes(), &[0], key.sk.as_bytes()]);
        let stamp = self.slots[slot].load(Ordering::SeqCst);
        stamp.is_multiple_of(2).then_some(stamp)
    }

    /// Waits for the writer before this one to end its marks. Take it before the write
    /// transaction: the order (this, then redb's) is the same for every writer.
    pub(super) fn writing(&self) -> Writing<'_> {
        Writing {
            stamps: self,
            marked: Vec::new(),
            seen: [0; SLOTS / 64],
            _one_writer: self.writer.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

impl Writing<'_> {
    /// Marks the stored keys (`pk`, NUL, `sk`) about to be written as in flight: each stamp
    /// once, however many of the keys share it (two bumps would make it look settled).
    pub(super) fn mark<'k>(&mut self, raw_keys: impl Iterator<Item = &'k str>) {
        for raw in raw_keys {
            let slot = self.stamps.slot_of(&[raw.as_bytes()]);
            let (word, bit) = (slot / 64, 1u64 << (slot % 64));
            if self.seen[word] & bit == 0 {
                self.seen[word] |= bit;
                self.stamps.slots[slot].fetch_add(1, Ordering::SeqCst);
                self.marked.push(slot);
            }
        }
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        for &slot in &self.marked {
            self.stamps.slots[slot].fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::raw_key;
    use super::*;

    #[test]
    fn a_write_changes_the_stamp_and_is_unsettled_while_in_flight() {
        let stamps = Stamps::new();
        let a = Key::new("USER#1", "PROFILE");
        let before = stamps.settled(&a).unwrap();
        let mut writing = stamps.writing();
        writing.mark([raw_key(&a), raw_key(&a)].iter().map(String::as_str));
        assert_eq!(stamps.settled(&a), None, "in flight");
        drop(writing);
        let after = stamps.settled(&a).unwrap();
        assert_ne!(before, after);
    }

    #[test]
    fn keys_sharing_a_stamp_mark_it_once_and_a_key_and_its_stored_form_share_one() {
        let stamps = Stamps::new();
        let keys: Vec<Key> = (0..SLOTS * 2)
            .map(|i| Key::new(format!("K#{i}"), format!("S{i}")))
            .collect();
        let raw: Vec<String> = keys.iter().map(raw_key).collect();
        let mut writing = stamps.writing();
        writing.mark(raw.iter().map(String::as_str));
        assert!(writing.marked.len() <= SLOTS);
        assert!(keys.iter().all(|k| stamps.settled(k).is_none()));
        drop(writing);
        assert!(keys.iter().all(|k| stamps.settled(k).is_some()));
    }
}
