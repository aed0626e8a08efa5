//! `test-step`: the Test stage of the deployment pipeline (issue #3). Until it lands, the binary
//! refuses to run rather than report a pass it did not earn.

pub const NOT_IMPLEMENTED: &str =
    "test-step is not implemented yet; it must not be used to gate a deployment";
