"""The VITS generator and discriminator reproduce the original state dicts exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from backend.models.vits import (
    PUBLISHED,
    VitsConfig,
    VitsGenerator,
    build_vits_discriminator,
    published,
)

MANIFEST = Path(__file__).resolve().parents[1] / "data" / "reference" / \
    "vits_state_dict_manifest.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def _compare(module: torch.nn.Module, expected: dict, name: str) -> None:
    ours = {k: list(t.shape) for k, t in module.state_dict().items()}
    expected = {k: list(v) for k, v in expected.items()}
    missing = sorted(set(expected) - set(ours))
    extra = sorted(set(ours) - set(expected))
    assert not missing, f"{name}: missing keys {missing[:10]}"
    assert not extra, f"{name}: unexpected keys {extra[:10]}"
    wrong = {k: (ours[k], expected[k]) for k in ours if ours[k] != expected[k]}
    assert not wrong, f"{name}: shape mismatches {list(wrong.items())[:10]}"


def test_manifest_holds_the_three_published_configs(manifest):
    assert sorted(manifest["variants"]) == sorted(PUBLISHED)
    assert manifest["symbols"]["count"] == len(manifest["symbols"]["list"]) == 178


@pytest.mark.parametrize("name", PUBLISHED)
def test_generator_matches_manifest(manifest, name):
    entry = manifest["variants"][name]
    with torch.device("meta"):  # shapes only: nothing is allocated
        model = VitsGenerator(published(name))
    _compare(model, entry["generator"], name)
    assert sum(p.numel() for p in model.parameters()) == entry["generator_params"]


@pytest.mark.parametrize("name", PUBLISHED)
def test_discriminator_matches_manifest(manifest, name):
    entry = manifest["variants"][name]
    with torch.device("meta"):
        model = build_vits_discriminator(published(name))
    _compare(model, entry["discriminator"], f"D {name}")
    assert sum(p.numel() for p in model.parameters()) == entry["discriminator_params"]


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_config_json_builds_the_same_model(manifest, name):
    """The config.json as published (no symbols list, fixed sizes absent) gives the
    same configuration as ``published(name)``, and the same model."""
    config = manifest["variants"][name]["config"]
    cfg = VitsConfig.from_json(config, n_symbols=178)
    assert cfg == published(name)
    with torch.device("meta"):
        model = VitsGenerator(cfg)
    _compare(model, manifest["variants"][name]["generator"], name)


def test_spectral_norm_discriminator_is_refused_in_words():
    cfg = VitsConfig(n_symbols=10, use_spectral_norm=True)
    with pytest.raises(ValueError, match="use_spectral_norm"):
        build_vits_discriminator(cfg)
