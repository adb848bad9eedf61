"""Qt-free arithmetic of the waveform editor's view: the scroll bar, playback, actions.

The scroll bar has ``SCROLL_STEPS`` steps over the part of the recording
that can scroll (its duration minus the visible span); the actions' enabled
states and the range to play follow the ``EditModel``'s cursor and selection.
"""

from __future__ import annotations

from typing import NamedTuple

from desktop.components.edit_model import EditModel

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
