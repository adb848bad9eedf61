"""``python -m backend prepare`` end to end: real speech, broken files, incremental runs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import soundfile as sf

from tests.project.helpers import (
    check_manifest,
    make_bad_files,
    run_cli,
    sha256,
    speech,
    wavs_read_fully,
)


def _messages_for(result: dict, path: Path) -> list[str]:
    return [e["message"] for e in result["errors"] + result.get("warnings", [])
            if e["path"] == str(path)]


def test_cli_prepare_bad_files_and_incremental(unicode_dir: Path) -> None:
    data = unicode_dir / "Aufnahmen"
    good_a = speech(data, "a – erste.wav", 0)
    good_b = speech(data / "Tag 2", "b 声.wav", 1, pitch=40)
    bad = make_bad_files(data / "kaputt", good_a)
    originals = {p: sha256(p) for p in data.rglob("*") if p.is_file() and os.access(p, os.R_OK)}
    project = unicode_dir / "Mein Projekt"

    code, summary, err = run_cli("prepare", str(data), "--project", str(project),
                                 "--name", "Anna", "--sample-rate", "32000")
    assert code == 0, err
    assert summary["status"] == "ok"
    res = summary["result"]
    for kind, path in bad.items():  # every broken file is named, with a reason
        messages = _messages_for(res, path)
        assert messages, f"no message for the {kind} file: {res}"
        assert all(path.name in m for m in messages), messages
    for kind in ("empty", "text", "truncated"):
        assert any(e["path"] == str(bad[kind]) for e in res["errors"]), kind
    assert not _messages_for(res, good_a) and not _messages_for(res, good_b)
    meta = json.loads((project / "project.json").read_text("utf-8"))
    assert meta["name"] == "Anna" and meta["sample_rate"] == 32000

    manifest = check_manifest(project)
    by_path = {e["path"]: e for e in manifest["sources"].values()}
    assert str(good_a) in by_path and str(good_b) in by_path
    assert res["slices"] == sum(len(e["slices"]) for e in manifest["sources"].values())
    assert res["slices"] >= 2 and res["prepared_seconds"] > 2.0
    gt = wavs_read_fully(project / "prepared" / "0_gt_wavs")
    k16 = wavs_read_fully(project / "prepared" / "1_16k_wavs")
    assert [p.name for p in gt] == [p.name for p in k16]
    entry = by_path[str(good_a)]
    first = entry["slices"][0]
    assert sf.info(project / first["path"]).samplerate == 32000
    assert sf.info(project / first["path_16k"]).samplerate == 16000
    assert first["end"] <= sf.info(good_a).duration + 0.01
    report = json.loads(Path(res["report"]).read_text("utf-8"))
    assert report, "empty health report"
    assert res["manifest"] == str(project / "prepared" / "manifest.json")

    # add one file: only it is processed, the earlier slices stay as they were
    stamps = {p.name: p.stat().st_mtime_ns for p in gt}
    good_c = speech(data / "Tag 3", "c.wav", 2, pitch=60)
    code, summary, err = run_cli("prepare", str(data), "--project", str(project))
    assert code == 0, err
    res2 = summary["result"]
    assert res2["sources_processed"] == 1
    assert res2["sources_skipped"] == res["sources_processed"]
    manifest2 = check_manifest(project)
    assert str(good_c) in {e["path"] for e in manifest2["sources"].values()}
    for name, stamp in stamps.items():
        assert (project / "prepared" / "0_gt_wavs" / name).stat().st_mtime_ns == stamp
    assert res2["slices"] > res["slices"]

    originals_after = {p: sha256(p) for p in originals}
    assert originals_after == originals  # originals never modified
    expected = set(originals) | {good_c} | set(bad.values())
    assert {p for p in data.rglob("*") if p.is_file()} == expected  # nothing written there


def test_cli_import_then_settings_and_errors(tmp_path: Path) -> None:
    src = speech(tmp_path / "in", "x.wav", 3)
    project = tmp_path / "proj"
    code, summary, err = run_cli("import", str(src), "--project", str(project))
    assert code == 0, err
    assert [r["name"] for r in summary["result"]["added"]] == ["x.wav"]

    code, summary, err = run_cli("prepare", str(src), "--project", str(project),
                                 "--normalize", "none", "--chunk-seconds", "3")
    assert code == 0, err
    assert summary["result"]["sources_processed"] == 1
    assert summary["result"]["imported"] == {"added": 0, "duplicates": 1}
    meta = json.loads((project / "project.json").read_text("utf-8"))
    assert meta["prepare"]["normalize"] == "none" and meta["prepare"]["chunk_seconds"] == 3

    code, summary, err = run_cli("prepare", str(src), "--project", str(project),
                                 "--sample-rate", "48000")
    assert code == 2 and "40000 Hz" in summary["error"]["message"]

    other = tmp_path / "stuff"
    other.mkdir()
    (other / "letter.txt").write_text("hello")
    code, summary, err = run_cli("prepare", str(src), "--project", str(other))
    assert code == 2 and "already has files" in summary["error"]["message"]
    shutil.rmtree(other)
