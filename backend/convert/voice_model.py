"""A loaded voice model (an RVC inference model), ready to synthesize.

STUB written by the lead so that every part of the conversion issue codes against the same
type; the models helper fills in ``load_voice_model`` and the messages for files that are
not voice models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backend.kernel import JobError
from backend.models.synthesizer import Synthesizer

E_NOT_A_VOICE_MODEL = "not_a_voice_model"


class NotAVoiceModel(JobError):
    """The file is readable but is not a voice model; the message says what it looks like."""

    code = E_NOT_A_VOICE_MODEL


@dataclass
class VoiceModel:
    name: str
    path: Path | None
    version: str  # "v1" | "v2"
    sample_rate: int  # 32000 | 40000 | 48000
    f0: bool
    speakers: int
    net: Synthesizer  # eval mode, float32, on the device it was loaded to
    info: str = ""
    stored_dtype: str = "fp16"  # "fp16" | "fp32": how the file stored its weights
    index_path: Path | None = None
    source: str = "file"  # "export" | "imported" | "file"

    @property
    def hop(self) -> int:
        return self.net.hop_length

    @property
    def content_dim(self) -> int:
        return 256 if self.version == "v1" else 768
