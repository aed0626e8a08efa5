# Sourced by scripts/demo.sh and scripts/test.sh: installs what a fresh machine lacks, and only
# that. Each step checks first, so a prepared machine pays nothing.
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }

ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing apt packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_python_tools() {
  local python
  python=$(command -v python3 || true)
  [ -n "$python" ] || { ensure_apt python3 python3-pip; python=$(command -v python3); }
  local wanted=()
  command -v moto_server >/dev/null 2>&1 || wanted+=("moto[server]")
  command -v cfn-lint >/dev/null 2>&1 || wanted+=("cfn-lint")
  if [ "${#wanted[@]}" -gt 0 ]; then
    say "installing Python packages: ${wanted[*]}"
    "$python" -m pip install --quiet "${wanted[@]}" || "$python" -m pip install --quiet --break-system-packages "${wanted[@]}"
    hash -r
  fi
}

ensure_rust() {
  command -v cargo >/dev/null 2>&1 || { echo "cargo is missing: install Rust with rustup first (https://rustup.rs)" >&2; exit 1; }
  # rust-toolchain.toml pins the compiler and asks for the musl target; rustup installs both on
  # first use, this makes it explicit (and covers a rustup that does not auto-install).
  if command -v rustup >/dev/null 2>&1; then
    local toolchain
    toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$REPO_ROOT/rust-toolchain.toml")
    rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal -c rustfmt,clippy
    rustup target list --installed --toolchain "$toolchain" | grep -q x86_64-unknown-linux-musl \
      || rustup target add x86_64-unknown-linux-musl --toolchain "$toolchain"
  fi
}

ensure_musl() {
  command -v musl-gcc >/dev/null 2>&1 || ensure_apt musl-tools
}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT
# One target dir for every build of the workspace (tests, release binaries, demo).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
