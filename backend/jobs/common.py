"""Helpers shared by the job modules: the project argument, run folders, a worker thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from backend.dataset.project import Project, ProjectError, open_project
from backend.kernel import BadArgs, JobContext
from backend.names import safe_name


def project_arg(args: dict) -> Project:
    """The project named by ``args["project"]``, or BadArgs saying what is wrong."""
    if not args.get("project"):
        raise BadArgs("'project' is required: the project folder")
    try:
        return open_project(args["project"])
    except ProjectError as exc:
        raise BadArgs(str(exc)) from exc


def run_folder(project: Project, run: object) -> Path:
    """The folder of training run ``run`` (``main`` when empty): ``train/<safe_name(run)>``,
    so a run name never points outside the project."""
    return project.root / "train" / safe_name(run or "main", fallback="main")


POLL_S = 0.2  # a job waiting on a worker answers a cancel within this


def in_thread(ctx: JobContext, work: Callable[[threading.Event, Callable[[Any], None]], None],
              count: int, *, name: str, daemon: bool = False) -> Iterator[Any]:
    """Run ``work(stop, put)`` in a thread and yield the ``count`` results it ``put``s, in
    order, while this thread checks for a cancel every ``POLL_S``. ``stop`` is set when the
    caller stops taking results (done, cancelled or failed): ``work`` looks at it between
    items and ends after the one in flight."""
    results: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(stop, results.put), name=name, daemon=daemon)
    thread.start()
    try:
        for _ in range(count):
            while True:
                ctx.check()
                try:
                    yield results.get(timeout=POLL_S)
                    break
                except queue.Empty:
                    continue
        # every result is in: let the thread end before the caller goes on, or a CLI verb
        # can exit while it still runs native code (a daemon thread killed mid-torch at
        # interpreter exit aborts the process: "terminate called without an active exception")
        thread.join()
    finally:
        stop.set()
