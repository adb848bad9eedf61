"""Weight-normalised convolutions whose state dict uses ``weight_g`` / ``weight_v``.

The RVC file format stores every weight-normalised convolution as a magnitude ``weight_g``
(shape ``[dim0, 1, ...]``) and a direction ``weight_v`` (the full weight shape), with the
norm taken over every dimension except the first. ``torch.nn.utils.parametrizations``
names these ``parametrizations.weight.original0/1`` instead, so these modules register the
two parameters themselves; the effective weight is ``g * v / ||v||``, recomputed on every
call so gradients reach both.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

_FUSED = getattr(torch, "_weight_norm", None)


def _norm_except_dim0(v: torch.Tensor) -> torch.Tensor:
    dims = tuple(range(1, v.dim()))
    return torch.linalg.vector_norm(v, dim=dims, keepdim=True)


class _WeightNorm:
    """Mixin turning a conv's ``weight`` parameter into ``weight_g`` and ``weight_v``."""

    _parameters: dict[str, nn.Parameter | None]

    def _split_weight(self) -> None:
        weight = self._parameters.pop("weight")
        assert weight is not None
        data = weight.detach()
        self.weight_g = nn.Parameter(_norm_except_dim0(data).clone())
        self.weight_v = nn.Parameter(data.clone())

    def fused_weight(self) -> torch.Tensor:
        """The effective weight ``g * v / ||v||``.

        ``torch._weight_norm`` (the op behind torch's own weight norm) has a fused backward,
        several times faster on CPU than autograd through the plain formula.
        """
        if _FUSED is not None:
            return _FUSED(self.weight_v, self.weight_g, 0)
        v = self.weight_v
        return v * (self.weight_g / _norm_except_dim0(v))

    def init_normal_(self, std: float = 0.01) -> None:
        """Draw the effective weight from N(0, std) (HiFi-GAN style initialisation)."""
        with torch.no_grad():
            self.weight_v.normal_(0.0, std)
            self.weight_g.copy_(_norm_except_dim0(self.weight_v))


def _planar(x: torch.Tensor) -> bool:
    """Inference on a CPU: run a 1-d convolution as a 2-d one in channels-last layout.

    oneDNN's channels-last 2-d kernels are about 1.5x faster on a CPU than its 1-d ones for
    the decoders' long, narrow signals (measured in docs/tts.md); with gradients the plain
    1-d path is kept (its backward is the tested one)."""
    return x.dim() == 3 and x.device.type == "cpu" and not torch.is_grad_enabled()


def _to_planar(t: torch.Tensor) -> torch.Tensor:
    return t.unsqueeze(2).contiguous(memory_format=torch.channels_last)


class WNConv1d(_WeightNorm, nn.Conv1d):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.fused_weight()
        # wide channels over short signals are faster in the 1-d kernels
        if _planar(x) and self.in_channels <= 192 and self.padding_mode == "zeros":
            padding = self.padding if isinstance(self.padding, str) else (0, self.padding[0])
            y = F.conv2d(_to_planar(x), _to_planar(weight), self.bias, (1, self.stride[0]),
                         padding, (1, self.dilation[0]), self.groups)
            return y.squeeze(2)
        return self._conv_forward(x, weight, self.bias)


class WNConv2d(_WeightNorm, nn.Conv2d):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.fused_weight(), self.bias)


class WNConvTranspose1d(_WeightNorm, nn.ConvTranspose1d):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if _planar(x) and output_size is None:
            y = F.conv_transpose2d(
                _to_planar(x), _to_planar(self.fused_weight()), self.bias,
                (1, self.stride[0]), (0, self.padding[0]), (0, self.output_padding[0]),
                self.groups, (1, self.dilation[0]))
            return y.squeeze(2)
        return F.conv_transpose1d(
            x,
            self.fused_weight(),
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )
