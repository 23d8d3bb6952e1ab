//! Answers that must not tell a known account from an unknown one by their timing: the branch
//! that does the work (a reset link mailed) is timed, and the branch that has nothing to do
//! waits as long as that work usually takes (a moving average), so both answer alike.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

#[derive(Default)]
pub(crate) struct Equalizer {
    /// Microseconds the work took, as a moving average (one eighth per sample).
    average: AtomicU64,
}

impl Equalizer {
    /// Runs the real work, timing it.
    pub async fn work<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        let started = Instant::now();
        let out = work.await;
        let took = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u64;
        let _ = self
            .average
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                Some(if avg == 0 {
                    took
                } else {
                    avg - avg / 8 + took / 8
                })
            });
        out
    }

    /// Takes as long as the work usually does, doing nothing.
    pub async fn imitate(&self) {
        let avg = Duration::from_micros(self.average.load(Ordering::Relaxed));
        let until = Instant::now() + avg;
        // tokio's timer counts whole milliseconds, so a sleep overshoots by up to one: the last
        // millisecond is waited out by yielding, or work that takes less than one (a local
        // outbox) would be imitated measurably slower than it runs.
        let coarse = avg.saturating_sub(Duration::from_millis(1));
        if !coarse.is_zero() {
            tokio::time::sleep(coarse).await;
        }
        while Instant::now() < until {
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_takes_as_long_as_the_work() {
        let e = Equalizer::default();
        for _ in 0..3 {
            e.work(tokio::time::sleep(Duration::from_millis(30))).await;
        }
        let started = Instant::now();
        e.imitate().await;
        assert!(
            started.elapsed() >= Duration::from_millis(25),
            "{:?}",
            started.elapsed()
        );
    }
}
