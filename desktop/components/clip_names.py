"""Names of prepared clips for people (Qt-free).

A clip's file is named after its source's hash (``3f2a9c0b1d4e5f60_002_0007.wav``);
people know their recordings by name and position: ``take 1.wav 0:03.2–0:05.8``.
"""

from __future__ import annotations

from typing import Any


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def format_time(seconds: float) -> str:
    """``m:ss.s`` (``h:mm:ss`` from an hour on)."""
    tenths = int(round(max(seconds, 0.0) * 10))
    secs, tenth = divmod(tenths, 10)
    minutes, sec = divmod(secs, 60)
    if minutes >= 60:
        return f"{minutes // 60}:{minutes % 60:02d}:{sec:02d}"
    return f"{minutes}:{sec:02d}.{tenth}"


def file_name(path: Any) -> str:
    return str(path or "").replace("\\", "/").rsplit("/", 1)[-1]


def clip_label(clip: dict[str, Any]) -> str:
    """The source's file name and where in it the clip is; the file name of the clip when
    the source is not known."""
    name = file_name(clip.get("clip") or clip.get("name"))
    source = file_name(clip.get("source_name") or clip.get("source"))
    if not source:
        return name
    start, end = _number(clip.get("start")), _number(clip.get("end"))
    if start is not None and end is not None:
        return f"{source} {format_time(start)}–{format_time(end)}"
    index = name.rsplit(".", 1)[0].rsplit("_", 1)[-1]
    return f"{source}, clip {int(index) + 1}" if index.isdigit() else source
