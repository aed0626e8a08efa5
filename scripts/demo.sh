#!/usr/bin/env bash
# The demo: build-step and test-step end to end against a local AWS emulator (no AWS account
# needed). Installs the pinned tools that are missing or differ (scripts/ensure-tools.sh), builds
# the release binaries, then runs the demo driver, which starts moto_server, seeds it, runs
# build-step as CodeBuild would, deploys the staging endpoint into each staging account, runs
# test-step against them, shows the outputs and stops moto.
set -euo pipefail
source "$(dirname "$0")/ensure-tools.sh"
ensure_rust
ensure_musl
ensure_python_tools
cd "$REPO_ROOT"
say "building the release binaries (x86_64-unknown-linux-musl)"
cargo build --locked --release --quiet --target x86_64-unknown-linux-musl -p build-step -p test-step
cargo run --locked --quiet -p test-support --bin demo -- "$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release" "$CARGO_TARGET_DIR/demo"
