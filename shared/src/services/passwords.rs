//! argon2id on a fixed pool of hashing threads, one per core, each reusing one 19 MiB memory
//! block. Hashes queue fairly (FIFO) for the pool, so a burst of logins neither stalls the async
//! runtime nor allocates a block per request: the memory for hashing is cores × 19 MiB, once.
//! Logins are admitted to the queue only while fewer than a bound wait (per core); past it a
//! login is turned away at once, before it writes anything, instead of queueing minutes of work.

use super::legacy_hash;
use crate::{domain::Password, Error, Result};
use argon2::{
    password_hash::{Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use std::sync::{
    atomic::{AtomicU64, AtomicUsize, Ordering},
    mpsc, Arc, Mutex,
};
use subtle::ConstantTimeEq;
use tokio::sync::{oneshot, OnceCell};

/// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;
const OUTPUT_LEN: usize = 32;

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// A real hash of a random password: unknown accounts are verified against it so they cost
    /// the same time as known ones.
    dummy: Arc<OnceCell<String>>,
    /// Verifications run, so tests can see unknown accounts cost the same work as known ones.
    verified: Arc<AtomicU64>,
    /// Logins admitted and not yet done, and how many may be.
    admitted: Arc<AtomicUsize>,
    bound: usize,
}

/// A login's place in the hashing queue, given back when dropped.
#[must_use]
pub struct Admitted(Arc<AtomicUsize>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[allow(
    clippy::expect_used,
    reason = "constant parameters within argon2's bounds"
)]
fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, LANES, Some(OUTPUT_LEN)).expect("constant params are valid")
}

/// The raw argon2id output for `password` and `salt` under `params`, in the thread's block.
fn compute(
    params: Params,
    password: &[u8],
    salt: &[u8],
    memory: &mut Vec<Block>,
) -> Option<Vec<u8>> {
    let len = params.output_len().unwrap_or(OUTPUT_LEN);
    memory.resize(params.block_count(), Block::default());
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = vec![0u8; len];
    argon
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..])
        .ok()?;
    Some(out)
}

fn phc(password: &[u8], memory: &mut Vec<Block>) -> Option<String> {
    let salt_bytes = crate::random::bytes::<16>();
    let salt = SaltString::encode_b64(&salt_bytes).ok()?;
    let out = compute(params(), password, &salt_bytes, memory)?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).ok()?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).ok()?),
    };
    Some(hash.to_string())
}

fn matches(phc: &str, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let (Ok(params), Some(salt), Some(expected)) =
        (Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    match compute(params, password, salt, memory) {
        Some(out) => out.ct_eq(expected.as_bytes()).into(),
        None => false,
    }
}

/// argon2i and argon2d hashes an import brought, verified as they are.
fn other_argon2(phc: &str, password: &[u8]) -> bool {
    use argon2::PasswordVerifier;
    PasswordHash::new(phc)
        .is_ok_and(|parsed| Argon2::default().verify_password(password, &parsed).is_ok())
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    /// A pool with the default queue bound (64 waiting logins per core).
    pub fn new() -> Self {
        Self::with_queue(64)
    }

    pub fn with_queue(per_core: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..cores {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    // Allocated on first use, then reused for every hash this thread runs.
                    let mut memory = Vec::new();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a hashing thread");
            }
        }
        Hasher {
            jobs,
            dummy: Arc::default(),
            verified: Arc::default(),
            admitted: Arc::default(),
            bound: per_core.max(1) * cores,
        }
    }

    /// A place in the queue for one login, or `Unavailable` (the dialect's too-busy answer)
    /// when the queue is full.
    pub fn admit(&self) -> Result<Admitted> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admitted = Admitted(self.admitted.clone());
        if before >= self.bound {
            tracing::warn!(waiting = before, "hashing_queue_full");
            return Err(Error::Unavailable);
        }
        Ok(admitted)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |memory| {
                let _ = tx.send(f(memory));
            }))
            .map_err(|_| Error::Unavailable)?;
        rx.await.map_err(|_| Error::Unavailable)
    }

    pub async fn hash(&self, password: &Password) -> Result<String> {
        let pw = password.clone();
        self.run(move |memory| phc(pw.expose(), memory))
            .await?
            .ok_or(Error::Unavailable)
    }

    /// Verifies a stored hash: polyauth's argon2id, or a hash imported from an original
    /// (`legacy_hash`). Constant-time in the comparison of the outputs; a hash of no known kind
    /// (a user imported without one) spends a verify's work and fails.
    pub async fn verify(&self, hash: &str, password: &Password) -> Result<bool> {
        if !legacy_hash::is_known(hash) {
            self.verify_nobody(password).await?;
            return Ok(false);
        }
        let (hash, pw) = (hash.to_string(), password.clone());
        self.verified.fetch_add(1, Ordering::Relaxed);
        self.run(move |memory| {
            let pw = pw.expose();
            if hash.starts_with("$argon2id$") {
                matches(&hash, pw, memory)
            } else if let Some(wrapped) = hash.strip_prefix(legacy_hash::WRAPPED_MD5) {
                matches(wrapped, legacy_hash::md5_hex(pw).as_bytes(), memory)
            } else if hash.starts_with("$argon2") {
                other_argon2(&hash, pw)
            } else {
                legacy_hash::verify_legacy(&hash, pw)
            }
        })
        .await
    }

    /// Wraps an unsalted MD5 (lower-case hex) in argon2id for storage.
    pub async fn wrap_md5(&self, md5_hex: &str) -> Result<String> {
        let hex = md5_hex.to_string();
        let wrapped = self
            .run(move |memory| phc(hex.as_bytes(), memory))
            .await?
            .ok_or(Error::Unavailable)?;
        Ok(format!("{}{wrapped}", legacy_hash::WRAPPED_MD5))
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
        let pw = password.clone();
        self.verified.fetch_add(1, Ordering::Relaxed);
        self.run(move |memory| matches(&dummy, pw.expose(), memory))
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{testing::*, Attempt};
    use argon2::PasswordVerifier;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let h = Hasher::new();
        let pw = Password::attempt("correct horse").unwrap();
        let hash = h.hash(&pw).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(h.verify(&hash, &pw).await.unwrap());
        assert!(!h
            .verify(&hash, &Password::attempt("wrong").unwrap())
            .await
            .unwrap());
        assert!(!h.verify("not a hash", &pw).await.unwrap());
    }

    #[tokio::test]
    async fn interoperates_with_the_argon2_crates_own_format() {
        let h = Hasher::new();
        let pw = Password::attempt("interop").unwrap();
        let ours = h.hash(&pw).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(pw.expose(), &parsed)
            .is_ok());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = argon2::PasswordHasher::hash_password(
            &Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(8192, 1, 1, None).unwrap(),
            ),
            pw.expose(),
            &salt,
        )
        .unwrap()
        .to_string();
        assert!(
            h.verify(&theirs, &pw).await.unwrap(),
            "hashes with other parameters still verify"
        );
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_full_hashing_queue_turns_logins_away_before_any_write() {
        let mut config = crate::config::Config::for_tests();
        config.limits.hash_queue_per_core = 1;
        let t = Harness::builder().config(config).build();
        let user = t
            .auth
            .register(new_email("q@x.com", "secret1"), None, &client())
            .await
            .unwrap();
        let a = t.auth.account("q@x.com").unwrap();
        let attempts = (0..40).map(|_| {
            let (auth, a) = (t.auth.clone(), a.clone());
            tokio::spawn(async move {
                auth.check_password(Attempt::new(&a, &pw("wrong"), &client()))
                    .await
            })
        });
        let mut busy = 0;
        let mut judged = 0;
        for result in futures::future::join_all(attempts).await {
            match result.unwrap() {
                Err(Error::Unavailable) => busy += 1,
                Err(Error::InvalidCredentials(_) | Error::TooManyRequests { .. }) => judged += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!(busy > 0, "the queue never filled");
        let throttle = crate::schema::failed_logins_of(user.id);
        let counted = t.store.get(&throttle).await.unwrap().unwrap().attrs["n"]
            .as_i64()
            .unwrap();
        assert_eq!(
            counted, judged,
            "turned-away logins wrote nothing: {busy} busy, {judged} judged"
        );
    }
}
