#!/usr/bin/env python3
"""Summarises a JFR recording of `make profile`: the methods on top of the CPU
samples (self) and the methods on the sampled stacks (inclusive), in % of the
samples of Java threads (jdk.ExecutionSample) and of threads in native code
(jdk.NativeMethodSample: the SDK's JNA calls while they block or run Rust).

    python3 profile.py build/profile.jfr [TOP]
"""
import collections
import re
import subprocess
import sys

FRAME = re.compile(r"^\s+([\w$.<>]+)\(")


def stacks(path: str, event: str):
    out = subprocess.run(["jfr", "print", "--stack-depth", "64", "--events", event, path], capture_output=True, text=True, check=True).stdout
    stack = None
    for line in out.splitlines():
        if line.startswith(event):
            stack = []
        elif stack is not None and "stackTrace = [" in line:
            continue
        elif stack is not None and line.strip() in ("]", "..."):
            if line.strip() == "]":
                yield stack
                stack = None
        elif stack is not None:
            m = FRAME.match(line)
            if m:
                stack.append(m.group(1))


def main() -> None:
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    for event in ("jdk.ExecutionSample", "jdk.NativeMethodSample"):
        self_count = collections.Counter()
        incl = collections.Counter()
        n = 0
        for st in stacks(path, event):
            if not st:
                continue
            n += 1
            self_count[st[0]] += 1
            for f in set(st):
                incl[f] += 1
        print(f"\n{event}: {n} samples")
        if not n:
            continue
        print("  self:")
        for f, c in self_count.most_common(top):
            print(f"    {100 * c / n:5.1f}%  {f}")
        print("  inclusive:")
        for f, c in incl.most_common(top):
            print(f"    {100 * c / n:5.1f}%  {f}")


if __name__ == "__main__":
    main()
