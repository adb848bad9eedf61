"""A new project's folder is named by the backend's sanitiser, not built from the typed
name in the desktop: any name works and the folder stays inside the chosen one."""

from __future__ import annotations

from pathlib import Path

from desktop.components.settings import AppSettings, MemorySettingsStore
from desktop.ui.project_controller import ProjectController
from desktop.ui.project_picker import QtNewProjectDialog


def test_dialog_sends_the_name_and_the_backend_names_the_folder(
        qtbot, make_client, tmp_path: Path) -> None:
    settings = AppSettings(MemorySettingsStore())
    parent = tmp_path / "projects é"
    parent.mkdir()
    client, sig = make_client()  # the real backend
    client.start()
    qtbot.waitUntil(lambda: client.state == "ready", timeout=10000)
    controller = ProjectController(client, settings)
    errors: list[str] = []
    controller.sig_error.connect(errors.append)
    for typed, folder in (("AC/DC", "AC_DC"), ("../../x", "x"), ("CON", "CON_")):
        dialog = QtNewProjectDialog(settings)
        qtbot.addWidget(dialog)
        dialog.name_edit.setText(typed)
        dialog.folder_edit.setText(str(parent))
        assert dialog.problem() is None
        values = dialog.values()
        assert values == {"parent": str(parent), "name": typed, "sample_rate": 40000,
                          "model_kind": "rvc"}
        controller.state = None
        controller.create(**values)
        qtbot.waitUntil(lambda: controller.state is not None or bool(errors), timeout=10000)
        assert errors == []
        state = controller.state
        assert state is not None and state.path == str(parent / folder)
        assert state.name == typed and state.file_stem == folder
    assert [p.name for p in tmp_path.iterdir()] == ["projects é"]
    client.stop()


def test_dialog_still_asks_for_a_name_and_an_existing_folder(qtbot, tmp_path: Path) -> None:
    dialog = QtNewProjectDialog(AppSettings(MemorySettingsStore()))
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(tmp_path))
    assert dialog.problem() == "Give the project a name."
    dialog.name_edit.setText("ok")
    dialog.folder_edit.setText(str(tmp_path / "nope"))
    assert "does not exist" in (dialog.problem() or "")
