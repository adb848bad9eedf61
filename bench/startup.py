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
import tempfile
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


def _time_window(py: str, settings: str) -> float:
    """Seconds from starting ``python -m desktop`` to its 'window shown' line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([py, "-m", "desktop", "--exit-after-show", "--settings", settings],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("window shown"):
            elapsed = time.perf_counter() - t0
            break
    else:
        raise RuntimeError("the desktop never reported its window")
    proc.wait(timeout=30)
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
    shown = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = str(Path(tmp) / "bench settings.ini")
        for _ in range(ns.runs):
            shown.append(_time_window(py, settings))
    med = statistics.median(shown)
    rows.append(("main window shown (new process)", med, med / base, "<= 2.0 s"))
    print(f"{'what':34} {'seconds':>8} {'x baseline':>11} {'target':>9}")
    for name, sec, ratio, target in rows:
        print(f"{name:34} {sec:8.3f} {ratio:11.1f} {target:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
