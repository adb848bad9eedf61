"""Training metrics history for the Train page (Qt-free).

Records arrive live as ``job.metrics`` events and are also read back from the
run's ``metrics.jsonl``, so the graphs show the full history after a restart.
Each record is a flat dict with ``step`` and numeric terms.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# keys that are bookkeeping, not curves
NON_TERMS = {"step", "epoch", "samples", "steps_per_epoch", "job_id"}


class MetricsHistory:
    def __init__(self) -> None:
        self.revision = 0  # bumps on every change: views repaint when it moved
        self.clear()

    def clear(self) -> None:
        self._steps: dict[str, list[int]] = {}
        self._values: dict[str, list[float]] = {}
        self.last_step = 0
        self.last: dict[str, float] = {}
        self._file_offset = 0
        self.revision += 1

    def add(self, record: dict[str, Any]) -> None:
        step = record.get("step")
        if not isinstance(step, int):
            return
        if step <= self.last_step and self.last_step:
            self._truncate_after(step - 1)  # a resumed run repeats steps: keep the newest
        for key, value in record.items():
            if key in NON_TERMS or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)) and math.isfinite(value):
                self._steps.setdefault(key, []).append(step)
                self._values.setdefault(key, []).append(float(value))
                self.last[key] = float(value)
        self.last_step = step
        self.revision += 1

    def extend(self, records: Iterable[dict[str, Any]]) -> None:
        for r in records:
            self.add(r)

    def _truncate_after(self, step: int) -> None:
        for key, steps in self._steps.items():
            keep = sum(1 for s in steps if s <= step)
            del steps[keep:]
            del self._values[key][keep:]

    def read_file(self, path: Path) -> int:
        """Read new lines of a metrics.jsonl (from where the last read stopped)."""
        try:
            with open(path, "rb") as fh:
                fh.seek(self._file_offset)
                data = fh.read()
        except OSError:
            return 0
        end = data.rfind(b"\n") + 1  # leave a line still being written for next time
        count = 0
        for raw in data[:end].splitlines():
            try:
                self.add(json.loads(raw))
                count += 1
            except ValueError:
                continue
        self._file_offset += end
        return count

    def terms(self) -> list[str]:
        return sorted(self._steps)

    def series(self, term: str, smoothing: float = 0.0) -> tuple[list[int], list[float]]:
        """Steps and values; ``smoothing`` in [0, 1) is an exponential moving average."""
        steps = self._steps.get(term, [])
        values = self._values.get(term, [])
        if smoothing <= 0 or not values:
            return list(steps), list(values)
        out, avg = [], values[0]
        for v in values:
            avg = smoothing * avg + (1 - smoothing) * v
            out.append(avg)
        return list(steps), out

    def value_at(self, term: str, step: float) -> float | None:
        """The value at the recorded step nearest to ``step`` (for hover read-outs)."""
        steps = self._steps.get(term)
        if not steps:
            return None
        i = bisect.bisect_left(steps, step)
        cands = [j for j in (i - 1, i) if 0 <= j < len(steps)]
        j = min(cands, key=lambda k: abs(steps[k] - step))
        return self._values[term][j]


# What each curve is, in words (the key stays in brackets for those who know it):
# term -> (name, short name for the hover read-out, what it tells)
TERMS: dict[str, tuple[str, str, str]] = {
    "loss_mel": ("How far the sound is from the recording (mel)", "mel",
                 "The one to watch: the distance between the model's sound and the real "
                 "clip's spectrum. It should fall and then flatten."),
    "loss_kl": ("Prior fit (KL)", "KL",
                "How well what the model expects from the text (or features) matches what "
                "it hears in the clip."),
    "loss_dur": ("Timing of sounds (duration)", "duration",
                 "How well the model predicts how long each sound lasts (text-to-speech)."),
    "loss_adv": ("Fooling the critic (adversarial)", "adversarial",
                 "How often the critic takes the model's sound for a recording. It goes up "
                 "and down as both learn: that is normal."),
    "loss_fm": ("Matching the critic's features (feature matching)", "features",
                "How close the model's sound looks to a recording, inside the critic."),
    "loss_d": ("Critic (discriminator)", "critic",
               "How well the critic tells recordings from the model's sound. Near zero for "
               "long means the critic wins and the model stops learning."),
    "loss_g": ("All generator terms together (total)", "total",
               "The sum of the terms above that the model minimises."),
    "grad_norm_g": ("Generator step size (gradient norm)", "step G",
                    "How big each update of the model is. Spikes are normal; a steady climb "
                    "is not."),
    "grad_norm_d": ("Critic step size (gradient norm)", "step critic",
                    "How big each update of the critic is."),
    "lr": ("Learning rate", "learning rate", "How fast the weights move: it decays slowly."),
    "step_time": ("Seconds per step", "s/step", "Time of one training step."),
    "samples_per_s": ("Clips per second", "clips/s", "Training speed."),
    "gpu_mem_mb": ("GPU memory (MB)", "GPU MB", "The most GPU memory used so far."),
}


def term_label(term: str) -> str:
    """A curve's name in words (an unknown term: its key)."""
    return TERMS[term][0] if term in TERMS else term


def term_short(term: str) -> str:
    return TERMS[term][1] if term in TERMS else term


def term_hint(term: str) -> str:
    """The tooltip of a curve's checkbox: what it tells, and the key it is logged as."""
    hint = TERMS[term][2] if term in TERMS else ""
    return f"{hint} (logged as {term})" if hint else term
