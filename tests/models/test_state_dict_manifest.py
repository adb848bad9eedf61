"""Our modules must reproduce the RVC file format exactly (names, shapes, counts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from backend.models import GeneratorConfig, build_discriminator, build_generator, config_args

MANIFEST = Path(__file__).resolve().parents[1] / "data" / "reference" / \
    "rvc_state_dict_manifest.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def _variants() -> list[str]:
    gens = [f"{v}_{r}_{f}" for v in ("v1", "v2") for r in ("32k", "40k", "48k")
            for f in ("f0", "nof0")]
    return [*gens, "D_v1", "D_v2"]


def _build(name: str) -> torch.nn.Module:
    # shapes only: the meta device allocates nothing, so all 14 builds take ~3 s
    with torch.device("meta"):
        if name.startswith("D_"):
            return build_discriminator(name[2:])
        version, rate, f0 = name.split("_")
        return build_generator(version, rate, f0 == "f0")


def test_manifest_lists_the_fourteen_variants(manifest):
    assert sorted(manifest) == sorted(_variants())


@pytest.mark.parametrize("name", _variants())
def test_state_dict_matches_manifest(manifest, name):
    entry = manifest[name]
    model = _build(name)
    ours = {k: list(t.shape) for k, t in model.state_dict().items()}
    expected = {k: list(v) for k, v in entry["state_dict"].items()}
    missing = sorted(set(expected) - set(ours))
    extra = sorted(set(ours) - set(expected))
    assert not missing, f"{name}: missing keys {missing[:10]}"
    assert not extra, f"{name}: unexpected keys {extra[:10]}"
    wrong = {k: (ours[k], expected[k]) for k in ours if ours[k] != expected[k]}
    assert not wrong, f"{name}: shape mismatches {list(wrong.items())[:10]}"
    assert sum(p.numel() for p in model.parameters()) == entry["params"]


@pytest.mark.parametrize("name", [n for n in _variants() if not n.startswith("D_")])
def test_config_args_match_manifest(manifest, name):
    version, rate, f0 = name.split("_")
    args = config_args(version, rate, f0 == "f0")
    assert args == manifest[name]["config_args"]
    cfg = GeneratorConfig.from_args(args, version=version, f0=f0 == "f0")
    assert cfg.to_args() == args
    assert cfg.hop_length == {"32k": 320, "40k": 400, "48k": 480}[rate]
    assert cfg.content_dim == (256 if version == "v1" else 768)


def test_config_accepts_rate_spellings_and_rejects_others():
    assert config_args("v2", 40000, True) == config_args("v2", "40k", True)
    assert config_args("v1", "48000", False)[-1] == 48000
    with pytest.raises(ValueError, match="sample rate"):
        config_args("v2", "44k", True)
    with pytest.raises(ValueError, match="version"):
        config_args("v3", "40k", True)
    with pytest.raises(ValueError, match="18"):
        GeneratorConfig.from_args([1, 2, 3])
