#!/usr/bin/env bash
# make conformance: builds what the runners need (quietly; the log is
# tests/conformance/build/build.log), checks the scenario files against the
# core's operation table, then runs every scenario on every surface.
# Prints one line per surface: `conformance <surface>: P passed, F failed`
# (failures are detailed on stderr). Exit 1 if any surface fails a scenario.
#   SURFACES="rust node" bash tests/conformance/run.sh     only some surfaces
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CARGO=${CARGO:-cargo}
export CARGO_BUILD_TARGET=${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
OUT=${CARGO_TARGET_DIR:-$ROOT/target}/$CARGO_BUILD_TARGET/release
BUILD=$HERE/build
LOG=$BUILD/build.log
SURFACES=${SURFACES:-rust python-sync python-async node c kotlin kotlin-blocking}
mkdir -p "$BUILD"
: > "$LOG"

quiet() { "$@" >>"$LOG" 2>&1 || { cat "$LOG" >&2; echo "conformance: build step failed: $*" >&2; exit 2; }; }
quiet "$CARGO" build --release -p parsec-teams-mock -p parsec-teams-conformance
case " $SURFACES " in *" python-"*) quiet make -C "$ROOT/bindings-python" build ;; esac
case " $SURFACES " in *" node "*) quiet make -C "$ROOT/bindings-node" build ;; esac
case " $SURFACES " in *" kotlin"*) quiet make -C "$ROOT/bindings-kotlin" runner ;; esac
case " $SURFACES " in *" c "*)
  quiet make -C "$ROOT/bindings-c" lib
  quiet ${CC:-cc} -std=c99 -Wall -Wextra -Werror -O1 -I"$ROOT/bindings-c/include" "$HERE/runners/c_runner.c" \
    -o "$BUILD/c_runner" -L"$ROOT/bindings-c/build/lib" -lparsec_teams -Wl,-rpath,"$ROOT/bindings-c/build/lib" -lpthread ;;
esac

export PARSEC_TEAMS_MOCK=$OUT/parsec-teams-mock
PY=$ROOT/bindings-python/.venv/bin/python
python3 "$HERE/harness.py" --check -- "$OUT/conformance-rust" >>"$LOG" 2>&1 || {
  python3 "$HERE/harness.py" --check -- "$OUT/conformance-rust"; exit 2; }

status=0
for s in $SURFACES; do
  case $s in
    rust) cmd=("$OUT/conformance-rust") ;;
    python-sync) cmd=("$PY" "$HERE/runners/python_runner.py" sync) ;;
    python-async) cmd=("$PY" "$HERE/runners/python_runner.py" async) ;;
    node) cmd=(node "$HERE/runners/node_runner.mjs") ;;
    c) cmd=("$BUILD/c_runner") ;;
    kotlin) cmd=("$ROOT/bindings-kotlin/build/kotlin-runner") ;;
    kotlin-blocking) cmd=("$ROOT/bindings-kotlin/build/kotlin-runner" blocking) ;;
    *) echo "conformance: unknown surface $s" >&2; exit 2 ;;
  esac
  python3 "$HERE/harness.py" "$s" -- "${cmd[@]}" || status=1
done
exit $status
