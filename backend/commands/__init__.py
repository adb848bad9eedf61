"""Commands the server answers besides the built-in ones.

A command module registers handlers with ``@command("name")``. A handler takes
``(args: dict, server)`` and returns a JSON-serialisable dict, or raises
``CommandError`` (or ``backend.kernel.JobError``) with a clear message.
Handlers run on a worker thread, so a slow one never blocks ``ping``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from backend.kernel import JobError

Handler = Callable[[dict, Any], dict]
COMMANDS: dict[str, Handler] = {}

# Modules whose import registers commands. Imported lazily by the server.
COMMAND_MODULES = [
    "backend.commands.project",
    "backend.commands.audio",
    "backend.commands.train",
    "backend.commands.assets",
    "backend.commands.features",
    "backend.commands.live",
    "backend.commands.models",
    "backend.commands.labels",
    "backend.commands.transcribe",
]


class CommandError(JobError):
    """A command that cannot be carried out, with a protocol error code."""


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        return fn

    return register


def load_all() -> list[str]:
    """Import every command module; return messages for those that failed."""
    problems = []
    for mod in COMMAND_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name == mod:
                continue  # not written yet
            problems.append(f"{mod}: {exc}")
        except Exception as exc:  # a broken module must not kill the server
            problems.append(f"{mod}: {exc}")
    return problems
