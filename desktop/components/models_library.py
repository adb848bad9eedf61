"""The voice models the Convert page can use, as ``models.list`` reports them (Qt-free).

A ``Model`` (docs/protocol.md, "Conversion") is ``{id, name, path, index|null, version,
sample_rate, f0, speakers, info, stored_dtype, source: "export"|"imported", size_bytes}``:
the open project's exports plus the models imported into the library. ``ModelsLibrary``
keeps the list, the selection (kept by id across refreshes), the result of an import or a
removal, and the last error in words: what the backend said, then what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NOT_A_VOICE_MODEL = "not_a_voice_model"
UNSAFE_FILE = "unsafe_file"
NOT_FOUND = "not_found"
IO_ERROR = "io_error"

# what to do, after the backend's own message
ADVICE = {
    NOT_A_VOICE_MODEL: "Choose the voice model itself: an RVC weights file (usually "
                       "weights/<name>.pth, tens of MB) or a model package .zip exported by "
                       "Timbre Studio, not a training checkpoint (G_*.pth, D_*.pth), a "
                       "pretrained base or a content encoder.",
    UNSAFE_FILE: "Nothing in it ran. A voice model never needs to run code when it is "
                 "opened: get the model from a source you trust, or ask its author for a "
                 "plain weights file.",
    NOT_FOUND: "Check that the file still exists (it may have been moved or deleted).",
    IO_ERROR: "Check that the disk is not full and that you may write to the library folder.",
}
MODEL_FILTER = "Voice models (*.pth *.zip);;All (*)"
INDEX_FILTER = "Feature index (*.index);;All (*)"


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def size_text(size: int | None) -> str:
    if not size:
        return ""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if size < 10 * scale else \
                f"{size / scale:.0f} {unit}"
    return f"{size} B"


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    path: str
    index: str | None
    version: str
    sample_rate: int
    f0: bool
    speakers: int
    info: str
    stored_dtype: str
    source: str
    size_bytes: int

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Model:
        index = d.get("index")
        return cls(id=str(d.get("id") or d.get("path") or ""), name=str(d.get("name") or ""),
                   path=str(d.get("path") or ""),
                   index=index if isinstance(index, str) and index else None,
                   version=str(d.get("version") or "?"),
                   sample_rate=_int(d.get("sample_rate")), f0=bool(d.get("f0")),
                   speakers=max(1, _int(d.get("speakers"), 1)), info=str(d.get("info") or ""),
                   stored_dtype=str(d.get("stored_dtype") or ""),
                   source=str(d.get("source") or ""), size_bytes=_int(d.get("size_bytes")))

    @property
    def rate_text(self) -> str:
        return f"{self.sample_rate // 1000} kHz" if self.sample_rate else "?"

    @property
    def pitch_text(self) -> str:
        return "pitch" if self.f0 else "no pitch"

    @property
    def index_text(self) -> str:
        return "index" if self.index else "no index"

    @property
    def source_text(self) -> str:
        return {"export": "project export", "imported": "library"}.get(self.source,
                                                                       self.source)

    @property
    def removable(self) -> bool:
        """Only imported models are removed from the library (exports are the project's)."""
        return self.source == "imported"

    def cells(self) -> tuple[str, ...]:
        """One row of the models table (``COLUMNS``)."""
        return (self.name, self.version, self.rate_text, self.pitch_text, self.index_text)

    def details(self) -> str:
        parts = [f"{self.name} ({self.source_text}): RVC {self.version}, {self.rate_text}",
                 "with pitch (f0)" if self.f0 else "without pitch (f0): the key and pitch "
                 "method do nothing",
                 f"index {self.index}" if self.index else "no feature index (index rate "
                 "does nothing)"]
        if self.stored_dtype:
            parts.append(f"stored as {self.stored_dtype}")
        if self.size_bytes:
            parts.append(size_text(self.size_bytes))
        if self.info:
            parts.append(f"info: {self.info}")
        return "; ".join(parts) + f". File: {self.path}"


COLUMNS = ("Name", "Version", "Rate", "Pitch", "Index")


def error_text(code: str, message: str, what: str = "") -> str:
    """An error reply in words: the backend's message, then what to do."""
    head = f"{what}: {message}" if what else message
    advice = ADVICE.get(code)
    return f"{head}\n{advice}" if advice else head


class ModelsLibrary:
    def __init__(self) -> None:
        self.models: list[Model] = []
        self.selected_id: str | None = None
        self.loaded = False
        self.error = ""  # the last error in words ("" when the last request went well)
        self.message = ""  # the last import/removal, in words
        self.project: str | None = None

    # the list ----------------------------------------------------------------------------
    def list_args(self) -> dict[str, Any]:
        return {"project": self.project} if self.project else {}

    def set_listing(self, result: dict[str, Any]) -> None:
        """A ``models.list`` result; the selection stays on the same model if it is listed."""
        raw = result.get("models")
        self.models = [Model.from_dict(m) for m in raw if isinstance(m, dict)] \
            if isinstance(raw, list) else []
        self.loaded = True
        self.error = ""
        if self.by_id(self.selected_id) is None:
            self.selected_id = self.models[0].id if self.models else None

    def list_failed(self, code: str, message: str) -> None:
        self.loaded = True
        self.error = error_text(code, message, "Could not list the voice models")

    def by_id(self, model_id: str | None) -> Model | None:
        return next((m for m in self.models if m.id == model_id), None)

    def select(self, model_id: str | None) -> Model | None:
        model = self.by_id(model_id)
        self.selected_id = model.id if model is not None else None
        return model

    @property
    def selected(self) -> Model | None:
        return self.by_id(self.selected_id)

    def index_of(self, model_id: str | None) -> int:
        return next((i for i, m in enumerate(self.models) if m.id == model_id), -1)

    # import / remove ------------------------------------------------------------------------
    def imported(self, result: dict[str, Any]) -> Model | None:
        """A ``models.import`` result: the model is listed (replacing one with its id) and
        selected."""
        raw = result.get("model")
        if not isinstance(raw, dict):
            self.error = "The backend's import answer named no model."
            return None
        model = Model.from_dict(raw)
        if raw.get("kind") == "tts":  # the library's text-to-speech models are the Speak page's
            self.error = ""
            self.message = (f"Imported {model.name}, a text-to-speech model: pick it on the "
                            "Speak page (this list holds voice-conversion models).")
            return None
        at = self.index_of(model.id)
        if at >= 0:
            self.models[at] = model
        else:
            self.models.append(model)
        self.selected_id = model.id
        self.error = ""
        self.message = f"Imported {model.name} ({model.version}, {model.rate_text}, " \
                       f"{model.pitch_text}, {model.index_text})."
        return model

    def import_failed(self, path: str, code: str, message: str) -> None:
        self.message = ""
        self.error = error_text(code, message, f"Could not import {path}")

    def removed(self, model_id: str) -> None:
        model = self.by_id(model_id)
        self.models = [m for m in self.models if m.id != model_id]
        if self.selected_id == model_id:
            self.selected_id = self.models[0].id if self.models else None
        self.error = ""
        self.message = f"Removed {model.name if model else model_id} from the library."

    def remove_failed(self, code: str, message: str) -> None:
        self.message = ""
        self.error = error_text(code, message, "Could not remove the model")

    def remove_blocker(self) -> str:
        """Why the selected model cannot be removed ("" when it can)."""
        model = self.selected
        if model is None:
            return "Select a model first."
        if not model.removable:
            return (f"{model.name} is an export of the open project; delete it from the "
                    "project's export folder if you no longer want it.")
        return ""
