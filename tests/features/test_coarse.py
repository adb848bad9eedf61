"""Coarse pitch (1..255) for the RVC pitch embedding."""

from __future__ import annotations

import math

import numpy as np

from backend.features.f0 import coarse_f0


def _reference(f0_hz: float) -> int:
    """The formula from /work/shared/reference/README.md, one value at a time."""
    if f0_hz <= 0:
        return 1
    lo, hi = (1127 * math.log(1 + f / 700) for f in (50.0, 1100.0))
    value = (1127 * math.log(1 + f0_hz / 700) - lo) * 254 / (hi - lo) + 1
    return int(min(255, max(1, round(value))))


def test_edges_map_to_1_and_255() -> None:
    out = coarse_f0(np.array([50.0, 1100.0, 0.0]))
    assert out.tolist() == [1, 255, 1]
    assert np.issubdtype(out.dtype, np.integer)


def test_unvoiced_and_out_of_range() -> None:
    out = coarse_f0(np.array([0.0, -5.0, np.nan, 20.0, 49.9, 1100.1, 4000.0]))
    assert out.tolist() == [1, 1, 1, 1, 1, 255, 255]


def test_just_inside_the_edges() -> None:
    # one step above 50 Hz is 2; one step below 1100 Hz is 254
    lo, hi = (1127 * math.log(1 + f / 700) for f in (50.0, 1100.0))
    step = (hi - lo) / 254
    f_two = 700 * (math.exp((lo + step) / 1127) - 1)
    f_254 = 700 * (math.exp((hi - step) / 1127) - 1)
    assert coarse_f0(np.array([f_two, f_254])).tolist() == [2, 254]


def test_matches_formula_and_is_monotonic() -> None:
    f0 = np.geomspace(50.0, 1100.0, 5000)
    out = coarse_f0(f0)
    assert out.min() == 1 and out.max() == 255
    assert np.all(np.diff(out) >= 0)
    assert set(np.unique(out)) == set(range(1, 256))  # every index is reachable
    for hz in (55.0, 100.0, 220.0, 440.0, 880.0):
        assert coarse_f0(np.array([hz]))[0] == _reference(hz)


def test_known_values() -> None:
    # Worked by hand from m = 1127 ln(1 + f/700): m(50)=77.75, m(1100)=1064.41,
    # m(440)=549.64 -> (549.64 - 77.75) * 254 / 986.65 + 1 = 122.48 -> 122
    assert coarse_f0(np.array([440.0]))[0] == 122
