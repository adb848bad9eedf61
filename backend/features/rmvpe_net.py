"""RMVPE network: the U-Net + BiGRU model and loading of the standard ``rmvpe.pt``.

A deep U-Net (5 encoder levels of 4 residual blocks with 2x2 average pooling, 16 base channels
doubling per level, 4 intermediate blocks, 5 decoder levels with a transposed convolution and
skip connections), a 3-channel 3x3 convolution, one bidirectional GRU (hidden 256) and a linear
layer to 360 pitch bins with a sigmoid (the "salience").

Module and parameter names are chosen so that ``RmvpeNet().state_dict()`` has exactly the keys
and shapes of the standard file (see /work/shared/reference/rmvpe_state_dict_manifest.json).
:func:`load_rmvpe_net` reads the file and reports every mismatch in a readable way. The front
end, chunking and decoding live in :mod:`backend.features.rmvpe`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from backend.safeload import UnsafeFile, load_weights

N_MELS = 128
N_BINS = 360
ASSET_NAME = "rmvpe.pt"
ASSET_SIZE_TEXT = "about 181 MB"
GET_ASSET_HINT = (
    "Get it with the asset manager: `python -m backend assets download rmvpe`, or import a "
    "copy you already have with `python -m backend assets import PATH --as rmvpe`."
)


class RmvpeWeightsError(Exception):
    """The RMVPE weights file is missing, unreadable or does not fit the architecture."""


# --------------------------------------------------------------------------- network


class _ConvBlockRes(nn.Module):
    """Two 3x3 conv + batch-norm + ReLU layers with a residual (1x1 conv when widths differ)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out, momentum=0.01),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out, momentum=0.01),
            nn.ReLU(),
        )
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x if self.shortcut is None else self.shortcut(x)
        return self.conv(x) + skip


class _ResStack(nn.Module):
    """``n_blocks`` residual blocks, optionally followed by 2x2 average pooling."""

    def __init__(self, c_in: int, c_out: int, n_blocks: int, pool: bool) -> None:
        super().__init__()
        blocks = [_ConvBlockRes(c_in, c_out)]
        blocks += [_ConvBlockRes(c_out, c_out) for _ in range(n_blocks - 1)]
        self.conv = nn.ModuleList(blocks)
        self.pool = nn.AvgPool2d(2) if pool else None

    def run_blocks(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.conv:
            x = block(x)
        return x


class _Encoder(nn.Module):
    def __init__(self, levels: int, n_blocks: int, base: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(1, momentum=0.01)
        widths = [1] + [base * 2**i for i in range(levels)]
        self.layers = nn.ModuleList(
            _ResStack(widths[i], widths[i + 1], n_blocks, pool=True) for i in range(levels)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.bn(x)
        skips = []
        for layer in self.layers:
            x = layer.run_blocks(x)
            skips.append(x)
            x = layer.pool(x)
        return x, skips


class _Intermediate(nn.Module):
    def __init__(self, c_in: int, c_out: int, n_layers: int, n_blocks: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            _ResStack(c_in if i == 0 else c_out, c_out, n_blocks, pool=False)
            for i in range(n_layers)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer.run_blocks(x)
        return x


class _DecoderLevel(nn.Module):
    """Transposed conv (x2 upsampling), concatenation with the skip, residual blocks."""

    def __init__(self, c_in: int, c_out: int, n_blocks: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1,
                               bias=False),
            nn.BatchNorm2d(c_out, momentum=0.01),
            nn.ReLU(),
        )
        blocks = [_ConvBlockRes(c_out * 2, c_out)]
        blocks += [_ConvBlockRes(c_out, c_out) for _ in range(n_blocks - 1)]
        self.conv2 = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = torch.cat((self.conv1(x), skip), dim=1)
        for block in self.conv2:
            x = block(x)
        return x


class _Decoder(nn.Module):
    def __init__(self, c_in: int, levels: int, n_blocks: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            _DecoderLevel(c_in // 2**i, c_in // 2 ** (i + 1), n_blocks) for i in range(levels)
        )

    def forward(self, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        for layer, skip in zip(self.layers, reversed(skips), strict=True):
            x = layer(x, skip)
        return x


class _DeepUnet(nn.Module):
    def __init__(self, levels: int = 5, n_inter: int = 4, n_blocks: int = 4,
                 base: int = 16) -> None:
        super().__init__()
        deepest = base * 2 ** (levels - 1)
        self.encoder = _Encoder(levels, n_blocks, base)
        self.intermediate = _Intermediate(deepest, deepest * 2, n_inter, n_blocks)
        self.decoder = _Decoder(deepest * 2, levels, n_blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, skips = self.encoder(x)
        return self.decoder(self.intermediate(x), skips)


class _BiGRU(nn.Module):
    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, num_layers=1, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(x)[0]


class RmvpeNet(nn.Module):
    """log-mel ``(batch, 128, frames)`` -> salience ``(batch, frames, 360)``.

    ``frames`` must be a multiple of 32 (the U-Net halves the time axis five times).
    """

    def __init__(self) -> None:
        super().__init__()
        self.unet = _DeepUnet()
        self.cnn = nn.Conv2d(16, 3, 3, padding=1)
        self.fc = nn.Sequential(_BiGRU(3 * N_MELS, 256), nn.Linear(512, N_BINS))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel.transpose(-1, -2).unsqueeze(1)  # (batch, 1, frames, mels)
        x = self.cnn(self.unet(x))  # (batch, 3, frames, mels)
        x = x.transpose(1, 2).flatten(-2)  # (batch, frames, 3 * mels)
        return torch.sigmoid(self.fc(x))


# --------------------------------------------------------------------------- loading


def _describe_mismatch(expected: Mapping[str, torch.Tensor],
                       found: Mapping[str, object]) -> list[str]:
    problems: list[str] = []
    for key, ref in expected.items():
        if key not in found:
            problems.append(f"missing key {key} (expected shape {list(ref.shape)})")
            continue
        value = found[key]
        if not isinstance(value, torch.Tensor):
            problems.append(f"{key} is a {type(value).__name__}, expected a tensor")
        elif tuple(value.shape) != tuple(ref.shape):
            problems.append(
                f"{key}: file has shape {list(value.shape)}, expected {list(ref.shape)}"
            )
    problems += [f"unexpected key {key}" for key in found if key not in expected]
    return problems


def check_state_dict(state: object, source: str = "state dict") -> dict[str, torch.Tensor]:
    """Return ``state`` if it has exactly the keys and shapes of :class:`RmvpeNet`.

    Raises :class:`RmvpeWeightsError` listing every mismatch (key, file shape, expected shape).
    """
    if not isinstance(state, Mapping):
        raise RmvpeWeightsError(
            f"{source} is not an RMVPE state dict (it holds a {type(state).__name__}, "
            f"expected a dict of tensors)."
        )
    with torch.device("meta"):  # shapes only, no memory for 90 M parameters
        expected = RmvpeNet().state_dict()
    problems = _describe_mismatch(expected, state)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise RmvpeWeightsError(
            f"{source} does not match the RMVPE architecture ({len(problems)} problem(s)):\n"
            f"  {shown}{more}\nIs it really {ASSET_NAME}? {GET_ASSET_HINT}"
        )
    return dict(state)  # type: ignore[arg-type]


def missing_weights_message(path: Path | None) -> str:
    where = f"was not found at {path}" if path is not None else "has not been set up"
    return (
        f"The 'rmvpe' pitch method needs the model file {ASSET_NAME} ({ASSET_SIZE_TEXT}), "
        f"which {where}. {GET_ASSET_HINT}"
    )


def load_rmvpe_net(path: Path | str | None) -> RmvpeNet:
    """Load ``rmvpe.pt`` (a plain state dict) into a fresh :class:`RmvpeNet` in eval mode."""
    if path is None or not Path(path).is_file():
        raise RmvpeWeightsError(missing_weights_message(None if path is None else Path(path)))
    path = Path(path)
    try:
        state = load_weights(path)
    except UnsafeFile as exc:
        raise RmvpeWeightsError(f"{path}: {exc} {GET_ASSET_HINT}") from None
    except Exception as exc:  # noqa: BLE001 - damaged or not a torch file
        raise RmvpeWeightsError(
            f"Cannot read {path} as a torch state dict ({exc}). "
            f"The file may be damaged or not {ASSET_NAME}. {GET_ASSET_HINT}"
        ) from exc
    state = check_state_dict(state, source=str(path))
    net = RmvpeNet()
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return net.eval()


# --------------------------------------------------------------------------- fusing


def fuse_for_inference(net: RmvpeNet) -> RmvpeNet:
    """Fold every batch norm that follows a convolution into it, in place (eval only).

    About 15 % faster on CPU; the result is numerically equivalent but its state dict no
    longer has the file's layout, so only use it for inference. Safe to call twice.
    """
    net.eval()
    for module in net.modules():
        if not isinstance(module, nn.Sequential):
            continue
        for i in range(len(module) - 1):
            conv, bn = module[i], module[i + 1]
            transposed = isinstance(conv, nn.ConvTranspose2d)
            if isinstance(bn, nn.BatchNorm2d) and (transposed or isinstance(conv, nn.Conv2d)):
                module[i] = fuse_conv_bn_eval(conv, bn, transpose=transposed)
                module[i + 1] = nn.Identity()
    return net
