"""EditModel: kept segments, split/delete/trim, undo/redo, slices (no Qt)."""

from __future__ import annotations

import json

import pytest

from desktop.components.edit_model import EditModel, EditRefused, normalize


def seg(model: EditModel) -> list[list[float]]:
    return [[round(s, 6), round(e, 6)] for s, e in model.segments]


def test_whole_file_is_null():
    m = EditModel.for_source("src", 10.0)
    assert m.to_json() is None and m.is_whole
    assert m.removed_regions() == []
    assert not m.can_undo and not m.can_redo


def test_split_then_each_piece_separate():
    m = EditModel.for_source("src", 10.0)
    assert m.split_at(4.0)
    assert m.to_json() == [[0.0, 4.0], [4.0, 10.0]]
    assert not m.split_at(4.0), "splitting at an existing boundary changes nothing"
    assert m.split_at(7.5)
    assert m.to_json() == [[0.0, 4.0], [4.0, 7.5], [7.5, 10.0]]
    assert not m.removed_regions()


def test_split_in_removed_region_is_a_no_op():
    m = EditModel.for_source("src", 10.0, [[0, 2], [5, 10]])
    assert not m.split_at(3.0)
    assert not m.can_undo


def test_delete_across_segments():
    m = EditModel.for_source("src", 10.0, [[0, 4], [4, 7.5], [7.5, 10]])
    assert m.delete(3.0, 8.0)
    assert m.to_json() == [[0.0, 3.0], [8.0, 10.0]]
    assert m.removed_regions() == [(3.0, 8.0)]
    assert not m.is_kept(5.0) and m.is_kept(9.0)


def test_delete_inside_one_segment_and_reversed_bounds():
    m = EditModel.for_source("src", 10.0)
    assert m.delete(6.0, 2.0)
    assert m.to_json() == [[0.0, 2.0], [6.0, 10.0]]


def test_delete_at_edges_and_clipping():
    m = EditModel.for_source("src", 10.0)
    assert m.delete(-5.0, 1.0)
    assert m.delete(9.0, 50.0)
    assert m.to_json() == [[1.0, 9.0]]
    assert m.removed_regions() == [(0.0, 1.0), (9.0, 10.0)]


def test_delete_everything_refused_and_state_kept():
    m = EditModel.for_source("src", 10.0, [[2, 4]])
    with pytest.raises(EditRefused, match="remove everything"):
        m.delete(0, 10)
    assert m.to_json() == [[2.0, 4.0]]
    assert not m.can_undo


def test_trim_keeps_intersection():
    m = EditModel.for_source("src", 10.0, [[0, 3], [5, 10]])
    assert m.trim(2.0, 6.0)
    assert m.to_json() == [[2.0, 3.0], [5.0, 6.0]]
    with pytest.raises(EditRefused):
        m.trim(3.5, 4.5)


def test_tiny_selection_does_nothing():
    m = EditModel.for_source("src", 10.0)
    assert not m.delete(5.0, 5.0)
    assert not m.trim(5.0, 5.0000001)
    assert m.to_json() is None


def test_undo_redo_chain():
    m = EditModel.for_source("src", 10.0)
    m.split_at(5.0)
    m.delete(1.0, 2.0)
    m.trim(0.5, 9.0)
    after = m.to_json()
    assert after == [[0.5, 1.0], [2.0, 5.0], [5.0, 9.0]]
    assert m.undo() and m.to_json() == [[0.0, 1.0], [2.0, 5.0], [5.0, 10.0]]
    assert m.undo() and m.to_json() == [[0.0, 5.0], [5.0, 10.0]]
    assert m.undo() and m.to_json() is None
    assert not m.can_undo and not m.undo()
    assert m.can_redo
    assert m.redo() and m.redo() and m.redo()
    assert m.to_json() == after and not m.can_redo and not m.redo()


def test_new_edit_clears_redo():
    m = EditModel.for_source("src", 10.0)
    m.delete(1, 2)
    m.undo()
    assert m.can_redo
    m.delete(3, 4)
    assert not m.can_redo
    assert m.to_json() == [[0.0, 3.0], [4.0, 10.0]]


def test_json_roundtrip_and_from_json_resets_history():
    m = EditModel.for_source("src", 10.0)
    m.delete(2, 3)
    text = json.dumps(m.to_json())
    other = EditModel.for_source("src", 10.0)
    other.from_json(json.loads(text))
    assert other.segments == m.segments
    m.from_json(None)
    assert m.to_json() is None and not m.can_undo


def test_normalize_sorts_clips_and_merges():
    assert normalize([[5, 12], [0, 2], [1, 3]], 10.0) == [(0.0, 3.0), (5.0, 10.0)]
    assert normalize([[0, 4], [4, 6]], 10.0) == [(0.0, 4.0), (4.0, 6.0)], "split kept"
    with pytest.raises(ValueError):
        normalize([[1, 2, 3]], 10.0)


def test_slice_edits_are_in_source_time():
    # a slice covering 20..24 s of a 60 s source
    m = EditModel.for_slice("src", 20.0, 24.0, 60.0)
    assert m.duration == pytest.approx(4.0)
    assert m.delete(1.0, 2.0)
    assert m.to_json() == [[0.0, 21.0], [22.0, 60.0]]
    assert m.removed_regions() == [(1.0, 2.0)]
    assert m.split_at(3.0)
    assert m.to_json() == [[0.0, 21.0], [22.0, 23.0], [23.0, 60.0]]


def test_slice_trim_leaves_rest_of_source_alone():
    m = EditModel.for_slice("src", 20.0, 24.0, 60.0, [[0, 10], [15, 60]])
    assert m.trim(1.0, 3.0)
    assert m.to_json() == [[0.0, 10.0], [15.0, 20.0], [21.0, 23.0], [24.0, 60.0]]
    assert m.view_segments() == [(1.0, 3.0)]
    assert m.removed_regions() == [(0.0, 1.0), (3.0, 4.0)]


def test_slice_view_clips_segments():
    m = EditModel.for_slice("src", 20.0, 24.0, 60.0, [[0, 21], [23.5, 30]])
    assert m.view_segments() == [(0.0, 1.0), (3.5, 4.0)]
    assert m.removed_regions() == [(1.0, 3.5)]


def test_selection_and_cursor_clip_to_view():
    m = EditModel.for_source("src", 10.0)
    m.set_selection(8.0, 12.0)
    assert m.selection == (8.0, 10.0)
    m.set_selection(3.0, 3.0)
    assert m.selection is None
    m.set_cursor(-1.0)
    assert m.cursor == 0.0
    m.set_cursor(None)
    assert m.cursor is None


def test_bad_duration():
    with pytest.raises(ValueError):
        EditModel.for_source("src", 0.0)
