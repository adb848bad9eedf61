"""``python -m desktop``: the Timbre Studio window.

``--screenshot PATH`` renders the window (offscreen works) to a PNG once the
backend is ready (or after a few seconds) and exits. ``--self-test DIR`` lets the
window's backend prepare ``DIR/takes`` and convert a take with ``DIR/model.pth``, writes
``DIR/self-test.json`` and exits with 0 when all passed (desktop/self_test.py); it keeps
its settings and log in ``DIR``.

Started by a person (none of ``--screenshot``, ``--self-test``, ``--exit-after-show``),
the window runs the start-up checks and the first-run offer (desktop/ui/launcher.py);
an error before the window is up is written to the log folder and shown, never a
silent exit.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from backend.resources import resource
from desktop.backend_client import BackendClient
from desktop.components.backend_logic import READY
from desktop.components.log_file import default_log_dir
from desktop.self_test import QtSelfTest
from desktop.ui.launcher import QtLauncher, log_uncaught, show_crash
from desktop.ui.main_window import MainWindow

ICON = resource("icons", "timbre-studio.png")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m desktop", description="Timbre Studio")
    parser.add_argument("--screenshot", metavar="PATH", help="save a PNG of the window and exit")
    parser.add_argument("--project", help="open this project folder instead of the last one")
    parser.add_argument("--exit-after-show", action="store_true",
                        help="quit as soon as the window is shown (startup benchmark)")
    parser.add_argument("--settings", metavar="INI",
                        help="use this settings file (default: the user's settings)")
    parser.add_argument("--self-test", metavar="DIR",
                        help="check this installation with the recordings and model in DIR "
                             "(takes/, model.pth), write DIR/self-test.json and exit")
    parser.add_argument("--log-dir", metavar="DIR",
                        help=f"write the log here (default: {default_log_dir()})")
    return parser.parse_args(argv)


def _schedule_screenshot(app: QApplication, window: MainWindow, client: BackendClient,
                         path: str, want_project: bool) -> None:
    deadline = time.monotonic() + 15.0

    def shoot() -> None:
        waiting = client.state != READY or (want_project and window.controller.state is None)
        if waiting and time.monotonic() < deadline:
            QTimer.singleShot(100, shoot)
            return
        QTimer.singleShot(300, lambda: (window.grab().save(path, "PNG"), app.quit()))

    QTimer.singleShot(100, shoot)


def _unattended(ns: argparse.Namespace) -> bool:
    """A run nobody watches: no start-up dialogs, no first-run offer."""
    return bool(ns.screenshot or ns.exit_after_show or ns.self_test)


def _startup(window: MainWindow, client: BackendClient, ns: argparse.Namespace,
             log_dir: str) -> QtLauncher | None:
    """The start-up checks and the first-run offer, once the window is shown."""
    if _unattended(ns):
        return None
    log_uncaught(window.log)
    launcher = QtLauncher(window, client, log_dir)
    launcher.start()
    return launcher


def _crashed(ns: argparse.Namespace, log_dir: str) -> int:
    """The window could not start: the report goes to the log folder and on screen."""
    text = traceback.format_exc()
    print(text, file=sys.stderr)
    try:
        dialog, path = show_crash(text, log_dir)
    except Exception:  # Qt itself is broken: the report file is all there is
        print(traceback.format_exc(), file=sys.stderr)
        return 1
    print(f"crash report: {path}", file=sys.stderr)
    if _unattended(ns):
        dialog.close()
        return 1
    loop = QEventLoop()  # not app.exec(): its end would stop every later event loop
    dialog.finished.connect(loop.quit)
    loop.exec()
    return 1


def main(argv: list[str] | None = None) -> int:
    ns = _parse(sys.argv[1:] if argv is None else argv)
    if ns.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Timbre Studio")
    app.setOrganizationName("TimbreStudio")
    app.setDesktopFileName("timbre-studio")  # matches the menu entry (installer/linux/)
    if ICON.is_file():
        app.setWindowIcon(QIcon(str(ICON)))
    if ns.self_test:  # the user's settings, last project and log stay untouched
        ns.settings = ns.settings or str(Path(ns.self_test, "settings.ini"))
        ns.log_dir = ns.log_dir or str(Path(ns.self_test, "logs"))
    log_dir = ns.log_dir or str(default_log_dir())
    t0 = time.perf_counter()
    try:
        client = BackendClient()
        qsettings = QSettings(ns.settings, QSettings.Format.IniFormat) if ns.settings else None
        window = MainWindow(client, qsettings, log_dir=log_dir)
        client.start()
        window.show()
        print(f"window shown in {time.perf_counter() - t0:.3f} s", file=sys.stderr)
        if ns.project:
            window.controller.open(ns.project)
        elif not ns.self_test:
            window.open_initial_project()
        app.aboutToQuit.connect(client.stop)
        launcher = _startup(window, client, ns, log_dir)  # noqa: F841 (kept alive)
        if ns.self_test:
            QtSelfTest(client, ns.self_test, app.exit)
    except Exception:
        return _crashed(ns, log_dir)
    if ns.exit_after_show:
        QTimer.singleShot(0, app.quit)
    if ns.screenshot:
        _schedule_screenshot(app, window, client, ns.screenshot,
                             bool(ns.project or window.settings.last_project()))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
