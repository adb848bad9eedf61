"""A backend verb must not exit while a job's worker thread still runs native code.

Found by the bundle's smoke test: ``TimbreStudio backend extract`` (and ``python -m
backend extract``) on a project of fewer than four clips runs its worker in a daemon
thread (backend.jobs.common.in_thread) and sometimes died at exit with "terminate called
without an active exception" (status 134) after printing its result: the interpreter
killed the thread while torch was still tearing down in it. ``in_thread`` now lets the
thread end once every result is in.
"""

from __future__ import annotations

import threading
import time

from backend.jobs.common import in_thread
from backend.kernel import JobContext


def test_in_thread_lets_its_worker_end_once_every_result_is_in() -> None:
    ended = threading.Event()

    def work(stop: threading.Event, put: object) -> None:
        put(1)  # type: ignore[operator]
        put(2)  # type: ignore[operator]
        time.sleep(0.3)  # the worker's own teardown, after its last result
        ended.set()

    ctx = JobContext("t", "test", lambda *a, **k: None)
    assert list(in_thread(ctx, work, 2, name="w", daemon=True)) == [1, 2]
    assert ended.is_set()


def test_a_cancelled_caller_does_not_wait_for_the_worker() -> None:
    release = threading.Event()

    def work(stop: threading.Event, put: object) -> None:
        put(1)  # type: ignore[operator]
        release.wait(5)  # stuck in a long item

    ctx = JobContext("t", "test", lambda *a, **k: None)
    results = in_thread(ctx, work, 2, name="w", daemon=True)
    assert next(results) == 1
    start = time.monotonic()
    results.close()  # the caller stops taking results (cancel, failure)
    assert time.monotonic() - start < 1
    release.set()
