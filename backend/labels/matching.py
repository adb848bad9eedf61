"""Matching the lines of an imported label file onto a project's rows, by path.

A line's path is tried, in order, as:
1. the absolute path of a prepared clip (our own exports);
2. a prepared clip's file name (the list was made on another machine or folder);
3. ``source`` + ``start``/``end`` (the JSON form);
4. a GPT-SoVITS slicer name, ``<recording file name>_<start>_<end>.wav`` with the start and
   end as 10-digit sample numbers at 32 kHz (its ``tools/slice_audio.py`` resamples every
   recording to 32 kHz before slicing): the recording's row whose span overlaps the line's
   span the most, when the overlap is at least ``SPAN_OVERLAP`` of their union (another
   slicer cuts the silences a little differently);
5. a recording's file name, when the project keeps that recording as one row.

Rows are the ``labels.get`` view (id, source_id, source_name, start, end, clip, clip_path,
stale); stale rows are never matched. Each line that does not match is reported with its
line number, its path and why.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from backend.labels.formats import Line

SLICER_RATE = 32000
SLICER_NAME = re.compile(r"^(?P<source>.+)_(?P<start>\d{10})_(?P<end>\d{10})\.wav$",
                         re.IGNORECASE)
SPAN_OVERLAP = 0.9  # of the union of the two spans
SPAN_TOLERANCE = 0.02  # seconds: the same span (the slicer works in 10 ms hops)


@dataclass
class Matched:
    pairs: list[tuple[Line, dict[str, Any]]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)  # {line, path, reason}


def file_name(path: str) -> str:
    """The last part of a path written on Windows or elsewhere."""
    return (PureWindowsPath(path) if "\\" in path else PurePosixPath(path)).name


def _key(path: str) -> str:
    return os.path.normcase(os.path.normpath(path))


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two spans (0 when they do not touch)."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    union = max(a[1], b[1]) - min(a[0], b[0])
    return max(inter, 0.0) / union if union > 0 else 0.0


class RowIndex:
    def __init__(self, rows: list[dict[str, Any]]):
        live = [r for r in rows if not r.get("stale")]
        self.by_path = {_key(r["clip_path"]): r for r in live if r.get("clip_path")}
        self.by_clip = {r["clip"]: r for r in live if r.get("clip")}
        self.by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in sorted(live, key=lambda r: (r["start"], r["end"])):
            self.by_source[r.get("source_name") or ""].append(r)
        self.stale = {r["clip"] for r in rows if r.get("stale") and r.get("clip")}

    def find(self, line: Line) -> tuple[dict[str, Any] | None, str]:
        """(row, "") or (None, why not)."""
        if line.path:
            row = self.by_path.get(_key(line.path)) or self.by_clip.get(file_name(line.path))
            if row is not None:
                return row, ""
        if line.source and line.start is not None and line.end is not None:
            return self.by_span(line.source, line.start, line.end)
        name = file_name(line.path or "")
        m = SLICER_NAME.match(name)
        if m and m["source"] in self.by_source:
            a, b = int(m["start"]) / SLICER_RATE, int(m["end"]) / SLICER_RATE
            return self.by_span(m["source"], a, b)
        if m and name not in self.by_source:
            return None, (f"a GPT-SoVITS slicer clip of {m['source']!r}, which is not a "
                          "recording of this project")
        if name and name in self.by_source:
            return self.whole(name)
        if name in self.stale:
            return None, (f"{name} is a clip of an older prepare (its row is stale): export "
                          "again from this project")
        return None, f"no prepared clip or recording of this project is named {name!r}"

    def by_span(self, source: str, start: float, end: float) -> tuple[dict | None, str]:
        rows = self.by_source.get(source)
        if not rows:
            return None, f"no recording of this project is named {source!r}"
        fits = [r for r in rows if _fits(r, start, end)]
        if fits:
            best = max(fits, key=lambda r: overlap((start, end), (r["start"], r["end"])))
            return self._one(source, fits, best)
        near = max(rows, key=lambda r: overlap((start, end), (r["start"], r["end"])))
        return None, (f"no clip of {source} covers {start:.2f}-{end:.2f} s (nearest: "
                      f"{near['start']:.2f}-{near['end']:.2f} s); the project cut this "
                      "recording differently")

    def whole(self, source: str) -> tuple[dict | None, str]:
        rows = self.by_source[source]
        if len({r["source_id"] for r in rows}) == len(rows):
            return self._one(source, rows, rows[0])
        return None, (f"{source} is a whole recording, which this project cut into "
                      f"{len(rows)} clips: the line cannot say which clip its text is for")

    @staticmethod
    def _one(source: str, fits: list[dict[str, Any]], best: dict[str, Any],
             ) -> tuple[dict | None, str]:
        """``best``, unless rows of two recordings of the same name fit the line."""
        if len({r["source_id"] for r in fits}) > 1:
            return None, (f"two recordings of this project are named {source}: the line "
                          "cannot say which one it is for (rename one and import it again)")
        return best, ""


def _fits(row: dict[str, Any], start: float, end: float) -> bool:
    near = abs(row["start"] - start) <= SPAN_TOLERANCE and abs(row["end"] - end) <= \
        SPAN_TOLERANCE
    return near or overlap((start, end), (row["start"], row["end"])) >= SPAN_OVERLAP


def match(lines: list[Line], rows: list[dict[str, Any]]) -> Matched:
    """Pair each line with a row; a second line for the same row is reported, not used."""
    index = RowIndex(rows)
    out = Matched()
    taken: dict[str, int] = {}
    for line in lines:
        row, why = index.find(line)
        if row is not None and row["id"] in taken:
            row, why = None, f"the same clip as line {taken[row['id']]}"
        if row is None:
            out.unmatched.append({"line": line.number, "path": line.path or line.source or "",
                                  "reason": why})
            continue
        taken[row["id"]] = line.number
        out.pairs.append((line, row))
    return out
