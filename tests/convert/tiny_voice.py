"""Tiny random-weight voice models, encoders and indexes for the conversion tests.

The synthesizer is the real architecture at ``size="tiny"``; the encoder a tiny fairseq
HuBERT file (tests/features/tiny_models.py) whose v1 output (layer 9 through final_proj) has
256 dims and whose v2 output has ``hidden`` dims (768 for v2 models, with 2 layers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from backend.convert.voice_model import VoiceModel
from backend.models.synthesizer import build_generator


def tiny_voice(version: str = "v2", rate: int = 40000, f0: bool = True, seed: int = 0,
               name: str = "Tiny voice") -> VoiceModel:
    torch.manual_seed(seed)
    net = build_generator(version, rate, f0, size="tiny").eval()
    with torch.no_grad():  # move the weights away from init so the output has structure
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return VoiceModel(name=name, path=None, version=version, sample_rate=rate, f0=f0,
                      speakers=net.cfg.spk_embed_dim, net=net, stored_dtype="fp32")


def tiny_encoder_file(folder: Path, version: str = "v2") -> Path:
    """A fairseq HuBERT file whose ``version`` features fit tiny_voice(version)."""
    from tests.features.tiny_models import save_tiny_fairseq_hubert

    if version == "v1":
        return save_tiny_fairseq_hubert(folder / "hubert_v1.pt")
    return save_tiny_fairseq_hubert(folder / "hubert_v2.pt", layers=2, hidden=768)


def tiny_encoder(folder: Path, version: str = "v2"):
    from backend.features.hubert import load_encoder

    return load_encoder(tiny_encoder_file(folder, version))


def save_index(folder: Path, vectors: np.ndarray, name: str = "tiny", version: str = "v2") -> Path:
    from backend.train.index import build_index

    return build_index(np.asarray(vectors, np.float32), folder, name, version).path


class LocalEncoder:
    """A deterministic content encoder whose frames depend only on their own 400 samples
    (HuBERT's frame grid: hop 320, window 400), for tests that compare chunked with
    unchunked conversion: a random-weight HuBERT mixes the whole input through its
    GroupNorm statistics and untrained attention, which a trained one barely does."""

    source = "local test encoder"

    def __init__(self, dim: int = 768, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.dim = dim
        self.weight = (rng.standard_normal((400, dim)) / 2.0).astype(np.float32)

    def output_dim(self, version: str = "v2") -> int:
        return self.dim

    def encode(self, wav16k: np.ndarray, version: str = "v2") -> torch.Tensor:
        x = np.asarray(wav16k, dtype=np.float32)
        n = max(0, (x.shape[0] - 400) // 320 + 1)
        frames = np.lib.stride_tricks.sliding_window_view(x, 400)[::320][:n]
        return torch.from_numpy(np.tanh(frames @ self.weight * 4.0).astype(np.float32))
