//! What a release may weigh. Size is a feature: the binaries are committed into every project's
//! repository and run on every build, so `cargo xtask seed-zip` refuses a release over these
//! budgets and the benchmark reports against them.

/// At most 5 MB per stripped binary: a size budget, and well inside CodeCommit's 6 MB per file.
pub const MAX_BINARY_BYTES: u64 = 5_000_000;
/// CodeCommit accepts at most 6 MB per file through the API, and Service Catalog commits the seed
/// zip from S3; the whole archive stays within that too.
pub const MAX_SEED_ZIP_BYTES: u64 = 6_000_000;
