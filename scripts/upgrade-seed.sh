#!/usr/bin/env bash
# bin/upgrade-seed: moves a repository seeded from one seed zip to a newer one.
#
#   bin/upgrade-seed NEW_SEED_ZIP [REPOSITORY_DIR]     (the repository defaults to .)
#
# The seed owns bin/, the buildspecs and templates/; the team owns everything else (the stage
# configs, test/payloads, README.md). The repository's SHA256SUMS is the old zip's record of what
# it shipped, so a file the seed owns whose digest no longer matches was changed here: the upgrade
# then refuses and changes nothing. Otherwise it checks every file of the new zip against the new
# zip's own SHA256SUMS, replaces the seed's files (each written beside its target and renamed over
# it), removes the ones the new seed no longer has, writes the new SHA256SUMS, and leaves the
# team's files as they are, naming those the new seed would have changed. It never writes, replaces
# or removes anything through a symbolic link: a path it would write (or a directory on the way to
# it, such as templates/ or bin/) that is a link, even one that stays inside the repository, makes
# it refuse before writing anything. A SHA256SUMS with CRLF line endings (git's autocrlf) is read as
# if it had LF endings.
#
# Exit codes: 0 upgraded (or already at that seed); 1 refused: files the seed owns were changed
# here; 2 bad input: no such zip, not a seed zip, a digest that does not match, no SHA256SUMS in the
# repository, a symbolic link where the upgrade would write, or a missing tool (unzip, and
# sha256sum or shasum).
set -euo pipefail

say() { printf 'upgrade-seed: %s\n' "$*"; }
fail() {
  local code=$1
  shift
  printf 'upgrade-seed: error: %s\n' "$*" >&2
  exit "$code"
}

[ $# -ge 1 ] && [ $# -le 2 ] || fail 2 "usage: bin/upgrade-seed NEW_SEED_ZIP [REPOSITORY_DIR]; give the path of the new seed zip the platform team published (and the repository's root, . by default)"
zip=$1
repo=${2:-.}

command -v unzip >/dev/null || fail 2 "unzip is not installed; install it (apt-get install unzip, yum install unzip, or brew install unzip) and run again"
if command -v sha256sum >/dev/null; then
  digest() { sha256sum -- "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null; then
  digest() { shasum -a 256 -- "$1" | cut -d' ' -f1; }
else
  fail 2 "neither sha256sum nor shasum is installed; install coreutils (or perl's shasum) and run again"
fi

[ -f "$zip" ] && [ -r "$zip" ] || fail 2 "the seed zip $zip does not exist or cannot be read; give the path of the zip the platform team published"
[ -d "$repo" ] || fail 2 "the repository $repo is not a directory; run this from the repository's root or give its path"
[ -f "$repo/SHA256SUMS" ] || fail 2 "$repo has no SHA256SUMS, the seed's record of the files it shipped; run this from the root of a repository seeded from a seed zip (or restore SHA256SUMS from its first commit)"

# The files the seed owns; the rest are the team's.
owned() {
  case "$1" in
    bin/* | buildspec.yml | test/buildspec.yml | test/verify-prod-buildspec.yml | test/preflight-buildspec.yml | templates/*) return 0 ;;
    *) return 1 ;;
  esac
}

# Reads "digest  path" lines from SHA256SUMS file $1, refusing any path that could leave the
# repository, and prints "digest path" lines. CRLF line endings read as LF.
read_sums() {
  local line sum path
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    [ -n "$line" ] || continue
    sum=${line%%  *}
    path=${line#*  }
    if [ "$sum" = "$line" ] || ! [[ $sum =~ ^[0-9a-f]{64}$ ]]; then
      fail 2 "$2 has a line that is not \"<sha256>  <path>\": $line; it is not a seed's SHA256SUMS"
    fi
    case "/$path/" in
      *'/../'* | *'/./'* | '//'*) fail 2 "$2 names the path $path, which leaves the repository; it is not a seed's SHA256SUMS" ;;
    esac
    printf '%s %s\n' "$sum" "$path"
  done <"$1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unzip -qq -o "$zip" -d "$work/new" 2>"$work/unzip.log" || fail 2 "$zip is not a readable zip ($(head -n 1 "$work/unzip.log")); download the seed zip again"
[ -f "$work/new/SHA256SUMS" ] || fail 2 "$zip has no SHA256SUMS at its root, so it is not a seed zip; give the zip \`cargo xtask seed-zip\` built"

new_sums=$(read_sums "$work/new/SHA256SUMS" "the new zip's SHA256SUMS")
old_sums=$(read_sums "$repo/SHA256SUMS" "$repo/SHA256SUMS")

# Every file of the new zip must be what its SHA256SUMS says.
while read -r sum path; do
  [ -f "$work/new/$path" ] || fail 2 "$zip lists $path in its SHA256SUMS but does not hold it; the zip is damaged, download it again"
  [ "$(digest "$work/new/$path")" = "$sum" ] || fail 2 "$path in $zip does not match the zip's SHA256SUMS; the zip is damaged, download it again"
done <<<"$new_sums"

# Nothing is written, replaced or removed through a symbolic link: each path the upgrade may write
# (the files the seed owns in either SHA256SUMS, the temporary file beside each, and SHA256SUMS),
# and every directory on the way to it under the repository's root, must not be a link. A link
# that stays inside the repository is refused too: nothing is followed.
links=()
refuse_links_on_the_way() {
  local prefix='' part
  local -a parts
  IFS=/ read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    prefix=${prefix:+$prefix/}$part
    if [ -L "$repo/$prefix" ]; then
      case " ${links[*]-} " in
        *" $prefix -> "*) ;;
        *) links+=("$prefix -> $(readlink -- "$repo/$prefix")") ;;
      esac
      return 0
    fi
  done
}
while read -r sum path; do
  owned "$path" || continue
  refuse_links_on_the_way "$path"
  refuse_links_on_the_way "$path.upgrade-seed.tmp"
done <<<"$old_sums
$new_sums"
refuse_links_on_the_way SHA256SUMS
refuse_links_on_the_way SHA256SUMS.upgrade-seed.tmp
if [ ${#links[@]} -gt 0 ]; then
  listed=$(printf '%s, ' "${links[@]}")
  fail 2 "symbolic links in $repo where the upgrade would write: ${listed%, }. It never writes through a link, so nothing was changed; replace each link with a real directory or file holding what it points to (rm the link, then cp -R what it pointed to in its place) and run again"
fi

# The new seed's digest of $1, if it has the file.
new_sum_of() { awk -v p="$1" '{ sum = $1; sub(/^[^ ]* /, ""); if ($0 == p) { print sum; exit } }' <<<"$new_sums"; }

# Refuse before writing anything when a file the seed owns was changed here. A file that already
# matches the new seed counts as unchanged, and one the new seed drops may already be gone, so a
# run that was cut off can be run again.
changed=()
while read -r sum path; do
  owned "$path" || continue
  new_sum=$(new_sum_of "$path")
  if [ ! -e "$repo/$path" ]; then
    [ -z "$new_sum" ] || changed+=("$path (removed)")
  else
    here=$(digest "$repo/$path")
    [ "$here" = "$sum" ] || [ "$here" = "$new_sum" ] || changed+=("$path")
  fi
done <<<"$old_sums"
# A file the new seed adds must not overwrite one of the team's at the same path.
while read -r sum path; do
  owned "$path" || continue
  grep -q -F -x -- "$path" <(cut -d' ' -f2- <<<"$old_sums") && continue
  if [ -e "$repo/$path" ] && [ "$(digest "$repo/$path")" != "$sum" ]; then
    changed+=("$path (yours; the new seed adds it)")
  fi
done <<<"$new_sums"
if [ ${#changed[@]} -gt 0 ]; then
  fail 1 "files the seed owns were changed in $repo: ${changed[*]}. The upgrade would overwrite them, so nothing was changed; restore them (git checkout -- <file>) and run again, keeping a custom endpoint template outside bin/ and templates/ and passing it to build-step with --template"
fi

if [ "$new_sums" = "$old_sums" ]; then
  say "$repo already holds this seed; nothing to do"
  exit 0
fi

updated=()
while read -r sum path; do
  owned "$path" || continue
  if [ -f "$repo/$path" ] && [ "$(digest "$repo/$path")" = "$sum" ]; then
    continue
  fi
  mkdir -p "$(dirname "$repo/$path")"
  cp "$work/new/$path" "$repo/$path.upgrade-seed.tmp"
  case "$path" in bin/*) chmod 0755 "$repo/$path.upgrade-seed.tmp" ;; *) chmod 0644 "$repo/$path.upgrade-seed.tmp" ;; esac
  mv -f "$repo/$path.upgrade-seed.tmp" "$repo/$path"
  updated+=("$path")
done <<<"$new_sums"

removed=()
while read -r sum path; do
  owned "$path" || continue
  if ! grep -q -F -x -- "$path" <(cut -d' ' -f2- <<<"$new_sums"); then
    rm -f "$repo/$path"
    removed+=("$path")
  fi
done <<<"$old_sums"

kept=()
while read -r sum path; do
  owned "$path" && continue
  if [ -f "$repo/$path" ] && [ "$(digest "$repo/$path")" != "$sum" ]; then
    kept+=("$path")
  fi
done <<<"$new_sums"

cp "$work/new/SHA256SUMS" "$repo/SHA256SUMS.upgrade-seed.tmp"
chmod 0644 "$repo/SHA256SUMS.upgrade-seed.tmp"
mv -f "$repo/SHA256SUMS.upgrade-seed.tmp" "$repo/SHA256SUMS"

say "updated: ${updated[*]:-(none)}"
[ ${#removed[@]} -eq 0 ] || say "removed (no longer in the seed): ${removed[*]}"
[ ${#kept[@]} -eq 0 ] || say "kept yours, which differ from the new seed's: ${kept[*]}"
say "review with git diff, then commit: git add -A && git commit -m 'Take the new seed'"
