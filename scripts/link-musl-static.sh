#!/bin/sh
# Linker for x86_64-unknown-linux-musl (see .cargo/config.toml): musl-gcc, plus one size measure
# for stripped (release) links only. The release binaries abort on panic and nothing unwinds
# through them, yet LLVM emits .eh_frame unwind tables for every function anyway (~870 KB of a
# 5 MB budget). For those links this uses the system's default linker script, with the unwind
# tables discarded except the crt objects' own (crtbegin.o registers them at start-up). Debug
# links keep everything, so panics there still unwind and print backtraces.
set -eu
case " $* " in
  *" -Wl,--strip-all "*) ;;
  *) exec musl-gcc "$@" ;;
esac
script=$(mktemp "${TMPDIR:-/tmp}/link-musl-static.XXXXXX")
trap 'rm -f "$script"' EXIT
ld --verbose | sed -n '/^==================================================$/,/^==================================================$/p' | sed '1d;$d' |
  sed -e '/^ *\.eh_frame_hdr *:/d' \
      -e 's/^\( *\.eh_frame *: *ONLY_IF_RO\).*$/\1 { KEEP (*crtbegin*.o(.eh_frame)) KEEP (*crtend*.o(.eh_frame)) }/' \
      -e '/^ *\.eh_frame *: *ONLY_IF_RW/d' \
      -e 's|^\( */DISCARD/ *: *{\)|\1 *(.eh_frame) *(.eh_frame.*) *(.eh_frame_hdr) |' > "$script"
if ! grep -q 'KEEP (\*crtbegin\*.o(.eh_frame))' "$script" || ! grep -q '/DISCARD/ : { \*(.eh_frame)' "$script"; then
  echo "link-musl-static.sh: unexpected 'ld --verbose' script; linking with unwind tables" >&2
  exec musl-gcc "$@"
fi
musl-gcc "$@" -Wl,--no-eh-frame-hdr -Wl,-T,"$script"
