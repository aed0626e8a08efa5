//! `peak-rss <report file> <program> [args…]`: runs the program with this process's stdio,
//! directory and environment, writes its peak resident memory in KiB to the report file and exits
//! with its exit code. The benchmark measures through it because Linux carries a parent's memory
//! high-water mark into every child it spawns (`ru_maxrss` survives `exec`), so a child of the
//! benchmark driver, itself tens of MiB, would report at least the driver's size; a child of this
//! small process reports its own.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(report), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: peak-rss <report file> <program> [args...]");
        return ExitCode::from(2);
    };
    let child = match Command::new(&program).args(args).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("peak-rss: cannot run {}: {e}", program.to_string_lossy());
            return ExitCode::from(127);
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain integers, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: reaps the child this process just spawned (std never waits for it: `child` is only
    // dropped) and writes the two out-parameters, which live on this stack frame.
    let waited = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    drop(child);
    if waited != pid {
        eprintln!("peak-rss: wait4: {}", std::io::Error::last_os_error());
        return ExitCode::from(127);
    }
    if let Err(e) = std::fs::write(&report, usage.ru_maxrss.to_string()) {
        eprintln!("peak-rss: cannot write {}: {e}", report.to_string_lossy());
        return ExitCode::from(127);
    }
    if libc::WIFEXITED(status) {
        ExitCode::from(libc::WEXITSTATUS(status) as u8)
    } else {
        ExitCode::from(128)
    }
}
