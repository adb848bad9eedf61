"""Failures while training keep what the user had: a full disk names the file and the
checkpoint that is kept; a damaged checkpoint is set aside, never overwritten, and the
metrics history never holds a step twice."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from backend.kernel import JobError
from backend.train import checkpoint as ck
from backend.train.checkpoint import WriteFailed
from backend.train.engine import TrainHooks
from tests.train.feature_project import make_feature_project, train_in_process
from tests.train.toy_task import train

ROOT = Path(__file__).resolve().parents[2]
FULL = OSError(errno.ENOSPC, "No space left on device")


def _steps(run: Path, name: str = "metrics.jsonl") -> list[int]:
    return [json.loads(line)["step"] for line in (run / name).open(encoding="utf-8")]


def _damage(path: Path) -> bytes:
    data = path.read_bytes()[:1000]
    path.write_bytes(data)
    return data


# full disk ------------------------------------------------------------------------------
def test_a_checkpoint_that_does_not_fit_keeps_the_last_good_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run ü"
    train(run, epochs=1, batch=8)  # ckpt_000000012.pt
    real_save = torch.save

    def full(obj: Any, fh: Any, *a: Any, **k: Any) -> None:  # as torch.save fails
        fh.write(b"the first bytes fit")
        try:
            raise FULL
        finally:  # its zip writer's end-of-file check, while the OSError propagates
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos")

    monkeypatch.setattr(ck.torch, "save", full)
    with pytest.raises(WriteFailed) as err:
        train(run, epochs=2, batch=8)
    assert str(err.value) == (
        f"disk full while writing the checkpoint {run / 'ckpt_000000024.pt'}: free space and "
        "start the run again: it resumes from its last good checkpoint, ckpt_000000012.pt, "
        "which is kept")
    assert [p.name for p in run.iterdir() if p.name.startswith((".", "ckpt"))] == [
        "ckpt_000000012.pt"]  # no partial file, the good one untouched
    monkeypatch.setattr(ck.torch, "save", real_save)
    engine, _ = train(run, epochs=2, batch=8)  # space freed: it resumes and finishes
    assert engine.resumed_from == run / "ckpt_000000012.pt" and engine.step == 24
    assert _steps(run) == list(range(1, 25))


def test_a_metrics_line_that_does_not_fit(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    real_open = Path.open

    class FullAfterFive:
        def __init__(self, fh: Any) -> None:
            self.fh, self.lines = fh, 0

        def write(self, text: str) -> int:
            self.lines += 1
            if self.lines > 5:
                raise FULL
            return self.fh.write(text)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.fh, name)

        def __enter__(self) -> FullAfterFive:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

    def open_(self: Path, mode: str = "r", *a: Any, **k: Any) -> Any:
        fh = real_open(self, mode, *a, **k)
        return FullAfterFive(fh) if self.name == "metrics.jsonl" and "a" in mode else fh

    monkeypatch.setattr(Path, "open", open_)
    with pytest.raises(WriteFailed) as err:
        train(run, epochs=1, batch=8)
    assert str(err.value) == (
        f"disk full while writing the metrics file {run / 'metrics.jsonl'}: free space and "
        "start the run again (no checkpoint was saved yet: it starts from step 1)")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_feature_project(tmp_path_factory.mktemp("failures") / "Voix é", clips=4)


@pytest.mark.parametrize(("target", "what", "file", "kept"), [
    ("backend.train.rvc_task.atomic_write_bytes", "the sample",
     "samples/step_000000002.wav", "it resumes from its last good checkpoint, "
                                   "ckpt_000000002.pt, which is kept"),
    ("backend.jobs.train_loop.atomic_write_json", "the run settings", "run.json",
     "(no checkpoint was saved yet: it starts from step 1)"),
])
def test_a_sample_or_run_json_that_does_not_fit(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                target: str, what: str, file: str,
                                                kept: str) -> None:
    def full(*a: Any, **k: Any) -> None:
        raise FULL

    monkeypatch.setattr(target, full)
    run = f"full {what}"
    with pytest.raises(JobError) as err:
        train_in_process(project, run=run)
    sep = " " if kept.startswith("(") else ": "
    assert err.value.message == (f"disk full while writing {what} "
                                 f"{project / 'train' / run / file}: free space and start the "
                                 f"run again{sep}{kept}")


@pytest.fixture
def small_disk(make_small_disk):  # type: ignore[no-untyped-def]
    """A 16 MB tmpfs: room for a tiny run's checkpoints (tests/conftest.py)."""
    return make_small_disk("16m")


def test_real_full_disk_while_training(small_disk: Path) -> None:
    project = make_feature_project(small_disk / "projet plein", clips=4)
    train_in_process(project)
    run = project / "train" / "main"
    good = run / "ckpt_000000002.pt"
    before = good.read_bytes()
    st = os.statvfs(small_disk)
    with open(small_disk / "filler", "wb") as fh:  # leave ~1 MB: less than a checkpoint
        fh.write(b"\0" * (st.f_bavail * st.f_frsize - (1 << 20)))
    res = subprocess.run(
        [sys.executable, "-m", "backend", "train", "--project", str(project), "--size", "tiny",
         "--epochs", "2", "--batch-size", "2", "--save-every", "1", "--device", "cpu",
         "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert res.returncode == 1 and out["status"] == "failed", out
    message = (f"disk full while writing the checkpoint {run / 'ckpt_000000004.pt'}: free "
               "space and start the run again: it resumes from its last good checkpoint, "
               "ckpt_000000002.pt, which is kept")
    assert out["error"] == {"code": "io_error", "message": message, "details": {}}
    assert f"error: {message}" in res.stderr
    assert [p.name for p in ck.list_checkpoints(run)] == ["ckpt_000000002.pt"]
    assert good.read_bytes() == before and not list(run.glob(".*"))
    torch.load(good, weights_only=True)


def test_real_full_disk_while_appending_metrics(small_disk: Path) -> None:
    project = make_feature_project(small_disk / "projet", clips=4)
    train_in_process(project)
    run = project / "train" / "main"
    st = os.statvfs(small_disk)
    with open(small_disk / "filler", "wb") as fh:  # one free block: the metrics outgrow it
        fh.write(b"\0" * ((st.f_bavail - 1) * st.f_frsize))
    with pytest.raises(JobError) as err:
        train_in_process(project, epochs=40, save_every=100)
    assert err.value.message == (
        f"disk full while writing the metrics file {run / 'metrics.jsonl'}: free space and "
        "start the run again: it resumes from its last good checkpoint, ckpt_000000002.pt, "
        "which is kept")
    (small_disk / "filler").unlink()
    result, _ = train_in_process(project, epochs=2)  # space freed: it resumes, no repeats
    assert result["resumed_from"] == str(run / "ckpt_000000002.pt")
    assert _steps(run) == [1, 2, 3, 4]


# damaged checkpoints ---------------------------------------------------------------------
def test_the_only_checkpoint_damaged_is_kept_aside_and_the_history_starts_over(
        tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    train(run, epochs=1, batch=8)
    damaged = _damage(run / "ckpt_000000012.pt")
    logs: list[tuple[str, str]] = []
    engine, _ = train(run, epochs=1, batch=8,
                      hooks=TrainHooks(on_log=lambda m, lvl: logs.append((lvl, m))))
    assert _steps(run) == list(range(1, 13)), "the history holds each step once"
    assert (run / "damaged" / "ckpt_000000012.pt").read_bytes() == damaged
    assert engine.set_aside == [run / "damaged" / "ckpt_000000012.pt",
                                run / "damaged" / "metrics.jsonl"]
    assert _steps(run / "damaged") == list(range(1, 13))  # the old history, kept
    [(level, message)] = [(lvl, m) for lvl, m in logs if "damaged" in m]
    assert level == "warning"
    assert message.startswith("no checkpoint of this run could be read (ckpt_000000012.pt: ")
    assert message.endswith("); the run starts over from step 1 and keeps the old files as "
                            "damaged/ckpt_000000012.pt, damaged/metrics.jsonl")
    torch.load(run / "ckpt_000000012.pt", weights_only=True)  # the new one is whole

    again = _damage(run / "ckpt_000000012.pt")  # damaged a second time: nothing overwritten
    engine, _ = train(run, epochs=1, batch=8)
    assert [p.name for p in engine.set_aside] == ["ckpt_000000012.pt.1", "metrics.jsonl.1"]
    assert (run / "damaged" / "ckpt_000000012.pt").read_bytes() == damaged
    assert (run / "damaged" / "ckpt_000000012.pt.1").read_bytes() == again


def test_a_damaged_newest_checkpoint_is_kept_aside_not_overwritten(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    train(run, epochs=2, batch=8)  # ckpt 12 and 24
    damaged = _damage(run / "ckpt_000000024.pt")
    engine, _ = train(run, epochs=2, batch=8)
    assert engine.resumed_from == run / "ckpt_000000012.pt"
    assert (run / "damaged" / "ckpt_000000024.pt").read_bytes() == damaged
    assert engine.set_aside == [run / "damaged" / "ckpt_000000024.pt"]
    torch.load(run / "ckpt_000000024.pt", weights_only=True)  # saved again, whole
    assert _steps(run) == list(range(1, 25))


def test_the_train_job_reports_a_start_over_and_tensorboard_shows_each_step_once(
        project: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tests.train.test_train_job import _scalars

    run = project / "train" / "start over"
    train_in_process(project, run="start over", tensorboard=True)
    base = tmp_path / "base ü.pt"  # one of our checkpoints serves as a pretrained base
    base.write_bytes((run / "ckpt_000000002.pt").read_bytes())
    _damage(run / "ckpt_000000002.pt")
    result, logs = train_in_process(project, run="start over", tensorboard=True,
                                    pretrained_g=str(base))
    assert ("info", f"{base.name}: loaded") in [(lvl, m[:len(base.name) + 8])
                                                for lvl, m in logs], "a new run gets the base"
    assert result["resumed_from"] is None and result["step"] == 2
    assert _steps(run) == [1, 2]
    assert [p.step for p in _scalars(run / "tensorboard").Scalars("loss_mel")] == [1, 2]
    assert result["set_aside"] == [str(run / "damaged" / "ckpt_000000002.pt"),
                                   str(run / "damaged" / "metrics.jsonl")]
    assert any(lvl == "warning" and "the run starts over from step 1" in m for lvl, m in logs)
