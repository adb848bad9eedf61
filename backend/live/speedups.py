"""Faster runners for the synthesizer's decoder in real-time conversion.

The decoder (HiFi-GAN / NSF-HiFi-GAN) is most of the work of a real-time block: about
0.9 GFLOP per 10 ms frame of the standard 40 kHz model. A runner takes the latent frames,
the NSF excitation (computed outside, so it can carry the sine phase from block to block)
and the speaker conditioning, and returns the audio:

* ``torch``: the model's own ``Decoder.body``; with ``fold=True`` on a copy whose
  weight-normalised convolutions are plain convolutions holding the effective weight
  (computed once, instead of ``g * v / ||v||`` on every call). The voice model itself is
  untouched, so its state dict keeps the file format's ``weight_g`` / ``weight_v``.
* ``onnx``: the folded decoder exported once to ONNX and run by ONNX Runtime's CPU provider;
  ``onnx-int8``: the same with the convolutions' weights dynamically quantised to 8 bits.
  Both need ``onnxruntime`` (and ``onnx`` to export); they are optional.

Every runner is a setting of ``VoiceConverter`` whose quality cost ``bench/live.py`` prints.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from backend.kernel import BadArgs
from backend.models.wnconv import WNConv1d, WNConv2d, WNConvTranspose1d

DECODERS = ("torch", "torch-wn", "onnx", "onnx-int8")
_PLAIN = {WNConv1d: nn.Conv1d, WNConv2d: nn.Conv2d, WNConvTranspose1d: nn.ConvTranspose1d}


class DecoderRunner(Protocol):
    def __call__(self, x: torch.Tensor, source: torch.Tensor | None,
                 g: torch.Tensor) -> torch.Tensor:
        """latent ``[1, C, T]``, excitation ``[1, 1, T * hop]`` or None, speaker
        ``[1, gin, 1]`` -> audio ``[1, 1, T * hop]``."""
        ...


def fold_weight_norm(module: nn.Module) -> nn.Module:
    """A copy of ``module`` whose weight-normalised convolutions are plain ones holding the
    effective weight (same outputs up to float rounding; no per-call normalisation)."""
    out = copy.deepcopy(module)
    for parent in out.modules():
        for name, child in list(parent.named_children()):
            plain_cls = _PLAIN.get(type(child))
            if plain_cls is None:
                continue
            with torch.no_grad():
                weight = child.fused_weight().detach().clone()
            plain = copy.copy(child)  # shares the conv hyperparameters
            plain.__class__ = plain_cls
            plain._parameters = {"weight": nn.Parameter(weight, requires_grad=False),
                                 "bias": child.bias}
            setattr(parent, name, plain)
    return out.eval().requires_grad_(False)


class _Body(nn.Module):
    """``Decoder.body`` as a module with a fixed signature (tracing and export)."""

    def __init__(self, decoder: nn.Module) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, x: torch.Tensor, source: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.decoder.body(x, source, g)


class TorchDecoder:
    def __init__(self, decoder: nn.Module, fold: bool = True) -> None:
        self.decoder = fold_weight_norm(decoder) if fold else decoder

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor, source: torch.Tensor | None,
                 g: torch.Tensor) -> torch.Tensor:
        return self.decoder.body(x, source, g)


class OnnxDecoder:
    """The folded decoder in ONNX Runtime (CPU provider), optionally with int8 weights."""

    def __init__(self, decoder: nn.Module, *, int8: bool = False, threads: int | None = None,
                 work_dir: Path | None = None) -> None:
        ort = _import_onnxruntime()
        self.use_f0 = bool(getattr(decoder, "use_f0", False))
        self._tmp = None
        if work_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="timbre-live-")
            work_dir = Path(self._tmp.name)
        path = export_decoder(decoder, Path(work_dir) / "decoder.onnx")
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            qpath = path.with_name("decoder-int8.onnx")
            quantize_dynamic(str(path), str(qpath), weight_type=QuantType.QUInt8,
                             op_types_to_quantize=["Conv"])
            path = qpath
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        if threads:
            options.intra_op_num_threads = int(threads)
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])

    def __call__(self, x: torch.Tensor, source: torch.Tensor | None,
                 g: torch.Tensor) -> torch.Tensor:
        feed = {"x": _np(x), "g": _np(g)}
        if self.use_f0:
            feed["source"] = _np(source)
        (y,) = self.session.run(None, feed)
        return torch.from_numpy(y)


def _np(t: torch.Tensor | None) -> np.ndarray:
    assert t is not None
    return np.ascontiguousarray(t.detach().float().cpu().numpy())


def export_decoder(decoder: nn.Module, path: Path) -> Path:
    """Export the folded decoder body (``x [1,C,T]``, ``source [1,1,S]``, ``g [1,gin,1]``)."""
    body = _Body(fold_weight_norm(decoder)).eval()
    frames, hop = 8, int(getattr(decoder, "upp", 1))
    x = torch.zeros(1, body.decoder.conv_pre.in_channels, frames)
    g = torch.zeros(1, body.decoder.cond.in_channels, 1)
    source = torch.zeros(1, 1, frames * hop)
    names = ["x", "source", "g"]
    axes = {"x": {2: "frames"}, "source": {2: "samples"}, "y": {2: "samples"}}
    args = (x, source, g)
    if not getattr(decoder, "use_f0", False):
        body = _NoSource(body.decoder)
        names, args = ["x", "g"], (x, g)
        axes.pop("source")
    try:
        torch.onnx.export(body, args, str(path), input_names=names, output_names=["y"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    except ModuleNotFoundError as exc:
        raise BadArgs(f"exporting the decoder to ONNX needs the onnx package ({exc}): "
                      "pip install onnx, or use the torch decoder") from exc
    return path


class _NoSource(nn.Module):
    def __init__(self, decoder: nn.Module) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.decoder.body(x, None, g)


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise BadArgs("the onnx decoders need ONNX Runtime: pip install onnxruntime==1.32.0 "
                      "(or use decoder 'torch')") from exc
    return onnxruntime


def make_decoder(decoder: nn.Module, kind: str, threads: int | None = None) -> DecoderRunner:
    if kind == "torch":
        return TorchDecoder(decoder, fold=True)
    if kind == "torch-wn":  # the model's own modules, weight norm recomputed every call
        return TorchDecoder(decoder, fold=False)
    if kind in ("onnx", "onnx-int8"):
        return OnnxDecoder(decoder, int8=kind == "onnx-int8", threads=threads)
    raise BadArgs(f"decoder must be one of {', '.join(DECODERS)}, not {kind!r}")
