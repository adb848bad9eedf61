"""Checkpoint files: written atomically, never truncated, newest loadable wins.

A checkpoint is a torch pickle of a plain dict (tensors, numbers, strings and
lists only) named ``ckpt_<step:09d>.pt`` inside the run folder. It is written
to a temporary file, flushed to disk, then renamed over its final name, so a
crash or a kill leaves either the old set or the new set of files, never a
half-written checkpoint under a real name.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from backend.fsutil import describe_os_error
from backend.safeload import load_weights

log = logging.getLogger("backend.train")
_NAME = re.compile(r"^ckpt_(\d{9})\.pt$")
DAMAGED_DIR = "damaged"  # damaged checkpoints (and the history they leave) are moved here


@dataclass(frozen=True)
class LoadedCheckpoint:
    path: Path
    state: dict[str, Any]
    skipped: list[tuple[Path, str]]  # newer files that could not be read, with why


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return run_dir / f"ckpt_{step:09d}.pt"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoints in the run folder, oldest first."""
    if not run_dir.is_dir():
        return []
    found = [p for p in run_dir.iterdir() if _NAME.match(p.name)]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))  # type: ignore[union-attr]


def save_checkpoint(run_dir: Path, step: int, state: dict[str, Any], keep_last: int = 3) -> Path:
    """Write the checkpoint of ``step`` atomically, then prune; OSError when it cannot be
    written (the other checkpoints are untouched)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    final = checkpoint_path(run_dir, step)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except RuntimeError as exc:
        # a failed write (a full disk) inside torch.save surfaces as its zip writer's
        # RuntimeError ("unexpected pos ..."), raised while handling the OSError
        cause = _os_error(exc)
        if cause is None:
            raise
        raise cause from exc
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(run_dir)
    prune(run_dir, keep_last)
    return final


def prune(run_dir: Path, keep_last: int) -> None:
    ckpts = list_checkpoints(run_dir)
    for old in ckpts[:-keep_last] if keep_last > 0 else []:
        old.unlink(missing_ok=True)
    for stale in run_dir.glob(".ckpt_*.tmp"):
        stale.unlink(missing_ok=True)


def load_latest(run_dir: Path) -> LoadedCheckpoint | None:
    """The newest checkpoint that loads; unreadable newer ones are reported."""
    skipped: list[tuple[Path, str]] = []
    for path in reversed(list_checkpoints(run_dir)):
        try:
            state = load_weights(path)
        except Exception as exc:  # truncated, corrupt, wrong format
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            log.warning("checkpoint %s could not be read (%s); trying an older one",
                        path.name, reason)
            skipped.append((path, reason))
            continue
        if not isinstance(state, dict) or "step" not in state:
            skipped.append((path, "not a Timbre Studio checkpoint"))
            continue
        return LoadedCheckpoint(path, state, skipped)
    if skipped:
        return LoadedCheckpoint(Path(), {}, skipped)
    return None


class WriteFailed(RuntimeError):
    """A file of the run could not be written: the message names it and what to do."""


def write_failed(exc: OSError, what: str, path: Path, run_dir: Path) -> WriteFailed:
    """``WriteFailed`` for ``exc`` raised while writing ``what`` (the checkpoint, the
    metrics file ...) to ``path``, saying which checkpoint a restart resumes from."""
    kept = list_checkpoints(run_dir)
    if kept:
        retry = (f"start the run again: it resumes from its last good checkpoint, "
                 f"{kept[-1].name}, which is kept")
    else:
        retry = "start the run again (no checkpoint was saved yet: it starts from step 1)"
    return WriteFailed(describe_os_error(exc, f"writing {what}", path, retry=retry))


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError an exception was raised from or while handling, if any."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, OSError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def set_aside(run_dir: Path, path: Path) -> Path:
    """Move a file of the run into ``damaged/`` under a name no other file has (``.1``,
    ``.2`` ... when one is there already); returns where it went. Never deletes."""
    folder = run_dir / DAMAGED_DIR
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    n = 0
    while target.exists():
        n += 1
        target = folder / f"{path.name}.{n}"
    os.rename(path, target)  # same file system: a rename, never a copy
    return target


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
