"""QtLivePage: speak into the microphone and hear the model's voice, with honest numbers.

The page lists the voice models (``models.list``, the open project's exports and the
library) and the audio devices (``live.devices``: input and output each by host API and
device, ``QtDevicePicker``). Start asks ``live.devices`` again (PortAudio renumbers
devices whenever one is plugged in), finds the chosen devices by name and starts the
``live`` job; its ``JobHandle`` events drive a ``LiveSession`` (state, latency, compute,
xruns, dropped blocks, levels), which the page repaints on a timer when its revision
moved. Sliders send ``job.control`` while the stream runs (debounced, one request at a
time, ``LiveControls``); a change the backend can only apply on a restart says so, and
Restart applies it. When the stream stops by itself (a device went away) Restart starts
it again, with the device found again by name once it is back. F5 starts and stops,
Ctrl+B toggles bypass, while the page is shown.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Error
from backend.resources import doc
from desktop.backend_client import BackendClient
from desktop.components.job_handle import JobHandle
from desktop.components.live_controls import (
    SETTINGS_KEY,
    LiveControls,
    StartChoice,
    Stored,
    job_args,
    load_stored,
    models_from_result,
    to_stored,
)
from desktop.components.live_devices import (
    INPUT,
    OUTPUT,
    DeviceList,
    Remembered,
    exclusive_possible,
)
from desktop.components.live_session import (
    LiveSession,
)
from desktop.components.request_book import InFlight
from desktop.components.settings import AppSettings
from desktop.ui.help_menu import UrlOpener
from desktop.ui.live_pickers import QtDevicesBox, QtVoiceBox
from desktop.ui.live_widgets import QtLiveControlsBox, QtLiveReadout
from desktop.ui.project_controller import ProjectController
from desktop.ui.scrolling import vertical_scroll

DOCS = doc("live.md")
START_KEY, BYPASS_KEY = "F5", "Ctrl+B"
DEBOUNCE_MS = 150
REPAINT_MS = 100


class QtLivePage(QWidget):
    def __init__(self, client: BackendClient, controller: ProjectController,
                 settings: AppSettings | None = None, parent: QWidget | None = None, *,
                 open_url: UrlOpener | None = None) -> None:
        super().__init__(parent)
        self.client, self.controller, self.app_settings = client, controller, settings
        self.open_url: UrlOpener = open_url or QDesktopServices.openUrl
        self.stored = load_stored(settings.store.get(SETTINGS_KEY) if settings else None)
        self.session = LiveSession()
        self.controls = LiveControls()
        self.controls.load(self.stored.controls)
        self.devices = DeviceList([], [])
        self.devices_loaded = self.models_loaded = False
        self.job: JobHandle | None = None
        self._sent_args: dict[str, Any] = {}  # the running job's start arguments
        self._stream_values: dict[str, Any] = {}  # its controls as the backend applied them
        self._pending_start = False  # Start pressed, waiting for live.devices
        self._again: dict[str, Remembered | None] = {}  # Restart: the lost stream's devices
        self._restart_after_stop = False
        self._asked = InFlight()
        self._shown_revision = -1
        self._build()
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._send_controls)
        self._repaint = QTimer(self, interval=REPAINT_MS)
        self._repaint.timeout.connect(self.repaint_numbers)
        controller.project_changed.connect(lambda _s: self.refresh_models())
        self._update_controls()

    # layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        form = QWidget()
        col = QVBoxLayout(form)
        voice = QtVoiceBox(self.stored.f0_method)
        self.model_picker, self.pitch = voice.model_picker, voice.pitch
        self.models_refresh_btn, self.models_label = voice.refresh_btn, voice.models_label
        self.model_picker.activated.connect(lambda _i: self._save())
        self.pitch.activated.connect(lambda _i: self._save())
        self.models_refresh_btn.clicked.connect(lambda: self.refresh_models(force=True))
        devices = QtDevicesBox(self.stored.exclusive, str(DOCS))
        self.pickers, self.exclusive = devices.pickers, devices.exclusive
        self.devices_label, self.cables_btn = devices.note, devices.cables_btn
        self.devices_refresh_btn = devices.refresh_btn
        for picker in self.pickers.values():
            picker.changed.connect(self._on_devices_chosen)
        self.exclusive.toggled.connect(lambda _c: self._save())
        self.devices_refresh_btn.clicked.connect(lambda: self.refresh_devices(force=True))
        self.cables_btn.clicked.connect(self.open_docs)
        col.addWidget(voice)
        col.addWidget(devices)
        self.controls_box = QtLiveControlsBox(self.controls, BYPASS_KEY)
        self.controls_box.changed.connect(self._on_control_changed)
        self.sliders, self.switches = self.controls_box.sliders, self.controls_box.switches
        col.addWidget(self.controls_box)
        col.addStretch(1)
        self.form_scroll = vertical_scroll(form)
        layout = QHBoxLayout(self)
        layout.addWidget(self.form_scroll, 3)
        self.readout = r = QtLiveReadout(START_KEY)
        r.start_btn.clicked.connect(self.toggle)
        r.restart_btn.clicked.connect(self.restart)
        self.start_btn, self.restart_btn, self.status_label = r.start_btn, r.restart_btn, \
            r.status_label
        self.input_meter, self.output_meter = r.input_meter, r.output_meter
        self.latency_label, self.compute_label = r.latency_label, r.compute_label
        self.counters_label, self.warning_label = r.counters_label, r.warning_label
        self.negotiated_label, self.restart_note = r.negotiated_label, r.restart_note
        layout.addWidget(r, 2)
        self._build_shortcuts()

    def _build_shortcuts(self) -> None:
        self.shortcuts: list[QShortcut] = []
        for key, slot in ((START_KEY, self.toggle), (BYPASS_KEY, self.toggle_bypass)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)  # the page shown, any focus
            sc.activated.connect(slot)
            self.shortcuts.append(sc)

    # lists ----------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._repaint.start()
        if not self.models_loaded:
            self.refresh_models(force=True)
        self.refresh_devices()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(event)
        self._repaint.stop()

    def refresh_models(self, force: bool = False) -> None:
        """Ask ``models.list`` while the page is shown (else when it is next shown)."""
        if not force and not self.isVisible():
            self.models_loaded = False  # the project changed: ask again when shown
            return
        state = self.controller.state
        args = {"project": state.path} if state else {}
        self._asked.ask("models.list",
                        lambda ok, err: self.client.request("models.list", args, ok, err),
                        self._on_models, lambda e: self.models_label.setText(
                            f"Could not list the voice models: {e.message}"))

    def _on_models(self, result: dict[str, Any]) -> None:
        self.models_loaded = True
        models = models_from_result(result)
        current = self.model_picker.model()
        self.model_picker.set_models(models, current.path if current else self.stored.model)
        self.models_label.setText("" if models else "No voice model yet: export one from "
                                  "the Train page, or import one on the Convert page.")
        self._update_controls()

    def refresh_devices(self, force: bool = False) -> None:
        """Ask ``live.devices`` (once while it is on its way)."""
        if self.devices_loaded and not force:
            return
        self._asked.ask("live.devices", lambda ok, err: self.client.request(
            "live.devices", {}, ok, err), self._on_devices, self._on_devices_error)

    def _on_devices(self, result: dict[str, Any]) -> None:
        self.devices_loaded = True
        self.devices = DeviceList.from_result(result)
        picks = []
        for direction, picker in self.pickers.items():
            remembered = (self._again.get(direction) or picker.remembered()
                          or self.stored.remembered(direction))
            picks.append(picker.set_devices(self.devices, remembered))
        self.devices_label.setText("\n".join(p.note for p in picks if p.note))
        missing = " ".join(p.note for p in picks if p.missing)
        if self._pending_start:
            self._pending_start = False
            self._start_job(missing)
        self._update_controls()

    def _on_devices_error(self, err: Error) -> None:
        self.devices_label.setText(f"Could not list the audio devices: {err.message}")
        if self._pending_start:
            self._pending_start = False
            self.session.refused(f"could not list the audio devices: {err.message}")
        self._update_controls()

    def _on_devices_chosen(self) -> None:
        self._save()
        self._update_controls()

    # start, stop, restart -----------------------------------------------------------------
    def choice(self) -> StartChoice:
        i, o = self.pickers[INPUT], self.pickers[OUTPUT]
        return StartChoice(self.model_picker.model(), str(self.pitch.currentData()),
                           i.device(), i.host_api(), o.device(), o.host_api(),
                           self.exclusive.isChecked())

    def toggle(self) -> None:
        """Start, or Stop while the stream runs (F5)."""
        if self.session.active:
            self.stop()
        else:
            self.start()

    def start(self, *, again: bool = False) -> None:
        """List the devices afresh, find the chosen ones by name, then start the job.
        ``again`` (Restart after the stream stopped by itself): the devices it used."""
        blocker = self.choice().blocker()
        if blocker:
            self.status_label.setText(blocker)
            return
        if not again:
            self._again = {}
            self.session.begin()
        self._pending_start = True
        self.refresh_devices(force=True)
        self._update_controls()

    def _start_job(self, missing: str) -> None:
        choice = self.choice()
        if self._again and missing:  # Restart: the device is still gone; Restart stays
            names = ", ".join(f"“{r.device}” ({r.host_api})" for r in self._again.values()
                              if r is not None and self.devices.find(self._dir(r), r) is None)
            self.devices_label.setText(f"Still not connected: {names}. Plug it back in and "
                                       "press Restart, or press Start to use the devices "
                                       "selected now.")
            return
        blocker = choice.blocker() or missing
        if blocker:  # a chosen device is gone (the note says which)
            self.session.refused(blocker)
            return
        self._again = {}
        self.session.begin()
        self._sent_args = job_args(choice, self.controls)
        self._stream_values = dict(self._sent_args)
        self.job = self.client.start_job("live", self._sent_args)
        self.job.subscribe(self._on_job_changed)

    def _dir(self, remembered: Remembered) -> str:
        return next(d for d, r in self._again.items() if r is remembered)

    def stop(self) -> None:
        if self._pending_start:  # stopped before the device list came back
            self._pending_start = False
            self.session.reset()
            self._update_controls()
            return
        if self.job is None or not self.session.active:
            return
        self.session.request_stop()
        self.client.cancel_job(self.job)
        self._update_controls()

    def restart(self) -> None:
        """Start again (a stopped stream), or stop and start again (new block size)."""
        if self.session.active:
            self._restart_after_stop = True
            self.stop()
        elif self.session.restart_offered:
            if not self._again:
                self._again = {d: p.remembered() for d, p in self.pickers.items()}
            self.start(again=True)
        else:
            self.start()

    def _on_job_changed(self, job: JobHandle, event: str, data: dict[str, Any]) -> None:
        if job is not self.job:
            return
        if event == "refused":
            self.session.refused(job.error_message)
        elif event == "job.started":
            self.session.job_id = job.job_id
            self.controls.stream_started(self._sent_args)
            self._schedule_controls()
        elif self.session.apply(event, data) == "live.stats":
            return  # the numbers repaint on the timer
        if self.session.finished and self._restart_after_stop:
            self._restart_after_stop = False
            QTimer.singleShot(0, self.start)
        self.repaint_numbers()  # a state change shows at once

    # live controls --------------------------------------------------------------------------
    def _on_control_changed(self, name: str, value: float | bool) -> None:
        running = self.session.active and self.job is not None and self.job.job_id is not None
        if self.controls.set(name, value, running=running):
            self._schedule_controls()
            self._save()

    def toggle_bypass(self) -> None:
        """Ctrl+B: hear yourself unconverted, or converted again."""
        box = self.switches["bypass"]
        box.setChecked(not box.isChecked())

    def _schedule_controls(self) -> None:
        if self.controls.pending:
            self._debounce.start()

    def _send_controls(self) -> None:
        if self.job is None or not self.job.job_id or self.job.finished:
            return
        values = self.controls.take_pending()
        if values is None:
            return
        self.client.request("job.control", {"job_id": self.job.job_id, "values": values},
                            self._on_control_result, self._on_control_error)

    def _on_control_result(self, result: dict[str, Any]) -> None:
        later = self.controls.on_result(result)
        applied = result.get("applied")
        if isinstance(applied, dict):
            self._stream_values.update({k: v for k, v in applied.items() if k not in later})
        self._schedule_controls()
        self._update_controls()

    def _on_control_error(self, err: Error) -> None:
        self.controls.on_error(err.message)
        self._schedule_controls()
        self._update_controls()

    # view ------------------------------------------------------------------------------------
    def open_docs(self) -> bool:
        return bool(self.open_url(QUrl.fromLocalFile(str(DOCS))))

    def _save(self) -> None:
        if self.app_settings is None:
            return
        model = self.model_picker.model()
        self.stored = Stored(model.path if model else self.stored.model,
                             str(self.pitch.currentData()),
                             self.pickers[INPUT].remembered() or self.stored.input,
                             self.pickers[OUTPUT].remembered() or self.stored.output,
                             self.exclusive.isChecked(), self.controls.to_stored())
        self.app_settings.store.set(SETTINGS_KEY, to_stored(self.stored))

    def repaint_numbers(self) -> None:
        """The readout, when the session or the controls changed since the last repaint."""
        revision = self.session.revision * 100_000 + self.controls.revision
        if revision == self._shown_revision:
            return
        self._shown_revision = revision
        crossfade = float(self._stream_values.get("crossfade",
                                                  self.controls.values["crossfade"]))
        self.readout.show_session(self.session, crossfade * 1000)
        self._update_controls()

    def _update_controls(self) -> None:
        s = self.session
        busy = s.active or self.job is not None and self.job.active
        self.start_btn.setText("Stop" if busy else "Start")
        blocker = "" if busy else self.choice().blocker()
        self.start_btn.setEnabled(not blocker)
        self.start_btn.setToolTip(blocker or f"Start or stop the stream ({START_KEY})")
        self.restart_btn.setVisible(s.restart_offered or bool(self.controls.needs_restart
                                                              and s.active))
        for w in (self.model_picker, self.pitch, *self.pickers.values(),
                  self.models_refresh_btn, self.devices_refresh_btn):
            w.setEnabled(not busy)
        apis = (self.pickers[INPUT].host_api(), self.pickers[OUTPUT].host_api())
        self.exclusive.setVisible(exclusive_possible(*apis))
        self.exclusive.setEnabled(not busy)
        note = self.controls.restart_text() if s.active else ""
        self.restart_note.setText(" ".join(t for t in (note, self.controls.problem) if t))
