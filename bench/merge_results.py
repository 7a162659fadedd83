#!/usr/bin/env python3
"""Gathers each language's benchmark results (bench/<lang>/RESULTS.md, written
by `make -C bindings-<lang> bench`) into bench/RESULTS.md, each between its own
markers, after the Rust core's section (written by bench/run.sh); then the
old-vs-new comparison (bench/compare/RESULTS.md, written by bench/compare.sh)."""

import pathlib
import re

BENCH = pathlib.Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
LANGS = ["python", "node", "c", "kotlin", "compare"]


def main() -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    for lang in LANGS:
        source = BENCH / lang / "RESULTS.md"
        if not source.exists():
            continue
        body = source.read_text().strip()
        # Each language file starts with its own "## ..." heading.
        block = f"<!-- lang:{lang} -->\n{body}\n<!-- /lang:{lang} -->"
        pattern = re.compile(rf"<!-- lang:{lang} -->.*?<!-- /lang:{lang} -->", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _: block, text)
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
    print(f"merged {', '.join(l for l in LANGS if (BENCH / l / 'RESULTS.md').exists())} into {RESULTS}")


if __name__ == "__main__":
    main()
