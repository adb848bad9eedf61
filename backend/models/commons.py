"""Small tensor helpers shared by the voice-conversion models.

Shapes follow the usual convention: ``[batch, channels, time]`` for feature maps and
``[batch, time]`` for per-frame scalars.
"""

from __future__ import annotations

import torch
from torch import nn


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding that keeps the length of a stride-1 convolution ("same" padding)."""
    return (kernel_size * dilation - dilation) // 2


def sequence_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean mask ``[batch, max_len]`` that is True inside each sequence."""
    if max_len is None:
        max_len = int(lengths.max())
    steps = torch.arange(max_len, device=lengths.device, dtype=lengths.dtype)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


def slice_segments(x: torch.Tensor, ids_start: torch.Tensor, segment_size: int) -> torch.Tensor:
    """Cut ``segment_size`` steps starting at ``ids_start[b]`` from every batch item.

    Works for ``[B, T]`` and ``[B, C, T]``; items shorter than the window are zero-padded.
    """
    need = int(ids_start.max()) + segment_size if ids_start.numel() else segment_size
    if x.size(-1) < need:
        x = nn.functional.pad(x, (0, need - x.size(-1)))
    idx = ids_start.long().unsqueeze(-1) + torch.arange(segment_size, device=x.device)
    if x.dim() == 2:
        return x.gather(1, idx)
    idx = idx.unsqueeze(1).expand(-1, x.size(1), -1)
    return x.gather(2, idx)


def rand_slice_segments(
    x: torch.Tensor, lengths: torch.Tensor | None, segment_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random window of ``segment_size`` frames inside each item's valid length."""
    batch, t = x.size(0), x.size(-1)
    if lengths is None:
        lengths = torch.full((batch,), t, device=x.device, dtype=torch.long)
    max_start = (lengths.long() - segment_size + 1).clamp(min=1)
    ids = (torch.rand(batch, device=x.device) * max_start).long()
    return slice_segments(x, ids, segment_size), ids


def fused_add_tanh_sigmoid_multiply(
    a: torch.Tensor, b: torch.Tensor, n_channels: int
) -> torch.Tensor:
    """WaveNet gate: ``tanh(first half) * sigmoid(second half)`` of ``a + b``."""
    acts = a + b
    return torch.tanh(acts[:, :n_channels]) * torch.sigmoid(acts[:, n_channels:])
