"""Opens sources and slices in the waveform editor and keeps the project's edits and the
slice's pitch curve in step with it: the editor marks the edits the prepared clips do not
have yet, "Edit saved" goes once an Undo brings the recording back to what was prepared,
and the pitch is asked again after an extraction.

Its collaborators are explicit: the editor it drives, ``project`` (returns the open
``ProjectState`` or None), ``request`` (``BackendClient.request``) and ``say`` (shows a
message). The Dataset page connects its own signals to ``open_source``, ``open_slice``
and ``project_changed``, and the job book's listener to ``job_changed``; the link knows
nothing else of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.protocol import Error
from desktop.components.editor_view import same_segments
from desktop.components.job_handle import OK, JobHandle
from desktop.components.project_state import ProjectState

EDIT_SAVED = "Edit saved; run Prepare to apply it to the dataset."

Request = Callable[..., str]  # BackendClient.request(cmd, args, on_result=, on_error=)


class DatasetEditorLink:
    def __init__(self, editor: Any, *, project: Callable[[], ProjectState | None],
                 request: Request, say: Callable[[str], None]) -> None:
        self._editor = editor
        self._project = project
        self._request = request
        self._say = say
        self._f0_seq = 0  # the latest features.f0 request; older answers are dropped
        self._slice: dict | None = None  # the slice shown (its pitch follows extractions)
        self._source_id: str | None = None
        editor.segments_changed.connect(self._on_editor_segments_changed)

    def open_source(self, src: dict) -> None:
        """Show a source (a ``project.open`` source row) with its saved edit."""
        state = self._project()
        if state is None:
            return
        sid = str(src.get("id"))
        self._editor.open_source(state.path, src, state.segments_of(sid), state.cache_dir,
                                 state.prepared_segments(sid))
        self._slice, self._source_id = None, sid
        self._f0_seq += 1  # a pitch answer still on its way is for a slice: dropped
        self._editor.show_f0(None)

    def open_slice(self, sl: dict) -> None:
        """Show a slice (the slices table's editor form) and ask for its pitch."""
        state = self._project()
        if state is None:
            return
        sid = str(sl.get("source"))
        self._editor.open_slice(state.path, sl, state.segments_of(sid), state.cache_dir,
                                state.prepared_segments(sid))
        self._slice, self._source_id = sl, sid
        self._request_f0(state.path, sl)

    def project_changed(self, state: ProjectState | None) -> None:
        """Reopened (after a prepare): what the clips were cut with may have changed."""
        if state is not None and self._source_id is not None:
            self._editor.set_prepared(state.prepared_segments(self._source_id))

    def job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        """An extraction finished (whoever started it): the shown slice's pitch is new."""
        if event != "job.finished" or job.kind != "extract" or job.state != OK:
            return
        state = self._project()
        if state is not None and self._slice is not None:
            self._request_f0(state.path, self._slice)

    def _request_f0(self, project: str, sl: dict) -> None:
        """Ask for the slice's pitch; the editor draws it over the spectrogram."""
        self._f0_seq += 1
        seq, stem = self._f0_seq, Path(str(sl.get("path") or sl.get("name") or "")).stem

        def on_result(info: dict) -> None:
            if seq == self._f0_seq:
                self._editor.show_f0({**info, "offset": 0.0})  # the clip itself is shown

        def on_error(err: Error) -> None:
            if seq == self._f0_seq:
                self._editor.show_f0({"path": None, "reason": f"no pitch: {err.message}"})

        self._request("features.f0", {"project": project, "slice": stem},
                      on_result=on_result, on_error=on_error)

    def _on_editor_segments_changed(self, source_id: str, segments: Any) -> None:
        state = self._project()
        if state is None:
            return
        state.set_segments(source_id, segments)
        model = getattr(self._editor, "model", None)
        duration = float(model.source_duration) if model is not None else 0.0
        if model is not None and same_segments(segments, state.prepared_segments(source_id),
                                               duration):
            self._say("")  # undone back to what was prepared: nothing to apply
        else:
            self._say(EDIT_SAVED)
