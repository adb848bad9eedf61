"""A malicious voice model never runs code: not when loaded, imported or inspected."""

from __future__ import annotations

import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from backend.commands import COMMANDS, load_all
from backend.convert.library import library_dir
from backend.convert.voice_model import E_UNSAFE_FILE, UnsafeModelFile, load_voice_model
from backend.safeload import UnsafeFile, load_weights
from backend.safeload.standins import FAIRSEQ_STANDINS
from tests.backend.backend_proc import BackendProcess
from tests.convert import rvc_files as rf
from tests.features.tiny_models import fairseq_checkpoint, tiny_hf
from tests.security.payloads import (
    FORMATS,
    KINDS,
    Payload,
    hide,
    real_fairseq_checkpoint,
    save,
    save_real_fairseq,
)

PLACES = ("info", "in_weights", "beside")


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.fixture(autouse=True)
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user data ü"
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(folder))
    return folder


def _hostile_model(path: Path, marker: Path, fmt: str = "zip", place: str = "info",
                   kind: str = "os.system") -> Path:
    ckpt = rf.rvc_checkpoint("v2", "40k", True)
    top = hide(ckpt.pop("weight"), Payload(marker, kind), place, container="weight")
    return save({**ckpt, **top}, path, fmt)


def _refused(exc: UnsafeModelFile, path: Path) -> None:
    assert exc.code == E_UNSAFE_FILE
    assert str(path) in exc.message and "it was not loaded" in exc.message


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("place", PLACES)
def test_load_refuses_every_format_and_place(unicode_dir: Path, marker: Path, fmt, place):
    path = _hostile_model(unicode_dir / fmt / f"{place} é.pth", marker, fmt, place)
    with pytest.raises(UnsafeModelFile) as err:
        load_voice_model(path)
    _refused(err.value, path)
    assert not marker.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_every_payload_kind_is_refused(tmp_path: Path, marker: Path, kind: str):
    path = _hostile_model(tmp_path / "voice.pth", marker, kind=kind)
    with pytest.raises(UnsafeModelFile):
        load_voice_model(path)
    assert not marker.exists()


def test_a_package_holding_a_hostile_model(tmp_path: Path, marker: Path):
    inner = _hostile_model(tmp_path / "inner" / "Voice.pth", marker)
    pkg = tmp_path / "Voice pack.zip"
    with zipfile.ZipFile(pkg, "w") as zf:
        zf.write(inner, "Voice.pth")
        zf.writestr("model_card.json", '{"name": "Voice"}')
    with pytest.raises(UnsafeModelFile) as err:
        load_voice_model(pkg)
    _refused(err.value, pkg)
    assert not marker.exists()


def test_a_fairseq_shaped_file_with_a_payload(tmp_path: Path, marker: Path):
    """omegaconf metadata sends the file to the fairseq profile, which refuses the rest."""
    ckpt = real_fairseq_checkpoint(fairseq_checkpoint(tiny_hf(layers=2))["model"],
                                   {"model": {"_name": "hubert"}, "task": {"_name": "x"}},
                                   extra_task={"hook": Payload(marker)})
    path = save_real_fairseq(ckpt, tmp_path / "hubert_base.pt")
    with pytest.raises(UnsafeFile) as first:
        load_weights(path)
    assert first.value.what in FAIRSEQ_STANDINS  # the fairseq profile reads it next
    with pytest.raises(UnsafeModelFile) as err:
        load_voice_model(path)
    _refused(err.value, path)
    assert not marker.exists()


def _call(name: str, **args: object) -> dict:
    assert load_all() == []
    return COMMANDS[name](args, SimpleNamespace(state={}, emit=lambda e, d: None))


def test_import_and_inspect_commands_refuse_and_copy_nothing(tmp_path: Path, marker: Path):
    path = _hostile_model(tmp_path / "weights" / "evil.pth", marker, "legacy", "in_weights")
    rf.write_index(tmp_path / "logs" / "evil", "evil", "v2")
    for name in ("models.import", "models.inspect"):
        with pytest.raises(UnsafeModelFile) as err:
            _call(name, path=str(path))
        _refused(err.value, path)
    assert not marker.exists()
    assert not library_dir().exists() or list(library_dir().iterdir()) == []
    assert _call("models.list")["models"] == []


def test_server_answers_unsafe_file(tmp_path: Path, marker: Path, data: Path):
    path = _hostile_model(tmp_path / "voix é" / "evil.pth", marker, "raw2")
    backend = BackendProcess(env={"TIMBRE_DATA_DIR": str(data)})
    try:
        assert backend.next()["type"] == "hello"
        for name in ("models.import", "models.inspect"):
            reply = backend.reply(backend.send(name, path=str(path)), timeout=60)
            assert reply["type"] == "error" and reply["error"]["code"] == "unsafe_file"
            assert str(path) in reply["error"]["message"]
        listed = backend.reply(backend.send("models.list"), timeout=60)
        assert listed["result"]["models"] == []
    finally:
        backend.close()
    assert not marker.exists()
