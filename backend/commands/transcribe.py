"""``transcribe.engines``: the transcription engines, their languages and models (installed or
not), for the desktop's transcribe panel. Cheap: no engine or model is loaded."""

from __future__ import annotations

import importlib.util
from typing import Any

from backend.commands import command
from backend.transcribe.engine import DEFAULT_ENGINE, ENGINES, engine_class


def engine_rows() -> list[dict[str, Any]]:
    rows = []
    for name in ENGINES:
        cls = engine_class(name)
        available = importlib.util.find_spec(cls.package) is not None
        rows.append({
            "name": name, "title": cls.title,
            "languages": list(cls.languages) if cls.languages is not None else None,
            "offline": cls.offline, "available": available,
            "problem": None if available else f"the {cls.package} package is not installed",
            "models": cls.models(),
        })
    return rows


@command("transcribe.engines")
def transcribe_engines(args: dict, server: Any) -> dict:
    """``{engines: [{name, title, languages, offline, available, problem, models}], default}``."""
    return {"engines": engine_rows(), "default": DEFAULT_ENGINE}
