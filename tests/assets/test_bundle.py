"""Bundles (``part_of``) and the CTranslate2 header check behind the faster-whisper models."""

from __future__ import annotations

import json
import struct

import pytest

from backend.assets.catalogue import CatalogueError, bundle, load_catalogue
from backend.assets.ct2_header import NotCTranslate2, read_ct2_header
from backend.assets.store import MissingAsset, asset_path, list_assets, remove_asset, require_asset
from backend.assets.verify import check_expected, describe, read_structure


def _string(s: str) -> bytes:
    raw = s.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def ct2_file(path, variables: dict[str, tuple[int, ...]], spec="WhisperSpec", version=6,
             aliases: dict[str, str] | None = None):
    """A CTranslate2 model.bin as ModelSpec._serialize writes it (int8 data of zeros)."""
    out = struct.pack("<I", version) + _string(spec) + struct.pack("<II", 3, len(variables))
    for name, shape in variables.items():
        n = 1
        for d in shape:
            n *= d
        out += _string(name) + struct.pack("<B", len(shape))
        out += b"".join(struct.pack("<I", d) for d in shape)
        # version 4+: type id (1 = int8) and byte count; before: item size and element count
        out += struct.pack("<BI", 1, n) + bytes(n)
    aliases = aliases or {}
    out += struct.pack("<I", len(aliases))
    out += b"".join(_string(a) + _string(t) for a, t in aliases.items())
    path.write_bytes(out)
    return path


TINY = {"encoder/conv1/weight": (8, 80, 3), "decoder/embeddings/weight": (40, 8),
        "encoder/layer_1/ffn/linear_0/weight": (16, 8)}
EXPECTED = {"format": "ctranslate2", "spec": "WhisperSpec",
            "keys": {"encoder/conv1/weight": [8, 80, 3], "decoder/projection/weight": [40, 8]},
            "absent": ["encoder/layer_2/ffn/linear_0/weight"]}


def test_ct2_header_reads_names_shapes_and_aliases(tmp_path):
    path = ct2_file(tmp_path / "model.bin", TINY,
                    aliases={"decoder/projection/weight": "decoder/embeddings/weight"})
    header = read_ct2_header(path)
    assert (header.binary_version, header.spec, header.revision) == (6, "WhisperSpec", 3)
    assert header.variables["decoder/projection/weight"] == (40, 8)
    fs = read_structure(path)
    assert fs.format == "ctranslate2" and check_expected(fs, EXPECTED) == []
    assert describe(fs, {}) == "a CTranslate2 WhisperSpec model with 4 variables"


def test_ct2_structure_mismatches_are_named(tmp_path):
    wrong = ct2_file(tmp_path / "wrong.bin",
                     {**TINY, "encoder/layer_2/ffn/linear_0/weight": (16, 8)},
                     aliases={"decoder/projection/weight": "decoder/embeddings/weight"})
    assert check_expected(read_structure(wrong), EXPECTED) == [
        "unexpected key encoder/layer_2/ffn/linear_0/weight"]
    other = ct2_file(tmp_path / "other.bin", TINY, spec="TransformerSpec")
    assert check_expected(read_structure(other), EXPECTED) == [
        "the model is a TransformerSpec, expected a WhisperSpec"]
    newer = ct2_file(tmp_path / "newer.bin", TINY, version=7)
    fs = read_structure(newer)
    assert fs.format == "unknown" and "binary version 7 is newer" in fs.error


def test_ct2_old_binary_versions_and_bad_names(tmp_path):
    old = ct2_file(tmp_path / "v3.bin", TINY, version=3)  # int8: item size 1 = 1 byte each
    assert read_ct2_header(old).variables == TINY
    ancient = ct2_file(tmp_path / "v1.bin", TINY, version=1)
    with pytest.raises(NotCTranslate2, match="binary version 1 has no spec name"):
        read_ct2_header(ancient)
    bad = bytearray(ct2_file(tmp_path / "bad.bin", TINY).read_bytes())
    at = bad.index(b"encoder/conv1/weight") + len("encoder/conv1/weight")
    bad[at] = ord("x")  # the name loses its NUL
    (tmp_path / "bad.bin").write_bytes(bytes(bad))
    with pytest.raises(NotCTranslate2, match="not a NUL-terminated string"):
        read_ct2_header(tmp_path / "bad.bin")


def test_truncated_ct2_file_is_damaged_not_a_crash(tmp_path):
    path = ct2_file(tmp_path / "model.bin", TINY)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(NotCTranslate2, match="runs past the end of the file"):
        read_ct2_header(path)
    fs = read_structure(path)
    assert fs.format == "unknown" and fs.error.startswith("a damaged CTranslate2 model")
    assert check_expected(fs, EXPECTED)[0].startswith("expected a CTranslate2 model, found a "
                                                      "damaged CTranslate2 model")


def _entries(tmp_path):
    files = {"model.bin": ct2_file(tmp_path / "src model.bin", TINY).read_bytes(),
             "config.json": b'{"lang_ids": []}', "vocabulary.txt": b"a\nb\n"}
    entries = [{"name": "m", "title": "Model M", "kind": "transcription_model",
                "filename": "m/model.bin", "sources": ["http://127.0.0.1:9/m"],
                "size": len(files["model.bin"]), "sha256": None, "licence": "MIT",
                "expected": {"format": "ctranslate2", "spec": "WhisperSpec"}}]
    for part in ("config.json", "vocabulary.txt"):
        entries.append({"name": f"m.{part.split('.')[0]}", "title": f"M {part}",
                        "filename": f"m/{part}", "sources": ["http://127.0.0.1:9/p"],
                        "size": len(files[part]), "sha256": "0" * 64, "part_of": "m"})
    return entries, files


def test_catalogue_checks_part_of(tmp_path, write_catalogue):
    entries, _ = _entries(tmp_path)
    bad = [*entries[:1], {**entries[1], "part_of": "nothing"}]
    with pytest.raises(CatalogueError, match="m.config is part_of 'nothing', which is not in"):
        load_catalogue(write_catalogue(bad))
    chain = [*entries, {**entries[2], "name": "m.x", "part_of": "m.config"}]
    with pytest.raises(CatalogueError, match="itself part of another bundle"):
        load_catalogue(write_catalogue(chain))
    cat = load_catalogue(write_catalogue(entries))
    assert [a.name for a in bundle(cat, cat["m"])] == ["m", "m.config", "m.vocabulary"]
    assert [a.name for a in bundle(cat, cat["m.config"])] == ["m.config"]


def test_bundle_is_one_row_required_and_removed_whole(tmp_path, write_catalogue, data_dir):
    entries, files = _entries(tmp_path)
    cat = load_catalogue(write_catalogue(entries))
    (row,) = list_assets(cat)
    assert row["name"] == "m" and row["installed"] is False
    assert row["size"] == sum(len(b) for b in files.values())
    assert [p["name"] for p in row["parts"]] == ["m", "m.config", "m.vocabulary"]
    for asset in bundle(cat, cat["m"])[:2]:
        asset_path(asset).parent.mkdir(parents=True, exist_ok=True)
        asset_path(asset).write_bytes(files[asset.basename])
    (row,) = list_assets(cat)
    assert not row["installed"] and row["partial_bytes"] == len(files["model.bin"]) + 16
    with pytest.raises(MissingAsset, match=r"Model M is not installed: vocabulary.txt missing"):
        require_asset("m", cat)
    asset_path(cat["m.vocabulary"]).write_bytes(files["vocabulary.txt"])
    assert require_asset("m", cat) == asset_path(cat["m"])
    (row,) = list_assets(cat)
    assert row["installed"] and row["verified_note"] == "not verified (no install record)"
    assert len(remove_asset("m", cat)["removed"]) == 3
    assert not any(asset_path(a).exists() for a in cat.values())


def test_real_catalogue_whisper_bundles():
    cat = load_catalogue()
    for size in ("tiny", "base", "small", "medium", "large-v3", "large-v3-turbo"):
        files = {a.basename: a for a in bundle(cat, cat[f"whisper-{size}"])}
        vocab = "vocabulary.json" if size.startswith("large") else "vocabulary.txt"
        wanted = {"model.bin", "config.json", "tokenizer.json", vocab}
        if size.startswith("large"):
            wanted.add("preprocessor_config.json")
        assert set(files) == wanted
        assert all(a.sha256 and a.size for a in files.values())
        assert {a.filename.rsplit("/", 1)[0] for a in files.values()} == {f"whisper/{size}"}
        assert cat[f"whisper-{size}"].expected["spec"] == "WhisperSpec"
    rows = {r["name"]: r for r in list_assets(cat)}
    assert "whisper-small.config" not in rows and rows["whisper-small"]["size"] == 486_212_372
    assert json.dumps(rows["whisper-small"]["parts"])  # serialisable for assets.list
