"""Random-weight RVC files in the real formats, built at test time (nothing binary is committed).

Voice models (``weights/<name>.pth`` as other RVC tools write them):

- :func:`rvc_checkpoint` / :func:`write_rvc_model`: an inference model for any variant of
  ``tests/data/reference/rvc_state_dict_manifest.json`` (v1/v2, 32k/40k/48k, f0/nof0), at the
  ``tiny`` test size or the ``standard`` size, stored fp16 (as RVC does) or fp32, with or
  without the ``version`` entry (the oldest files have none: v1). ``config`` is the 18
  hyperparameters of the weights actually stored (the second one written as 32).
- :func:`write_rvc_layout`: ``<root>/weights/<name>.pth`` plus a real (tiny) faiss index
  ``<root>/logs/<name>/added_IVF<n>_Flat_nprobe_1_<name>_<v>.index``, RVC's folder layout.
- :func:`write_model_package`: our exported package ``.zip`` (model + index + model card).

Files that are not voice models (for the "looks like" messages):
:func:`write_training_checkpoint` (``G_<step>.pth`` / ``D_<step>.pth``),
:func:`write_pretrained_base` (``f0G40k.pth``: full state dict with ``enc_q``) and
:func:`write_discriminator_base`.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from backend.models import RATES as RATE_HZ
from backend.models import build_discriminator, build_generator, config_args, rate_key
from backend.train.export import ModelCard, write_package
from backend.train.index import build_index

MANIFEST = Path(__file__).resolve().parents[1] / "data" / "reference" / \
    "rvc_state_dict_manifest.json"
VERSIONS = ("v1", "v2")
RATES = ("32k", "40k", "48k")
VARIANTS = [(v, r, f) for v in VERSIONS for r in RATES for f in (True, False)]


def variant_name(version: str, rate: str, f0: bool) -> str:
    """The manifest key: ``v2_40k_f0``."""
    return f"{version}_{rate_key(rate)}_{'f0' if f0 else 'nof0'}"


def manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def generator_state(version: str, rate: str, f0: bool, *, size: str = "tiny",
                    seed: int = 0) -> tuple[dict[str, torch.Tensor], list[Any]]:
    """Random generator weights (``enc_q`` included) and the 18 config values they fit."""
    torch.manual_seed(seed)
    net = build_generator(version, rate, f0, size=size)
    with torch.no_grad():  # move every weight off its init value (a "trained" model)
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return net.state_dict(), net.cfg.to_args()


def rvc_checkpoint(version: str, rate: str, f0: bool, *, size: str = "tiny", fp16: bool = True,
                   with_version: bool = True, seed: int = 0, info: str = "300epoch"
                   ) -> dict[str, Any]:
    """The dict an RVC inference ``.pth`` holds (``weight`` without ``enc_q``)."""
    state, cfg = generator_state(version, rate, f0, size=size, seed=seed)
    dtype = torch.float16 if fp16 else torch.float32
    weight = {k: v.to(dtype).clone() if v.is_floating_point() else v.clone()
              for k, v in state.items() if not k.startswith("enc_q.")}
    cfg = list(cfg)
    cfg[1] = 32  # stored as 32 whatever the rate, as other tools write it
    ckpt: dict[str, Any] = {"weight": weight, "config": cfg, "info": info,
                            "sr": rate_key(rate), "f0": int(bool(f0))}
    if with_version:
        ckpt["version"] = version
    return ckpt


def write_rvc_model(path: Path, version: str = "v2", rate: str = "40k", f0: bool = True, *,
                    size: str = "tiny", fp16: bool = True, with_version: bool = True,
                    seed: int = 0, info: str = "300epoch") -> Path:
    """Write an RVC inference model; ``with_version=False`` only makes sense for v1."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(rvc_checkpoint(version, rate, f0, size=size, fp16=fp16,
                              with_version=with_version, seed=seed, info=info), path)
    return path


def write_index(folder: Path, name: str, version: str, *, vectors: int = 200,
                seed: int = 0) -> Path:
    """A real faiss IVF-Flat index over random content vectors (256 or 768 wide)."""
    dim = 256 if version == "v1" else 768
    feats = np.random.default_rng(seed).standard_normal((vectors, dim)).astype(np.float32)
    return build_index(feats, Path(folder), name, version).path


@dataclass(frozen=True)
class RvcLayout:
    root: Path
    model: Path  # <root>/weights/<name>.pth
    index: Path  # the added_IVF…index, in logs/<name>/ or beside the model


def write_rvc_layout(root: Path, name: str, version: str = "v2", rate: str = "40k",
                     f0: bool = True, *, size: str = "tiny", fp16: bool = True,
                     index_beside: bool = False, seed: int = 0) -> RvcLayout:
    """RVC's folders: ``weights/<name>.pth`` and ``logs/<name>/added_…_<name>_<v>.index``
    (``index_beside=True``: the index in ``weights/`` next to the model instead)."""
    root = Path(root)
    model = write_rvc_model(root / "weights" / f"{name}.pth", version, rate, f0, size=size,
                            fp16=fp16, seed=seed)
    folder = root / "weights" if index_beside else root / "logs" / name
    return RvcLayout(root, model, write_index(folder, name, version, seed=seed))


def write_model_package(path: Path, name: str, version: str = "v2", rate: str = "40k",
                        f0: bool = True, *, with_index: bool = True, seed: int = 0) -> Path:
    """Our exported package ``.zip``: ``<name>.pth``, the index, ``model_card.md/.json``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ckpt = rvc_checkpoint(version, rate, f0, seed=seed, info="12epoch")
    card = ModelCard(name, version, RATE_HZ[rate_key(rate)], f0, "rmvpe", 12, 480, 95.0)
    with tempfile.TemporaryDirectory() as tmp:
        index = write_index(Path(tmp), name, version, seed=seed) if with_index else None
        return write_package(path, name, ckpt, card, index)


# files that are not voice models ---------------------------------------------------------
def write_training_checkpoint(path: Path, version: str = "v2", rate: str = "40k",
                              f0: bool = True, *, kind: str = "G", step: int = 2000) -> Path:
    """``G_<step>.pth`` / ``D_<step>.pth`` as RVC saves them during training."""
    torch.manual_seed(1)
    net = build_generator(version, rate, f0, size="tiny") if kind == "G" \
        else build_discriminator(version, size="tiny")
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    ckpt = {"model": net.state_dict(), "iteration": step // 100,
            "optimizer": opt.state_dict(), "learning_rate": 1e-4}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return Path(path)


def write_pretrained_base(path: Path, version: str = "v2", rate: str = "40k",
                          f0: bool = True) -> Path:
    """``f0G40k.pth``: ``{"model": full generator state dict (enc_q included)}``."""
    state, _ = generator_state(version, rate, f0)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": {k: v.half() for k, v in state.items()}}, path)
    return Path(path)


def write_discriminator_base(path: Path, version: str = "v2") -> Path:
    """``f0D40k.pth``: ``{"model": discriminator state dict}``."""
    torch.manual_seed(2)
    net = build_discriminator(version, size="tiny")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": net.state_dict()}, path)
    return Path(path)


def standard_config(version: str, rate: str, f0: bool) -> list[Any]:
    """The 18 values of the standard model as files store them (second one 32)."""
    cfg = config_args(version, rate, f0)
    cfg[1] = 32
    return cfg
