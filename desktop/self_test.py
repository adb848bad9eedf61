"""``--self-test DIR``: the window checks its own installation, then quits with 0 or 1.

``QtSelfTest`` follows the window's ``BackendClient``: hello, then a ``prepare`` job and a
``convert`` job (desktop/components/self_test.py says which), each through the one
``JobHandle`` as the pages use them. The report goes to ``DIR/self-test.json`` and its
summary to stderr; the exit code is 0 only when every step passed. A crashed backend, a
refused job or the deadline ends the test as a failure, never as a hang.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer

from backend.protocol import Hello
from desktop.backend_client import BackendClient
from desktop.components.job_handle import OK, JobHandle
from desktop.components.self_test import (
    SelfTestError,
    SelfTestPlan,
    SelfTestReport,
    converted_outputs,
)

DEADLINE_S = 900  # the frozen backend's first start and a CPU conversion on 2 slow cores


class QtSelfTest(QObject):
    def __init__(self, client: BackendClient, folder: str | Path,
                 finish: Callable[[int], None], deadline_s: float = DEADLINE_S) -> None:
        super().__init__(client)
        self.client, self.finish = client, finish
        self.plan = SelfTestPlan(Path(folder).expanduser().resolve())
        self.report = SelfTestReport(self.plan.folder)
        self._done = False
        self._job: JobHandle | None = None
        client.sig_hello.connect(self._on_client_hello)
        client.sig_crashed.connect(self._on_client_crashed)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._on_deadline_timeout)
        self._deadline.start(int(deadline_s * 1000))
        self._invalid = ""
        try:
            self.plan.check()
        except SelfTestError as exc:
            self._invalid = str(exc)
            QTimer.singleShot(0, lambda: self._end(self._invalid))

    def _on_client_hello(self, hello: Hello) -> None:
        if self._done or self._invalid or self.report.hello:
            return
        self.report.hello = dataclasses.asdict(hello)
        self.report.step("hello", True, f"backend {hello.backend}, torch {hello.torch}")
        self._start("prepare", self.plan.prepare_args(), self._after_prepare)

    def _start(self, kind: str, args: dict[str, Any],
               then: Callable[[JobHandle], None]) -> None:
        self.report.begin()
        job = self.client.start_job(kind, args)
        self._job = job

        def listener(handle: JobHandle, event: str, data: dict[str, Any]) -> None:
            if handle.finished and not self._done and self._job is handle:
                self._job = None
                then(handle)

        job.subscribe(listener)

    def _after_prepare(self, job: JobHandle) -> None:
        if not self._passed("prepare", job):
            return
        self._start("convert", self.plan.convert_args(), self._after_convert)

    def _after_convert(self, job: JobHandle) -> None:
        if not self._passed("convert", job):
            return
        self._end()

    def _passed(self, name: str, job: JobHandle) -> bool:
        if job.state != OK:
            self.report.step(name, False, f"{job.state}: {job.error_message}")
            self._end()
            return False
        if name == "convert":
            files, problem = converted_outputs(job.result)
            self.report.step(name, bool(files), problem, outputs=files)
            if not files:
                self._end()
                return False
        else:
            self.report.step(name, True, result=_short(job.result))
        return True

    def _on_client_crashed(self, message: str, will_restart: bool) -> None:
        self._end(f"the backend crashed: {message}")

    def _on_deadline_timeout(self) -> None:
        job = self._job
        self._end(f"not finished after {self._deadline.interval() // 1000} s"
                  + (f" (waiting for the {job.kind} job: {job.state}, {job.stage})" if job else
                     " (no hello from the backend)" if not self.report.hello else ""))

    def _end(self, error: str = "") -> None:
        if self._done:
            return
        self._done = True
        self._deadline.stop()
        if error:
            self.report.fail(error)
        try:
            path = self.report.write()
            where = f"report: {path}"
        except OSError as exc:
            where = f"could not write the report in {self.plan.folder}: {exc}"
        print(self.report.summary() + "\n" + where, file=sys.stderr)
        self.finish(0 if self.report.ok else 1)


def _short(result: dict[str, Any]) -> dict[str, Any]:
    """The scalar fields of a job result (a prepare result also lists every slice)."""
    return {k: v for k, v in result.items() if isinstance(v, (str, int, float, bool))}
