#!/usr/bin/env bash
# Builds the shipped binaries for x86_64-unknown-linux-musl in release and checks the promises:
# statically linked (no interpreter, no dynamic section) and at most 5 MiB stripped each.
set -euo pipefail
source "$(dirname "$0")/ensure-tools.sh"
cd "$REPO_ROOT"
MAX_BYTES=$((5 * 1024 * 1024))
cargo build --release --quiet --target x86_64-unknown-linux-musl -p build-step -p test-step
status=0
for bin in build-step test-step; do
  path="$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/$bin"
  size=$(stat -c %s "$path")
  if readelf -l "$path" | grep -q 'INTERP\|DYNAMIC'; then
    echo "FAIL $bin is dynamically linked" >&2; status=1
  fi
  if [ "$size" -gt "$MAX_BYTES" ]; then
    echo "FAIL $bin is $size bytes, over the $MAX_BYTES-byte budget" >&2; status=1
  fi
  "$path" --version >/dev/null || { echo "FAIL $bin does not run" >&2; status=1; }
  awk -v b="$bin" -v s="$size" 'BEGIN { printf "%s: %d bytes (%.2f MiB stripped), static\n", b, s, s / 1048576 }'
done
[ "$status" -eq 0 ] && echo "release check: 2 passed, 0 failed" || echo "release check: failed"
exit "$status"
