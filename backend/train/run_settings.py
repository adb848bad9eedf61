"""The settings that make a run's model what it is, kept with the run.

Model size, version, sample rate and pitch (``f0``) fix the shapes of every weight: a
checkpoint only resumes into a model built with the same four. ``run.json`` in the run
folder holds them from the run's start (see ``backend/jobs/train.py``); a resumed run
uses them, and a request that contradicts them is refused with one sentence. No torch
here: ``train.runs`` reads them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KEYS = ("size", "version", "sample_rate", "f0")
RUN_FILE = "run.json"


def describe(settings: dict[str, Any], keys: tuple[str, ...] | None = None) -> str:
    """``size standard, version v2, 40k`` for all four (``f0`` named only when off, pitch
    being the rule), or just ``keys``, each named."""
    parts = []
    for key in keys or KEYS:
        value = settings.get(key)
        if key == "sample_rate":
            parts.append(f"{value / 1000:g}k" if isinstance(value, int) else f"rate {value}")
        elif key == "f0":
            if keys or value is not True:
                parts.append(f"f0 {'on' if value else 'off'}")
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts)


def differences(stored: dict[str, Any], wanted: dict[str, Any]) -> tuple[str, ...]:
    """The keys whose wanted value is not the stored one."""
    return tuple(k for k in KEYS if k in wanted and wanted[k] != stored.get(k))


def valid(settings: Any) -> dict[str, Any] | None:
    """The four settings of a ``run.json`` or a checkpoint's task config, if all are there."""
    if not isinstance(settings, dict):
        return None
    out = {k: settings.get(k) for k in KEYS}
    ok = (isinstance(out["size"], str) and isinstance(out["version"], str)
          and isinstance(out["sample_rate"], int) and isinstance(out["f0"], bool))
    return out if ok else None


def read_run_info(run_dir: Path) -> dict[str, Any]:
    """``run.json`` as a dict ({} when missing or unreadable)."""
    try:
        info = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def stored(run_dir: Path) -> dict[str, Any] | None:
    """The run's settings from its ``run.json`` (None: no run, or no readable settings)."""
    return valid(read_run_info(run_dir))
