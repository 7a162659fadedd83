#!/usr/bin/env bash
# `make package`: every release artifact of this machine's platform (Linux
# x86_64, glibc >= 2.17) into dist/, each checked as a user would get it.
#
#   dist/parsec_teams-V-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#   dist/parsec_teams-V.tar.gz                          the sdist (carries core/ and mock/)
#   dist/parsec-teams-V.tgz                             npm main package (no binary)
#   dist/parsec-teams-linux-x64-gnu-V.tgz               npm platform package
#   dist/parsec_teams-V-linux-x86_64-gnu.tar.gz         C library: headers, .so, .a, pkg-config, CMake
#   dist/parsec_teams-V-linux-x86_64-gnu-debug.tar.gz   its debug info (gnu-debuglink)
#   dist/parsec-teams-V.jar                             Kotlin/JVM jar (classes + linux-x86-64 native library)
#   dist/parsec-teams-V.pom                             its Maven pom (app.parsec:parsec-teams:V)
#   dist/parsec-teams-V-sources.jar                     its Kotlin sources (uniffi's layer + the package's)
#   dist/SHA256SUMS
#
# Checks: actionlint on the workflows, one version everywhere, auditwheel,
# the wheel and the sdist installed into clean venvs (the sdist compiles from
# source) and used against the mock, npm tarballs installed into an empty
# project and used against the mock, no GLIBC symbol newer than 2.17 in any
# binary, the C library's SONAME and exports, a staged `install` (DESTDIR), and
# the C tarball compiled against through its pkg-config file (shared and static),
# the pom's version, and a Java program compiled against only the dist jar and
# the jars its pom declares, run against the mock (the native library unpacked
# from the jar by JNA, nothing mapped from the source tree).
#
# Tools come from PyPI (packaging/requirements.txt) into .venv-package/; the
# zig builds use their own target dir, target/package, so the shared dev build
# cache is untouched. Each release build happens once.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DIST="$ROOT/dist"
PKG="${PACKAGE_TARGET_DIR:-$ROOT/target/package}"   # CARGO_TARGET_DIR of the zig builds
WORK="$ROOT/target/package-work"    # staging and test installs (always this tree's own)
VENV="$ROOT/.venv-package"
ARCH=$(uname -m)                    # x86_64 here; aarch64 on the release workflow's arm runner
case "$ARCH" in x86_64) NODE_ARCH=x64 ;; aarch64) NODE_ARCH=arm64 ;; *) echo "package: unsupported arch $ARCH" >&2; exit 1 ;; esac
TRIPLE=$ARCH-unknown-linux-gnu
NODE_PLATFORM=linux-$NODE_ARCH-gnu
GLIBC=2.17
# Which parts: all (default), or any of: python node c kotlin (the release workflow builds them one by one).
PARTS=" ${*:-python node c kotlin} "
part() { [[ "$PARTS" == *" $1 "* ]]; }
OUT="$PKG/$TRIPLE/release"
PY="${PYTHON:-python3}"
NPM="${NPM:-npm}"
CC="${CC:-cc}"

unset CARGO_BUILD_TARGET            # the root Makefile exports the host triple; these builds name theirs
export CARGO_TARGET_DIR="$PKG"
export CARGO_TERM_COLOR=never

declare -a TIMINGS=()
step() {
    local name="$1"; shift
    local t0=$SECONDS
    echo "==> $name"
    "$@"
    TIMINGS+=("$(printf '%-34s %4ds' "$name" $((SECONDS - t0)))")
}
die() { echo "package: $*" >&2; exit 1; }
size() { stat -c %s "$1"; }
human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }

# The newest GLIBC_x.y symbol version a binary needs; fails above $GLIBC.
glibc_max() {
    local f="$1" max
    max=$(objdump -T "$f" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
    [ -n "$max" ] || die "$f: no GLIBC symbol versions found (not a glibc binary?)"
    if [ "$(printf '%s\n%s\n' "$max" "$GLIBC" | sort -V | tail -1)" != "$GLIBC" ]; then
        objdump -T "$f" | grep "GLIBC_$max" >&2 || true
        die "$(basename "$f") needs GLIBC_$max, newer than $GLIBC"
    fi
    echo "$(basename "$f"): newest symbol version GLIBC_$max (<= $GLIBC)"
    GLIBC_REPORT+=("$(basename "$f"): GLIBC_$max")
}
declare -a GLIBC_REPORT=() SIZES=()

tools() {
    local stamp="$VENV/.installed"
    if [ ! -f "$stamp" ] || [ "$ROOT/packaging/requirements.txt" -nt "$stamp" ]; then
        "$PY" -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip
        "$VENV/bin/pip" install -q -r "$ROOT/packaging/requirements.txt"
        touch "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"   # zig (python -m ziglang), cargo-zigbuild, maturin, auditwheel
    rm -rf "$DIST" "$WORK"
    mkdir -p "$DIST" "$WORK"
}

lint_workflows() {
    actionlint -shellcheck= -pyflakes= .github/workflows/*.yml
    echo "actionlint: $(ls .github/workflows/*.yml | xargs -n1 basename | tr '\n' ' ')passed"
    # The linter must be able to fail: a job that needs a job which does not exist.
    mkdir -p "$WORK/lint/.github/workflows"
    printf 'on: push\njobs:\n  a:\n    needs: [missing]\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n' \
        > "$WORK/lint/.github/workflows/bad.yml"
    if (cd "$WORK/lint" && actionlint -shellcheck= -pyflakes= .github/workflows/bad.yml >/dev/null); then
        die "actionlint accepted a workflow with an unknown 'needs'"
    fi
    echo "actionlint rejects a broken workflow (negative control)"
}

# One cargo-zigbuild for the Node addon and the C library (shared dependencies).
build_native() {
    local crates=()
    if part node; then crates+=(-p parsec-teams-node); fi
    if part c; then crates+=(-p parsec-teams-c); fi
    if part kotlin; then crates+=(-p parsec-teams-kotlin); fi
    if [ ${#crates[@]} -gt 0 ]; then cargo zigbuild --release --target "$TRIPLE.$GLIBC" "${crates[@]}" --lib; fi
}

wheel() {
    (cd bindings-python && maturin build --release --strip --zig --compatibility manylinux2014 \
        --target "$TRIPLE" -o "$DIST")
    WHEEL=$(ls "$DIST"/parsec_teams-"$VERSION"-cp39-abi3-*.whl)
    auditwheel show "$WHEEL" | tee "$WORK/auditwheel.txt"
    grep -q "manylinux_2_17_$ARCH" "$WORK/auditwheel.txt" || die "auditwheel does not report manylinux_2_17_$ARCH"
    mkdir -p "$WORK/wheel"
    unzip -q -o "$WHEEL" -d "$WORK/wheel"
    glibc_max "$(ls "$WORK"/wheel/parsec_teams/_native*.so)"
    for f in py.typed _generated.pyi _native.pyi; do
        [ -f "$WORK/wheel/parsec_teams/$f" ] || die "the wheel has no parsec_teams/$f"
    done
    grep -q '^License-Expression: MIT OR Apache-2.0' "$WORK"/wheel/*.dist-info/METADATA || die "wheel METADATA has no license expression"
    ls "$WORK"/wheel/*.dist-info/licenses/LICENSE-APACHE >/dev/null || die "the wheel has no license files"
    "$PY" -m venv "$WORK/venv-wheel"
    "$WORK/venv-wheel/bin/pip" install -q --no-index "$WHEEL"
    (cd "$WORK" && "$WORK/venv-wheel/bin/python" "$ROOT/packaging/smoke.py" "$VERSION")
}

sdist() {
    (cd bindings-python && maturin sdist -o "$DIST")
    SDIST="$DIST/parsec_teams-$VERSION.tar.gz"
    local listing
    listing=$(tar tzf "$SDIST")    # (not piped into grep -q: pipefail would see tar's SIGPIPE)
    for member in core/Cargo.toml core/src/lib.rs mock/Cargo.toml bindings-python/Cargo.toml Cargo.lock; do
        grep -qx "parsec_teams-$VERSION/$member" <<<"$listing" || die "the sdist lacks $member"
    done
    # Exactly what a user without a matching wheel does: pip compiles it (maturin
    # from PyPI in an isolated build env, cargo from PATH). Its own target dir.
    "$PY" -m venv "$WORK/venv-sdist"
    CARGO_TARGET_DIR="$PKG/sdist" "$WORK/venv-sdist/bin/pip" install -q --no-binary parsec-teams "$SDIST"
    (cd "$WORK" && "$WORK/venv-sdist/bin/python" "$ROOT/packaging/smoke.py" "$VERSION")
}

npm_packages() {
    local addon="$WORK/parsec-teams.$NODE_PLATFORM.node"
    cp "$OUT/libparsec_teams_node.so" "$addon"
    local addon0
    addon0=$(size "$addon")
    strip --strip-unneeded "$addon"
    SIZES+=("$(printf '%-44s %10s -> %10s' "parsec-teams.$NODE_PLATFORM.node" "$(human "$addon0")" "$(human "$(size "$addon")")")")
    glibc_max "$addon"
    "$PY" packaging/npm_stage.py platform "$NODE_PLATFORM" "$addon" "$WORK/npm/$NODE_PLATFORM"
    "$PY" packaging/npm_stage.py main "$WORK/npm/main"
    (cd "$WORK/npm/$NODE_PLATFORM" && "$NPM" pack --silent --pack-destination "$DIST" >/dev/null)
    (cd "$WORK/npm/main" && "$NPM" pack --silent --pack-destination "$DIST" >/dev/null)
    local main="$DIST/parsec-teams-$VERSION.tgz" plat="$DIST/parsec-teams-$NODE_PLATFORM-$VERSION.tgz"
    [ -f "$main" ] && [ -f "$plat" ] || die "npm pack did not write $main and $plat"
    if grep -q '\.node$' <<<"$(tar tzf "$main")"; then die "the main npm package carries a binary"; fi
    grep -qx "package/parsec-teams.$NODE_PLATFORM.node" <<<"$(tar tzf "$plat")" || die "the platform package has no addon"

    # Installed together into an empty project, as users get them from the registry.
    local app="$WORK/npm-app"
    mkdir -p "$app"
    printf '{ "name": "app", "version": "1.0.0", "private": true }\n' > "$app/package.json"
    (cd "$app" && "$NPM" install --no-audit --no-fund --loglevel=error "$main" "$plat")
    cp packaging/smoke.cjs "$app/"
    (cd "$app" && node smoke.cjs "$VERSION" "$NODE_PLATFORM")
    # Where no platform package fits, the loader names the platform and the supported ones.
    local msg
    msg=$(cd "$app" && node -e "Object.defineProperty(process, 'platform', { value: 'aix' })
        try { require('parsec-teams'); console.log('loaded?!') } catch (e) { console.log(e.code + ': ' + e.message) }")
    echo "$msg"
    case "$msg" in
        ERR_PARSEC_TEAMS_UNSUPPORTED_PLATFORM*aix-$NODE_ARCH*linux-x64-gnu*darwin-arm64*win32-x64-msvc*) ;;
        *) die "unexpected loader error for an unsupported platform: $msg" ;;
    esac
    local other=arm64; [ "$NODE_ARCH" = x64 ] || other=x64
    msg=$(cd "$app" && node -e "Object.defineProperty(process, 'arch', { value: '$other' })
        try { require('parsec-teams'); console.log('loaded?!') } catch (e) { console.log(e.code + ': ' + e.message) }")
    echo "$msg"
    case "$msg" in
        ERR_PARSEC_TEAMS_ADDON_MISSING*parsec-teams-linux-$other-gnu*) ;;
        *) die "unexpected loader error for a missing platform package: $msg" ;;
    esac
}

c_library() {
    local lib="$WORK/c/lib" name="parsec_teams-$VERSION-linux-$ARCH-gnu"
    local so="$lib/libparsec_teams.so.$VERSION" a="$lib/libparsec_teams.a"
    mkdir -p "$lib"
    cp "$OUT/libparsec_teams_c.so" "$so"
    cp "$OUT/libparsec_teams_c.a" "$a"
    # Debug info goes to a file of its own, linked by .gnu_debuglink; both
    # libraries ship without it (the .a keeps its symbols: it is linked from).
    objcopy --only-keep-debug "$so" "$so.debug"
    local so0 a0
    so0=$(size "$so"); a0=$(size "$a")
    strip --strip-unneeded "$so"
    objcopy --add-gnu-debuglink="$so.debug" "$so"
    strip --strip-debug "$a"
    SIZES+=("$(printf '%-44s %10s -> %10s' "libparsec_teams.so.$VERSION" "$(human "$so0")" "$(human "$(size "$so")")")")
    SIZES+=("$(printf '%-44s %10s -> %10s' 'libparsec_teams.a' "$(human "$a0")" "$(human "$(size "$a")")")")
    SIZES+=("$(printf '%-44s %10s' "libparsec_teams.so.$VERSION.debug" "$(human "$(size "$so.debug")")")")

    glibc_max "$so"
    local soname
    soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
    [ "$soname" = "libparsec_teams.so.${VERSION%%.*}" ] || die "SONAME is '$soname'"
    echo "SONAME $soname"
    local exports others
    exports=$(nm -D --defined-only "$so" | awk '{print $3}')
    others=$(echo "$exports" | grep -v '^pt_' || true)
    [ -z "$others" ] || die "exported symbols other than pt_*: $(echo "$others" | head -5 | tr '\n' ' ')"
    echo "exports: $(echo "$exports" | wc -l) symbols, every one pt_*"

    # A staged install into DESTDIR, as a distribution package build does it.
    local dest="$WORK/c/destdir"
    make -s -C bindings-c install-files LIBDIR="$lib" PREFIX=/opt/parsec-teams DESTDIR="$dest" >/dev/null
    for f in lib/libparsec_teams.so.$VERSION lib/libparsec_teams.so.0 lib/libparsec_teams.so lib/libparsec_teams.a \
        include/parsec_teams.h lib/pkgconfig/parsec_teams.pc lib/cmake/parsec_teams/parsec_teamsConfig.cmake \
        lib/cmake/parsec_teams/parsec_teamsConfigVersion.cmake; do
        [ -e "$dest/opt/parsec-teams/$f" ] || die "staged install lacks $f"
    done
    grep -qx 'prefix=/opt/parsec-teams' "$dest/opt/parsec-teams/lib/pkgconfig/parsec_teams.pc" \
        || die "staged pkg-config file does not name PREFIX"
    echo "staged install (DESTDIR=$dest PREFIX=/opt/parsec-teams): complete"

    # The tarball: a relocatable prefix (pkg-config through ${pcfiledir}, CMake relative).
    local stage="$WORK/c/stage"
    make -s -C bindings-c install-files LIBDIR="$lib" PREFIX="/$name" DESTDIR="$stage" \
        PC_PREFIX='$${pcfiledir}/../..' >/dev/null
    cp LICENSE-MIT LICENSE-APACHE CHANGELOG.md "$stage/$name/"
    cp bindings-c/README.md "$stage/$name/README.md"
    tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$DIST/$name.tar.gz" "$name"
    mkdir -p "$stage-debug/$name-debug/lib"
    cp "$so.debug" "$stage-debug/$name-debug/lib/"
    tar -C "$stage-debug" --owner=0 --group=0 --numeric-owner -czf "$DIST/$name-debug.tar.gz" "$name-debug"

    # Unpacked elsewhere, compiled against through pkg-config: shared and static.
    local t="$WORK/c/unpacked"
    mkdir -p "$t"
    tar -C "$t" -xzf "$DIST/$name.tar.gz"
    export PKG_CONFIG_PATH="$t/$name/lib/pkgconfig"
    "$CC" -std=c99 -Wall -Wextra -Werror packaging/smoke.c -o "$WORK/c/smoke" \
        $(pkg-config --cflags --libs parsec_teams) -Wl,-rpath,"$(pkg-config --variable=libdir parsec_teams)"
    "$WORK/c/smoke"
    "$CC" -std=c99 -Wall -Wextra -Werror packaging/smoke.c -o "$WORK/c/smoke-static" \
        $(pkg-config --cflags parsec_teams) "$t/$name/lib/libparsec_teams.a" \
        $(pkg-config --static --libs-only-other --libs-only-l parsec_teams | sed 's/-lparsec_teams//')
    "$WORK/c/smoke-static"
    unset PKG_CONFIG_PATH
}

# The jar of `make -C bindings-kotlin build` (its classes; the dev build cache),
# its native library replaced by the zig build (glibc 2.17, stripped), with the
# licenses, the pom under META-INF/maven and a manifest naming the version.
kotlin_jar() {
    # (build/pom.xml is made again: its make rule does not depend on Cargo.toml's version)
    rm -f bindings-kotlin/build/pom.xml
    env -u CARGO_TARGET_DIR make -s -C bindings-kotlin build >/dev/null
    local k="$WORK/kotlin" name="parsec-teams-$VERSION"
    local jar="$DIST/$name.jar" pom="$DIST/$name.pom" so="linux-x86-64/libparsec_teams_kotlin.so"
    mkdir -p "$k/stage" "$k/sources/parsecteams/ffi"
    (cd "$k/stage" && unzip -q "$ROOT/bindings-kotlin/build/$name.jar" && rm -rf META-INF)
    cp "$OUT/libparsec_teams_kotlin.so" "$k/stage/$so"
    local so0
    so0=$(size "$k/stage/$so")
    strip --strip-unneeded "$k/stage/$so"
    SIZES+=("$(printf '%-44s %10s -> %10s' libparsec_teams_kotlin.so "$(human "$so0")" "$(human "$(size "$k/stage/$so")")")")
    glibc_max "$k/stage/$so"
    cp "$ROOT/bindings-kotlin/build/pom.xml" "$pom"
    "$PY" packaging/versions.py --pom "$pom"
    # The check must be able to fail: a pom one version off.
    sed "0,/<version>$VERSION</s//<version>$VERSION.1</" "$pom" > "$k/bad.pom"
    if "$PY" packaging/versions.py --pom "$k/bad.pom" 2>/dev/null; then die "versions.py accepted a pom at $VERSION.1"; fi
    echo "versions.py rejects a pom at $VERSION.1 (negative control)"
    mkdir -p "$k/stage/META-INF/maven/app.parsec/parsec-teams"
    cp "$pom" "$k/stage/META-INF/maven/app.parsec/parsec-teams/pom.xml"
    printf 'groupId=app.parsec\nartifactId=parsec-teams\nversion=%s\n' "$VERSION" \
        > "$k/stage/META-INF/maven/app.parsec/parsec-teams/pom.properties"
    cp LICENSE-MIT LICENSE-APACHE "$k/stage/META-INF/"
    printf 'Implementation-Title: parsec-teams\nImplementation-Version: %s\nAutomatic-Module-Name: parsecteams\n' \
        "$VERSION" > "$k/manifest"
    (cd "$k/stage" && jar --create --file "$jar" --manifest "$k/manifest" .)
    cp bindings-kotlin/kotlin/parsecteams/*.kt "$k/sources/parsecteams/"
    cp bindings-kotlin/build/gen/parsecteams/ffi/parsecteams.kt "$k/sources/parsecteams/ffi/"
    mkdir -p "$k/sources/META-INF" && cp LICENSE-MIT LICENSE-APACHE "$k/sources/META-INF/"
    (cd "$k/sources" && jar --create --file "$DIST/$name-sources.jar" .)
    local listing
    listing=$(unzip -Z1 "$jar")
    for member in "$so" parsecteams/Client.class parsecteams/ffi/NativeClient.class \
        META-INF/maven/app.parsec/parsec-teams/pom.xml META-INF/LICENSE-APACHE; do
        grep -qx "$member" <<<"$listing" || die "the jar lacks $member"
    done
    [ "$(grep -c '\.so$' <<<"$listing")" = 1 ] || die "the jar carries another native library: $(grep '\.so$' <<<"$listing" | tr '\n' ' ')"

    # As a user gets it: the class path is the dist jar and exactly the
    # versions its pom declares, each from the first of: Debian's
    # /usr/share/java/ARTIFACT-VERSION.jar, the kotlin-stdlib of kotlinc when its
    # manifest names that version, the local Maven repository (~/.m2), Maven
    # Central through `mvn dependency:get` when mvn is there (GitHub runners).
    local cp="$jar" g a v f m2
    "$PY" -c 'import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
for d in ET.parse(sys.argv[1]).getroot().findall("m:dependencies/m:dependency", ns):
    print(*(d.findtext(f"m:{t}", namespaces=ns) for t in ("groupId", "artifactId", "version")))' "$pom" > "$k/deps.txt"
    [ -s "$k/deps.txt" ] || die "the pom declares no dependencies"
    while read -r g a v; do
        m2="$HOME/.m2/repository/${g//.//}/$a/$v/$a-$v.jar"
        f="/usr/share/java/$a-$v.jar"
        if [ ! -f "$f" ] && [ "$a" = kotlin-stdlib ]; then
            f="$ROOT/bindings-kotlin/tools/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar"
            unzip -p "$f" META-INF/MANIFEST.MF | grep -q "^Implementation-Version: $v-" || f=
        fi
        if [ ! -f "$f" ]; then
            if [ ! -f "$m2" ] && command -v mvn >/dev/null; then
                mvn -q -B dependency:get -Dartifact="$g:$a:$v" -Dtransitive=false </dev/null >&2
            fi
            f="$m2"
        fi
        [ -f "$f" ] || die "no jar for the pom's dependency $g:$a:$v (not in /usr/share/java, ~/.m2, and no mvn)"
        cp="$cp:$f"
        echo "dependency $g:$a:$v -> $f"
    done < "$k/deps.txt"
    mkdir -p "$k/smoke" "$k/tmp"
    javac -d "$k/smoke" -cp "$cp" packaging/smoke.java
    (cd "$k" && env -i PATH="$PATH" HOME="$k" java -Djna.tmpdir="$k/tmp" -cp "$k/smoke:$cp" Smoke \
        "$VERSION" "$jar" "$k/tmp" "$ROOT")
}

checksums() {
    (cd "$DIST" && sha256sum -- * > SHA256SUMS)
}

T0=$SECONDS
step "tools (.venv-package)" tools
VERSION=$("$PY" packaging/versions.py --print)
step "check-versions" "$PY" packaging/versions.py
step "actionlint" lint_workflows
step "zig build: node, C, Kotlin libraries" build_native
if part python; then
    step "python wheel (maturin --zig)" wheel
    step "python sdist + install from source" sdist
fi
if part node; then step "npm packages + install + smoke" npm_packages; fi
if part c; then step "C tarball + install + smoke" c_library; fi
if part kotlin; then step "Kotlin jar + pom + smoke" kotlin_jar; fi
step "SHA256SUMS" checksums

echo
echo "== sizes (as built -> stripped)"
printf '%s\n' "${SIZES[@]}"
echo "== glibc: newest symbol version needed"
printf '%s\n' "${GLIBC_REPORT[@]}"
if part python; then
    echo "== auditwheel"
    sed -n '1,6p' "$WORK/auditwheel.txt"
fi
echo "== dist/"
(cd "$DIST" && ls -l --block-size=1 -- * | awk '{printf "%12s  %s\n", $5, $9}')
echo "== timings"
printf '%s\n' "${TIMINGS[@]}"
printf '%-34s %4ds\n' "total" $((SECONDS - T0))
