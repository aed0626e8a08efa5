#!/usr/bin/env bash
# The benchmark: the release binaries against the equivalent Python/boto3 scripts (bench/python)
# on one local emulator, whole-process wall time and peak memory for each, their ratios, the
# calls each made and the stripped binary sizes. `--quick` (what CI runs) uses a smaller group and
# fewer runs, and like the full run fails when build-step makes more than one ListModelPackages
# call or a binary is over its size budget. See bench/README.md.
set -euo pipefail
source "$(dirname "$0")/../scripts/ensure-tools.sh"
ensure_rust
ensure_musl
ensure_python_tools
cd "$REPO_ROOT"
say "building the release binaries (x86_64-unknown-linux-musl)"
cargo build --locked --release --quiet --target x86_64-unknown-linux-musl -p build-step -p test-step
say "building the benchmark driver"
# With the test command's feature set (`--workspace --all-targets`): after `cargo test` this is a
# no-op, where `-p test-support` alone would resolve other features and rebuild the SDK.
cargo build --locked --quiet --workspace --all-targets
"$CARGO_TARGET_DIR/debug/bench" "$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release" "$CARGO_TARGET_DIR/bench" "$@"
