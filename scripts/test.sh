#!/usr/bin/env bash
# Runs every test: unit, integration against a real moto_server (started and stopped by the
# tests themselves), snapshots, cfn-lint, and the release musl build's static-link and size check.
# Installs what is missing first. `.ci/run` calls exactly this.
set -euo pipefail
source "$(dirname "$0")/ensure-tools.sh"
ensure_rust
ensure_musl
ensure_python_tools
cd "$REPO_ROOT"

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
say "cargo test (unit, emulator integration, snapshots, cfn-lint)"
INSTA_UPDATE=no cargo test --workspace --all-targets --quiet
say "release musl build: static and within the size budget"
bash scripts/check-release.sh
