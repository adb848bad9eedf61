"""Text-to-speech models in the models library: import, list by kind, tts.models, remove."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from backend.commands import COMMANDS, load_all
from backend.dataset.project import create_project
from backend.kernel import JobError
from backend.models.vits import files
from backend.text.symbols import VITS_EN
from backend.train.export import ModelCard
from tests.convert import rvc_files as rf
from tests.models import vits_files as vf

EN = list(VITS_EN)
TTS_KEYS = {"id", "name", "path", "source", "language", "speakers", "sample_rate", "info"}


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user data ü"
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(folder))
    torch.set_num_threads(1)
    return folder


def _call(name: str, **args: object) -> dict:
    assert load_all() == []
    return COMMANDS[name](args, SimpleNamespace(state={}, emit=lambda e, d: None))


def _original(folder: Path, speakers: list[str]) -> Path:
    cfg = vf.tiny_config(len(EN), len(speakers))
    conf = {**cfg.to_json(EN), "speakers": speakers}
    conf["data"]["text_cleaners"] = ["english_cleaners2"]
    return vf.write_original(folder, "ljs_base", step=500, config=conf,
                             state=vf.tiny_generator(cfg).state_dict())


def _export(path: Path) -> Path:
    cfg = vf.tiny_config(len(EN))
    return files.write_tts_model(path, vf.tiny_generator(cfg, seed=4).state_dict(), cfg, EN,
                                 {"Ana": 0}, "en", "4 epochs")


def test_tts_models_in_the_library_and_the_project(unicode_dir: Path, data: Path):
    project = create_project(unicode_dir / "Mon projet", name="Mon projet")
    voice = rf.write_rvc_model(project.root / "export" / "Mon projet.pth", "v1", "48k", False)
    spoken = _export(project.root / "export" / "Mon projet TTS.pth")
    g = _original(unicode_dir / "VITS run", ["Ana", "Bó"])
    before = g.read_bytes()

    got = _call("models.import", path=str(g))["model"]
    assert (got["kind"], got["id"], got["name"], got["source"]) == \
        ("tts", "VITS run G_500", "VITS run G_500", "imported")
    folder = data / "models" / "VITS run G_500"
    assert (folder / "model.pth").read_bytes() == before == g.read_bytes()
    assert (folder / "config.json").read_bytes() == (g.parent / "config.json").read_bytes()
    assert (got["speakers"], got["language"], got["sample_rate"], got["config"]) == \
        (["Ana", "Bó"], "en", 22050, str(folder / "config.json"))
    assert _call("models.import", path=str(g))["model"]["id"] == "VITS run G_500"
    loaded = files.load_tts_model(got["path"])  # finds the config stored beside it
    assert loaded.speakers == {"Ana": 0, "Bó": 1} and loaded.name == "VITS run G_500"

    ckpt = files.inference_file(vf.tiny_generator(vf.tiny_config(len(EN))).state_dict(),
                                vf.tiny_config(len(EN)), EN, {}, "en")
    card = ModelCard(name="Paquet 声", version="vits", sample_rate=22050, f0=False,
                     f0_method=None, epochs=1, steps=2, dataset_seconds=1.0)
    pkg = files.write_tts_package(unicode_dir / "paquet.zip", card.name, ckpt, card)
    packed = _call("models.import", path=str(pkg))["model"]
    assert (packed["id"], packed["kind"], packed["config"]) == ("Paquet 声", "tts", None)
    assert files.load_tts_model(packed["path"]).source == "export"

    voices = _call("models.list", project=str(project.root))["models"]
    assert [(m["kind"], m["path"]) for m in voices] == [("voice", str(voice))]
    tts = _call("tts.models", project=str(project.root))["models"]
    assert [(m["source"], m["name"]) for m in tts] == [
        ("export", "Mon projet TTS"), ("imported", "Paquet 声"),
        ("imported", "VITS run G_500")]
    assert all(set(m) >= TTS_KEYS and m["kind"] == "tts" for m in tts)
    assert tts[0]["id"] == f"export:{spoken}" and tts[0]["speakers"] == ["Ana"]
    assert tts[0]["info"] == "4 epochs"
    every = _call("models.list", project=str(project.root), kind="all")["models"]
    assert len(every) == 4
    names = [m["name"] for m in _call("tts.models")["models"]]
    assert names == ["Paquet 声", "VITS run G_500"]

    assert _call("models.remove", id="Paquet 声") == {"removed": "Paquet 声"}
    assert [m["id"] for m in _call("tts.models")["models"]] == ["VITS run G_500"]


def test_library_reads_the_model_when_its_card_is_damaged(tmp_path: Path, data: Path):
    got = _call("models.import", path=str(_export(tmp_path / "Solo.pth")))["model"]
    (data / "models" / got["id"] / "model.json").write_text("{", encoding="utf-8")
    listed = _call("tts.models")["models"]
    assert [(m["id"], m["kind"], m["speakers"]) for m in listed] == [("Solo", "tts", ["Ana"])]


def test_tts_import_errors(tmp_path: Path, data: Path):
    g = _original(tmp_path / "run", ["a", "b"])
    config = g.parent / "config.json"
    moved = config.rename(tmp_path / "cfg.json")
    with pytest.raises(JobError) as err:
        _call("models.import", path=str(g))
    assert err.value.code == "bad_arguments" and "no config.json is beside it" in str(err.value)
    assert _call("models.inspect", path=str(g), config=str(moved))["model"]["kind"] == "tts"
    got = _call("models.import", path=str(g), config=str(moved))["model"]
    assert (data / "models" / got["id"] / "config.json").read_bytes() == moved.read_bytes()

    run_ckpt = tmp_path / "ckpt_000000010.pt"
    vits = {"size": "tiny", "language": "en", "symbols": EN, "speakers": {}}
    state = vf.tiny_generator(vf.tiny_config(len(EN))).state_dict()
    torch.save({"task": {"G": state, "D": {}, "vits": vits}, "step": 10}, run_ckpt)
    with pytest.raises(JobError, match="training checkpoint of a text-to-speech run: export"):
        _call("models.import", path=str(run_ckpt))

    base = rf.write_pretrained_base(tmp_path / "f0G40k.pth")
    with pytest.raises(JobError) as err:
        _call("models.import", path=str(base))
    assert err.value.code == "not_a_voice_model" and "pretrained base" in str(err.value)
    with pytest.raises(JobError) as err:
        _call("models.list", kind="speech")
    assert err.value.code == "bad_arguments"
    assert json.loads((data / "models" / got["id"] / "model.json").read_text(
        encoding="utf-8"))["format"] == "original"
