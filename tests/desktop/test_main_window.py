"""MainWindow: start-up, status bar, placeholders, crash banner, persisted layout."""

from __future__ import annotations

import time

from PySide6.QtCore import QSettings

from desktop.components.backend_logic import RestartPolicy
from desktop.ui.main_window import COMING, MainWindow, QtPlaceholderPage
from tests.desktop.conftest import fake_command


def test_window_shows_fast_and_reports_backend_state(qtbot, make_client, qsettings) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    t0 = time.perf_counter()
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    client.start()
    window.show()
    qtbot.waitExposed(window)
    shown = time.perf_counter() - t0
    print(f"\nmain window constructed and shown in {shown:.3f} s")
    assert shown < 2.0  # generous sanity bound; the number itself is printed
    assert window.backend_status.text() == "Backend starting…"
    qtbot.waitUntil(lambda: client.state == "ready", timeout=5000)
    assert window.backend_status.text() == "Ready — CPU: AMD EPYC"
    window.open_initial_project()  # no recent project: the picker stays
    assert window.current_page_key() == "project"


def test_unbuilt_pages_say_so_and_have_no_buttons(qtbot, make_client, qsettings) -> None:
    from PySide6.QtWidgets import QAbstractButton

    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    titles = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert titles == ["Project", "Dataset", "Label", "Extract", "Train", "Convert", "Live",
                      "Speak", "Models & assets"]
    assert COMING == {}  # every page is built: the Label page is the labels page
    from desktop.ui.labels_page import QtLabelsPage

    assert isinstance(window.page("label"), QtLabelsPage)
    page = QtPlaceholderPage("Later", "What it will do.")
    qtbot.addWidget(page)
    assert "Coming in a later release" in page.text
    assert page.findChildren(QAbstractButton) == []
    window.sidebar.setCurrentRow(2)
    assert window.current_page_key() == "label"
    # a later release replaces a placeholder with the real page
    from PySide6.QtWidgets import QLabel

    real = QLabel("label page")
    window.add_page("label", "Label", real)
    assert window.page("label") is real and window.sidebar.count() == 9
    window.show_page("label")
    assert window.stack.currentWidget() is real


def test_crash_banner_and_restart_action(qtbot, make_client, qsettings) -> None:
    policy = RestartPolicy(max_restarts=1, backoff_s=(0.02,))
    client, sig = make_client(fake_command("crash_at_start.jsonl"), policy=policy)
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    client.start()
    qtbot.waitUntil(lambda: len(sig.crashes) == 2, timeout=5000)
    assert window.banner.isVisibleTo(window)
    assert "libcuda.so.1" in window.banner_label.text()
    assert window.restart_button.isVisibleTo(window)  # gave up: the user restarts
    assert window.backend_status.text().startswith("Backend crashed")
    assert "code 3" in window.log_panel.plain_text()
    window.restart_button.click()
    assert not window.banner.isVisibleTo(window)
    qtbot.waitUntil(lambda: len(sig.crashes) == 3, timeout=5000)
    assert sig.crashes[-1][1] is True  # restarting again after the user's Restart


def test_layout_and_recent_projects_survive_a_restart(qtbot, make_client, tmp_path) -> None:
    ini = str(tmp_path / "layout.ini")
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    first = MainWindow(client, QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.resize(700, 500)
    first.log_dock.hide()
    first.settings.add_recent_project(str(tmp_path / "proj ü"))
    qtbot.waitUntil(lambda: first.size().width() == 700, timeout=2000)
    size = (first.width(), first.height())  # the height may be raised to the minimum
    first.close()

    second = MainWindow(client, QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert (second.width(), second.height()) == size
    assert not second.log_dock.isVisible() and second.jobs_dock.isVisible()
    assert second.settings.recent_projects() == [str(tmp_path / "proj ü")]
    assert second.picker.recent_list.count() == 1


def test_crash_banner_quotes_the_last_error_and_goes_after_a_resume(qtbot, make_client,
                                                                    qsettings, tmp_path) -> None:
    """crash_then_resume.jsonl: an ERROR log line and a traceback among info and warning
    lines, exit 1; the restarted backend runs a job."""
    policy = RestartPolicy(max_restarts=2, backoff_s=(0.02,))
    client, sig = make_client(fake_command("crash_then_resume.jsonl", tmp_path), policy=policy)
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    size = window.size()
    client.start()
    qtbot.waitUntil(lambda: bool(sig.crashes), timeout=5000)
    text = window.banner_label.text()
    assert window.banner.isVisibleTo(window)
    assert "The last error it logged: RuntimeError: CUDA error: an illegal memory access" in text
    for unrelated in ("output stream closed", "partial download", "serving on", "File "):
        assert unrelated not in text
    qtbot.waitUntil(lambda: client.state == "ready" and len(sig.hellos) == 2, timeout=5000)
    assert "restarted after a crash" in window.banner_label.text()
    assert window.banner.isVisibleTo(window)
    job = client.start_job("sleep", {"seconds": 0.1, "steps": 1})
    qtbot.waitUntil(lambda: job.finished, timeout=5000)  # the work resumed: the banner goes
    assert not window.banner.isVisibleTo(window) and window.size() == size


def test_dismissing_the_crash_banner_gives_the_window_its_size_back(qtbot, make_client,
                                                                    qsettings) -> None:
    policy = RestartPolicy(max_restarts=0)
    client, sig = make_client(fake_command("crash_at_start.jsonl"), policy=policy)
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    size = window.size()
    client.start()
    qtbot.waitUntil(lambda: bool(sig.crashes), timeout=5000)
    assert "ImportError: libcuda.so.1" in window.banner_label.text()
    window.banner_label.setText(window.banner_label.text() + "\n" + "a long line " * 60)
    qtbot.wait(50)
    window.dismiss_button.click()
    qtbot.wait(50)
    assert not window.banner.isVisibleTo(window) and window.size() == size


def test_help_menu_about_log_folder_and_docs(qtbot, make_client, qsettings, tmp_path) -> None:
    """About from the recorded hello and backend.ready of a real backend (no torch in the
    desktop); the folders and documents it opens, through an injected opener."""
    from PySide6.QtCore import QUrl

    from desktop.components.log_file import LOG_NAME
    from desktop.ui.help_menu import DOCS_PATH

    opened: list[QUrl] = []
    logs = tmp_path / "logs ü"
    client, _sig = make_client(fake_command("assets_manage.jsonl", tmp_path))
    window = MainWindow(client, qsettings, log_dir=str(logs),
                        open_url=lambda url: opened.append(url) or True)
    qtbot.addWidget(window)
    help_menu = window.help
    assert [a.text() for a in help_menu.menu.actions()] == [
        "&About Timbre Studio…", "Open the &log folder", "&Documentation", "&Get models…"]
    assert "Backend: not running" in help_menu.about_text()
    client.start()
    qtbot.waitUntil(lambda: bool(client.ready_info), timeout=5000)
    help_menu.about_action.trigger()
    text = help_menu.about_box.text()
    for line in ("Timbre Studio 0.1.0", "Backend 0.1.0 (protocol 2,", "torch 2.13.0+cpu",
                 "CUDA: none (a CPU-only build of torch)", "CPU: AMD EPYC, 2 cores, 23.5 GB"):
        assert line in text, line

    window.log.add("error", "extract failed: no space left ü", "jobs")
    written = (logs / LOG_NAME).read_text(encoding="utf-8")
    assert "ERROR" in written and "[jobs] extract failed: no space left ü" in written
    help_menu.log_action.trigger()
    help_menu.docs_action.trigger()
    assert [u.toLocalFile() for u in opened] == [str(logs), str(DOCS_PATH)]
    assert DOCS_PATH.is_file()


def test_about_says_what_cuda_the_backend_has() -> None:
    from backend.protocol import Hello
    from desktop.components.about import about_lines

    hello = Hello(protocol=1, backend="0.1.0", torch="2.5.1+cu124", pid=7, devices=[
        {"id": "cpu", "kind": "cpu", "name": "EPYC", "cores": 16},
        {"id": "cuda:0", "kind": "cuda", "name": "NVIDIA H200", "memory_bytes": 150 * 1024**3}])
    lines = about_lines("0.1.0", "6.8", hello, {"torch": "2.5.1+cu124", "cuda": True,
                                                "cuda_version": "12.4"})
    assert "CUDA: 12.4" in lines and "  cuda:0: NVIDIA H200, 150.0 GB" in lines
    assert "  CPU: EPYC, 16 cores" in lines
    lines = about_lines("0.1.0", "6.8", hello, {"torch": "2.5.1+cu124", "cuda": False,
                                                "cuda_version": "12.4"})
    assert "CUDA: 12.4 (but torch sees no usable GPU)" in lines
    assert "CUDA: not known yet (the backend is still starting)" in about_lines(
        "0.1.0", "6.8", hello, {})
