//! How many targets make AWS calls at once (`--concurrency`). A target holds a slot while it
//! calls (AssumeRole, DescribeEndpoint, the model check, the invocations) and gives it back while
//! it only waits between DescribeEndpoint polls, so an endpoint that takes half an hour to update
//! never keeps the other targets from starting.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The run's slots.
#[derive(Debug, Clone)]
pub(crate) struct Slots(Arc<Semaphore>);

impl Slots {
    pub(crate) fn new(concurrency: usize) -> Self {
        Self(Arc::new(Semaphore::new(concurrency.max(1))))
    }

    /// A target's claim, not yet holding a slot.
    pub(crate) fn claim(&self) -> Slot {
        Slot {
            slots: self.0.clone(),
            held: None,
        }
    }

    /// Slots in use right now.
    #[cfg(test)]
    pub(crate) fn in_use(&self, concurrency: usize) -> usize {
        concurrency - self.0.available_permits()
    }
}

/// One target's claim on a slot.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Semaphore>,
    held: Option<OwnedSemaphorePermit>,
}

impl Slot {
    /// Waits for a free slot, unless this claim holds one already.
    pub(crate) async fn hold(&mut self) {
        if self.held.is_none() {
            // The semaphore is never closed, so acquiring cannot fail.
            self.held = self.slots.clone().acquire_owned().await.ok();
        }
    }

    /// Gives the slot back while the target only waits.
    pub(crate) fn release(&mut self) {
        self.held = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_released_slot_goes_to_the_next_claim() {
        let slots = Slots::new(1);
        let (mut first, mut second) = (slots.claim(), slots.claim());
        first.hold().await;
        assert_eq!(slots.in_use(1), 1);
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), second.hold());
        assert!(
            waiting.await.is_err(),
            "no second slot while the first is held"
        );
        first.release();
        second.hold().await;
        assert_eq!(slots.in_use(1), 1);
        second.hold().await;
        assert_eq!(slots.in_use(1), 1, "holding twice takes one slot");
    }
}
