"""QtWaveformEditor: waveform + spectrogram editor of one source or slice.

A view of an ``EditModel``. The backend analyses the file (``audio.analyze``,
an .npz of min/max envelope levels and a spectrogram) and plays it
(``audio.play``/``audio.stop``, with ``audio.position`` events); edits are
saved with ``project.set_edits`` after every change. The playhead and the
envelope are repainted by a QTimer every ``REPAINT_MS``, never per event.
The plots and what is drawn on them are ``QtEditorPlots`` (waveform_plots.py);
the view arithmetic is Qt-free in desktop/components/editor_view.py.

Mouse: left-drag selects, click places the cursor, wheel zooms, right-drag or
the scroll bar scrolls. Keys: Space play, Esc stop, S split, T trim, Del
delete, Ctrl+Z undo, Ctrl+Shift+Z / Ctrl+Y redo.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QHBoxLayout, QScrollBar, QToolButton, QVBoxLayout, QWidget

from desktop.components.edit_model import EditModel, EditRefused
from desktop.components.editor_view import (
    SCROLL_STEPS,
    enabled_actions,
    inner_boundaries,
    pending_changes,
    play_range,
    scroll_geometry,
    view_split_points,
)
from desktop.components.waveform_data import WaveformData
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.f0_overlay import QtF0Overlay
from desktop.ui.waveform_actions import add_buttons, add_shortcuts
from desktop.ui.waveform_plots import SHADE, QtEditorPlots, set_scroll_bar

REPAINT_MS = 50

__all__ = ["REPAINT_MS", "SCROLL_STEPS", "SHADE", "QtWaveformEditor"]


class QtWaveformEditor(QWidget):
    segments_changed = Signal(str, object)  # source_id, segments (list or None)

    def __init__(self, client: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self.model: EditModel | None = None
        self.data: WaveformData | None = None
        self._project = ""
        self._audio_path = ""
        self._play_id: int | None = None
        self._playhead_t: float | None = None  # last reported, painted by the timer
        self._wave_dirty = False
        self._prepared: Any = None  # the segments the prepared clips were cut with
        self._info = ""  # what the status line says when nothing else needs saying
        self._play_error = False  # the status shows a failed playback
        self._build_ui()
        client.sig_event.connect(self._on_client_event)
        self._timer = QTimer(self)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self._on_timer_tick)
        self._timer.start()
        self._update_buttons()

    # construction ----------------------------------------------------------
    def _build_ui(self) -> None:
        self.title = QtElidedLabel("No recording open", elide=Qt.TextElideMode.ElideMiddle)
        self.status = QtElidedLabel("")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.status, 1)
        self.pending_label = QtElidedLabel("")
        self.pending_label.setObjectName("editor_pending")
        self.pending_label.setStyleSheet("color: #b36b00;")
        self.pending_label.setVisible(False)
        bar = QHBoxLayout()
        self.buttons: dict[str, QToolButton] = add_buttons(bar, self._action_slots())
        bar.addWidget(self.pending_label, 2)  # elides before it widens the editor
        bar.addStretch(1)
        self._build_plots()
        self.f0 = QtF0Overlay(self.spec_plot)  # pitch over the spectrogram, see show_f0
        bar.addWidget(self.f0)
        self.scroll = QScrollBar(Qt.Orientation.Horizontal)
        self.scroll.valueChanged.connect(self._on_scroll_value)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.scroll)
        self.shortcuts: list[QShortcut] = add_shortcuts(self, self._action_slots())

    def _build_plots(self) -> None:
        self.plots = QtEditorPlots()
        # the plot items, as attributes of the editor too
        self.wave_vb, self.wave_plot = self.plots.wave_vb, self.plots.wave_plot
        self.spec_vb, self.spec_plot = self.plots.spec_vb, self.plots.spec_plot
        self.wave_curve, self.spec_image = self.plots.wave_curve, self.plots.spec_image
        self.region = self.plots.region
        self.cursor_lines, self.playheads = self.plots.cursor_lines, self.plots.playheads
        self._overlays = self.plots.overlays
        self.region.sigRegionChangeFinished.connect(self._on_region_changed)
        for vb in (self.wave_vb, self.spec_vb):
            vb.sig_clicked.connect(self._on_view_clicked)
            vb.sig_dragged.connect(self._on_view_dragged)
        self.wave_vb.sigXRangeChanged.connect(self._on_wave_range_changed)

    def _action_slots(self) -> dict[str, Callable[[], Any]]:
        return {"play": self.play_selection, "stop": self.stop, "split": self.split_at_cursor,
                "trim": self.trim_to_selection, "delete": self.delete_selection,
                "undo": self.undo, "redo": self.redo, "fit": self.zoom_to_fit}

    # opening ---------------------------------------------------------------
    def open_source(self, project_path: str, source: dict, segments: list | None,
                    cache_dir: str, prepared: list | None = None) -> None:
        """Show a whole recording; edits are in its own time. ``prepared``: the segments
        its prepared clips were cut with (None: the whole file), to mark pending edits."""
        self._reset(project_path, str(source["path"]), str(source.get("name") or source["path"]))
        self._prepared = prepared

        def make(info: dict) -> EditModel:
            duration = float(source.get("duration") or info["duration"])
            return EditModel.for_source(str(source["id"]), duration, segments)

        self._analyze(cache_dir, make)

    def open_slice(self, project_path: str, slice: dict, segments: list | None,
                   cache_dir: str, prepared: list | None = None) -> None:
        """Show one prepared clip; edits are saved to its source, in source time."""
        path = Path(slice["path"])
        if not path.is_absolute():
            path = Path(project_path) / path
        self._reset(project_path, str(path), f"{slice.get('name', path.name)} (slice)")
        self._prepared = prepared
        start, end = float(slice["start"]), float(slice["end"])
        sid = str(slice["source"])

        def make_with(source_duration: float) -> Callable[[dict], EditModel]:
            return lambda info: EditModel.for_slice(sid, start, end, source_duration, segments)

        if slice.get("source_duration"):
            self._analyze(cache_dir, make_with(float(slice["source_duration"])))
            return

        def on_project(res: dict) -> None:
            src = next((s for s in res.get("sources", []) if s.get("id") == sid), None)
            if src is None or not src.get("duration"):
                self._set_status(f"the source of this slice ({sid}) is not in the project; "
                                 "edits are disabled")
                return
            self._analyze(cache_dir, make_with(float(src["duration"])))

        self._client.request("project.open", {"path": project_path}, on_result=on_project,
                             on_error=self._on_request_error)

    def _reset(self, project_path: str, audio_path: str, title: str) -> None:
        if self._play_id is not None or self._playhead_t is not None:
            self.stop()
        self._project = project_path
        self._audio_path = audio_path
        self.model = None
        self.data = None
        self.title.setText(title)
        self.pending_label.setVisible(False)
        self.f0.clear()
        self._set_status("analysing…")
        self._update_buttons()

    def _analyze(self, cache_dir: str, make: Callable[[dict], EditModel]) -> None:
        path = self._audio_path

        def on_result(info: dict) -> None:
            if path != self._audio_path:
                return  # another file was opened meanwhile
            self.data = WaveformData.load(info["data"])
            self.model = make(info)
            self._show_data()

        self._client.request("audio.analyze", {"path": path, "cache_dir": cache_dir},
                             on_result=on_result, on_error=self._on_request_error)

    def _show_data(self) -> None:
        data, model = self.data, self.model
        assert data is not None and model is not None
        self.plots.show_data(data, model.duration)
        self.f0.set_fmax(data.spec_fmax)
        self.zoom_to_fit()
        self._refresh_edits()
        self._info = f"{model.duration:.2f} s, {data.sample_rate} Hz"
        self._set_status(self._info)

    def set_prepared(self, prepared: list | None) -> None:
        """The source was prepared again (with these segments): redraw what is pending."""
        self._prepared = prepared
        self._refresh_edits()

    def show_f0(self, f0_info: dict | None) -> None:
        """Draw a ``features.f0`` result over the spectrogram (None: no pitch here)."""
        self.f0.set_f0(f0_info)

    # view ------------------------------------------------------------------
    def zoom_to_fit(self) -> None:
        if self.model is not None:
            self.plots.set_time_range(0.0, self.model.duration)

    def view_range(self) -> tuple[float, float]:
        return self.plots.view_range()

    def _on_wave_range_changed(self, *_: Any) -> None:
        self._wave_dirty = True
        if self.model is not None:
            set_scroll_bar(self.scroll, scroll_geometry(self.model.duration, *self.view_range()))

    def _on_scroll_value(self, value: int) -> None:
        if self.model is not None:
            self.plots.scroll_to(self.model.duration, value)

    def _on_timer_tick(self) -> None:
        if self._wave_dirty and self.data is not None:
            self._wave_dirty = False
            self.plots.draw_envelope(self.data)
        self.plots.show_playhead(self._playhead_t)

    # mouse -----------------------------------------------------------------
    def _on_view_clicked(self, t: float) -> None:
        if self.model is None:
            return
        self.model.set_cursor(t)
        self.model.set_selection(None)
        self._refresh_marks()

    def _on_view_dragged(self, a: float, b: float, finished: bool) -> None:
        if self.model is None:
            return
        self.model.set_selection(a, b)
        self._refresh_marks()

    def _on_region_changed(self, *_: Any) -> None:
        if self.model is not None and self.region.isVisible():
            a, b = self.region.getRegion()
            self.model.set_selection(a, b)
            self._update_buttons()

    def set_selection(self, a: float | None, b: float | None = None) -> None:
        if self.model is not None:
            self.model.set_selection(a, b)
            self._refresh_marks()

    def set_cursor(self, t: float | None) -> None:
        if self.model is not None:
            self.model.set_cursor(t)
            self._refresh_marks()

    def _refresh_marks(self) -> None:
        model = self.model
        self.plots.show_marks(model.selection if model else None,
                              model.cursor if model else None)
        self._update_buttons()

    # edits -----------------------------------------------------------------
    def split_at_cursor(self) -> None:
        if self.model is None or self.model.cursor is None:
            self._set_status("click in the waveform to place the cursor, then split")
            return
        self._edit(lambda m: m.split_at(m.cursor), "split")

    def trim_to_selection(self) -> None:
        self._edit_selection("trim", lambda m, a, b: m.trim(a, b))

    def delete_selection(self) -> None:
        self._edit_selection("delete", lambda m, a, b: m.delete(a, b))

    def undo(self) -> None:
        self._edit(lambda m: m.undo(), "undo")

    def redo(self) -> None:
        self._edit(lambda m: m.redo(), "redo")

    def _edit_selection(self, what: str, op: Callable[[EditModel, float, float], bool]) -> None:
        if self.model is None or self.model.selection is None:
            self._set_status(f"drag across the waveform to select a region to {what}")
            return
        a, b = self.model.selection
        self._edit(lambda m: op(m, a, b), what)

    def _edit(self, op: Callable[[EditModel], bool], what: str) -> None:
        model = self.model
        if model is None:
            return
        try:
            changed = op(model)
        except EditRefused as exc:
            self._set_status(str(exc))
            return
        if not changed:
            self._set_status(f"nothing to {what} here")
            return
        self._refresh_edits()
        segments = model.to_json()
        self.segments_changed.emit(model.source_id, segments)
        self._client.request("project.set_edits",
                             {"path": self._project, "source_id": model.source_id,
                              "segments": segments},
                             on_result=lambda _r: self._set_status(f"{what}: saved"),
                             on_error=self._on_request_error)

    def _refresh_edits(self) -> None:
        self.plots.clear_edits()
        model = self.model
        if model is None:
            return
        splits = view_split_points(model)
        self.plots.draw_edits(model.removed_regions(),
                              [t for t in inner_boundaries(model)
                               if not any(abs(t - s) < 1e-6 for s in splits)])
        pending = pending_changes(model, self._prepared)
        self.plots.draw_markers(splits, pending.regions, pending.splits)
        self.pending_label.setText("edits not prepared yet: run Prepare to apply them"
                                   if pending else "")
        self.pending_label.setToolTip("The orange marks show what the prepared clips do not "
                                      "have yet.")
        self.pending_label.setVisible(bool(pending))
        self._refresh_marks()

    def pending(self) -> Any:
        """The edits the prepared clips do not have yet (``editor_view.Pending``)."""
        return pending_changes(self.model, self._prepared) if self.model else None

    # playback --------------------------------------------------------------
    def play_selection(self) -> None:
        model = self.model
        if model is None:
            return
        start, end = play_range(model)
        self._play_id = None

        def on_result(res: dict) -> None:
            self._play_id = res.get("play_id")
            self._playhead_t = start
            self._clear_play_error()

        def on_error(err: Any) -> None:
            self._set_status(f"could not play: {getattr(err, 'message', err)}")
            self._play_error = True

        self._client.request("audio.play", {"path": self._audio_path, "start": start,
                                            "end": end},
                             on_result=on_result, on_error=on_error)

    def _clear_play_error(self) -> None:
        """Playback works again: the audio-device error is no longer true."""
        if self._play_error:
            self._play_error = False
            self._set_status(self._info)

    def stop(self) -> None:
        self._client.request("audio.stop", {}, on_error=self._on_request_error)

    def playhead(self) -> float | None:
        """Where the painted playhead is (None when hidden)."""
        return self.plots.playhead()

    def _on_client_event(self, ev: Any) -> None:
        if ev.event not in ("audio.position", "audio.finished"):
            return
        pid = ev.data.get("play_id")
        if self._play_id is not None and pid is not None and pid != self._play_id:
            return  # a previous playback
        if ev.event == "audio.finished" or not ev.data.get("playing", True):
            self._playhead_t = None
        else:
            self._playhead_t = float(ev.data.get("t", 0.0))
            self._clear_play_error()

    # misc ------------------------------------------------------------------
    def _on_request_error(self, err: Any) -> None:
        self._set_status(f"error: {getattr(err, 'message', err)}")

    def _set_status(self, text: str) -> None:
        self._play_error = False  # whatever was shown is replaced
        self.status.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        for key, enabled in enabled_actions(self.model).items():
            self.buttons[key].setEnabled(enabled)

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self._timer.stop()
        super().closeEvent(event)

