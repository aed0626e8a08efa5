#!/usr/bin/env bash
# Fuzzes what reads user input: the stage config parser and the validation of a stage,
# test-step's payload manifest parser, the endpoint template renderer, the durations and
# session names of the command line, the verdict, and the policies and package fields preflight
# reads from AWS. Builds the cargo-fuzz targets in fuzz/ and runs each for a
# fixed time, from its committed seed corpus (fuzz/corpus/) plus what earlier runs found
# (target/fuzz/corpus/). Any crash, panic or timeout fails the run;
# the input that caused it lands in target/fuzz/artifacts/<target>/.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]     # default: $FUZZ_SECONDS, or 20
#
# Installs the pinned nightly toolchain and cargo-fuzz (scripts/pins/tools.env) when they are
# missing or differ.
set -euo pipefail
source "$(dirname "$0")/ensure-tools.sh"

seconds="${1:-${FUZZ_SECONDS:-20}}"
targets=(stage_config manifest render_template inputs verdict policy_grants)

ensure_fuzz_tools
cd "$REPO_ROOT"
out="$CARGO_TARGET_DIR/fuzz"
# cargo-fuzz takes no --locked: this fails first if fuzz/Cargo.lock would have to change.
cargo "+$FUZZ_TOOLCHAIN" metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null
# --dev with the profile in fuzz/Cargo.toml (a release fuzz build forces one codegen unit per crate,
# minutes for each AWS SDK crate). No sanitizer: the targets are safe Rust, a panic is the crash.
fuzz=(cargo "+$FUZZ_TOOLCHAIN" fuzz)
build_flags=(--dev -s none --target-dir "$out")

say "cargo fuzz build (${targets[*]})"
"${fuzz[@]}" build "${build_flags[@]}"

passed=0
failed=0
for target in "${targets[@]}"; do
  corpus="$out/corpus/$target"
  artifacts="$out/artifacts/$target/"
  log="$out/logs/$target.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  say "fuzzing $target for ${seconds}s"
  if "${fuzz[@]}" run "${build_flags[@]}" "$target" "$corpus" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -artifact_prefix="$artifacts" >"$log" 2>&1; then
    passed=$((passed + 1))
    grep -E '^Done [0-9]+ runs' "$log" | sed "s/^/$target: /" || true
  else
    failed=$((failed + 1))
    echo "$target FAILED (log $log, failing input in $artifacts):" >&2
    grep -E -A 3 'panicked at|^SUMMARY|Test unit written|ERROR: libFuzzer' "$log" | head -n 40 >&2
  fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
