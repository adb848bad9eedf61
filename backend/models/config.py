"""Hyperparameters of the RVC-compatible generators.

``config_args`` gives the 18 positional values that files in the wild store (order:
spec_channels, segment_frames, inter_channels, hidden_channels, filter_channels, n_heads,
n_layers, kernel_size, p_dropout, resblock, resblock_kernel_sizes, resblock_dilation_sizes,
upsample_rates, upsample_initial_channel, upsample_kernel_sizes, spk_embed_dim,
gin_channels, sampling_rate). ``GeneratorConfig.from_args`` rebuilds a config from such a
list, for example an inference file's ``config`` entry.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

CONTENT_DIMS = {"v1": 256, "v2": 768}
RATES = {"32k": 32000, "40k": 40000, "48k": 48000}
# class names used by files in the wild (for messages only)
CLASS_NAMES = {
    ("v1", True): "SynthesizerTrnMs256NSFsid",
    ("v1", False): "SynthesizerTrnMs256NSFsid_nono",
    ("v2", True): "SynthesizerTrnMs768NSFsid",
    ("v2", False): "SynthesizerTrnMs768NSFsid_nono",
}

_RES_K = [3, 7, 11]
_RES_D = [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
# (spec_channels, segment_frames, upsample_rates, upsample_kernel_sizes)
_RATE_ARGS: dict[tuple[str, str], tuple[int, int, list[int], list[int]]] = {
    ("v1", "32k"): (513, 40, [10, 4, 2, 2, 2], [16, 16, 4, 4, 4]),
    ("v1", "40k"): (1025, 32, [10, 10, 2, 2], [16, 16, 4, 4]),
    ("v1", "48k"): (1025, 24, [10, 6, 2, 2, 2], [16, 16, 4, 4, 4]),
    ("v2", "32k"): (513, 40, [10, 8, 2, 2], [20, 16, 4, 4]),
    ("v2", "40k"): (1025, 32, [10, 10, 2, 2], [16, 16, 4, 4]),
    ("v2", "48k"): (1025, 36, [12, 10, 2, 2], [24, 20, 4, 4]),
}


def rate_key(sample_rate: int | str) -> str:
    """``40000``, ``"40000"`` or ``"40k"`` -> ``"40k"``; ValueError for other rates."""
    text = str(sample_rate).strip().lower()
    if text in RATES:
        return text
    for key, hz in RATES.items():
        if text == str(hz):
            return key
    raise ValueError(f"unsupported sample rate {sample_rate!r}; use 32k, 40k or 48k")


def _check_version(version: str) -> str:
    if version not in CONTENT_DIMS:
        raise ValueError(f"unknown model version {version!r}; use 'v1' or 'v2'")
    return version


def config_args(version: str, sample_rate: int | str, f0: bool = True) -> list[Any]:
    """The 18 positional hyperparameters of the standard model (``f0`` changes none)."""
    key = (_check_version(version), rate_key(sample_rate))
    spec, seg, ups, up_k = _RATE_ARGS[key]
    return [
        spec, seg, 192, 192, 768, 2, 6, 3, 0, "1",
        list(_RES_K), [list(d) for d in _RES_D], list(ups), 512, list(up_k),
        109, 256, RATES[key[1]],
    ]


@dataclass
class GeneratorConfig:
    spec_channels: int
    segment_frames: int
    inter_channels: int
    hidden_channels: int
    filter_channels: int
    n_heads: int
    n_layers: int
    kernel_size: int
    p_dropout: float
    resblock: str
    resblock_kernel_sizes: list[int]
    resblock_dilation_sizes: list[list[int]]
    upsample_rates: list[int]
    upsample_initial_channel: int
    upsample_kernel_sizes: list[int]
    spk_embed_dim: int
    gin_channels: int
    sampling_rate: int
    # not among the 18 stored values: they come from the file's version / f0 entries
    content_dim: int = 768
    f0: bool = True
    # fixed in the standard architecture; smaller in the tiny test size
    posterior_layers: int = 16
    flow_layers: int = 3
    n_flows: int = 4
    window_size: int = 10

    @classmethod
    def from_args(
        cls, args: list[Any] | tuple[Any, ...], version: str = "v2", f0: bool = True
    ) -> GeneratorConfig:
        if len(args) != 18:
            raise ValueError(f"expected the 18 model hyperparameters, got {len(args)} values")
        names = [f.name for f in fields(cls)][:18]
        values = dict(zip(names, args, strict=True))
        values["resblock"] = str(values["resblock"])
        values["sampling_rate"] = RATES[rate_key(values["sampling_rate"])]
        return cls(**values, content_dim=CONTENT_DIMS[_check_version(version)], f0=bool(f0))

    def to_args(self) -> list[Any]:
        """The 18 positional values, in the stored order."""
        values = asdict(self)
        return [values[f.name] for f in fields(self)][:18]

    @property
    def hop_length(self) -> int:
        return math.prod(self.upsample_rates)

    @property
    def version(self) -> str:
        return "v1" if self.content_dim == 256 else "v2"

    def tiny(self) -> GeneratorConfig:
        """Same architecture with small channels and fewer layers (tests, CPU trials)."""
        return replace(
            self,
            inter_channels=16,
            hidden_channels=16,
            filter_channels=32,
            n_heads=2,
            n_layers=2,
            resblock_kernel_sizes=[3, 5],
            resblock_dilation_sizes=[[1, 3], [1, 3]],
            upsample_initial_channel=32,
            spk_embed_dim=4,
            gin_channels=16,
            posterior_layers=4,
            flow_layers=2,
            window_size=4,
        )
