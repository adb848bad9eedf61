"""ProjectController: opens/creates projects through the backend and holds the state."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from backend.protocol import Error
from desktop.backend_client import BackendClient
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings


class ProjectController(QObject):
    project_changed = Signal(object)  # ProjectState (or None when closed)
    sig_error = Signal(str)           # a message for the user

    def __init__(self, client: BackendClient, settings: AppSettings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.settings = settings
        self.state: ProjectState | None = None

    @property
    def path(self) -> str | None:
        return self.state.path if self.state else None

    def open(self, path: str, on_done: Callable[[ProjectState], None] | None = None) -> str:
        def done(result: dict) -> None:
            try:
                state = ProjectState.from_open_result(result)
            except ValueError as exc:
                self.sig_error.emit(f"Could not open {path}: {exc}")
                return
            self.state = state
            self.settings.add_recent_project(state.path)
            self.project_changed.emit(state)
            if on_done is not None:
                on_done(state)

        def failed(err: Error) -> None:
            self.sig_error.emit(f"Could not open the project {path}: {err.message}")

        return self.client.request("project.open", {"path": path}, done, failed)

    def reload(self) -> str | None:
        return self.open(self.state.path) if self.state else None

    def create(self, parent: str, name: str, sample_rate: int, model_kind: str) -> str:
        """A new project in a folder of ``parent`` that the backend names after ``name``."""
        def done(result: dict) -> None:
            self.open(str(result.get("path") or ""))

        def failed(err: Error) -> None:
            self.sig_error.emit(f"Could not create the project {name!r} in {parent}: "
                                f"{err.message}")

        args = {"parent": parent, "name": name, "sample_rate": sample_rate,
                "model_kind": model_kind}
        return self.client.request("project.create", args, done, failed)

    def close(self) -> None:
        self.state = None
        self.project_changed.emit(None)
