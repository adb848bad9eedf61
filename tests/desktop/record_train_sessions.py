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
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import Recorder  # noqa: E402
from tests.train.feature_project import make_feature_project  # noqa: E402

PROJECT_NAME = "Voice ü"


def job_args(project: Path) -> dict:
    """What the Train page sends with the test's form settings."""
    return {"project": str(project), "run": "main", "size": "tiny", "epochs": 2,
            "batch_size": 2, "learning_rate": 0.0001, "save_every": 1, "keep_last": 3,
            "pretrained_g": None, "pretrained_d": None, "device": "cpu", "precision": "auto"}


def train_real(folder: Path) -> Path:
    project = make_feature_project(folder / PROJECT_NAME, clips=5, seconds=0.6)
    rec = Recorder(folder, wait_ready=True)
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           "tests/desktop/record_train_sessions.py"})
    rec.send("project.open", {"path": str(project)})
    rec.send("train.suggest", {"project": str(project)})
    rec.send("train.runs", {"project": str(project)})
    started = rec.send("job.start", {"kind": "train", "args": job_args(project)})
    if "result" not in started:
        raise SystemExit(f"job.start failed: {started}")
    job_id = started["result"]["job_id"]
    if not any(m.get("event") == "job.metrics" for m in rec.session):
        rec.take(lambda m: m.get("event") == "job.metrics")
    rec.send("job.pause", {"job_id": job_id})
    time.sleep(0.5)  # paused: nothing else may arrive
    rec.send("job.resume", {"job_id": job_id})
    rec.take(lambda m: m.get("event") == "job.finished" and m["data"]["job_id"] == job_id,
             timeout=300)
    rec.send("train.suggest", {"project": str(project)})
    rec.send("train.runs", {"project": str(project)})
    rec.close()
    metrics = project / "train" / "main" / "metrics.jsonl"
    last_await = max(i for i, m in enumerate(rec.session) if m.get("fake") == "await")
    rec.session.insert(last_await, {"fake": "write", "path": str(metrics),
                                    "text": metrics.read_text(encoding="utf-8")})
    return rec.write("train_real")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
        print("recorded", train_real(Path(tmp)))


if __name__ == "__main__":
    main()
