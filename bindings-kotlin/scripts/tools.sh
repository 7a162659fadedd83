#!/usr/bin/env bash
# Installs the Kotlin toolchain this package builds with, and nothing else:
#   - kotlinc from the npm package `kotlin-compiler` (version pinned by
#     tools/package-lock.json, installed with `npm ci` into tools/node_modules)
#   - JNA, kotlinx-coroutines (with atomicfu, which Debian's package does not
#     pull in but its 1.0.1 needs at run time) and JUnit 5 from Debian (apt), skipped when the
#     jars are already in /usr/share/java.
# Non-interactive (CI=true, no stdin). Idempotent.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
export CI=true DEBIAN_FRONTEND=noninteractive
need_apt=0
for jar in jna.jar kotlinx-coroutines-core.jar atomicfu.jar junit-platform-console-standalone.jar; do
  [ -e "/usr/share/java/$jar" ] || need_apt=1
done
if [ "$need_apt" = 1 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  $SUDO apt-get update -qq </dev/null
  $SUDO apt-get install -y -qq libjna-java libkotlinx-coroutines-java libkotlinx-atomicfu-java junit5 </dev/null
fi
if [ ! -x "$HERE/tools/node_modules/.bin/kotlinc-jvm" ] && [ ! -x "$HERE/tools/node_modules/kotlin-compiler/bin/kotlinc-jvm" ]; then
  (cd "$HERE/tools" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
fi
