"""rows.sync against a really prepared project, and what transcription writes into rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.dataset import project as proj
from backend.labels import history, ops, rows, store
from tests.labels.helpers import clips, run_prepare


@pytest.fixture
def project(root: Path) -> proj.Project:
    return proj.open_project(root)


def sources(project) -> list[str]:
    return [s["id"] for s in project.load_sources()]


def test_sync_adds_rows_for_clips_and_marks_stale(project: proj.Project) -> None:
    doc = store.LabelsDoc()
    rows.sync(doc, project)
    a, b = sources(project)
    for sid in (a, b):
        spans = [v for r in doc.rows if r["source_id"] == sid for v in (r["start"], r["end"])]
        assert spans == pytest.approx([v for c in clips(project.root, sid) for v in c])
    assert all(r["origin"] == "none" and not r["stale"] for r in doc.rows)
    n, ids = len(doc.rows), [r["id"] for r in doc.rows]
    rows.sync(doc, project)  # nothing new: nothing changes
    assert [r["id"] for r in doc.rows] == ids and doc.next_id == n + 1

    # prepare again with other settings: the old rows go stale (kept), new rows come
    assert ops.set_transcript(doc, ids[0], {"text": "hello", "language": "en",
                                            "confidence": 0.9, "words": None}, "e:m", None)
    run_prepare({"project": str(project.root), "settings": {"chunk_seconds": 0,
                                                             "overlap_seconds": 0}})
    ops.apply(doc, {"kind": "flag", "ids": [ids[1]], "flag": "user"})
    ops.apply(doc, {"kind": "set", "ids": [ids[2]], "fields": {"speaker": "Ann"}})
    rows.sync(doc, project)
    old = [r for r in doc.rows if r["id"] in ids]
    # rows that hold something are kept (stale); blank ones go unless an undo step needs them
    assert [r["id"] for r in old] == ids[:3] and all(r["stale"] for r in old)
    history.undo(doc)  # the speaker: r3 is blank now, but the redo step holds it
    rows.sync(doc, project)
    assert doc.row(ids[2])["stale"]
    ops.apply(doc, {"kind": "flag", "ids": [ids[0]], "flag": "user"})  # clears redo
    rows.sync(doc, project)
    with pytest.raises(KeyError):
        doc.row(ids[2])
    assert old[0]["text"] == "hello"
    fresh = [r for r in doc.rows if not r["stale"]]
    assert len(fresh) == sum(len(clips(project.root, s)) for s in (a, b))
    view = rows.View(project)
    shown = view.rows(doc)
    assert all(r["clip"] and Path(r["clip_path"]).is_file() and not r["pending"]
               for r in shown if not r["stale"])
    assert all(r["clip"] is None and not r["pending"] for r in shown if r["stale"])
    assert rows.summary(shown)["stale"] == 2  # the text and the flag (r3 went)


def test_set_transcript_leaves_user_text(project: proj.Project) -> None:
    doc = store.LabelsDoc()
    rows.sync(doc, project)
    r1, r2 = doc.rows[0]["id"], doc.rows[1]["id"]
    words = [{"text": "hi", "start": 0.1, "end": 0.3, "prob": 0.8}]
    tr = {"text": " hi ", "language": "en", "confidence": 0.3, "words": words}
    assert ops.set_transcript(doc, r1, tr, "pocketsphinx:en-us", "low_confidence")
    row = doc.row(r1)
    assert (row["text"], row["origin"], row["flag"], row["engine"], row["words"]) == \
        ("hi", "transcribed", "low_confidence", "pocketsphinx:en-us", [["hi", 0.1, 0.3, 0.8]])
    ops.apply(doc, {"kind": "set", "ids": [r2], "fields": {"text": "mine"}})
    assert not ops.set_transcript(doc, r2, tr, "x", None)
    assert doc.row(r2)["text"] == "mine" and doc.row(r2)["origin"] == "edited"
    ops.apply(doc, {"kind": "flag", "ids": [r1], "flag": "user"})
    assert ops.set_transcript(doc, r1, {**tr, "confidence": 0.9}, "x", None)
    assert doc.row(r1)["flag"] == "user"  # the user's flag stays
    with pytest.raises(ops.UnknownRow):
        ops.set_transcript(doc, "r999", tr, "x", None)


def test_cut_source(project: proj.Project) -> None:
    doc = store.LabelsDoc()
    rows.sync(doc, project)
    a, b = sources(project)
    b_rows = [r["id"] for r in doc.rows if r["source_id"] == b]
    pieces = [{"start": 0.1, "end": 1.2, "text": "one two", "language": "en",
               "confidence": 0.9, "words": [["one", 0.1, 0.5, 0.9], ["two", 0.6, 1.1, 0.9]]},
              {"start": 1.3, "end": 2.8, "text": "", "language": "en", "confidence": None,
               "words": [], "flag": "empty"}]
    ids = ops.cut_source(doc, a, pieces, "pocketsphinx:en-us")
    mine = [r for r in doc.rows if r["source_id"] == a]
    assert [r["id"] for r in mine] == ids and a in doc.cut_sources
    assert [(r["start"], r["end"], r["text"], r["flag"]) for r in mine] == \
        [(0.1, 1.2, "one two", None), (1.3, 2.8, "", "empty")]
    assert [r["id"] for r in doc.rows if r["source_id"] == b] == b_rows  # untouched
    rows.sync(doc, project)  # a cut source gets no rows back from the manifest
    assert [r["id"] for r in doc.rows if r["source_id"] == a] == ids
    shown = {r["id"]: r for r in rows.View(project).rows(doc)}
    assert all(shown[i]["pending"] for i in ids)  # not prepared at these spans yet

    ops.apply(doc, {"kind": "set", "ids": [ids[1]], "fields": {"text": "typed"}})
    with pytest.raises(ValueError, match=ids[1]):
        ops.cut_source(doc, a, pieces, "x")
    assert doc.row(ids[1])["text"] == "typed"
    with pytest.raises(ValueError, match="piece 1"):
        ops.cut_source(doc, b, [pieces[1], pieces[0]], "x")
    assert [r["id"] for r in doc.rows if r["source_id"] == b] == b_rows
