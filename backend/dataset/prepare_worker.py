"""Runs in prepare's pool processes (or in the job's thread): one source at a time.

Returns plain dicts (they cross a process boundary). Errors come back as a
message naming the file and what to do; only the caller's ``check()`` raises.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.dataset import manifest as mf
from backend.fsutil import describe_os_error
from backend.kernel import JobCancelled

_progress_queue: Any = None  # set in pool workers by init_worker


def init_worker(progress_queue: Any) -> None:
    global _progress_queue
    _progress_queue = progress_queue


def _queue_progress(source_id: str) -> Callable[[float], None]:
    last = [0.0]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if _progress_queue is not None and (now - last[0] >= 0.3 or fraction >= 1.0):
            last[0] = now
            _progress_queue.put((source_id, float(fraction)))

    return report


def process_one(task: dict[str, Any], check: Callable[[], None] | None = None,
                progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Slice one source. Errors come back as a message; only ``check()`` may raise."""
    from backend.dataset import pipeline
    from backend.dataset.audio_io import AudioLoadError

    out: dict[str, Any] = {"id": task["id"], "stem": task["stem"]}
    try:
        settings = pipeline.PrepareSettings.from_dict(task["settings"])
        res = pipeline.process_source(
            Path(task["path"]), settings, task["sample_rate"], Path(task["out_gt"]),
            Path(task["out_16k"]), task["stem"], segments=task["segments"],
            clips=task.get("clips"),
            check=check or (lambda: None), progress=progress or _queue_progress(task["id"]))
    except JobCancelled:
        raise
    except AudioLoadError as exc:
        out["error"] = str(exc)
    except OSError as exc:
        out["error"] = _os_error_message(exc, task)
    except Exception as exc:  # a bug or an odd file must not stop the other sources
        out["error"] = _other_error_message(exc, task)
    else:
        out["slices"] = [mf.jsonable(dataclasses.asdict(s) if dataclasses.is_dataclass(s)
                                     else dict(vars(s))) for s in res.slices]
        out["warnings"] = [str(w) for w in res.warnings]
    return out


def _os_error_message(exc: OSError, task: dict[str, Any]) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        where = exc.filename or task["out_gt"]
        return describe_os_error(exc, "writing", where, retry="run prepare again")
    return describe_os_error(exc, "processing", exc.filename or task["path"],
                             retry="run prepare again")


def _other_error_message(exc: Exception, task: dict[str, Any]) -> str:
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if type(exc).__name__ == "LibsndfileError" and _no_room(task):
        return (f"disk full while writing the slices of {task['path']} to {task['out_gt']}: "
                "free space and run prepare again")
    return f"could not prepare {task['path']}: {text}"


def _no_room(task: dict[str, Any]) -> bool:
    """libsndfile hides the errno of a failed write: check whether one clip still fits."""
    seconds = float(task["settings"].get("chunk_seconds") or 0) or float(
        task["settings"].get("max_slice_seconds") or 30.0)
    need = int(seconds * (task["sample_rate"] + 16000) * 4) + (1 << 16)
    if not hasattr(os, "posix_fallocate"):  # macOS, Windows
        return shutil.disk_usage(task["out_gt"]).free < need
    probe = Path(task["out_gt"]) / f".tmp-space-{os.getpid()}.part"
    try:
        with open(probe, "wb") as fh:
            os.posix_fallocate(fh.fileno(), 0, need)
    except OSError as err:
        return err.errno in (errno.ENOSPC, errno.EDQUOT)
    finally:
        probe.unlink(missing_ok=True)
    return False
