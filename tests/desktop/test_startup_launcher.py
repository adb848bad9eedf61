"""Where the start-up checks show, with real widgets offscreen: the report dialog (copy,
log folder, Continue/Quit), the main window's notice bar and Log panel, a backend that
never says hello, a window that cannot start (desktop/__main__.py), the first-run offer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

import desktop.__main__ as app_main
from desktop.components import first_run
from desktop.components.backend_logic import RestartPolicy
from desktop.ui.launcher import QtLauncher
from desktop.ui.main_window import MainWindow
from desktop.ui.startup_dialog import QtStartupReport
from tests.desktop.conftest import FAKE, fake_command
from tests.desktop.layout_checks import settled_problems

pytestmark = pytest.mark.timeout(60)
H200 = {"id": "cuda:0", "kind": "cuda", "name": "NVIDIA H200", "memory_bytes": 150 * 1024**3}
PLENTY = lambda _path: SimpleNamespace(free=10**11)  # noqa: E731


def _no_gpu():
    return [], None


def _window(qtbot, client, qsettings, tmp_path: Path) -> MainWindow:
    window = MainWindow(client, qsettings, log_dir=str(tmp_path / "logs ü"))
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


def _session(tmp_path: Path, torch: str, ready: dict) -> list[str]:
    """A replayed backend that says hello and backend.ready with this torch build."""
    lines = [{"type": "hello", "protocol": 2, "backend": "0.1.0", "torch": torch, "pid": 1,
              "devices": [{"id": "cpu", "kind": "cpu", "name": "EPYC", "cores": 2}]},
             {"type": "event", "event": "backend.ready",
              "data": {"commands": ["ping"], "torch": torch, **ready}}]
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return [sys.executable, str(FAKE), str(path), ""]


def test_report_dialog_copies_opens_the_log_folder_and_quits(qtbot, tmp_path) -> None:
    opened: list[QUrl] = []
    logs = tmp_path / "logs ü"
    dialog = QtStartupReport("The data folder X cannot be written.", "report ü\nline 2\n",
                             str(logs), open_url=lambda url: opened.append(url) or True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.text.isReadOnly() and dialog.text.toPlainText() == "report ü\nline 2\n"
    QGuiApplication.clipboard().setText("something else")
    dialog.copy_btn.click()
    assert QGuiApplication.clipboard().text() == "report ü\nline 2\n"
    dialog.log_btn.click()
    assert [u.toLocalFile() for u in opened] == [str(logs)] and logs.is_dir()
    quits: list[bool] = []
    dialog.sig_quit.connect(lambda: quits.append(True))
    assert dialog.continue_btn.isVisible()
    dialog.quit_btn.click()
    assert quits == [True] and not dialog.isVisible()
    crash = QtStartupReport("x", "y", str(logs), crash=True)
    qtbot.addWidget(crash)
    crash.show()
    assert not crash.continue_btn.isVisible() and crash.quit_btn.isVisible()


def test_an_unwritable_data_folder_opens_the_report_over_the_window(
        qtbot, make_client, qsettings, tmp_path) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    window = _window(qtbot, client, qsettings, tmp_path)
    blocker = tmp_path / "a file"
    blocker.write_text("")
    launcher = QtLauncher(window, client, str(tmp_path / "logs ü"),
                          data_dir=str(blocker / "TimbreStudio"), disk_usage=PLENTY,
                          gpu_probe=_no_gpu, first_run_offer=False)
    launcher.start()
    dialog = launcher.report
    assert dialog is not None and dialog.isVisible()
    assert dialog.headline.text().startswith(f"The data folder {blocker / 'TimbreStudio'} "
                                             "cannot be written")
    report = dialog.text.toPlainText()
    assert "[FAILURE] data folder" in report and "TIMBRE_DATA_DIR" in report
    assert f"Log folder: {tmp_path / 'logs ü'}" in report and "[OK] disk space" in report
    assert settled_problems(qtbot, dialog) == []
    dialog.copy_btn.click()
    assert QGuiApplication.clipboard().text() == report
    assert any("Start-up check, data folder" in e.message and e.level == "error"
               for e in window.log.entries())
    dialog.quit_btn.click()
    assert not window.isVisible()  # Quit closes the window (the app quits with it)


def test_low_disk_space_is_a_failure_and_the_continue_button_goes_on(
        qtbot, make_client, qsettings, tmp_path) -> None:
    client, _sig = make_client(fake_command("assets_manage.jsonl", tmp_path))
    window = _window(qtbot, client, qsettings, tmp_path)
    launcher = QtLauncher(window, client, str(tmp_path / "logs"), data_dir=str(tmp_path),
                          disk_usage=lambda _p: SimpleNamespace(free=50_000_000),
                          gpu_probe=_no_gpu)
    launcher.start()
    assert launcher.report is not None
    assert launcher.report.headline.text().startswith("Only 50 MB free on the drive of")
    launcher.report.continue_btn.click()
    assert window.isVisible() and not launcher.report.isVisible()
    client.start()
    qtbot.waitUntil(lambda: any(r.name == "gpu" for r in launcher.results), timeout=5000)
    qtbot.wait(100)
    # no download offer while the drive is full; it comes on a later start
    assert window.first_run_dialog is None and not first_run.offered(window.settings.store)


def test_cuda_build_without_gpu_shows_a_dismissable_cpu_note(qtbot, make_client, qsettings,
                                                             tmp_path) -> None:
    client, _sig = make_client(_session(tmp_path, "2.7.0+cu128",
                                        {"cuda": False, "cuda_version": "12.8"}))
    window = _window(qtbot, client, qsettings, tmp_path)
    launcher = QtLauncher(window, client, str(tmp_path / "logs"), data_dir=str(tmp_path),
                          disk_usage=PLENTY, gpu_probe=_no_gpu, first_run_offer=False)
    launcher.start()
    assert window.notice_bar.isHidden() and launcher.report is None
    min_before = window.minimumSizeHint()
    client.start()
    qtbot.waitUntil(lambda: "gpu" in window.notice_bar.notices(), timeout=5000)
    text = window.notice_bar.notices()["gpu"]
    assert text.startswith("No NVIDIA GPU or driver found: Timbre Studio runs on the CPU")
    assert window.notice_bar.isVisible()
    assert window.notice_bar.label.text().startswith("No NVIDIA GPU or driver found")
    assert "nvidia.com/drivers" in window.notice_bar.label.toolTip()
    # the note takes no height from the pages: the window still fits 1024x700
    assert window.minimumSizeHint().height() == min_before.height() <= 700
    assert settled_problems(qtbot, window) == []
    assert any(e.message.startswith("Start-up check, gpu: No NVIDIA GPU")
               for e in window.log.entries())
    assert "[NOTE] gpu: No NVIDIA GPU" in launcher.report_text()
    assert "CUDA build 12.8, GPU usable: no" in launcher.report_text()
    window.notice_bar.dismiss_btn.click()
    assert window.notice_bar.isHidden() and window.notice_bar.notices() == {}


def test_cpu_build_with_an_nvidia_gpu_suggests_the_cuda_installer(qtbot, make_client,
                                                                  qsettings, tmp_path) -> None:
    client, _sig = make_client(_session(tmp_path, "2.13.0+cpu",
                                        {"cuda": False, "cuda_version": None}))
    window = _window(qtbot, client, qsettings, tmp_path)
    launcher = QtLauncher(window, client, str(tmp_path / "logs"), data_dir=str(tmp_path),
                          disk_usage=PLENTY, first_run_offer=False,
                          gpu_probe=lambda: ([H200], {"driver_version": "570.86",
                                                      "cuda_version": "12.8"}))
    client.start()
    qtbot.waitUntil(lambda: bool(client.ready_info), timeout=5000)
    launcher.start()  # started after backend.ready: it checks at once
    qtbot.waitUntil(lambda: "gpu" in window.notice_bar.notices(), timeout=5000)
    assert "CPU version" in window.notice_bar.notices()["gpu"]
    assert "CUDA installer" in window.notice_bar.notices()["gpu"]


def test_a_backend_that_never_says_hello_is_reported(qtbot, make_client, qsettings,
                                                     tmp_path) -> None:
    client, _sig = make_client([sys.executable, "-c",
                                "import sys, time; print('loading…', file=sys.stderr, "
                                "flush=True); time.sleep(30)"], stop_timeout_ms=300)
    window = _window(qtbot, client, qsettings, tmp_path)
    launcher = QtLauncher(window, client, str(tmp_path / "logs"), data_dir=str(tmp_path),
                          disk_usage=PLENTY, gpu_probe=_no_gpu, hello_timeout_s=0.5)
    client.start()
    launcher.start()
    qtbot.waitUntil(lambda: launcher.report is not None, timeout=5000)
    report = launcher.report.text.toPlainText()
    assert launcher.report.headline.text().startswith("The backend did not start within 0.5 s")
    assert "[FAILURE] backend" in report and "time.sleep(30)" in report
    assert "loading…" in report


def test_a_backend_that_dies_before_hello_is_reported_at_once(qtbot, make_client, qsettings,
                                                              tmp_path) -> None:
    client, _sig = make_client(fake_command("crash_at_start.jsonl"),
                               policy=RestartPolicy(max_restarts=0))
    window = _window(qtbot, client, qsettings, tmp_path)
    launcher = QtLauncher(window, client, str(tmp_path / "logs"), data_dir=str(tmp_path),
                          disk_usage=PLENTY, gpu_probe=_no_gpu)
    launcher.start()
    client.start()
    qtbot.waitUntil(lambda: launcher.report is not None, timeout=5000)
    report = launcher.report.text.toPlainText()
    assert "ImportError: libcuda.so.1" in report and "State: crashed" in report


def test_first_run_offer_once_and_not_now(qtbot, make_client, qsettings, tmp_path) -> None:
    client, _sig = make_client(fake_command("assets_manage.jsonl", tmp_path))
    window = _window(qtbot, client, qsettings, tmp_path)
    launcher = QtLauncher(window, client, str(tmp_path / "logs"), data_dir=str(tmp_path),
                          disk_usage=PLENTY, gpu_probe=_no_gpu)
    launcher.start()
    client.start()
    qtbot.waitUntil(lambda: window.first_run_dialog is not None, timeout=5000)
    dialog = window.first_run_dialog
    assert dialog.isVisible() and dialog.selected()[:2] == ["hubert-base", "rmvpe"]
    assert not first_run.offered(window.settings.store)
    dialog.later_btn.click()
    assert first_run.offered(window.settings.store)  # never again by itself
    second = QtLauncher(window, client, str(tmp_path / "logs"), data_dir=str(tmp_path),
                        disk_usage=PLENTY, gpu_probe=_no_gpu)
    window.first_run_dialog = None
    second.start()  # backend.ready was seen already: it checks at once
    qtbot.wait(200)
    assert window.first_run_dialog is None


# desktop/__main__.py --------------------------------------------------------------------
def _ns(*argv: str) -> argparse.Namespace:
    return app_main._parse(list(argv))


def test_no_checks_nor_offer_when_nobody_watches(tmp_path) -> None:
    for argv in (("--screenshot", "x.png"), ("--exit-after-show",)):
        assert app_main._unattended(_ns(*argv))
        assert app_main._startup(None, None, _ns(*argv), str(tmp_path)) is None  # type: ignore
    self_test = _ns()
    self_test.self_test = str(tmp_path)  # the lead's --self-test DIR
    assert app_main._unattended(self_test) and not app_main._unattended(_ns())


class _Broken:
    def __init__(self, *_a, **_k) -> None:
        raise RuntimeError("the window could not be built ü")


def test_a_window_that_cannot_start_writes_and_shows_a_crash_report(qtbot, monkeypatch,
                                                                    tmp_path) -> None:
    monkeypatch.setattr(app_main, "MainWindow", _Broken)
    logs = tmp_path / "logs ü"
    seen: list[str] = []

    def close_it() -> None:
        found = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QtStartupReport) and w.isVisible()]
        if not found:
            QTimer.singleShot(50, close_it)
            return
        seen.append(found[0].text.toPlainText())
        assert not found[0].continue_btn.isVisible()
        found[0].quit_btn.click()

    QTimer.singleShot(50, close_it)
    code = app_main.main(["--log-dir", str(logs), "--settings", str(tmp_path / "s.ini")])
    assert code == 1
    crashes = list(logs.glob("crash-*.txt"))
    assert len(crashes) == 1
    text = crashes[0].read_text(encoding="utf-8")
    assert "RuntimeError: the window could not be built ü" in text
    assert "start-up report" in text and seen == [text]


def test_an_unattended_start_that_fails_writes_the_report_and_exits(monkeypatch,
                                                                    tmp_path) -> None:
    monkeypatch.setattr(app_main, "MainWindow", _Broken)
    logs = tmp_path / "logs"
    assert app_main.main(["--exit-after-show", "--log-dir", str(logs)]) == 1
    assert "RuntimeError" in next(logs.glob("crash-*.txt")).read_text(encoding="utf-8")


def test_an_uncaught_exception_goes_to_the_log(monkeypatch) -> None:
    from desktop.components.log_model import LogModel
    from desktop.ui.launcher import log_uncaught

    passed_on: list[type] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: passed_on.append(kind))
    log = LogModel()
    log_uncaught(log)
    try:
        raise KeyError("ü")
    except KeyError as exc:
        sys.excepthook(KeyError, exc, exc.__traceback__)
    entry = log.entries()[-1]
    assert entry.level == "error" and "KeyError: 'ü'" in entry.message
    assert passed_on == [KeyError]  # the previous hook still runs (stderr, pytest-qt)
