"""What the Train page makes of a run (Qt-free): the retrieval index and the exports.

``TrainOutput`` decides when "Build index", "Export model…" and "Export package…" may
be pressed (``blocker``), builds the ``index`` / ``export`` job arguments, follows the
one job it started from its events (events that arrive before the ``job.start`` reply
are kept and replayed once the job id is known) and words the progress and the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEX, MODEL, PACKAGE = "index", "model", "package"
ACTIONS = (INDEX, MODEL, PACKAGE)
LABELS = {INDEX: "Building the index", MODEL: "Exporting the model",
          PACKAGE: "Exporting the package"}
SUFFIX = {MODEL: ".pth", PACKAGE: ".zip"}
FILTERS = {MODEL: "RVC voice model (*.pth)", PACKAGE: "Model package (*.zip)"}
MAX_EARLY = 10_000


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@dataclass
class OutputContext:
    """What the page knows: the project, the shown run and whether training runs."""

    project: str | None = None
    file_stem: str = ""  # the project name made safe for file names (by the backend)
    run: str | None = None
    has_checkpoint: bool = False
    features_ready: bool | None = None  # None: not asked yet
    training: bool = False


def with_suffix(path: str, action: str) -> str:
    """The chosen file with the action's suffix added when it has another one (or none)."""
    text = path.strip()
    suffix = SUFFIX[action]
    return text if text.lower().endswith(suffix) else text + suffix


class TrainOutput:
    def __init__(self) -> None:
        self.context = OutputContext()
        self.action = ""
        self.reset()

    def reset(self) -> None:
        self.job_id: str | None = None
        self.starting = self.running = False
        self._early: list[tuple[str, dict[str, Any]]] = []
        self.stage = ""
        self.done = self.total = 0
        self.status = ""  # ok | failed | cancelled once finished; "refused": job.start failed
        self.error = ""
        self.result: dict[str, Any] = {}

    @property
    def busy(self) -> bool:
        return self.starting or self.running

    # when the buttons work -----------------------------------------------------------
    def blocker(self, action: str) -> str:
        """Why ``action``'s button is disabled ("" when it may be pressed)."""
        c = self.context
        if not c.project:
            return "Open a project first."
        if c.training:
            return "Training is running: wait for it to finish (or stop it) first."
        if self.busy:
            return f"{LABELS[self.action]}: wait for it to finish."
        if action == INDEX:
            if c.features_ready is None:
                return "Asking the backend whether the project has features…"
            return "" if c.features_ready else "The project has no features: run Extract first."
        if not c.run or not c.has_checkpoint:
            return "The run has no checkpoint yet: train first (each save writes one)."
        return ""

    # job arguments -------------------------------------------------------------------
    def index_args(self) -> dict[str, Any]:
        return {"project": self.context.project}

    def export_args(self, out: str, action: str) -> dict[str, Any]:
        return {"project": self.context.project, "run": self.context.run,
                "out": with_suffix(out, action)}

    def default_path(self, action: str, folder: str = "") -> str:
        """Where the file dialog starts: ``folder`` (the last one used) or the project's
        ``export/`` folder, with a file named after the project (the backend's
        ``file_stem``, never the name as typed) and the run (a folder name)."""
        c = self.context
        name = c.file_stem or (Path(c.project).name if c.project else "model")
        if c.run and c.run != "main":
            name = f"{name} {c.run}"
        base = Path(folder) if folder else Path(c.project or ".") / "export"
        return str(base / f"{name}{SUFFIX[action]}")

    # the job ----------------------------------------------------------------------------
    def begin(self, action: str) -> None:
        self.reset()
        self.action = action
        self.starting = True

    def started(self, job_id: str) -> list[str]:
        """The ``job.start`` reply: replay this job's early events; returns what changed."""
        self.starting, self.running, self.job_id = False, True, job_id
        early, self._early = self._early, []
        return [what for ev, data in early if (what := self.apply(ev, data))]

    def start_failed(self, message: str) -> None:
        self.starting = self.running = False
        self._early = []
        self.status, self.error = "refused", message

    def apply(self, event: str, data: dict[str, Any]) -> str:
        """One backend event: "" (not ours), "progress" or "finished"."""
        if event not in ("job.progress", "job.finished"):
            return ""
        if self.starting:
            if len(self._early) < MAX_EARLY:
                self._early.append((event, data))
            return ""
        if not self.running or data.get("job_id") != self.job_id:
            return ""
        if event == "job.progress":
            done, total = _num(data.get("done")), _num(data.get("total"))
            self.stage = str(data.get("stage") or self.stage)
            self.done = int(done) if done is not None else self.done
            self.total = int(total) if total is not None else self.total
            return "progress"
        self.running = False
        status = data.get("status")
        self.status = status if status in ("ok", "failed", "cancelled") else "failed"
        self.result = data["result"] if isinstance(data.get("result"), dict) else {}
        err = data.get("error")
        self.error = (str(err.get("message") or err.get("code")) if isinstance(err, dict)
                      else str(err or ""))
        return "finished"

    # words ------------------------------------------------------------------------------
    def progress_text(self) -> str:
        if self.starting:
            return f"{LABELS[self.action]}: starting…"
        if not self.running:
            return ""
        count = f" {self.done} / {self.total}" if self.total else ""
        stage = f" ({self.stage}{count})" if self.stage else ""
        return f"{LABELS[self.action]}…{stage}"

    def result_path(self) -> str:
        """The file the finished job wrote ("" when none)."""
        if self.status != "ok":
            return ""
        key = {INDEX: "index", MODEL: "model", PACKAGE: "package"}.get(self.action, "")
        value = self.result.get(key)
        return value if isinstance(value, str) else ""

    def result_text(self) -> str:
        if not self.status:
            return ""
        what = LABELS[self.action].replace("Building", "building").replace(
            "Exporting", "exporting")
        if self.status == "refused":
            return f"Could not start {what}: {self.error}"
        if self.status == "failed":
            return f"{LABELS[self.action]} failed: {self.error or 'unknown error'}"
        if self.status == "cancelled":
            return f"{LABELS[self.action]} was cancelled; nothing was written."
        return self._ok_text()

    def _ok_text(self) -> str:
        r = self.result
        if self.action == INDEX:
            reduced = " (reduced to k-means centres first)" if r.get("reduced") else ""
            return (f"Index built: {r.get('vectors')} vectors of {r.get('dim')} dimensions, "
                    f"{r.get('n_ivf')} IVF lists{reduced}.")
        where = f"step {r.get('step')}, epoch {r.get('epoch')}"
        if self.action == MODEL:
            return f"Model exported from the checkpoint of {where}."
        index = r.get("index")
        if isinstance(index, str) and index:
            return (f"Package exported from the checkpoint of {where}, with the index "
                    f"{Path(index).name}.")
        return (f"Package exported from the checkpoint of {where}, without an index: build "
                "the index, then export again to include it.")
