"""The first-run offer: groups, sizes and defaults from recorded ``assets.list`` results
(tests/desktop/sessions/assets_manage.jsonl, from the real backend), and the dialog
offscreen starting the downloads through the Assets page on a replayed backend."""

from __future__ import annotations

import copy
import json

import pytest

from desktop.components import first_run
from desktop.components.first_run import CONVERSION, TRAINING, WHISPER, FirstRunPlan
from desktop.components.settings import MemorySettingsStore
from desktop.ui.first_run_dialog import QtFirstRunDialog
from desktop.ui.main_window import MainWindow
from tests.desktop.conftest import SESSIONS, fake_command
from tests.desktop.layout_checks import settled_problems

pytestmark = pytest.mark.timeout(60)
HUBERT, RMVPE = 189507909, 181184272
G40K, D40K = 73106273, 142875703  # rvc-v2-f0G40k, rvc-v2-f0D40k


def _recorded_list(index: int = 0) -> dict:
    lines = (SESSIONS / "assets_manage.jsonl").read_text(encoding="utf-8").splitlines()
    results = [m["result"] for m in map(json.loads, lines)
               if m.get("type") == "result" and "assets" in m.get("result", {})]
    return results[index]


def _installed(result: dict, *names: str) -> dict:
    out = copy.deepcopy(result)
    for row in out["assets"]:
        if row["name"] in names:
            row.update(installed=True, installed_size=row["size"])
    return out


# Qt-free --------------------------------------------------------------------------------
def test_groups_by_feature_with_sizes_and_defaults() -> None:
    plan = FirstRunPlan.from_list(_recorded_list(0))
    groups = {g.key: g for g in plan.groups()}
    assert list(groups) == [CONVERSION, TRAINING, WHISPER]
    conv, train, whisper = groups[CONVERSION], groups[TRAINING], groups[WHISPER]
    assert [i.name for i in conv.items] == ["hubert-base", "rmvpe"]
    assert conv.size_text() == "371 MB"  # 189.5 + 181.2 MB
    assert train.choice == "v2 40k"
    assert [i.name for i in train.items] == ["hubert-base", "rmvpe", "rvc-v2-f0G40k",
                                             "rvc-v2-f0D40k"]
    assert train.size_text() == "587 MB"
    assert ("v1 32k", "v1, 32k") in train.choices and len(train.choices) == 6
    assert whisper.choice == "whisper-base" and not whisper.default
    assert [v for v, _label in whisper.choices][0] == "whisper-tiny"
    assert conv.checked_by_default and train.checked_by_default
    assert not whisper.checked_by_default
    # hubert and rmvpe are needed by both, downloaded once
    items = plan.to_download(plan.groups(), {CONVERSION, TRAINING})
    assert [i.name for i in items] == ["hubert-base", "rmvpe", "rvc-v2-f0G40k",
                                       "rvc-v2-f0D40k"]
    assert first_run.download_summary(items).startswith("4 file(s) to download, 587 MB")
    assert plan.needs_offer()


def test_other_choices_and_installed_files() -> None:
    plan = FirstRunPlan.from_list(_installed(_recorded_list(0), "rmvpe"))
    groups = {g.key: g for g in plan.groups("v1 48k", "whisper-small")}
    assert [i.name for i in groups[TRAINING].missing] == ["hubert-base", "rvc-v1-f0G48k",
                                                          "rvc-v1-f0D48k"]
    assert groups[CONVERSION].size_text() == f"371 MB, {HUBERT / 1e6:.0f} MB to download"
    assert [i.name for i in groups[WHISPER].items] == ["whisper-small"]
    assert plan.groups("v9 1k")[1].choice == "v2 40k"  # an unknown choice: the default
    full = FirstRunPlan.from_list(_installed(_recorded_list(0), "rmvpe", "hubert-base",
                                             "rvc-v2-f0G40k", "rvc-v2-f0D40k"))
    conv = full.groups()[0]
    assert conv.installed and not conv.checked_by_default and conv.size_text().endswith(
        "installed")
    assert not full.needs_offer()  # nothing the defaults name is missing: no offer


def test_the_offer_is_made_once() -> None:
    store = MemorySettingsStore()
    assert not first_run.offered(store)
    first_run.mark_offered(store)
    assert first_run.offered(store)


# the dialog -----------------------------------------------------------------------------
def test_dialog_defaults_and_its_downloads(qtbot) -> None:
    started: list[str] = []
    dialog = QtFirstRunDialog(_installed(_recorded_list(0), "rmvpe"),
                              lambda name: started.append(name) or name)  # type: ignore
    qtbot.addWidget(dialog)
    assert dialog.checked() == {CONVERSION, TRAINING}
    assert dialog.selected() == ["hubert-base", "rvc-v2-f0G40k", "rvc-v2-f0D40k"]
    assert "rmvpe (181 MB, installed)" in dialog.file_labels[CONVERSION].text()
    dialog.checks[TRAINING].setChecked(False)
    dialog.checks[WHISPER].setChecked(True)
    combo = dialog.combos[WHISPER]
    combo.setCurrentIndex(combo.findData("whisper-tiny"))
    assert dialog.selected() == ["hubert-base", "whisper-tiny"]
    assert dialog.summary.text().startswith("2 file(s) to download")
    dialog.checks[CONVERSION].setChecked(False)
    dialog.checks[WHISPER].setChecked(False)
    assert not dialog.download_btn.isEnabled()
    assert dialog.summary.text() == "Nothing selected to download."
    dialog.checks[CONVERSION].setChecked(True)
    dialog.download_btn.click()
    assert started == ["hubert-base"] and dialog.result() == QtFirstRunDialog.DialogCode.Accepted


def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


def test_get_models_starts_the_assets_pages_jobs(qtbot, make_client, qsettings,
                                                 tmp_path) -> None:
    """Help ▸ Get models… on a replayed backend (assets_download.jsonl): the dialog from
    its assets.list, Download selected -> the Assets page's own assets jobs."""
    client, sig = make_client(fake_command("assets_download.jsonl", tmp_path))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    client.start()
    assert "&Get models…" in [a.text() for a in window.help.menu.actions()]
    window.get_models_action.trigger()
    qtbot.waitUntil(lambda: window.first_run_dialog is not None, timeout=5000)
    dialog = window.first_run_dialog
    assert dialog is not None and dialog.isVisible()
    assert settled_problems(qtbot, dialog) == []
    assert dialog.selected() == ["hubert-base", "rmvpe", "rvc-v2-f0G40k"]  # no D in this list
    dialog.checks[TRAINING].setChecked(False)
    dialog.download_btn.click()
    assert [j.args for j in dialog.jobs] == [{"action": "download", "name": "hubert-base"},
                                             {"action": "download", "name": "rmvpe"}]
    assert window.current_page_key() == "assets"
    qtbot.waitUntil(lambda: len(_received(sig, "job.start")) >= 1, timeout=5000)
    assert _received(sig, "job.start")[0]["args"] == {
        "kind": "assets", "args": {"action": "download", "name": "hubert-base"}}
    # the Assets page follows the same handles, whoever started them
    assert window.assets_page.model.jobs["hubert-base"] is dialog.jobs[0]
    assert window.jobs_panel is not None
