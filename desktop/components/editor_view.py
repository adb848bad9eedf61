"""Qt-free arithmetic of the waveform editor's view: the scroll bar, playback, actions.

The scroll bar has ``SCROLL_STEPS`` steps over the part of the recording
that can scroll (its duration minus the visible span); the actions' enabled
states and the range to play follow the ``EditModel``'s cursor and selection.
``split_points`` and ``pending_changes`` say where the editor draws its split
markers and which edits the prepared clips do not have yet (``prepared``: the
segments of the last prepare, ``project.open``'s ``prepared_edits``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from desktop.components.edit_model import EPS, EditModel, Segments, normalize

SCROLL_STEPS = 10000


class ScrollGeometry(NamedTuple):
    maximum: int  # the scroll bar's range is 0..maximum
    page_step: int
    value: int


def scroll_geometry(duration: float, lo: float, hi: float,
                    steps: int = SCROLL_STEPS) -> ScrollGeometry:
    """The scroll bar for the visible time range ``lo..hi`` of ``duration`` seconds."""
    span = max(duration - (hi - lo), 0.0)
    return ScrollGeometry(
        maximum=steps if span > 0 else 0,
        page_step=max(1, int(steps * (hi - lo) / duration)),
        value=int(steps * lo / span) if span > 0 else 0,
    )


def scroll_start(duration: float, lo: float, hi: float, value: int,
                 steps: int = SCROLL_STEPS) -> float:
    """Where the visible range (same width as ``lo..hi``) starts for scroll ``value``."""
    span = max(duration - (hi - lo), 0.0)
    return span * value / steps


def play_range(model: EditModel) -> tuple[float, float]:
    """The selection, else from the cursor (or the start) to the end."""
    if model.selection is not None:
        return model.selection
    return (model.cursor or 0.0), model.duration


def enabled_actions(model: EditModel | None) -> dict[str, bool]:
    """Which editor buttons can be used now (stop and fit always can)."""
    has_sel = model is not None and model.selection is not None
    return {
        "play": model is not None,
        "split": model is not None and model.cursor is not None,
        "trim": has_sel,
        "delete": has_sel,
        "undo": model is not None and model.can_undo,
        "redo": model is not None and model.can_redo,
    }


def inner_boundaries(model: EditModel) -> list[float]:
    """Segment boundaries strictly inside the view, sorted, each once."""
    bounds = sorted({t for seg in model.view_segments() for t in seg})
    return [t for t in bounds if 0.0 < t < model.duration]


def split_points(segments: Segments) -> list[float]:
    """Where one kept segment ends and the next begins (a split, no gap), sorted."""
    ordered = sorted(segments)
    return [a[1] for a, b in zip(ordered, ordered[1:], strict=False) if abs(b[0] - a[1]) <= EPS]


def view_split_points(model: EditModel) -> list[float]:
    """The model's split points in view time, inside the view."""
    return [t - model.offset for t in split_points(model.segments)
            if 0.0 < t - model.offset < model.duration]


def same_segments(a: Any, b: Any, source_duration: float) -> bool:
    """Whether two edit lists (``None`` = the whole file) keep the same parts and splits."""
    sa, sb = normalize(a, source_duration), normalize(b, source_duration)
    return len(sa) == len(sb) and all(abs(x[0] - y[0]) <= 1e-4 and abs(x[1] - y[1]) <= 1e-4
                                      for x, y in zip(sa, sb, strict=True))


class Pending(NamedTuple):
    """Edits saved but not prepared yet, in view time."""

    regions: list[tuple[float, float]]  # kept in one of the two and not in the other
    splits: list[float]                 # split points the prepared clips do not have

    def __bool__(self) -> bool:
        return bool(self.regions or self.splits)


def pending_changes(model: EditModel, prepared: Any) -> Pending:
    """What differs between the model's segments and ``prepared`` (the segments the
    prepared clips were cut with; ``None`` = the whole file), clipped to the view."""
    sd = float(model.source_duration or model.duration)
    old = normalize(prepared, sd)
    cuts = sorted({0.0, sd, *(t for s in old + model.segments for t in s)})
    regions: list[tuple[float, float]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        mid = (a + b) / 2
        if b - a > EPS and _covers(old, mid) != _covers(model.segments, mid):
            if regions and abs(regions[-1][1] - a) <= EPS:
                regions[-1] = (regions[-1][0], b)
            else:
                regions.append((a, b))
    old_splits = split_points(old)
    splits = [t for t in split_points(model.segments)
              if not any(abs(t - o) <= 1e-4 for o in old_splits)]
    return Pending(_to_view(model, regions), [t - model.offset for t in splits
                                              if 0.0 < t - model.offset < model.duration])


def _covers(segments: Segments, t: float) -> bool:
    return any(s <= t <= e for s, e in segments)


def _to_view(model: EditModel, regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for s, e in regions:
        vs, ve = max(0.0, s - model.offset), min(model.duration, e - model.offset)
        if ve - vs > EPS:
            out.append((vs, ve))
    return out
