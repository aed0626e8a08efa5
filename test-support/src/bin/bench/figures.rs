//! How the benchmark writes its figures (seconds, MiB, a count of accounts) and the median it
//! reports of several runs: one place, so every table reads the same.

use std::time::Duration;

pub(crate) fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

pub(crate) fn accounts(count: usize) -> String {
    format!("{count} account{}", if count == 1 { "" } else { "s" })
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

pub(crate) fn mib(kib: i64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
