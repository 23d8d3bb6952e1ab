//! argon2id off the async runtime, at most one hash per core at a time (queued fairly by the
//! semaphore), so a burst of logins neither stalls other requests nor allocates a 19 MiB block
//! per connection.

use crate::{domain::Password, Error, Result};
use argon2::{password_hash::SaltString, Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version};
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use tokio::sync::{OnceCell, Semaphore};

/// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password: unknown accounts are verified against it so they cost
    /// the same time as known ones.
    dummy: Arc<OnceCell<String>>,
    /// Verifications run, so tests can see unknown accounts cost the same work as known ones.
    verified: Arc<AtomicU64>,
}

fn argon() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).expect("constant params are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher {
            permits: Arc::new(Semaphore::new(cores)),
            dummy: Arc::default(),
            verified: Arc::default(),
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(|_| Error::Unavailable)?;
        tokio::task::spawn_blocking(f).await.map_err(|_| Error::Unavailable)
    }

    pub async fn hash(&self, password: &Password) -> Result<String> {
        let pw = password.clone();
        self.run(move || {
            let salt = SaltString::encode_b64(&crate::random::bytes::<16>()).map_err(|_| Error::Unavailable)?;
            argon2::PasswordHasher::hash_password(&argon(), pw.expose(), &salt)
                .map(|h| h.to_string())
                .map_err(|_| Error::Unavailable)
        })
        .await?
    }

    /// Constant-time in the password (argon2's own comparison).
    pub async fn verify(&self, hash: &str, password: &Password) -> Result<bool> {
        let (hash, pw) = (hash.to_string(), password.clone());
        self.verified.fetch_add(1, Ordering::Relaxed);
        self.run(move || match PasswordHash::new(&hash) {
            Ok(parsed) => argon().verify_password(pw.expose(), &parsed).is_ok(),
            Err(_) => false,
        })
        .await
    }

    pub fn verifications(&self) -> u64 {
        self.verified.load(Ordering::Relaxed)
    }

    /// Spends a verify's worth of work for an account that does not exist.
    pub async fn verify_nobody(&self, password: &Password) -> Result<()> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async { self.hash(&Password::random()).await })
            .await?
            .clone();
        self.verify(&dummy, password).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let h = Hasher::new();
        let pw = Password::attempt("correct horse").unwrap();
        let hash = h.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(h.verify(&hash, &pw).await.unwrap());
        assert!(!h.verify(&hash, &Password::attempt("wrong").unwrap()).await.unwrap());
        assert!(!h.verify("not a hash", &pw).await.unwrap());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn hashing_does_not_block_the_runtime() {
        let h = Hasher::new();
        let pw = Password::attempt("pw").unwrap();
        let hashing = tokio::spawn(async move { h.hash(&pw).await });
        // On one thread, this loop only observes an unfinished hash if hashing gave the thread
        // back; a hash computed inline would finish within its first poll.
        let mut ran_meanwhile = 0;
        tokio::task::yield_now().await;
        while !hashing.is_finished() {
            ran_meanwhile += 1;
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert!(ran_meanwhile > 0, "the runtime was blocked while hashing");
        assert!(hashing.await.unwrap().is_ok());
    }
}
