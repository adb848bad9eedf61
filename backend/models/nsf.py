"""HiFi-GAN decoder, optionally driven by a neural-source-filter (NSF) sine source.

File-format names: ``conv_pre``, ``cond`` (speaker conditioning), ``ups.i`` (weight-norm
transposed convs), ``resblocks.{i * n_kernels + j}`` (``convs1`` / ``convs2``), ``conv_post``
(no bias); with pitch also ``m_source.l_linear`` and ``noise_convs.i``, which inject the
sine excitation, downsampled to each upsampling stage's rate.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from .commons import get_padding
from .wnconv import WNConv1d, WNConvTranspose1d

LRELU_SLOPE = 0.1


class ResBlock1(nn.Module):
    """Pairs of (dilated conv, plain conv) with a residual around each pair."""

    def __init__(self, channels: int, kernel_size: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            WNConv1d(channels, channels, kernel_size, dilation=d,
                     padding=get_padding(kernel_size, d))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            WNConv1d(channels, channels, kernel_size, padding=get_padding(kernel_size))
            for _ in dilations
        )
        for conv in (*self.convs1, *self.convs2):
            conv.init_normal_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2, strict=True):
            xt = c1(F.leaky_relu(x, LRELU_SLOPE))
            x = x + c2(F.leaky_relu(xt, LRELU_SLOPE))
        return x


class ResBlock2(nn.Module):
    """Single dilated convs with a residual each (the lighter "2" variant)."""

    def __init__(self, channels: int, kernel_size: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            WNConv1d(channels, channels, kernel_size, dilation=d,
                     padding=get_padding(kernel_size, d))
            for d in dilations
        )
        for conv in self.convs:
            conv.init_normal_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, LRELU_SLOPE))
        return x


class SineSource(nn.Module):
    """Harmonic-plus-noise excitation from frame-rate f0, merged to one channel.

    Unvoiced frames (f0 <= threshold) get Gaussian noise of amplitude ``sine_amp / 3``;
    voiced frames get ``sine_amp * sin(phase)`` plus noise of std ``noise_std``. The
    harmonics are merged by ``l_linear`` and a tanh.
    """

    def __init__(
        self,
        sampling_rate: int,
        harmonic_num: int = 0,
        sine_amp: float = 0.1,
        noise_std: float = 0.003,
        voiced_threshold: float = 0.0,
    ) -> None:
        super().__init__()
        self.sampling_rate = sampling_rate
        self.harmonic_num = harmonic_num
        self.sine_amp = sine_amp
        self.noise_std = noise_std
        self.voiced_threshold = voiced_threshold
        self.l_linear = nn.Linear(harmonic_num + 1, 1)

    def sine_waves(self, f0: torch.Tensor, upp: int,
                   phase0: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """f0 ``[B, T]`` in Hz -> (sines ``[B, T*upp, H]``, voiced flag ``[B, T*upp, 1]``).

        ``phase0``: the fundamental's phase (in cycles) at the first frame's start, so that
        consecutive pieces of one signal (real-time blocks) continue each other's sine."""
        b, t = f0.shape
        harmonics = torch.arange(1, self.harmonic_num + 2, device=f0.device, dtype=f0.dtype)
        step = f0.unsqueeze(-1) * harmonics / self.sampling_rate  # cycles per sample
        # the phase at each frame start, accumulated in float64 so long inputs stay exact
        advance = step.double() * upp
        start = torch.cumsum(advance, dim=1) - advance + harmonics.double() * phase0
        start = (start % 1.0).to(f0.dtype)
        if self.harmonic_num and self.training:
            offset = torch.rand(b, 1, self.harmonic_num + 1, device=f0.device, dtype=f0.dtype)
            offset[..., 0] = 0
            start = start + offset
        ticks = torch.arange(1, upp + 1, device=f0.device, dtype=f0.dtype).view(1, 1, upp, 1)
        phase = start.unsqueeze(2) + step.unsqueeze(2) * ticks  # [B, T, upp, H]
        sines = torch.sin(2 * math.pi * phase.reshape(b, t * upp, -1)) * self.sine_amp
        voiced = (f0 > self.voiced_threshold).to(f0.dtype)
        voiced = voiced.repeat_interleave(upp, dim=1).unsqueeze(-1)
        return sines, voiced

    def forward(self, f0: torch.Tensor, upp: int, phase0: float = 0.0) -> torch.Tensor:
        """Excitation ``[B, 1, T*upp]``."""
        sines, voiced = self.sine_waves(f0.float(), upp, phase0)
        noise_amp = voiced * self.noise_std + (1 - voiced) * (self.sine_amp / 3)
        excitation = sines * voiced + noise_amp * torch.randn_like(sines)
        excitation = excitation.to(self.l_linear.weight.dtype)
        merged = torch.tanh(self.l_linear(excitation))
        return merged.transpose(1, 2)


class Decoder(nn.Module):
    """HiFi-GAN generator from latent frames to audio; NSF source when ``use_f0``."""

    def __init__(
        self,
        initial_channel: int,
        resblock: str,
        resblock_kernel_sizes: list[int],
        resblock_dilation_sizes: list[list[int]],
        upsample_rates: list[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: list[int],
        gin_channels: int,
        sampling_rate: int,
        use_f0: bool,
    ) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.upp = math.prod(upsample_rates)
        self.use_f0 = use_f0
        if use_f0:
            self.m_source = SineSource(sampling_rate, harmonic_num=0)
            self.noise_convs = nn.ModuleList()
        self.conv_pre = nn.Conv1d(initial_channel, upsample_initial_channel, 7, 1, padding=3)
        block_cls = ResBlock1 if str(resblock) == "1" else ResBlock2
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes, strict=True)):
            ch = upsample_initial_channel // (2 ** (i + 1))
            up = WNConvTranspose1d(ch * 2, ch, k, u, padding=(k - u) // 2)
            up.init_normal_()
            self.ups.append(up)
            for kernel, dil in zip(resblock_kernel_sizes, resblock_dilation_sizes, strict=True):
                self.resblocks.append(block_cls(ch, kernel, dil))
            if use_f0:
                stride = math.prod(upsample_rates[i + 1 :])
                if stride > 1:
                    conv = nn.Conv1d(1, ch, stride * 2, stride=stride, padding=stride // 2)
                else:
                    conv = nn.Conv1d(1, ch, 1)
                self.noise_convs.append(conv)
        self.conv_post = nn.Conv1d(ch, 1, 7, 1, padding=3, bias=False)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)

    def forward(
        self, x: torch.Tensor, f0: torch.Tensor | None = None, g: torch.Tensor | None = None,
        phase0: float = 0.0,
    ) -> torch.Tensor:
        """Latent ``[B, C, T]`` (+ f0 ``[B, T]`` in Hz, speaker ``[B, gin, 1]``) -> audio.

        The audio is ``[B, 1, T * hop]`` in [-1, 1]. ``phase0`` see ``SineSource.sine_waves``.
        """
        source = None
        if self.use_f0:
            if f0 is None:
                raise ValueError("this decoder uses pitch: pass f0 (Hz per frame)")
            source = self.m_source(f0, self.upp, phase0).to(x.dtype)
        return self.body(x, source, g)

    def body(
        self, x: torch.Tensor, source: torch.Tensor | None, g: torch.Tensor | None
    ) -> torch.Tensor:
        """The network after the excitation: latent (+ excitation ``[B, 1, T * hop]``) -> audio
        (a pure tensor function: what real-time conversion exports or compiles)."""
        x = self.conv_pre(x)
        if g is not None and hasattr(self, "cond"):
            x = x + self.cond(g)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            if source is not None:
                x = x + self.noise_convs[i](source)[..., : x.size(-1)]
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0](x)
            for block in blocks[1:]:
                xs = xs + block(x)
            x = xs / self.num_kernels
        x = self.conv_post(F.leaky_relu(x))
        return torch.tanh(x)
