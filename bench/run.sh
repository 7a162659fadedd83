#!/usr/bin/env bash
# The Rust core's benchmark (`make bench`): builds the bench and the mock in
# release mode, then runs the core against the mock side by side with a bare
# reqwest + serde_json loop and rewrites the "## Rust core" section of
# bench/RESULTS.md.
#
#   bench/run.sh                  5 interleaved rounds + the callgrind pass
#   bench/run.sh --rounds 7       more rounds
#   bench/run.sh --callgrind      only the callgrind pass (instructions/request)
#   bench/run.sh --no-callgrind   only the timed rounds
#   bench/run.sh --quick          smoke run (1/10 of the requests, RESULTS.md untouched)
#   bench/run.sh --help           every option
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

cargo build --release -p parsec-teams-bench -p parsec-teams-mock

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in
  /*) ;;
  *) target="$root/$target" ;;
esac

out="$target/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}release"
exec "$out/parsec-teams-bench" \
  --mock "$out/parsec-teams-mock" \
  --results "$here/RESULTS.md" \
  "$@"
