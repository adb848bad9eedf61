"""Conversion settings shared by offline (``convert``) and real-time (``live``) conversion.

Defaults are RVC's: key 0, rmvpe, index rate 0.75 (8 nearest neighbours weighted by
inverse squared distance), consonant protection 0.33 (0.5 turns it off), loudness-envelope
mix 0.25, median filter radius 3 (harvest only), output at the model's rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from backend.kernel import BadArgs

PITCH_METHODS = ("rmvpe", "harvest", "crepe", "crepe-tiny", "pm", "dio")


@dataclass(frozen=True)
class ConvertSettings:
    key: float = 0.0  # semitones
    f0_method: str = "rmvpe"
    index_rate: float = 0.75
    protect: float = 0.33  # 0.5 (or more) turns protection off
    rms_mix: float = 0.25  # 1 keeps the output's own loudness envelope, 0 the input's
    filter_radius: int = 3
    output_rate: int | None = None  # None: the model's rate
    speaker: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> ConvertSettings:
        """Settings from request/CLI arguments (unknown keys ignored); BadArgs names the
        argument at fault and its allowed range."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in args.items() if k in known and v is not None}
        out = cls(**values)
        out.check()
        return out

    def check(self) -> None:
        def bad(name: str, rule: str) -> BadArgs:
            return BadArgs(f"{name} must be {rule}, not {getattr(self, name)!r}")

        if not isinstance(self.key, int | float) or not -48 <= self.key <= 48:
            raise bad("key", "a number of semitones from -48 to 48")
        if self.f0_method not in PITCH_METHODS:
            raise bad("f0_method", "one of " + ", ".join(PITCH_METHODS))
        for name in ("index_rate", "rms_mix"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise bad(name, "a number from 0 to 1")
        if not isinstance(self.protect, int | float) or not 0 <= self.protect <= 0.5:
            raise bad("protect", "a number from 0 to 0.5 (0.5 turns protection off)")
        if not isinstance(self.filter_radius, int) or not 0 <= self.filter_radius <= 7:
            raise bad("filter_radius", "a whole number from 0 to 7")
        if self.output_rate is not None and (
                not isinstance(self.output_rate, int) or not 8000 <= self.output_rate <= 192000):
            raise bad("output_rate", "a sample rate in Hz from 8000 to 192000")
        if not isinstance(self.speaker, int) or self.speaker < 0:
            raise bad("speaker", "a speaker number, 0 or more")
