"""Multi-period + scale discriminators (``D_v1``: periods 2..17, ``D_v2``: 2..37).

File-format layout: ``discriminators.0`` is the scale discriminator (grouped 1-D convs);
``discriminators.1..`` are the period discriminators (audio folded into ``[T/p, p]`` and
seen by ``(k, 1)`` 2-D convs). Every conv is weight-normalised (``weight_g`` / ``weight_v``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
        self, y: torch.Tensor, y_hat: torch.Tensor, detach_real: bool = False
    ) -> tuple[Features, Features, list[Features], list[Features]]:
        """Score real ``y`` and generated ``y_hat`` (both ``[B, 1, T]``).

        Returns ``(y_d_rs, y_d_gs, fmap_rs, fmap_gs)``. By default both go through each
        discriminator in one batch of ``2B`` (same numbers as two passes). For the
        generator step pass ``detach_real=True``: the real side then runs without autograd
        (its outputs are only targets there), which saves its share of the backward pass.
        """
        if detach_real:
            with torch.no_grad():
                y_d_rs, fmap_rs = self._score(y)
            y_d_gs, fmap_gs = self._score(y_hat.to(y.dtype))
            return y_d_rs, y_d_gs, fmap_rs, fmap_gs
        n = y.size(0)
        scores, fmaps = self._score(torch.cat([y, y_hat.to(y.dtype)], dim=0))
        return (
            [s[:n] for s in scores],
            [s[n:] for s in scores],
            [[f[:n] for f in fm] for fm in fmaps],
            [[f[n:] for f in fm] for fm in fmaps],
        )

    def _score(self, x: torch.Tensor) -> tuple[Features, list[Features]]:
        scores, fmaps = [], []
        for disc in self.discriminators:
            score, fmap = disc(x)
            scores.append(score)
            fmaps.append(fmap)
        return scores, fmaps

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Parameters stop requiring grad inside the block (use around the generator
        step so its backward skips the discriminator's weight gradients)."""
        flags = [p.requires_grad for p in self.parameters()]
        self.requires_grad_(False)
        try:
            yield
        finally:
            for p, flag in zip(self.parameters(), flags, strict=True):
                p.requires_grad_(flag)


def build_discriminator(version: str, size: str = "standard") -> MultiPeriodDiscriminator:
    """``D_v1`` / ``D_v2`` layout for ``version`` ``"v1"`` or ``"v2"``."""
    if version not in PERIODS:
        raise ValueError(f"unknown model version {version!r}; use 'v1' or 'v2'")
    return MultiPeriodDiscriminator(PERIODS[version], size=size)
