//! Running one piece of work per target, concurrently, for every command: each target's work is
//! a task that takes its slot (`slots`) when it makes calls, the results come back in target
//! order, and a stop (`stop`) aborts the tasks not finished, which the caller then reports from
//! the stop's reason.

use std::future::Future;

use deploy_core::targets::Target;
use tokio::task::JoinSet;

use crate::slots::{Slot, Slots};
use crate::stop::{Stop, StopReason};

/// Every target's result, in target order (`None` for a target that did not finish), and what
/// stopped the run if something did.
pub(crate) struct Finished<R> {
    pub(crate) results: Vec<Option<R>>,
    pub(crate) stopped: Option<StopReason>,
}

/// Runs `work` for every target, at most as many making calls at once as `slots` allows, until
/// all are done or `stop` comes.
pub(crate) async fn each_target<R, F, Fut>(
    targets: &[Target],
    slots: &Slots,
    stop: &Stop,
    work: F,
) -> Finished<R>
where
    F: Fn(Target, Slot) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let mut tasks = JoinSet::new();
    for (index, target) in targets.iter().cloned().enumerate() {
        let run = work(target, slots.claim());
        tasks.spawn(async move { (index, run.await) });
    }
    let mut results: Vec<Option<R>> = (0..targets.len()).map(|_| None).collect();
    let mut stopped = None;
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok((index, result))) => results[index] = Some(result),
                Some(Err(err)) => tracing::error!("a target's work stopped unexpectedly: {err}"),
                None => break,
            },
            reason = stop.reason(), if stopped.is_none() => {
                tracing::warn!("stopping: {reason}; the targets not finished are reported as errors");
                tasks.abort_all();
                stopped = Some(reason);
                break;
            }
        }
    }
    Finished { results, stopped }
}
