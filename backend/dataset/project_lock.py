"""One writer per project folder, across processes (the app, the CLI, two CLIs).

A job that writes a project holds an OS file lock on ``<project>/.timbre-lock``
(``filelock``: ``flock`` on Unix, ``LockFileEx`` on Windows). The OS drops the lock
when the holding process ends, however it ends, so a killed job never leaves the
project locked. Beside the lock, ``.timbre-lock.json`` says who holds it (job kind,
process id, host, start time); it is only read to word the "busy" message and never
decides whether the project is held, so a stale one left by a killed process is
harmless and simply overwritten by the next holder.

Within one process, a second holder of the same project is refused too (each
acquisition opens the lock file anew). Short project edits (``project.set_edits``,
``project.settings``, ...) pass when this very process holds the project for a job
(the app edits while its own prepare runs, as before) and otherwise take the lock for
the moment of the write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from backend.fsutil import atomic_write_json, describe_os_error, read_json

LOCK_FILE = ".timbre-lock"
HOLDER_FILE = ".timbre-lock.json"
LOCK_FILES = frozenset({LOCK_FILE, HOLDER_FILE})
EDIT_WAIT_S = 1.0  # an edit waits this long for another edit to finish

_held: dict[str, int] = {}  # project key -> holds taken by jobs of this process
_held_guard = threading.Lock()


class ProjectBusy(Exception):
    """Another job holds the project; ``holder`` is what it wrote about itself."""

    def __init__(self, root: Path, holder: dict[str, Any] | None):
        self.root = root
        self.holder = holder or {}
        super().__init__(busy_message(root, holder))
        self.message = str(self)


class ProjectNotWritable(Exception):
    """The project folder cannot be written (read-only, permissions, full disk)."""

    def __init__(self, root: Path, exc: OSError):
        self.root = root
        super().__init__(not_writable_message(root, exc))
        self.message = str(self)


def _key(root: Path) -> str:
    return os.path.normcase(os.path.abspath(root))


def busy_message(root: Path, holder: dict[str, Any] | None) -> str:
    return f"the project {root} is busy: {describe_holder(holder)} is working on it; " \
           "wait for it to finish (or stop it), then try again"


def describe_holder(holder: dict[str, Any] | None) -> str:
    """'a prepare job started from the command line (process 4242, since 2025-01-31 10:22:05)'"""
    if not holder or not _alive(holder):
        return "another Timbre Studio job"
    kind = holder.get("kind") or "Timbre Studio"
    what = "a project edit" if kind == "edit" else f"a {kind} job"
    via = holder.get("via")
    where = f" started from {via}" if via else ""
    host = f" on {holder['host']}" if holder.get("host") not in (None, socket.gethostname()) \
        else ""
    return f"{what}{where} (process {holder.get('pid')}{host}, since {holder.get('started')})"


def _alive(holder: dict[str, Any]) -> bool:
    """False when the holder info is left over from a process that is gone."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if holder.get("host") != socket.gethostname():
        return True  # another machine (a shared folder): cannot tell, trust it
    import psutil

    return psutil.pid_exists(pid)


def not_writable_message(root: Path, exc: OSError) -> str:
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"cannot write in the project folder {root}: it is read-only "
                f"({exc.strerror or exc}). Copy the project to a folder you can write to and "
                "open it from there, or make this folder writable, then try again")
    return describe_os_error(exc, "writing in the project folder", root)


def read_holder(root: Path) -> dict[str, Any] | None:
    try:
        data = read_json(Path(root) / HOLDER_FILE)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class ProjectLock:
    """A held project lock; ``release()`` (or leaving the ``with`` block) lets it go."""

    def __init__(self, root: Path, lock: FileLock, counted: bool):
        self.root = root
        self._lock = lock
        self._counted = counted
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._counted:
            with _held_guard:
                key = _key(self.root)
                _held[key] -= 1
                if not _held[key]:
                    del _held[key]
        with contextlib.suppress(OSError):
            (self.root / HOLDER_FILE).unlink()
        self._lock.release()

    def __enter__(self) -> ProjectLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(root: Path, kind: str, *, job_id: str | None = None, via: str | None = None,
            wait: float = 0.0, for_job: bool = True) -> ProjectLock:
    """Hold the project at ``root`` (created if missing) or raise ProjectBusy /
    ProjectNotWritable; writes the holder info."""
    root = Path(os.path.abspath(root))
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(root / LOCK_FILE, thread_local=False)
        lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
    except Timeout:
        raise ProjectBusy(root, read_holder(root)) from None
    except OSError as exc:
        raise ProjectNotWritable(root, exc) from exc
    holder = {"kind": kind, "job_id": job_id, "via": via, "pid": os.getpid(),
              "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        atomic_write_json(root / HOLDER_FILE, holder)
    except OSError as exc:
        lock.release()
        raise ProjectNotWritable(root, exc) from exc
    if for_job:
        with _held_guard:
            _held[_key(root)] = _held.get(_key(root), 0) + 1
    return ProjectLock(root, lock, for_job)


@contextlib.contextmanager
def editing(root: Path) -> Iterator[None]:
    """For a short write to a project's files outside a job (the app's edit commands)."""
    with _held_guard:
        mine = _key(root) in _held
    if mine:  # a job of this process holds it: the in-process project lock serialises
        yield
        return
    with acquire(root, "edit", via="the app", wait=EDIT_WAIT_S, for_job=False):
        yield
