//! Stopping early, with the reports still written. CodeBuild stops a build (a timeout included)
//! with SIGTERM and kills it a little later; a person at a terminal presses Ctrl-C (SIGINT); and
//! `--deadline` bounds the whole run so it ends before the build's own timeout. Whichever comes
//! first, the run stops testing, records every target it had not finished as an error that says
//! why, writes both reports and exits 4.

use std::fmt;
use std::time::Duration;

use deploy_core::duration::human;
use deploy_core::inputs;
use tokio::sync::watch;

/// What stopped the run (public as part of [`crate::TestError::Interrupted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Terminated,
    Interrupted,
    Deadline(Duration),
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Terminated => {
                f.write_str("SIGTERM (CodeBuild stops a build this way, its timeout included)")
            }
            StopReason::Interrupted => f.write_str("SIGINT (Ctrl-C)"),
            StopReason::Deadline(after) => {
                write!(f, "the {} of {}", inputs::DEADLINE, human(*after))
            }
        }
    }
}

/// Resolves once the run must stop; cheap to clone into every task.
#[derive(Debug, Clone)]
pub(crate) struct Stop(watch::Receiver<Option<StopReason>>);

impl Stop {
    /// Listens for SIGTERM and SIGINT from now on, and for `deadline` to pass.
    pub(crate) fn watch(deadline: Duration) -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let (sender, receiver) = watch::channel(None);
        tokio::spawn(async move {
            let reason = tokio::select! {
                _ = terminate.recv() => StopReason::Terminated,
                _ = interrupt.recv() => StopReason::Interrupted,
                () = tokio::time::sleep(deadline) => StopReason::Deadline(deadline),
            };
            let _ = sender.send(Some(reason));
        });
        Ok(Self(receiver))
    }

    /// A stop that comes when `receiver` says so (for tests).
    #[cfg(test)]
    pub(crate) fn from_receiver(receiver: watch::Receiver<Option<StopReason>>) -> Self {
        Self(receiver)
    }

    /// A stop that never comes (for tests of everything else).
    #[cfg(test)]
    pub(crate) fn never() -> Self {
        let (sender, receiver) = watch::channel(None);
        std::mem::forget(sender);
        Self(receiver)
    }

    /// Why the run must stop, once it must.
    pub(crate) async fn reason(&self) -> StopReason {
        let mut receiver = self.0.clone();
        loop {
            if let Some(reason) = *receiver.borrow_and_update() {
                return reason;
            }
            if receiver.changed().await.is_err() {
                // The watcher is gone without a reason: nothing will stop the run.
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_deadline_stops_the_run_and_says_so() {
        let stop = Stop::watch(Duration::from_secs(90)).unwrap();
        let reason = stop.reason().await;
        assert_eq!(reason, StopReason::Deadline(Duration::from_secs(90)));
        assert_eq!(reason.to_string(), "the --deadline of 1m30s");
        assert_eq!(stop.clone().reason().await, reason, "every clone sees it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_that_never_comes_stays_pending() {
        let never = Stop::never();
        let waited = tokio::time::timeout(Duration::from_hours(1), never.reason()).await;
        assert!(waited.is_err());
    }
}
