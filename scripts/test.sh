#!/usr/bin/env bash
# Runs every test: the seed zip (release musl binaries: static, within the size budget,
# reproducible), then unit, integration against a real moto_server (started and stopped by the
# tests themselves), snapshots, cfn-lint, and the local CodeBuild run of the unzipped seed.
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
say "cargo xtask seed-zip (release musl binaries, static, within budget)"
# The tests use this zip (its layout, the binaries in an empty root, the local pipeline run).
SEED_ZIP=$(cargo xtask seed-zip | tee /dev/stderr | tail -n 1)
export SEED_ZIP
say "cargo test (unit, emulator integration, snapshots, cfn-lint, local CodeBuild run)"
INSTA_UPDATE=no cargo test --workspace --all-targets --quiet
say "benchmark, quick mode: one ListModelPackages call per build-step run, binaries within budget"
bash bench/run.sh --quick
say "fuzzing: stage configs, payload manifests, template rendering (10 s each)"
bash scripts/fuzz.sh 10
