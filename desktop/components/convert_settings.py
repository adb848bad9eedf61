"""The Convert page's settings form and the ``convert`` job arguments it maps to (Qt-free).

Names, defaults and ranges are those of ``backend/convert/settings.py`` (``ConvertSettings``,
RVC's defaults); a test checks that the backend accepts every value this form allows and
refuses the values just outside. Job args: ``key``, ``f0_method``, ``index_rate``,
``protect``, ``rms_mix``, ``filter_radius``, ``output_rate`` (``None``: the model's rate).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from desktop.components.extract_settings import method


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    minimum: float
    maximum: float
    step: float
    decimals: int
    tooltip: str


# The pitch methods the backend's ConvertSettings accepts, RVC's default first.
F0_METHODS = ("rmvpe", "harvest", "crepe", "crepe-tiny", "pm", "dio")
OUTPUT_RATES = (None, 16000, 22050, 24000, 32000, 40000, 44100, 48000)

FIELDS: tuple[Field, ...] = (
    Field("key", "Key (semitones)", -48, 48, 1, 0,
          "Shifts the pitch of the voice, in semitones: +12 is one octave up (a typical "
          "male-to-female change), -12 one octave down. RVC's default: 0."),
    Field("index_rate", "Index rate", 0, 1, 0.05, 2,
          "How much of the model's feature index (the training voice's timbre) replaces the "
          "input's features: each frame is blended with its 8 nearest neighbours in the "
          "index, weighted by inverse squared distance. 0 ignores the index; higher sounds "
          "more like the training voice but can slur words. RVC's default: 0.75. Needs a "
          "model with an index."),
    Field("protect", "Consonant protection", 0, 0.5, 0.01, 2,
          "Keeps breaths and voiceless consonants (s, t, k) closer to the original so the "
          "index does not smear them: lower protects more; 0.5 turns protection off. "
          "RVC's default: 0.33."),
    Field("rms_mix", "Loudness mix", 0, 1, 0.05, 2,
          "Whose loudness envelope the result follows: 0 imposes the input's (the result "
          "rises and falls as you spoke), 1 keeps the converted output's own. RVC's "
          "default: 0.25."),
    Field("filter_radius", "Median filter radius", 0, 7, 1, 0,
          "Smooths the pitch track with a median filter of this radius (frames) to remove "
          "single-frame glitches; RVC applies it to harvest only, 0 turns it off. RVC's "
          "default: 3."),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
F0_TOOLTIP = ("How the pitch of the input is tracked. RMVPE (RVC's default) is robust to "
              "noise and breath and needs its model file; harvest is slow and good on clean "
              "voices; crepe is very good and fast on a GPU; pm and dio are fast previews.")
OUTPUT_RATE_TOOLTIP = ("The sample rate of the converted files. RVC's default: the model's "
                       "own rate (32, 40 or 48 kHz); choose another to resample the result.")


def field(name: str) -> Field:
    return next(f for f in FIELDS if f.name == name)


def f0_label(name: str) -> str:
    m = method(name)
    return m.label if m is not None else name


def f0_description(name: str) -> str:
    m = method(name)
    return m.description if m is not None else ""


def rate_text(rate: int | None, model_rate: int | None = None) -> str:
    """"48 kHz", "44.1 kHz"; ``None``: "Model's rate (40 kHz)"."""
    if rate is None:
        return "Model's rate" + (f" ({rate_text(model_rate)})" if model_rate else "")
    khz = rate / 1000
    return f"{khz:g} kHz"


@dataclass(frozen=True)
class ConvertSettings:
    key: float = 0.0
    f0_method: str = "rmvpe"
    index_rate: float = 0.75
    protect: float = 0.33
    rms_mix: float = 0.25
    filter_radius: int = 3
    output_rate: int | None = None

    def validate(self) -> list[str]:
        """What the backend would refuse, in words (empty: fine)."""
        problems = []
        for f in FIELDS:
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not f.minimum <= value <= f.maximum:
                problems.append(f"{f.label.lower()} must be from {f.minimum:g} to "
                                f"{f.maximum:g}, not {value!r}")
        if not isinstance(self.filter_radius, int):
            problems.append("the median filter radius must be a whole number")
        if self.f0_method not in F0_METHODS:
            problems.append(f"unknown pitch method {self.f0_method!r}; choose one of "
                            + ", ".join(F0_METHODS))
        if self.output_rate is not None and self.output_rate not in OUTPUT_RATES:
            problems.append(f"unsupported output rate {self.output_rate!r}")
        return problems

    def to_job_args(self) -> dict[str, Any]:
        """The settings part of the ``convert`` job's args (``int`` where the backend
        wants a whole number)."""
        args = asdict(self)
        args["filter_radius"] = int(self.filter_radius)
        if float(self.key).is_integer():
            args["key"] = int(self.key)
        return args

    def to_stored(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_stored(cls, value: Any) -> ConvertSettings:
        """Settings remembered between runs; anything unusable falls back to the default."""
        if not isinstance(value, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        try:
            out = cls(**{k: v for k, v in value.items() if k in known})
        except TypeError:
            return cls()
        return out if not out.validate() else cls()
