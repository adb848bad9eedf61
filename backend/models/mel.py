"""Linear and mel spectrograms with ``torch.stft`` and librosa's (Slaney) mel filters.

Framing: the signal is reflect-padded by ``(n_fft - hop) / 2`` on both sides and framed
without centring, so ``L`` samples give exactly ``L / hop`` frames. Magnitudes are
``sqrt(re^2 + im^2 + 1e-6)``; mel values are ``log(max(mel, 1e-5))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812

from .config import RATES, rate_key


@dataclass(frozen=True)
class MelConfig:
    sampling_rate: int
    n_fft: int
    hop_length: int
    win_length: int
    n_mels: int
    fmin: float = 0.0
    fmax: float | None = None


MEL_CONFIGS = {
    "32k": MelConfig(32000, 1024, 320, 1024, 80),
    "40k": MelConfig(40000, 2048, 400, 2048, 125),
    "48k": MelConfig(48000, 2048, 480, 2048, 128),
}


def mel_config(sample_rate: int | str) -> MelConfig:
    """The loss/feature settings for a model rate (32k, 40k or 48k)."""
    return MEL_CONFIGS[rate_key(sample_rate)]


@lru_cache(maxsize=16)
def _mel_basis_np(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None):
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)


_WINDOWS: dict[tuple[int, str, torch.dtype], torch.Tensor] = {}
_BASES: dict[tuple, torch.Tensor] = {}


def _window(win_length: int, like: torch.Tensor) -> torch.Tensor:
    key = (win_length, str(like.device), like.dtype)
    if key not in _WINDOWS:
        _WINDOWS[key] = torch.hann_window(win_length, device=like.device, dtype=like.dtype)
    return _WINDOWS[key]


def _mel_basis(cfg: MelConfig, like: torch.Tensor) -> torch.Tensor:
    key = (cfg, str(like.device), like.dtype)
    if key not in _BASES:
        basis = _mel_basis_np(cfg.sampling_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
        _BASES[key] = torch.from_numpy(np.asarray(basis)).to(like.device, like.dtype)
    return _BASES[key]


def spectrogram(y: torch.Tensor, n_fft: int, hop_length: int, win_length: int) -> torch.Tensor:
    """Magnitude spectrogram ``[B, n_fft // 2 + 1, L // hop]`` of audio ``[B, L]``/``[B,1,L]``."""
    if y.dim() == 3:
        y = y.squeeze(1)
    dtype = y.dtype
    y = y.float()
    pad = (n_fft - hop_length) // 2
    y = F.pad(y.unsqueeze(1), (pad, n_fft - hop_length - pad), mode="reflect").squeeze(1)
    spec = torch.stft(
        y, n_fft, hop_length=hop_length, win_length=win_length, window=_window(win_length, y),
        center=False, return_complex=True,
    )
    mag = torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-6)
    return mag.to(dtype)


def spec_to_mel(spec: torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """Log-mel ``[B, n_mels, T]`` from a magnitude spectrogram."""
    mel = torch.matmul(_mel_basis(cfg, spec), spec)
    return torch.log(torch.clamp(mel, min=1e-5))


def mel_spectrogram(y: torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """Log-mel ``[B, n_mels, L // hop]`` of audio ``[B, L]`` or ``[B, 1, L]``."""
    spec = spectrogram(y, cfg.n_fft, cfg.hop_length, cfg.win_length)
    return spec_to_mel(spec.float(), cfg)


__all__ = [
    "MEL_CONFIGS",
    "MelConfig",
    "RATES",
    "mel_config",
    "mel_spectrogram",
    "spec_to_mel",
    "spectrogram",
]
