"""What bench/train.py and bench/tts.py share: each measurement runs in its own child
process (``script --child SPEC``, the spec as JSON, the result printed as one ``RESULT``
line), and a measurement steps the training Engine through its own sampler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import torch

from backend.train.engine import Engine

ROOT = Path(__file__).resolve().parents[1]


def batches(engine: Engine, count: int) -> Iterator[list[int]]:
    """``count`` batches of sample indices from the engine's sampler, across epochs."""
    assert engine.sampler is not None
    while count > 0:
        for indices in engine.sampler.batches():
            yield indices
            count -= 1
            if count == 0:
                return
        engine.sampler.next_epoch()


def sync(device: torch.device) -> None:
    """Wait for the GPU, so that a clock read after it is the work's real end."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def report(result: dict) -> None:
    """The child's answer to run_child."""
    print("RESULT " + json.dumps(result))


def run_child(script: str, spec: dict) -> dict:
    """Run one measurement of ``script`` in a fresh process (its own threads and peak
    memory); a CPU row gets ``spec['threads']`` OpenMP threads."""
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    if spec["device"] == "cpu":
        env["OMP_NUM_THREADS"] = str(spec["threads"])
    proc = subprocess.run([sys.executable, script, "--child", json.dumps(spec)], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise SystemExit(f"measurement {spec} failed:\n{proc.stderr[-3000:]}")
