"""Records a real training session for the Train page's replay test.

Run from the repo root: ``.venv/bin/python tests/desktop/record_train_sessions.py``.
It drives the real ``python -m backend serve`` on a feature project
(tests/train/feature_project.py) the way the Train page does: ``project.open``,
``train.suggest``, ``train.runs``, ``job.start`` train (tiny size, 2 epochs, a
checkpoint and a sample every epoch), ``job.pause`` after the first metrics,
``job.resume``, the job's events up to ``job.finished``, then the page's refresh
(``train.suggest``, ``train.runs``). The run's ``metrics.jsonl`` is stored as a
``write`` directive before the last ``train.runs`` answer (the page reads that file).
Saved as ``sessions/train_real.jsonl`` with the temporary folder written as ``$PROJECT``.

``train_output_real`` (``sessions/train_output_real.jsonl``): a project whose run
"main" was trained for one epoch (by the CLI, not recorded) is opened like the page
does, then ``index``, ``export`` to a ``.pth`` and to a ``.zip`` (``OUTPUTS``), and an
export to a path that is a folder (the job fails), each up to its ``job.finished``.

``train_resume_real`` (``sessions/train_resume_real.jsonl``): a run is started with
settings other than the suggestion's (``resume_args``: tiny, 2 epochs, learning rate
2e-4, keep last 2, fp32, cpu) and stopped after its first checkpoint, as when the app is
closed while training (not recorded). Then the app is opened again (recorded):
``project.open``, ``train.suggest``, ``train.runs`` (the run and its ``run.json``
settings), ``job.start`` with those settings (the run resumes from its checkpoint) up to
``job.finished``, and the refresh (``train.suggest``, ``train.runs``). The run's
``metrics.jsonl`` is stored as ``write`` directives before each ``train.runs`` answer.

``train_bases_real`` (``sessions/train_bases_real.jsonl``): a feature project and an
empty data folder (``TIMBRE_DATA_DIR``), so the recommended bases are missing:
``project.open``, ``train.suggest``, ``train.runs``, ``assets.list`` (Get the pretrained
bases…), a real ``assets`` import of a file with the structure of ``f0G40k.pth``
(``BASE_G``) as ``rvc-v2-f0G40k``, ``train.suggest`` (G is installed now) and
``assets.list`` (the dialog for the D base). The installed file is stored as a ``write``
directive (the form checks that it exists).

Pass scenario names (``train_real``, ``train_output_real``, ``train_resume_real``,
``train_bases_real``) to record only those.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import Recorder  # noqa: E402
from tests.train.feature_project import make_feature_project  # noqa: E402

PROJECT_NAME = "Voice ü"
ROOT = Path(__file__).resolve().parents[2]


def outputs(folder: Path) -> dict[str, Path]:
    """Where train_output_real exports (the replay test sends the same paths)."""
    out = folder / "exports é"
    return {"model": out / "Voice ü.pth", "package": out / "Voice ü.zip",
            "folder": out / "taken.pth"}


def job_args(project: Path) -> dict:
    """What the Train page sends with the test's form settings."""
    return {"project": str(project), "run": "main", "size": "tiny", "epochs": 2,
            "batch_size": 2, "learning_rate": 0.0001, "save_every": 1, "keep_last": 3,
            "pretrained_g": None, "pretrained_d": None, "device": "cpu", "precision": "auto",
            "tensorboard": False, "model": "rvc"}


def resume_args(project: Path) -> dict:
    """The run's own settings (not the suggestion's): what the page sends to resume it."""
    return {"project": str(project), "run": "main", "size": "tiny", "epochs": 2,
            "batch_size": 2, "learning_rate": 0.0002, "save_every": 1, "keep_last": 2,
            "pretrained_g": None, "pretrained_d": None, "device": "cpu", "precision": "fp32",
            "tensorboard": False, "model": "rvc"}


def _write_before_answer(rec: Recorder, index: int, path: Path, text: str) -> None:
    """A file the page reads when the request at ``index`` (its await) is answered."""
    rec.session.insert(index + 1, {"fake": "write", "path": str(path), "text": text})


def train_resume_real(folder: Path) -> Path:
    project = make_feature_project(folder / PROJECT_NAME, clips=5, seconds=0.6)
    first = Recorder(folder, wait_ready=True)  # not recorded: training stopped early
    started = first.send("job.start", {"kind": "train", "args": resume_args(project)})
    if "result" not in started:
        raise SystemExit(f"job.start failed: {started}")
    job_id = started["result"]["job_id"]
    first.take(lambda m: m.get("event") == "train.checkpoint", timeout=300)
    first.send("job.cancel", {"job_id": job_id})
    first.take(lambda m: m.get("event") == "job.finished", timeout=300)
    first.close()
    metrics = project / "train" / "main" / "metrics.jsonl"
    before = metrics.read_text(encoding="utf-8")

    rec = Recorder(folder, wait_ready=True)
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           "tests/desktop/record_train_sessions.py train_resume_real: the app "
                           "opened again after a run was stopped at its first checkpoint"})
    rec.send("project.open", {"path": str(project)})
    rec.send("train.suggest", {"project": str(project), "model": "rvc"})
    at = len(rec.session)
    rec.send("train.runs", {"project": str(project)})
    _write_before_answer(rec, at, metrics, before)
    _finish(rec, rec.send("job.start", {"kind": "train", "args": resume_args(project)}))
    rec.send("train.suggest", {"project": str(project), "model": "rvc"})
    at = len(rec.session)
    rec.send("train.runs", {"project": str(project)})
    _write_before_answer(rec, at, metrics, metrics.read_text(encoding="utf-8"))
    rec.close()
    return rec.write("train_resume_real")


BASE_G = Path("downloads ü") / "my f0G40k.pth"


def _base_g_file(path: Path) -> None:
    """A file with the checked keys of rvc-v2-f0G40k at their real shapes (zeros)."""
    import torch

    from backend.assets.catalogue import load_catalogue

    exp = load_catalogue()["rvc-v2-f0G40k"].expected
    sd = {k: torch.zeros(shape, dtype=torch.float16) for k, shape in exp["keys"].items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({exp["container"]: sd} if exp.get("container") else sd, path)


def train_bases_real(folder: Path) -> Path:
    project = make_feature_project(folder / PROJECT_NAME, clips=5, seconds=0.6)
    os.environ["TIMBRE_DATA_DIR"] = str(folder / "user data ü")
    os.environ.pop("TIMBRE_ASSET_CATALOGUE", None)
    _base_g_file(folder / BASE_G)
    rec = Recorder(folder, wait_ready=True)
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           "tests/desktop/record_train_sessions.py train_bases_real"})
    rec.send("project.open", {"path": str(project)})
    rec.send("train.suggest", {"project": str(project), "model": "rvc"})
    for cmd in ("train.runs", "assets.list"):
        rec.send(cmd, {"project": str(project)} if cmd.startswith("train") else {})
    _finish(rec, rec.send("job.start", {"kind": "assets", "args": {
        "action": "import", "path": str(folder / BASE_G), "name": "rvc-v2-f0G40k"}}))
    at = len(rec.session)
    suggested = rec.send("train.suggest", {"project": str(project), "model": "rvc"})
    installed = suggested["result"]["bases"]["g"]
    if not installed:
        raise SystemExit(f"the imported base is not reported: {suggested}")
    _write_before_answer(rec, at, Path(installed), "")
    rec.send("assets.list")
    rec.close()
    return rec.write("train_bases_real")


def train_real(folder: Path) -> Path:
    project = make_feature_project(folder / PROJECT_NAME, clips=5, seconds=0.6)
    rec = Recorder(folder, wait_ready=True)
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           "tests/desktop/record_train_sessions.py"})
    rec.send("project.open", {"path": str(project)})
    rec.send("train.suggest", {"project": str(project), "model": "rvc"})
    rec.send("train.runs", {"project": str(project)})
    started = rec.send("job.start", {"kind": "train", "args": job_args(project)})
    if "result" not in started:
        raise SystemExit(f"job.start failed: {started}")
    job_id = started["result"]["job_id"]
    for event in ("job.metrics", "job.progress"):  # step 1, as the page sees it before Pause
        if not any(m.get("event") == event for m in rec.session):
            rec.take(lambda m, event=event: m.get("event") == event)
    rec.send("job.pause", {"job_id": job_id})
    time.sleep(0.5)  # paused: nothing else may arrive
    rec.send("job.resume", {"job_id": job_id})
    rec.take(lambda m: m.get("event") == "job.finished" and m["data"]["job_id"] == job_id,
             timeout=300)
    rec.send("train.suggest", {"project": str(project), "model": "rvc"})
    rec.send("train.runs", {"project": str(project)})
    rec.close()
    metrics = project / "train" / "main" / "metrics.jsonl"
    last_await = max(i for i, m in enumerate(rec.session) if m.get("fake") == "await")
    rec.session.insert(last_await, {"fake": "write", "path": str(metrics),
                                    "text": metrics.read_text(encoding="utf-8")})
    return rec.write("train_real")


def _finish(rec: Recorder, reply: dict) -> None:
    if "result" not in reply:
        raise SystemExit(f"job.start failed: {reply}")
    job_id = reply["result"]["job_id"]
    if not any(m.get("event") == "job.finished" and m["data"]["job_id"] == job_id
               for m in rec.session):
        rec.take(lambda m: m.get("event") == "job.finished" and m["data"]["job_id"] == job_id,
                 timeout=120)


def train_output_real(folder: Path) -> Path:
    project = make_feature_project(folder / PROJECT_NAME, clips=5, seconds=0.6)
    subprocess.run([sys.executable, "-m", "backend", "train", "--project", str(project),
                    "--size", "tiny", "--epochs", "1", "--batch-size", "2", "--save-every", "1",
                    "--device", "cpu"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"})
    out = outputs(folder)
    out["folder"].mkdir(parents=True)  # a folder where the file should go: the export fails
    rec = Recorder(folder, wait_ready=True)
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           "tests/desktop/record_train_sessions.py train_output_real"})
    rec.send("project.open", {"path": str(project)})
    rec.send("train.suggest", {"project": str(project), "model": "rvc"})
    rec.send("train.runs", {"project": str(project)})
    _finish(rec, rec.send("job.start", {"kind": "index", "args": {"project": str(project)}}))
    for key in ("model", "package", "folder"):
        args = {"project": str(project), "run": "main", "out": str(out[key])}
        _finish(rec, rec.send("job.start", {"kind": "export", "args": args}))
    rec.close()
    return rec.write("train_output_real")


def main(names: list[str]) -> None:
    scenarios = {"train_real": train_real, "train_output_real": train_output_real,
                 "train_resume_real": train_resume_real, "train_bases_real": train_bases_real}
    for name in names or list(scenarios):
        with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
            print("recorded", scenarios[name](Path(tmp)))


if __name__ == "__main__":
    main(sys.argv[1:])
