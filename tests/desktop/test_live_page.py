"""The Live page on hand-written live sessions replayed by fake_backend.py (a real process).

live_run.jsonl: a WASAPI microphone and an MME virtual cable, key +12 applied live, a block
size that needs a restart, Restart, F5 to stop. live_device_lost.jsonl: the microphone is
unplugged mid-stream; Restart finds it gone, then back under a new index and name.
live_refused.jsonl: no PortAudio at first, then a refused start. The sessions follow the
protocol of issue 9; record_live_sessions.py re-records them from the real backend.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.components.live_controls import control
from desktop.components.live_session import (
    BUSY_WARNING,
    LiveStats,
    busy,
    counters_text,
    latency_text,
    negotiated_text,
)
from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.ui.live_page import DOCS, QtLivePage
from desktop.ui.main_window import MainWindow
from desktop.ui.project_controller import ProjectController
from tests.desktop.conftest import SESSIONS, fake_command

pytestmark = pytest.mark.timeout(60)
MIC = "Microphone (2- USB Audio Device)"
CABLE = "CABLE Input (VB-Audio Virtual Cable)"


def _lines(session: str, folder: Path) -> list[dict]:
    text = (SESSIONS / session).read_text("utf-8")
    text = text.replace("$PROJECT", json.dumps(str(folder), ensure_ascii=False)[1:-1])
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def _after(lines: list[dict], cmd: str, nth: int = 0) -> list[dict]:
    """The lines replayed after the ``nth`` await of ``cmd``, up to the next await."""
    at = [i for i, m in enumerate(lines) if m.get("fake") == "await" and m["cmd"] == cmd][nth]
    end = next((i for i in range(at + 1, len(lines)) if lines[i].get("fake") == "await"),
               len(lines))
    return lines[at + 1:end]


def _reply(lines: list[dict], cmd: str, nth: int = 0) -> dict:
    return next(m for m in _after(lines, cmd, nth) if m.get("type") in ("result", "error"))


def _events(lines: list[dict], event: str) -> list[dict]:
    return [m["data"] for m in lines if m.get("event") == event]


def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


def _wait_sent(qtbot, sig, cmd: str, count: int) -> list[dict]:
    qtbot.waitUntil(lambda: len(_received(sig, cmd)) >= count, timeout=5000)
    return _received(sig, cmd)


@pytest.fixture
def open_page(qtbot, make_client, tmp_path):
    opened: list = []

    def make(session: str):
        client, sig = make_client(fake_command(session, tmp_path))
        settings = AppSettings(JsonSettingsStore(tmp_path / "settings ü.json"))
        page = QtLivePage(client, ProjectController(client, settings), settings,
                          open_url=lambda url: opened.append(url) or True)
        qtbot.addWidget(page)
        client.start()
        page.resize(1000, 640)
        page.show()
        qtbot.waitExposed(page)
        page.activateWindow()
        qtbot.waitUntil(lambda: page.models_loaded, timeout=5000)
        return page, sig, settings, opened

    return make


def _choose(combo, data) -> None:
    """As a user picks an item (``activated`` fires)."""
    combo.setCurrentIndex(combo.findData(data))
    combo.activated.emit(combo.currentIndex())


def _slide(page: QtLivePage, name: str, value: float) -> None:
    page.sliders[name].slider.setValue(control(name).position(value))


def _key(page: QtLivePage, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(page.start_btn, key, modifier)


def test_run_with_live_controls_restart_and_shortcuts(qtbot, open_page, tmp_path) -> None:
    page, sig, settings, _ = open_page("live_run.jsonl")
    lines = _lines("live_run.jsonl", tmp_path)
    model = _reply(lines, "models.list")["result"]["models"][0]
    running = [d for d in _events(lines, "live.state") if d["state"] == "running"]
    stats = [LiveStats.from_data(d) for d in _events(lines, "live.stats")]
    shown = [LiveStats.from_data(next(m["data"] for m in reversed(_after(lines, cmd, n))
                                      if m.get("event") == "live.stats"))
             for cmd, n in (("job.start", 0), ("job.control", 1))]  # the last of each
    waits = _reply(lines, "job.control", 1)["result"]["restart_needed"]
    qtbot.waitUntil(lambda: page.devices_loaded, timeout=5000)
    assert _received(sig, "models.list")[0]["args"] == {}  # no project open
    models = _reply(lines, "models.list")["result"]["models"]
    assert page.model_picker.count() == len(models)
    assert page.model_picker.model().name == model["name"]
    inp, out = page.pickers["input"], page.pickers["output"]
    assert inp.device().index == 1 and out.device().index == 4  # the system defaults
    assert not page.exclusive.isVisibleTo(page)  # MME only
    _choose(inp.host_api_combo, 1)  # Windows WASAPI: its default microphone
    _choose(out.device_combo, 3)  # the MME virtual cable
    assert inp.device().index == 6 and page.exclusive.isVisibleTo(page)
    assert settings.store.get("live")["input"] == {"host_api": "Windows WASAPI", "device": MIC}
    assert page.start_btn.toolTip() == "Start or stop the stream (F5)"

    _key(page, Qt.Key.Key_F5)
    start = _wait_sent(qtbot, sig, "job.start", 1)[0]["args"]
    assert len(_received(sig, "live.devices")) == 2  # listed again before the start
    assert start == {"kind": "live", "args": {
        "model": model["path"], "index": model["index"], "f0_method": "rmvpe",
        "input_device": 6, "output_device": 3,
        "input_host_api": "Windows WASAPI", "output_host_api": "MME", "exclusive": False,
        "key": 0, "index_rate": 0.75, "protect": 0.33, "gate_db": -50, "block": 0.25,
        "crossfade": 0.05, "monitor": True, "bypass": False}}
    qtbot.waitUntil(lambda: page.latency_label.text().startswith("Latency"), timeout=5000)
    assert page.session.state == "running" and page.status_label.text() == "Running."
    qtbot.waitUntil(lambda: page.latency_label.text() == latency_text(shown[0], 50),
                    timeout=5000)
    assert page.compute_label.text().startswith("Compute ")
    assert page.negotiated_label.text() == negotiated_text(running[0]["negotiated"])
    assert page.input_meter.format() == f"{shown[0].input_db:.0f} dBFS"
    assert page.start_btn.text() == "Stop" and not page.model_picker.isEnabled()

    _slide(page, "key", 12)
    _slide(page, "key", 11)
    _slide(page, "key", 12)  # dragged: one request with the last value
    assert _wait_sent(qtbot, sig, "job.control", 1)[0]["args"] == {
        "job_id": _reply(lines, "job.start")["result"]["job_id"], "values": {"key": 12}}
    qtbot.waitUntil(lambda: page.controls.in_flight is None, timeout=5000)
    assert page.restart_note.text() == "" and not page.restart_btn.isVisibleTo(page)
    _slide(page, "block", 0.5)
    assert _wait_sent(qtbot, sig, "job.control", 2)[1]["args"]["values"] == {"block": 0.5}
    qtbot.waitUntil(lambda: page.controls.in_flight is None, timeout=5000)
    qtbot.waitUntil(lambda: page.counters_label.text() == counters_text(shown[1]), timeout=5000)
    qtbot.waitUntil(lambda: page.warning_label.text() == (
        BUSY_WARNING if busy(page.session.stats) else ""), timeout=5000)
    if "block" in waits:  # the backend applies it on a restart: the page says so
        assert page.restart_btn.isVisibleTo(page)
        assert page.restart_note.text() == ("The new block takes effect when the stream "
                                            "restarts: press Restart to apply.")
        page.restart_btn.click()  # stops job-1, starts again with the new block size
    else:
        assert not page.restart_btn.isVisibleTo(page) and page.restart_note.text() == ""
        page.restart()
    assert _wait_sent(qtbot, sig, "job.cancel", 1)[0]["args"] == {
        "job_id": _reply(lines, "job.start")["result"]["job_id"]}
    again = _wait_sent(qtbot, sig, "job.start", 2)[1]["args"]["args"]
    assert (again["block"], again["key"], again["input_device"]) == (0.5, 12, 6)
    qtbot.waitUntil(lambda: page.latency_label.text() == latency_text(stats[-1], 50),
                    timeout=5000)
    assert stats[-1].block_ms == 500  # the new job runs with the new block size
    assert page.session.job_id == _reply(lines, "job.start", 1)["result"]["job_id"]
    assert not page.restart_btn.isVisibleTo(page)
    assert page.restart_note.text() == ""
    assert len(_received(sig, "job.control")) == 2  # the new job got its values as arguments

    _key(page, Qt.Key.Key_F5)
    assert _wait_sent(qtbot, sig, "job.cancel", 2)[1]["args"] == {
        "job_id": page.session.job_id}
    qtbot.waitUntil(lambda: page.start_btn.text() == "Start", timeout=5000)
    assert page.status_label.text() == "Stopped." and page.input_meter.format() == "—"
    assert not page.restart_btn.isVisibleTo(page) and page.model_picker.isEnabled()

    _key(page, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert page.switches["bypass"].isChecked()
    later = QtLivePage(page.client, page.controller, settings)  # the app opened again
    qtbot.addWidget(later)
    assert later.sliders["key"].value() == 12 and later.sliders["block"].value() == 0.5
    assert later.switches["bypass"].isChecked()
    assert later.stored.input.device == MIC and later.stored.output.device == CABLE


def test_a_device_that_disappears_offers_a_restart_that_finds_it_again(qtbot,
                                                                       open_page) -> None:
    page, sig, _settings, _ = open_page("live_device_lost.jsonl")
    qtbot.waitUntil(lambda: page.devices_loaded, timeout=5000)
    page.start_btn.click()
    assert _wait_sent(qtbot, sig, "job.start", 1)[0]["args"]["args"]["input_device"] == 1
    qtbot.waitUntil(lambda: page.restart_btn.isVisibleTo(page), timeout=5000)
    lost = "the input device “Microphone (2- USB Audio Device)” (MME) disappeared"
    assert page.status_label.text().startswith(f"Stopped: {lost}. Press Restart to start "
                                               "again once the device is back. Ran 10.0 s")
    assert page.start_btn.text() == "Start" and page.input_meter.format() == "—"

    page.restart_btn.click()  # still unplugged: no job, Restart stays
    _wait_sent(qtbot, sig, "live.devices", 3)
    qtbot.waitUntil(lambda: page.devices_label.text().startswith("Still"), timeout=5000)
    assert page.devices_label.text() == (f"Still not connected: “{MIC}” (MME). Plug it back in "
                                         "and press Restart, or press Start to use the devices "
                                         "selected now.")
    assert page.restart_btn.isVisibleTo(page) and len(_received(sig, "job.start")) == 1

    page.restart_btn.click()  # plugged in again: another index, "3-" instead of "2-"
    args = _wait_sent(qtbot, sig, "job.start", 2)[1]["args"]["args"]
    assert (args["input_device"], args["output_device"]) == (2, 4)
    qtbot.waitUntil(lambda: page.status_label.text() == "Running.", timeout=5000)
    assert page.pickers["input"].device().name == "Microphone (3- USB Audio Device)"
    assert not page.restart_btn.isVisibleTo(page)
    page.start_btn.click()
    qtbot.waitUntil(lambda: page.status_label.text() == "Stopped.", timeout=5000)


def test_no_portaudio_then_a_refused_start(qtbot, open_page) -> None:
    page, sig, _settings, opened = open_page("live_refused.jsonl")
    qtbot.waitUntil(lambda: "PortAudio" in page.devices_label.text(), timeout=5000)
    assert page.devices_label.text().startswith("Could not list the audio devices: PortAudio "
                                                "is not available")
    assert not page.start_btn.isEnabled()
    assert page.start_btn.toolTip() == "Choose an input device (a microphone)."
    page.devices_refresh_btn.click()
    qtbot.waitUntil(lambda: page.start_btn.isEnabled(), timeout=5000)
    page.start_btn.click()
    _wait_sent(qtbot, sig, "job.start", 1)
    qtbot.waitUntil(lambda: page.status_label.text().startswith("Could not start"), timeout=5000)
    assert "training checkpoint" in page.status_label.text()
    assert page.start_btn.text() == "Start" and not page.restart_btn.isVisibleTo(page)
    page.cables_btn.click()
    assert [Path(u.toLocalFile()) for u in opened] == [DOCS]


def test_shortcuts_act_only_while_the_live_page_is_shown(qtbot, make_client, qsettings) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    win = MainWindow(client, qsettings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=2000)
    assert "live" in win.page_keys() and win.page_keys().index("live") == \
        win.page_keys().index("convert") + 1
    page = win.live_page
    win.show_page("train")
    QTest.keyClick(win.sidebar, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert not page.switches["bypass"].isChecked()
    win.show_page("live")
    QTest.keyClick(win.sidebar, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert page.switches["bypass"].isChecked()
    assert "Ctrl+B" in page.switches["bypass"].toolTip()
