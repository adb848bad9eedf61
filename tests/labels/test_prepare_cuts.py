"""Prepare after the table's split, merge and delete: the cut recording's clips are exactly
its rows' spans, only that recording is prepared again, and undo brings the slicing back."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from backend.commands import labels as cmds
from backend.dataset import project as proj
from backend.labels import cuts
from tests.labels.helpers import clips, manifest, run_prepare


def apply(root: Path, **op: object) -> dict:
    return cmds.apply({"project": str(root), "op": op}, None)


def table(root: Path) -> list[dict]:
    return cmds.get({"project": str(root)}, None)["rows"]


def spans_of(rows: list[dict], sid: str) -> list[tuple[float, float]]:
    return [(r["start"], r["end"]) for r in rows if r["source_id"] == sid and not r["stale"]]


def test_split_merge_delete_then_prepare(root: Path) -> None:
    rows = table(root)
    a, b = proj.open_project(root).load_sources()[0]["id"], proj.open_project(root) \
        .load_sources()[1]["id"]
    original_a, original_b = clips(root, a), clips(root, b)
    b_files = {s["name"]: (root / s["path"]).read_bytes()
               for s in manifest(root)["sources"][b]["slices"]}
    first = next(r for r in rows if r["source_id"] == a)
    apply(root, kind="set", ids=[first["id"]], fields={"text": "one two three"})
    at = round(first["start"] + 0.6, 3)
    apply(root, kind="split", id=first["id"], at=at, text_at=None)
    rows = table(root)
    pending = [r for r in rows if r["pending"]]
    assert [(r["start"], r["end"]) for r in pending] == [(first["start"], at), (at, first["end"])]

    res = run_prepare({"project": str(root)})
    assert (res["sources_processed"], res["sources_skipped"]) == (1, 1), res
    assert clips(root, a) == spans_of(rows, a)  # exactly the rows' spans
    assert clips(root, b) == original_b
    assert {s["name"]: (root / s["path"]).read_bytes()
            for s in manifest(root)["sources"][b]["slices"]} == b_files  # untouched
    assert manifest(root)["sources"][a]["clips"] == [list(s) for s in spans_of(rows, a)]
    rows = table(root)
    assert not any(r["pending"] or r["stale"] for r in rows)
    sr = proj.open_project(root).sample_rate
    for r in rows:
        if r["source_id"] == a:
            data, file_sr = sf.read(r["clip_path"])
            assert file_sr == sr and abs(len(data) - (r["end"] - r["start"]) * sr) <= 1

    # nothing changed: nothing to prepare
    assert run_prepare({"project": str(root)})["sources_processed"] == 0

    a_rows = [r for r in rows if r["source_id"] == a]
    apply(root, kind="merge", id=a_rows[1]["id"])  # the split's right half + the next one
    apply(root, kind="delete", ids=[a_rows[-1]["id"]])
    expected = [(a_rows[0]["start"], a_rows[0]["end"]),
                (a_rows[1]["start"], a_rows[2]["end"])] + \
        [(r["start"], r["end"]) for r in a_rows[3:-1]]
    assert spans_of(table(root), a) == expected
    res = run_prepare({"project": str(root)})
    assert (res["sources_processed"], res["sources_skipped"]) == (1, 1)
    assert clips(root, a) == expected
    assert not any(r["pending"] for r in table(root))

    for _ in range(2):  # the delete, the merge
        cmds.undo({"project": str(root)}, None)
    undone = cmds.undo({"project": str(root)}, None)  # the split: the recording is uncut
    assert cuts.clip_spans(root) == {} and undone["undo_label"].startswith("edit text")
    shown = {r["id"]: r for r in undone["changed"]}
    assert shown[first["id"]]["stale"]  # its whole span has no clip until the next prepare
    assert [(r["start"], r["end"]) for r in table(root) if r["source_id"] == a
            and not r["stale"]] == clips(root, a)  # the rows follow the clips on disk
    res = run_prepare({"project": str(root)})
    assert res["sources_processed"] == 1
    assert clips(root, a) == original_a  # silence slicing again
    got = cmds.get({"project": str(root)}, None)
    assert spans_of(got["rows"], a) == original_a and not any(r["pending"] for r in got["rows"])
    assert got["summary"]["stale"] == 0  # the blank rows of the cut clips are gone
    assert next(r for r in got["rows"] if r["id"] == first["id"])["text"] == "one two three"


def test_deleting_every_row_of_a_recording(root: Path) -> None:
    rows = table(root)
    sid = rows[0]["source_id"]
    apply(root, kind="delete", ids=[r["id"] for r in rows if r["source_id"] == sid])
    assert cuts.clip_spans(root) == {sid: []}
    res = run_prepare({"project": str(root)})
    assert clips(root, sid) == []
    assert any("no row left" in w["message"] for w in res["warnings"])


def test_damaged_labels_stop_prepare_before_it_writes(root: Path) -> None:
    before = (root / proj.MANIFEST_FILE).read_bytes()
    (root / "labels.json").write_text("{ not json", "utf-8")
    from backend.kernel import BadArgs

    with pytest.raises(BadArgs, match="labels.json"):
        run_prepare({"project": str(root)})
    assert (root / proj.MANIFEST_FILE).read_bytes() == before


def test_vits_projects_prepare_whole_phrases(tmp_path: Path) -> None:
    vits = proj.create_project(tmp_path / "tts", model_kind="vits")
    assert (vits.settings["chunk_seconds"], vits.settings["overlap_seconds"]) == (0.0, 0.0)
    rvc = proj.create_project(tmp_path / "rvc")
    assert rvc.settings["chunk_seconds"] == 3.7


def test_exact_span_mode_writes_exactly_the_spans(tmp_path: Path) -> None:
    """No slicing, no chunking: each span is one clip holding exactly those samples (same
    rate, no filter, no normalisation), overlaps allowed, a span past the end clamped."""
    import numpy as np

    from backend.dataset import pipeline

    sr = 16000
    rng = np.random.default_rng(3)
    audio = (0.3 * rng.standard_normal(3 * sr)).astype(np.float32)
    audio[sr: sr + 4000] = 0  # silence inside a span: not sliced there
    src = tmp_path / "源 file.wav"
    sf.write(src, audio, sr, subtype="FLOAT")
    settings = pipeline.PrepareSettings(highpass_hz=0, normalize="none")
    spans = [(0.5, 1.0), (0.8, 2.0), (2.5, 3.5), (3.2, 4.0)]
    res = pipeline.process_source(src, settings, sr, tmp_path / "gt", tmp_path / "16k", "s",
                                  segments=[(0.0, 0.1)], clips=spans)
    assert [(s.start, s.end) for s in res.slices] == [(0.5, 1.0), (0.8, 2.0), (2.5, 3.0)]
    for s in res.slices:
        data, file_sr = sf.read(s.path_gt, dtype="float32")
        assert file_sr == sr
        np.testing.assert_array_equal(data, audio[round(s.start * sr): round(s.end * sr)])
    assert any("clip 4 starts at 3.20 s" in w for w in res.warnings)
    empty = pipeline.process_source(src, settings, sr, tmp_path / "gt", tmp_path / "16k", "e",
                                    clips=[])
    assert empty.slices == [] and "no row left" in empty.warnings[0]
