"""The waveform editor's Qt-free view arithmetic."""

from __future__ import annotations

import pytest

from desktop.components.edit_model import EditModel
from desktop.components.editor_view import (
    enabled_actions,
    inner_boundaries,
    pending_changes,
    play_range,
    same_segments,
    scroll_geometry,
    scroll_start,
    split_points,
)


def test_scroll_geometry_and_back() -> None:
    g = scroll_geometry(30.0, 12.0, 15.0, steps=1000)
    assert g.maximum == 1000 and g.page_step == 100 and g.value == int(1000 * 12 / 27)
    assert scroll_start(30.0, 12.0, 15.0, g.maximum, steps=1000) == pytest.approx(27.0)
    assert scroll_start(30.0, 12.0, 15.0, 0, steps=1000) == 0.0
    whole = scroll_geometry(30.0, 0.0, 30.0, steps=1000)
    assert whole == (0, 1000, 0)  # nothing to scroll
    tiny = scroll_geometry(30.0, 1.0, 1.001, steps=1000)
    assert tiny.page_step == 1  # never 0


def test_play_range_selection_cursor_or_whole() -> None:
    m = EditModel.for_source("s", 10.0)
    assert play_range(m) == (0.0, 10.0)
    m.set_cursor(4.0)
    assert play_range(m) == (4.0, 10.0)
    m.set_selection(2.0, 1.0)
    assert play_range(m) == (1.0, 2.0)


def test_enabled_actions_follow_the_model() -> None:
    assert not any(enabled_actions(None).values())
    m = EditModel.for_source("s", 10.0)
    assert enabled_actions(m) == {"play": True, "split": False, "trim": False,
                                  "delete": False, "undo": False, "redo": False}
    m.set_cursor(3.0)
    m.set_selection(1.0, 2.0)
    m.delete(1.0, 2.0)
    acts = enabled_actions(m)
    assert acts["split"] and acts["trim"] and acts["delete"] and acts["undo"]
    assert not acts["redo"]
    m.undo()
    assert enabled_actions(m)["redo"]


def test_inner_boundaries_of_a_slice_view() -> None:
    m = EditModel.for_slice("s", 1.0, 5.0, 10.0, [[0.0, 2.0], [3.0, 9.0]])
    # view time = source time - 1: kept 0..1 and 2..4 of a 4 s view
    assert inner_boundaries(m) == [1.0, 2.0]
    assert inner_boundaries(EditModel.for_source("s", 10.0)) == []


def test_split_points_and_pending_changes_against_the_prepared_segments() -> None:
    m = EditModel.for_source("s", 10.0)
    assert not pending_changes(m, None) and split_points(m.segments) == []
    m.split_at(4.0)
    assert split_points(m.segments) == [4.0]
    pending = pending_changes(m, None)
    assert pending.splits == [4.0] and pending.regions == []  # the split is not prepared
    assert not pending_changes(m, [[0.0, 4.0], [4.0, 10.0]])  # prepared with that split
    m.delete(6.0, 7.0)
    pending = pending_changes(m, [[0.0, 4.0], [4.0, 10.0]])
    assert pending.regions == [(6.0, 7.0)] and pending.splits == []
    # an edit undone back to the prepared state leaves nothing pending
    m.undo()
    assert not pending_changes(m, [[0.0, 4.0], [4.0, 10.0]])
    assert same_segments(m.to_json(), [[0.0, 4.0], [4.0, 10.0]], 10.0)
    assert not same_segments(m.to_json(), None, 10.0)
    assert same_segments(None, [[0.0, 10.0]], 10.0)


def test_pending_changes_of_a_slice_are_in_its_own_time() -> None:
    m = EditModel.for_slice("s", 2.0, 5.0, 10.0, [[0.0, 3.0], [4.0, 10.0]])
    # prepared: the whole file; kept now: all but 3..4 s of the source (1..2 s of the slice)
    assert pending_changes(m, None).regions == [(1.0, 2.0)]
    m.split_at(2.5)  # source time 4.5
    assert pending_changes(m, None).splits == [pytest.approx(2.5)]
