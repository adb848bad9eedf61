"""The VITS generator (original ``SynthesizerTrn`` state-dict layout).

Modules (state-dict prefixes): ``enc_p`` text encoder, ``dec`` HiFi-GAN decoder, ``enc_q``
posterior encoder (training only), ``flow`` residual-coupling flow, ``dp`` duration
predictor (stochastic when ``cfg.use_sdp``), ``emb_g`` speaker table (``n_speakers`` > 1,
as the original: a one-speaker config is a single-speaker model).
The decoder, posterior encoder and flow are the voice-conversion synthesizer's modules.

Training (``forward``): the posterior ``z`` of the linear spectrogram goes through the flow
to ``z_p``; monotonic alignment search finds the symbol -> frames alignment that makes
``z_p`` most likely under each symbol's prior (``m_p``, ``logs_p``); the duration predictor
learns those durations; the decoder turns a random window of ``z`` into audio.
Inference (``infer``): predicted durations expand the prior to frames, a sample goes back
through the flow and the decoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..commons import rand_slice_segments, sequence_mask
from ..modules import PosteriorEncoder, ResidualCouplingBlock
from ..nsf import Decoder
from . import alignment
from .config import VitsConfig
from .duration import DurationPredictor, StochasticDurationPredictor
from .text_encoder import TextEncoder


@dataclass
class VitsOutput:
    audio: torch.Tensor  # [B, 1, segment_frames * hop]
    ids_slice: torch.Tensor  # [B] first frame of the decoded window
    l_length: torch.Tensor  # [B] duration loss summed over symbols
    attn: torch.Tensor  # [B, 1, T_spec, T_text] hard alignment
    x_mask: torch.Tensor  # [B, 1, T_text]
    z_mask: torch.Tensor  # [B, 1, T_spec]
    z: torch.Tensor
    z_p: torch.Tensor
    m_p: torch.Tensor  # prior expanded to frames [B, C, T_spec]
    logs_p: torch.Tensor
    m_q: torch.Tensor
    logs_q: torch.Tensor


@dataclass
class InferOutput:
    audio: torch.Tensor  # [B, 1, frames * hop]
    durations: torch.Tensor  # [B, T_text] frames per symbol (integers)
    y_mask: torch.Tensor  # [B, 1, frames]


class VitsGenerator(nn.Module):
    def __init__(self, cfg: VitsConfig) -> None:
        super().__init__()
        self.cfg = cfg
        # as the original: every module gets gin_channels; the speaker table exists for
        # two or more speakers (with n_speakers == 1 the model is single-speaker)
        gin = cfg.gin_channels
        self.enc_p = TextEncoder(cfg.n_symbols, cfg.inter_channels, cfg.hidden_channels,
                                 cfg.filter_channels, cfg.n_heads, cfg.n_layers,
                                 cfg.kernel_size, float(cfg.p_dropout))
        self.dec = Decoder(cfg.inter_channels, cfg.resblock, list(cfg.resblock_kernel_sizes),
                           [list(d) for d in cfg.resblock_dilation_sizes],
                           list(cfg.upsample_rates), cfg.upsample_initial_channel,
                           list(cfg.upsample_kernel_sizes), gin, cfg.sampling_rate,
                           use_f0=False)
        self.enc_q = PosteriorEncoder(cfg.spec_channels, cfg.inter_channels,
                                      cfg.hidden_channels, 5, 1, cfg.posterior_layers,
                                      gin_channels=gin)
        self.flow = ResidualCouplingBlock(cfg.inter_channels, cfg.hidden_channels, 5, 1,
                                          cfg.flow_layers, n_flows=4, gin_channels=gin)
        if cfg.use_sdp:
            self.dp = StochasticDurationPredictor(cfg.hidden_channels, 3, 0.5, 4,
                                                  gin_channels=gin)
        else:
            self.dp = DurationPredictor(cfg.hidden_channels, cfg.dp_filter_channels, 3, 0.5,
                                        gin_channels=gin)
        self.n_speakers = cfg.n_speakers if cfg.n_speakers > 1 else 0
        if self.n_speakers:
            self.emb_g = nn.Embedding(cfg.n_speakers, cfg.gin_channels)

    @property
    def hop_length(self) -> int:
        return self.cfg.hop_length

    def _speaker(self, sid: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        if not self.n_speakers:
            return None
        if sid is None:
            raise ValueError(f"this model has {self.n_speakers} speakers: pass sid "
                             "(speaker ids)")
        sid = torch.as_tensor(sid, device=self.emb_g.weight.device).long().reshape(-1)
        if sid.numel() == 1 and batch > 1:
            sid = sid.expand(batch)
        if bool(((sid < 0) | (sid >= self.n_speakers)).any()):
            raise ValueError(f"speaker id {sid.tolist()} out of range: this model has "
                             f"speakers 0..{self.n_speakers - 1}")
        return self.emb_g(sid).unsqueeze(-1)

    def forward(self, x: torch.Tensor, x_lengths: torch.Tensor, spec: torch.Tensor,
                spec_lengths: torch.Tensor, sid: torch.Tensor | None = None) -> VitsOutput:
        """ids ``[B, T_text]`` + linear spectrogram ``[B, spec_channels, T_spec]``."""
        h, m_p, logs_p, x_mask = self.enc_p(x, x_lengths)
        g = self._speaker(sid, x.size(0))
        z, m_q, logs_q, z_mask = self.enc_q(spec, spec_lengths, g=g)
        z_p = self.flow(z, z_mask, g=g)
        attn = self._align(z_p, m_p, logs_p, x_mask, z_mask)  # [B, 1, T_spec, T_text]
        w = attn.sum(2)  # frames per symbol [B, 1, T_text]
        if self.cfg.use_sdp:
            l_length = self.dp(h, x_mask, w, g=g)
        else:
            logw_target = torch.log(w + 1e-6) * x_mask
            logw = self.dp(h, x_mask, g=g)
            l_length = torch.sum((logw - logw_target) ** 2, [1, 2])
        path = attn.squeeze(1)
        m_p = torch.matmul(path, m_p.transpose(1, 2)).transpose(1, 2)
        logs_p = torch.matmul(path, logs_p.transpose(1, 2)).transpose(1, 2)
        z_slice, ids_slice = rand_slice_segments(z, spec_lengths, self.cfg.segment_frames)
        audio = self.dec(z_slice, None, g=g)
        return VitsOutput(audio, ids_slice, l_length, attn, x_mask, z_mask, z, z_p,
                          m_p, logs_p, m_q, logs_q)

    @torch.no_grad()
    def _align(self, z_p, m_p, logs_p, x_mask, z_mask) -> torch.Tensor:
        """Log-likelihood of every frame under every symbol's prior, then MAS (in float32
        even under autocast: half-precision scores would pick another path)."""
        with torch.autocast(z_p.device.type, enabled=False):
            return self._align_fp32(z_p.float(), m_p.float(), logs_p.float(),
                                    x_mask.float(), z_mask).to(z_mask.dtype)

    @staticmethod
    def _align_fp32(z_p, m_p, logs_p, x_mask, z_mask) -> torch.Tensor:
        inv_var = torch.exp(-2 * logs_p)  # [B, C, T_text]
        const = torch.sum(-0.5 * math.log(2 * math.pi) - logs_p, [1], keepdim=True)
        quad = torch.matmul(-0.5 * (z_p**2).transpose(1, 2), inv_var)  # [B, T_spec, T_text]
        cross = torch.matmul(z_p.transpose(1, 2), m_p * inv_var)
        mean_sq = torch.sum(-0.5 * (m_p**2) * inv_var, [1], keepdim=True)
        neg_cent = quad + cross + const + mean_sq
        mask = z_mask.squeeze(1).unsqueeze(2) * x_mask  # [B, T_spec, T_text]
        return alignment.maximum_path(neg_cent, mask.float()).unsqueeze(1)

    @torch.no_grad()
    def infer(self, x: torch.Tensor, x_lengths: torch.Tensor, sid: torch.Tensor | None = None,
              noise_scale: float = 0.667, length_scale: float = 1.0,
              noise_scale_w: float = 0.8, max_len: int | None = None) -> InferOutput:
        """Speak symbol ids ``[B, T_text]`` (blanks already interspersed when
        ``cfg.add_blank``); ``length_scale`` > 1 speaks slower."""
        h, m_p, logs_p, x_mask = self.enc_p(x, x_lengths)
        g = self._speaker(sid, x.size(0))
        if self.cfg.use_sdp:
            logw = self.dp.infer(h, x_mask, g=g, noise_scale=noise_scale_w)
        else:
            logw = self.dp(h, x_mask, g=g)
        durations = torch.ceil(torch.exp(logw) * x_mask * length_scale).squeeze(1)
        y_lengths = torch.clamp_min(durations.sum(1), 1).long()
        y_mask = sequence_mask(y_lengths, int(y_lengths.max())).unsqueeze(1).to(m_p.dtype)
        path = alignment.path_from_durations(
            durations, y_mask.squeeze(1).unsqueeze(2) * x_mask)  # [B, T_spec, T_text]
        m_p = torch.matmul(path, m_p.transpose(1, 2)).transpose(1, 2)
        logs_p = torch.matmul(path, logs_p.transpose(1, 2)).transpose(1, 2)
        z_p = m_p + torch.randn_like(m_p) * torch.exp(logs_p) * noise_scale
        z = self.flow(z_p, y_mask, g=g, reverse=True)
        audio = self.dec((z * y_mask)[:, :, :max_len], None, g=g)
        return InferOutput(audio, durations.long(), y_mask)
