"""The shipped catalogue, the data folder, require_asset and the quick commands."""

from __future__ import annotations

import json
import sys
from itertools import combinations

import pytest

from backend.assets import MissingAsset, load_catalogue, require_asset
from backend.assets.catalogue import CatalogueError
from backend.assets.store import asset_path, data_dir
from backend.commands.assets import assets_list, assets_remove


@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.delenv("TIMBRE_ASSET_CATALOGUE", raising=False)
    return load_catalogue()


def test_shipped_catalogue_lists_every_asset(shipped):
    names = set(shipped)
    assert {"hubert-base", "contentvec-hf", "rmvpe"} <= names
    for version in ("v1", "v2"):
        for f0 in ("f0", ""):
            for part in "GD":
                for rate in ("32k", "40k", "48k"):
                    asset = shipped[f"rvc-{version}-{f0}{part}{rate}"]
                    folder = "pretrained" if version == "v1" else "pretrained_v2"
                    assert asset.filename == f"{folder}/{f0}{part}{rate}.pth"
                    assert asset.licence == "MIT"
                    assert any("lj1995/VoiceConversionWebUI" in u for u in asset.sources)
    for asset in shipped.values():
        assert len(asset.sources) >= 2
        assert asset.expected, asset.name
        assert asset.verified == (asset.sha256 is not None)


def test_generator_structures_tell_every_variant_apart(shipped):
    gens = [a for a in shipped.values() if a.kind == "rvc_base_generator"]
    assert len(gens) == 12
    for a, b in combinations(gens, 2):
        same = (a.expected["keys"] == b.expected["keys"]
                and a.expected.get("absent") == b.expected.get("absent"))
        assert not same, (a.name, b.name)


def test_bad_catalogue_entries_are_named(tmp_path, h):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"assets": [h.entry("ok", ["https://x/y"], b"1"),
                                           h.entry("bad", ["ftp://x/y"], b"1")]}))
    with pytest.raises(CatalogueError, match=r"entry 2 \(bad\): 'sources'"):
        load_catalogue(path)
    path.write_text(json.dumps({"assets": [h.entry("up", ["https://x/y"], b"1",
                                                   filename="../escape.bin")]}))
    with pytest.raises(CatalogueError, match="relative path without '..'"):
        load_catalogue(path)


def test_default_data_dir_per_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("TIMBRE_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    assert data_dir() == tmp_path / ".local" / "share" / "TimbreStudio"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert data_dir() == tmp_path / "Library" / "Application Support" / "TimbreStudio"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert data_dir() == tmp_path / "Local" / "TimbreStudio"


def test_require_asset_offline(data_dir, shipped):
    with pytest.raises(MissingAsset) as info:
        require_asset("rmvpe")
    err = info.value
    assert err.code == "asset_missing"
    assert err.details["name"] == "rmvpe" and err.details["size"] == 181184272
    assert err.details["download_command"] == "python -m backend assets download rmvpe"
    assert "--as rmvpe" in err.details["import_hint"]
    assert "rmvpe.pt" in err.message and "not installed" in err.message
    target = asset_path(shipped["rmvpe"])
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x")
    assert require_asset("rmvpe") == target
    assert require_asset("rmvpe.pt") == target  # the file name works when unambiguous


def test_list_and_remove_commands(data_dir, shipped):
    target = asset_path(shipped["rvc-v2-f0G40k"])
    target.parent.mkdir(parents=True)
    target.write_bytes(b"12345")
    listed = {r["name"]: r for r in assets_list({}, None)["assets"]}
    row = listed["rvc-v2-f0G40k"]
    assert row["installed"] and row["installed_size"] == 5 and row["needed_by"]
    assert not listed["rmvpe"]["installed"] and listed["rmvpe"]["size"] == 181184272
    removed = assets_remove({"name": "rvc-v2-f0G40k"}, None)
    assert removed["was_installed"] and not target.exists()
