"""Random-weight VITS files in the real layouts, for the tests (nothing binary is committed).

- ``manifest_state(variant)``: a state dict with exactly the names and shapes of the
  original VITS generator (tests/data/reference/vits_state_dict_manifest.json), random
  values: built from the reference facts, not from our generator.
- ``write_original(folder, variant)``: ``G_<step>.pth`` as the original training code saves
  it (``model``, ``iteration``, ``optimizer``, ``learning_rate``) and its ``config.json``.
- ``tiny_generator(n_symbols, speakers)``: our generator at the tiny size.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from backend.models.vits.config import VitsConfig, published

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "tests" / "data" / "reference" / "vits_state_dict_manifest.json"


def manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def manifest_state(variant: str, seed: int = 0, scale: float = 0.02) -> dict[str, torch.Tensor]:
    """Random weights under the original names and shapes. Small values keep the random
    network's output finite; weight-norm magnitudes and layer-norm gains are ones."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in manifest()["variants"][variant]["generator"].items():
        if key.endswith(("weight_g", ".gamma")):
            out[key] = torch.ones(shape)
        elif key.endswith(".beta"):
            out[key] = torch.zeros(shape)
        else:
            out[key] = scale * torch.randn(shape, generator=gen)
    return out


def write_original(folder: Path, variant: str, *, step: int = 1000,
                   config: dict[str, Any] | None = None,
                   state: dict[str, torch.Tensor] | None = None) -> Path:
    """``<folder>/G_<step>.pth`` and ``<folder>/config.json`` (the published config)."""
    folder.mkdir(parents=True, exist_ok=True)
    state = manifest_state(variant) if state is None else state
    ckpt = {"model": state, "iteration": 12, "learning_rate": 2e-4,
            "optimizer": {"state": {}, "param_groups": [{"lr": 2e-4, "betas": (0.8, 0.99),
                                                         "eps": 1e-9, "params": [0, 1]}]}}
    path = folder / f"G_{step}.pth"
    torch.save(ckpt, path)
    conf = manifest()["variants"][variant]["config"] if config is None else config
    (folder / "config.json").write_text(json.dumps(conf, indent=2), encoding="utf-8")
    return path


def tiny_config(n_symbols: int, n_speakers: int = 0, use_sdp: bool = True) -> VitsConfig:
    cfg = published("ljs_base", n_symbols)
    if n_speakers:
        cfg = cfg.with_speakers(n_speakers)
    from dataclasses import replace

    return replace(cfg.tiny(), use_sdp=use_sdp)


def tiny_generator(cfg: VitsConfig, seed: int = 0) -> torch.nn.Module:
    from backend.models.vits.generator import VitsGenerator

    torch.manual_seed(seed)
    return VitsGenerator(cfg)
