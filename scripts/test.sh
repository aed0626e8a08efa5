#!/usr/bin/env bash
# Runs every test: formatting, clippy and the docs, the seed zip (release musl binaries: static,
# within the size budget, reproducible), then unit, integration against a real moto_server
# (started and stopped by the tests themselves), snapshots, cfn-lint, the local CodeBuild run of
# the unzipped seed, the quick benchmark and a short fuzz of every target. First installs the
# pinned tools that are missing or differ (scripts/ensure-tools.sh); every cargo command runs
# --locked. `.ci/run` calls exactly this. Ends with the total wall time, then the fuzz summary line.
set -euo pipefail
source "$(dirname "$0")/ensure-tools.sh"
started=$SECONDS
# Each step says how far into the run it starts, so a slow step shows in CI's log.
step() { say "[$(((SECONDS - started) / 60))m$(((SECONDS - started) % 60))s] $*"; }
step "pinned tools (scripts/pins/)"
ensure_rust
ensure_musl
ensure_unzip
ensure_python_tools
ensure_fuzz_tools
cd "$REPO_ROOT"

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --locked --workspace --all-targets --quiet -- -D warnings
step "cargo doc (no warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --quiet
step "cargo xtask seed-zip (release musl binaries, static, within budget)"
# The tests use this zip (its layout, the binaries in an empty root, the local pipeline run). Its
# report is shown, then its last line (the zip's path) kept: not through `tee /dev/stderr`, which
# reopens a log file on stderr and truncates it.
seed_report=$(cargo xtask seed-zip)
printf '%s\n' "$seed_report" >&2
SEED_ZIP=$(printf '%s\n' "$seed_report" | tail -n 1)
export SEED_ZIP
step "cargo test (unit, emulator integration, snapshots, cfn-lint, local CodeBuild run)"
INSTA_UPDATE=no cargo test --locked --workspace --all-targets --quiet
step "benchmark, quick mode: one ListModelPackages call per build-step run, binaries within budget"
bash bench/run.sh --quick
step "fuzzing: stage configs, payload manifests, template rendering, durations and session names, the verdict (10 s each)"
fuzz_log=$(mktemp)
trap 'rm -f "$fuzz_log"' EXIT
# Everything but the summary line now; the summary stays the last line of the run.
bash scripts/fuzz.sh 10 | tee "$fuzz_log" | head -n -1
elapsed=$((SECONDS - started))
say "total wall time: $((elapsed / 60))m$((elapsed % 60))s"
tail -n 1 "$fuzz_log"
