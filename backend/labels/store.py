"""``labels.json``: load, and the one locked read-modify-write that every change goes through.

The file (``format`` 1) holds the rows, the sources cut by the table (their clips are exactly
the rows' spans, applied by the next prepare), the next row id, a revision counter and the undo
and redo stacks, all in one JSON object, so one atomic write keeps them consistent: a kill at
any moment leaves the previous version or the new one, never a mix.

Row (a dict, JSON as is):
  id          "r1", "r2", ... never reused
  source_id   the recording (sources.json id)
  start, end  seconds of the recording (a prepared clip's start/end, or a cut made here)
  text        what is said ("" when not transcribed yet)
  language    "en", "zh", "ja", "ko", "yue", ... or None
  speaker     a name, or None (the project's name is used on export)
  confidence  0..1 from the engine, or None
  flag        None, "empty", "low_confidence" (set by transcription) or "user"
  origin      "none" (not transcribed), "transcribed", "edited" (typed or replaced by the
              user), "imported"
  engine      model id that transcribed it (backend.transcribe Engine.model_id), or None
  words       [[word, start, end, prob], ...] in seconds of the recording, or None
  stale       True when the row's span no longer matches a prepared clip of a source the
              table does not cut (the source was prepared again with other settings): kept so
              no text is lost, never exported
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from backend.dataset.project import ProjectError, newer_format_message
from backend.fsutil import atomic_write_bytes

LABELS_FILE = "labels.json"
FORMAT = 1
FLAGS = ("empty", "low_confidence", "user")
ORIGINS = ("none", "transcribed", "edited", "imported")
T = TypeVar("T")

_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


class LabelsError(ProjectError):
    """labels.json cannot be used; the message names the file and what to do."""


@dataclass
class LabelsDoc:
    rows: list[dict[str, Any]] = field(default_factory=list)
    cut_sources: list[str] = field(default_factory=list)  # sources whose clips are the rows
    next_id: int = 1
    revision: int = 0
    undo: list[dict[str, Any]] = field(default_factory=list)
    redo: list[dict[str, Any]] = field(default_factory=list)

    def new_id(self) -> str:
        rid = f"r{self.next_id}"
        self.next_id += 1
        return rid

    def row(self, rid: str) -> dict[str, Any]:
        for r in self.rows:
            if r["id"] == rid:
                return r
        raise KeyError(rid)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "revision": self.revision, "next_id": self.next_id,
                "cut_sources": sorted(self.cut_sources), "rows": self.rows,
                "undo": self.undo, "redo": self.redo}


def sort_rows(doc: LabelsDoc) -> None:
    doc.rows.sort(key=lambda r: (str(r["source_id"]), float(r["start"]), float(r["end"]),
                                 id_number(r["id"])))


def id_number(rid: str) -> int:
    try:
        return int(str(rid).lstrip("r"))
    except ValueError:
        return 0


def labels_path(root: Path) -> Path:
    return Path(root) / LABELS_FILE


def _lock(root: Path) -> threading.RLock:
    key = str(Path(root).resolve())
    with _locks_guard:
        return _locks.setdefault(key, threading.RLock())


def load(root: Path) -> LabelsDoc:
    """The project's labels; an empty document when there is no file yet. A damaged or
    newer-format file raises ``LabelsError`` naming it (nothing is rewritten)."""
    return _load(labels_path(root))[0]


def _load(path: Path) -> tuple[LabelsDoc, str | None]:
    """The document and the file's text (None when there is no file)."""
    if not path.exists():
        return LabelsDoc(), None
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise LabelsError(f"{path} cannot be read ({exc}); restore it from a backup or move "
                          "it away to start the labels afresh", path) from exc
    found = data.get("format") if isinstance(data, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and found > FORMAT:
        raise LabelsError(newer_format_message(path, found), path)
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise LabelsError(f"{path} is not a labels file (no 'rows' list); move it away to "
                          "start the labels afresh", path)
    rows = [_checked_row(path, i, r) for i, r in enumerate(data["rows"])]
    top = max((id_number(r["id"]) for r in rows), default=0)
    doc = LabelsDoc(rows=rows, cut_sources=list(data.get("cut_sources") or []),
                    next_id=max(int(data.get("next_id") or 1), top + 1),
                    revision=int(data.get("revision") or 0),
                    undo=list(data.get("undo") or []), redo=list(data.get("redo") or []))
    return doc, text


_ROW_DEFAULTS: dict[str, Any] = {"text": "", "language": None, "speaker": None,
                                 "confidence": None, "flag": None, "origin": "none",
                                 "engine": None, "words": None, "stale": False}


def _checked_row(path: Path, index: int, row: Any) -> dict[str, Any]:
    """A stored row with its optional fields filled in; LabelsError naming the row when its
    id, recording or span is missing or wrong (a hand edit gone wrong)."""
    ok = (isinstance(row, dict) and isinstance(row.get("id"), str)
          and isinstance(row.get("source_id"), str)
          and all(isinstance(row.get(k), (int, float)) and not isinstance(row.get(k), bool)
                  for k in ("start", "end")))
    if not ok or not 0 <= row["start"] < row["end"]:
        raise LabelsError(f"{path}: row {index + 1} ({str(row)[:80]}) needs an 'id', a "
                          "'source_id' and 0 <= 'start' < 'end' in seconds; fix or remove that "
                          "row, or restore the file from a backup", path)
    # the row's own key order first, so a file read and written again is the same text
    return {**row, **{k: v for k, v in _ROW_DEFAULTS.items() if k not in row}}


def dumps(doc: LabelsDoc) -> str:
    """The file's text: one line per row and per undo/redo step (readable, diffable), each
    line encoded by json's C encoder (an indented dump of thousands of rows is 30 times
    slower, and this runs on every keystroke the table saves)."""
    return _head(doc) + _body(doc)


def _head(doc: LabelsDoc) -> str:
    head = {k: v for k, v in doc.to_json().items() if k not in ("rows", "undo", "redo")}
    return _line(head)[:-1]


def _body(doc: LabelsDoc) -> str:
    def block(items: list[dict[str, Any]]) -> str:
        if not items:
            return "[]"
        return "[\n  " + ",\n  ".join(_line(item) for item in items) + "\n]"

    return (',\n"rows": ' + block(doc.rows) + ',\n"undo": ' + block(doc.undo)
            + ',\n"redo": ' + block(doc.redo) + "}\n")


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def save(root: Path, doc: LabelsDoc, body: str | None = None) -> None:
    text = _head(doc) + (_body(doc) if body is None else body)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (an undecodable file name): \u escapes
        data = json.dumps(doc.to_json(), ensure_ascii=True, allow_nan=False).encode("ascii")
    atomic_write_bytes(labels_path(root), data)


def update(root: Path, fn: Callable[[LabelsDoc], T]) -> T:
    """Load, apply ``fn`` (which changes the document in place and returns anything), bump
    the revision and save atomically, all under this process's lock for the project's labels.
    When ``fn`` raises, nothing is written; when it changes nothing, neither. Callers that
    write a project also hold the project lock (a job) or ``project_lock.editing`` (a
    command)."""
    with _lock(root):
        doc, before = _load(labels_path(root))
        if before is None:  # no file: written only when ``fn`` puts something in
            before = _head(doc) + _body(doc)
        result = fn(doc)
        # one serialisation, compared with the file as read (a big project's rows take a
        # good part of a second to write out: not twice per edit)
        after = _body(doc)
        if _head(doc) + after != before:
            doc.revision += 1
            save(root, doc, after)
        return result
