#!/usr/bin/env python3
"""One version for every package: the workspace's Cargo.toml is the source.

    python3 packaging/versions.py          check (the `check-versions` step of `make test`)
    python3 packaging/versions.py --sync   write the workspace version everywhere it is copied
    python3 packaging/versions.py --print  print it
    python3 packaging/versions.py --pom F  check a built Maven pom (dist/parsec-teams-V.pom)

The version is `[workspace.package] version` in Cargo.toml. Read from there
without a copy: every crate (`version.workspace = true`), so the core's
`parsec_teams::VERSION` (CARGO_PKG_VERSION: the User-Agent, `pt_version()`,
Python's `__version__`, Node's `version()`), and the Python wheel and sdist
(maturin reads Cargo; pyproject.toml declares the version dynamic). Copied,
so checked here: the workspace's path dependencies, the npm packages (main,
lock file, one per platform), the C header's PT_VERSION macros (and
cbindgen.toml, which generates them) and the license copies of the packages.
The Kotlin/JVM pom (bindings-kotlin/pom.xml) carries `@VERSION@`, which
bindings-kotlin/Makefile replaces with the workspace version (read from
Cargo.toml); a literal version there must be the workspace's.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?$")


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    section = re.search(r"^\[workspace\.package\]\n(.*?)(?=^\[)", text, re.S | re.M)
    if not section:
        sys.exit("Cargo.toml has no [workspace.package] section")
    m = re.search(r'^version\s*=\s*"([^"]+)"', section.group(1), re.M)
    if not m or not SEMVER.match(m.group(1)):
        sys.exit("Cargo.toml: [workspace.package] version is missing or not SemVer")
    return m.group(1)


class Checker:
    def __init__(self, version: str, sync: bool) -> None:
        self.version = version
        self.sync = sync
        self.problems: list[str] = []

    def fail(self, msg: str) -> None:
        self.problems.append(msg)

    def text(self, path: Path, pattern: str, want: str, what: str) -> None:
        """Every match of `pattern` (group 1 is the version) must be `want`."""
        rel = path.relative_to(ROOT)
        text = path.read_text()
        found = list(re.finditer(pattern, text, re.M))
        if not found:
            self.fail(f"{rel}: no {what} found")
            return
        bad = [m for m in found if m.group(1) != want]
        if not bad:
            return
        if self.sync:
            for m in reversed(bad):
                text = text[: m.start(1)] + want + text[m.end(1) :]
            path.write_text(text)
            print(f"synced {rel} ({what}) to {want}")
        else:
            self.fail(f"{rel}: {what} is {bad[0].group(1)}, the workspace's is {want}")

    def json_field(self, path: Path, keys: list[list[str]]) -> None:
        rel = path.relative_to(ROOT)
        data = json.loads(path.read_text())
        changed = False
        for key in keys:
            node = data
            for k in key[:-1]:
                node = node[k]
            have = node.get(key[-1])
            if have != self.version:
                if self.sync:
                    node[key[-1]] = self.version
                    changed = True
                else:
                    where = ".".join(repr(k) if not k else k for k in key)
                    self.fail(f"{rel}: {where} is {have}, the workspace's is {self.version}")
        if changed:
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            print(f"synced {rel} to {self.version}")


POM_NS = "{http://maven.apache.org/POM/4.0.0}"


def pom_version(path: Path) -> str | None:
    """The project's own <version> (not a dependency's, not the parent's)."""
    import xml.etree.ElementTree as ET

    return ET.parse(path).getroot().findtext(f"{POM_NS}version")


def check_pom(path: Path, version: str) -> int:
    import xml.etree.ElementTree as ET

    have = pom_version(path)
    root = ET.parse(path).getroot()
    coords = (root.findtext(f"{POM_NS}groupId"), root.findtext(f"{POM_NS}artifactId"))
    if have != version or coords != ("app.parsec", "parsec-teams"):
        print(f"check-versions: {path}: {coords[0]}:{coords[1]}:{have}, want app.parsec:parsec-teams:{version}",
              file=sys.stderr)
        return 1
    print(f"check-versions: {path.name} is app.parsec:parsec-teams:{version}")
    return 0


def main() -> int:
    args = sys.argv[1:]
    version = workspace_version()
    if args == ["--print"]:
        print(version)
        return 0
    if len(args) == 2 and args[0] == "--pom":
        return check_pom(Path(args[1]), version)
    sync = args == ["--sync"]
    if args and not sync:
        sys.exit(__doc__)
    c = Checker(version, sync)
    major, minor, patch = SEMVER.match(version).groups()  # type: ignore[union-attr]

    # Rust: every member inherits the workspace version; path deps name it.
    members = re.search(r"members\s*=\s*\[(.*?)\]", (ROOT / "Cargo.toml").read_text(), re.S)
    for member in re.findall(r'"([^"]+)"', members.group(1) if members else ""):
        manifest = ROOT / member / "Cargo.toml"
        if not re.search(r"^version\.workspace\s*=\s*true", manifest.read_text(), re.M):
            c.fail(f"{member}/Cargo.toml: version must be `version.workspace = true`")
    c.text(ROOT / "Cargo.toml", r'^parsec-teams(?:-mock)?\s*=\s*\{[^}\n]*version\s*=\s*"([^"]+)"', version,
           "path dependency version")
    core_client = ROOT / "core" / "src" / "client.rs"
    if 'env!("CARGO_PKG_VERSION")' not in core_client.read_text():
        c.fail("core/src/client.rs: VERSION (the User-Agent's) must be env!(\"CARGO_PKG_VERSION\")")

    # Python: maturin takes the version from Cargo.
    pyproject = (ROOT / "bindings-python" / "pyproject.toml").read_text()
    if not re.search(r'^dynamic\s*=\s*\[[^\]]*"version"', pyproject, re.M) or re.search(r"^version\s*=", pyproject, re.M):
        c.fail("bindings-python/pyproject.toml: the version must be dynamic (read from Cargo by maturin)")

    # Node: the main package, its lock file and every platform package.
    node = ROOT / "bindings-node"
    c.json_field(node / "package.json", [["version"]])
    c.json_field(node / "package-lock.json", [["version"], ["packages", "", "version"]])
    targets = json.loads((node / "package.json").read_text())["napi"]["targets"]
    dirs = sorted(p.name for p in (node / "npm").iterdir() if (p / "package.json").exists())
    for d in dirs:
        c.json_field(node / "npm" / d / "package.json", [["version"]])
    if len(dirs) != len(targets):
        c.fail(f"bindings-node/npm/ has {len(dirs)} platform packages, napi.targets lists {len(targets)}")
    for d in dirs:
        meta = json.loads((node / "npm" / d / "package.json").read_text())
        if meta.get("name") != f"parsec-teams-{d}" or meta.get("main") != f"parsec-teams.{d}.node":
            c.fail(f"bindings-node/npm/{d}/package.json: name/main do not match the directory")

    # C: the header's macros and the cbindgen configuration that writes them.
    for path in (ROOT / "bindings-c" / "include" / "parsec_teams.h", ROOT / "bindings-c" / "cbindgen.toml"):
        c.text(path, r'^#define PT_VERSION "([^"]+)"', version, "PT_VERSION")
        c.text(path, r"^#define PT_VERSION_MAJOR (\d+)", major, "PT_VERSION_MAJOR")
        c.text(path, r"^#define PT_VERSION_MINOR (\d+)", minor, "PT_VERSION_MINOR")
        c.text(path, r"^#define PT_VERSION_PATCH (\d+)", patch, "PT_VERSION_PATCH")

    # Kotlin/JVM: the pom's version is the Makefile's substitution of @VERSION@
    # (the Makefile reads it from Cargo.toml's first `version = `, the workspace's).
    kotlin = ROOT / "bindings-kotlin"
    have = pom_version(kotlin / "pom.xml")
    if have != "@VERSION@" and have != version:
        if sync:
            c.text(kotlin / "pom.xml", r"^  <version>([^<]+)</version>", version, "project version")
        else:
            c.fail(f"bindings-kotlin/pom.xml: version is {have}, want @VERSION@ (or {version})")
    makefile = (kotlin / "Makefile").read_text()
    if not re.search(r"^VERSION := .*Cargo\.toml", makefile, re.M) or "s/@VERSION@/$(VERSION)/" not in makefile:
        c.fail("bindings-kotlin/Makefile: VERSION must be read from Cargo.toml and put into pom.xml's @VERSION@")

    # The packages carry copies of the root license files.
    for name in ("LICENSE-MIT", "LICENSE-APACHE"):
        original = (ROOT / name).read_bytes()
        for pkg in ("bindings-python", "bindings-node"):
            copy = ROOT / pkg / name
            if not copy.exists() or copy.read_bytes() != original:
                if sync:
                    copy.write_bytes(original)
                    print(f"synced {pkg}/{name}")
                else:
                    c.fail(f"{pkg}/{name} differs from /{name}")

    if c.problems:
        for p in c.problems:
            print(f"check-versions: {p}", file=sys.stderr)
        print("check-versions: run `python3 packaging/versions.py --sync` after changing the version in Cargo.toml",
              file=sys.stderr)
        return 1
    print(f"check-versions: every package is at {version}" + (" (synced)" if sync else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
