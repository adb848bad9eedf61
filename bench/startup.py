"""Startup latency: backend ``hello`` and the main window, against a bare Python baseline.

Targets (issue 2): hello within 1 s of start, main window shown within 2 s.
Run: .venv/bin/python bench/startup.py [--runs 5] [--bundle dist/TimbreStudio]
``--bundle`` adds the same two rows for the frozen app (``TimbreStudio backend serve`` and
``TimbreStudio --exit-after-show``), so source and bundle are compared in one run.
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


def _time_window(cmd: list[str], settings: str) -> float:
    """Seconds from starting the window (``cmd``) to its 'window shown' line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([*cmd, "--exit-after-show", "--settings", settings],
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
    ap.add_argument("--bundle", type=Path, help="a built bundle folder (dist/TimbreStudio)")
    ns = ap.parse_args()
    py = sys.executable
    rows = []
    base = _median(lambda: _time_first_line([py, "-c", "print('hi', flush=True)"]), ns.runs)
    rows.append(("python -c print (baseline)", base, 1.0, "-"))
    apps = [("", [py, "-m", "backend"], [py, "-m", "desktop"])]
    if ns.bundle:
        exe = str(ns.bundle.resolve() / ("TimbreStudio.exe" if os.name == "nt" else "TimbreStudio"))
        apps.append(("bundle: ", [exe, "backend"], [exe]))
    for label, backend, window in apps:
        hello = _median(lambda b=backend: _time_first_line([*b, "serve"]), ns.runs)
        rows.append((f"{label}backend hello", hello, hello / base, "<= 1.0 s"))
        with tempfile.TemporaryDirectory() as tmp:
            settings = str(Path(tmp) / "bench settings ü.ini")
            med = _median(lambda w=window, s=settings: _time_window(w, s), ns.runs)
        rows.append((f"{label}main window shown (new process)", med, med / base, "<= 2.0 s"))
    print(f"{'what':42} {'seconds':>8} {'x baseline':>11} {'target':>9}")
    for name, sec, ratio, target in rows:
        print(f"{name:42} {sec:8.3f} {ratio:11.1f} {target:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
