"""MainWindow: sidebar of pages, jobs and log docks, backend status, crash banner, menus.

In the status bar, the notice bar (``notice_bar``) shows the start-up checks' notes
and warnings (desktop/ui/launcher.py); Help ▸ Get models… opens the model-download offer.

The crash banner quotes the last error the backend logged; it goes when dismissed (the
window gets its size back) or once a job starts after the backend was restarted.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Hello
from desktop import __version__
from desktop.backend_client import BackendClient
from desktop.components.backend_logic import READY, status_text
from desktop.components.job_handle import JobHandle
from desktop.components.log_file import LogFile
from desktop.components.log_model import LogModel
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings
from desktop.ui.assets_page import QtAssetsPage
from desktop.ui.convert_page import QtConvertPage
from desktop.ui.dataset_page import QtDatasetPage
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.extract_page import QtExtractPage
from desktop.ui.first_run_dialog import QtFirstRunDialog
from desktop.ui.help_menu import QtHelpMenu, UrlOpener
from desktop.ui.jobs_panel import QtJobsPanel
from desktop.ui.labels_page import QtLabelsPage
from desktop.ui.live_page import QtLivePage
from desktop.ui.log_panel import QtLogPanel
from desktop.ui.project_controller import ProjectController
from desktop.ui.project_picker import QtProjectPicker
from desktop.ui.qsettings_store import QSettingsStore
from desktop.ui.speak_page import QtSpeakPage
from desktop.ui.startup_dialog import QtNoticeBar
from desktop.ui.train_page import QtTrainPage
from desktop.ui.waveform_editor import QtWaveformEditor
from desktop.ui.wheel_guard import guard_wheel

DEFAULT_SIZE = QSize(1200, 800)
DOCK_HEIGHT = 120  # the Jobs/Log dock's first height; the user drags it, the size is kept

COMING: dict[str, tuple[str, str]] = {}  # key -> (title, what it will do): none at present


class QtPlaceholderPage(QWidget):
    """A page that is not built yet: says so, and what it will do. No buttons."""

    def __init__(self, title: str, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel(f"<h2>{title}</h2><p><b>Coming in a later release.</b></p><p>{what}</p>")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        self.text = label.text()


def _stderr_level(line: str) -> str:
    for level in ("CRITICAL", "ERROR", "WARNING"):
        if f" {level} " in line or line.startswith(level):
            return level.lower()
    return "info"


class MainWindow(QMainWindow):
    def __init__(self, client: BackendClient, qsettings: QSettings | None = None,
                 parent: QWidget | None = None, *, log_dir: str | None = None,
                 open_url: UrlOpener | None = None) -> None:
        """``log_dir``: where the Log panel's entries are also written (none: no file);
        ``open_url`` opens folders and documents (tests pass their own)."""
        super().__init__(parent)
        self.client = client
        self.qsettings = qsettings or QSettings("TimbreStudio", "Timbre Studio")
        self.settings = AppSettings(QSettingsStore(self.qsettings))
        self.jobs = client.jobs  # the JobBook: the handles the pages follow
        self.log = LogModel()
        self.log_file = LogFile(log_dir) if log_dir else None
        if self.log_file is not None:
            self.log.subscribe(self.log_file.write)
            self.log.add("info", f"Timbre Studio {__version__} started; the log is also "
                                 f"written to {self.log_file.path}")
        self._log_dir, self._open_url = log_dir, open_url
        self.controller = ProjectController(client, self.settings, self)
        self.setObjectName("main_window")
        self.setWindowTitle("Timbre Studio")
        self.resize(DEFAULT_SIZE)
        self._pages: dict[str, QWidget] = {}
        self._size_before_banner: QSize | None = None
        self._banner_restarted = False  # the banner says the backend is back
        self._build_pages()
        self._build_docks()
        self._build_status()
        self._build_menus()
        self._connect()
        guard_wheel(self)
        self._restore_layout()
        self._on_client_state_changed(client.state)

    # construction ------------------------------------------------------------------
    def _build_pages(self) -> None:
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
        self.stack = QStackedWidget()
        self.picker = QtProjectPicker(self.controller, self.settings)
        self.dataset_page = QtDatasetPage(self.client, self.controller, self.settings)
        self.add_page("project", "Project", self.picker)
        self.add_page("dataset", "Dataset", self.dataset_page)
        self.waveform_editor = QtWaveformEditor(self.client)
        self.dataset_page.attach_editor(self.waveform_editor)
        self.labels_page = QtLabelsPage(self.client, self.controller, self.settings)
        self.add_page("label", "Label", self.labels_page)
        self.extract_page = QtExtractPage(self.client, self.controller, self.settings)
        self.add_page("extract", "Extract", self.extract_page)
        self.train_page = QtTrainPage(self.client, self.controller, self.settings)
        self.add_page("train", "Train", self.train_page)
        self.convert_page = QtConvertPage(self.client, self.controller, self.settings)
        self.add_page("convert", "Convert", self.convert_page)
        self.live_page = QtLivePage(self.client, self.controller, self.settings,
                                    open_url=self._open_url)
        self.add_page("live", "Live", self.live_page)
        self.speak_page = QtSpeakPage(self.client, self.controller, self.settings)
        self.add_page("speak", "Speak", self.speak_page)
        self.assets_page = QtAssetsPage(self.client, self.settings)
        self.add_page("assets", "Models & assets", self.assets_page)
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.banner = self._build_banner()
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.banner)
        row = QHBoxLayout()
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        outer.addLayout(row, 1)
        self.setCentralWidget(central)
        self.sidebar.setCurrentRow(0)
        self._fit_sidebar()

    def _fit_sidebar(self) -> None:
        """As wide as the longest page title, never cut ("Models & a")."""
        frame = 2 * self.sidebar.frameWidth()
        width = self.sidebar.sizeHintForColumn(0) + frame + self.sidebar.spacing() + 8
        self.sidebar.setFixedWidth(max(width, 100))

    @staticmethod
    def _placeholder(key: str) -> tuple[str, QtPlaceholderPage]:
        title, what = COMING[key]
        return title, QtPlaceholderPage(title, what)

    def add_page(self, key: str, title: str, widget: QWidget) -> None:
        """Add a sidebar page, or replace the page with this key (e.g. a placeholder)."""
        old = self._pages.get(key)
        if old is not None:
            index = self.stack.indexOf(old)
            self.stack.removeWidget(old)
            old.deleteLater()
            self.stack.insertWidget(index, widget)
            self.sidebar.item(index).setText(title)
            if self.sidebar.currentRow() == index:
                self.stack.setCurrentIndex(index)
        else:
            self.stack.addWidget(widget)
            self.sidebar.addItem(title)
        self._pages[key] = widget
        guard_wheel(widget)
        if hasattr(self, "banner"):  # a page added after construction
            self._fit_sidebar()

    def page(self, key: str) -> QWidget:
        return self._pages[key]

    def page_keys(self) -> list[str]:
        """The pages' keys in sidebar order."""
        order = {self.stack.indexOf(w): k for k, w in self._pages.items()}
        return [order[i] for i in sorted(order)]

    def show_page(self, key: str) -> None:
        index = self.stack.indexOf(self._pages[key])
        self.sidebar.setCurrentRow(index)
        self.stack.setCurrentIndex(index)

    def current_page_key(self) -> str:
        current = self.stack.currentWidget()
        return next(k for k, w in self._pages.items() if w is current)

    def _build_banner(self) -> QFrame:
        banner = QFrame()
        banner.setObjectName("crash_banner")
        banner.setStyleSheet("#crash_banner { background: #fdecea; border: 1px solid #e0a0a0; }")
        self.banner_label = QtElidedLabel(lines=6)
        self.restart_button = QPushButton("Restart backend")
        self.restart_button.clicked.connect(self._on_restart_triggered)
        self.dismiss_button = dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.hide_banner)
        layout = QHBoxLayout(banner)
        layout.addWidget(self.banner_label, 1)
        layout.addWidget(self.restart_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
        banner.hide()
        return banner

    def _build_docks(self) -> None:
        self.jobs_panel = QtJobsPanel(self.jobs, self._cancel_job)
        self.jobs_dock = QDockWidget("Jobs", self)
        self.jobs_dock.setObjectName("jobs_dock")
        self.jobs_dock.setWidget(self.jobs_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.jobs_dock)
        self.log_panel = QtLogPanel(self.log)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log_dock")
        self.log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.tabifyDockWidget(self.jobs_dock, self.log_dock)
        self.jobs_dock.raise_()
        self.resizeDocks([self.jobs_dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)

    def _build_status(self) -> None:
        self.backend_status = QtElidedLabel()
        self.backend_status.setObjectName("backend_status")
        self.statusBar().addPermanentWidget(self.backend_status)
        self.notice_bar = QtNoticeBar()  # a temporary status message covers it a while
        self.statusBar().addWidget(self.notice_bar, 1)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, slot in (("&New project…", self.picker.new_project),
                           ("&Open project…", self.picker.open_project_dialog)):
            action = QAction(text, self)
            action.triggered.connect(slot)
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view = self.menuBar().addMenu("&View")
        view.addAction(self.jobs_dock.toggleViewAction())
        view.addAction(self.log_dock.toggleViewAction())
        backend = self.menuBar().addMenu("&Backend")
        self.restart_action = QAction("&Restart backend", self)
        self.restart_action.triggered.connect(self._on_restart_triggered)
        backend.addAction(self.restart_action)
        self.help = QtHelpMenu(self, self.client, self._log_dir, self._open_url)
        self.get_models_action = QAction("&Get models…", self)
        self.get_models_action.triggered.connect(self.get_models)
        self.help.menu.addAction(self.get_models_action)
        self.first_run_dialog: QtFirstRunDialog | None = None

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_projects():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.picker.open_path(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _connect(self) -> None:
        c = self.client
        c.state_changed.connect(self._on_client_state_changed)
        c.sig_hello.connect(self._on_client_hello)
        c.sig_log.connect(lambda level, msg: self.log.add(level, msg, "backend"))
        c.sig_stderr.connect(lambda line: self.log.add(_stderr_level(line), line, "stderr"))
        c.sig_crashed.connect(self._on_client_crashed)
        self.jobs.subscribe(self._on_job_changed)
        self.controller.project_changed.connect(self._on_controller_project_changed)
        self.controller.sig_error.connect(self._on_controller_error)

    # backend -> view -----------------------------------------------------------------
    def _on_client_state_changed(self, state: str) -> None:
        self.backend_status.setText(status_text(state, self.client.hello))
        if state == READY and not self.banner.isHidden():
            self.banner_label.setText("The backend was restarted after a crash; jobs that were "
                                      "running were lost (start them again to resume).\n"
                                      + self.client.last_crash_message)
            self.restart_button.hide()
            self._banner_restarted = True

    def _on_client_hello(self, _hello: Hello) -> None:
        self.backend_status.setText(status_text(self.client.state, self.client.hello))

    def _on_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        if event == "job.started" and self._banner_restarted:
            self.hide_banner()  # work resumed after the restart: the banner is old news
        if event == "job.finished":
            level = "error" if job.state == "failed" else "info"
            detail = f": {job.error_message}" if job.error_message else ""
            self.log.add(level, f"{job.kind} job {job.job_id} {job.state}{detail}", "jobs")

    def _on_client_crashed(self, message: str, will_restart: bool) -> None:
        heading = "The backend stopped unexpectedly" + (
            "; restarting it…" if will_restart else " and was not restarted.")
        self.banner_label.setText(f"{heading}\n{message}")
        self.restart_button.setVisible(not will_restart)
        if self.banner.isHidden():
            self._size_before_banner = self.size()
        self._banner_restarted = False
        self.banner.show()
        self.statusBar().showMessage(heading, 10_000)

    def hide_banner(self) -> None:
        """Dismiss (or outdate) the crash banner; the window gets its size back."""
        self._banner_restarted = False
        if self.banner.isHidden():
            return
        self.banner.hide()
        size, self._size_before_banner = self._size_before_banner, None
        if size is not None and not self.isMaximized() and not self.isFullScreen():
            self.centralWidget().layout().activate()
            self.layout().activate()  # the banner's height leaves the minimum size first
            self.resize(size)

    def _on_restart_triggered(self) -> None:
        self.hide_banner()
        self.client.restart()

    def _cancel_job(self, job: JobHandle) -> None:
        self.client.cancel_job(job)
        self.log.add("info", f"cancel requested for {job.job_id or job.kind + ' job'}",
                     "desktop")

    # project -----------------------------------------------------------------------------
    def _on_controller_project_changed(self, state: ProjectState | None) -> None:
        self.setWindowTitle(f"Timbre Studio — {state.name}" if state else "Timbre Studio")
        if state is not None and self.current_page_key() == "project":
            self.show_page("dataset")

    # model downloads (Help ▸ Get models…, the first run) ----------------------------------
    def get_models(self) -> str:
        """Ask ``assets.list``, then open the offer (the request waits for the backend)."""
        return self.client.request("assets.list", {}, self.open_models_offer,
                                   lambda err: self._on_controller_error(
                                       f"Could not list the model files: {err.message}"))

    def open_models_offer(self, result: dict) -> QtFirstRunDialog:
        dialog = QtFirstRunDialog(result, self.assets_page.download, self)
        dialog.accepted.connect(lambda: dialog.jobs and self.show_page("assets"))
        self.first_run_dialog = dialog
        dialog.open()
        return dialog

    def _on_controller_error(self, message: str) -> None:
        self.log.add("error", message, "desktop")
        self.statusBar().showMessage(message, 15_000)

    # persistence ---------------------------------------------------------------------------
    def _splitters(self) -> list[QSplitter]:
        """Every named splitter of the pages: their sizes are kept between runs."""
        return [sp for sp in self.findChildren(QSplitter) if sp.objectName()]

    def _restore_layout(self) -> None:
        geometry = self.settings.layout_state("window.geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.layout_state("window.state")
        if state is not None:
            self.restoreState(state)
        for splitter in self._splitters():
            saved = self.settings.layout_state(f"splitter.{splitter.objectName()}")
            if saved is not None:
                splitter.restoreState(saved)

    def save_layout(self) -> None:
        self.settings.set_layout_state("window.geometry", self.saveGeometry().data())
        self.settings.set_layout_state("window.state", self.saveState().data())
        for splitter in self._splitters():
            self.settings.set_layout_state(f"splitter.{splitter.objectName()}",
                                           splitter.saveState().data())
        self.qsettings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.save_layout()
        super().closeEvent(event)

    def open_initial_project(self) -> None:
        """Open the last project if its folder still exists, else show the picker."""
        last = self.settings.last_project()
        if last and Path(last).is_dir():
            self.controller.open(last)
        else:
            self.show_page("project")
