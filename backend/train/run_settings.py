"""The settings that make a run's model what it is, kept with the run.

A run trains one kind of model (``model``): voice conversion (``rvc``) or text-to-speech
(``vits``). For voice conversion, model size, version, sample rate and pitch (``f0``) fix
the shapes of every weight; for text-to-speech, size, language (its symbol table), the
duration predictor and the sample rate do, with the speaker table and the symbols kept
beside them. A checkpoint only resumes into a model built with the same ones.
``run.json`` in the run folder holds them from the run's start (see
``backend/jobs/train.py``); a resumed run uses them, and a request that contradicts them is
refused with one sentence. No torch here: ``train.runs`` reads them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KEYS = ("size", "version", "sample_rate", "f0")  # voice conversion (rvc)
VITS_KEYS = ("size", "language", "duration", "sample_rate")
MODELS = ("rvc", "vits")
MODEL_WORDS = {"rvc": "voice conversion (RVC)", "vits": "text-to-speech (VITS)"}
DURATIONS = ("stochastic", "deterministic")
VITS_SAMPLE_RATE = 22050  # the published VITS configs' rate: clips are resampled to it
RUN_FILE = "run.json"


def model_of(settings: dict[str, Any]) -> str:
    """``rvc`` or ``vits``: a run (or a checkpoint) without ``model`` is voice conversion,
    the only kind there was before text-to-speech."""
    return "vits" if settings.get("model") == "vits" else "rvc"


def keys_of(settings: dict[str, Any]) -> tuple[str, ...]:
    return VITS_KEYS if model_of(settings) == "vits" else KEYS


def describe(settings: dict[str, Any], keys: tuple[str, ...] | None = None) -> str:
    """``size standard, version v2, 40k`` for all the model's settings (``f0`` named only
    when off, pitch being the rule), or just ``keys``, each named."""
    parts = []
    for key in keys or keys_of(settings):
        value = settings.get(key)
        if key == "model":
            parts.append(MODEL_WORDS.get(str(value), f"model {value}"))
        elif key == "sample_rate":
            if isinstance(value, int):
                parts.append(f"{value / 1000:g}k" if value % 1000 == 0 else f"{value} Hz")
            else:
                parts.append(f"rate {value}")
        elif key == "f0":
            if keys or value is not True:
                parts.append(f"f0 {'on' if value else 'off'}")
        elif key == "duration":
            parts.append(f"{value} duration")
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts)


def differences(stored: dict[str, Any], wanted: dict[str, Any]) -> tuple[str, ...]:
    """The keys whose wanted value is not the stored one (``model`` first)."""
    current = {**stored, "model": model_of(stored)}
    return tuple(k for k in ("model", *keys_of(stored))
                 if k in wanted and wanted[k] != current.get(k))


def valid(settings: Any) -> dict[str, Any] | None:
    """The model settings of a ``run.json`` or a checkpoint's task config, if all are there:
    ``{model: "rvc", size, version, sample_rate, f0}`` or ``{model: "vits", size, language,
    duration, sample_rate, speakers: {name: id}, n_symbols}``."""
    if not isinstance(settings, dict):
        return None
    if model_of(settings) == "vits":
        return _valid_vits(settings)
    out = {k: settings.get(k) for k in KEYS}
    ok = (isinstance(out["size"], str) and isinstance(out["version"], str)
          and isinstance(out["sample_rate"], int) and isinstance(out["f0"], bool))
    return {"model": "rvc", **out} if ok else None


def _valid_vits(settings: dict[str, Any]) -> dict[str, Any] | None:
    out = {k: settings.get(k) for k in (*VITS_KEYS, "speakers", "n_symbols")}
    speakers = out["speakers"]
    ok = (isinstance(out["size"], str) and isinstance(out["language"], str)
          and out["duration"] in DURATIONS and isinstance(out["sample_rate"], int)
          and isinstance(out["n_symbols"], int) and isinstance(speakers, dict)
          and all(isinstance(k, str) and isinstance(v, int) for k, v in speakers.items()))
    return {"model": "vits", **out} if ok else None


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
