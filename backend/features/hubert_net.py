"""The HuBERT / ContentVec network in plain torch: configuration, conv feature extractor,
positional convolution and post-LN transformer (the layout of HuBERT base as RVC uses it).

Parameter names are our own; :mod:`backend.features.hubert_names` maps fairseq and Hugging Face
file names onto them. The RVC v1/v2 output conventions and chunked inference live in
:mod:`backend.features.hubert_encoder`, loading in :mod:`backend.features.hubert`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

STANDARD_KERNELS = (10, 3, 3, 3, 3, 2, 2)
STANDARD_STRIDES = (5, 2, 2, 2, 2, 2, 2)
Conv0Stats = tuple[torch.Tensor, torch.Tensor]  # per-channel mean and (biased) variance


@dataclass
class HubertConfig:
    """Sizes of a HuBERT model; the defaults are HuBERT base as RVC uses it."""

    hidden: int = 768
    layers: int = 12
    heads: int = 12
    ffn: int = 3072
    conv_dims: tuple[int, ...] = (512,) * 7
    conv_kernels: tuple[int, ...] = STANDARD_KERNELS
    conv_strides: tuple[int, ...] = STANDARD_STRIDES
    conv_bias: bool = False
    extractor_mode: str = "group"  # "group": GroupNorm on conv 0 only; "layer": LayerNorm on all
    pos_kernel: int = 128
    pos_groups: int = 16
    final_dim: int | None = 256  # None: no final_proj (Hugging Face HubertModel files)
    v1_layer: int = 9
    layer_norm_eps: float = 1e-5
    normalize_input: bool = False  # zero-mean/unit-variance over the whole input first
    normalize_eps: float = 1e-5  # fairseq F.layer_norm uses 1e-5, HF feature extractor 1e-7
    extra: dict[str, object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        n = len(self.conv_dims)
        if not (len(self.conv_kernels) == len(self.conv_strides) == n):
            raise ValueError("conv_dims, conv_kernels and conv_strides must have the same length")
        if self.hidden % self.heads:
            raise ValueError(f"hidden size {self.hidden} is not divisible by {self.heads} heads")
        if self.extractor_mode not in ("group", "layer"):
            raise ValueError(f"extractor_mode must be 'group' or 'layer', not "
                             f"{self.extractor_mode!r}")

    @property
    def hop(self) -> int:
        return math.prod(self.conv_strides)

    @property
    def receptive_field(self) -> int:
        rf, jump = 1, 1
        for k, s in zip(self.conv_kernels, self.conv_strides, strict=True):
            rf += (k - 1) * jump
            jump *= s
        return rf


def num_frames(n_samples: int, cfg: HubertConfig | None = None) -> int:
    """Frames the conv stack yields for ``n_samples`` (standard stack: 49 for 16000 samples)."""
    cfg = cfg or HubertConfig()
    n = int(n_samples)
    for k, s in zip(cfg.conv_kernels, cfg.conv_strides, strict=True):
        n = (n - k) // s + 1 if n >= k else 0
    return max(n, 0)


class _Layer(nn.Module):
    """Post-LN transformer layer (``layer_norm_first`` false) with fused QKV and SDPA."""

    def __init__(self, cfg: HubertConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.qkv = nn.Linear(cfg.hidden, 3 * cfg.hidden)
        self.out_proj = nn.Linear(cfg.hidden, cfg.hidden)
        self.attn_norm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)
        self.fc1 = nn.Linear(cfg.hidden, cfg.ffn)
        self.fc2 = nn.Linear(cfg.ffn, cfg.hidden)
        self.ffn_norm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)
        x = self.attn_norm(x + self.out_proj(a.transpose(1, 2).reshape(b, t, c)))
        return self.ffn_norm(x + self.fc2(F.gelu(self.fc1(x))))


class HubertNet(nn.Module):
    """The HuBERT network: conv feature extractor, projection, positional conv, transformer."""

    def __init__(self, cfg: HubertConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dims = (1, *cfg.conv_dims)
        self.convs = nn.ModuleList(
            nn.Conv1d(dims[i], dims[i + 1], k, s, bias=cfg.conv_bias)
            for i, (k, s) in enumerate(zip(cfg.conv_kernels, cfg.conv_strides, strict=True)))
        if cfg.extractor_mode == "group":
            self.conv_norms = nn.ModuleList([nn.GroupNorm(dims[1], dims[1])])
        else:
            self.conv_norms = nn.ModuleList(nn.LayerNorm(d) for d in cfg.conv_dims)
        self.feat_norm = nn.LayerNorm(cfg.conv_dims[-1], eps=cfg.layer_norm_eps)
        self.feat_proj = nn.Linear(cfg.conv_dims[-1], cfg.hidden)
        # weight norm is folded into a plain weight at load time (inference only)
        self.pos_conv = nn.Conv1d(cfg.hidden, cfg.hidden, cfg.pos_kernel,
                                  padding=cfg.pos_kernel // 2, groups=cfg.pos_groups)
        self.enc_norm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList(_Layer(cfg) for _ in range(cfg.layers))
        self.final_proj = (nn.Linear(cfg.hidden, cfg.final_dim)
                           if cfg.final_dim is not None else None)

    def extract(self, wav: torch.Tensor, conv0_stats: Conv0Stats | None = None) -> torch.Tensor:
        """[B, samples] -> conv features [B, frames, conv_dim].

        In "group" mode the first conv's GroupNorm normalises each channel over *time*, so it
        depends on the whole input; ``conv0_stats`` (mean, var per channel of the whole input,
        see :meth:`ContentEncoder.conv0_stats`) lets a chunk use the statistics of the full input.
        """
        x = wav.unsqueeze(1)
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if self.cfg.extractor_mode == "layer":
                norm = self.conv_norms[i]
                x = F.layer_norm(x.transpose(1, 2).float(), norm.normalized_shape,
                                 norm.weight.float(), norm.bias.float(), norm.eps)
                x = x.to(wav.dtype).transpose(1, 2)
            elif i == 0:  # in fp32 like fairseq's Fp32GroupNorm
                gn = self.conv_norms[0]
                if conv0_stats is None:
                    y = F.group_norm(x.float(), gn.num_groups, gn.weight.float(),
                                     gn.bias.float(), gn.eps)
                else:
                    mean, var = (t.float()[:, None] for t in conv0_stats)
                    y = ((x.float() - mean) * torch.rsqrt(var + gn.eps) * gn.weight.float()[:, None]
                         + gn.bias.float()[:, None])
                x = y.to(wav.dtype)
            x = F.gelu(x)
        return x.transpose(1, 2)

    def forward(self, wav: torch.Tensor, n_layers: int | None = None,
                conv0_stats: Conv0Stats | None = None) -> torch.Tensor:
        """[B, samples] -> hidden states after ``n_layers`` transformer layers [B, T, hidden]."""
        n_layers = self.cfg.layers if n_layers is None else n_layers
        x = self.feat_proj(self.feat_norm(self.extract(wav, conv0_stats)))
        pos = self.pos_conv(x.transpose(1, 2))
        if self.cfg.pos_kernel % 2 == 0:
            pos = pos[:, :, :-1]
        x = self.enc_norm(x + F.gelu(pos).transpose(1, 2))
        for layer in self.layers[:n_layers]:
            x = layer(x)
        return x
