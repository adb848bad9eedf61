"""Voice project folders: create, open, reopen, damaged files, atomic writes."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from backend import fsutil
from backend.dataset import project as proj


def test_create_open_reopen_round_trip(unicode_dir: Path) -> None:
    root = unicode_dir / "Alice – voix 1"
    created = proj.create_project(root, "Alice", 48000, "vits")
    for rel in ("project.json", "sources.json", "edits.json", "prepared/0_gt_wavs",
                "prepared/1_16k_wavs", "reports", "cache"):
        assert (root / rel).exists(), rel
    meta = json.loads((root / "project.json").read_text("utf-8"))
    assert meta["format"] == 1 and meta["name"] == "Alice"
    assert meta["sample_rate"] == 48000 and meta["model_kind"] == "vits"
    assert meta["version"] == "v2" and meta["created"]
    assert meta["prepare"] == proj.default_settings("vits")
    assert meta["prepare"]["chunk_seconds"] == 0  # a VITS project keeps whole phrases

    created.save_sources([{"id": "abc", "sha256": "abc" * 10, "path": "/x.wav", "name": "x.wav",
                           "status": "ok", "duration": 3.5}])
    created.save_edits({"abc": {"segments": [[0.5, 2.0]]}})
    created.set_settings({})

    again = proj.open_project(root)  # as after a restart
    assert again.meta == created.meta
    assert again.load_sources()[0]["duration"] == 3.5
    assert again.segments_of("abc") == [[0.5, 2.0]]
    assert again.summary() == {"sources": 1, "sources_ok": 1, "slices": 0,
                               "prepared_seconds": 0.0}


def test_create_refuses_existing_project_and_non_empty_folder(tmp_path: Path) -> None:
    proj.create_project(tmp_path / "p", "p", 40000, "rvc")
    with pytest.raises(proj.ProjectError, match="already holds a project"):
        proj.create_project(tmp_path / "p", "p", 40000, "rvc")
    other = tmp_path / "holiday photos"
    other.mkdir()
    (other / "beach.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(proj.ProjectError, match="already has files"):
        proj.create_project(other, "x", 40000, "rvc")
    assert sorted(p.name for p in other.iterdir()) == ["beach.jpg"]
    with pytest.raises(proj.ProjectError, match="sample rate must be one of"):
        proj.create_project(tmp_path / "q", "q", 44100, "rvc")
    with pytest.raises(proj.ProjectError, match="model kind"):
        proj.create_project(tmp_path / "q", "q", 40000, "tacotron")
    assert not (tmp_path / "q").exists()


def test_empty_existing_folder_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert proj.create_project(tmp_path / "empty").sample_rate == 40000


@pytest.mark.parametrize("content, expected", [
    ('{"format": 1, "name": "x", "sample_', "not valid JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"format": 1, "sample_rate": 44100, "model_kind": "rvc"}', "'sample_rate' must be"),
])
def test_damaged_project_json_names_the_file(tmp_path: Path, content: str, expected: str) -> None:
    root = tmp_path / "p"
    proj.create_project(root)
    (root / "project.json").write_text(content)
    with pytest.raises(proj.ProjectError) as info:
        proj.open_project(root)
    assert str(root / "project.json") in info.value.message
    assert expected in info.value.message


def test_missing_project_json_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(proj.ProjectError, match="no project folder"):
        proj.open_project(tmp_path / "nowhere")
    with pytest.raises(proj.ProjectError, match="project.json is missing"):
        proj.open_project(tmp_path)


def test_damaged_sources_json_is_reported(tmp_path: Path) -> None:
    p = proj.create_project(tmp_path / "p")
    (tmp_path / "p" / "sources.json").write_text("{oops")
    with pytest.raises(proj.ProjectError, match="sources.json is damaged"):
        p.load_sources()


def test_atomic_write_failure_leaves_old_file_and_no_temp(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "data.json"
    fsutil.atomic_write_json(target, {"version": 1, "items": list(range(10))})
    before = target.read_bytes()

    def disk_full(fd: int) -> None:  # the data is half on disk when the disk fills up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        fsutil.atomic_write_json(target, {"version": 2, "items": list(range(100000))})
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_atomic_write_failure_in_json_encoding_keeps_file(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    fsutil.atomic_write_json(target, {"ok": True})
    with pytest.raises(ValueError):
        fsutil.atomic_write_json(target, {"bad": float("nan")})
    assert json.loads(target.read_text()) == {"ok": True}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_settings_are_validated_and_saved(tmp_path: Path) -> None:
    p = proj.create_project(tmp_path / "p")
    with pytest.raises(ValueError, match="no_such_setting"):
        p.set_settings({"no_such_setting": 1})
    assert proj.open_project(tmp_path / "p").settings == proj.default_settings()


def test_extract_settings_are_checked_and_kept_in_project_json(tmp_path: Path) -> None:
    from backend.commands.project import extract_settings

    p = proj.create_project(tmp_path / "p é")
    path = str(p.root)
    assert extract_settings({"path": path}, None) == {"settings": {}, "pitch_note": None}
    chosen = {"f0": "crepe", "encoder": str(tmp_path / "my encoder ü.pt"), "version": "v1",
              "device": "cpu", "filter_radius": 5}
    assert extract_settings({"path": path, "settings": chosen}, None) == \
        {"settings": chosen, "pitch_note": None}
    meta = json.loads((p.root / "project.json").read_text(encoding="utf-8"))
    assert meta["extract"] == chosen and meta["prepare"] == proj.default_settings()
    assert proj.open_project(p.root).extract_settings == chosen  # a new backend reads it back
    for bad, message in (({"f0": 3}, "'f0' must be a str"), ({"radius": 1}, "unknown"),
                         ({"filter_radius": 99}, "0 to 15"), ({"version": "v3"}, "v1 or v2")):
        with pytest.raises(Exception, match=message):
            extract_settings({"path": path, "settings": bad}, None)
    assert proj.open_project(p.root).extract_settings == chosen  # refused: nothing changed
    assert [f.name for f in p.root.iterdir() if f.name.startswith(".tmp")] == []


@pytest.mark.parametrize("segments, message", [
    ([], "non-empty"),
    ([[1.0]], "pair of numbers"),
    ([[2.0, 1.0]], "0 <= start < end"),
    ([[0.0, 2.0], [1.5, 3.0]], "overlaps"),
    ([[3.0, 4.0], [0.0, 1.0]], "sorted"),
    ([[0.0, 11.0]], "after the end"),
    ("0-1", "non-empty list"),
])
def test_bad_segments(segments: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        proj.validate_segments(segments, 10.0)


def test_good_segments() -> None:
    assert proj.validate_segments([[0, 1.5], [1.5, 10.0004]], 10.0) == [[0.0, 1.5], [1.5, 10.0]]
