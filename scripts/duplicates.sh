#!/usr/bin/env bash
# Counts the repetition in the hand-written code, as docs/design.md ("How
# the code is kept honest") describes it, so that the figure can be taken
# again by anyone: `scripts/duplicates.sh [--most N] [--no-tests]`.
#
# It needs the `duplicates` clone detector on PATH (it is a developer's
# tool, not a dependency of CaseGraph: without it this says so and fails).
# The files git tracks, less generated code (the "Code generated ... DO NOT
# EDIT." marker, and schema.published.graphql, which cmd/schemacontract
# writes), testdata/ and the SQL migrations (atlas writes most of them), are
# copied into a scratch repository and the detector is run on
# the copy twice:
#   - as the files are;
#   - with each Go import block rewritten one `import "path"` line an entry.
#     The detector passes over import lines but not the lines of a grouped
#     `import ( … )` block, so two test files that import the same six
#     packages count as one copied run; the second figure leaves them out.
#     Lines keep their numbers, so the rows name the files' own lines.
# Nothing in the checkout is changed.
set -euo pipefail

most=200
tests=1
while [ $# -gt 0 ]; do
  case $1 in
    --most) most=$2; shift 2 ;;
    --no-tests) tests=0; shift ;;
    *) echo "usage: $0 [--most N] [--no-tests]" >&2; exit 2 ;;
  esac
done

if ! command -v duplicates > /dev/null; then
  echo "duplicates: the clone detector is not on PATH; this script only runs it" >&2
  exit 1
fi

root=$(git rev-parse --show-toplevel)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# copy_handwritten DIR: the files counted, as git has them in the work tree.
copy_handwritten() {
  local dir=$1 f
  (cd "$root" && git ls-files -z) | while IFS= read -r -d '' f; do
    [ -f "$root/$f" ] || continue
    case $f in
      */testdata/* | testdata/* | migrations/* | schema.published.graphql) continue ;;
    esac
    if [ $tests = 0 ] && [[ $f == *_test.go ]]; then continue; fi
    if head -c 4096 "$root/$f" | grep -q '^// Code generated .* DO NOT EDIT\.$'; then continue; fi
    mkdir -p "$dir/$(dirname "$f")"
    cp "$root/$f" "$dir/$f"
  done
}

# unfold_imports DIR: every Go import block as one import line an entry.
unfold_imports() {
  local f
  find "$1" -name '*.go' -print0 | while IFS= read -r -d '' f; do
    awk '
      /^import \($/ { inblock = 1; print ""; next }
      inblock && /^\)$/ { inblock = 0; print ""; next }
      inblock { sub(/^[ \t]+/, ""); print ($0 == "" || $0 ~ /^\/\//) ? "" : "import " $0; next }
      { print }' "$f" > "$f.unfolded"
    mv "$f.unfolded" "$f"
  done
}

# count DIR LABEL: the detector's first line (the count) and its rows.
count() {
  (cd "$1" && git init -q && git add -A &&
    git -c user.name=count -c user.email=count@localhost commit -qm count &&
    duplicates --most "$most" --seconds 300) > "$scratch/$2.txt"
  printf '%-28s %s\n' "$2:" "$(head -n 1 "$scratch/$2.txt")"
}

copy_handwritten "$scratch/as-written"
cp -r "$scratch/as-written" "$scratch/imports-unfolded"
unfold_imports "$scratch/imports-unfolded"

count "$scratch/as-written" as-written
count "$scratch/imports-unfolded" imports-unfolded
echo
echo "the rows with imports unfolded:"
tail -n +2 "$scratch/imports-unfolded.txt"
