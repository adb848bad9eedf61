"""Multi-period + scale discriminators (``D_v1``: periods 2..17, ``D_v2``: 2..37).

File-format layout: ``discriminators.0`` is the scale discriminator (grouped 1-D convs);
``discriminators.1..`` are the period discriminators (audio folded into ``[T/p, p]`` and
seen by ``(k, 1)`` 2-D convs). Every conv is weight-normalised (``weight_g`` / ``weight_v``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from .commons import get_padding
from .wnconv import WNConv1d, WNConv2d

LRELU_SLOPE = 0.1
PERIODS = {
    "v1": [2, 3, 5, 7, 11, 17],
    "v2": [2, 3, 5, 7, 11, 17, 23, 37],
}
# (channels, groups) per conv of the scale discriminator; channels of the period ones
_SIZES = {
    "standard": {
        "scale": ([16, 64, 256, 1024, 1024, 1024], [1, 4, 16, 64, 256, 1]),
        "period": [32, 128, 512, 1024, 1024],
    },
    "tiny": {
        "scale": ([4, 8, 16, 32, 32, 32], [1, 2, 4, 8, 8, 1]),
        "period": [4, 8, 16, 32, 32],
    },
}

Features = list[torch.Tensor]


class ScaleDiscriminator(nn.Module):
    def __init__(self, channels: list[int], groups: list[int]) -> None:
        super().__init__()
        kernels = [15, 41, 41, 41, 41, 5]
        strides = [1, 4, 4, 4, 4, 1]
        self.convs = nn.ModuleList()
        in_ch = 1
        for out_ch, k, s, gr in zip(channels, kernels, strides, groups, strict=True):
            self.convs.append(WNConv1d(in_ch, out_ch, k, s, groups=gr, padding=k // 2))
            in_ch = out_ch
        self.conv_post = WNConv1d(in_ch, 1, 3, 1, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Features]:
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class PeriodDiscriminator(nn.Module):
    def __init__(self, period: int, channels: list[int], kernel_size: int = 5) -> None:
        super().__init__()
        self.period = period
        self.convs = nn.ModuleList()
        in_ch = 1
        pad = (get_padding(kernel_size), 0)
        for i, out_ch in enumerate(channels):
            stride = 3 if i < len(channels) - 1 else 1
            self.convs.append(
                WNConv2d(in_ch, out_ch, (kernel_size, 1), (stride, 1), padding=pad)
            )
            in_ch = out_ch
        self.conv_post = WNConv2d(in_ch, 1, (3, 1), 1, padding=(1, 0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Features]:
        b, c, t = x.shape
        if t % self.period:
            n_pad = self.period - t % self.period
            x = F.pad(x, (0, n_pad), "reflect")
            t += n_pad
        x = x.view(b, c, t // self.period, self.period)
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class MultiPeriodDiscriminator(nn.Module):
    """One scale discriminator followed by one period discriminator per period."""

    def __init__(self, periods: list[int], size: str = "standard") -> None:
        super().__init__()
        if size not in _SIZES:
            raise ValueError(f"unknown discriminator size {size!r}; use one of {list(_SIZES)}")
        scale_ch, scale_groups = _SIZES[size]["scale"]
        discs: list[nn.Module] = [ScaleDiscriminator(scale_ch, scale_groups)]
        discs += [PeriodDiscriminator(p, _SIZES[size]["period"]) for p in periods]
        self.discriminators = nn.ModuleList(discs)

    def forward(
        self, y: torch.Tensor, y_hat: torch.Tensor
    ) -> tuple[Features, Features, list[Features], list[Features]]:
        """Score real ``y`` and generated ``y_hat`` (both ``[B, 1, T]``).

        Both go through each discriminator in one batch of ``2B`` (same result as two
        passes, fewer kernel launches). Returns ``(y_d_rs, y_d_gs, fmap_rs, fmap_gs)``.
        """
        n = y.size(0)
        both = torch.cat([y, y_hat.to(y.dtype)], dim=0)
        y_d_rs, y_d_gs, fmap_rs, fmap_gs = [], [], [], []
        for disc in self.discriminators:
            score, fmap = disc(both)
            y_d_rs.append(score[:n])
            y_d_gs.append(score[n:])
            fmap_rs.append([f[:n] for f in fmap])
            fmap_gs.append([f[n:] for f in fmap])
        return y_d_rs, y_d_gs, fmap_rs, fmap_gs


def build_discriminator(version: str, size: str = "standard") -> MultiPeriodDiscriminator:
    """``D_v1`` / ``D_v2`` layout for ``version`` ``"v1"`` or ``"v2"``."""
    if version not in PERIODS:
        raise ValueError(f"unknown model version {version!r}; use 'v1' or 'v2'")
    return MultiPeriodDiscriminator(PERIODS[version], size=size)
