#!/usr/bin/env bash
# `make soak`: builds the release mock, the Python wheel, the Node addon and
# the C library, compiles the C soak client, then runs soak/soak.py.
#   SOAK_SECONDS (600)  how long the clients call
#   SOAK_INTERVAL (5)   seconds between RSS samples
#   SOAK_PAUSE_MS (2)   pause of each client between rounds of 7 calls
#   SOAK_BUILD (1)      0: use the mock, wheel, addon and library as already built
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}"
CARGO="${CARGO:-cargo}"
MAKE="${MAKE:-make}"
OUT="$ROOT/soak/out"
mkdir -p "$OUT"

if [ "${SOAK_BUILD:-1}" != 0 ]; then
  $CARGO build --release -p parsec-teams-mock
  $MAKE -C bindings-python build
  $MAKE -C bindings-node build
  $MAKE -C bindings-c lib
fi
# Statically linked: the soak measures the library as built, whatever the loader finds.
cc -std=c99 -O2 -Wall -Wextra -Werror -Ibindings-c/include soak/client.c -o "$OUT/client_c" \
  bindings-c/build/lib/libparsec_teams.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

exec python3 soak/soak.py \
  --mock "target/$CARGO_BUILD_TARGET/release/parsec-teams-mock" \
  --python bindings-python/.venv/bin/python \
  --node "${NODE:-node}" \
  --c-client "$OUT/client_c" \
  --seconds "${SOAK_SECONDS:-600}" \
  --interval "${SOAK_INTERVAL:-5}" \
  --pause-ms "${SOAK_PAUSE_MS:-2}" \
  --out "$OUT"
