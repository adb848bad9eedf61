"""The models library through the real server and its command handlers."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from backend.commands import COMMANDS, CommandError, load_all
from backend.convert import library
from backend.convert.voice_model import NotAVoiceModel, load_voice_model
from backend.dataset.project import create_project
from backend.kernel import JobError
from tests.backend.backend_proc import BackendProcess
from tests.convert import rvc_files as rf

MODEL_KEYS = {"id", "kind", "name", "path", "index", "version", "sample_rate", "f0", "speakers",
              "info", "stored_dtype", "source", "size_bytes"}


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user data ü"
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(folder))
    return folder


def _call(name: str, **args: object) -> dict:
    assert load_all() == []
    return COMMANDS[name](args, SimpleNamespace(state={}, emit=lambda e, d: None))


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_import_list_remove_through_the_server(unicode_dir: Path, data: Path):
    layout = rf.write_rvc_layout(unicode_dir / "RVC", "Алиса voice")
    pkg = rf.write_model_package(unicode_dir / "pack é.zip", "Pack 声")
    project = create_project(unicode_dir / "Mon projet", name="Mon projet")
    export = rf.write_rvc_model(project.root / "export" / "Mon projet.pth", "v1", "48k", False)
    before = _snapshot(unicode_dir / "RVC")
    backend = BackendProcess(env={"TIMBRE_DATA_DIR": str(data)})
    try:
        assert backend.next()["type"] == "hello"

        def ask(cmd: str, **args: object) -> dict:
            return backend.reply(backend.send(cmd, **args), timeout=120)

        got = ask("models.import", path=str(layout.model))["result"]["model"]
        assert set(got) == MODEL_KEYS and got["kind"] == "voice"
        assert (got["id"], got["name"], got["source"]) == ("Алиса voice", "Алиса voice",
                                                           "imported")
        folder = data / "models" / "Алиса voice"
        assert got["path"] == str(folder / "model.pth")
        assert got["index"] == str(folder / layout.index.name)
        assert (folder / "model.pth").read_bytes() == layout.model.read_bytes()
        assert (folder / layout.index.name).read_bytes() == layout.index.read_bytes()
        assert (got["version"], got["sample_rate"], got["f0"], got["speakers"]) == \
            ("v2", 40000, True, 4)
        assert got["stored_dtype"] == "fp16" and got["info"] == "300epoch"
        assert got["size_bytes"] == layout.model.stat().st_size
        assert _snapshot(unicode_dir / "RVC") == before  # the original is only read

        packed = ask("models.import", path=str(pkg))["result"]["model"]
        assert packed["name"] == "Pack 声" and packed["index"].endswith("_Pack 声_v2.index")

        listed = ask("models.list", project=str(project.root))["result"]["models"]
        assert [m["source"] for m in listed] == ["export", "imported", "imported"]
        assert listed[0]["id"] == f"export:{export}" and listed[0]["path"] == str(export)
        assert (listed[0]["version"], listed[0]["sample_rate"], listed[0]["f0"]) == \
            ("v1", 48000, False)
        assert {m["id"] for m in listed[1:]} == {"Алиса voice", "Pack 声"}
        assert load_voice_model(export).source == "export"

        refused = ask("models.remove", id=listed[0]["id"])
        assert refused["error"]["code"] == "bad_arguments"
        assert "export of the project" in refused["error"]["message"] and export.is_file()
        assert ask("models.remove", id="Алиса voice")["result"] == {"removed": "Алиса voice"}
        assert not folder.exists()
        assert ask("models.remove", id="Алиса voice")["error"]["code"] == "not_found"
        after = ask("models.list")["result"]["models"]
        assert [m["id"] for m in after] == ["Pack 声"]
        assert ask("tts.models", project=str(project.root))["result"] == {"models": []}
        missing = ask("models.inspect", path=str(unicode_dir / "none.pth"))
        assert missing["error"]["code"] == "not_found"
        base = rf.write_pretrained_base(unicode_dir / "f0G40k.pth")
        wrong = ask("models.import", path=str(base))
        assert wrong["error"]["code"] == "not_a_voice_model"
        assert "pretrained base" in wrong["error"]["message"]
    finally:
        backend.close()
    assert sorted(p.name for p in (data / "models").iterdir()) == ["Pack 声"]


def test_same_model_again_and_another_model_of_the_same_name(tmp_path: Path, data: Path):
    first = rf.write_rvc_model(tmp_path / "a" / "Voice.pth", seed=1)
    again = _call("models.import", path=str(first))["model"]
    assert _call("models.import", path=str(first))["model"]["id"] == again["id"] == "Voice"
    other = rf.write_rvc_model(tmp_path / "b" / "Voice.pth", seed=2)
    second = _call("models.import", path=str(other))["model"]
    assert (second["id"], second["name"]) == ("Voice (2)", "Voice (2)")
    assert (data / "models" / "Voice" / "model.pth").read_bytes() == first.read_bytes()
    assert (data / "models" / "Voice (2)" / "model.pth").read_bytes() == other.read_bytes()
    assert second["index"] is None
    assert [m["id"] for m in _call("models.list")["models"]] == ["Voice", "Voice (2)"]


def test_given_index_and_hostile_names(tmp_path: Path, data: Path):
    model = rf.write_rvc_model(tmp_path / "CON.pth", "v1", "32k", True)
    index = rf.write_index(tmp_path / "elsewhere", "x", "v1")
    got = _call("models.import", path=str(model), index=str(index))["model"]
    assert got["id"] == "CON_" and Path(got["index"]).name == index.name
    loaded = load_voice_model(got["path"])  # a library model finds its name and index
    assert loaded.name == "CON" and loaded.index_path == Path(got["index"])
    assert loaded.source == "imported" and load_voice_model(model).source == "file"
    with pytest.raises(JobError) as err:
        _call("models.import", path=str(model), index=str(tmp_path / "gone.index"))
    assert err.value.code == "not_found"
    v2_index = rf.write_index(tmp_path / "v2", "y", "v2")
    with pytest.raises(JobError, match="holds 768-dim vectors .a v2 index., but CON is a v1 "
                       "model .256-dim content.") as err:
        _call("models.import", path=str(model), index=str(v2_index))
    assert err.value.code == "bad_arguments"
    junk = tmp_path / "junk.index"
    junk.write_bytes(b"not an index at all")
    with pytest.raises(JobError, match="junk.index is not a faiss index"):
        library.import_model(model, junk)
    assert [p.name for p in (data / "models").iterdir()] == ["CON_"]
    for bad in ("../x", "a/b", ".tmp-import-1", "file:/etc/passwd"):
        with pytest.raises(JobError) as err:
            _call("models.remove", id=bad)
        assert err.value.code == "bad_arguments"
    assert (data / "models" / "CON_" / "model.pth").is_file()


def test_inspect_copies_nothing(tmp_path: Path, data: Path):
    layout = rf.write_rvc_layout(tmp_path, "Dora", "v1", "40k", False, fp16=False)
    got = _call("models.inspect", path=str(layout.model))["model"]
    assert got["source"] == "file" and got["path"] == str(layout.model)
    assert got["index"] == str(layout.index) and got["stored_dtype"] == "fp32"
    assert not (data / "models").exists()


def test_a_failed_copy_leaves_no_partial_model(tmp_path: Path, data: Path,
                                               monkeypatch: pytest.MonkeyPatch):
    layout = rf.write_rvc_layout(tmp_path, "Eve")
    real = shutil.copyfile

    def copy(src, dst, **kw):
        if str(src).endswith(".index"):
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst, **kw)

    monkeypatch.setattr(library.shutil, "copyfile", copy)
    with pytest.raises(CommandError) as err:
        _call("models.import", path=str(layout.model))
    assert err.value.code == "io_error" and "disk full" in err.value.message
    assert list((data / "models").iterdir()) == []
    monkeypatch.setattr(library.shutil, "copyfile", real)
    assert _call("models.import", path=str(layout.model))["model"]["id"] == "Eve"


def test_package_members_cannot_escape(tmp_path: Path, data: Path):
    good = rf.write_rvc_model(tmp_path / "src" / "m.pth")
    index = rf.write_index(tmp_path / "src", "m", "v2")
    pkg = tmp_path / "pkgs" / "slip.zip"
    pkg.parent.mkdir()
    with zipfile.ZipFile(pkg, "w") as zf:
        zf.write(good, "../../../outside/m.pth")
        zf.write(index, f"/abs/{index.name}")
        zf.writestr("model_card.json", json.dumps({"name": "../Slip", "version": "v2"}))
    got = _call("models.import", path=str(pkg))["model"]
    assert got["name"] == "../Slip" and got["id"] == "Slip"
    assert Path(got["index"]).parent == data / "models" / "Slip"
    assert not (tmp_path / "outside").exists() and not Path("/abs").exists()
    cached = list((data / "cache" / "packages").rglob("*"))
    assert all(data in p.parents for p in cached)


def test_damaged_library_entries(tmp_path: Path, data: Path):
    ok = _call("models.import", path=str(rf.write_rvc_model(tmp_path / "Fine.pth")))["model"]
    (Path(ok["path"]).parent / "model.json").write_text("{not json", encoding="utf-8")
    stray = data / "models" / "Empty"
    stray.mkdir()
    listed = _call("models.list")["models"]
    assert [m["id"] for m in listed] == ["Fine"] and listed[0]["version"] == "v2"


def test_not_a_voice_model_is_not_copied(tmp_path: Path, data: Path):
    ckpt = rf.write_training_checkpoint(tmp_path / "G_400.pth")
    with pytest.raises(NotAVoiceModel, match="RVC training checkpoint"):
        _call("models.import", path=str(ckpt))
    assert not (data / "models").exists() or list((data / "models").iterdir()) == []
    with pytest.raises(CommandError) as err:
        _call("models.import")
    assert err.value.code == "bad_arguments"
    with pytest.raises(CommandError) as err:
        _call("models.list", project=str(tmp_path / "no project"))
    assert err.value.code == "not_found"
