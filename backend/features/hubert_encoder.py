"""ContentEncoder: a loaded HuBERT network plus the RVC v1/v2 output conventions.

``encode`` runs long inputs in windows with context (memory stays flat) and uses the whole
input's statistics for input normalisation and the first conv's GroupNorm (``conv0_stats``);
``encode_batch`` runs several inputs of identical length in one forward pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from backend.features.hubert_net import Conv0Stats, HubertConfig, HubertNet, num_frames


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


def default_dtype(device: torch.device, dtype: torch.dtype | None = None) -> torch.dtype:
    """``dtype`` if given, else fp16 on CUDA and fp32 elsewhere."""
    if dtype is not None:
        return dtype
    return torch.float16 if device.type == "cuda" else torch.float32
