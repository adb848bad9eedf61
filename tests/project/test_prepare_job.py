"""The prepare job in-process: edits, removed sources, leftovers, full disk."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from backend.commands import project as project_cmds
from backend.dataset import project as proj
from backend.jobs import prepare as prepare_job
from backend.kernel import BadArgs, JobContext
from tests.project.helpers import check_manifest, long_speech, speech, wavs_read_fully


def run_prepare(args: dict) -> dict:
    ctx = JobContext("t", "prepare", lambda event, data: None)
    return prepare_job.run(prepare_job.prepare(args), ctx)


def names(project: Path, sid: str) -> set[str]:
    manifest = json.loads((project / "prepared" / "manifest.json").read_text("utf-8"))
    return {s["name"] for s in manifest["sources"][sid]["slices"]}


@pytest.fixture(scope="module")
def two_voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("two")
    speech(d, "a.wav", 0)
    speech(d, "b.wav", 1, pitch=70)
    return d


def test_edits_reprocess_only_that_source(two_voices: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    res = run_prepare({"project": str(root), "inputs": [str(two_voices)], "create": {}})
    assert res["sources_processed"] == 2 and res["errors"] == []
    sources = {s["name"]: s for s in proj.open_project(root).load_sources()}
    a, b = sources["a.wav"]["id"], sources["b.wav"]["id"]
    old_a, old_b = names(root, a), names(root, b)

    seg = [[0.2, 2.5]]
    assert project_cmds.set_edits({"path": str(root), "source_id": a, "segments": seg},
                                  None) == {"ok": True}
    res = run_prepare({"project": str(root)})
    assert res["sources_processed"] == 1 and res["sources_skipped"] == 1
    assert names(root, b) == old_b
    new_a = names(root, a)
    assert new_a and not new_a & old_a
    manifest = check_manifest(root)
    for s in manifest["sources"][a]["slices"]:
        assert 0.2 - 1e-3 <= s["start"] < s["end"] <= 2.5 + 1e-3
    assert manifest["sources"][a]["segments"] == seg
    on_disk = {p.name for p in (root / "prepared" / "0_gt_wavs").iterdir()}
    assert on_disk == new_a | old_b  # the superseded slices are gone

    # nothing changed: nothing to do
    res = run_prepare({"project": str(root)})
    assert res["sources_processed"] == 0 and res["sources_skipped"] == 2

    # removing a source drops its slices at the next run; the original stays
    project_cmds.remove_source({"path": str(root), "source_id": b}, None)
    res = run_prepare({"project": str(root)})
    assert b not in check_manifest(root)["sources"]
    assert {p.name for p in (root / "prepared" / "1_16k_wavs").iterdir()} == new_a
    assert (two_voices / "b.wav").is_file()
    assert res["slices"] == len(new_a)
    opened = project_cmds.open_({"path": str(root)}, None)  # as the desktop reopens it
    assert opened["summary"]["slices"] == len(new_a) and opened["summary"]["sources"] == 1
    assert opened["edits"] == {a: {"segments": seg}}
    assert opened["prepared_edits"] == {a: seg}  # what the clips were cut with
    assert opened["report"] == str(root / "reports" / "health.json")
    project_cmds.set_edits({"path": str(root), "source_id": a, "segments": [[0.5, 2.5]]}, None)
    opened = project_cmds.open_({"path": str(root)}, None)
    assert opened["prepared_edits"] == {a: seg}  # the new edit is pending until prepare


def test_leftovers_of_an_interrupted_run_are_cleaned(two_voices: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    run_prepare({"project": str(root), "inputs": [str(two_voices / "a.wav")], "create": {}})
    gt = root / "prepared" / "0_gt_wavs"
    kept = {p.name for p in gt.iterdir()}
    (gt / "0123456789abcdef_007_0000.wav").write_bytes(b"RIFF half a file")
    (gt / ".tmp-x.wav.part").write_bytes(b"partial")
    (root / "prepared" / ".tmp-manifest.json.abc.part").write_text("{")
    res = run_prepare({"project": str(root), "inputs": [str(two_voices / "b.wav")]})
    assert res["sources_processed"] == 1
    check_manifest(root)
    files = {p.name for p in gt.iterdir()}
    assert kept < files and "0123456789abcdef_007_0000.wav" not in files
    assert ".tmp-x.wav.part" not in files
    assert not list((root / "prepared").glob(".tmp-*"))
    wavs_read_fully(gt)


def test_bad_settings_and_missing_source(two_voices: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    with pytest.raises(BadArgs, match="no_such_knob"):
        prepare_job.prepare({"project": str(root), "create": {}, "settings": {"no_such_knob": 1}})
    copy = tmp_path / "moved later.wav"
    copy.write_bytes((two_voices / "a.wav").read_bytes())
    run_prepare({"project": str(root), "inputs": [str(copy)], "create": {}, "force": True})
    copy.unlink()
    res = run_prepare({"project": str(root), "force": True})
    assert res["errors"][0]["path"] == str(copy)
    assert "moved or deleted" in res["errors"][0]["message"]
    check_manifest_files_only(root)


def check_manifest_files_only(root: Path) -> None:
    manifest = json.loads((root / "prepared" / "manifest.json").read_text("utf-8"))
    for entry in manifest["sources"].values():
        for s in entry["slices"]:
            assert (root / s["path"]).is_file()


def test_manifest_write_failure_is_reported_and_harmless(two_voices: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "p"
    run_prepare({"project": str(root), "inputs": [str(two_voices / "a.wav")], "create": {}})
    before = json.loads((root / "prepared" / "manifest.json").read_text("utf-8"))["sources"]
    gt_before = sorted(p.name for p in (root / "prepared" / "0_gt_wavs").iterdir())
    real_save = proj.Project.save_manifest

    def full(self: proj.Project, manifest: dict) -> None:
        if len(manifest["sources"]) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(self, manifest)

    monkeypatch.setattr(proj.Project, "save_manifest", full)
    res = run_prepare({"project": str(root), "inputs": [str(two_voices / "b.wav")]})
    assert res["sources_processed"] == 0
    [err] = res["errors"]
    assert err["path"] == str(two_voices / "b.wav")
    assert "disk full" in err["message"] and "free space and run prepare again" in err["message"]
    after = json.loads((root / "prepared" / "manifest.json").read_text("utf-8"))
    assert after["sources"] == before
    assert after["errors"][0]["path"] == str(two_voices / "b.wav")
    assert sorted(p.name for p in (root / "prepared" / "0_gt_wavs").iterdir()) == gt_before


def test_real_full_disk(two_voices: Path, tmp_path: Path, small_disk: Path) -> None:
    root = small_disk / "projekt ü"
    res = run_prepare({"project": str(root), "inputs": [str(two_voices / "a.wav")],
                       "create": {"sample_rate": 48000}})
    assert res["sources_processed"] == 1
    first = check_manifest(root)
    big = long_speech(two_voices / "b.wav", tmp_path / "long.wav", 40.0)  # ~3.8 MB at 48 kHz
    res = run_prepare({"project": str(root), "inputs": [str(big)]})
    [err] = [e for e in res["errors"] if e["path"] == str(big)]
    assert "disk full" in err["message"] and "free space" in err["message"], err
    assert check_manifest(root)["sources"] == first["sources"]  # earlier outputs intact
    wavs_read_fully(root / "prepared" / "0_gt_wavs")
    wavs_read_fully(root / "prepared" / "1_16k_wavs")
