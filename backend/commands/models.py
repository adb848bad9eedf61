"""The models library: ``models.list``, ``models.import``, ``models.inspect``, ``models.remove``.

- ``models.list {project?, kind?}`` -> ``{models: [Model]}``: the project's exports, then the
  library; ``kind`` "voice" (the default: voice-conversion models), "tts" or "all".
- ``models.import {path, index?, config?}`` -> ``{model: Model}``: copies a ``.pth`` (with its
  index) or a package ``.zip`` into the library; a text-to-speech model too (``kind: "tts"``;
  ``config`` is the config.json of an original VITS checkpoint when it is not beside it).
- ``models.inspect {path, config?}`` -> ``{model: Model}``: the same checks, nothing copied.
- ``models.remove {id}`` -> ``{removed: id}``: library models only.

Errors: ``not_a_voice_model`` (the message says what the file looks like), ``unsafe_file``,
``not_found``, ``io_error``, ``bad_arguments``. See backend/convert/library.py for Model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.commands import CommandError, command
from backend.dataset.project import ProjectError, open_project
from backend.fsutil import describe_os_error
from backend.protocol import E_BAD_ARGS, E_IO, E_NOT_FOUND


def _path(args: dict, key: str, *, required: bool = True) -> Path | None:
    value = args.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CommandError(f"'{key}' must be the path of a file", code=E_BAD_ARGS)
    return Path(value).expanduser()


def _project_root(args: dict) -> Path | None:
    value = args.get("project")
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise CommandError("'project' must be the path of a project folder", code=E_BAD_ARGS)
    try:
        return open_project(value).root
    except ProjectError as exc:
        raise CommandError(str(exc), code=E_NOT_FOUND) from exc


def _io(exc: OSError, action: str, path: Any) -> CommandError:
    return CommandError(describe_os_error(exc, action, path), code=E_IO)


@command("models.list")
def models_list(args: dict, server: Any) -> dict:
    from backend.convert import library

    root = _project_root(args)
    kind = args.get("kind", "voice")
    if kind not in library.KINDS:
        raise CommandError(f"'kind' must be one of {', '.join(library.KINDS)}",
                           code=E_BAD_ARGS)
    try:
        return {"models": library.list_models(root, kind)}
    except OSError as exc:
        raise _io(exc, "reading", library.library_dir()) from exc


@command("models.import")
def models_import(args: dict, server: Any) -> dict:
    from backend.convert import library

    path = _path(args, "path")
    index = _path(args, "index", required=False)
    config = _path(args, "config", required=False)
    try:
        return {"model": library.import_model(path, index, config)}
    except OSError as exc:
        raise _io(exc, "importing into", library.library_dir()) from exc


@command("models.inspect")
def models_inspect(args: dict, server: Any) -> dict:
    from backend.convert import library

    path = _path(args, "path")
    config = _path(args, "config", required=False)
    try:
        return {"model": library.inspect(path, config)}
    except OSError as exc:
        raise _io(exc, "reading", path) from exc


@command("models.remove")
def models_remove(args: dict, server: Any) -> dict:
    from backend.convert import library

    model_id = args.get("id")
    if not isinstance(model_id, str) or not model_id:
        raise CommandError("'id' must be the id of a library model (see models.list)",
                           code=E_BAD_ARGS)
    try:
        return {"removed": library.remove_model(model_id)}
    except OSError as exc:
        raise _io(exc, "removing", library.library_dir() / model_id) from exc
