"""Opens the Dataset page's sources and slices in the waveform editor and keeps the
project's edits and the slice's pitch curve in step with it: the editor marks the edits
the prepared clips do not have yet, the page's "Edit saved" goes once an Undo brings the
recording back to what was prepared, and the pitch is asked again after an extraction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.protocol import Error
from desktop.components.editor_view import same_segments
from desktop.components.job_handle import OK, JobHandle

if TYPE_CHECKING:
    from desktop.ui.dataset_page import QtDatasetPage


class DatasetEditorLink:
    def __init__(self, page: QtDatasetPage, editor: Any) -> None:
        self._page = page
        self._editor = editor
        self._f0_seq = 0  # the latest features.f0 request; older answers are dropped
        self._slice: dict | None = None  # the slice shown (its pitch follows extractions)
        self._source_id: str | None = None
        page.sig_source_activated.connect(self._on_source_activated)
        page.slices_table.sig_slice_activated.connect(self._on_slice_activated)
        editor.segments_changed.connect(self._on_editor_segments_changed)
        page.controller.project_changed.connect(self._on_project_changed)
        page.client.jobs.subscribe(self._on_job_changed)  # every job, whoever started it

    def _edit_context(self) -> tuple[str, Any, str] | None:
        state = self._page.controller.state
        if state is None:
            return None
        edits = state.edits if isinstance(state.edits, dict) else {}
        return state.path, edits, str(Path(state.path) / "cache")

    def _on_source_activated(self, src: dict) -> None:
        ctx = self._edit_context()
        if ctx is not None:
            path, edits, cache = ctx
            sid = str(src.get("id"))
            segs = (edits.get(sid) or {}).get("segments")
            self._editor.open_source(path, src, segs, cache, self._prepared(sid))
            self._slice, self._source_id = None, sid
            self._f0_seq += 1
            self._editor.show_f0(None)

    def _on_slice_activated(self, sl: dict) -> None:
        ctx = self._edit_context()
        if ctx is not None:
            path, edits, cache = ctx
            sid = str(sl.get("source"))
            segs = (edits.get(sid) or {}).get("segments")
            self._editor.open_slice(path, sl, segs, cache, self._prepared(sid))
            self._slice, self._source_id = sl, sid
            self._request_f0(path, sl)

    def _prepared(self, source_id: str) -> Any:
        state = self._page.controller.state
        return state.prepared_segments(source_id) if state is not None else None

    def _on_project_changed(self, state: Any) -> None:
        """Reopened (after a prepare): what the clips were cut with may have changed."""
        if state is not None and self._source_id is not None:
            self._editor.set_prepared(state.prepared_segments(self._source_id))

    def _on_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        """An extraction finished: the shown slice's pitch ("run Extract first") is new."""
        if event == "job.finished" and job.kind == "extract" and job.state == OK \
                and self._slice is not None:
            state = self._page.controller.state
            if state is not None:
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

        self._page.client.request("features.f0", {"project": project, "slice": stem},
                                  on_result=on_result, on_error=on_error)

    def _on_editor_segments_changed(self, source_id: str, segments: Any) -> None:
        state = self._page.controller.state
        if state is None:
            return
        if not isinstance(state.edits, dict):
            state.edits = {}
        if segments is None:
            state.edits.pop(source_id, None)
        else:
            state.edits[source_id] = {"segments": segments}
        model = getattr(self._editor, "model", None)
        duration = float(model.source_duration) if model is not None else 0.0
        if model is not None and same_segments(segments, state.prepared_segments(source_id),
                                               duration):
            self._page.say("")  # undone back to what was prepared: nothing to apply
        else:
            self._page.say("Edit saved; run Prepare to apply it to the dataset.")
