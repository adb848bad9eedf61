"""A faster-whisper model as an asset bundle: ``assets download whisper-tiny`` fetches every file
of the model from a local HTTP server (127.0.0.1), the list shows it once, the engine loads it
by name from the user data folder, and remove deletes all of it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.assets.conftest import AssetServer

FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json",
         "preprocessor_config.json")
PART = {"config.json": "config", "tokenizer.json": "tokenizer",
        "vocabulary.json": "vocabulary", "preprocessor_config.json": "preprocessor"}


@pytest.fixture
def server():
    srv = AssetServer()
    srv.thread.start()
    yield srv
    srv.release.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def setup(server, tiny_whisper, tmp_path, monkeypatch):
    """Serve the tiny model's files; a catalogue whose whisper-tiny bundle points at them."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    data_dir = tmp_path / "用户 数据 dätä"
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(data_dir))
    entries = []
    for name in FILES:
        data = (tiny_whisper / name).read_bytes()
        server.files[f"/tiny/{name}"] = data
        entry = {"name": "whisper-tiny" if name == "model.bin" else f"whisper-tiny.{PART[name]}",
                 "title": "Whisper tiny (test)", "kind": "transcription_model",
                 "filename": f"whisper/tiny/{name}", "sources": [server.url(f"/tiny/{name}")],
                 "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                 "licence": "MIT", "needed_by": ["transcription (labels)"]}
        if name != "model.bin":
            entry["part_of"] = "whisper-tiny"
        entries.append(entry)
    catalogue = tmp_path / "catalogue 目录.json"
    catalogue.write_text(json.dumps({"assets": entries}), encoding="utf-8")
    monkeypatch.setenv("TIMBRE_ASSET_CATALOGUE", str(catalogue))
    return data_dir


def _cli(repo_root, *args):
    return subprocess.run([sys.executable, "-m", "backend", "assets", *args], cwd=repo_root,
                          env=dict(os.environ), capture_output=True, text=True, timeout=120)


def test_download_whisper_bundle_list_once_load_by_name_remove(setup, server, repo_root,
                                                                tiny_whisper, no_network):
    server.behaviour["/tiny/model.bin"] = {"kind": "cut", "after": 100_000, "times": 1}
    failed = _cli(repo_root, "download", "whisper-tiny", "--json", "--read-timeout", "5")
    assert failed.returncode == 1  # the cut: the small files are in, model.bin resumes later
    from backend.assets.store import list_assets

    (row,) = list_assets()
    assert row["name"] == "whisper-tiny" and not row["installed"]
    assert row["partial_bytes"] >= 100_000
    assert sum(p["installed"] for p in row["parts"]) == 4

    done = _cli(repo_root, "download", "whisper-tiny", "--json", "--read-timeout", "5")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["result"]
    assert result["status"] == "downloaded" and result["checksum"] == "match"
    assert {f["name"] for f in result["files"]} == {
        "whisper-tiny", *(f"whisper-tiny.{p}" for p in PART.values())}
    assert server.ranges("/tiny/model.bin") == [None, "bytes=100000-"]
    folder = setup / "assets" / "whisper" / "tiny"
    for name in FILES:
        assert (folder / name).read_bytes() == (tiny_whisper / name).read_bytes()

    table = _cli(repo_root, "list").stderr.splitlines()
    assert table[0].split()[:3] == ["NAME", "KIND", "INSTALLED"]
    assert [line.split()[:3] for line in table if "transcription_model" in line] == [
        ["whisper-tiny", "transcription_model", "yes"]]  # one row for the five files

    from backend.transcribe.engine import open_engine
    from backend.transcribe.whisper import DecodeOptions

    engine = open_engine("faster-whisper", model="tiny")
    assert engine.folder == folder and engine.model_id == "faster-whisper:tiny:int8"
    engine.options = DecodeOptions(beam_size=1, temperatures=(0.0,))
    t = np.arange(16000) / 16000
    assert engine.transcribe((0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)).language

    again = _cli(repo_root, "download", "whisper-tiny", "--json")
    assert json.loads(again.stdout)["result"]["status"] == "already_installed"
    removed = json.loads(_cli(repo_root, "remove", "whisper-tiny", "--json").stdout)["result"]
    assert removed["was_installed"] and len(removed["removed"]) == 5
    assert not any(folder.iterdir())


def test_one_missing_file_makes_the_model_missing(setup, server, tiny_whisper):
    from backend.assets.catalogue import load_catalogue
    from backend.assets.download import DownloadError, download_bundle
    from backend.assets.store import MissingAsset, require_asset
    from backend.kernel import JobContext

    server.behaviour["/tiny/tokenizer.json"] = {"kind": "404"}
    catalogue = load_catalogue()
    ctx = JobContext("t", "assets", lambda *a: None, min_interval=0.0)
    with pytest.raises(DownloadError, match="could not download whisper-tiny.tokenizer"):
        download_bundle(catalogue, catalogue["whisper-tiny"], ctx)
    with pytest.raises(MissingAsset) as err:  # the download stopped at the failed file
        require_asset("whisper-tiny")
    assert ("not installed: model.bin, tokenizer.json, vocabulary.json, "
            "preprocessor_config.json missing") in err.value.message
    assert "--as NAME' (names: whisper-tiny, whisper-tiny.tokenizer," in err.value.message
    assert err.value.details["download_command"] == "python -m backend assets download whisper-tiny"


def test_import_a_model_folder_as_its_bundle(setup, tiny_whisper, tmp_path, repo_root,
                                             no_network):
    done = _cli(repo_root, "import", str(tiny_whisper), "--json")  # recognised by model.bin
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["result"]
    assert result["name"] == "whisper-tiny" and result["status"] == "imported"
    assert result["checksum"] == "match" and len(result["files"]) == 5
    assert result["source"] == str(tiny_whisper)
    from backend.assets.store import list_assets, read_records

    (row,) = list_assets()
    assert row["installed"] and row["verified_note"] == "verified by checksum"
    assert {r["how"] for r in read_records().values()} == {"import"}
    assert (tiny_whisper / "model.bin").is_file()  # the original stays
    from backend.transcribe.models import model_rows, resolve

    assert resolve(None).label == "tiny"  # no --model: the one installed
    assert model_rows() == [{"name": "tiny", "installed": True, "size": row["size"],
                             "asset": "whisper-tiny"}]

    partial = tmp_path / "没有 tokenizer"
    partial.mkdir()
    for name in FILES:
        if name != "tokenizer.json":
            (partial / name).write_bytes((tiny_whisper / name).read_bytes())
    _cli(repo_root, "remove", "whisper-tiny")
    refused = _cli(repo_root, "import", str(partial), "--as", "whisper-tiny", "--json")
    assert refused.returncode == 2
    message = json.loads(refused.stdout)["error"]["message"]
    assert message == (f"cannot import {partial} as whisper-tiny: tokenizer.json missing "
                       "from the folder (nothing was imported)")
    assert not list_assets()[0]["parts"][1]["installed"]


def test_random_model_is_not_the_real_whisper_tiny(tiny_whisper, tmp_path, monkeypatch):
    """The real catalogue: the tests' model has the right spec but not whisper-tiny's shapes."""
    from backend.assets.catalogue import load_catalogue
    from backend.assets.importer import WrongFile, import_asset, import_folder
    from backend.kernel import JobContext

    monkeypatch.delenv("TIMBRE_ASSET_CATALOGUE", raising=False)
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "tiny as vocabulary.txt"
    folder.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (folder / name).write_bytes((tiny_whisper / name).read_bytes())
    (folder / "vocabulary.txt").write_text("a\n", encoding="utf-8")
    ctx = JobContext("t", "assets", lambda *a: None, min_interval=0.0)
    with pytest.raises(WrongFile) as err:  # model.bin is checked first
        import_folder(folder, load_catalogue(), ctx, as_name="whisper-tiny")
    assert "encoder/conv1/weight has shape [64, 80, 3], expected [384, 80, 3]" in \
        err.value.message
    assert not (tmp_path / "data" / "assets").exists()  # nothing was copied
    with pytest.raises(WrongFile) as err:
        import_asset(folder / "vocabulary.txt", load_catalogue(), ctx,
                     as_name="whisper-tiny.vocabulary")
    assert "the file has 1 lines, expected 51865" in err.value.message
    # the random model's config.json has the keys a CTranslate2 Whisper config needs
    done = import_asset(folder / "config.json", load_catalogue(), ctx,
                        as_name="whisper-tiny.config")
    assert done["verified_by"] == "structure" and done["checksum"] == "differs"
