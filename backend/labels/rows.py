"""The rows and the prepared clips: keeping ``labels.json`` in step with the manifest, and the
row view the ``labels.*`` commands reply with.

For a source the table has not cut, rows follow the prepared clips of ``prepared/manifest.json``
(one row per clip, matched by source id and both ends within ``MATCH_S``): ``sync`` adds a row
(origin "none") for each new clip and marks ``stale`` the rows whose clip is gone, so no text is
ever dropped. For a CUT source the rows are the truth (the next prepare writes their spans), so
``sync`` never adds rows for it; a row of it whose span has no prepared clip yet is ``pending``.
Stale rows that hold nothing at all are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend.dataset import project as proj
from backend.labels import history
from backend.labels.store import LabelsDoc, id_number, sort_rows

MATCH_S = 0.005  # a row and a clip are the same when both ends differ by at most this


def new_row(rid: str, source_id: str, start: float, end: float) -> dict[str, Any]:
    return {"id": rid, "source_id": source_id, "start": round(float(start), 6),
            "end": round(float(end), 6), "text": "", "language": None, "speaker": None,
            "confidence": None, "flag": None, "origin": "none", "engine": None,
            "words": None, "stale": False}


def same_span(row: dict[str, Any], start: float, end: float) -> bool:
    return abs(float(row["start"]) - start) <= MATCH_S and abs(float(row["end"]) - end) <= MATCH_S


def manifest_slices(project: proj.Project) -> dict[str, list[dict[str, Any]]]:
    """Source id -> its prepared clips (manifest slice dicts), for the project's sources in
    their order."""
    if not project.path(proj.MANIFEST_FILE).is_file():
        return {}
    entries = project.load_manifest()["sources"]
    out: dict[str, list[dict[str, Any]]] = {}
    for src in project.load_sources():  # in the project's order: row ids follow it
        entry = entries.get(src["id"])
        if isinstance(entry, dict):
            out[src["id"]] = [s for s in entry.get("slices", []) if isinstance(s, dict)]
    return out


class SpanIndex:
    """Spans (dicts with ``start`` and ``end``) found by their ends in constant time, so a
    sync of thousands of rows stays fast: buckets of 10 ms by start."""

    _BIN = 0.01  # > 2 * MATCH_S, so a match lies in the same bucket or a neighbour

    def __init__(self, items: Iterable[dict[str, Any]] = ()) -> None:
        self.bins: dict[int, list[dict[str, Any]]] = {}
        for item in items:
            self.add(item)

    def add(self, item: dict[str, Any]) -> None:
        self.bins.setdefault(int(float(item["start"]) // self._BIN), []).append(item)

    def find(self, start: float, end: float) -> dict[str, Any] | None:
        k = int(start // self._BIN)
        for b in (k, k - 1, k + 1):
            for item in self.bins.get(b, ()):
                if same_span(item, start, end):
                    return item
        return None


def find_clip(row: dict[str, Any], clips: SpanIndex) -> dict[str, Any] | None:
    return clips.find(float(row["start"]), float(row["end"]))


def sync(doc: LabelsDoc, project: proj.Project) -> set[str]:
    """Bring the rows in step with the prepared clips (in place): a new row for every clip of
    an uncut source that has none, ``stale`` set on rows of uncut sources whose clip is gone
    (and cleared when it is back); rows of removed sources are stale too. Rows are kept in
    (source, start) order. Returns the ids of the rows it added or changed."""
    clips_by_source = manifest_slices(project)
    index = {sid: SpanIndex(clips) for sid, clips in clips_by_source.items()}
    present = {s["id"] for s in project.load_sources()}
    cut = set(doc.cut_sources)
    live: dict[str, SpanIndex] = {sid: SpanIndex() for sid in clips_by_source}
    touched: set[str] = set()
    for row in doc.rows:
        sid = row["source_id"]
        if sid not in present:
            stale = True
        elif sid in cut:
            stale = bool(row.get("stale"))  # a cut source keeps what it had when it was cut
        else:
            stale = sid not in index or find_clip(row, index[sid]) is None
        if bool(row.get("stale")) != stale:
            row["stale"] = stale
            touched.add(row["id"])
        if not stale and sid in live:
            live[sid].add(row)
    for sid, clips in clips_by_source.items():
        if sid in cut:
            continue
        for clip in clips:
            if find_clip(clip, live[sid]) is None:
                row = new_row(doc.new_id(), sid, float(clip["start"]), float(clip["end"]))
                doc.rows.append(row)
                live[sid].add(row)
                touched.add(row["id"])
    _drop_blank_stale(doc)
    sort_rows(doc)
    return touched


def _drop_blank_stale(doc: LabelsDoc) -> None:
    """Stale rows that hold nothing (never transcribed, no text, flag, speaker or language)
    and that no undo or redo step refers to go: keeping them would only clutter the table."""
    blank = {r["id"] for r in doc.rows if r.get("stale") and r.get("origin") == "none"
             and not str(r.get("text") or "").strip() and not r.get("flag")
             and not r.get("speaker") and not r.get("language")}
    if blank:
        blank -= history.referenced(doc)
        doc.rows = [r for r in doc.rows if r["id"] not in blank]


class View:
    """What the replies add to a stored row: its clip (or none yet), paths and duration."""

    def __init__(self, project: proj.Project):
        self.project = project
        self.sources = {s["id"]: s for s in project.load_sources()}
        self.order = {sid: i for i, sid in enumerate(self.sources)}
        self.clips = {sid: SpanIndex(c) for sid, c in manifest_slices(project).items()}

    def row(self, row: dict[str, Any]) -> dict[str, Any]:
        src = self.sources.get(row["source_id"]) or {}
        clips = self.clips.get(row["source_id"])
        clip = None if row.get("stale") or clips is None else find_clip(row, clips)
        return {**row, "stale": bool(row.get("stale")),
                "clip": clip["name"] if clip else None,
                "clip_path": str(self.project.root / clip["path"]) if clip else None,
                "source_path": src.get("path"), "source_name": src.get("name"),
                "duration": round(float(row["end"]) - float(row["start"]), 6),
                "pending": clip is None and not row.get("stale")}

    def rows(self, doc: LabelsDoc) -> list[dict[str, Any]]:
        ordered = sorted(doc.rows, key=lambda r: (self.order.get(r["source_id"], len(self.order)),
                                                  float(r["start"]), id_number(r["id"])))
        return [self.row(r) for r in ordered]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over view rows (stale rows count only as stale)."""
    live = [r for r in rows if not r["stale"]]
    return {"rows": len(live), "flagged": sum(1 for r in live if r.get("flag")),
            "empty": sum(1 for r in live if not str(r.get("text") or "").strip()),
            "pending": sum(1 for r in live if r["pending"]),
            "stale": len(rows) - len(live),
            "seconds": round(sum(r["duration"] for r in live), 3)}
