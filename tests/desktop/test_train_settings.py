"""Train page logic without Qt: the settings form model, suggestions, runs, the session."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.components.metrics import MetricsHistory
from desktop.components.train_runs import TrainSession, latest_run, runs_from_result
from desktop.components.train_settings import (
    TrainSettings,
    TrainSuggestion,
    parse_learning_rate,
    start_blocker,
)

SUGGEST = {"ready": True, "problems": [], "version": "v2", "sample_rate": 40000, "f0": True,
           "dataset_seconds": 600.0,
           "suggestion": {"epochs": 150, "learning_rate": 0.0002, "batch_size": 12,
                          "save_every": 15, "base_g": "f0G40k.pth", "base_d": "f0D40k.pth",
                          "mode": "fine-tune", "text": "fine-tune for 150 epochs"},
           "bases": {"g": None, "d": None}}


def test_defaults_are_valid_and_map_to_job_args() -> None:
    s = TrainSettings()
    assert s.validate(cuda_available=False) == {}
    args = s.to_job_args("/p ü")
    assert args == {"project": "/p ü", "run": "main", "size": "standard", "epochs": 200,
                    "batch_size": 8, "learning_rate": 1e-4, "save_every": 10, "keep_last": 3,
                    "pretrained_g": None, "pretrained_d": None, "device": "auto",
                    "precision": "auto", "tensorboard": False, "model": "rvc"}
    assert TrainSettings(tensorboard=True).to_job_args("/p")["tensorboard"] is True


def test_each_bad_field_gets_its_own_message(tmp_path: Path) -> None:
    s = TrainSettings(epochs=0, batch_size=0, learning_rate="fast", save_every=0, keep_last=-1,
                      size="huge", device="tpu", precision="fp8",
                      pretrained_g=str(tmp_path / "nope ü.pth"), run="a/b")
    p = s.validate()
    assert set(p) == {"epochs", "batch_size", "learning_rate", "save_every", "keep_last",
                      "size", "device", "precision", "pretrained_g", "run"}
    assert "'fast' is not a number" in p["learning_rate"]
    assert str(tmp_path / "nope ü.pth") in p["pretrained_g"]
    assert "between 1 and" in p["epochs"]
    assert TrainSettings(learning_rate="0").validate()["learning_rate"].startswith(
        "learning rate must be above 0")
    assert "save every" in TrainSettings(epochs=5, save_every=6).validate()["save_every"]


def test_cuda_only_when_the_backend_has_it(tmp_path: Path) -> None:
    s = TrainSettings(device="cuda")
    assert "no CUDA GPU" in s.validate(cuda_available=False)["device"]
    assert s.validate(cuda_available=True) == {}
    g = tmp_path / "G ü.pth"
    g.write_bytes(b"x")
    assert TrainSettings(pretrained_g=f" {g} ").validate() == {}
    assert TrainSettings(pretrained_g=str(g)).to_job_args("p")["pretrained_g"] == str(g)
    assert parse_learning_rate("1e-4") == 1e-4 and parse_learning_rate("nan") is None


def test_suggestion_prefills_and_blocks_start_when_not_ready(tmp_path: Path) -> None:
    sug = TrainSuggestion.from_result(SUGGEST)
    assert (sug.settings.epochs, sug.settings.batch_size, sug.settings.save_every) == (150, 12, 15)
    assert sug.settings.learning_rate == "0.0002" and sug.settings.pretrained_g == ""
    assert "40 kHz" in sug.summary() and "10.0 min" in sug.summary()
    with_bases = dict(SUGGEST, bases={"g": str(tmp_path / "G.pth"), "d": str(tmp_path / "D.pth")})
    assert TrainSuggestion.from_result(with_bases).settings.pretrained_d == str(tmp_path / "D.pth")
    assert start_blocker(sug, {}, True, False) == ""
    assert start_blocker(sug, {"epochs": "epochs must be…"}, True, False).startswith("Fix")
    assert start_blocker(None, {}, False, False) == "Open a project first."
    bad = TrainSuggestion.from_result({"ready": False, "problems": ["no features: run Extract"]})
    assert start_blocker(bad, {}, True, False) == "Not ready to train: no features: run Extract"
    assert TrainSuggestion.from_result({}).ready is False  # a malformed answer is not ready


def test_runs_and_the_latest_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old" / "metrics.jsonl", tmp_path / "new" / "metrics.jsonl"
    for p in (old, new):
        p.parent.mkdir()
        p.write_text("{}\n", encoding="utf-8")
    os.utime(old, (1000, 1000))
    result = {"runs": [
        {"name": "new", "dir": str(new.parent), "metrics": str(new), "state": "finished",
         "checkpoints": [{"path": "b", "step": 20, "epoch": 2, "saved_at": 5.0, "size": 10},
                         {"path": "a", "step": 10, "epoch": 1, "saved_at": 4.0, "size": 10}],
         "samples": [{"step": 10, "epoch": 1, "path": "s.wav"}], "config": {}},
        {"name": "old", "metrics": str(old)}, {"no": "name"}, "junk"]}
    runs = runs_from_result(result)
    assert [r.name for r in runs] == ["new", "old"]
    assert latest_run(runs).name == "new" and latest_run([]) is None
    assert runs[1].state == "new" and runs[1].checkpoints == []


def test_session_follows_its_own_job_only() -> None:
    history = MetricsHistory()
    s = TrainSession(history)
    s.reset("job-2")
    assert s.apply("job.metrics", {"job_id": "job-9", "step": 1, "loss_g": 1.0}) == ""
    record = {"job_id": "job-2", "step": 5, "epoch": 2, "samples": 20, "samples_per_s": 9.5,
              "loss_g": 3.0, "lr": 1e-4}
    assert s.apply("job.metrics", record) == "metrics"
    assert history.series("loss_g") == ([5], [3.0]) and "job_id" not in history.terms()
    s.apply("job.progress", {"job_id": "job-2", "done": 5, "total": 50, "eta": 90})
    assert s.status_text() == "Training — step 5 / 50 — epoch 2 — 9.5 samples/s — 1 min 30 s left"
    s.apply("job.paused", {"job_id": "job-2", "paused": True})
    assert s.status_text().startswith("Paused") and "left" not in s.status_text()
    sample = {"job_id": "job-2", "step": 5, "epoch": 2, "path": "/r/s 5.wav"}
    assert s.apply("train.sample", sample) == "samples"
    assert s.apply("train.sample", sample) == "status"  # the same file once
    assert s.apply("train.checkpoint", {"job_id": "job-2", "path": "/r/c", "step": 5}) \
        == "checkpoints"
    assert s.apply("job.finished", {"job_id": "job-2", "status": "failed",
                                    "error": {"message": "CUDA error"}}) == "finished"
    assert not s.running and s.status_text() == "Training failed: CUDA error"
    assert s.apply("job.metrics", dict(record, step=6)) == ""  # finished: ignored

