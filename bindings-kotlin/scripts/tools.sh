#!/usr/bin/env bash
# Installs the Kotlin toolchain this package builds with, and nothing else:
#   - kotlinc from the npm package `kotlin-compiler` (version pinned by
#     tools/package-lock.json, installed with `npm ci` into tools/node_modules)
#   - JNA, kotlinx-coroutines (with atomicfu, which Debian's package does not
#     pull in but its 1.0.1 needs at run time) and JUnit 5 from Debian (apt), skipped when the
#     jars are already in /usr/share/java.
# Non-interactive (CI=true, no stdin; apt-get through `sudo -n` when not root).
# Idempotent. Needs a Debian/Ubuntu with these packages: Debian 12+, Ubuntu
# 24.04+ (Ubuntu 22.04 has no libkotlinx-coroutines-java).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
export CI=true DEBIAN_FRONTEND=noninteractive
need_apt=0
for jar in jna.jar kotlinx-coroutines-core.jar atomicfu.jar junit-platform-console-standalone.jar; do
  [ -e "/usr/share/java/$jar" ] || need_apt=1
done
if [ "$need_apt" = 1 ]; then
  # Root runs apt-get itself; anyone else (GitHub runners) through sudo, never
  # asking for a password (-n: fails instead of waiting on a terminal).
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then
      SUDO=(sudo -n)
    else
      echo "tools.sh: JNA, kotlinx-coroutines, atomicfu and JUnit 5 are missing from /usr/share/java and" >&2
      echo "tools.sh: installing them needs root or sudo: apt-get install libjna-java libkotlinx-coroutines-java libkotlinx-atomicfu-java junit5" >&2
      exit 1
    fi
  fi
  "${SUDO[@]}" apt-get update -qq </dev/null
  "${SUDO[@]}" apt-get install -y -qq libjna-java libkotlinx-coroutines-java libkotlinx-atomicfu-java junit5 </dev/null
fi
if [ ! -x "$HERE/tools/node_modules/.bin/kotlinc-jvm" ] && [ ! -x "$HERE/tools/node_modules/kotlin-compiler/bin/kotlinc-jvm" ]; then
  (cd "$HERE/tools" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
fi
