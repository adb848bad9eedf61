"""Startup latency: backend ``hello`` and the main window, against a bare Python baseline.

Targets (issue 2): hello within 1 s of start, main window shown within 2 s.
Run: .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time_first_line(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t0
    if not line:
        raise RuntimeError(f"{cmd} printed nothing")
    proc.kill()
    proc.wait()
    return elapsed


def _median(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(fn() for _ in range(runs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ns = ap.parse_args()
    py = sys.executable
    rows = []
    base = _median(lambda: _time_first_line([py, "-c", "print('hi', flush=True)"]), ns.runs)
    rows.append(("python -c print (baseline)", base, 1.0, "-"))
    hello = _median(lambda: _time_first_line([py, "-m", "backend", "serve"]), ns.runs)
    rows.append(("backend hello", hello, hello / base, "<= 1.0 s"))
    window_script = ("import time, sys; t=time.perf_counter(); "
                     "from desktop.__main__ import time_to_window; "
                     "print(time_to_window(), flush=True)")
    shown = []
    for _ in range(ns.runs):
        out = subprocess.run([py, "-c", window_script], cwd=ROOT, capture_output=True,
                             text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                             timeout=60)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            break
        shown.append(float(out.stdout.strip().splitlines()[-1]))
    if shown:
        med = statistics.median(shown)
        rows.append(("main window shown (in-process)", med, med / base, "<= 2.0 s"))
    print(f"{'what':34} {'seconds':>8} {'x baseline':>11} {'target':>9}")
    for name, sec, ratio, target in rows:
        print(f"{name:34} {sec:8.3f} {ratio:11.1f} {target:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
