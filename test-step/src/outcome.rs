//! How one stage of a target's test (the session, the wait, the model check, an invocation) can
//! end short of passing. Every stage returns it and the tester turns it into the target's
//! verdict, so the stages need nothing from each other to say so.

/// Why a target did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// The target failed its tests: the answer is no.
    Failed(String),
    /// AWS or the network prevented testing it (after the SDK's retries).
    Error(String),
}
