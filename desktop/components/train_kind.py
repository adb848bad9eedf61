"""Which model the Train page trains (Qt-free): voice conversion (RVC) or text-to-speech
(VITS), and the choices that only text-to-speech has.

The kind a project starts with is its ``model_kind`` (``project.open``); the user may
pick the other one. Each kind has its own runs: a run's kind is the ``model`` of its
``run.json`` (runs from before text-to-speech are voice conversion), and a new run of one
kind never takes the folder of a run of the other (``new_run_name``), because the backend
resumes a run only with the model it was started with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from desktop.components.transcribe_settings import LANGUAGE_NAMES

RVC, VITS = "rvc", "vits"
MODEL_KINDS = (RVC, VITS)
KIND_LABELS = {RVC: "Voice conversion", VITS: "Text-to-speech"}
KIND_HINTS = {
    RVC: "An RVC voice model: turns a recording into this voice (Convert and Live pages). "
         "Trains on the extracted features of the prepared clips.",
    VITS: "A VITS text-to-speech model: speaks typed text in this voice (Speak page). "
          "Trains on the labelled clips: each needs its text on the Label page.",
}
SIZE_LABELS = {RVC: {"standard": "Standard (RVC v2)", "tiny": "Tiny (quick tests)"},
               VITS: {"standard": "Standard (as VITS ljs_base)", "tiny": "Tiny (quick tests)"}}
DURATIONS = ("stochastic", "deterministic")
DURATION_LABELS = {"stochastic": "Stochastic (livelier rhythm)",
                   "deterministic": "Deterministic (steadier rhythm)"}
DURATION_TIP = ("How the model learns how long each sound lasts. Stochastic (the original "
                "VITS) varies the rhythm a little each time; deterministic always speaks "
                "a text the same way and trains a little faster.")
TTS_LANGUAGES = ("en", "zh", "ja")  # the text front-ends of the backend
AUTO_LANGUAGE = ""  # the job's default: the most common language of the labelled rows
LANGUAGE_RE = re.compile(r"[a-z]{2,3}([-_][a-z0-9]{2,8})*")
RUN_PREFIX = {RVC: "voice", VITS: "tts"}
SAMPLES_TITLES = {RVC: "a clip converted at each save",
                  VITS: "the test sentence spoken at each save"}
PRETRAINED_TIPS = {
    RVC: "An RVC pretrained base (f0G40k.pth / f0D40k.pth, or a file of the same layout)",
    VITS: "A VITS base: an original G_<step>.pth / D_<step>.pth (its config.json beside it) "
          "or a Timbre Studio text-to-speech checkpoint. Its symbols are mapped by symbol, "
          "its speaker table resized; the training log lists what did not fit.",
}


def kind_of(value: Any, default: str = RVC) -> str:
    """``value`` when it is a model kind, else ``default``."""
    return value if value in MODEL_KINDS else default


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def language_name(code: str) -> str:
    """``English (en)``; an unknown code as it is."""
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def language_choices(found: Iterable[str] = (), default: str = "") -> dict[str, str]:
    """Value -> label of the Language field: from the labels (the job picks the most common
    language of the labelled rows; ``default`` names it when the backend said), then the
    labels' languages, then the other languages the backend reads."""
    auto = (f"From the labels: {language_name(default)}" if default
            else "From the labels (the most common language)")
    choices = {AUTO_LANGUAGE: auto}
    for code in [*found, *TTS_LANGUAGES]:
        if isinstance(code, str) and LANGUAGE_RE.fullmatch(code) and code not in choices:
            choices[code] = language_name(code)
    return choices


def language_problem(code: str) -> str:
    if code == AUTO_LANGUAGE or LANGUAGE_RE.fullmatch(code):
        return ""
    return f"language '{code}' is not a language code (e.g. en, zh, ja)"


class _Run(Protocol):
    name: str

    @property
    def model(self) -> str | None: ...

    @property
    def resumable(self) -> bool: ...


def run_model(config: dict[str, Any], has_checkpoints: bool) -> str | None:
    """The kind of a run from its ``run.json`` (as ``train.runs`` gives it): its ``model``;
    a run written before text-to-speech existed is voice conversion; None when the run has
    no settings at all (nothing was trained in it yet)."""
    model = config.get("model")
    if model in MODEL_KINDS:
        return str(model)
    return RVC if config or has_checkpoints else None


def runs_of_kind(runs: Iterable[_Run], kind: str) -> list[Any]:
    return [r for r in runs if r.model == kind]


def new_run_name(kind: str, runs: Iterable[_Run]) -> str:
    """The folder of a new run of ``kind``: "main" unless a run there has checkpoints or is
    of the other kind, then "tts" / "voice", "tts 2"…"""
    taken = {r.name for r in runs if r.resumable or r.model not in (kind, None)}
    prefix = RUN_PREFIX.get(kind, "run")
    candidates = ["main", prefix, *(f"{prefix} {n}" for n in range(2, 1000))]
    return next(c for c in candidates if c not in taken)


def minutes_text(seconds: float) -> str:
    """``40 s``, ``12.5 min``, ``2.1 h``: an amount of audio in words."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
