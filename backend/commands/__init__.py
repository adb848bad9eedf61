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
    "backend.commands.text",
    "backend.commands.transcribe",
    "backend.commands.tts",
]


class CommandError(JobError):
    """A command that cannot be carried out, with a protocol error code."""


def project_arg(args: dict, key: str = "project") -> Any:
    """The project (``backend.dataset.project.Project``) named by ``args[key]``: the one
    project-argument helper of the commands (the jobs' is ``backend.jobs.common.project_arg``,
    which answers ``bad_arguments``). A missing or empty value is ``bad_arguments``, a folder
    that is no project (or whose project.json is damaged) ``not_found``, naming it."""
    from backend.dataset import project as proj
    from backend.protocol import E_BAD_ARGS, E_NOT_FOUND

    path = args.get(key)
    if not isinstance(path, str) or not path.strip():
        raise CommandError(f"'{key}' must be the path of a project folder", code=E_BAD_ARGS)
    try:
        return proj.open_project(path)
    except proj.ProjectError as exc:
        raise CommandError(exc.message, code=E_NOT_FOUND) from exc


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
