"""Monotonic alignment search (training) and the hard alignment path (inference).

Layouts follow the generator: alignments are ``[B, T_spec, T_text]`` (one row per
spectrogram frame, one column per text symbol). ``maximum_path`` finds, for each item, the
monotonic path of highest total score that starts at (frame 0, symbol 0), ends at (last
frame, last symbol) and, from one frame to the next, stays on a symbol or moves to the next
one; so every symbol gets at least one frame. The search runs in the compiled
``monotonic_alignment_search`` package (no build step of ours); ``timing()`` counts the
calls and seconds spent in it, so a benchmark can report its share of a training step.
"""

from __future__ import annotations

import threading
import time

import torch
from monotonic_alignment_search import maximum_path as _mas

_LOCK = threading.Lock()
_COUNTERS = {"calls": 0, "seconds": 0.0}


def maximum_path(neg_cent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Best monotonic alignment: scores/mask ``[B, T_spec, T_text]`` -> 0/1 path, same shape.

    Each item needs at least as many frames as symbols (``ValueError`` otherwise: such a
    clip is too short for its text and has to be left out of training)."""
    if neg_cent.shape != mask.shape or neg_cent.dim() != 3:
        raise ValueError(f"scores {tuple(neg_cent.shape)} and mask {tuple(mask.shape)} must "
                         "be the same [batch, frames, symbols] shape")
    frames = mask[:, :, 0].sum(1)
    symbols = mask[:, 0, :].sum(1)
    if bool((frames < symbols).any()):
        bad = int(torch.nonzero(frames < symbols)[0, 0])
        raise ValueError(f"batch item {bad} has {int(frames[bad])} frames for "
                         f"{int(symbols[bad])} symbols: its audio is too short for its text")
    start = time.perf_counter()
    # the package takes [B, T_text, T_spec]
    path = _mas(neg_cent.detach().float().transpose(1, 2).contiguous(),
                mask.detach().float().transpose(1, 2).contiguous())
    path = path.transpose(1, 2).to(device=neg_cent.device, dtype=neg_cent.dtype)
    with _LOCK:
        _COUNTERS["calls"] += 1
        _COUNTERS["seconds"] += time.perf_counter() - start
    return path


def timing(reset: bool = False) -> dict[str, float]:
    """``{"calls", "seconds"}`` spent in ``maximum_path`` since the last reset."""
    with _LOCK:
        out = dict(_COUNTERS)
        if reset:
            _COUNTERS["calls"] = 0
            _COUNTERS["seconds"] = 0.0
    return out


def path_from_durations(durations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Integer frames per symbol ``[B, T_text]`` -> 0/1 path ``[B, T_spec, T_text]``.

    Symbol ``j`` covers frames ``[sum(d[:j]), sum(d[:j+1]))``; ``mask`` (same shape as the
    path) cuts frames past the end."""
    ends = torch.cumsum(durations, dim=-1)
    starts = ends - durations
    frame = torch.arange(mask.size(1), device=durations.device).view(1, -1, 1)
    path = (frame >= starts.unsqueeze(1)) & (frame < ends.unsqueeze(1))
    return path.to(mask.dtype) * mask
