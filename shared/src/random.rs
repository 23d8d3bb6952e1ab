//! The one source of randomness: the operating system's CSPRNG.

use base64::Engine;
use rand::{rngs::OsRng, Rng, RngCore};

pub fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// 256 bits, URL-safe: for refresh and reset tokens, session and pending ids.
pub fn token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes::<32>())
}

/// Whether an id a client sent back can be one of ours (base64url, 16 to 64 characters):
/// anything else is refused at the edge of a use case, before it becomes a store key.
pub fn well_formed(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A short id (128 bits) for things that are not secrets by themselves.
pub fn id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes::<16>())
}

/// Decimal digits without a leading zero, so a code survives being sent as an integer
/// (seed 003's development answer does).
pub fn digits(len: usize) -> String {
    (0..len)
        .map(|i| char::from(b'0' + OsRng.gen_range(u8::from(i == 0)..10u8)))
        .collect()
}

pub fn range(lo: u32, hi: u32) -> u32 {
    OsRng.gen_range(lo..hi)
}

pub fn u64() -> u64 {
    OsRng.next_u64()
}
