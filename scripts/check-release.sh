#!/usr/bin/env bash
# Builds the shipped binaries for x86_64-unknown-linux-musl in release and checks the promises:
# statically linked (no interpreter, no dynamic section) and at most 5 MiB stripped each.
set -euo pipefail
source "$(dirname "$0")/ensure-tools.sh"
cd "$REPO_ROOT"
MAX_BYTES=$((5 * 1024 * 1024))
cargo build --release --quiet --target x86_64-unknown-linux-musl -p build-step -p test-step
passed=0
failed=0
for bin in build-step test-step; do
  path="$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/$bin"
  size=$(stat -c %s "$path")
  problems=""
  readelf -l "$path" | grep -q 'INTERP\|DYNAMIC' && problems="$problems dynamically-linked"
  [ "$size" -gt "$MAX_BYTES" ] && problems="$problems over-$MAX_BYTES-bytes"
  "$path" --version >/dev/null || problems="$problems does-not-run"
  if [ -z "$problems" ]; then
    passed=$((passed + 1))
    awk -v b="$bin" -v s="$size" 'BEGIN { printf "%s: %d bytes (%.2f MiB stripped), static\n", b, s, s / 1048576 }'
  else
    failed=$((failed + 1))
    echo "FAIL $bin ($size bytes):$problems" >&2
  fi
done
echo "release: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
