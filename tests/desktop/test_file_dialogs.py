"""File dialogs open in the folder last used for their purpose; stale dialog errors go."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.ui import file_dialogs

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    return AppSettings(JsonSettingsStore(tmp_path / "settings ü.json"))


@pytest.fixture
def dialogs(monkeypatch):
    """QFileDialog's static functions, answering from ``answers`` and keeping each start."""
    starts: list[tuple[str, str]] = []
    answers: dict[str, object] = {}

    def fake(name: str):
        def ask(_parent, _title, start, *_rest):
            starts.append((name, start))
            answer = answers.get(name, "")
            return answer if name == "getExistingDirectory" else (answer, "")
        return staticmethod(ask)

    for name in ("getOpenFileName", "getOpenFileNames", "getExistingDirectory",
                 "getSaveFileName"):
        monkeypatch.setattr(QFileDialog, name, fake(name))
    return starts, answers


def test_only_file_dialogs_opens_file_dialogs() -> None:
    users = [p.relative_to(DESKTOP).as_posix() for p in DESKTOP.rglob("*.py")
             if "QFileDialog" in p.read_text(encoding="utf-8")]
    assert users == ["ui/file_dialogs.py"]


def test_each_purpose_starts_in_its_last_folder(qtbot, tmp_path, settings, dialogs) -> None:
    starts, answers = dialogs
    models, takes = tmp_path / "models é", tmp_path / "takes ü"
    models.mkdir()
    takes.mkdir()
    assert file_dialogs.open_file(None, settings, "encoder", "t") == ""  # cancelled
    assert starts[-1] == ("getOpenFileName", str(Path.home()))
    answers["getOpenFileName"] = str(models / "my hubert.pt")
    file_dialogs.open_file(None, settings, "encoder", "t")
    file_dialogs.open_file(None, settings, "encoder", "t")
    assert starts[-1] == ("getOpenFileName", str(models))
    file_dialogs.open_file(None, settings, "pretrained", "t", default=str(takes))
    assert starts[-1] == ("getOpenFileName", str(takes))  # another purpose: its default
    answers["getOpenFileNames"] = [str(takes / "a.wav"), str(takes / "b.wav")]
    assert file_dialogs.open_files(None, settings, "import", "t") == answers["getOpenFileNames"]
    assert settings.last_folder("import") == str(takes)
    answers["getExistingDirectory"] = str(takes)
    file_dialogs.open_folder(None, settings, "open_project", "t", remember_parent=True)
    assert settings.last_folder("open_project") == str(tmp_path)
    models.rmdir()  # a remembered folder that is gone: back to the default
    assert settings.last_folder("encoder") == str(Path.home())
    file_dialogs.save_file(None, settings, "export x", "t", "v.pth", "*.pth",
                           default=str(tmp_path / "p" / "export"))
    assert starts[-1] == ("getSaveFileName", str(tmp_path / "p" / "export" / "v.pth"))


def test_pages_remember_their_folders(qtbot, make_client, tmp_path, settings, dialogs) -> None:
    """Every page's file dialog goes through file_dialogs with its own purpose."""
    from desktop.components.assets import MissingAsset
    from desktop.ui.asset_missing_dialog import QtAssetMissingDialog
    from desktop.ui.assets_page import QtAssetsPage
    from desktop.ui.extract_page import QtExtractForm
    from desktop.ui.train_form import QtTrainSettingsForm
    from tests.desktop.conftest import fake_command

    starts, answers = dialogs
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    folder = tmp_path / "weights ü"
    folder.mkdir()
    answers["getOpenFileName"] = str(folder / "file.pth")
    form = QtExtractForm(settings)
    assets = QtAssetsPage(client, settings)
    dialog = QtAssetMissingDialog(client, MissingAsset("hubert-base"), settings=settings,
                                  use_file=lambda _p: None, use_file_purpose="encoder")
    train = QtTrainSettingsForm(settings)
    for w in (form, assets, dialog, train):
        qtbot.addWidget(w)
    form.pick_encoder_file()
    assert settings.last_folder("encoder") == str(folder)
    assert dialog.pick_other_file() and starts[-1][1] == str(folder)  # the same purpose
    assets.pick_file("rmvpe")
    dialog.pick_file()
    assert starts[-1][1] == str(folder) and settings.last_folder("asset_import") == str(folder)
    train.pretrained_g.clear()
    train._on_pick_clicked(train.pretrained_g, "G")
    assert settings.last_folder("pretrained") == str(folder)
    assert train.pretrained_g.text() == str(folder / "file.pth")


def test_new_project_folder_error_goes_when_the_folder_is_fixed(qtbot, tmp_path,
                                                                settings) -> None:
    from desktop.ui.project_picker import QtNewProjectDialog

    dialog = QtNewProjectDialog(settings)
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("My voice")
    dialog.folder_edit.setText(str(tmp_path / "no such folder"))
    dialog.buttons.accepted.emit()
    assert "does not exist" in dialog.error_label.text()
    dialog.folder_edit.setText(str(tmp_path))  # fixed: the error goes at once
    assert dialog.error_label.text() == ""
    dialog.name_edit.setText("  ")  # a new problem is said only when OK is pressed again
    assert dialog.error_label.text() == ""
    dialog.buttons.accepted.emit()
    assert dialog.error_label.text() == "Give the project a name."
    dialog.name_edit.setText("ab")
    assert dialog.error_label.text() == ""
