"""The Dataset page's texts and the project's edits, without Qt (no QApplication)."""

from __future__ import annotations

from desktop.components import dataset_text as text
from desktop.components.job_handle import JobHandle
from desktop.components.project_state import ProjectState


def _finished(kind: str, status: str, result: dict | None = None,
              error: dict | None = None) -> JobHandle:
    job = JobHandle(kind, request_id="d1")
    job.apply("job.started", {"job_id": "job-1", "kind": kind, "request_id": "d1"})
    data = {"job_id": "job-1", "kind": kind, "status": status, "result": result or {}}
    if error:
        data["error"] = error
    job.apply("job.finished", data)
    return job


def test_durations_and_rates() -> None:
    assert text.fmt_duration(65.3) == "1:05.3"
    assert text.fmt_duration(0) == "0:00.0"
    assert text.fmt_duration(59.96) == "1:00.0"  # rounded once, never "0:60.0"
    assert text.fmt_duration(3599.99) == "60:00.0"
    for unknown in (None, "12", True, -1):
        assert text.fmt_duration(unknown) == "—"
    assert text.fmt_rate(44100) == "44.1 kHz" and text.fmt_rate(48000.0) == "48 kHz"
    assert text.fmt_rate(None) == "—"


def test_source_row_cells_and_tooltips() -> None:
    row = text.source_row({"path": "/rec ü/take 1.wav", "duration": 125.0,
                           "sample_rate": 40000, "channels": 2, "status": "ok"})
    assert row.cells == ("take 1.wav", "2:05.0", "40 kHz", "2", "ok")
    assert row.tooltip(0) == "/rec ü/take 1.wav" and row.tooltip(4) == "ok"
    bad = text.source_row({"name": "broken.mp3", "path": "/x/broken.mp3", "status": "failed",
                           "error": "not an audio file", "channels": None})
    assert bad.cells == ("broken.mp3", "—", "—", "—", "failed: not an audio file")
    assert len(bad.cells) == len(text.SOURCE_COLUMNS)


def test_job_summaries() -> None:
    assert text.job_summary("import", {"added": ["a", "b"], "duplicates": 1}) == \
        "Imported 2 recording(s); 1 duplicate(s) skipped."
    prepared = text.job_summary("prepare", {"sources_processed": 2, "sources_skipped": 1,
                                            "slices": 14, "prepared_seconds": 90})
    assert prepared == "Prepared 2 source(s) (1 unchanged): 14 clips, 1.5 min."
    errors = [{"path": f"/in/{i}.wav", "message": "unreadable"} for i in range(12)]
    listed = text.job_summary("import", {"added": 0, "duplicates": [], "errors": errors})
    assert "\n12 problem(s):\n  /in/0.wav: unreadable" in listed
    assert "/in/9.wav" in listed and "/in/10.wav" not in listed
    assert listed.endswith("…and 2 more")
    assert text.job_summary("sleep", {}) == "sleep finished."


def test_finished_texts() -> None:
    ok = _finished("import", "ok", {"added": 1, "duplicates": 0})
    assert text.finished_text(ok) == "Imported 1 recording(s); 0 duplicate(s) skipped."
    failed = _finished("prepare", "failed", error={"code": "io_error",
                                                  "message": "disk full: /p/wavs"})
    assert text.finished_text(failed) == "Prepare failed: disk full: /p/wavs"
    assert text.finished_text(_finished("prepare", "cancelled")) == "Prepare cancelled."
    refused = JobHandle("import", request_id="d2")
    refused.refuse("bad_args", "no inputs")
    assert text.finished_text(refused) == "Could not start import: no inputs"


def test_progress_format_escapes_the_stage() -> None:
    job = JobHandle("prepare", job_id="job-1")
    job.apply("job.progress", {"job_id": "job-1", "stage": "slicing 50% done", "done": 1,
                               "total": 2})
    assert text.progress_format(job).startswith("slicing 50%% done: %p%")
    assert text.project_label(None) == "No project open"
    state = ProjectState(path="/p/My voice", project={"name": "My voice"})
    assert text.project_label(state) == "My voice — /p/My voice"


def test_project_state_segments() -> None:
    state = ProjectState(path="/p ü", edits={"src1": {"segments": [[0.0, 1.5]]},
                                             "odd": "not a dict"})
    assert state.segments_of("src1") == [[0.0, 1.5]]
    assert state.segments_of("odd") is None and state.segments_of(None) is None
    state.set_segments("src2", [[2.0, 3.0]])
    state.set_segments("src1", None)
    assert state.edits == {"src2": {"segments": [[2.0, 3.0]]}, "odd": "not a dict"}
    fresh = ProjectState(path="/p")  # project.open said nothing of edits
    fresh.set_segments("s", [[0.0, 1.0]])
    assert fresh.segments_of("s") == [[0.0, 1.0]] and fresh.cache_dir.endswith("cache")

