"""Backend bugs the bundle's smoke test found (tests that fail on the old code).

A backend verb must not exit while a job's worker thread still runs native code:
``TimbreStudio backend extract`` (and ``python -m backend extract``) on a project of fewer
than four clips runs its worker in a daemon thread (backend.jobs.common.in_thread) and
sometimes died at exit with "terminate called
without an active exception" (status 134) after printing its result: the interpreter
killed the thread while torch was still tearing down in it. ``in_thread`` now lets the
thread end once every result is in.

The frozen app has no TensorBoard (the spec leaves it out) and no pip: asked to log to
TensorBoard it says so without advising ``pip install``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time

import pytest

from backend.jobs.common import in_thread
from backend.kernel import JobContext
from backend.train import tb_writer


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


def test_the_frozen_app_says_it_comes_without_tensorboard(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard"
                        else real_find_spec(name, *a))
    from_source = tb_writer.missing_message()
    assert "pip install 'timbre-studio[tensorboard]'" in from_source
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    frozen = tb_writer.missing_message()
    assert frozen.startswith("TensorBoard logging needs the tensorboard package: ")
    assert "the installed app comes without it" in frozen and "pip" not in frozen
