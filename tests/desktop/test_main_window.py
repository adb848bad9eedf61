"""MainWindow: start-up, status bar, placeholders, crash banner, persisted layout."""

from __future__ import annotations

import time

from PySide6.QtCore import QSettings

from desktop.components.backend_logic import RestartPolicy
from desktop.ui.main_window import COMING, MainWindow, PlaceholderPage
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
    assert titles == ["Project", "Dataset", "Label", "Extract", "Train", "Use", "Models & assets"]
    assert set(COMING) == {"label", "use"}
    for key in COMING:
        page = window.page(key)
        assert isinstance(page, PlaceholderPage)
        assert "Coming in a later release" in page.text
        assert page.findChildren(QAbstractButton) == []
    window.sidebar.setCurrentRow(5)
    assert window.current_page_key() == "use"
    # a later release replaces a placeholder with the real page
    from PySide6.QtWidgets import QLabel

    real = QLabel("use page")
    window.add_page("use", "Use", real)
    assert window.page("use") is real and window.sidebar.count() == 7
    window.show_page("use")
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
