"""Optional TensorBoard event files for a training run (``<run>/tensorboard/``).

TensorBoard is an optional extra: ``torch.utils.tensorboard`` is imported only when a
run asks for it, and ``missing_message`` lets the job refuse such a run before it starts.
Every numeric metric of a step (all but ``step`` itself) becomes a scalar with that
metric's name as its tag and the optimiser step as its step.

A resumed run opens a new event file with ``purge_step`` at its first step: TensorBoard
hides the steps a killed run logged after its last checkpoint (they run again), so the
curves stay continuous, like ``metrics.jsonl``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from backend.resources import frozen

INSTALL_HINT = "install the optional tensorboard extra: pip install 'timbre-studio[tensorboard]'"
FROZEN_HINT = ("the installed app comes without it (left out to keep the download small); "
               "train from a source checkout with the tensorboard extra to log, or follow "
               "the run's metrics.jsonl")
FLUSH_SECONDS = 10


def missing_message() -> str:
    """Why TensorBoard logging cannot be used here ("" when it can)."""
    if importlib.util.find_spec("tensorboard") is None:
        hint = FROZEN_HINT if frozen() else INSTALL_HINT  # no pip in the bundle
        return f"TensorBoard logging needs the tensorboard package: {hint}"
    return ""


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """The record's numeric metrics by tag (booleans and ``step`` left out)."""
    return {k: float(v) for k, v in record.items()
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)}


class TensorBoardLog:
    """Writes one run's metrics as TensorBoard scalars."""

    def __init__(self, run_dir: Path, first_step: int) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:  # tensorboard missing or broken
            raise RuntimeError(f"TensorBoard logging is not available ({exc}): "
                               f"{INSTALL_HINT}") from exc
        self.dir = run_dir / "tensorboard"
        self.dir.mkdir(parents=True, exist_ok=True)
        # a run that starts over (step 1) after a damaged checkpoint hides its old curves too
        purge = first_step if first_step > 1 or any(self.dir.glob("events.out.tfevents.*")) \
            else None
        self._writer = SummaryWriter(log_dir=str(self.dir), purge_step=purge,
                                     flush_secs=FLUSH_SECONDS)

    def add(self, record: dict[str, Any]) -> None:
        step = record.get("step")
        if not isinstance(step, int):
            return
        for tag, value in scalars(record).items():
            self._writer.add_scalar(tag, value, step)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
