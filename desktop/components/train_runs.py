"""Training runs and the live training session (Qt-free).

``runs_from_result`` reads ``train.runs``; ``latest_run`` picks the run whose
history the Train page shows after a restart. ``TrainSession`` follows one
running ``train`` job from its events: progress, pause state, samples and
checkpoints, and feeds ``job.metrics`` records into a ``MetricsHistory``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from desktop.components.job_handle import fmt_eta
from desktop.components.metrics import MetricsHistory
from desktop.components.train_kind import run_model, runs_of_kind


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@dataclass
class Checkpoint:
    path: str
    step: int = 0
    epoch: int = 0
    saved_at: float | None = None
    size: int | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Checkpoint:
        size, saved = _num(d.get("size")), _num(d.get("saved_at"))
        return cls(path=str(d.get("path", "")), step=int(_num(d.get("step")) or 0),
                   epoch=int(_num(d.get("epoch")) or 0), saved_at=saved,
                   size=int(size) if size is not None else None)


@dataclass
class Sample:
    path: str
    step: int = 0
    epoch: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        return cls(path=str(d.get("path", "")), step=int(_num(d.get("step")) or 0),
                   epoch=int(_num(d.get("epoch")) or 0))


@dataclass
class TrainRun:
    name: str
    dir: str = ""
    metrics: str = ""
    state: str = "new"
    checkpoints: list[Checkpoint] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainRun:
        cks, sams = d.get("checkpoints"), d.get("samples")
        return cls(name=str(d.get("name", "")), dir=str(d.get("dir", "")),
                   metrics=str(d.get("metrics") or ""), state=str(d.get("state") or "new"),
                   checkpoints=[Checkpoint.from_dict(c) for c in cks if isinstance(c, dict)]
                   if isinstance(cks, list) else [],
                   samples=[Sample.from_dict(s) for s in sams if isinstance(s, dict)]
                   if isinstance(sams, list) else [],
                   config=dict(d.get("config") or {}) if isinstance(d.get("config"), dict)
                   else {})

    @property
    def model(self) -> str | None:
        """rvc | vits (its ``run.json``); None: nothing was trained in it yet."""
        return run_model(self.config, bool(self.checkpoints))

    @property
    def resumable(self) -> bool:
        """It has a checkpoint: Start resumes it (with its own settings, no bases)."""
        return bool(self.checkpoints)

    def history_text(self, steps: int, last_step: int) -> str:
        """What the Train page says when it shows this run's curves from its file."""
        resumes = " Start resumes it with its own settings." if self.resumable else ""
        return (f"Run '{self.name}' ({self.state}): {steps} steps of history, "
                f"last step {last_step}.{resumes}")


def runs_from_result(result: dict[str, Any]) -> list[TrainRun]:
    runs = result.get("runs")
    if not isinstance(runs, list):
        return []
    return [TrainRun.from_dict(r) for r in runs if isinstance(r, dict) and r.get("name")]


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime if path else -1.0
    except OSError:
        return -1.0


def latest_run(runs: list[TrainRun], kind: str | None = None) -> TrainRun | None:
    """The run trained most recently (of ``kind`` when given): newest metrics file, then
    newest checkpoint."""
    if kind is not None:
        runs = runs_of_kind(runs, kind)
    if not runs:
        return None

    def key(item: tuple[int, TrainRun]) -> tuple[float, float, int]:
        index, run = item
        saved = max((c.saved_at or 0.0 for c in run.checkpoints), default=0.0)
        return (_mtime(run.metrics), saved, index)

    return max(enumerate(runs), key=key)[1]


def add_unique(items: list[Any], item: Any) -> bool:
    """Append a Sample/Checkpoint unless one with that path is there; keep step order."""
    if any(x.path == item.path for x in items):
        return False
    items.append(item)
    items.sort(key=lambda x: x.step)
    return True


class TrainSession:
    """What the page knows about the training job it started, from its events."""

    def __init__(self, history: MetricsHistory) -> None:
        self.history = history
        self.samples: list[Sample] = []
        self.checkpoints: list[Checkpoint] = []
        self.reset()

    def reset(self, job_id: str | None = None) -> None:
        self.job_id = job_id
        self.running = job_id is not None
        self.paused = self.stopping = False
        self.step = self.total = self.epoch = 0
        self.samples_per_s: float | None = None
        self.eta: float | None = None
        self.status = ""      # ok | failed | cancelled once finished
        self.error = ""
        self.result: dict[str, Any] = {}

    def set_run(self, run: TrainRun | None) -> None:
        """Samples and checkpoints of a run read from ``train.runs``."""
        self.samples = list(run.samples) if run else []
        self.checkpoints = list(run.checkpoints) if run else []
        self.samples.sort(key=lambda s: s.step)
        self.checkpoints.sort(key=lambda c: c.step)

    def apply(self, event: str, data: dict[str, Any]) -> str:
        """Take one event of this job; returns what changed: "" (not ours), "status",
        "metrics", "samples", "checkpoints" or "finished"."""
        if not self.running or data.get("job_id") != self.job_id:
            return ""
        if event == "job.metrics":
            self.history.add(data)
            self._from_metrics(data)
            return "metrics"
        if event == "job.progress":
            done, total, eta = _num(data.get("done")), _num(data.get("total")), data.get("eta")
            self.step = int(done) if done is not None else self.step
            self.total = int(total) if total is not None else self.total
            self.eta = _num(eta)
            return "status"
        if event == "job.paused":
            self.paused = bool(data.get("paused"))
            return "status"
        if event == "train.sample":
            return "samples" if add_unique(self.samples, Sample.from_dict(data)) else "status"
        if event == "train.checkpoint":
            ck = Checkpoint.from_dict(data)
            return "checkpoints" if add_unique(self.checkpoints, ck) else "status"
        if event == "job.finished":
            self.finish(data)
            return "finished"
        return ""

    def _from_metrics(self, data: dict[str, Any]) -> None:
        step, epoch, sps = _num(data.get("step")), _num(data.get("epoch")), \
            _num(data.get("samples_per_s"))
        if step is not None:
            self.step = int(step)
        if epoch is not None:
            self.epoch = int(epoch)
        if sps is not None:
            self.samples_per_s = sps

    def finish(self, data: dict[str, Any]) -> None:
        self.running = self.paused = self.stopping = False
        self.eta = None
        status = data.get("status")
        self.status = status if status in ("ok", "failed", "cancelled") else "failed"
        self.result = data["result"] if isinstance(data.get("result"), dict) else {}
        err = data.get("error")
        self.error = str(err.get("message") or err.get("code")) if isinstance(err, dict) \
            else str(err or "")
        step, epoch = _num(self.result.get("step")), _num(self.result.get("epoch"))
        if step is not None:
            self.step = int(step)
        if epoch is not None:
            self.epoch = int(epoch)

    def status_text(self) -> str:
        if self.running:
            state = ("Stopping (saving a checkpoint)…" if self.stopping else
                     "Paused" if self.paused else "Training")
            total = f" / {self.total}" if self.total else ""
            parts = [state, f"step {self.step}{total}", f"epoch {self.epoch}"]
            if self.samples_per_s is not None:
                parts.append(f"{self.samples_per_s:.1f} samples/s")
            eta = fmt_eta(self.eta)
            if eta and not self.paused:
                parts.append(f"{eta} left")
            return " — ".join(parts)
        if not self.status:
            return ""
        where = f"step {self.step}, epoch {self.epoch}"
        if self.status == "ok":
            stopped = " (stopped early)" if self.result.get("stopped") else ""
            return f"Training finished{stopped} at {where}."
        if self.status == "cancelled":
            return f"Training stopped at {where}; press Start to resume from the last checkpoint."
        return f"Training failed: {self.error or 'unknown error'}"
