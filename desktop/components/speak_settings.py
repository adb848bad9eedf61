"""What the Speak page sends to the ``speak`` job, and what it lists (Qt-free).

``TtsModel`` is one entry of ``tts.models`` (``{id, kind: "tts", name, path, config,
source, language, speakers: [names], sample_rate, info, ...}``: the open project's
exported text-to-speech models and the library's; ``config`` is the ``config.json`` of an
original VITS checkpoint, passed on to the job). ``SpeakSettings`` holds the page's
choices: speed (the job's ``length_scale`` is its inverse), variation (``noise_scale``),
the voice-conversion model to pass the speech through (a path, or none) and its key; it
maps the sliders' positions to those values and back, and is kept in the app settings
under ``speak.settings``. ``job_args`` builds the ``speak`` job's arguments; ``blocker``
says why Speak cannot start yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

SETTINGS_KEY = "speak.settings"

# speed: slider positions -SPEED_STEPS..SPEED_STEPS, each a 20th of an octave of speed, so
# the middle is the model's own pace and the ends are 4x slower and 4x faster (the job's
# length scale 4 and 0.25)
SPEED_STEPS = 40
SPEED_PER_DOUBLING = 20
MIN_LENGTH_SCALE, MAX_LENGTH_SCALE = 0.25, 4.0
# variation: the job's noise scale, 0..2 in hundredths; VITS's own default
VARIATION_STEPS = 200
DEFAULT_NOISE_SCALE = 0.667
MAX_NOISE_SCALE = 2.0
KEY_RANGE = (-24, 24)
NO_MODEL = ("No text-to-speech model yet: train one on the Train page (Text-to-speech) and "
            "export it, or add a VITS model file with Import… (above).")
NO_TEXT = "Type or paste the text to speak."


def _num(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) else None


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


@dataclass(frozen=True)
class TtsModel:
    id: str
    name: str
    path: str
    source: str = ""  # "export" | "package" | "original" | "checkpoint" | "imported"...
    language: str = ""
    speakers: tuple[str, ...] = ()
    sample_rate: int = 0
    info: str = ""
    config: str | None = None  # the config.json of an original VITS checkpoint

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TtsModel | None:
        path = d.get("path")
        if not isinstance(path, str) or not path:
            return None
        speakers = d.get("speakers")
        names = tuple(str(s) for s in speakers) if isinstance(speakers, list) else ()
        rate = d.get("sample_rate")
        return cls(id=str(d.get("id") or path), name=str(d.get("name") or path), path=path,
                   source=str(d.get("source") or ""), language=str(d.get("language") or ""),
                   speakers=names,
                   sample_rate=rate if isinstance(rate, int) and not isinstance(rate, bool)
                   else 0, info=str(d.get("info") or ""),
                   config=d["config"] if isinstance(d.get("config"), str) and d["config"]
                   else None)

    @property
    def multi_speaker(self) -> bool:
        return len(self.speakers) > 1

    def label(self) -> str:
        """``Name (en, 3 speakers)`` for the picker."""
        parts = [self.language or "language unknown"]
        if self.multi_speaker:
            parts.append(f"{len(self.speakers)} speakers")
        return f"{self.name} ({', '.join(parts)})"

    def details(self) -> str:
        where = {"export": "exported from the open project", "imported": "in the models "
                 "library", "library": "in the models library"}.get(self.source, self.source)
        parts = [f"{self.name}: VITS text-to-speech" + (f", {where}" if where else "")]
        if self.language:
            parts.append(f"language {self.language}")
        if self.sample_rate:
            parts.append(f"{self.sample_rate / 1000:g} kHz")
        parts.append(f"speakers: {', '.join(self.speakers)}" if self.multi_speaker
                     else "one speaker")
        if self.info:
            parts.append(f"info: {self.info}")
        return "; ".join(parts) + f". File: {self.path}"


def tts_models_from_result(result: dict[str, Any]) -> list[TtsModel]:
    raw = result.get("models")
    models = [TtsModel.from_dict(m) for m in raw if isinstance(m, dict)] \
        if isinstance(raw, list) else []
    return [m for m in models if m is not None]


def voice_models_from_result(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The voice-conversion models of a ``models.list`` result (its TTS entries, ``kind:
    "tts"``, are left out: those are listed by ``tts.models``)."""
    raw = result.get("models")
    return [m for m in raw if isinstance(m, dict) and m.get("kind", "voice") != "tts"
            and isinstance(m.get("path"), str) and m["path"]] if isinstance(raw, list) else []


# sliders -----------------------------------------------------------------------------------
def speed_of(length_scale: float) -> float:
    return 1.0 / length_scale


def speed_position(length_scale: float) -> int:
    """The speed slider's position for a length scale (0: the model's own pace)."""
    ls = _clamp(length_scale, MIN_LENGTH_SCALE, MAX_LENGTH_SCALE)
    return round(-math.log2(ls) * SPEED_PER_DOUBLING)


def length_scale_at(position: int) -> float:
    p = int(_clamp(position, -SPEED_STEPS, SPEED_STEPS))
    return round(float(2.0 ** (-p / SPEED_PER_DOUBLING)), 4)


def speed_text(length_scale: float) -> str:
    """``1.00× (the model's pace)``, ``1.41× faster``, ``0.50× (twice as slow)``."""
    speed = speed_of(length_scale)
    if abs(speed - 1.0) < 0.005:
        return "1.00× (the model's pace)"
    return f"{speed:.2f}× " + ("faster" if speed > 1 else "slower")


def variation_position(noise_scale: float) -> int:
    return round(_clamp(noise_scale, 0.0, MAX_NOISE_SCALE) * 100)


def noise_scale_at(position: int) -> float:
    return round(_clamp(position, 0, VARIATION_STEPS) / 100, 2)


def variation_text(noise_scale: float) -> str:
    word = "flat" if noise_scale < 0.3 else "lively" if noise_scale > 1.0 else "natural"
    return f"{noise_scale:.2f} ({word})"


# settings -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeakSettings:
    model_id: str | None = None  # the model chosen last (kept across runs)
    speaker: str | None = None  # a speaker's name, for multi-speaker models
    length_scale: float = 1.0
    noise_scale: float = DEFAULT_NOISE_SCALE
    voice: str | None = None  # a voice-conversion model's path, or None
    voice_key: int = 0

    def with_speed_position(self, position: int) -> SpeakSettings:
        return replace(self, length_scale=length_scale_at(position))

    def with_variation_position(self, position: int) -> SpeakSettings:
        return replace(self, noise_scale=noise_scale_at(position))

    def validate(self) -> list[str]:
        problems = []
        if not MIN_LENGTH_SCALE <= self.length_scale <= MAX_LENGTH_SCALE:
            problems.append(f"speed {speed_of(self.length_scale):.2f}× is outside "
                            "0.25× to 4×")
        if not 0.0 <= self.noise_scale <= MAX_NOISE_SCALE:
            problems.append(f"variation {self.noise_scale:g} is outside 0 to 2")
        if not KEY_RANGE[0] <= self.voice_key <= KEY_RANGE[1]:
            problems.append(f"key {self.voice_key} is outside -24 to +24 semitones")
        return problems

    def to_stored(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "speaker": self.speaker,
                "length_scale": self.length_scale, "noise_scale": self.noise_scale,
                "voice": self.voice, "voice_key": self.voice_key}

    @classmethod
    def from_stored(cls, value: Any) -> SpeakSettings:
        """The stored choices; a damaged or missing value gives the defaults, a value
        out of range is brought inside it."""
        if not isinstance(value, dict):
            return cls()
        ls, ns, key = (_num(value.get(k)) for k in ("length_scale", "noise_scale",
                                                     "voice_key"))

        def text(name: str) -> str | None:
            v = value.get(name)
            return v if isinstance(v, str) and v else None

        return cls(model_id=text("model_id"), speaker=text("speaker"),
                   length_scale=_clamp(ls, MIN_LENGTH_SCALE, MAX_LENGTH_SCALE)
                   if ls is not None else 1.0,
                   noise_scale=_clamp(ns, 0.0, MAX_NOISE_SCALE) if ns is not None
                   else DEFAULT_NOISE_SCALE,
                   voice=text("voice"),
                   voice_key=int(_clamp(round(key), *KEY_RANGE)) if key is not None else 0)


def blocker(model: TtsModel | None, text: str, settings: SpeakSettings,
            models_loaded: bool = True) -> str:
    """Why Speak cannot start ("" when it can)."""
    if model is None:
        return NO_MODEL if models_loaded else "Listing the text-to-speech models…"
    if not text.strip():
        return NO_TEXT
    problems = settings.validate()
    return "Check the settings: " + "; ".join(problems) if problems else ""


def job_args(model: TtsModel, text: str, settings: SpeakSettings) -> dict[str, Any]:
    """The ``speak`` job's arguments (no ``out``: the backend writes a new file in the app's
    cache; Save as… copies it where the user wants)."""
    args: dict[str, Any] = {"model": model.path, "text": text,
                            "length_scale": settings.length_scale,
                            "noise_scale": settings.noise_scale}
    if model.config:
        args["config"] = model.config
    if model.multi_speaker and settings.speaker in model.speakers:
        args["speaker"] = settings.speaker
    if settings.voice:
        args["voice"] = settings.voice
        args["voice_key"] = settings.voice_key
    return args
