"""Training end to end through the real CLI: train, resume after SIGKILL, index, export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from backend.train import checkpoint as ck
from tests.train.feature_project import make_feature_project

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, timeout: float = 300) -> dict:
    res = subprocess.run([sys.executable, "-m", "backend", *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.stdout.strip(), res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _train_args(project: Path, epochs: int, run: str = "main") -> list[str]:
    return ["train", "--project", str(project), "--run", run, "--size", "tiny", "--epochs",
            str(epochs), "--batch-size", "2", "--save-every", "1", "--device", "cpu",
            "--deterministic"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_feature_project(tmp_path_factory.mktemp("train") / "Voix d'essai é", clips=5)


def test_train_writes_checkpoints_metrics_and_samples(project: Path) -> None:
    out = _cli(*_train_args(project, 2, run="plain"))
    assert out["status"] == "ok", out
    run = project / "train" / "plain"
    assert out["result"]["step"] == 4 and out["result"]["epoch"] == 2
    assert [p.name for p in ck.list_checkpoints(run)] == ["ckpt_000000002.pt",
                                                          "ckpt_000000004.pt"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").open()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    for key in ("loss_d", "loss_g", "loss_mel", "loss_kl", "loss_fm", "loss_adv", "lr",
                "grad_norm_g", "grad_norm_d", "step_time", "samples_per_s"):
        assert all(isinstance(r[key], float) for r in records), key
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_000000002.wav", "step_000000004.wav"]
    state = torch.load(ck.list_checkpoints(run)[-1], weights_only=True)
    assert {"G", "D", "opt_g", "opt_d", "sched_g", "sched_d"} <= set(state["task"])
    # train.runs gives the run's own settings, so the desktop can resume it as it was
    from backend.commands.train import train_runs

    entry = next(r for r in train_runs({"project": str(project)}, None)["runs"]
                 if r["name"] == "plain")
    assert {k: entry["config"][k] for k in ("size", "epochs", "batch_size", "save_every",
                                            "keep_last", "device", "precision")} == {
        "size": "tiny", "epochs": 2, "batch_size": 2, "save_every": 1, "keep_last": 3,
        "device": "cpu", "precision": "auto"}


def test_sigkill_and_resume_matches_an_uninterrupted_run(project: Path) -> None:
    assert _cli(*_train_args(project, 3, run="reference"))["status"] == "ok"
    run = project / "train" / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "backend", *_train_args(project, 3,
                                                                          run="killed")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not ck.list_checkpoints(run):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = ck.list_checkpoints(run)
    assert kept and kept[-1].name != "ckpt_000000006.pt", "the run finished before the kill"
    out = _cli(*_train_args(project, 3, run="killed"))
    assert out["status"] == "ok" and out["result"]["resumed_from"]
    ref = torch.load(ck.list_checkpoints(project / "train" / "reference")[-1],
                     weights_only=True)["task"]
    got = torch.load(ck.list_checkpoints(run)[-1], weights_only=True)["task"]
    for part in ("G", "D"):
        for key, value in ref[part].items():
            torch.testing.assert_close(got[part][key], value, rtol=0, atol=1e-5,
                                       msg=f"{part}.{key} differs after resume")


def test_index_and_export(project: Path, tmp_path: Path) -> None:
    if not ck.list_checkpoints(project / "train" / "main"):
        assert _cli(*_train_args(project, 1))["status"] == "ok"
    idx = _cli("index", "--project", str(project))
    assert idx["status"] == "ok", idx
    assert Path(idx["result"]["index"]).name.startswith("added_IVF")
    model = _cli("export", "--project", str(project), "--out", str(tmp_path / "voix é.pth"))
    assert model["status"] == "ok", model
    ckpt = torch.load(model["result"]["model"], weights_only=True)
    assert not any(k.startswith("enc_q.") for k in ckpt["weight"])
    assert (ckpt["sr"], ckpt["f0"], ckpt["version"]) == ("40k", 1, "v2")
    pkg = _cli("export", "--project", str(project), "--out", str(tmp_path / "voix.zip"))
    with zipfile.ZipFile(pkg["result"]["package"]) as zf:
        names = zf.namelist()
    assert "model_card.md" in names and any(n.endswith(".index") for n in names)


def test_clear_refusals(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty project"
    from backend.dataset.project import create_project

    create_project(empty, name="e")
    out = _cli("train", "--project", str(empty), "--size", "tiny")
    assert out["status"] == "failed" and "run Extract first" in out["error"]["message"]
    bad = tmp_path / "not a base.pth"
    bad.write_bytes(b"garbage")
    out = _cli(*_train_args(project, 1), "--pretrained-g", str(bad))
    assert "could not be read" in out["error"]["message"] and bad.name in out["error"]["message"]


def _scalars(folder: Path) -> Any:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})  # 0: keep every point
    acc.Reload()
    return acc


def test_tensorboard_event_files_hold_every_metric_per_step(project: Path) -> None:
    pytest.importorskip("tensorboard")
    from backend.train.tb_writer import scalars

    run = project / "train" / "tb ü"
    out = _cli(*_train_args(project, 2, run="tb ü"), "--tensorboard")
    assert out["status"] == "ok", out
    assert out["result"]["tensorboard"] == str(run / "tensorboard")
    records = [json.loads(line) for line in (run / "metrics.jsonl").open()]
    acc = _scalars(run / "tensorboard")
    tags = set(acc.Tags()["scalars"])
    assert tags == set(scalars(records[0])) and {"loss_mel", "loss_g", "lr", "epoch"} <= tags
    assert "step" not in tags
    for tag in tags:
        points = acc.Scalars(tag)
        assert [p.step for p in points] == [1, 2, 3, 4], tag
        assert [p.value for p in points] == pytest.approx([r[tag] for r in records],
                                                          rel=1e-6), tag

    # a run killed after its last checkpoint logged steps that run again on resume:
    # the resumed run's event file purges them, so every step is there once
    (run / "ckpt_000000004.pt").unlink()
    out = _cli(*_train_args(project, 2, run="tb ü"), "--tensorboard")
    assert out["status"] == "ok" and out["result"]["resumed_from"].endswith("ckpt_000000002.pt")
    assert len(list((run / "tensorboard").glob("events.out.tfevents.*"))) == 2
    records = [json.loads(line) for line in (run / "metrics.jsonl").open()]
    points = _scalars(run / "tensorboard").Scalars("loss_mel")
    assert [p.step for p in points] == [1, 2, 3, 4]
    assert [p.value for p in points] == pytest.approx([r["loss_mel"] for r in records],
                                                      rel=1e-6)


def test_tensorboard_without_the_package_is_refused_before_training(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.jobs import train
    from backend.kernel import BadArgs

    args = {"project": str(project), "size": "tiny", "tensorboard": "yes"}
    with pytest.raises(BadArgs, match="'tensorboard' must be true or false"):
        train.prepare(args)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    with pytest.raises(BadArgs) as err:
        train.prepare({**args, "tensorboard": True})
    assert "install the optional tensorboard extra: pip install 'timbre-studio[tensorboard]'" \
        in str(err.value)
    assert train.prepare({**args, "tensorboard": False}).tensorboard is False


def test_suggest_names_the_recommended_bases_installed_or_not(project: Path, tmp_path: Path,
                                                             monkeypatch) -> None:
    """The Train page pre-fills installed bases and offers the missing ones by asset name."""
    from backend.commands.train import train_suggest

    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "data ü"))
    res = train_suggest({"project": str(project)}, None)
    assert res["suggestion"]["mode"] == "fine-tune"
    assert res["bases"] == {"g": None, "d": None}
    assert res["base_assets"] == {"g": "rvc-v2-f0G40k", "d": "rvc-v2-f0D40k"}
    g = tmp_path / "data ü" / "assets" / "pretrained_v2" / "f0G40k.pth"
    g.parent.mkdir(parents=True)
    g.write_bytes(b"x")
    res = train_suggest({"project": str(project)}, None)
    assert res["bases"] == {"g": str(g), "d": None}
