"""Monotonic alignment search against a brute-force search, and the duration path."""

from __future__ import annotations

import itertools

import pytest
import torch

from backend.models.vits import alignment


def _all_paths(frames: int, symbols: int):
    """Every monotonic alignment: symbol of each frame starts at 0, ends at symbols - 1
    and steps by 0 or 1."""
    for steps in itertools.combinations(range(1, frames), symbols - 1):
        symbol, out = 0, []
        for f in range(frames):
            if f in steps:
                symbol += 1
            out.append(symbol)
        yield out


def _brute_force(score: torch.Tensor, frames: int, symbols: int) -> tuple[float, list[int]]:
    best = max(_all_paths(frames, symbols),
               key=lambda p: sum(float(score[f, s]) for f, s in enumerate(p)))
    return sum(float(score[f, s]) for f, s in enumerate(best)), best


def test_maximum_path_finds_the_best_monotonic_alignment():
    gen = torch.Generator().manual_seed(0)
    lengths = [(9, 4), (7, 7), (8, 1), (6, 3)]  # (frames, symbols); padded batch of 4
    score = torch.randn(4, 9, 7, generator=gen) * 3
    mask = torch.zeros(4, 9, 7)
    for b, (f, s) in enumerate(lengths):
        mask[b, :f, :s] = 1
    path = alignment.maximum_path(score, mask)
    assert path.shape == score.shape
    assert bool((path * (1 - mask) == 0).all())
    for b, (f, s) in enumerate(lengths):
        ours = path[b, :f, :s].argmax(1).tolist()
        assert path[b, :f, :s].sum(1).tolist() == [1.0] * f  # one symbol per frame
        best_score, best = _brute_force(score[b], f, s)
        assert ours == best, (b, ours, best)
        assert sum(float(score[b, i, j]) for i, j in enumerate(ours)) == pytest.approx(best_score)


def test_maximum_path_counts_its_time_and_refuses_short_audio():
    alignment.timing(reset=True)
    mask = torch.ones(1, 5, 3)
    alignment.maximum_path(torch.randn(1, 5, 3), mask)
    alignment.maximum_path(torch.randn(1, 5, 3), mask)
    counters = alignment.timing(reset=True)
    assert counters["calls"] == 2 and counters["seconds"] > 0
    assert alignment.timing()["calls"] == 0
    short = torch.zeros(2, 6, 5)
    short[0, :6, :5] = 1
    short[1, :3, :5] = 1
    with pytest.raises(ValueError, match="item 1 has 3 frames for 5 symbols"):
        alignment.maximum_path(torch.randn(2, 6, 5), short)


def test_path_from_durations_covers_each_symbol_for_its_frames():
    durations = torch.tensor([[2, 0, 3, 1], [1, 1, 0, 0]])
    mask = torch.ones(2, 7, 4)
    mask[1, 2:] = 0
    path = alignment.path_from_durations(durations, mask)
    assert path[0].argmax(1).tolist()[:6] == [0, 0, 2, 2, 2, 3]
    assert path[0, 6].sum() == 0  # past the end
    assert path[1].sum(0).tolist() == [1, 1, 0, 0]
    assert path.sum((1, 2)).tolist() == [6, 2]
