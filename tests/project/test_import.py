"""Importing sources: recursive scan, fingerprints, duplicates, odd paths, the import job."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backend.dataset import project as proj
from backend.dataset import sources
from backend.jobs import importer
from backend.kernel import BadArgs, JobCancelled, JobContext
from tests.project.helpers import sha256, speech


class Events:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict]] = []

    def __call__(self, event: str, data: dict) -> None:
        self.items.append((event, data))


def run_import_job(args: dict) -> tuple[dict, Events]:
    events = Events()
    ctx = JobContext("t", "import", events)
    return importer.run(importer.prepare(args), ctx), events


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nested folders of speech with a hidden file and a non-audio file mixed in."""
    d = tmp_path_factory.mktemp("voices")
    speech(d, "one.wav", 0)
    speech(d / "day 2", "two.wav", 1)
    speech(d / "day 2" / "take b", "three.wav", 2)
    shutil.copy(d / "one.wav", d / "day 2" / ".hidden.wav")
    (d / "notes.txt").write_text("not audio")
    (d / ".cache").mkdir()
    shutil.copy(d / "one.wav", d / ".cache" / "junk.wav")
    return d


def test_recursive_scan_skips_hidden_and_non_audio(voices: Path) -> None:
    files, errors = sources.scan_inputs([voices])
    assert errors == []
    assert [f.relative_to(voices).as_posix() for f in files] == [
        "one.wav", "day 2/two.wav", "day 2/take b/three.wav"]


def test_scan_reports_missing_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    files, errors = sources.scan_inputs([tmp_path / "gone.wav", tmp_path / "readme.txt"])
    assert files == []
    assert "does not exist" in errors[0]["message"]
    assert "not a supported audio file type" in errors[1]["message"]


def test_import_records_and_duplicates(voices: Path, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    proj.create_project(root)
    hashes = {p: sha256(p) for p in voices.rglob("*") if p.is_file()}
    result, events = run_import_job({"project": str(root), "inputs": [str(voices)]})
    assert len(result["added"]) == 3 and result["duplicates"] == [] and result["errors"] == []
    rec = next(r for r in result["added"] if r["name"] == "two.wav")
    assert rec["path"] == str(voices / "day 2" / "two.wav")
    assert rec["sha256"] == hashes[voices / "day 2" / "two.wav"]
    assert rec["id"] == rec["sha256"][:16]
    assert rec["status"] == "ok" and rec["error"] is None
    assert rec["duration"] > 1.0 and rec["sample_rate"] == 22050 and rec["channels"] == 1
    assert rec["size"] == (voices / "day 2" / "two.wav").stat().st_size
    progress = [d for e, d in events.items if e == "job.progress" and d["stage"] == "import"]
    assert progress[-1]["done"] == progress[-1]["total"] == 3

    # the same recording again, even from another place, is a no-op
    copy = tmp_path / "elsewhere" / "renamed.wav"
    copy.parent.mkdir()
    shutil.copy(voices / "one.wav", copy)
    before = (root / "sources.json").read_bytes()
    again, _ = run_import_job({"project": str(root), "inputs": [str(voices), str(copy)]})
    assert again["added"] == [] and len(again["duplicates"]) == 4
    assert (root / "sources.json").read_bytes() == before
    assert {p: sha256(p) for p in hashes} == hashes  # originals untouched, nothing copied
    assert not list((root / "prepared" / "0_gt_wavs").iterdir())


def test_unicode_paths_and_bad_file(unicode_dir: Path) -> None:
    src = speech(unicode_dir / "Aufnahmen – März", "Grüße aus Köln 你好.wav", 3)
    (unicode_dir / "kaputt.wav").write_text("just text, no audio")
    root = unicode_dir / "Projekt Ω"
    result, _ = run_import_job({"project": str(root), "inputs": [str(unicode_dir)],
                                "create": {"name": "Ω"}})
    assert [r["path"] for r in result["added"]] == [str(src)]
    assert result["errors"][0]["path"] == str(unicode_dir / "kaputt.wav")
    assert "kaputt.wav" in result["errors"][0]["message"]
    data = json.loads((root / "sources.json").read_text("utf-8"))
    statuses = {s["name"]: s["status"] for s in data["sources"]}
    assert statuses == {"Grüße aus Köln 你好.wav": "ok", "kaputt.wav": "error"}
    assert proj.open_project(root).name == "Ω"


def test_import_args_are_checked(tmp_path: Path) -> None:
    with pytest.raises(BadArgs, match="'project'"):
        importer.prepare({"inputs": ["x"]})
    with pytest.raises(BadArgs, match="no project at"):
        importer.prepare({"project": str(tmp_path / "p"), "inputs": [str(tmp_path)]})
    proj.create_project(tmp_path / "p")
    with pytest.raises(BadArgs, match="does not exist"):
        importer.prepare({"project": str(tmp_path / "p"), "inputs": [str(tmp_path / "nope")]})
    with pytest.raises(BadArgs, match="'inputs' is empty"):
        importer.prepare({"project": str(tmp_path / "p"), "inputs": []})


def test_cancel_keeps_what_was_imported(voices: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    proj.create_project(root)
    events = Events()
    ctx = JobContext("t", "import", events)
    calls = {"n": 0}
    real_check = ctx.check

    def check() -> None:  # cancel after the first file is fingerprinted
        calls["n"] += 1
        if any(e == "job.progress" and d["done"] >= 1 for e, d in events.items):
            ctx.cancel()
        real_check()

    with pytest.raises(JobCancelled):
        sources.import_sources(proj.open_project(root), [voices], check=check,
                               progress=lambda d, t: ctx.progress("import", d, t, force=True))
    saved = proj.open_project(root).load_sources()
    assert len(saved) == 1 and saved[0]["name"] == "one.wav"
