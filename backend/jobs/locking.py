"""The project lock around every job that writes a project: the one place the server's
JobManager and the CLI runner take it.

A job module declares the project it writes with ``project_folder(params) -> Path | None``;
the lock (``backend.dataset.project_lock``) is taken after ``prepare`` and before ``run``
and released when ``run`` ends. A project another job holds gives ``busy`` naming that
job; a project folder that cannot be written gives ``io_error`` naming the folder.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from backend.dataset import project_lock
from backend.kernel import JobError
from backend.protocol import E_BUSY, E_IO


def hold_project(module: ModuleType, params: Any, *, kind: str, job_id: str,
                 via: str) -> project_lock.ProjectLock | None:
    """Hold the project ``module`` writes (None for a job that writes no project)."""
    folder_of = getattr(module, "project_folder", None)
    root = folder_of(params) if folder_of is not None else None
    if root is None:
        return None
    try:
        return project_lock.acquire(root, kind, job_id=job_id, via=via)
    except project_lock.ProjectBusy as exc:
        raise JobError(exc.message, code=E_BUSY,
                       details={"project": str(exc.root), "holder": exc.holder}) from exc
    except project_lock.ProjectNotWritable as exc:
        raise JobError(exc.message, code=E_IO, details={"project": str(exc.root)}) from exc
