"""QtLauncher: the start-up checks and the first-run offer, around a shown MainWindow.

``python -m desktop`` makes one after the window is shown (never with ``--screenshot``,
``--self-test`` or ``--exit-after-show``; tests make their own). It runs the folder and
disk checks at once; the GPU check when the backend says ``backend.ready``. Failures
open ``QtStartupReport`` over the window (Quit closes the window); notes and warnings go
to the window's notice bar and the Log panel. A backend that has not said hello after
``hello_timeout_s``, or that crashed for good before it, is a failure too. The first
time the backend is ready, the model-download offer opens (once: a settings value; not
while a check failed).
``show_crash`` is the last resort when the window itself could not start.
"""

from __future__ import annotations

import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from backend.devices import list_devices, nvidia_driver
from backend.protocol import Error, Event
from backend.resources import data_dir as default_data_dir
from desktop import __version__
from desktop.backend_client import BackendClient
from desktop.components import first_run
from desktop.components import startup_checks as checks
from desktop.components.log_model import LogModel
from desktop.components.startup_checks import FAILURE, OK, CheckResult, ReportContext
from desktop.ui.main_window import MainWindow
from desktop.ui.startup_dialog import QtStartupReport, UrlOpener

HELLO_TIMEOUT_S = 90.0  # a cold start of the frozen app under an antivirus scan is slow
GpuProbe = Callable[[], tuple[list[dict[str, Any]], dict[str, Any] | None]]


def nvidia_gpus() -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The NVIDIA GPUs and driver this computer has (NVML, no torch)."""
    return [d for d in list_devices() if d.get("kind") == "cuda"], \
        nvidia_driver()


class QtLauncher:
    def __init__(self, window: MainWindow, client: BackendClient, log_dir: str, *,
                 data_dir: str | None = None, hello_timeout_s: float = HELLO_TIMEOUT_S,
                 disk_usage: checks.DiskUsage = shutil.disk_usage,
                 gpu_probe: GpuProbe = nvidia_gpus, first_run_offer: bool = True,
                 open_url: UrlOpener | None = None) -> None:
        self.window, self.client, self.log_dir = window, client, log_dir
        self.data_dir = data_dir or str(default_data_dir())
        self.disk_usage, self.gpu_probe, self.open_url = disk_usage, gpu_probe, open_url
        self.hello_timeout_s = hello_timeout_s
        self.first_run_offer = first_run_offer
        self.results: list[CheckResult] = []
        self.report: QtStartupReport | None = None
        self._gpu_done = self._offer_done = self._silent_reported = False
        client.sig_event.connect(self._on_client_event)
        client.sig_crashed.connect(self._on_client_crashed)
        self._hello_timer = QTimer(window)
        self._hello_timer.setSingleShot(True)
        self._hello_timer.timeout.connect(self._on_hello_timer_timeout)

    def context(self) -> ReportContext:
        extra = []
        hello = self.client.hello
        if hello is not None:
            extra.append(("Backend", f"{hello.backend} (torch {hello.torch or '?'})"))
        if self.client.ready_info:
            info = self.client.ready_info
            extra.append(("torch", f"{info.get('torch')}, CUDA build "
                                   f"{info.get('cuda_version') or 'none'}, GPU usable: "
                                   f"{'yes' if info.get('cuda') else 'no'}"))
        return ReportContext(__version__, self.data_dir, self.log_dir, extra=extra)

    def report_text(self) -> str:
        return checks.report_text(self.results, self.context())

    # start ------------------------------------------------------------------------------
    def start(self) -> list[CheckResult]:
        """The folder and disk checks now; the GPU check and the offer follow the backend."""
        self.results = checks.local_checks(self.data_dir, self.log_dir, self.disk_usage)
        for result in self.results:
            self._tell(result)
        failures = [r for r in self.results if r.level == FAILURE]
        if failures:
            self.show_report(" ".join(r.summary for r in failures))
        if self.client.hello is None:
            self._hello_timer.start(int(self.hello_timeout_s * 1000))
        if self.client.ready_info:
            self._on_backend_ready()
        return self.results

    def _tell(self, result: CheckResult) -> None:
        """Into the Log panel (and log file); notes and warnings also on the notice bar."""
        level = {OK: "info", checks.NOTE: "info"}.get(result.level, result.level)
        level = "error" if level == FAILURE else level
        detail = f" {result.detail}" if result.detail and result.level != OK else ""
        self.window.log.add(level, f"Start-up check, {result.name}: {result.summary}{detail}",
                            "desktop")
        if result.level in (checks.NOTE, checks.WARNING):
            self.window.notice_bar.add(result)

    def show_report(self, headline: str) -> QtStartupReport:
        if self.report is not None:
            self.report.close()
        dialog = QtStartupReport(headline, self.report_text(), self.log_dir,
                                 open_url=self.open_url, parent=self.window)
        dialog.sig_quit.connect(self.window.close)
        self.report = dialog
        dialog.open()
        return dialog

    # the backend ------------------------------------------------------------------------
    def _on_client_event(self, event: Event) -> None:
        if event.event == "backend.ready":
            self._on_backend_ready()

    def _on_backend_ready(self) -> None:
        self._hello_timer.stop()
        if not self._gpu_done:
            self._gpu_done = True
            gpus, driver = self.gpu_probe()
            hello = self.client.hello
            if not gpus and hello is not None:  # the backend's own NVML look
                gpus = [d for d in hello.devices if d.get("kind") == "cuda"]
            result = checks.check_gpu(gpus, driver, hello.torch if hello else None,
                                      self.client.ready_info)
            self.results.append(result)
            self._tell(result)
        if self.first_run_offer and not self._offer_done and checks.worst(self.results) \
                != FAILURE:  # downloads into a folder that cannot take them: not now
            self._offer_done = True
            self._maybe_offer_models()

    def _on_hello_timer_timeout(self) -> None:
        if self.client.hello is None:
            self._report_silent_backend()

    def _on_client_crashed(self, _message: str, will_restart: bool) -> None:
        if not will_restart and self.client.hello is None:
            self._report_silent_backend()

    def _report_silent_backend(self) -> None:
        if self._silent_reported:
            return
        self._silent_reported = True
        self._hello_timer.stop()
        command = self.client.process.command  # what was started, for the report
        result = checks.backend_silent(self.hello_timeout_s, self.client.state, command,
                                       self.client.stderr_tail(),
                                       self.client.last_crash_message)
        self.results.append(result)
        self._tell(result)
        self.show_report(f"{result.summary} Without it no job can run.")

    # first run --------------------------------------------------------------------------
    def _maybe_offer_models(self) -> None:
        store = self.window.settings.store
        if first_run.offered(store):
            return

        def got(result: dict) -> None:
            if not first_run.FirstRunPlan.from_list(result).needs_offer():
                first_run.mark_offered(store)  # everything the defaults name is there
                return
            dialog = self.window.open_models_offer(result)
            dialog.finished.connect(lambda _code: first_run.mark_offered(store))

        def failed(err: Error) -> None:
            self.window.log.add("warning", f"Could not list the model files for the "
                                           f"first-run offer: {err.message}", "desktop")

        self.client.request("assets.list", {}, got, failed)


def log_uncaught(log: LogModel) -> None:
    """An exception no slot caught goes to the Log panel and the log file too (a windowed
    Windows executable has no console for Python to print it on)."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        text = "".join(traceback.format_exception(kind, exc, tb)).rstrip()
        log.add("error", f"Unexpected error (please report it with the log file):\n{text}",
                "desktop")
        previous(kind, exc, tb)

    sys.excepthook = hook


def show_crash(traceback_text: str, log_dir: str, data_dir: str | None = None,
               parent: QWidget | None = None,
               open_url: UrlOpener | None = None) -> tuple[QtStartupReport, Path | None]:
    """The window could not start: write a crash report in the log folder and show it."""
    where = data_dir or str(default_data_dir())
    results = checks.local_checks(where, log_dir)
    text = checks.crash_report(traceback_text, results,
                               ReportContext(__version__, where, log_dir))
    try:
        path: Path | None = checks.write_report(text, log_dir)
    except OSError:
        path = None
    saved = f"The report was saved as {path}." if path else "The report could not be saved."
    dialog = QtStartupReport(f"Timbre Studio could not start because of an error. {saved}",
                             text, str(path.parent) if path else log_dir, crash=True,
                             open_url=open_url, parent=parent)
    dialog.show()
    return dialog, path
