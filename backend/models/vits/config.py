"""VITS hyperparameters, read from and written as the published ``config.json`` layout.

A ``config.json`` of the original VITS code has three sections: ``train`` (optimiser,
segment size, loss weights), ``data`` (sample rate, STFT and mel settings, ``add_blank``,
``n_speakers``) and ``model`` (channels, layers, HiFi-GAN decoder, ``use_sdp``,
``gin_channels``). Forks add a ``symbols`` list at the top level; this app always writes
one, so the symbol table travels with every model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from backend.models.mel import MelConfig

PUBLISHED = ("ljs_base", "ljs_nosdp", "vctk_base")


@dataclass(frozen=True)
class VitsConfig:
    n_symbols: int
    # data
    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float | None = None
    add_blank: bool = True
    n_speakers: int = 0  # 0: single speaker, no speaker table (emb_g)
    # train
    segment_size: int = 8192  # samples
    learning_rate: float = 2e-4
    betas: tuple[float, float] = (0.8, 0.99)
    eps: float = 1e-9
    lr_decay: float = 0.999875
    c_mel: float = 45.0
    c_kl: float = 1.0
    # model
    inter_channels: int = 192
    hidden_channels: int = 192
    filter_channels: int = 768
    n_heads: int = 2
    n_layers: int = 6
    kernel_size: int = 3
    p_dropout: float = 0.1
    resblock: str = "1"
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    n_layers_q: int = 3
    use_spectral_norm: bool = False
    use_sdp: bool = True
    gin_channels: int = 0
    # fixed in the original code (not in its config.json); written so tiny models round-trip
    posterior_layers: int = 16
    flow_layers: int = 4
    dp_filter_channels: int = 256  # deterministic duration predictor
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # other keys, kept

    @property
    def spec_channels(self) -> int:
        return self.filter_length // 2 + 1

    @property
    def segment_frames(self) -> int:
        return self.segment_size // self.hop_length

    def mel(self) -> MelConfig:
        return MelConfig(self.sampling_rate, self.filter_length, self.hop_length,
                         self.win_length, self.n_mel_channels, self.mel_fmin, self.mel_fmax)

    def tiny(self) -> VitsConfig:
        """The same architecture, small enough to train in seconds on a CPU (tests, trials)."""
        return replace(self, inter_channels=16, hidden_channels=16, filter_channels=32,
                       n_heads=2, n_layers=2, resblock_kernel_sizes=(3, 5),
                       resblock_dilation_sizes=((1, 3), (1, 3)), upsample_initial_channel=32,
                       n_layers_q=2, gin_channels=16 if self.n_speakers else 0,
                       posterior_layers=4, flow_layers=2, dp_filter_channels=32)

    def with_speakers(self, n_speakers: int) -> VitsConfig:
        """``n_speakers`` > 0 adds the speaker table (and 256 conditioning channels, or the
        hidden width for a model narrower than the published one, such as ``tiny()``)."""
        gin = self.gin_channels or (256 if self.hidden_channels >= 192 else self.hidden_channels)
        return replace(self, n_speakers=n_speakers, gin_channels=gin if n_speakers else 0)

    # -- config.json ------------------------------------------------------------------------
    @classmethod
    def from_json(cls, config: dict[str, Any], n_symbols: int | None = None) -> VitsConfig:
        """From a ``config.json`` dict; ``n_symbols`` defaults to its ``symbols`` list.

        Raises ``ValueError`` naming the missing or wrong entry."""
        if not isinstance(config, dict):
            raise ValueError("a VITS config.json holds one JSON object")
        symbols = config.get("symbols")
        if n_symbols is None:
            if not isinstance(symbols, list) or not symbols:
                raise ValueError("the config has no 'symbols' list: the number of symbols "
                                 "must be given")
            n_symbols = len(symbols)
        known = {f.name for f in fields(cls)} - {"n_symbols", "extra"}
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for section in ("data", "train", "model"):
            part = config.get(section, {})
            if not isinstance(part, dict):
                raise ValueError(f"the config's '{section}' entry is not an object")
            for key, value in part.items():
                if key in known:
                    values[key] = _plain(value)
                else:
                    extra[f"{section}.{key}"] = value
        try:
            return cls(n_symbols=int(n_symbols), extra=extra, **values)
        except TypeError as exc:
            raise ValueError(f"the config does not describe a VITS model: {exc}") from exc

    def to_json(self, symbols: list[str] | None = None) -> dict[str, Any]:
        """The ``config.json`` layout (with ``symbols`` when given)."""
        d = asdict(self)
        sections: dict[str, dict[str, Any]] = {"train": {}, "data": {}, "model": {}}
        for key in _DATA:
            sections["data"][key] = d[key]
        for key in _TRAIN:
            sections["train"][key] = d[key]
        for key in d:
            if key not in _DATA and key not in _TRAIN and key not in ("n_symbols", "extra"):
                sections["model"][key] = d[key]
        for dotted, value in self.extra.items():
            section, _, key = dotted.partition(".")
            sections.setdefault(section, {}).setdefault(key, value)
        out: dict[str, Any] = {k: _lists(v) for k, v in sections.items()}
        if symbols is not None:
            out["symbols"] = list(symbols)
        return out


_DATA = ("sampling_rate", "filter_length", "hop_length", "win_length", "n_mel_channels",
         "mel_fmin", "mel_fmax", "add_blank", "n_speakers")
_TRAIN = ("segment_size", "learning_rate", "betas", "eps", "lr_decay", "c_mel", "c_kl")


def _plain(value: Any) -> Any:
    """JSON lists become tuples so the config stays hashable and frozen."""
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def published(name: str, n_symbols: int = 178) -> VitsConfig:
    """One of the three published configurations (``ljs_base``, ``ljs_nosdp``, ``vctk_base``)."""
    if name not in PUBLISHED:
        raise ValueError(f"unknown VITS configuration {name!r}; use one of "
                         f"{', '.join(PUBLISHED)}")
    cfg = VitsConfig(n_symbols=n_symbols)
    if name == "ljs_nosdp":
        return replace(cfg, use_sdp=False)
    if name == "vctk_base":
        return replace(cfg, n_speakers=109, gin_channels=256)
    return cfg
