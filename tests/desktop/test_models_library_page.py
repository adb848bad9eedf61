"""QtModelsLibrary on the convert_models sessions (recorded from the real backend by
record_convert_sessions.py; convert_models_hand.jsonl, hand-written, adds a removal that
fails): listing, refused imports with the backend's message and what to do, an import,
removals (an export cannot be removed), the project's exports, and the settings form
greying out what a model ignores."""

from __future__ import annotations

import pytest

from desktop.components.models_library import ADVICE
from desktop.ui.convert_form import QtConvertForm
from desktop.ui.models_library import QtModelsLibrary
from tests.desktop.conftest import fake_command
from tests.desktop.convert_replay import awaited, messages, replies, sent

pytestmark = pytest.mark.timeout(60)


def _names(lib: QtModelsLibrary) -> list[str]:
    return [lib.table.item(r, 0).text() for r in range(lib.table.rowCount())]


@pytest.mark.parametrize("session", ["convert_models.jsonl", "convert_models_hand.jsonl"])
def test_list_import_errors_remove_and_exports(qtbot, make_client, tmp_path, session) -> None:
    msgs = messages(session, tmp_path)
    client, sig = make_client(fake_command(session, tmp_path))
    lib = QtModelsLibrary(client)
    qtbot.addWidget(lib)
    chosen: list[QtModelsLibrary] = []
    lib.sig_selected.connect(chosen.append)
    client.start()
    lib.show()
    qtbot.waitUntil(lambda: lib.table.rowCount() == 2, timeout=5000)
    first = lib.library.models[0]
    assert _names(lib)[0] == first.name and lib.selected() == first  # the first is selected
    old_id = awaited(msgs, "models.remove")[0]["id"]
    old_row = lib.library.index_of(old_id)
    assert lib.table.item(old_row, 3).text() == "no pitch"
    assert lib.table.item(old_row, 4).text() == "no index"
    assert "RVC v2, 40 kHz" in lib.details.text()

    imports = [a["path"] for a in awaited(msgs, "models.import")]
    for path, code in zip(imports[:3], ("not_a_voice_model", "unsafe_file", "not_found"),
                          strict=True):
        lib.pick_model_file = lambda p=path: p
        lib.import_btn.click()
        assert not lib.import_btn.isEnabled()  # one import at a time
        qtbot.waitUntil(lambda: bool(lib.error_text()), timeout=5000)
        text = lib.message.text()
        assert text.startswith(f"Could not import {path}: ") and text.endswith(ADVICE[code])
        assert "b00020" in lib.message.styleSheet() and lib.import_btn.isEnabled()
        lib.library.error = ""
    assert "training checkpoint" in replies(msgs, "models.import")[0]["error"]["message"]

    lib.pick_model_file = lambda: imports[3]
    lib.import_btn.click()
    qtbot.waitUntil(lambda: lib.table.rowCount() == 3, timeout=5000)
    alto = lib.selected()
    assert alto.name == "Alto ü" and lib.table.currentRow() == lib.library.index_of(alto.id)
    assert lib.message.text() == "Imported Alto ü (v2, 48 kHz, pitch, index)."
    assert chosen[-1].name == "Alto ü"

    lib.table.selectRow(lib.library.index_of(old_id))
    assert lib.selected().id == old_id and lib.remove_btn.isEnabled()
    asked: list[str] = []
    lib.confirm_remove = lambda m: asked.append(m.name) or True
    lib.remove_btn.click()
    qtbot.waitUntil(lambda: lib.table.rowCount() == 2, timeout=5000)
    assert asked == [_name_of(msgs, old_id)] and old_id not in [m.id for m in lib.library.models]
    assert lib.message.text() == f"Removed {_name_of(msgs, old_id)} from the library."

    lib.set_project(str(tmp_path / "Voice ü"))  # the project's exports are listed too
    qtbot.waitUntil(lambda: lib.table.rowCount() == 3, timeout=5000)
    export = next(m for m in lib.library.models if m.source == "export")
    lib.table.selectRow(lib.library.index_of(export.id))
    assert lib.details.text().startswith(f"{export.name} (project export): ")
    assert not lib.remove_btn.isEnabled()
    assert "export of the open project" in lib.remove_btn.toolTip()
    second = awaited(msgs, "models.remove")[1]["id"]
    lib.table.selectRow(lib.library.index_of(second))
    lib.remove_btn.click()
    answer = replies(msgs, "models.remove")[1]
    if "error" in answer:  # the hand-written session: the library folder could not be written
        qtbot.waitUntil(lambda: bool(lib.error_text()), timeout=5000)
        assert lib.message.text() == f"Could not remove the model: {answer['error']['message']}" \
            f"\n{ADVICE[answer['error']['code']]}"
    else:
        qtbot.waitUntil(lambda: lib.library.by_id(second) is None, timeout=5000)
    assert sent(sig, "models.list") == awaited(msgs, "models.list")
    assert sent(sig, "models.import") == awaited(msgs, "models.import")
    assert sent(sig, "models.remove") == awaited(msgs, "models.remove")


def _name_of(msgs: list[dict], model_id: str) -> str:
    listed = next(m["result"]["models"] for m in msgs if m.get("type") == "result")
    return next(m["name"] for m in listed if m["id"] == model_id)


def test_form_greys_out_what_the_model_ignores(qtbot, tmp_path) -> None:
    from desktop.components.models_library import Model

    form = QtConvertForm()
    qtbot.addWidget(form)
    listed = next(m["result"]["models"] for m in messages("convert_models.jsonl", tmp_path)
                  if m.get("type") == "result")
    voice, old = (Model.from_dict(d) for d in listed)
    form.set_model(old)
    assert not form.fields["key"].isEnabled() and not form.f0_method.isEnabled()
    assert not form.fields["index_rate"].isEnabled() and not form.fields["protect"].isEnabled()
    assert form.output_rate.itemText(0) == "Model's rate (32 kHz)"
    form.set_model(voice)
    assert all(box.isEnabled() for box in form.fields.values()) and form.f0_method.isEnabled()
    form.fields["protect"].setValue(0.5)
    form.fields["key"].setValue(-7)
    form.output_rate.setCurrentIndex(form.output_rate.findData(44100))
    values = form.values()
    assert (values.protect, values.key, values.output_rate) == (0.5, -7.0, 44100)
    form.defaults_btn.click()
    assert form.values() == type(values)()
    for box in form.fields.values():
        assert "RVC's default" in box.toolTip()
    cuda = form.device.model().item(form.device.findData("cuda"))
    assert not cuda.isEnabled() and form.device_value() is None  # no GPU until hello says
    form.set_cuda(True)
    form.device.setCurrentIndex(form.device.findData("cuda"))
    assert cuda.isEnabled() and form.device_value() == "cuda"
    form.set_cuda(False)
    assert form.device_value() is None
