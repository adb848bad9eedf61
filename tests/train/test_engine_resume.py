"""Exact resume: a killed and resumed run ends with the same weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from backend.train import checkpoint as ck
from tests.train.toy_task import train

TOY = Path(__file__).with_name("toy_task.py")


def _weights(task) -> dict[str, torch.Tensor]:  # type: ignore[no-untyped-def]
    return {k: v.clone() for k, v in task.model.state_dict().items()}


def test_sigkill_then_resume_matches_uninterrupted(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    _, ref_task = train(tmp_path / "reference run", epochs=6, batch=8)
    run = tmp_path / "killed run – ünïcode"
    proc = subprocess.Popen([sys.executable, str(TOY), str(run), "6", "8", "0.02"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(ck.list_checkpoints(run)) < 2:
        time.sleep(0.02)
    time.sleep(0.05)  # die somewhere inside the next epoch
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ckpts = ck.list_checkpoints(run)
    assert len(ckpts) >= 2 and ckpts[-1].name != "ckpt_000000072.pt", "killed too late"
    engine, task = train(run, epochs=6, batch=8)
    assert engine.resumed_from is not None
    for name, ref in _weights(ref_task).items():
        torch.testing.assert_close(task.model.state_dict()[name], ref, rtol=0, atol=1e-6)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").open()]
    assert steps == list(range(1, 73)), "metrics must be continuous, without repeats"


def test_truncated_newest_checkpoint_falls_back(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    train(run, epochs=2, batch=8)
    newest = ck.list_checkpoints(run)[-1]
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])
    logs: list[tuple[str, str]] = []
    from backend.train.engine import TrainHooks

    engine, _ = train(run, epochs=3, batch=8,
                      hooks=TrainHooks(on_log=lambda m, lvl: logs.append((lvl, m))))
    assert engine.resumed_from is not None and engine.resumed_from != newest
    assert any(lvl == "warning" and newest.name in m and "damaged" in m for lvl, m in logs)
    assert engine.step == 36


def test_batch_size_change_keeps_counts_continuous(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    engine, _ = train(run, epochs=1, batch=8)
    assert (engine.step, engine.samples) == (12, 96)
    engine, _ = train(run, epochs=2, batch=32)
    assert (engine.step, engine.samples) == (15, 192)
    records = [json.loads(line) for line in (run / "metrics.jsonl").open()]
    assert [r["samples"] for r in records][-4:] == [96, 128, 160, 192]
    assert [r["step"] for r in records] == list(range(1, 16))


def test_checkpoint_holds_everything_needed(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    train(run, epochs=1, batch=8)
    state = torch.load(ck.list_checkpoints(run)[-1], weights_only=True)
    assert {"task", "scaler", "step", "epoch", "samples", "sampler", "rng", "config"} <= set(state)
    assert {"model", "opt", "sched"} <= set(state["task"])
    assert state["sampler"] == {"epoch": 1, "position": 0, "seed": 1234}
    assert state["config"]["batch_size"] == 8


def test_keep_last_prunes_old_checkpoints(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    train(run, epochs=4, batch=8)
    assert [p.name for p in ck.list_checkpoints(run)] == ["ckpt_000000036.pt",
                                                          "ckpt_000000048.pt"]
    assert not list(run.glob(".*.tmp"))
