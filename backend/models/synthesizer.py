"""The voice-conversion synthesizer (VITS-style, RVC file-format compatible).

Top-level modules (state-dict prefixes): ``enc_p`` content encoder, ``dec`` HiFi-GAN /
NSF-HiFi-GAN decoder, ``enc_q`` posterior encoder (training only; inference files drop
it), ``flow`` residual-coupling flow, ``emb_g`` speaker embedding.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from .attentions import Encoder
from .commons import rand_slice_segments, sequence_mask, slice_segments
from .config import GeneratorConfig, config_args
from .modules import PosteriorEncoder, ResidualCouplingBlock
from .nsf import Decoder

TrainOutput = tuple[
    torch.Tensor,
    torch.Tensor,
    torch.Tensor,
    torch.Tensor,
    tuple[torch.Tensor, ...],
]


class ContentEncoder(nn.Module):
    """Content features (+ coarse pitch) -> prior mean / log-std per frame."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.hidden = cfg.hidden_channels
        self.out_channels = cfg.inter_channels
        self.emb_phone = nn.Linear(cfg.content_dim, cfg.hidden_channels)
        if cfg.f0:
            self.emb_pitch = nn.Embedding(256, cfg.hidden_channels)
        self.encoder = Encoder(
            cfg.hidden_channels, cfg.filter_channels, cfg.n_heads, cfg.n_layers,
            cfg.kernel_size, float(cfg.p_dropout), window=cfg.window_size,
        )
        self.proj = nn.Conv1d(cfg.hidden_channels, cfg.inter_channels * 2, 1)

    def forward(
        self, phone: torch.Tensor, pitch: torch.Tensor | None, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """phone ``[B, T, D]``, pitch ``[B, T]`` (1..255) -> (m, logs ``[B, C, T]``, mask)."""
        x = self.emb_phone(phone)
        if hasattr(self, "emb_pitch"):
            if pitch is None:
                raise ValueError("this model uses pitch: pass the coarse pitch (1..255)")
            x = x + self.emb_pitch(pitch.long())
        x = F.leaky_relu(x * math.sqrt(self.hidden), 0.1).transpose(1, 2)
        x_mask = sequence_mask(lengths, x.size(2)).unsqueeze(1).to(x.dtype)
        x = self.encoder(x * x_mask, x_mask)
        stats = self.proj(x) * x_mask
        return stats[:, : self.out_channels], stats[:, self.out_channels :], x_mask


class Synthesizer(nn.Module):
    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.segment_frames = cfg.segment_frames
        self.enc_p = ContentEncoder(cfg)
        self.dec = Decoder(
            cfg.inter_channels, cfg.resblock, cfg.resblock_kernel_sizes,
            cfg.resblock_dilation_sizes, cfg.upsample_rates, cfg.upsample_initial_channel,
            cfg.upsample_kernel_sizes, cfg.gin_channels, cfg.sampling_rate, use_f0=cfg.f0,
        )
        self.enc_q = PosteriorEncoder(
            cfg.spec_channels, cfg.inter_channels, cfg.hidden_channels, 5, 1,
            cfg.posterior_layers, gin_channels=cfg.gin_channels,
        )
        self.flow = ResidualCouplingBlock(
            cfg.inter_channels, cfg.hidden_channels, 5, 1, cfg.flow_layers,
            n_flows=cfg.n_flows, gin_channels=cfg.gin_channels,
        )
        self.emb_g = nn.Embedding(cfg.spk_embed_dim, cfg.gin_channels)

    @property
    def hop_length(self) -> int:
        return self.cfg.hop_length

    def forward(
        self,
        phone: torch.Tensor,
        phone_lengths: torch.Tensor,
        pitch_coarse: torch.Tensor | None,
        pitch_f0: torch.Tensor | None,
        spec: torch.Tensor,
        spec_lengths: torch.Tensor,
        sid: torch.Tensor,
    ) -> TrainOutput:
        """Training pass on a random ``segment_frames`` window.

        Returns ``(audio_slice [B,1,seg*hop], ids_slice [B], x_mask, z_mask,
        (z, z_p, m_p, logs_p, m_q, logs_q))``; cut the real audio at ``ids_slice * hop``.
        """
        g = self.emb_g(sid).unsqueeze(-1)
        m_p, logs_p, x_mask = self.enc_p(phone, pitch_coarse, phone_lengths)
        z, m_q, logs_q, z_mask = self.enc_q(spec, spec_lengths, g=g)
        z_p = self.flow(z, z_mask, g=g)
        z_slice, ids_slice = rand_slice_segments(z, spec_lengths, self.segment_frames)
        f0_slice = None
        if self.cfg.f0:
            if pitch_f0 is None:
                raise ValueError("this model uses pitch: pass pitch_f0 (Hz per frame)")
            f0_slice = slice_segments(pitch_f0, ids_slice, self.segment_frames)
        audio = self.dec(z_slice, f0_slice, g=g)
        return audio, ids_slice, x_mask, z_mask, (z, z_p, m_p, logs_p, m_q, logs_q)

    @torch.no_grad()
    def infer(
        self,
        phone: torch.Tensor,
        phone_lengths: torch.Tensor,
        pitch_coarse: torch.Tensor | None,
        pitch_f0: torch.Tensor | None,
        sid: torch.Tensor,
        rate: float | None = None,
        noise_scale: float = 0.66666,
    ) -> torch.Tensor:
        """Convert content (+pitch) to audio ``[B, 1, frames * hop]``.

        ``rate`` in (0, 1] keeps only the last ``rate`` share of the frames for decoding
        (the encoder still sees everything): real-time conversion passes extra context.
        """
        g = self.emb_g(sid).unsqueeze(-1)
        m_p, logs_p, x_mask = self.enc_p(phone, pitch_coarse, phone_lengths)
        z_p = (m_p + torch.exp(logs_p) * torch.randn_like(m_p) * noise_scale) * x_mask
        if rate is not None:
            if not 0 < rate <= 1:
                raise ValueError(f"rate must be in (0, 1], got {rate}")
            head = int(z_p.size(2) * (1.0 - rate))
            z_p, x_mask = z_p[:, :, head:], x_mask[:, :, head:]
            if pitch_f0 is not None:
                pitch_f0 = pitch_f0[:, head:]
        z = self.flow(z_p, x_mask, g=g, reverse=True)
        return self.dec(z * x_mask, pitch_f0 if self.cfg.f0 else None, g=g)


def build_from_config(cfg: GeneratorConfig) -> Synthesizer:
    return Synthesizer(cfg)


def build_generator(
    version: str, sample_rate: int | str, f0: bool, size: str = "standard"
) -> Synthesizer:
    """Generator for ``version`` v1/v2, rate 32k/40k/48k, with or without pitch.

    ``size="tiny"`` keeps the architecture but shrinks channels and layer counts.
    """
    cfg = GeneratorConfig.from_args(config_args(version, sample_rate, f0), version, f0)
    if size == "tiny":
        cfg = cfg.tiny()
    elif size != "standard":
        raise ValueError(f"unknown model size {size!r}; use 'standard' or 'tiny'")
    return Synthesizer(cfg)
