"""What the Train page makes of a run (Qt-free): the retrieval index and the exports.

``TrainOutput`` decides when "Build index", "Export model…" and "Export package…" may
be pressed (``blocker``), builds the ``index`` / ``export`` job arguments, reads the
progress and the end of the one job it started from its ``JobHandle`` and words them.
A text-to-speech run (``OutputContext.model`` "vits") exports the same way (its model
file is for the Speak page) and has no retrieval index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.components.job_handle import REQUESTED, JobHandle
from desktop.components.train_kind import MODEL_KINDS, RVC, VITS

INDEX, MODEL, PACKAGE = "index", "model", "package"
ACTIONS = (INDEX, MODEL, PACKAGE)
LABELS = {INDEX: "Building the index", MODEL: "Exporting the model",
          PACKAGE: "Exporting the package"}
SUFFIX = {MODEL: ".pth", PACKAGE: ".zip"}
FILTERS = {MODEL: "RVC voice model (*.pth)", PACKAGE: "Model package (*.zip)"}
TTS_FILTERS = {MODEL: "Text-to-speech model (*.pth)", PACKAGE: "Model package (*.zip)"}
NO_TTS_INDEX = ("A text-to-speech model uses no retrieval index (the index is for voice "
                "conversion).")


def file_filter(action: str, model: str) -> str:
    return (TTS_FILTERS if model == VITS else FILTERS)[action]


@dataclass
class OutputContext:
    """What the page knows: the project, the shown run and whether training runs."""

    project: str | None = None
    file_stem: str = ""  # the project name made safe for file names (by the backend)
    run: str | None = None
    has_checkpoint: bool = False
    features_ready: bool | None = None  # None: not asked yet
    training: bool = False
    model: str = RVC  # the shown run's kind: rvc | vits


def with_suffix(path: str, action: str) -> str:
    """The chosen file with the action's suffix added when it has another one (or none)."""
    text = path.strip()
    suffix = SUFFIX[action]
    return text if text.lower().endswith(suffix) else text + suffix


class TrainOutput:
    def __init__(self) -> None:
        self.context = OutputContext()
        self.action = ""
        self.job: JobHandle | None = None  # the index or export job, once one was started

    def follow(self, action: str, job: JobHandle) -> None:
        """Show ``job`` (just started for ``action``) from now on."""
        self.action, self.job = action, job

    @property
    def busy(self) -> bool:
        """The job is requested or running: one at a time."""
        return self.job is not None and self.job.active

    @property
    def running(self) -> bool:
        """The job runs in the backend (it has an id: it can be cancelled)."""
        return self.busy and self.job is not None and self.job.job_id is not None

    @property
    def status(self) -> str:
        """"" while none ended; ok | failed | cancelled; "refused": the start failed."""
        job = self.job
        if job is None or job.active:
            return ""
        return "refused" if job.refused else job.state

    @property
    def error(self) -> str:
        return self.job.error_message if self.job is not None else ""

    @property
    def result(self) -> dict[str, Any]:
        return self.job.result if self.job is not None else {}

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
            if c.model == VITS:
                return NO_TTS_INDEX
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

    # words ------------------------------------------------------------------------------
    def progress_text(self) -> str:
        job = self.job
        if job is None or not job.active:
            return ""
        if job.state == REQUESTED:
            return f"{LABELS[self.action]}: starting…"
        count = f" {int(job.done)} / {int(job.total)}" if job.total else ""
        stage = f" ({job.stage}{count})" if job.stage else ""
        return f"{LABELS[self.action]}…{stage}"

    def result_path(self) -> str:
        """The file the finished job wrote ("" when none)."""
        if self.status != "ok":
            return ""
        key = {INDEX: "index", MODEL: "model", PACKAGE: "package"}.get(self.action, "")
        if self.result.get("model") in MODEL_KINDS:  # a text-to-speech export: its ``path``
            key = "path"
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
        if r.get("model") == VITS or self.context.model == VITS:
            return self._tts_ok_text(where)
        if self.action == MODEL:
            return f"Model exported from the checkpoint of {where}."
        index = r.get("index")
        if isinstance(index, str) and index:
            return (f"Package exported from the checkpoint of {where}, with the index "
                    f"{Path(index).name}.")
        return (f"Package exported from the checkpoint of {where}, without an index: build "
                "the index, then export again to include it.")

    def _tts_ok_text(self, where: str) -> str:
        if self.action == MODEL:
            return (f"Text-to-speech model exported from the checkpoint of {where}: pick it "
                    "on the Speak page.")
        return (f"Package exported from the checkpoint of {where}: the text-to-speech model, "
                "its config.json and a model card.")
