#!/usr/bin/env python3
"""Stages the npm packages for `npm pack` (what `napi pre-publish` does, offline).

    npm_stage.py main OUT             the main package: the files of package.json's
                                      `files` but no addon, and optionalDependencies
                                      on one package per napi target, at its version
    npm_stage.py platform NAME ADDON OUT
                                      bindings-node/npm/NAME with ADDON as its binary

Both get the license files. The repository's package.json has no
optionalDependencies: in development the addon is the file beside native.js.
"""

import glob
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "bindings-node"
LICENSES = ["LICENSE-MIT", "LICENSE-APACHE"]


def platform_of(triple: str) -> str:
    """Same naming as native.js's platformOfTriple."""
    parts = triple.split("-")
    cpu = {"x86_64": "x64", "aarch64": "arm64", "i686": "ia32", "armv7": "arm"}.get(parts[0], parts[0])
    if "-linux-" in triple:
        return f"linux-{cpu}-{parts[-1]}"
    if "-darwin" in triple:
        return f"darwin-{cpu}"
    if "-windows-" in triple:
        return f"win32-{cpu}-{parts[-1]}"
    return f"{parts[2]}-{cpu}"


def fresh(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)


def stage_main(out: Path) -> None:
    meta = json.loads((NODE / "package.json").read_text())
    fresh(out)
    for pattern in meta["files"]:
        for f in glob.glob(str(NODE / pattern)):
            if f.endswith(".node"):
                continue  # the addons live in the platform packages
            shutil.copy2(f, out)
    meta["files"] = [p for p in meta["files"] if not p.endswith(".node")]
    meta["optionalDependencies"] = {
        f"parsec-teams-{platform_of(t)}": meta["version"] for t in meta["napi"]["targets"]
    }
    for p in meta["optionalDependencies"]:
        if not (NODE / "npm" / p.removeprefix("parsec-teams-") / "package.json").exists():
            sys.exit(f"napi target {p} has no bindings-node/npm/ directory")
    (out / "package.json").write_text(json.dumps(meta, indent=2) + "\n")


def stage_platform(name: str, addon: Path, out: Path) -> None:
    src = NODE / "npm" / name
    meta = json.loads((src / "package.json").read_text())
    fresh(out)
    shutil.copy2(src / "package.json", out)
    shutil.copy2(src / "README.md", out)
    shutil.copy2(addon, out / meta["main"])


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["main"] and len(args) == 2:
        out = Path(args[1])
        stage_main(out)
    elif args[:1] == ["platform"] and len(args) == 4:
        out = Path(args[3])
        stage_platform(args[1], Path(args[2]), out)
    else:
        sys.exit(__doc__)
    for lic in LICENSES:
        shutil.copy2(ROOT / lic, out)


if __name__ == "__main__":
    main()
