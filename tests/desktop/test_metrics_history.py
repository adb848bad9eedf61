"""MetricsHistory (Qt-free): live records, file history, resume overlap, smoothing."""

from __future__ import annotations

import json
from pathlib import Path

from desktop.components.metrics import MetricsHistory


def _rec(step: int, **terms: float) -> dict:
    return {"step": step, "epoch": 1, "samples": step * 4, **terms}


def test_terms_and_series() -> None:
    h = MetricsHistory()
    h.extend([_rec(1, loss_g=3.0, lr=1e-4), _rec(2, loss_g=2.0, lr=1e-4)])
    assert h.terms() == ["loss_g", "lr"]
    assert h.series("loss_g") == ([1, 2], [3.0, 2.0])
    assert h.last["loss_g"] == 2.0 and h.last_step == 2


def test_resumed_run_overwrites_repeated_steps() -> None:
    h = MetricsHistory()
    h.extend(_rec(s, loss=float(s)) for s in range(1, 11))
    h.extend(_rec(s, loss=100.0 + s) for s in range(7, 9))  # resumed from step 6
    steps, values = h.series("loss")
    assert steps == [1, 2, 3, 4, 5, 6, 7, 8] and values[-2:] == [107.0, 108.0]


def test_file_is_read_incrementally_and_tolerates_a_cut_line(tmp_path: Path) -> None:
    path = tmp_path / "métriques run" / "metrics.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(_rec(s, loss=1.0 / s)) + "\n" for s in range(1, 4))
                    + '{"step": 4, "loss"', encoding="utf-8")
    h = MetricsHistory()
    assert h.read_file(path) == 3
    with path.open("a", encoding="utf-8") as fh:
        fh.write(': 0.25}\n' + json.dumps(_rec(5, loss=0.2)) + "\n")
    assert h.read_file(path) == 2
    assert h.series("loss")[0] == [1, 2, 3, 4, 5]
    assert h.read_file(tmp_path / "missing.jsonl") == 0


def test_smoothing_and_hover_values() -> None:
    h = MetricsHistory()
    h.extend(_rec(s, loss=v) for s, v in [(1, 0.0), (2, 10.0), (3, 0.0), (10, 10.0)])
    _, smooth = h.series("loss", smoothing=0.5)
    assert smooth == [0.0, 5.0, 2.5, 6.25]
    assert h.value_at("loss", 2.4) == 10.0 and h.value_at("loss", 8) == 10.0
    assert h.value_at("nope", 1) is None


def test_non_numbers_and_nan_are_ignored() -> None:
    h = MetricsHistory()
    h.add({"step": 1, "loss": float("nan"), "note": "x", "ok": True, "gn": 2})
    h.add({"no_step": 1})
    assert h.terms() == ["gn"]
