"""Text encoder: symbol ids -> hidden states and the prior's mean / log-std per symbol.

File-format names (``enc_p.*``): ``emb`` (symbol table ``[n_symbols, hidden]``),
``encoder`` (the shared relative-position transformer, window 4) and ``proj`` (1x1 conv to
``2 * inter_channels``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..attentions import Encoder
from ..commons import sequence_mask

WINDOW = 4  # relative-attention window of the text encoder (emb_rel_k is [1, 9, head_dim])


class TextEncoder(nn.Module):
    def __init__(self, n_symbols: int, out_channels: int, hidden_channels: int,
                 filter_channels: int, n_heads: int, n_layers: int, kernel_size: int,
                 p_dropout: float) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.emb = nn.Embedding(n_symbols, hidden_channels)
        nn.init.normal_(self.emb.weight, 0.0, hidden_channels**-0.5)
        self.encoder = Encoder(hidden_channels, filter_channels, n_heads, n_layers,
                               kernel_size, p_dropout, window=WINDOW)
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(self, x: torch.Tensor, x_lengths: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """ids ``[B, T]`` -> (hidden ``[B, H, T]``, m, logs ``[B, C, T]``, mask ``[B, 1, T]``)."""
        h = self.emb(x) * math.sqrt(self.hidden_channels)
        h = h.transpose(1, 2)
        x_mask = sequence_mask(x_lengths, h.size(2)).unsqueeze(1).to(h.dtype)
        h = self.encoder(h * x_mask, x_mask)
        stats = self.proj(h) * x_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return h, m, logs, x_mask
