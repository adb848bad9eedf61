"""Every table edit on a labels document, with undo and redo, and typing coalescing."""

from __future__ import annotations

import copy

import pytest

from backend.labels import history, ops
from backend.labels.rows import new_row
from backend.labels.store import LabelsDoc

WORDS = [["the", 0.1, 0.3, 0.9], ["quick", 0.4, 0.8, 0.8], ["brown", 0.9, 1.3, 0.7],
         ["fox", 1.5, 1.9, 0.9]]


def make_doc() -> LabelsDoc:
    """Two recordings: s1 with rows r1 (0-2 s, transcribed with words), r2 (2-3.5 s);
    s2 with r3 (0-1.5 s, Chinese)."""
    doc = LabelsDoc()
    for sid, start, end in (("s1", 0.0, 2.0), ("s1", 2.0, 3.5), ("s2", 0.0, 1.5)):
        doc.rows.append(new_row(doc.new_id(), sid, start, end))
    doc.row("r1").update(text="the quick brown fox", words=copy.deepcopy(WORDS),
                         origin="transcribed", confidence=0.8, language="en")
    doc.row("r2").update(text="jumps over", origin="transcribed", confidence=0.4,
                         flag="low_confidence", language="en")
    doc.row("r3").update(text="你好世界", language="zh", origin="transcribed")
    return doc


def state(doc: LabelsDoc) -> tuple:
    return copy.deepcopy(doc.rows), sorted(doc.cut_sources)


def roundtrip(doc: LabelsDoc, op: dict) -> dict:
    """Apply ``op``; undo must give back the state before exactly, redo the state after."""
    before = state(doc)
    result = ops.apply(doc, op)
    after = state(doc)
    assert after != before
    history.undo(doc)
    assert state(doc) == before
    history.redo(doc)
    assert state(doc) == after
    return result


def test_set_text_marks_edited_and_clears_auto_flags() -> None:
    doc = make_doc()
    res = roundtrip(doc, {"kind": "set", "ids": ["r2"], "fields": {"text": "jumped over"}})
    assert res == {"changed": ["r2"], "removed": []}
    row = doc.row("r2")
    assert (row["text"], row["origin"], row["flag"]) == ("jumped over", "edited", None)
    assert history.labels(doc)["undo_label"] == "edit text of row r2"


def test_set_other_fields_on_many_rows() -> None:
    doc = make_doc()
    roundtrip(doc, {"kind": "set", "ids": ["r1", "r3"], "fields": {"speaker": " Ann ",
                                                                   "language": "yue"}})
    assert [doc.row(r)["speaker"] for r in ("r1", "r3")] == ["Ann", "Ann"]
    assert doc.row("r1")["origin"] == "transcribed"  # only text makes a row edited


@pytest.mark.parametrize(("op", "needle"), [
    ({"kind": "set", "ids": ["r1", "r2"], "fields": {"text": "x"}}, "one row at a time"),
    ({"kind": "set", "ids": ["r1"], "fields": {"confidence": 1}}, "cannot set confidence"),
    ({"kind": "set", "ids": ["r1"], "fields": {"language": "English"}}, "language code"),
    ({"kind": "set", "ids": [], "fields": {"text": "x"}}, "op.ids"),
    ({"kind": "flag", "ids": ["r1"], "flag": "empty"}, "op.flag"),
    ({"kind": "split", "id": "r1", "at": 1.98}, "strictly inside row r1"),
    ({"kind": "split", "id": "r1", "at": 1.0, "text_at": 99}, "op.text_at"),
    ({"kind": "merge", "id": "r2"}, "row r2 is the last"),
    ({"kind": "replace", "find": "", "replace": "x"}, "op.find"),
    ({"kind": "replace", "find": "(", "replace": "x", "regex": True}, "regular expression"),
    ({"kind": "rename"}, "op.kind"),
])
def test_bad_ops_name_the_field_and_change_nothing(op: dict, needle: str) -> None:
    doc = make_doc()
    before = state(doc)
    with pytest.raises(ops.OpError, match=needle):
        ops.apply(doc, op)
    assert state(doc) == before and not doc.undo


def test_unknown_row() -> None:
    with pytest.raises(ops.UnknownRow, match="r42"):
        ops.apply(make_doc(), {"kind": "delete", "ids": ["r42"]})


def test_split_at_words_from_their_times() -> None:
    doc = make_doc()
    res = roundtrip(doc, {"kind": "split", "id": "r1", "at": 0.85, "text_at": None})
    assert res == {"changed": ["r1", "r4"], "removed": []}
    left, right = doc.row("r1"), doc.row("r4")
    assert (left["start"], left["end"], left["text"]) == (0.0, 0.85, "the quick")
    assert (right["start"], right["end"], right["text"]) == (0.85, 2.0, "brown fox")
    assert left["words"] == WORDS[:2] and right["words"] == WORDS[2:]
    assert right["language"] == "en" and right["origin"] == "transcribed"
    assert doc.cut_sources == ["s1"]
    history.undo(doc)
    assert doc.cut_sources == []  # the first split made s1 cut: undone, it is not


def test_split_at_a_character_and_by_time_share() -> None:
    doc = make_doc()
    ops.apply(doc, {"kind": "split", "id": "r1", "at": 1.0, "text_at": 9})
    assert (doc.row("r1")["text"], doc.row("r4")["text"]) == ("the quick", "brown fox")
    ops.apply(doc, {"kind": "set", "ids": ["r2"], "fields": {"text": "one two three four"}})
    ops.apply(doc, {"kind": "split", "id": "r2", "at": 2.75})  # no words: half the time
    assert (doc.row("r2")["text"], doc.row("r5")["text"]) == ("one two", "three four")
    ops.apply(doc, {"kind": "split", "id": "r3", "at": 0.4})  # Chinese: characters
    assert (doc.row("r3")["text"], doc.row("r6")["text"]) == ("你", "好世界")
    assert sorted(doc.cut_sources) == ["s1", "s2"]


def test_merge_joins_with_the_next_row_of_the_same_source() -> None:
    doc = make_doc()
    res = roundtrip(doc, {"kind": "merge", "id": "r1"})
    assert res == {"changed": ["r1"], "removed": ["r2"]}
    row = doc.row("r1")
    assert (row["start"], row["end"], row["text"]) == (0.0, 3.5, "the quick brown fox jumps over")
    assert row["flag"] == "low_confidence" and row["confidence"] == pytest.approx(0.6286, 1e-3)
    assert row["words"] is None  # r2 had no word times
    assert doc.cut_sources == ["s1"]


def test_delete_and_flag() -> None:
    doc = make_doc()
    res = roundtrip(doc, {"kind": "delete", "ids": ["r2", "r3"]})
    assert res == {"changed": [], "removed": ["r2", "r3"]}
    assert sorted(doc.cut_sources) == ["s1", "s2"]
    roundtrip(doc, {"kind": "flag", "ids": ["r1"], "flag": "user"})
    assert doc.row("r1")["flag"] == "user"
    roundtrip(doc, {"kind": "flag", "ids": ["r1"], "flag": None})
    assert doc.row("r1")["flag"] is None


def test_replace_is_one_step_and_counts() -> None:
    doc = make_doc()
    res = roundtrip(doc, {"kind": "replace", "find": "O", "replace": "0"})
    assert res["replaced"] == 3 and res["changed"] == ["r1", "r2"]  # case-insensitive
    assert doc.row("r2")["text"] == "jumps 0ver" and doc.row("r2")["origin"] == "edited"
    assert len(doc.undo) == 1
    doc = make_doc()
    res = ops.apply(doc, {"kind": "replace", "find": r"(\w+) (\w+)$", "replace": r"\2 \1",
                          "regex": True, "case": True, "ids": ["r2"]})
    assert res["replaced"] == 1 and doc.row("r2")["text"] == "over jumps"
    doc = make_doc()
    res = ops.apply(doc, {"kind": "replace", "find": "q", "replace": r"\1", "case": True})
    assert doc.row("r1")["text"] == r"the \1uick brown fox"  # literal unless regex
    res = ops.apply(doc, {"kind": "replace", "find": "zzz", "replace": "y"})
    assert res["replaced"] == 0 and len(doc.undo) == 1  # nothing replaced: no undo step


def test_typing_coalesces_into_one_step() -> None:
    doc = make_doc()
    original = state(doc)
    for i, text in enumerate(["j", "ju", "jum", "jump"]):
        ops.apply(doc, {"kind": "set", "ids": ["r2"], "fields": {"text": text},
                        "coalesce": "cell-1"}, now=1000.0 + i)
    assert len(doc.undo) == 1
    ops.apply(doc, {"kind": "set", "ids": ["r2"], "fields": {"text": "jumps"},
                    "coalesce": "cell-1"}, now=1100.0)  # over a minute later: a new step
    ops.apply(doc, {"kind": "set", "ids": ["r2"], "fields": {"text": "jumps!"},
                    "coalesce": "cell-2"}, now=1101.0)  # another editing of the cell
    assert len(doc.undo) == 3
    history.undo(doc)
    history.undo(doc)
    assert doc.row("r2")["text"] == "jump"
    history.undo(doc)
    assert state(doc) == original
    with pytest.raises(history.NothingTo, match="nothing to undo"):
        history.undo(doc)


def test_a_new_edit_clears_redo_and_the_stacks_are_bounded() -> None:
    doc = make_doc()
    ops.apply(doc, {"kind": "flag", "ids": ["r1"], "flag": "user"})
    history.undo(doc)
    assert history.labels(doc)["redo_label"] == "flag row r1"
    ops.apply(doc, {"kind": "set", "ids": ["r1"], "fields": {"speaker": "Bo"}})
    assert not doc.redo
    with pytest.raises(history.NothingTo, match="nothing to redo"):
        history.redo(doc)
    for i in range(history.MAX_ENTRIES + 20):
        ops.apply(doc, {"kind": "set", "ids": ["r1"], "fields": {"speaker": f"s{i}"}})
    assert len(doc.undo) == history.MAX_ENTRIES


def test_undo_keeps_later_changes_to_other_fields() -> None:
    doc = make_doc()
    ops.apply(doc, {"kind": "flag", "ids": ["r3"], "flag": "user"})
    ops.set_transcript(doc, "r3", {"text": "新的", "language": "zh", "confidence": 0.9,
                                   "words": None}, "x", None)
    history.undo(doc)
    assert doc.row("r3")["flag"] is None and doc.row("r3")["text"] == "新的"


def test_cut_source_drops_history_of_the_rows_it_replaces() -> None:
    doc = make_doc()
    ops.apply(doc, {"kind": "flag", "ids": ["r3"], "flag": "user"})
    ops.apply(doc, {"kind": "flag", "ids": ["r1"], "flag": "user"})
    ops.apply(doc, {"kind": "flag", "ids": ["r3"], "flag": None})
    ops.cut_source(doc, "s2", [{"start": 0.0, "end": 1.5, "text": "x", "language": "zh",
                                "confidence": 0.9, "words": None}], "e")
    assert [e["label"] for e in doc.undo] == ["flag row r1"]
    history.undo(doc)
    assert doc.row("r1")["flag"] is None


def test_split_one_word_keeps_it_whole() -> None:
    doc = make_doc()
    ops.apply(doc, {"kind": "set", "ids": ["r2"], "fields": {"text": "hello"}})
    ops.apply(doc, {"kind": "split", "id": "r2", "at": 3.2})
    assert (doc.row("r2")["text"], doc.row("r4")["text"]) == ("hello", "")


def test_edit_rows_is_one_undo_step() -> None:
    doc = make_doc()
    before = state(doc)
    changed = ops.edit_rows(doc, "import list.list", {
        "r1": {"text": "imported one", "origin": "imported", "speaker": "Ann"},
        "r3": {"text": "你好世界", "language": "zh"},  # no change: not counted
        "r2": {"text": "imported two", "origin": "imported"}})
    assert changed == ["r1", "r2"] and len(doc.undo) == 1
    assert doc.undo[-1]["label"] == "import list.list"
    assert not ops.set_transcript(doc, "r1", {"text": "x"}, "e", None)  # imported stays
    history.undo(doc)
    assert state(doc) == before
    with pytest.raises(ops.OpError, match="start of row r1"):
        ops.edit_rows(doc, "x", {"r1": {"start": 5.0}})
    with pytest.raises(ops.UnknownRow):
        ops.edit_rows(doc, "x", {"r77": {"text": "y"}})
