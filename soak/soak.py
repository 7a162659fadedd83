#!/usr/bin/env python3
"""The soak: the release mock binary and a Python, a Node and a C client
making steady calls against it for SOAK_SECONDS, the resident memory (VmRSS)
of each of the four processes sampled every few seconds into a CSV, then a
summary. Fails when a client failed or met an unexpected error, or when a
process's memory grew after warm-up beyond the threshold.

Memory "after warm-up" is the mean of the first three samples taken once the
warm-up is over; "end" the mean of the last three. Growth = end - after
warm-up; the threshold is 4 MiB + 10 % of the after-warm-up RSS. The slope
is the least-squares fit over the samples after warm-up, in KiB per minute.
The mock's request log (bounded, but large) is cleared at every sample so
that its memory reflects the server, not the log's fill level.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROWTH_FIXED_KIB = 4 * 1024
GROWTH_FRACTION = 0.10


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def slope_kib_per_min(points):
    if len(points) < 2:
        return 0.0
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mr = sum(r for _, r in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return 60 * sum((t - mt) * (r - mr) for t, r in points) / var if var else 0.0


def mean(xs):
    return sum(xs) / len(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mock", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--c-client", required=True)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--interval", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=None, help="default: 60 s, or a fifth of a shorter soak")
    ap.add_argument("--pause-ms", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "soak", "out"))
    a = ap.parse_args()
    warmup = a.warmup if a.warmup is not None else min(60.0, a.seconds / 5)
    os.makedirs(a.out, exist_ok=True)

    mock = subprocess.Popen([a.mock, "--host", "127.0.0.1", "--port", "0"], stdout=subprocess.PIPE, text=True)
    info = json.loads(mock.stdout.readline())
    args = [info["base_url"], info["api_key"], info["team_id"], str(a.seconds), str(a.pause_ms)]
    clients = {
        "python": [a.python, os.path.join(ROOT, "soak", "client.py")],
        "node": [a.node, os.path.join(ROOT, "soak", "client.mjs")],
        "c": [a.c_client],
    }
    procs = {"mock": mock}
    for name, cmd in clients.items():
        procs[name] = subprocess.Popen(cmd + args, stdout=subprocess.PIPE, text=True)

    time.sleep(1)  # the first sample after the processes have started
    samples = {name: [] for name in procs}
    csv_path = os.path.join(a.out, "rss.csv")
    started = time.monotonic()
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seconds", "process", "pid", "rss_kib"])
        while any(procs[n].poll() is None for n in clients):
            t = time.monotonic() - started
            for name, p in procs.items():
                r = rss_kib(p.pid) if p.poll() is None else None
                if r is not None:
                    samples[name].append((t, r))
                    w.writerow([f"{t:.1f}", name, p.pid, r])
            f.flush()
            try:
                req = urllib.request.Request(info["base_url"] + "/_mock/requests", method="DELETE")
                req.add_header("Authorization", "Bearer " + info["admin_token"])
                urllib.request.urlopen(req, timeout=5).read()
            except OSError as e:
                print(f"soak: could not clear the mock's request log: {e}", file=sys.stderr)
            if t > a.seconds + 120:
                print("soak: clients did not stop at their deadline", file=sys.stderr)
                for n in clients:
                    procs[n].kill()
                break
            time.sleep(a.interval)

    failed = []
    counts = {}
    for name in clients:
        out, _ = procs[name].communicate()
        line = (out.strip().splitlines() or ["{}"])[-1]
        try:
            counts[name] = json.loads(line)
        except ValueError:
            counts[name] = {}
        if procs[name].returncode != 0:
            failed.append(f"{name} client exited with {procs[name].returncode}")
    mock.terminate()
    mock.wait(timeout=10)

    rows = []
    for name, pts in samples.items():
        after = [p for p in pts if p[0] >= warmup]
        if len(after) < 6:
            failed.append(f"{name}: too few samples after warm-up ({len(after)})")
            continue
        start, warm = pts[0][1], mean([r for _, r in after[:3]])
        end, peak = mean([r for _, r in after[-3:]]), max(r for _, r in pts)
        growth = end - warm
        limit = GROWTH_FIXED_KIB + GROWTH_FRACTION * warm
        slope = slope_kib_per_min(after)
        ok = growth <= limit
        if not ok:
            failed.append(f"{name}: RSS grew {growth / 1024:.1f} MiB after warm-up (limit {limit / 1024:.1f} MiB)")
        calls = counts.get(name, {}).get("calls", "")
        rows.append((name, start, warm, peak, end, growth, slope, limit, calls, ok))

    lines = [
        f"soak: {a.seconds:.0f} s, sample every {a.interval:.0f} s, warm-up {warmup:.0f} s, pause {a.pause_ms} ms per round; {csv_path}",
        "",
        "| process | calls | start MiB | after warm-up MiB | max MiB | end MiB | growth MiB | slope KiB/min | limit MiB | ok |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, start, warm, peak, end, growth, slope, limit, calls, ok in rows:
        lines.append(
            f"| {name} | {calls} | {start / 1024:.1f} | {warm / 1024:.1f} | {peak / 1024:.1f} | {end / 1024:.1f} | "
            f"{growth / 1024:+.2f} | {slope:+.1f} | {limit / 1024:.1f} | {'yes' if ok else 'NO'} |"
        )
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    for msg in failed:
        print("soak FAILED: " + msg, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
