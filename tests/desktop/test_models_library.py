"""ModelsLibrary (Qt-free): the models.list rows, the selection, imports, removals, errors."""

from __future__ import annotations

import json

from desktop.components.models_library import (
    ADVICE,
    Model,
    ModelsLibrary,
    error_text,
    size_text,
)
from tests.desktop.conftest import SESSIONS


def _session_models() -> list[dict]:
    """The Model dicts of the hand-written convert_models session (the protocol's shape)."""
    lines = [json.loads(x) for x in (SESSIONS / "convert_models.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]
    found: dict[str, dict] = {}
    for m in lines:
        res = m.get("result") or {}
        for d in res.get("models", []) + ([res["model"]] if "model" in res else []):
            found[d["id"]] = d
    return list(found.values())


def test_a_model_row_says_version_rate_pitch_and_index() -> None:
    rows = {d["name"]: Model.from_dict(d) for d in _session_models()}
    voice = rows["My voice ü"]
    old = next(m for m in rows.values() if m.version == "v1")
    assert voice.cells() == ("My voice ü", "v2", "40 kHz", "pitch", "index")
    assert voice.details().startswith("My voice ü (library): RVC v2, 40 kHz")
    assert old.cells()[1:5] == ("v1", "32 kHz", "no pitch", "no index")
    assert "without pitch" in old.details() and "no feature index" in old.details()
    assert voice.path in voice.details() and size_text(voice.size_bytes) in voice.details()
    export = next(m for m in rows.values() if m.source == "export")
    assert export.source_text == "project export" and not export.removable
    assert voice.removable
    odd = Model.from_dict({"path": "/m/x.pth", "speakers": True, "sample_rate": "48000"})
    assert (odd.id, odd.speakers, odd.rate_text, odd.version) == ("/m/x.pth", 1, "?", "?")


def test_selection_survives_a_refresh_and_falls_back_to_the_first() -> None:
    lib = ModelsLibrary()
    models = _session_models()
    lib.set_listing({"models": models})
    assert lib.loaded and lib.selected is not None and lib.selected.id == models[0]["id"]
    lib.select(models[1]["id"])
    lib.set_listing({"models": list(reversed(models))})
    assert lib.selected is not None and lib.selected.id == models[1]["id"]
    lib.set_listing({"models": [models[0]]})
    assert lib.selected is not None and lib.selected.id == models[0]["id"]
    lib.set_listing({"models": "garbage"})
    assert lib.models == [] and lib.selected is None


def test_import_remove_and_the_errors_in_words() -> None:
    lib = ModelsLibrary()
    models = _session_models()
    lib.set_listing({"models": models[:1]})
    new = lib.imported({"model": models[-1]})
    assert new is not None and lib.selected == new and len(lib.models) == 2
    assert lib.message.startswith(f"Imported {new.name} (")
    lib.imported({"model": models[-1]})  # imported again: replaced, not listed twice
    assert len(lib.models) == 2
    lib.import_failed("/d/G_2000.pth", "not_a_voice_model", "it looks like a training "
                      "checkpoint")
    assert lib.error.startswith("Could not import /d/G_2000.pth: it looks like a training "
                                "checkpoint\n")
    assert lib.error.endswith(ADVICE["not_a_voice_model"])
    assert "Nothing in it ran." in error_text("unsafe_file", "refused")
    assert error_text("bad_arguments", "no") == "no"
    lib.select(new.id)
    lib.removed(new.id)
    assert lib.selected is not None and lib.selected.id == models[0]["id"]
    assert lib.message == f"Removed {new.name} from the library." and lib.error == ""


def test_remove_blocker_and_list_args() -> None:
    lib = ModelsLibrary()
    assert lib.remove_blocker() == "Select a model first."
    assert lib.list_args() == {}
    lib.project = "/p/Voice ü"
    assert lib.list_args() == {"project": "/p/Voice ü"}
    export = next(d for d in _session_models() if d["source"] == "export")
    lib.set_listing({"models": [export]})
    assert "export of the open project" in lib.remove_blocker()
    lib.list_failed("unknown_command", "unknown command 'models.list'")
    assert lib.error == "Could not list the voice models: unknown command 'models.list'"


def test_size_text() -> None:
    assert [size_text(n) for n in (0, 999, 1500, 55_234_567, 2_500_000_000)] == \
        ["", "999 B", "1.5 kB", "55 MB", "2.5 GB"]


def test_an_imported_text_to_speech_model_is_not_listed_with_the_voices() -> None:
    lib = ModelsLibrary()
    models = _session_models()
    lib.set_listing({"models": models[:1]})
    tts = {**models[-1], "id": "reader", "name": "Reader", "kind": "tts"}
    assert lib.imported({"model": tts}) is None
    assert [m.id for m in lib.models] == [models[0]["id"]] and not lib.error
    assert "text-to-speech" in lib.message and "Speak page" in lib.message
