"""The self-test's plan and report (Qt-free): what ``TimbreStudio --self-test DIR`` runs.

The folder holds ``takes/`` (a few recordings) and ``model.pth`` (a voice model). The
window's own backend, started as the window always starts it, must say hello, prepare
``takes/`` into ``project/`` and convert the first take with ``model.pth`` into
``converted/``. ``SelfTestReport`` records each step (what was sent, how it ended, how
long it took) and is written to ``self-test.json`` in the folder, atomically, whatever
happened. The smoke test of the frozen bundle (installer/linux/smoke.sh) reads it; a user
can run the same command to check an installation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.fsutil import atomic_write_json

REPORT_NAME = "self-test.json"
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a")
MIN_OUTPUT_BYTES = 1000  # a converted file holds more than a WAV header


class SelfTestError(Exception):
    """The folder cannot be self-tested (the message says what is missing)."""


@dataclass(frozen=True)
class SelfTestPlan:
    folder: Path

    @property
    def takes(self) -> Path:
        return self.folder / "takes"

    @property
    def project(self) -> Path:
        return self.folder / "project"

    @property
    def model(self) -> Path:
        return self.folder / "model.pth"

    @property
    def converted(self) -> Path:
        return self.folder / "converted"

    def check(self) -> None:
        if not self.takes.is_dir():
            raise SelfTestError(f"{self.takes} is missing: put a few recordings in it")
        if not self.first_take():
            raise SelfTestError(f"{self.takes} holds no audio file ({', '.join(AUDIO_SUFFIXES)})")
        if not self.model.is_file():
            raise SelfTestError(f"{self.model} is missing: put a voice model (.pth) there")
        if self.project.exists():
            raise SelfTestError(f"{self.project} exists already: remove it or use another "
                                "folder (the self-test makes a new project)")

    def first_take(self) -> Path | None:
        files = sorted(p for p in self.takes.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        return files[0] if files else None

    def prepare_args(self) -> dict[str, Any]:
        return {"project": str(self.project), "create": {"name": "Self test"},
                "inputs": [str(self.takes)]}

    def convert_args(self) -> dict[str, Any]:
        take = self.first_take()
        return {"model": str(self.model), "inputs": [str(take)] if take else [],
                "out": str(self.converted)}


def converted_outputs(result: dict[str, Any]) -> tuple[list[str], str]:
    """The converted files a ``convert`` result names that exist and hold audio, and what is
    wrong when there are none."""
    good, problems = [], []
    for out in result.get("outputs") or []:
        path, error = out.get("output"), out.get("error")
        if error:
            problems.append(f"{out.get('input')}: {error}")
        elif not path or not Path(path).is_file():
            problems.append(f"{out.get('input')}: no output file")
        elif Path(path).stat().st_size < MIN_OUTPUT_BYTES:
            problems.append(f"{path} is only {Path(path).stat().st_size} bytes")
        else:
            good.append(str(path))
    return good, "; ".join(problems) or ("" if good else "the job converted nothing")


@dataclass
class SelfTestReport:
    folder: Path
    started: float = field(default_factory=time.monotonic)
    hello: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    _step_started: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.steps) and all(s["ok"] for s in self.steps)

    def begin(self) -> None:
        self._step_started = time.monotonic()

    def step(self, name: str, ok: bool, detail: str = "", **extra: Any) -> None:
        self.steps.append({"step": name, "ok": ok, "detail": detail,
                           "seconds": round(time.monotonic() - self._step_started, 2), **extra})
        self._step_started = time.monotonic()
        if not ok and not self.error:
            self.error = f"{name}: {detail}"

    def fail(self, message: str) -> None:
        if not self.error:
            self.error = message

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "error": self.error, "hello": self.hello, "steps": self.steps,
                "seconds": round(time.monotonic() - self.started, 2)}

    def write(self) -> Path:
        return atomic_write_json(self.folder / REPORT_NAME, self.to_dict())

    def summary(self) -> str:
        lines = [f"{s['step']}: {'ok' if s['ok'] else 'FAILED'} ({s['seconds']} s)"
                 + (f" {s['detail']}" if s["detail"] else "") for s in self.steps]
        lines.append("self-test passed" if self.ok else f"self-test FAILED: {self.error}")
        return "\n".join(lines)
