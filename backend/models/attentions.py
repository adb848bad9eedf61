"""Transformer encoder with windowed relative-position self-attention (content encoder).

Layout (names match the file format): ``attn_layers.i`` (``conv_q/k/v/o`` 1x1 convs and
``emb_rel_k`` / ``emb_rel_v`` of shape ``[1, 2 * window + 1, head_dim]``, shared by all
heads), ``norm_layers_1.i`` / ``norm_layers_2.i`` (channel LayerNorm with ``gamma`` /
``beta``) and ``ffn_layers.i`` (``conv_1`` / ``conv_2`` with the configured kernel).

Relative embedding ``r`` applies to key/value position ``j`` seen from query ``i`` when
``j - i == r - window``; pairs further apart than ``window`` get no relative term.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of a ``[B, C, T]`` tensor."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.transpose(1, -1), (x.size(1),), self.gamma, self.beta, self.eps)
        return x.transpose(1, -1)


def _relative_indices(length: int, window: int, device: torch.device):
    """Index tables for the banded relative terms, with validity masks."""
    pos = torch.arange(length, device=device)
    # keys: for (i, j) the embedding index j - i + window
    rel = pos.unsqueeze(0) - pos.unsqueeze(1) + window
    key_valid = (rel >= 0) & (rel <= 2 * window)
    # values: for (i, r) the key position i + r - window
    offs = torch.arange(2 * window + 1, device=device)
    pos_for_r = pos.unsqueeze(1) + offs.unsqueeze(0) - window
    val_valid = (pos_for_r >= 0) & (pos_for_r < length)
    return (
        rel.clamp(0, 2 * window),
        key_valid,
        pos_for_r.clamp(0, length - 1),
        val_valid,
    )


class RelativeMultiHeadAttention(nn.Module):
    def __init__(
        self, channels: int, out_channels: int, n_heads: int, p_dropout: float, window: int
    ) -> None:
        super().__init__()
        if channels % n_heads:
            raise ValueError(f"channels {channels} is not divisible by n_heads {n_heads}")
        self.n_heads = n_heads
        self.head_dim = channels // n_heads
        self.window = window
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, out_channels, 1)
        self.drop = nn.Dropout(p_dropout)
        std = self.head_dim**-0.5
        self.emb_rel_k = nn.Parameter(torch.randn(1, 2 * window + 1, self.head_dim) * std)
        self.emb_rel_v = nn.Parameter(torch.randn(1, 2 * window + 1, self.head_dim) * std)
        for conv in (self.conv_q, self.conv_k, self.conv_v):
            nn.init.xavier_uniform_(conv.weight)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, _, t = x.shape
        return x.view(b, self.n_heads, self.head_dim, t).transpose(2, 3)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        """Self-attention over ``x`` ``[B, C, T]``; ``attn_mask`` is ``[B, 1, T, T]``."""
        b, _, t = x.shape
        q = self._heads(self.conv_q(x)) / math.sqrt(self.head_dim)
        k = self._heads(self.conv_k(x))
        v = self._heads(self.conv_v(x))
        key_idx, key_ok, val_idx, val_ok = _relative_indices(t, self.window, x.device)

        scores = q @ k.transpose(-2, -1)
        rel_k = q @ self.emb_rel_k[0].t()  # [B, H, T, 2w+1]
        rel_k = rel_k.gather(-1, key_idx.expand(b, self.n_heads, t, t))
        scores = scores + rel_k * key_ok
        scores = scores.masked_fill(attn_mask == 0, -1e4)
        probs = self.drop(torch.softmax(scores, dim=-1))

        out = probs @ v
        banded = probs.gather(-1, val_idx.expand(b, self.n_heads, t, val_idx.size(1)))
        out = out + (banded * val_ok) @ self.emb_rel_v[0]
        out = out.transpose(2, 3).reshape(b, -1, t)
        return self.conv_o(out)


class FeedForward(nn.Module):
    def __init__(
        self, channels: int, filter_channels: int, kernel_size: int, p_dropout: float
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, channels, kernel_size)
        self.drop = nn.Dropout(p_dropout)

    def _same_pad(self, x: torch.Tensor) -> torch.Tensor:
        left = (self.kernel_size - 1) // 2
        return F.pad(x, (left, self.kernel_size - 1 - left))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv_1(self._same_pad(x * mask)))
        x = self.conv_2(self._same_pad(self.drop(x) * mask))
        return x * mask


class Encoder(nn.Module):
    """Post-norm transformer stack: attention + FFN, each with a residual and LayerNorm."""

    def __init__(
        self,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float,
        window: int = 10,
    ) -> None:
        super().__init__()
        self.drop = nn.Dropout(p_dropout)
        self.attn_layers = nn.ModuleList()
        self.norm_layers_1 = nn.ModuleList()
        self.ffn_layers = nn.ModuleList()
        self.norm_layers_2 = nn.ModuleList()
        for _ in range(n_layers):
            self.attn_layers.append(
                RelativeMultiHeadAttention(
                    hidden_channels, hidden_channels, n_heads, p_dropout, window
                )
            )
            self.norm_layers_1.append(ChannelLayerNorm(hidden_channels))
            self.ffn_layers.append(
                FeedForward(hidden_channels, filter_channels, kernel_size, p_dropout)
            )
            self.norm_layers_2.append(ChannelLayerNorm(hidden_channels))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        attn_mask = x_mask.unsqueeze(2) * x_mask.unsqueeze(-1)
        x = x * x_mask
        layers = zip(
            self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2,
            strict=True,
        )
        for attn, norm1, ffn, norm2 in layers:
            x = norm1(x + self.drop(attn(x, attn_mask)))
            x = norm2(x + self.drop(ffn(x, x_mask)))
        return x * x_mask
