"""Importing files the user already has: by checksum, by structure, and wrong files."""

from __future__ import annotations

import argparse
import json
import os
import pickle

import pytest
import torch

from backend.assets.catalogue import load_catalogue
from backend.assets.importer import UnsafeAsset, WrongFile, import_asset
from backend.assets.store import asset_path, read_records
from backend.assets.verify import read_structure
from backend.kernel import BadArgs


def _real_shape_file(path, asset, *, legacy=False, extra=None, **top):
    """A file in the asset's real layout holding only the checked keys, at their real shapes."""
    exp = asset.expected
    sd = {k: torch.zeros(shape, dtype=torch.float16) for k, shape in exp["keys"].items()}
    sd.update(extra or {})
    obj = {exp["container"]: sd, **top} if exp.get("container") else sd
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


@pytest.fixture
def real_catalogue(monkeypatch):
    monkeypatch.delenv("TIMBRE_ASSET_CATALOGUE", raising=False)
    return load_catalogue()


def test_import_by_checksum_copies_and_keeps_original(data_dir, write_catalogue, h, ctx,
                                                      unicode_dir):
    data = h.payload(150_000, seed=11)
    cat = load_catalogue(write_catalogue([h.entry("k", ["http://127.0.0.1:9/k"], data)]))
    src = unicode_dir / "my copy of k.bin"
    src.write_bytes(data)
    before = os.stat(src)

    result = import_asset(src, cat, ctx)  # recognised by its sha256, no --as needed

    assert result["name"] == "k" and result["verified_by"] == "sha256"
    assert asset_path(cat["k"]).read_bytes() == data
    after = os.stat(src)
    assert src.read_bytes() == data and after.st_mtime_ns == before.st_mtime_ns
    assert read_records()["k"]["how"] == "import"
    leftovers = [p.name for p in asset_path(cat["k"]).parent.iterdir()]
    assert leftovers == ["k.bin"]


def test_import_generator_by_structure(data_dir, real_catalogue, ctx, tmp_path):
    asset = real_catalogue["rvc-v2-f0G40k"]
    src = _real_shape_file(tmp_path / "my f0G40k.pth", asset, info="base")

    named = import_asset(src, real_catalogue, ctx, as_name="rvc-v2-f0G40k")
    assert named["verified_by"] == "structure"
    assert asset_path(asset).read_bytes() == src.read_bytes()
    # without --as it is recognised: the checked shapes single out v2 / 40k / with pitch
    guessed = import_asset(src, real_catalogue, ctx)
    assert guessed["name"] == "rvc-v2-f0G40k"


def test_wrong_file_message_names_what_it_is(data_dir, real_catalogue, ctx, tmp_path):
    src = _real_shape_file(tmp_path / "rmvpe.pt", real_catalogue["rvc-v2-f0G40k"])

    with pytest.raises(WrongFile) as info:
        import_asset(src, real_catalogue, ctx, as_name="rmvpe")
    msg = info.value.message
    assert msg.startswith("rmvpe.pt is not the RMVPE pitch estimator (rmvpe): missing key ")
    assert "It looks like RVC v2 pretrained generator (f0G40k.pth" in msg
    assert info.value.code == "wrong_file"
    assert not asset_path(real_catalogue["rmvpe"]).exists()
    assert not [p for p in data_dir.rglob("*") if p.is_file()]


def test_wrong_file_with_the_expected_name_says_what_is_wrong(data_dir, real_catalogue, ctx,
                                                              tmp_path):
    """A config.json that is another model's config: not "config.json is not config.json"."""
    src = tmp_path / "config.json"
    src.write_text(json.dumps({"model_type": "bert", "hidden_size": 768,
                               "num_hidden_layers": 12}), encoding="utf-8")
    with pytest.raises(WrongFile) as info:
        import_asset(src, real_catalogue, ctx, as_name="contentvec-hf-config")
    msg = info.value.message
    assert msg.startswith("config.json is not the ContentVec (Hugging Face format) config.json "
                          "(contentvec-hf-config): model_type is 'bert', expected 'hubert'.")
    assert "is not config.json" not in msg


def test_pitch_and_rate_mismatch_is_caught(data_dir, real_catalogue, ctx, tmp_path):
    src = _real_shape_file(tmp_path / "g.pth", real_catalogue["rvc-v2-G48k"])
    with pytest.raises(WrongFile, match=r"looks like RVC v2 pretrained generator \(G48k.pth"):
        import_asset(src, real_catalogue, ctx, as_name="rvc-v2-f0G40k")


@pytest.mark.parametrize("legacy", [False, True])
def test_fairseq_style_hubert_is_read_by_the_safe_loader(data_dir, real_catalogue, ctx,
                                                         tmp_path, legacy):
    asset = real_catalogue["hubert-base"]
    ns = argparse.Namespace(label_rate=50, encoder_layers=12)
    src = _real_shape_file(tmp_path / "hubert_base.pt", asset, legacy=legacy, args=ns,
                           cfg={"model": {"_name": "hubert"}})
    with pytest.raises(pickle.UnpicklingError):
        torch.load(src, map_location="cpu", weights_only=True)

    fs = read_structure(src)
    assert fs.how == "safe_loader" and not fs.refused
    assert fs.state_dicts["model"]["final_proj.weight"] == (256, 768)
    result = import_asset(src, real_catalogue, ctx, as_name="hubert-base")
    assert result["verified_by"] == "structure" and result["checksum"] == "differs"
    assert result["verified_note"] == "verified by structure only (checksum differs)"


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_hostile_pickle_is_never_executed(data_dir, real_catalogue, ctx, tmp_path):
    marker = tmp_path / "pwned"
    src = tmp_path / "rmvpe.pt"
    src.write_bytes(pickle.dumps({"model": _Evil(marker), "cnn.weight": _Evil(marker)}))
    with pytest.raises(UnsafeAsset, match="holds a Python object of class os.system") as info:
        import_asset(src, real_catalogue, ctx, as_name="rmvpe")
    assert info.value.code == "unsafe_file" and str(src) in info.value.message
    assert not marker.exists()
    # and via torch's zip format
    zsrc = tmp_path / "evil.pth"
    torch.save({"model": {"x": torch.zeros(1)}, "evil": _Evil(marker)}, zsrc)
    with pytest.raises(UnsafeAsset, match="class os.system"):
        import_asset(zsrc, real_catalogue, ctx, as_name="rmvpe")
    assert not marker.exists()
    assert not [p for p in data_dir.rglob("*") if p.is_file()]


def test_unrelated_file_is_refused_clearly(data_dir, real_catalogue, ctx, tmp_path):
    src = tmp_path / "notes.txt"
    src.write_text("not a model at all\n" * 100)
    with pytest.raises(WrongFile, match=r"notes.txt is not a known asset"):
        import_asset(src, real_catalogue, ctx)
    with pytest.raises(BadArgs, match="no such file"):
        import_asset(tmp_path / "missing.pt", real_catalogue, ctx)


def test_voice_model_is_not_a_pretrained_base(data_dir, real_catalogue, ctx, tmp_path):
    asset = real_catalogue["rvc-v2-f0G40k"]
    sd = {k: torch.zeros(s, dtype=torch.float16) for k, s in asset.expected["keys"].items()
          if not k.startswith("enc_q.")}
    src = tmp_path / "my voice.pth"
    torch.save({"weight": sd, "config": [1025, 32], "sr": "40k", "f0": 1, "version": "v2"}, src)
    with pytest.raises(WrongFile, match=r"looks like an RVC voice model \(inference"):
        import_asset(src, real_catalogue, ctx, as_name="rvc-v2-f0G40k")
