"""Helpers for the model tests: small random batches in the training layout."""

from __future__ import annotations

import pytest
import torch


def make_batch(cfg, frames: int = 40, batch: int = 2, seed: int = 0) -> dict:
    """Random content/pitch/spectrogram/audio for a model with config ``cfg``."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([frames] + [frames - 6] * (batch - 1))
    f0 = 120 + 150 * torch.rand(batch, frames, generator=gen)
    f0[:, :4] = 0.0  # a few unvoiced frames
    coarse = torch.randint(1, 256, (batch, frames), generator=gen)
    coarse[:, :4] = 1
    return {
        "phone": torch.randn(batch, frames, cfg.content_dim, generator=gen),
        "phone_lengths": lengths,
        "pitch_coarse": coarse if cfg.f0 else None,
        "pitch_f0": f0 if cfg.f0 else None,
        "spec": torch.rand(batch, cfg.spec_channels, frames, generator=gen),
        "spec_lengths": lengths,
        "sid": torch.arange(batch) % cfg.spk_embed_dim,
        "wave": 0.1 * torch.randn(batch, 1, frames * cfg.hop_length, generator=gen),
    }


def train_inputs(b: dict) -> tuple:
    keys = ("phone", "phone_lengths", "pitch_coarse", "pitch_f0", "spec", "spec_lengths", "sid")
    return tuple(b[k] for k in keys)


def infer_inputs(b: dict) -> tuple:
    keys = ("phone", "phone_lengths", "pitch_coarse", "pitch_f0", "sid")
    return tuple(b[k] for k in keys)


@pytest.fixture(autouse=True)
def _seed_and_one_thread():
    """Fixed seed; one intra-op thread (tiny models on a busy 2-core box run far faster:
    two spinning OpenMP threads stall whenever another process takes a core)."""
    torch.manual_seed(1234)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
