"""Qt-free desktop logic: no QApplication needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.protocol import Hello
from desktop.components.backend_logic import LineSplitter, RestartPolicy, status_text
from desktop.components.log_model import LogModel
from desktop.components.prepare_settings import PrepareSettings
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings, JsonSettingsStore, MemorySettingsStore


def test_log_model_is_bounded_and_filters() -> None:
    log, seen = LogModel(capacity=3), []
    log.subscribe(seen.append)
    for i in range(5):
        log.add("warn" if i % 2 else "info", f"m{i}", "backend")
    assert [e.message for e in log] == ["m2", "m3", "m4"]
    assert log.dropped == 2 and len(seen) == 5
    assert [e.message for e in log.entries("warning")] == ["m3"]
    assert "WARNING" in log.entries("warning")[0].format()
    log.add("nonsense-level", "x")
    assert list(log)[-1].level == "info"
    with pytest.raises(ValueError):
        LogModel(capacity=0)


def test_settings_persist_across_instances(unicode_dir: Path) -> None:
    path = unicode_dir / "conf" / "settings.json"
    s = AppSettings(JsonSettingsStore(path))
    for p in ["/a/one", "/a/two", str(unicode_dir / "proj ü"), "/a/one"]:
        s.add_recent_project(p)
    s.set_last_folder("import", str(unicode_dir))
    again = AppSettings(JsonSettingsStore(path))
    assert again.recent_projects() == ["/a/one", str(unicode_dir / "proj ü"), "/a/two"]
    assert again.last_project() == "/a/one"
    assert again.last_folder("import") == str(unicode_dir)
    assert again.last_folder("never") == str(Path.home())
    again.remove_recent_project("/a/two")
    assert AppSettings(JsonSettingsStore(path)).recent_projects()[-1] == str(unicode_dir / "proj ü")
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temp files left


def test_settings_survive_a_corrupt_file_and_cap_recent(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json", encoding="utf-8")
    s = AppSettings(JsonSettingsStore(path))
    assert s.recent_projects() == []
    for i in range(15):
        s.add_recent_project(f"/p/{i}")
    assert s.recent_projects()[0] == "/p/14" and len(s.recent_projects()) == 10
    mem = AppSettings(MemorySettingsStore())
    mem.store.set("recent_projects", "not a list")
    assert mem.recent_projects() == []


def test_line_splitter_handles_partial_lines_and_split_utf8() -> None:
    sp = LineSplitter()
    data = '{"a":"声"}\n{"b":1}\r\npart'.encode()
    cut = data.index("声".encode()) + 1  # inside the multi-byte character
    assert sp.feed(data[:cut]) == []
    assert sp.feed(data[cut:]) == ['{"a":"声"}', '{"b":1}']
    assert sp.feed(b"ial") == []
    assert sp.flush() == ["partial"] and sp.flush() == []


def test_restart_policy_caps_restarts_per_window() -> None:
    p = RestartPolicy(max_restarts=3, window_s=60, backoff_s=(0.5, 1, 2))
    assert [p.on_crash(t) for t in (0, 1, 2)] == [0.5, 1, 2]
    assert p.on_crash(3) is None
    assert p.on_crash(60.5) == 2  # only the first crash left the window
    p.reset()
    assert p.on_crash(62) == 0.5


def test_status_text_names_the_device() -> None:
    cpu = {"id": "cpu", "kind": "cpu", "name": "AMD EPYC"}
    gpu = {"id": "cuda:0", "kind": "cuda", "name": "NVIDIA H100", "memory_bytes": 85 * 1024**3}
    assert status_text("ready", Hello(1, "0.1", None, [cpu])) == "Ready — CPU: AMD EPYC"
    assert status_text("ready", Hello(1, "0.1", None, [cpu, gpu])) == \
        "Ready — GPU: NVIDIA H100 (85 GB)"
    assert status_text("starting", None) == "Backend starting…"
    assert status_text("restarting", None) == "Backend crashed — restarting"


def test_project_state_reads_the_report(unicode_dir: Path) -> None:
    report = unicode_dir / "health.json"
    report.write_text(json.dumps({"clips": 3, "recommendation": {"text": "ok"}}), "utf-8")
    state = ProjectState.from_open_result({
        "path": str(unicode_dir), "project": {"name": "Stimme", "sample_rate": 40000},
        "sources": [{"id": "1", "name": "a.wav"}, "junk"], "report": str(report),
        "summary": {"sources": 1}})
    assert (state.name, state.sample_rate, len(state.sources)) == ("Stimme", 40000, 1)
    assert state.report == {"clips": 3, "recommendation": {"text": "ok"}}
    report.write_text("{broken", "utf-8")
    state.load_report()
    assert state.report is None and "not valid JSON" in state.report_error
    with pytest.raises(ValueError):
        ProjectState.from_open_result({"sources": []})


def test_prepare_settings_map_to_job_args() -> None:
    s = PrepareSettings.from_project({"normalize": "lufs", "lufs_target": -20,
                                      "threshold_db": -50.0, "hop_ms": 10})
    assert (s.normalize, s.lufs_target, s.threshold_db) == ("lufs", -20.0, -50.0)
    assert s.validate() == []
    args = s.to_job_args("/p")
    assert args["project"] == "/p" and args["settings"]["normalize"] == "lufs"
    assert set(args["settings"]) == {"normalize", "peak_target", "lufs_target", "threshold_db",
                                     "min_length_ms", "chunk_seconds"}
    bad = PrepareSettings(normalize="loud", chunk_seconds=0.2)
    assert len(bad.validate()) == 2


def test_clip_labels_name_the_recording_not_the_hash() -> None:
    from desktop.components.clip_names import clip_label, format_time

    assert format_time(3.24) == "0:03.2" and format_time(75.0) == "1:15.0"
    assert format_time(3725.0) == "1:02:05"
    problem = {"clip": "3f2a9c0b1d4e5f60_002_0007.wav", "source": "C:\\takes\\take 1.wav",
               "start": 12.5, "end": 15.25}
    assert clip_label(problem) == "take 1.wav 0:12.5–0:15.2"
    # a report written before clips had their times: the clip's number in its recording
    assert clip_label({"clip": "3f2a9c0b1d4e5f60_002_0007.wav",
                       "source": "/x/take 1.wav"}) == "take 1.wav, clip 8"
    assert clip_label({"clip": "a.wav"}) == "a.wav"
