"""Pause, continue and stop a CLI training run (SIGUSR1, SIGUSR2, Ctrl-C)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.train import checkpoint as ck
from tests.train.feature_project import make_feature_project

ROOT = Path(__file__).resolve().parents[2]


def _steps(metrics: Path) -> int:
    return sum(1 for _ in metrics.open()) if metrics.exists() else 0


def _wait(pred, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals")
def test_pause_continue_then_stop_with_a_checkpoint(tmp_path: Path) -> None:
    project = make_feature_project(tmp_path / "proj", clips=4)
    run = project / "train" / "main"
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "train", "--project", str(project), "--size", "tiny",
         "--epochs", "200", "--batch-size", "1", "--save-every", "1000", "--device", "cpu",
         "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        metrics = run / "metrics.jsonl"
        _wait(lambda: _steps(metrics) >= 2)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(2.0)  # the step in flight when pause arrived may still finish
        paused_at = _steps(metrics)
        time.sleep(1.5)
        assert _steps(metrics) == paused_at, "training went on while paused"
        proc.send_signal(signal.SIGUSR2)
        _wait(lambda: _steps(metrics) >= paused_at + 2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "cancelled" and summary["result"]["stopped"] is True
    assert "paused" in err and "continuing" in err
    last_step = json.loads(metrics.read_text().splitlines()[-1])["step"]
    assert ck.list_checkpoints(run)[-1].name == f"ckpt_{last_step:09d}.pt"
