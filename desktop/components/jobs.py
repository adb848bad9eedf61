"""JobsModel: what the desktop knows about each backend job, from ``job.*`` events.

Pure Python; the Qt jobs panel subscribes to it. Events are the ``data`` of the
protocol events ``job.started``, ``job.progress`` and ``job.finished``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RUNNING = "running"
OK = "ok"
FAILED = "failed"
CANCELLED = "cancelled"
FINISHED_STATES = (OK, FAILED, CANCELLED)


@dataclass
class JobInfo:
    job_id: str
    kind: str = ""
    stage: str = ""
    done: float = 0
    total: float = 0
    eta: float | None = None
    status: str = RUNNING
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    args: dict[str, Any] = field(default_factory=dict)
    cancel_requested: bool = False

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATES

    @property
    def fraction(self) -> float | None:
        """0..1 when the total is known, else None (an indeterminate bar)."""
        if self.status == OK:
            return 1.0
        if self.total and self.total > 0:
            return max(0.0, min(1.0, self.done / self.total))
        return None

    def eta_text(self) -> str:
        if self.finished or self.eta is None:
            return ""
        secs = int(round(self.eta))
        if secs < 60:
            return f"{secs} s"
        if secs < 3600:
            return f"{secs // 60} min {secs % 60:02d} s"
        return f"{secs // 3600} h {secs % 3600 // 60:02d} min"


Listener = Callable[[str], None]


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "failed")
    return str(error) if error else "failed"


class JobsModel:
    """job id -> JobInfo, updated by ``apply(event, data)``; listeners get the job id."""

    def __init__(self) -> None:
        self._jobs: dict[str, JobInfo] = {}
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, job_id: str) -> None:
        for listener in list(self._listeners):
            listener(job_id)

    def get(self, job_id: str) -> JobInfo | None:
        return self._jobs.get(job_id)

    def jobs(self) -> list[JobInfo]:
        return list(self._jobs.values())

    def running(self) -> list[JobInfo]:
        return [j for j in self._jobs.values() if not j.finished]

    def __len__(self) -> int:
        return len(self._jobs)

    def _job(self, data: dict[str, Any], started: bool = False) -> JobInfo | None:
        job_id = data.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            return None
        job = self._jobs.get(job_id)
        if job is None or (started and job.finished):  # ids restart with the backend
            job = self._jobs[job_id] = JobInfo(job_id)
        return job

    def apply(self, event: str, data: dict[str, Any]) -> str | None:
        """Update from one job event; returns the job id it touched (None if ignored)."""
        handler = {"job.started": self._started, "job.progress": self._progress,
                   "job.finished": self._finished}.get(event)
        job = self._job(data, event == "job.started") if handler else None
        if handler is None or job is None:
            return None
        handler(job, data)
        self._notify(job.job_id)
        return job.job_id

    def _started(self, job: JobInfo, data: dict[str, Any]) -> None:
        job.kind = str(data.get("kind") or job.kind)
        if isinstance(data.get("args"), dict):
            job.args = data["args"]
        job.status = RUNNING
        job.stage = job.stage or "starting"

    def _progress(self, job: JobInfo, data: dict[str, Any]) -> None:
        if job.finished:
            return  # a late progress line never revives a finished job
        job.stage = str(data.get("stage", job.stage))
        done, total = data.get("done"), data.get("total")
        if isinstance(done, (int, float)):
            job.done = done
        if isinstance(total, (int, float)):
            job.total = total
        eta = data.get("eta")
        job.eta = float(eta) if isinstance(eta, (int, float)) else None

    def _finished(self, job: JobInfo, data: dict[str, Any]) -> None:
        job.kind = str(data.get("kind") or job.kind)
        status = data.get("status")
        job.status = status if status in FINISHED_STATES else FAILED
        job.eta = None
        if isinstance(data.get("result"), dict):
            job.result = data["result"]
        if job.status == FAILED:
            job.error = _error_text(data.get("error"))
        elif job.status == CANCELLED:
            job.error = "cancelled"
        job.stage = {OK: "done", FAILED: "failed", CANCELLED: "cancelled"}[job.status]

    def mark_cancel_requested(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None and not job.finished:
            job.cancel_requested = True
            job.stage = "cancelling"
            self._notify(job_id)

    def clear_finished(self) -> list[str]:
        """Forget finished jobs; returns their ids."""
        gone = [j.job_id for j in self._jobs.values() if j.finished]
        for job_id in gone:
            del self._jobs[job_id]
            self._notify(job_id)
        return gone
