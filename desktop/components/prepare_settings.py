"""The preparation settings form's values and the ``prepare`` job arguments they map to."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

NORMALISE_MODES = ("peak", "lufs")


@dataclass
class PrepareSettings:
    normalize: str = "peak"       # "peak" or "lufs"
    peak_db: float = -1.0         # target peak, dBFS (mode "peak")
    lufs: float = -23.0           # target loudness, LUFS (mode "lufs")
    silence_db: float = -40.0     # below this level counts as silence
    min_ms: int = 500             # slices shorter than this are dropped
    chunk_seconds: float = 8.0    # longest slice

    def validate(self) -> list[str]:
        problems = []
        if self.normalize not in NORMALISE_MODES:
            problems.append(f"normalisation must be one of {', '.join(NORMALISE_MODES)}")
        if not -60 <= self.peak_db <= 0:
            problems.append("peak must be between -60 and 0 dBFS")
        if not -70 <= self.lufs <= -5:
            problems.append("loudness must be between -70 and -5 LUFS")
        if not -90 <= self.silence_db <= -10:
            problems.append("silence threshold must be between -90 and -10 dB")
        if not 50 <= self.min_ms <= 10_000:
            problems.append("minimum length must be between 50 and 10000 ms")
        if not 1 <= self.chunk_seconds <= 60:
            problems.append("chunk length must be between 1 and 60 s")
        return problems

    def to_job_args(self, project: str) -> dict[str, Any]:
        """Arguments of the backend job ``prepare`` (names shared with the backend)."""
        return {"project": project, **asdict(self)}
