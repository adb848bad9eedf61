"""Transcribe the project's clips into labels.json (text, language, confidence, words).

Incremental: rows already transcribed by the same engine model, and rows the user edited or
imported, are skipped (``redo`` transcribes again every row the user has not written). Safe to
cancel or kill at any moment: results go into labels.json through the one locked
read-modify-write (``backend.labels.store.update``) after the first clip and then at least
every two seconds, so a kill loses at most the last two seconds of work, never a user's
text. Empty text is flagged ``empty``, a confidence below 0.5 ``low_confidence``
(``backend.transcribe.record.LOW_CONFIDENCE``).
With ``cut_long`` every kept segment of a source longer than that many seconds is transcribed
whole with word timestamps and cut at word boundaries (``backend/transcribe/cutting.py``); the
cut is recorded in labels.json and the next prepare writes exactly those clips.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backend.dataset.project import Project, ProjectError
from backend.jobs.common import in_thread, project_arg
from backend.kernel import BadArgs, JobContext
from backend.transcribe.engine import DEFAULT_ENGINE, ENGINES, Engine, Transcript

_SAVE_EVERY_S = 2.0
_USER_ORIGINS = ("edited", "imported")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Task:
    """One piece of audio to transcribe: a row (``rid``) or a whole segment of a source to
    cut (``rid`` None)."""

    rid: str | None
    source_id: str
    start: float  # seconds of the recording
    end: float
    audio: str  # the file to decode; its audio starts at ``start`` of the recording
    span: tuple[float, float] | None  # the part of ``audio`` to decode; None: all of it
    name: str  # what progress shows


@dataclass(frozen=True)
class TranscribeParams:
    root: Path
    engine_name: str
    model: str | None
    device: str
    language: str | None
    redo: bool
    cut_long: float | None
    engine: Engine | None = None  # opened by ``run`` (loading a model takes seconds)


def _language(value: Any, engine_name: str) -> str | None:
    if value in (None, "", "auto"):
        return None
    if not isinstance(value, str) or not value.isascii() or not value.isalpha() \
            or not 2 <= len(value) <= 3:
        raise BadArgs(f"language must be a language code such as en, zh, ja, ko or yue (or "
                      f"auto), not {value!r}")
    from backend.transcribe.engine import engine_class

    known = engine_class(engine_name).languages
    if known is not None and value.lower() not in known:
        raise BadArgs(f"the {engine_name} engine does not recognise language {value!r}; it "
                      f"knows {', '.join(known)}")
    return value.lower()


def _device(value: Any) -> str:
    """Checked here; ``auto`` is resolved by the engine (CUDA when it can use a GPU)."""
    name = str(value or "auto").strip().lower()
    if name not in DEVICES and not (name.startswith("cuda:") and name[5:].isdigit()):
        raise BadArgs(f"unknown device {value!r}; use auto, cpu, cuda or cuda:N")
    return name


def _cut_long(value: Any) -> float | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 1:
        raise BadArgs(f"'cut_long' must be a number of seconds (at least 1), not {value!r}")
    return float(value)


def prepare(args: dict) -> TranscribeParams:
    from backend.labels import rows, store
    from backend.transcribe.engine import check_engine, engine_class

    project = project_arg(args)
    try:
        project.check_files()
        doc = store.load(project.root)
        clips = rows.manifest_slices(project)
    except ProjectError as exc:  # damaged, or made by a newer version
        raise BadArgs(exc.message) from exc
    cut_long = _cut_long(args.get("cut_long"))
    if not any(clips.values()) and not doc.cut_sources and cut_long is None:
        raise BadArgs(f"project {project.root} has no prepared clips: run Prepare first")
    name = str(args.get("engine") or DEFAULT_ENGINE)
    engine_class(name)  # BadArgs naming the known engines
    language = _language(args.get("language"), name)
    model = args.get("model") or None
    if model is not None and not isinstance(model, str):
        raise BadArgs(f"'model' must be a model name or folder, not {model!r}")
    device = _device(args.get("device"))
    check_engine(name, model=model, language=language, device=device)  # MissingAsset: how
    return TranscribeParams(project.root, name, model, device, language,
                            bool(args.get("redo")), cut_long)


def project_folder(params: TranscribeParams) -> Path:
    return params.root


def run(params: TranscribeParams, ctx: JobContext) -> dict:
    from backend.dataset.project import open_project
    from backend.labels import rows
    from backend.transcribe.engine import open_engine

    project = open_project(params.root)
    ctx.progress("loading the model", 0, 1, force=True)
    params = replace(params, engine=open_engine(params.engine_name, model=params.model,
                                                language=params.language,
                                                device=params.device))

    def synced(doc: Any) -> Any:
        rows.sync(doc, project)  # rows for new clips; stale marks
        return doc

    doc = _Saver(params, ctx, []).apply(synced)
    cuts, refused = _cut_tasks(project, doc, params, ctx)
    todo, skipped = _row_tasks(project, doc, params, exclude={t.source_id for t in cuts})
    saver = _Saver(params, ctx, cuts)
    stats = saver.stats
    stats["skipped"], stats["failed"] = skipped, refused
    tasks = cuts + todo
    total = round(sum(t.end - t.start for t in tasks), 2)
    ctx.progress("transcribing", 0, total, force=True, detail=tasks[0].name if tasks else None)
    try:
        with contextlib.closing(_results(params, ctx, tasks)) as results:
            for i, (task, out) in enumerate(results):
                saver.add(task, out)
                saver.flush(force=False)
                now = tasks[i + 1] if i + 1 < len(tasks) else task  # the clip worked on now
                ctx.progress("transcribing", round(min(stats["seconds"], total), 2), total,
                             detail=now.name)
    finally:  # a cancel or a failure keeps what is finished
        saver.flush(force=True)
    ctx.progress("transcribing", total, total, force=True)
    return {"transcribed": stats["transcribed"], "skipped": stats["skipped"],
            "flagged": stats["flagged"], "failed": stats["failed"],
            "cut_sources": stats["cut_sources"], "seconds": round(stats["seconds"], 2),
            "engine": params.engine.model_id, "revision": saver.revision or doc.revision}


# planning --------------------------------------------------------------------------------

def _source_name(source: dict[str, Any]) -> str:
    return str(source.get("name") or Path(str(source.get("path", "?"))).name)


def _row_tasks(project: Project, doc: Any, params: TranscribeParams,
               exclude: set[str]) -> tuple[list[Task], int]:
    """(rows to transcribe, how many are skipped): not stale, not written by the user, not
    done by this engine's model (unless ``redo``)."""
    from backend.labels import rows

    sources = {s["id"]: s for s in project.load_sources()}
    clips = {sid: rows.SpanIndex(c) for sid, c in rows.manifest_slices(project).items()}
    todo, skipped = [], 0
    model_id = params.engine.model_id
    for row in doc.rows:
        sid = row["source_id"]
        if row.get("stale") or sid in exclude or sid not in sources:
            continue
        done = row.get("origin") == "transcribed" and row.get("engine") == model_id
        if row.get("origin") in _USER_ORIGINS or (done and not params.redo):
            skipped += 1
            continue
        start, end = float(row["start"]), float(row["end"])
        clip = rows.find_clip(row, clips[sid]) if sid in clips else None
        name = f"{_source_name(sources[sid])} {start:.2f}-{end:.2f} s"  # what the user knows
        if clip is not None:
            todo.append(Task(row["id"], sid, start, end, str(project.root / clip["path_16k"]),
                             None, name))
        else:  # pending: no prepared clip for this span yet, read the recording
            todo.append(Task(row["id"], sid, start, end, str(sources[sid]["path"]),
                             (start, end), name))
    return todo, skipped


def _cut_tasks(project: Project, doc: Any, params: TranscribeParams,
               ctx: JobContext) -> tuple[list[Task], list[dict[str, Any]]]:
    """(the kept segments of the sources to cut: longer than ``cut_long``, not cut yet;
    the sources not cut because the user has written in their rows)."""
    if params.cut_long is None:
        return [], []
    edits = project.load_edits()
    tasks, refused = [], []
    for source in project.load_sources():
        sid, duration = source["id"], float(source.get("duration") or 0.0)
        if source.get("status") != "ok" or duration <= params.cut_long:
            continue
        name = _source_name(source)
        if sid in doc.cut_sources:
            ctx.log(f"{name} is cut already (labels.json); its rows are transcribed as they "
                    "are", "info")
            continue
        mine = [r for r in doc.rows if r["source_id"] == sid and not r.get("stale")
                and r.get("origin") in _USER_ORIGINS and str(r.get("text") or "").strip()]
        if mine:
            message = (f"{name} was not cut at its words: row {mine[0]['id']} holds text you "
                       "typed or imported, which a new cut would drop; its rows are "
                       "transcribed as they are (merge or delete them by hand to recut)")
            refused.append({"id": None, "source_id": sid, "message": message})
            ctx.log(message, "warning")
            continue
        segments = project.segments_of(sid, edits) or [[0.0, duration]]
        for i, (a, b) in enumerate(segments):
            label = name + (f" part {i + 1}" if len(segments) > 1 else "")
            tasks.append(Task(None, sid, float(a), float(b), str(source["path"]),
                              (float(a), float(b)), label))
    return tasks, refused


# transcription (a worker thread, so the job answers cancel while a clip is decoded) --------

def _read(task: Task) -> Any:
    import numpy as np

    from backend.dataset.audio_io import iter_blocks, load
    from backend.transcribe.engine import SAMPLE_RATE

    if task.span is None:
        return load(task.audio, sr=SAMPLE_RATE)[0]
    a, b = task.span
    parts = list(iter_blocks(task.audio, 1 << 16, sr=SAMPLE_RATE, start=a, stop=b))
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _transcribe(params: TranscribeParams, task: Task) -> dict[str, Any]:
    try:
        audio = _read(task)
        tr = params.engine.transcribe(audio, language=params.language,
                                      word_timestamps=True)
    except Exception as exc:  # this clip only: the others go on
        return {"error": _describe(task, exc)}
    return {"transcript": tr}


def _describe(task: Task, exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return text if task.audio in text or Path(task.audio).name in text \
        else f"{task.audio}: {text}"


def _results(params: TranscribeParams, ctx: JobContext,
             tasks: list[Task]) -> Iterator[tuple[Task, dict[str, Any]]]:
    """Yield ``(task, {"transcript"} or {"error"})`` in order; the engine runs in a thread
    that stops after the clip in flight when the job stops."""
    if not tasks:
        return

    def work(stop: threading.Event, put: Any) -> None:
        for task in tasks:
            if stop.is_set():
                return
            put((task, _transcribe(params, task)))

    # not a daemon: after a cancel it ends with the clip in flight (an engine's native
    # threads still running at interpreter exit can abort the process)
    yield from in_thread(ctx, work, len(tasks), name="transcribe-worker")


# recording -------------------------------------------------------------------------------

class _Saver:
    """Finished results waiting to go into labels.json, written through ``store.update``
    after the first result and then at most every ``_SAVE_EVERY_S``; a source to cut waits
    until all its segments are transcribed (its rows are replaced at once)."""

    def __init__(self, params: TranscribeParams, ctx: JobContext, cuts: list[Task]):
        self.params, self.ctx = params, ctx
        self.rows: list[tuple[Task, Transcript]] = []
        self.cuts: dict[str, list[tuple[Task, Transcript]]] = {}  # complete: ready to record
        self.parts: dict[str, list[tuple[Task, Transcript] | None]] = {}
        self.segments = {t.source_id: sum(1 for c in cuts if c.source_id == t.source_id)
                         for t in cuts}
        self.last_save = 0.0
        self.revision: int | None = None
        self.stats: dict[str, Any] = {"transcribed": 0, "skipped": 0, "flagged": 0,
                                      "failed": [], "cut_sources": [], "seconds": 0.0}

    def apply(self, fn: Any) -> Any:
        """``fn(doc)`` inside the one locked read-modify-write; ``labels.changed`` when the
        file changed."""
        from backend.labels import store

        seen: dict[str, Any] = {}

        def change(doc: Any) -> Any:
            seen["doc"], seen["before"] = doc, doc.revision
            return fn(doc)

        out = store.update(self.params.root, change)
        self.revision = seen["doc"].revision
        if self.revision != seen["before"]:
            self.ctx.event("labels.changed", {"project": str(self.params.root),
                                              "revision": self.revision})
        return out

    def add(self, task: Task, out: dict[str, Any]) -> None:
        self.stats["seconds"] += task.end - task.start
        if "error" in out:
            self._failed(task.rid, task.source_id, out["error"])
        elif task.rid is not None:
            self.rows.append((task, out["transcript"]))
        else:
            parts = self.parts.setdefault(task.source_id, [])
            parts.append((task, out["transcript"]))
            if len(parts) == self.segments[task.source_id]:
                self.cuts[task.source_id] = parts

    def _failed(self, rid: str | None, source_id: str, message: str) -> None:
        self.stats["failed"].append({"id": rid, "source_id": source_id, "message": message})
        self.ctx.log(message, "error")
        if rid is None:  # one segment failed: the source is not cut
            self.segments[source_id] = -1

    def flush(self, *, force: bool) -> None:
        if not (self.rows or self.cuts):
            return
        if not force and self.last_save and \
                time.monotonic() - self.last_save < _SAVE_EVERY_S:
            return
        rows_, self.rows = self.rows, []
        cuts, self.cuts = self.cuts, {}
        self.apply(lambda doc: self._record(doc, rows_, cuts))
        self.last_save = time.monotonic()

    def _record(self, doc: Any, rows_: list[tuple[Task, Transcript]],
                cuts: dict[str, list[tuple[Task, Transcript]]]) -> None:
        from backend.transcribe import record

        model_id = self.params.engine.model_id
        for task, tr in rows_:
            outcome = record.set_row(doc, str(task.rid), task.start, task.end, tr, model_id)
            self.stats["skipped" if outcome == "skipped" else "transcribed"] += 1
            self.stats["flagged"] += outcome == "flagged"
        for sid, parts in cuts.items():
            self._record_cut(doc, sid, parts, model_id)

    def _record_cut(self, doc: Any, sid: str, parts: list[tuple[Task, Transcript]],
                    model_id: str) -> None:
        from backend.transcribe import record

        pieces = record.cut_pieces([(t.start, t.end, tr) for t, tr in parts])
        if not pieces:
            self._failed(None, sid, f"{parts[0][0].name}: no words were recognised, so it "
                         "was not cut; check the recording or try another engine")
            return
        try:
            ids = record.cut_source(doc, sid, pieces, model_id)
        except ValueError as exc:  # a row of the source holds the user's text
            self._failed(None, sid, f"{parts[0][0].name} was not cut: {exc}")
            return
        self.stats["cut_sources"].append(sid)
        self.stats["transcribed"] += len(ids)
        self.stats["flagged"] += sum(1 for rid in ids if doc.row(rid).get("flag"))


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="project folder")
    parser.add_argument("--engine", default=DEFAULT_ENGINE, choices=tuple(ENGINES),
                        help=f"transcription engine (default: {DEFAULT_ENGINE})")
    parser.add_argument("--language", help="language code (en, zh, ja, ko, yue, ...; "
                        "default: detected, or the engine's only language)")
    parser.add_argument("--model", help="the engine's model: an asset name (tiny, small, "
                        "large-v3, ...) or a model folder")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--redo", action="store_true", help="transcribe again the rows "
                        "already done by this model (never the rows you edited or imported)")
    parser.add_argument("--cut-long", type=float, metavar="SECONDS",
                        help="cut each source longer than this at word boundaries (clips of "
                        "at most 12 s, applied by the next prepare)")


def args_from_cli(ns: argparse.Namespace) -> dict:
    return {"project": ns.project, "engine": ns.engine, "language": ns.language,
            "model": ns.model, "device": ns.device, "redo": ns.redo, "cut_long": ns.cut_long}
