#!/usr/bin/env bash
# Old build vs current build, side by side in one run (not part of `make test`):
#
#   bench/compare.sh OLD_REV                 build both, then 5 shared-mock rounds, 3 own-mock rounds, callgrind
#   bench/compare.sh OLD_REV --quick         smoke run (1/10 of the requests, one round; RESULTS left alone)
#   bench/compare.sh OLD_REV --langs node    only some of node,python,c,rust
#   bench/compare.sh OLD_REV --no-callgrind  timed rounds only
#   bench/compare.sh OLD_REV --rounds 9      more rounds
#   bench/compare.sh OLD_REV --new NEW_REV [...]   a committed revision instead of the working tree
#                                            (worktree in $COMPARE_NEW_DIR, default ../new)
#
# OLD_REV is checked out as a git worktree in $COMPARE_DIR (default: ../old next
# to this repository; an existing worktree there must be at OLD_REV) and built
# there with its own target dir: the release mock, the Rust bench, the C
# library, the Node addon and the Python wheel (into its own venv). The current
# tree (or NEW_REV's worktree) is built the same way, into its usual target dir and
# bindings-python/.venv. bench/compare/compare.py then runs every language's client of both
# builds in interleaved rounds against the same mock, then each against its own
# mock, then under callgrind, and writes bench/compare/RESULTS.md (merged into
# bench/RESULTS.md by `make bench-results`). See bench/README.md, "Old vs new".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
rev_arg="$1"
shift
new_arg=""
if [ "${1:-}" = "--new" ]; then
  new_arg="$2"
  shift 2
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_BUILD_TARGET="$triple"

# A detached worktree of $2 at $1 (made if missing; an existing one must be at that revision).
worktree() {
  local dir="$1" rev
  rev="$(git -C "$root" rev-parse --verify "$2^{commit}")"
  if [ -d "$dir" ]; then
    if [ "$(git -C "$dir" rev-parse HEAD)" != "$rev" ]; then
      echo "compare: $dir holds $(git -C "$dir" rev-parse HEAD), not $rev (set COMPARE_DIR / COMPARE_NEW_DIR, or git worktree remove $dir)" >&2
      exit 1
    fi
  else
    git -C "$root" worktree add --detach "$dir" "$rev" >&2
  fi
}

# Builds one tree ($1) into its cargo target dir ($2) and its Python venv ($3):
# the Rust bench, the C library and the mock (built alone last: each build
# writes target/.../parsec-teams-mock with its own feature set, and the binding
# benches use the mock built alone), the Node addon (napi, as `make -C
# bindings-node build`) and the Python wheel (maturin, as `make -C
# bindings-python build`), installed into the venv.
build_tree() {
  local tree="$1" target="$2" venv="$3"
  echo "compare: building $tree ($(git -C "$tree" rev-parse --short HEAD)) into $target" >&2
  (cd "$tree" && export CARGO_TARGET_DIR="$target" &&
    cargo build -q --release -p parsec-teams-bench &&
    cargo build -q --release -p parsec-teams-c &&
    cargo build -q --release -p parsec-teams-mock)
  [ -e "$tree/bindings-node/node_modules" ] || ln -s "$root/bindings-node/node_modules" "$tree/bindings-node/node_modules"
  (cd "$tree/bindings-node" && CARGO_TARGET_DIR="$target" ./node_modules/.bin/napi build --platform --release --no-js --dts native.d.ts >/dev/null 2>&1 &&
    strip --strip-debug parsec-teams.linux-x64-gnu.node)
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  rm -rf "$tree/bindings-python/dist"
  (cd "$tree/bindings-python" && CARGO_TARGET_DIR="$target" "$root/bindings-python/.venv/bin/maturin" build --release --strip -o dist >/dev/null 2>&1)
  "$venv/bin/pip" install -q --force-reinstall --no-deps "$tree"/bindings-python/dist/*.whl
}

# The tools of the current tree: npm packages (napi CLI) and the venv with maturin.
make -s -C "$root/bindings-node" deps
make -s -C "$root/bindings-python" venv

old="${COMPARE_DIR:-$(dirname "$root")/old}"
worktree "$old" "$rev_arg"
old_rev="$(git -C "$old" rev-parse HEAD)"
old_target="$old/target"
old_venv="$old/.venv-compare"
build_tree "$old" "$old_target" "$old_venv"

if [ -n "$new_arg" ]; then
  new="${COMPARE_NEW_DIR:-$(dirname "$root")/new}"
  worktree "$new" "$new_arg"
  new_target="$new/target"
  new_venv="$new/.venv-compare"
else
  new="$root"
  new_target="${CARGO_TARGET_DIR:-$root/target}"
  new_venv="$root/bindings-python/.venv"
fi
new_rev="$(git -C "$new" rev-parse HEAD)"
build_tree "$new" "$new_target" "$new_venv"

# The C client (bench/c/bench_members_get.c, the C bench's), once per build, against that build's header and library.
cbuild="$root/target/bench-compare"
mkdir -p "$cbuild"
for side in old new; do
  if [ "$side" = old ]; then tree="$old" out="$old_target/$triple/release"; else tree="$new" out="$new_target/$triple/release"; fi
  # The library's soname is libparsec_teams.so.0 (bindings-c/build.rs): link and load it under that name.
  lib="$cbuild/lib_$side"
  mkdir -p "$lib"
  ln -sfn "$out/libparsec_teams_c.so" "$lib/libparsec_teams.so.0"
  ln -sfn "$out/libparsec_teams_c.so" "$lib/libparsec_teams.so"
  cc -O2 -std=c99 -Wall -Wextra -Werror -I "$tree/bindings-c/include" "$here/c/bench_members_get.c" \
    -L "$lib" -lparsec_teams -Wl,-rpath,"$lib" -lpthread -o "$cbuild/client_c_$side"
done

old_desc="$(git -C "$root" log -1 --format='%h %s' "$old_rev" | cut -c1-80)"
new_desc="$(git -C "$root" log -1 --format='%h %s' "$new_rev" | cut -c1-80)"
if [ -n "$(git -C "$new" status --porcelain --untracked-files=no -- core mock bindings-node bindings-python bindings-c bench Cargo.toml Cargo.lock ':(exclude)*.md')" ]; then
  new_desc="$new_desc, with uncommitted changes"
fi
OLD_REV="$old_rev" OLD_DESC="$old_desc" OLD_TREE="$old" OLD_TARGET="$old_target" OLD_PY="$old_venv/bin/python" \
NEW_REV="$new_rev" NEW_DESC="$new_desc" NEW_TREE="$new" NEW_TARGET="$new_target" NEW_PY="$new_venv/bin/python" \
TRIPLE="$triple" CBUILD="$cbuild" python3 - "$cbuild/builds.json" <<'EOF'
import json, os, sys
e = os.environ
def side(k):
    out = f"{e[k + '_TARGET']}/{e['TRIPLE']}/release"
    return {"rev": e[k + "_REV"][:10], "desc": e[k + "_DESC"], "mock": f"{out}/parsec-teams-mock",
            "rust": f"{out}/parsec-teams-bench", "node": f"{e[k + '_TREE']}/bindings-node", "python": e[k + "_PY"],
            "c": f"{e['CBUILD']}/client_c_{k.lower()}"}
json.dump({"old": side("OLD"), "new": side("NEW")}, open(sys.argv[1], "w"), indent=1)
EOF
exec python3 "$here/compare/compare.py" --builds "$cbuild/builds.json" "$@"
