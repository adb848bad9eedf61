"""The models library: the open project's exports plus the models imported into the data folder.

Layout: ``data_dir()/models/<safe_name(name)>/`` holding ``model.pth`` (a byte copy of the
imported model, or the model of an imported package), the index under its own (safe) name,
and ``model.json`` (the Model fields, the index's file name, the model's SHA-256 and where it
came from). An import is checked first (``inspect_voice_model``: nothing unsafe or broken is
copied), then copied into a staging folder that is renamed into place, so a library folder
is always complete. The original is only read. Another model under the same name gets
``<name> (2)`` (through ``safe_name``); importing the same model again returns the first copy.

A Model (protocol ``models.*``): ``{id, name, path, index, version, sample_rate, f0,
speakers, info, stored_dtype, source, size_bytes}``; ``id`` is the library folder name for
imported models, ``export:<path>`` for the project's exports and ``file:<path>`` for a file
only inspected.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from backend.assets.store import data_dir
from backend.convert.voice_model import (
    LIBRARY_CARD,
    ModelInfo,
    ModelNotFound,
    inspect_voice_model,
)
from backend.fsutil import TEMP_PREFIX, atomic_write_json, is_temp_name, read_json, sha256_file
from backend.kernel import BadArgs, JobError
from backend.names import safe_name

log = logging.getLogger("backend.convert")
MODEL_FILE = "model.pth"
EXPORT_PREFIX = "export:"
FILE_PREFIX = "file:"
MAX_SAME_NAME = 1000


def library_dir() -> Path:
    return data_dir() / "models"


def entry(info: ModelInfo, *, id: str, source: str, path: Path | None = None,
          index: Path | None = None) -> dict[str, Any]:
    path = path or info.path
    index = index if index is not None else info.index_path
    return {"id": id, "name": info.name, "path": str(path),
            "index": str(index) if index else None, "version": info.version,
            "sample_rate": info.sample_rate, "f0": info.f0, "speakers": info.speakers,
            "info": info.info, "stored_dtype": info.stored_dtype, "source": source,
            "size_bytes": _size(path)}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def inspect(path: Path | str) -> dict[str, Any]:
    info = inspect_voice_model(path)
    return entry(info, id=f"{FILE_PREFIX}{info.path}", source="file")


# listing -----------------------------------------------------------------------------------
def project_exports(project_root: Path) -> list[dict[str, Any]]:
    folder = Path(project_root) / "export"
    found = []
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".pth", ".zip")
                   and p.is_file() and not is_temp_name(p.name)) if folder.is_dir() else []
    for path in files:
        try:
            found.append(entry(inspect_voice_model(path), id=f"{EXPORT_PREFIX}{path}",
                               source="export"))
        except JobError as exc:  # one damaged export must not hide the others
            log.warning("export %s is not listed: %s", path, exc.message)
    return found


def library_models() -> list[dict[str, Any]]:
    root = library_dir()
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    found = []
    for folder in folders:
        if folder.name.startswith(TEMP_PREFIX):
            continue
        model = _library_entry(folder)
        if model is not None:
            found.append(model)
    return sorted(found, key=lambda m: m["name"].casefold())


def _library_entry(folder: Path) -> dict[str, Any] | None:
    path = folder / MODEL_FILE
    if not path.is_file():
        log.warning("library folder %s has no %s: not listed", folder, MODEL_FILE)
        return None
    try:
        card = read_json(folder / LIBRARY_CARD)
        index = folder / card["index"] if card.get("index") else None
        return {"id": folder.name, "name": str(card["name"]), "path": str(path),
                "index": str(index) if index and index.is_file() else None,
                **{k: card[k] for k in ("version", "sample_rate", "f0", "speakers", "info",
                                        "stored_dtype")},
                "source": "imported", "size_bytes": _size(path)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # no or a damaged model.json: read the model itself
    try:
        return entry(inspect_voice_model(path), id=folder.name, source="imported")
    except JobError as exc:
        log.warning("library model %s is not listed: %s", path, exc.message)
        return None


def list_models(project_root: Path | None = None) -> list[dict[str, Any]]:
    exports = project_exports(project_root) if project_root is not None else []
    return exports + library_models()


# import ------------------------------------------------------------------------------------
def import_model(path: Path | str, index: Path | str | None = None) -> dict[str, Any]:
    """Copy a voice model (``.pth`` or package ``.zip``) and its index into the library."""
    info = inspect_voice_model(path, index=index)  # every check before anything is copied
    digest = sha256_file(info.weights_path)
    root = library_dir()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f"{TEMP_PREFIX}import-{secrets.token_hex(4)}"
    try:
        staging.mkdir()
        index_name = _fill(staging, info)
        return _place(root, staging, info, digest, index_name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)
    with open(dest, "rb+") as fh:
        os.fsync(fh.fileno())


def _fill(staging: Path, info: ModelInfo) -> str | None:
    _copy(info.weights_path, staging / MODEL_FILE)
    index_name = None
    if info.index_path is not None:
        index_name = safe_name(info.index_path.name)
        _copy(info.index_path, staging / index_name)
    return index_name


def _card(info: ModelInfo, name: str, digest: str, index_name: str | None) -> dict[str, Any]:
    return {"name": name, "index": index_name, "version": info.version,
            "sample_rate": info.sample_rate, "f0": info.f0, "speakers": info.speakers,
            "info": info.info, "stored_dtype": info.stored_dtype, "sha256": digest,
            "imported_from": str(info.path),
            "imported_index_from": str(info.index_path) if info.index_path else None,
            "imported_at": time.strftime("%Y-%m-%d %H:%M:%S"), "model_card": info.card}


def _place(root: Path, staging: Path, info: ModelInfo, digest: str,
           index_name: str | None) -> dict[str, Any]:
    for n in range(1, MAX_SAME_NAME):
        name = info.name if n == 1 else f"{info.name} ({n})"
        folder = root / safe_name(name)
        if folder.exists():
            if _same_model(folder, digest):
                return _library_entry(folder) or {}
            continue
        atomic_write_json(staging / LIBRARY_CARD, _card(info, name, digest, index_name))
        try:
            os.rename(staging, folder)
        except OSError:
            if folder.exists():
                continue  # taken meanwhile by another import
            raise
        model = _library_entry(folder)
        assert model is not None
        return model
    raise JobError(f"the library already holds {MAX_SAME_NAME} models named {info.name}")


def _same_model(folder: Path, digest: str) -> bool:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return read_json(folder / LIBRARY_CARD).get("sha256") == digest
    return False


# remove ------------------------------------------------------------------------------------
def remove_model(model_id: str) -> str:
    if model_id.startswith(EXPORT_PREFIX):
        raise BadArgs(f"{model_id[len(EXPORT_PREFIX):]} is an export of the project, not a "
                      "library model: it is not removed from here; delete the file in the "
                      "project's export folder if you no longer want it")
    if model_id.startswith(FILE_PREFIX) or model_id != safe_name(model_id) \
            or model_id.startswith(TEMP_PREFIX):
        raise BadArgs(f"{model_id!r} is not the id of a library model (see models.list)")
    folder = library_dir() / model_id
    if not (folder / MODEL_FILE).is_file() and not (folder / LIBRARY_CARD).is_file():
        raise ModelNotFound(f"the library has no model {model_id!r} (already removed?)")
    trash = library_dir() / f"{TEMP_PREFIX}removed-{secrets.token_hex(4)}"
    os.rename(folder, trash)  # gone from the list at once, even if deleting takes a while
    shutil.rmtree(trash, ignore_errors=True)
    return model_id
