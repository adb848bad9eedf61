"""HuBERT / ContentVec content encoder in plain torch (the features RVC models are trained on).

RVC conventions (checked against the fairseq and Hugging Face layouts in the tests):

* ``v1``: output of the 9th transformer layer (no extra layer norm: HuBERT base is post-LN), then
  ``final_proj`` (768 -> 256).  Equal to Hugging Face ``hidden_states[9]`` projected.
* ``v2``: output of the last (12th) layer, 768-dim, no projection (HF ``last_hidden_state``).

Both run at 50 frames/s on 16 kHz audio (conv stack hop 320 samples, receptive field 400).

Public API for the extraction job::

    enc = load_encoder(path, device="cpu")          # fairseq .pt or Hugging Face folder/file
    feats = enc.encode(wav16k, version="v2")          # torch.float32 [frames, 768] on enc.device
    n = num_frames(len(wav16k))                       # the frame count encode() returns
"""

from __future__ import annotations

import gc
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from backend.features.hubert_files import (
    EncoderLoadError,
    Mapped,
    checkpoint_to_config_kwargs,
    file_name_for,
    read_checkpoint,
    to_internal_state,
)

__all__ = [
    "ContentEncoder",
    "EncoderLoadError",
    "HubertConfig",
    "HubertNet",
    "load_encoder",
    "num_frames",
]

log = logging.getLogger(__name__)

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


class ContentEncoder:
    """A loaded HuBERT model plus the RVC v1/v2 output conventions and chunked inference."""

    def __init__(self, net: HubertNet, device: str | torch.device = "cpu",
                 source: Path | None = None, dtype: torch.dtype | None = None) -> None:
        """``dtype``: default fp16 on CUDA, fp32 elsewhere; bf16 on a CPU with AVX512-BF16/AMX
        is several times faster than fp32 but less precise (about 1e-2 relative)."""
        self.device = torch.device(device)
        self.dtype = default_dtype(self.device, dtype)
        self.net = net.to(device=self.device, dtype=self.dtype).eval()
        self.cfg = net.cfg
        self.source = source

    def output_dim(self, version: str = "v2") -> int:
        _, proj = self._plan(version)
        return self.cfg.final_dim if proj and self.cfg.final_dim else self.cfg.hidden

    def _plan(self, version: str) -> tuple[int, bool]:
        if version == "v2":
            return self.cfg.layers, False
        if version != "v1":
            raise ValueError(f"version must be 'v1' or 'v2', not {version!r}")
        where = f" ({self.source})" if self.source else ""
        if self.net.final_proj is None:
            raise ValueError(f"this HuBERT model{where} has no final_proj layer, so it cannot "
                             "produce v1 (256-dim) features; use a fairseq hubert_base.pt")
        if not 1 <= self.cfg.v1_layer <= self.cfg.layers:
            raise ValueError(f"v1 needs transformer layer {self.cfg.v1_layer} but the model"
                             f"{where} has {self.cfg.layers} layers")
        return self.cfg.v1_layer, True

    def _prepare(self, wav16k: np.ndarray | torch.Tensor) -> torch.Tensor:
        wav = torch.as_tensor(wav16k).detach().to(device=self.device, dtype=torch.float32)
        if wav.dim() == 2:  # [samples, channels] or [channels, samples]: mix to mono
            wav = wav.mean(dim=0 if wav.shape[0] < wav.shape[1] else 1)
        if wav.dim() != 1:
            raise ValueError(f"expected mono audio [samples], got shape {tuple(wav.shape)}")
        if self.cfg.normalize_input and wav.numel() > 1:
            var, mean = torch.var_mean(wav, correction=0)
            wav = (wav - mean) / torch.sqrt(var + self.cfg.normalize_eps)
        return wav

    @torch.inference_mode()
    def encode(self, wav16k: np.ndarray | torch.Tensor, version: str = "v2",
               chunk_s: float = 30.0, context_s: float = 1.0) -> torch.Tensor:
        """16 kHz mono audio -> features [num_frames(len), dim] (float32, on ``self.device``).

        Inputs longer than ``chunk_s`` run in windows of ``chunk_s`` seconds plus ``context_s``
        seconds of context on each side, cut at frame boundaries (hop 320), so memory stays flat;
        only the context frames are discarded. Input normalisation (when the model asks for it)
        and the first conv's GroupNorm use statistics of the whole input (a cheap extra pass over
        the first conv), as a single pass would. Attention is global, so chunked output is close
        to, not identical with, a single pass; for RVC features 30 s windows are far longer than
        the context that matters.
        """
        n_layers, project = self._plan(version)
        wav = self._prepare(wav16k)
        total = num_frames(wav.numel(), self.cfg)
        if total == 0:
            return torch.zeros(0, self.output_dim(version), device=self.device)
        windows = list(_windows(total, self.cfg, chunk_s, context_s))
        stats = None
        if len(windows) > 1 and self.cfg.extractor_mode == "group":
            stats = self.conv0_stats(wav)
        parts = []
        for a, b, keep0, keep1 in windows:
            start = a * self.cfg.hop
            stop = (b - 1) * self.cfg.hop + self.cfg.receptive_field
            if stats is None:  # single pass: GroupNorm statistics over every sample
                stop = wav.numel()
            x = wav[start:stop].to(self.dtype).unsqueeze(0)
            h = self.net(x, n_layers, stats)[0, keep0:keep1]
            if project:
                h = self.net.final_proj(h)
            parts.append(h.float())
        out = torch.cat(parts) if len(parts) > 1 else parts[0]
        assert out.shape[0] == total, (out.shape, total)
        return out

    @torch.inference_mode()
    def conv0_stats(self, wav: torch.Tensor) -> Conv0Stats:
        """Per-channel mean/variance over time of the first conv's output, in closed form.

        The first conv is linear: with frames ``X[t] = wav[t*s : t*s + k]``, channel ``c``
        is ``w_c . X[t] + b_c``, so its mean is ``w_c . m + b_c`` and its variance
        ``w_c^T R w_c - (w_c . m)^2`` where ``m`` and ``R`` are the mean and the second
        moment (k x k) of the frames. No conv output is ever materialised.
        """
        conv = self.net.convs[0]
        k, s = conv.kernel_size[0], conv.stride[0]
        frames = wav.to(self.device, torch.float64).unfold(0, k, s)  # [n_out, k], a view
        m = frames.mean(dim=0)
        r = frames.T @ frames / frames.shape[0]
        w = conv.weight.detach().to(torch.float64).reshape(conv.out_channels, k)
        wm = w @ m
        var = ((w @ r) * w).sum(dim=1) - wm.pow(2)
        mean = wm if conv.bias is None else wm + conv.bias.detach().to(torch.float64)
        return mean, var.clamp_min(0)

    @torch.inference_mode()
    def encode_batch(self, wavs: list[np.ndarray] | list[torch.Tensor], version: str = "v2",
                     chunk_s: float = 30.0, context_s: float = 1.0) -> list[torch.Tensor]:
        """:meth:`encode` for several inputs of *identical* length in one forward pass.

        Equal lengths need no padding and no attention mask, so each output equals what
        ``encode`` gives for that input (same normalisation per input; only float rounding
        of the batched kernels differs). Inputs longer than ``chunk_s`` (several windows)
        and batches of one go through ``encode`` one by one.
        """
        n_layers, project = self._plan(version)
        wavs = list(wavs)
        prepared = [self._prepare(w) for w in wavs]
        if len({p.numel() for p in prepared}) > 1:
            raise ValueError("encode_batch needs inputs of identical length; got "
                             f"{sorted({p.numel() for p in prepared})} samples")
        total = num_frames(prepared[0].numel(), self.cfg) if prepared else 0
        if len(prepared) < 2 or total == 0 \
                or len(list(_windows(total, self.cfg, chunk_s, context_s))) > 1:
            return [self.encode(w, version, chunk_s, context_s) for w in wavs]
        h = self.net(torch.stack(prepared).to(self.dtype), n_layers)
        if project:
            h = self.net.final_proj(h)
        assert h.shape[1] == total, (h.shape, total)
        return [x.float() for x in h.unbind(0)]


def _windows(total: int, cfg: HubertConfig, chunk_s: float,
             context_s: float) -> Iterator[tuple[int, int, int, int]]:
    """(window_start, window_stop, keep_from, keep_to) in frames, covering [0, total)."""
    fps = 16000 / cfg.hop
    core = max(1, int(round(chunk_s * fps)))
    ctx = max(0, int(round(context_s * fps)))
    if total <= core + 2 * ctx:
        yield 0, total, 0, total
        return
    for c0 in range(0, total, core):
        c1 = min(total, c0 + core)
        a, b = max(0, c0 - ctx), min(total, c1 + ctx)
        yield a, b, c0 - a, c1 - a


def load_encoder(path: Path | str, device: str | torch.device = "cpu", *, trusted: bool = False,
                 v1_layer: int | None = None, normalize: bool | None = None,
                 dtype: torch.dtype | None = None) -> ContentEncoder:
    """Load a HuBERT/ContentVec model from a fairseq ``.pt`` or a Hugging Face folder/file.

    ``trusted``: allow a full (code-executing) unpickle of a fairseq file whose metadata the safe
    loaders cannot read. Only pass True for files the user explicitly imported and vouches for;
    files whose sha256 matches a known asset (RVC's ``hubert_base.pt``) are allowed anyway.
    ``v1_layer`` / ``normalize`` override what the file says; ``dtype`` see ContentEncoder.
    Raises :class:`EncoderLoadError` naming the file and what does not fit.
    """
    path = Path(path)
    ckpt = read_checkpoint(path, trusted=trusted)
    kwargs = checkpoint_to_config_kwargs(ckpt)
    if v1_layer is not None:
        kwargs["v1_layer"] = v1_layer
    if normalize is not None:
        kwargs["normalize_input"] = normalize
    try:
        cfg = HubertConfig(**kwargs)
    except (TypeError, ValueError) as exc:
        raise EncoderLoadError(f"{path}: unsupported HuBERT configuration: {exc}") from exc
    with torch.device("meta"):  # shapes only: the file's tensors become the parameters
        net = HubertNet(cfg)
    kind = ckpt.kind
    mapped = to_internal_state(ckpt, cfg)
    ckpt.state.clear()  # from here on the file's tensors live only in `mapped`
    del ckpt
    dev = torch.device(device)
    _check_and_load(net, mapped, path, kind, dev, default_dtype(dev, dtype))
    del mapped
    gc.collect()
    log.info("loaded %s HuBERT from %s (%d layers, hidden %d)", kind, path, cfg.layers,
             cfg.hidden)
    return ContentEncoder(net, dev, source=path, dtype=dtype)


def default_dtype(device: torch.device, dtype: torch.dtype | None = None) -> torch.dtype:
    """``dtype`` if given, else fp16 on CUDA and fp32 elsewhere."""
    if dtype is not None:
        return dtype
    return torch.float16 if device.type == "cuda" else torch.float32


def _check_and_load(net: HubertNet, mapped: Mapped, path: Path, kind: str,
                    device: torch.device, dtype: torch.dtype) -> None:
    """Strict load with a readable report (file key names, shapes) instead of torch's error.

    ``net`` is on the meta device; each file tensor is converted to ``device``/``dtype`` and
    its original dropped before the next one, so the peak is about one copy of the weights in
    the target dtype (plus the not yet converted rest of the file), never two full copies."""
    expected = net.state_dict()
    missing = [n for k in expected if k not in mapped.state
               for n in mapped.missing.get(k, [file_name_for(k, kind)])]
    unexpected = mapped.unused + [mapped.src.get(k, k) for k in mapped.state if k not in expected]
    wrong = [f"{mapped.src.get(k, k)}: file has {list(t.shape)}, model expects "
             f"{list(expected[k].shape)}"
             for k, t in mapped.state.items() if k in expected and t.shape != expected[k].shape]
    if missing or unexpected or wrong:
        lines = [f"{path} does not fit a {kind} HuBERT model as its own metadata describes it:"]
        for label, names in (("missing", missing), ("unexpected", unexpected)):
            if names:
                more = " ..." if len(names) > 12 else ""
                lines.append(f"  {label} ({len(names)}): " + ", ".join(names[:12]) + more)
        lines.extend(f"  wrong shape: {w}" for w in wrong[:12])
        raise EncoderLoadError("\n".join(lines))
    state = {}
    for k in list(mapped.state):  # pop: the file's copy is freed as soon as it is converted
        state[k] = mapped.state.pop(k).to(device=device, dtype=dtype).contiguous()
    net.load_state_dict(state, strict=True, assign=True)
    meta = [n for n, t in net.state_dict().items() if t.is_meta]
    if meta:  # cannot happen after a strict load; a clear message rather than meta tensors
        raise EncoderLoadError(f"{path}: no weights for {', '.join(meta[:8])}")
