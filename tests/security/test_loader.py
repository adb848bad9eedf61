"""The one safe loader (backend.safeload): hostile files in every format are refused with the
file and the class named, the real fairseq layout loads, nothing leaks between profiles."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import pytest
import torch

from backend.safeload import UnreadableFile, UnsafeFile, load_fairseq, load_weights
from tests.security.payloads import (
    FORMATS,
    KINDS,
    PLACES,
    Payload,
    hide,
    real_fairseq_checkpoint,
    save,
    save_real_fairseq,
)

WEIGHTS = {"encoder.layers.0.fc1.weight": torch.arange(6.0).reshape(2, 3)}
CFG = {"model": {"_name": "hubert", "encoder_layers": 2}, "task": {"normalize": False}}
CLASS_IN_MESSAGE = {"os.system": "os.system", "exec": "builtins.exec",
                    "path.touch": "builtins.getattr"}


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned – ü"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_payloads_are_live(tmp_path: Path, marker: Path, fmt: str) -> None:
    """Control: with a full unpickler each payload does create the marker."""
    for kind in KINDS:
        path = save(hide(WEIGHTS, Payload(marker, kind), "cfg"), tmp_path / "live.pt", fmt)
        if fmt.startswith("raw"):
            pickle.loads(path.read_bytes())
        else:
            torch.load(path, weights_only=False)
        assert marker.exists(), kind
        marker.unlink()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("place", PLACES)
def test_hostile_files_are_refused_by_both_profiles(tmp_path: Path, marker: Path, fmt: str,
                                                    place: str) -> None:
    for kind in KINDS:
        path = save(hide(WEIGHTS, Payload(marker, kind), place), tmp_path / f"{kind} ü.pt", fmt)
        for load in (load_weights, load_fairseq):
            with pytest.raises(UnsafeFile) as info:
                load(path)
            text = str(info.value)
            assert text.startswith(f"{path} holds a Python object of class ")
            assert text.endswith("it was not loaded. Download the file again or import it "
                                 "from a trusted source.")
            if not fmt.startswith("raw"):  # a raw pickle may name torch's own helpers first
                assert f"class {CLASS_IN_MESSAGE[kind]} " in text
            assert not marker.exists()


def test_the_message_of_the_issue(tmp_path: Path, marker: Path) -> None:
    path = save(hide(WEIGHTS, Payload(marker), "cfg"), tmp_path / "hubert_base.pt", "zip")
    with pytest.raises(UnsafeFile) as info:
        load_fairseq(path)
    assert str(info.value) == (
        f"{path} holds a Python object of class os.system that a model file has no reason to "
        "contain; it was not loaded. Download the file again or import it from a trusted "
        "source.")
    assert info.value.path == path and info.value.what == "os.system"


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_the_real_fairseq_layout_loads_as_plain_data(tmp_path: Path, fmt: str) -> None:
    path = save_real_fairseq(real_fairseq_checkpoint(WEIGHTS, CFG), tmp_path / "hub.pt", fmt)
    obj = load_fairseq(path)
    assert torch.equal(obj["model"]["encoder.layers.0.fc1.weight"],
                       WEIGHTS["encoder.layers.0.fc1.weight"])
    assert obj["cfg"] == {"model": CFG["model"], "task": {"normalize": False, "labels": ["km"]}}
    assert obj["args"] == CFG["model"]
    dictionary = obj["task_state"]["dictionaries"][0]
    assert dictionary["symbols"][4:] == [str(i) for i in range(8)] and dictionary["nspecial"] == 4
    # the same file through the weights profile: its metadata classes are refused
    with pytest.raises(UnsafeFile, match="class omegaconf.dictconfig.DictConfig"):
        load_weights(path)


def test_stand_ins_do_not_outlive_a_fairseq_load(tmp_path: Path) -> None:
    path = save_real_fairseq(real_fairseq_checkpoint(WEIGHTS, CFG), tmp_path / "hub.pt")
    before = set(torch.serialization.get_safe_globals())
    load_fairseq(path)
    assert set(torch.serialization.get_safe_globals()) == before
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_a_fairseq_file_with_another_class_is_refused(tmp_path: Path) -> None:
    import datetime

    obj = real_fairseq_checkpoint(WEIGHTS, CFG)
    obj["args"].created = datetime.date(2021, 6, 1)  # harmless, but no fairseq metadata class
    path = save_real_fairseq(obj, tmp_path / "dated.pt")
    with pytest.raises(UnsafeFile, match="class datetime.date that a model file"):
        load_fairseq(path)


def test_plain_weights_load_with_mmap_and_without(tmp_path: Path) -> None:
    for fmt, mmap in (("zip", True), ("zip", False), ("legacy", True)):
        path = save({"model": WEIGHTS, "info": "200epoch", "sr": "40k", "f0": 1},
                    tmp_path / f"w {fmt}.pth", fmt)
        obj = load_weights(path, mmap=mmap)
        assert obj["info"] == "200epoch"
        assert torch.equal(obj["model"]["encoder.layers.0.fc1.weight"],
                           WEIGHTS["encoder.layers.0.fc1.weight"])


def test_damaged_and_foreign_files_are_unreadable(tmp_path: Path) -> None:
    good = save({"model": WEIGHTS}, tmp_path / "good.pth", "zip").read_bytes()
    legacy = save({"model": WEIGHTS}, tmp_path / "old.pth", "legacy").read_bytes()
    cases = {"empty.pth": b"", "text.pth": b"not a model at all\n", "cut.pth": good[:200],
             "cut legacy.pth": legacy[:40], "wav.pth": b"RIFF\x24\x00\x00\x00WAVEfmt "}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UnreadableFile) as info:
            load_weights(tmp_path / name)
        assert str(info.value).startswith(f"{tmp_path / name} is not a readable PyTorch file (")
    with tarfile.open(tmp_path / "old.tar", "w") as tar:
        tar.add(tmp_path / "good.pth", "pickle")
    with pytest.raises(UnreadableFile):
        load_weights(tmp_path / "old.tar")
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path / "missing.pth")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_archives_are_not_run(tmp_path: Path) -> None:
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    with pytest.raises(UnsafeFile, match=r"class __torch__\.torch\.nn\.modules"):
        load_weights(path)
