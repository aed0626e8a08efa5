//! Time, injected. Waiting for an endpoint can take half an hour and the latency figures come from
//! timing calls, so both go through this trait: the binary uses the real clock and tokio's timer,
//! unit tests use a fake clock, which advances instantly and records every sleep, so a 30-minute wait
//! is tested in microseconds and the backoff schedule is asserted exactly.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// A source of "now" and a way to wait.
pub(crate) trait Clock: Send + Sync {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The real clock and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when something sleeps on it (or a test advances it).
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct FakeClock {
    start: Instant,
    state: std::sync::Mutex<FakeState>,
}

#[cfg(test)]
#[derive(Debug, Default)]
struct FakeState {
    elapsed: Duration,
    sleeps: Vec<Duration>,
}

#[cfg(test)]
impl Default for FakeClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            state: std::sync::Mutex::default(),
        }
    }
}

#[cfg(test)]
impl FakeClock {
    /// Moves time forward without a sleep (a slow call, for example).
    pub(crate) fn advance(&self, by: Duration) {
        self.lock().elapsed += by;
    }

    /// Every sleep so far, in order.
    pub(crate) fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    /// Time since the clock was made.
    pub(crate) fn elapsed(&self) -> Duration {
        self.lock().elapsed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.start + self.lock().elapsed
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut state = self.lock();
        state.elapsed += duration;
        state.sleeps.push(duration);
        Box::pin(std::future::ready(()))
    }
}
