"""Duration predictors: how many spectrogram frames each text symbol lasts (in log).

``DurationPredictor`` (deterministic, ``use_sdp: false``): two conv + ReLU + LayerNorm
stages and a 1x1 projection to one log-duration per symbol (file names ``conv_1``,
``norm_1``, ``conv_2``, ``norm_2``, ``proj``, ``cond``).

``StochasticDurationPredictor`` (``use_sdp: true``): a normalising flow over (duration,
a second free channel) conditioned on the text states, trained by variational
dequantisation. File names: ``pre``/``convs``/``proj`` (the condition), ``flows.0``
(elementwise affine) then ``flows.{1,3,5,7}`` spline coupling layers with flips between,
and the posterior's ``post_pre``/``post_convs``/``post_proj``/``post_flows.*``; ``cond``
with speakers. Both read the text states through ``detach``: the duration loss trains only
the predictor.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from ..attentions import ChannelLayerNorm
from .spline import rational_quadratic

LOG_2PI = math.log(2 * math.pi)


class DurationPredictor(nn.Module):
    def __init__(self, in_channels: int, filter_channels: int, kernel_size: int,
                 p_dropout: float, gin_channels: int = 0) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.drop = nn.Dropout(p_dropout)
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size, padding=pad)
        self.norm_1 = ChannelLayerNorm(filter_channels)
        self.conv_2 = nn.Conv1d(filter_channels, filter_channels, kernel_size, padding=pad)
        self.norm_2 = ChannelLayerNorm(filter_channels)
        self.proj = nn.Conv1d(filter_channels, 1, 1)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, in_channels, 1)

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor,
                g: torch.Tensor | None = None) -> torch.Tensor:
        """Text states ``[B, H, T]`` -> log durations ``[B, 1, T]`` (masked)."""
        x = x.detach()
        if g is not None and hasattr(self, "cond"):
            x = x + self.cond(g.detach())
        x = self.drop(self.norm_1(torch.relu(self.conv_1(x * x_mask))))
        x = self.drop(self.norm_2(torch.relu(self.conv_2(x * x_mask))))
        return self.proj(x * x_mask) * x_mask


class DDSConv(nn.Module):
    """Dilated depth-separable convolutions with LayerNorm + GELU, residual each layer."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int,
                 p_dropout: float = 0.0) -> None:
        super().__init__()
        self.drop = nn.Dropout(p_dropout)
        self.convs_sep = nn.ModuleList()
        self.convs_1x1 = nn.ModuleList()
        self.norms_1 = nn.ModuleList()
        self.norms_2 = nn.ModuleList()
        for i in range(n_layers):
            dilation = kernel_size**i
            self.convs_sep.append(nn.Conv1d(
                channels, channels, kernel_size, groups=channels, dilation=dilation,
                padding=(kernel_size * dilation - dilation) // 2))
            self.convs_1x1.append(nn.Conv1d(channels, channels, 1))
            self.norms_1.append(ChannelLayerNorm(channels))
            self.norms_2.append(ChannelLayerNorm(channels))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor,
                g: torch.Tensor | None = None) -> torch.Tensor:
        if g is not None:
            x = x + g
        layers = zip(self.convs_sep, self.norms_1, self.convs_1x1, self.norms_2, strict=True)
        for sep, norm1, pointwise, norm2 in layers:
            y = F.gelu(norm1(sep(x * x_mask)))
            y = F.gelu(norm2(pointwise(y)))
            x = x + self.drop(y)
        return x * x_mask


# -- flow steps: forward returns (y, logdet [B]); reverse returns x ---------------------------
class ElementwiseAffine(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.m = nn.Parameter(torch.zeros(channels, 1))
        self.logs = nn.Parameter(torch.zeros(channels, 1))

    def forward(self, x, x_mask, g=None, reverse: bool = False):
        if reverse:
            return (x - self.m) * torch.exp(-self.logs) * x_mask
        y = (self.m + torch.exp(self.logs) * x) * x_mask
        return y, torch.sum(self.logs * x_mask, [1, 2])


class LogFlow(nn.Module):
    def forward(self, x, x_mask, g=None, reverse: bool = False):
        if reverse:
            return torch.exp(x) * x_mask
        y = torch.log(torch.clamp_min(x, 1e-5)) * x_mask
        return y, torch.sum(-y, [1, 2])


class FlipFlow(nn.Module):
    def forward(self, x, x_mask, g=None, reverse: bool = False):
        x = torch.flip(x, [1])
        if reverse:
            return x
        return x, torch.zeros(x.size(0), dtype=x.dtype, device=x.device)


class ConvFlow(nn.Module):
    """Spline coupling: channel 1 is transformed by a spline whose knots depend on channel 0."""

    def __init__(self, in_channels: int, filter_channels: int, kernel_size: int,
                 n_layers: int, num_bins: int = 10, tail_bound: float = 5.0) -> None:
        super().__init__()
        self.half = in_channels // 2
        self.filter_channels = filter_channels
        self.num_bins = num_bins
        self.tail_bound = tail_bound
        self.pre = nn.Conv1d(self.half, filter_channels, 1)
        self.convs = DDSConv(filter_channels, kernel_size, n_layers)
        self.proj = nn.Conv1d(filter_channels, self.half * (num_bins * 3 - 1), 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x, x_mask, g=None, reverse: bool = False):
        x0, x1 = x[:, : self.half], x[:, self.half :]
        h = self.proj(self.convs(self.pre(x0), x_mask, g=g)) * x_mask
        b, c, t = x0.shape
        h = h.reshape(b, c, -1, t).permute(0, 1, 3, 2)  # [B, c, T, 3 * bins - 1]
        scale = math.sqrt(self.filter_channels)
        n = self.num_bins
        x1, logabsdet = rational_quadratic(
            x1, h[..., :n] / scale, h[..., n : 2 * n] / scale, h[..., 2 * n :],
            inverse=reverse, bound=self.tail_bound)
        x = torch.cat([x0, x1], 1) * x_mask
        if reverse:
            return x
        return x, torch.sum(logabsdet * x_mask, [1, 2])


def _flow_stack(channels: int, kernel_size: int, n_flows: int) -> nn.ModuleList:
    flows: list[nn.Module] = [ElementwiseAffine(2)]
    for _ in range(n_flows):
        flows += [ConvFlow(2, channels, kernel_size, n_layers=3), FlipFlow()]
    return nn.ModuleList(flows)


class StochasticDurationPredictor(nn.Module):
    def __init__(self, in_channels: int, kernel_size: int, p_dropout: float,
                 n_flows: int = 4, gin_channels: int = 0) -> None:
        super().__init__()
        ch = in_channels  # the original ties the flow width to the text width
        self.log_flow = LogFlow()
        self.flows = _flow_stack(ch, kernel_size, n_flows)
        self.post_pre = nn.Conv1d(1, ch, 1)
        self.post_proj = nn.Conv1d(ch, ch, 1)
        self.post_convs = DDSConv(ch, kernel_size, 3, p_dropout)
        self.post_flows = _flow_stack(ch, kernel_size, n_flows)
        self.pre = nn.Conv1d(in_channels, ch, 1)
        self.proj = nn.Conv1d(ch, ch, 1)
        self.convs = DDSConv(ch, kernel_size, 3, p_dropout)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, ch, 1)

    def _condition(self, x, x_mask, g):
        x = self.pre(x.detach())
        if g is not None and hasattr(self, "cond"):
            x = x + self.cond(g.detach())
        return self.proj(self.convs(x, x_mask)) * x_mask

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, w: torch.Tensor,
                g: torch.Tensor | None = None) -> torch.Tensor:
        """Negative log-likelihood bound ``[B]`` (summed over symbols) of durations ``w``
        ``[B, 1, T]`` (frames, from the alignment) given text states ``x``."""
        x = self._condition(x, x_mask, g)
        z_u, z1, logq = self._dequantise(x, x_mask, w)
        z0 = (w - torch.sigmoid(z_u) * x_mask) * x_mask
        z0, logdet_tot = self.log_flow(z0, x_mask)
        z = torch.cat([z0, z1], 1)
        for flow in self.flows:
            z, logdet = flow(z, x_mask, g=x)
            logdet_tot = logdet_tot + logdet
        nll = torch.sum(0.5 * (LOG_2PI + z.pow(2)) * x_mask, [1, 2]) - logdet_tot
        return nll + logq

    def _dequantise(self, x, x_mask, w):
        """Posterior sample (u in (0, 1) to add to w, second channel) and its log density."""
        h_w = self.post_proj(self.post_convs(self.post_pre(w), x_mask)) * x_mask
        e_q = torch.randn(w.size(0), 2, w.size(2), device=x.device, dtype=x.dtype) * x_mask
        z_q = e_q
        logdet_q = torch.zeros(w.size(0), device=x.device, dtype=x.dtype)
        for flow in self.post_flows:
            z_q, logdet = flow(z_q, x_mask, g=x + h_w)
            logdet_q = logdet_q + logdet
        z_u, z1 = z_q[:, :1], z_q[:, 1:]
        logdet_q = logdet_q + torch.sum(
            (F.logsigmoid(z_u) + F.logsigmoid(-z_u)) * x_mask, [1, 2])
        logq = torch.sum(-0.5 * (LOG_2PI + e_q.pow(2)) * x_mask, [1, 2]) - logdet_q
        return z_u, z1, logq

    def infer(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None,
              noise_scale: float = 0.8) -> torch.Tensor:
        """Sampled log durations ``[B, 1, T]``."""
        x = self._condition(x, x_mask, g)
        # the way back skips the first coupling (flows.1): it changes only the second
        # channel, which is dropped at the end (the original skips it too)
        flows = list(reversed(self.flows))
        flows = [*flows[:-2], flows[-1]]
        z = torch.randn(x.size(0), 2, x.size(2), device=x.device, dtype=x.dtype) * noise_scale
        for flow in flows:
            z = flow(z, x_mask, g=x, reverse=True)
        return z[:, :1]
