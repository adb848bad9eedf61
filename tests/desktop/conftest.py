"""Fixtures for desktop tests: BackendClients on the fake (replay) or the real backend."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop.backend_client import BackendClient
from desktop.components.backend_logic import RestartPolicy

HERE = Path(__file__).resolve().parent
FAKE = HERE / "fake_backend.py"
SESSIONS = HERE / "sessions"


def fake_command(session: str, project_dir: Path | str = "") -> list[str]:
    return [sys.executable, str(FAKE), str(SESSIONS / session), str(project_dir)]


class SignalLog:
    """Everything a BackendClient emitted, in order."""

    def __init__(self, client: BackendClient) -> None:
        self.states: list[str] = []
        self.hellos: list = []
        self.events: list = []
        self.logs: list[tuple[str, str]] = []
        self.stderr: list[str] = []
        self.crashes: list[tuple[str, bool]] = []
        client.state_changed.connect(self.states.append)
        client.sig_hello.connect(self.hellos.append)
        client.sig_event.connect(self.events.append)
        client.sig_log.connect(lambda level, msg: self.logs.append((level, msg)))
        client.sig_stderr.connect(self.stderr.append)
        client.sig_crashed.connect(lambda msg, again: self.crashes.append((msg, again)))

    @property
    def job_events(self) -> list:
        """The events of jobs (``job.*``), in order."""
        return [e for e in self.events if e.event.startswith("job.")]


@pytest.fixture
def make_client(qtbot) -> Iterator[Callable[..., tuple[BackendClient, SignalLog]]]:
    made: list[BackendClient] = []

    def make(command: list[str] | None = None, *, policy: RestartPolicy | None = None,
             stop_timeout_ms: int = 3000) -> tuple[BackendClient, SignalLog]:
        client = BackendClient(command=command, stop_timeout_ms=stop_timeout_ms,
                               restart_policy=policy or RestartPolicy(backoff_s=(0.05,)))
        made.append(client)
        return client, SignalLog(client)

    yield make
    for client in made:
        client.stop()


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    """A settings file of the test's own (never the user's)."""
    return QSettings(str(tmp_path / "settings ü.ini"), QSettings.Format.IniFormat)
