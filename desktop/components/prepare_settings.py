"""The preparation settings form's values and the ``prepare`` job arguments they map to.

Names and ranges follow the backend's prepare settings (backend/dataset/pipeline.py,
``PrepareSettings``); the form edits a subset and sends them as overrides in
``{"project": path, "settings": {...}}``. Values the form does not show keep the
project's saved settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

NORMALISE_MODES = ("peak", "lufs", "none")


@dataclass
class PrepareSettings:
    normalize: str = "peak"        # "peak", "lufs" or "none"
    peak_target: float = 0.9       # peak as a fraction of full scale (mode "peak")
    lufs_target: float = -23.0     # integrated loudness (mode "lufs")
    threshold_db: float = -42.0    # below this level counts as silence
    min_length_ms: int = 1500      # shortest slice kept
    chunk_seconds: float = 3.7     # slices are cut into chunks this long (0: no chunking)

    @classmethod
    def from_project(cls, saved: Any) -> PrepareSettings:
        """The form's values from a project's saved ``prepare`` settings (others ignored)."""
        values = cls()
        if isinstance(saved, dict):
            for f in fields(cls):
                value = saved.get(f.name)
                if isinstance(value, type(getattr(values, f.name))) or (
                        isinstance(value, (int, float)) and not isinstance(value, bool)
                        and f.name != "normalize"):
                    setattr(values, f.name, type(getattr(values, f.name))(value))
        return values

    def validate(self) -> list[str]:
        problems = []
        if self.normalize not in NORMALISE_MODES:
            problems.append(f"normalisation must be one of {', '.join(NORMALISE_MODES)}")
        if not 0 < self.peak_target <= 1:
            problems.append("peak target must be above 0 and at most 1.0")
        if not -70 <= self.lufs_target <= -5:
            problems.append("loudness target must be between -70 and -5 LUFS")
        if not -90 <= self.threshold_db < 0:
            problems.append("silence threshold must be between -90 and 0 dB")
        if not 300 <= self.min_length_ms <= 60_000:
            problems.append("minimum slice length must be between 300 and 60000 ms")
        if not (self.chunk_seconds == 0 or 0.5 <= self.chunk_seconds <= 30):
            problems.append("chunk length must be 0 (no chunking) or between 0.5 and 30 s")
        return problems

    def to_job_args(self, project: str) -> dict[str, Any]:
        """Arguments of the backend job ``prepare``."""
        return {"project": project, "settings": asdict(self)}
