"""Non-destructive edits of one recording, for the waveform editor (no Qt).

Edits are the kept segments ``[[start, end], ...]`` in seconds of the
*source's* timeline, sorted and non-overlapping; ``None`` means the whole
file is kept. The view may show a slice of the source: view time ``t`` is
source time ``t + offset``, and every operation takes view times.

- ``split_at(t)``: the segment containing ``t`` becomes ``[s, t]`` and ``[t, e]``.
- ``delete(a, b)``: removes ``[a, b]`` from all segments.
- ``trim(a, b)``: keeps only ``[a, b]`` of what the view shows (for a whole
  source: the intersection of the segments with ``[a, b]``; for a slice the
  rest of the source outside the slice is left alone).

An edit that would keep nothing is refused (``EditRefused``): a source always
keeps at least one segment (remove the source from the project instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EPS = 1e-6
MIN_SEGMENT = 0.001  # pieces shorter than 1 ms are dropped
MAX_HISTORY = 200

Segments = list[tuple[float, float]]


class EditRefused(ValueError):
    """An edit that cannot be made; the message says why."""


def normalize(segments: Any, source_duration: float) -> Segments:
    """Sorted, clipped, merged-where-overlapping segments (validates input)."""
    if segments is None:
        return [(0.0, source_duration)]
    out: Segments = []
    for seg in segments:
        if not isinstance(seg, (list, tuple)) or len(seg) != 2:
            raise ValueError(f"a segment must be [start, end], got {seg!r}")
        s, e = max(0.0, float(seg[0])), min(source_duration, float(seg[1]))
        if e - s >= MIN_SEGMENT:
            out.append((s, e))
    out.sort()
    merged: Segments = []
    for s, e in out:
        if merged and s < merged[-1][1] - EPS:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _remove(segments: Segments, a: float, b: float) -> Segments:
    if b - a < MIN_SEGMENT:
        return list(segments)
    out: Segments = []
    for s, e in segments:
        if e <= a + EPS or s >= b - EPS:
            out.append((s, e))
            continue
        if a - s >= MIN_SEGMENT:
            out.append((s, a))
        if e - b >= MIN_SEGMENT:
            out.append((b, e))
    return out


@dataclass
class EditModel:
    """Kept segments of one source plus the view's selection and cursor."""

    duration: float  # of the audio shown (the source, or the slice)
    source_duration: float | None = None  # of the source; defaults to offset + duration
    offset: float = 0.0  # source time of view time 0
    source_id: str = ""
    segments: Segments = field(default_factory=list)
    selection: tuple[float, float] | None = None
    cursor: float | None = None
    _undo: list[Segments] = field(default_factory=list, repr=False)
    _redo: list[Segments] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise ValueError("duration must be positive")
        if self.source_duration is None:
            self.source_duration = self.offset + self.duration
        if not self.segments:
            self.segments = [(0.0, self.source_duration)]

    @classmethod
    def for_source(cls, source_id: str, duration: float, segments: Any = None) -> EditModel:
        return cls(duration=duration, source_id=source_id,
                   segments=normalize(segments, duration))

    @classmethod
    def for_slice(cls, source_id: str, start: float, end: float, source_duration: float,
                  segments: Any = None) -> EditModel:
        return cls(duration=end - start, source_duration=source_duration, offset=start,
                   source_id=source_id, segments=normalize(segments, source_duration))

    # state ---------------------------------------------------------------
    @property
    def is_whole(self) -> bool:
        sd = float(self.source_duration or 0.0)
        return len(self.segments) == 1 and self.segments[0][0] <= EPS \
            and self.segments[0][1] >= sd - EPS

    def to_json(self) -> list[list[float]] | None:
        """What ``project.set_edits`` takes: ``None`` when the whole file is kept."""
        if self.is_whole:
            return None
        return [[round(s, 6), round(e, 6)] for s, e in self.segments]

    def from_json(self, segments: Any) -> None:
        """Replace the segments (e.g. from the project); clears the history."""
        self.segments = normalize(segments, float(self.source_duration or 0.0))
        self._undo.clear()
        self._redo.clear()

    def view_segments(self) -> Segments:
        """Kept parts in view time, clipped to the view."""
        out: Segments = []
        for s, e in self.segments:
            vs, ve = max(0.0, s - self.offset), min(self.duration, e - self.offset)
            if ve > vs:
                out.append((vs, ve))
        return out

    def removed_regions(self) -> Segments:
        """Removed parts in view time (to shade them)."""
        out: Segments = []
        t = 0.0
        for s, e in self.view_segments():
            if s > t + EPS:
                out.append((t, s))
            t = e
        if self.duration > t + EPS:
            out.append((t, self.duration))
        return out

    def is_kept(self, t: float) -> bool:
        src = t + self.offset
        return any(s - EPS <= src <= e + EPS for s, e in self.segments)

    def set_selection(self, a: float | None, b: float | None = None) -> None:
        if a is None or b is None:
            self.selection = None
            return
        lo, hi = sorted((self._clip(a), self._clip(b)))
        self.selection = (lo, hi) if hi - lo >= MIN_SEGMENT else None

    def set_cursor(self, t: float | None) -> None:
        self.cursor = None if t is None else self._clip(t)

    def _clip(self, t: float) -> float:
        return min(max(float(t), 0.0), self.duration)

    # edits ---------------------------------------------------------------
    def _apply(self, new: Segments) -> bool:
        if not new:
            raise EditRefused("that would remove everything: keep at least part of the "
                              "recording (remove the source from the project instead)")
        if new == self.segments:
            return False
        self._undo.append(list(self.segments))
        del self._undo[:-MAX_HISTORY]
        self._redo.clear()
        self.segments = new
        return True

    def split_at(self, t: float) -> bool:
        """Split the kept segment under view time ``t``; False if nothing to split."""
        src = self._clip(t) + self.offset
        new: Segments = []
        changed = False
        for s, e in self.segments:
            if s + MIN_SEGMENT <= src <= e - MIN_SEGMENT:
                new += [(s, src), (src, e)]
                changed = True
            else:
                new.append((s, e))
        return changed and self._apply(new)

    def delete(self, a: float, b: float) -> bool:
        lo, hi = sorted((self._clip(a), self._clip(b)))
        if hi - lo < MIN_SEGMENT:
            return False
        return self._apply(_remove(self.segments, lo + self.offset, hi + self.offset))

    def trim(self, a: float, b: float) -> bool:
        lo, hi = sorted((self._clip(a), self._clip(b)))
        if hi - lo < MIN_SEGMENT:
            return False
        segs = _remove(self.segments, self.offset, lo + self.offset)
        segs = _remove(segs, hi + self.offset, self.offset + self.duration)
        return self._apply(segs)

    # history -------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.segments)
        self.segments = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.segments)
        self.segments = self._redo.pop()
        return True
