"""The models library: the open project's exports plus the models imported into the data folder.

Layout: ``data_dir()/models/<safe_name(name)>/`` holding ``model.pth`` (a byte copy of the
imported model, or the model of an imported package), the index under its own (safe) name,
and ``model.json`` (the Model fields, the index's file name, the model's SHA-256 and where it
came from). An import is checked first (``inspect_voice_model``: nothing unsafe or broken is
copied), then copied into a staging folder that is renamed into place, so a library folder
is always complete. The original is only read. Another model under the same name gets
``<name> (2)`` (through ``safe_name``); importing the same model again returns the first copy.

A Model (protocol ``models.*``): ``{id, kind: "voice", name, path, index, version,
sample_rate, f0, speakers, info, stored_dtype, source, size_bytes}``; ``id`` is the library
folder name for imported models, ``export:<path>`` for the project's exports and
``file:<path>`` for a file only inspected.

Text-to-speech models (VITS, ``backend.models.vits.files``) live in the same library: a TTS
Model is ``{id, kind: "tts", name, path, config, source, language, speakers: [names],
sample_rate, n_symbols, info, stored_dtype, size_bytes}`` (``index`` null, ``version``
"vits", ``f0`` false, so that readers of voice models skip it cleanly). An original VITS
``G_<step>.pth`` is imported with its ``config.json`` (stored beside ``model.pth``).
``list_models(kind=...)`` lists voice models (the default), TTS models or all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from backend.assets.store import data_dir
from backend.convert.voice_model import (
    LIBRARY_CARD,
    ModelInfo,
    ModelNotFound,
    NotAVoiceModel,
    inspect_voice_model,
)
from backend.fsutil import TEMP_PREFIX, atomic_write_json, is_temp_name, read_json, sha256_file
from backend.kernel import BadArgs, JobError
from backend.models.config import CONTENT_DIMS
from backend.names import safe_name

log = logging.getLogger("backend.convert")
MODEL_FILE = "model.pth"
EXPORT_PREFIX = "export:"
FILE_PREFIX = "file:"
MAX_SAME_NAME = 1000
KINDS = ("voice", "tts", "all")
TTS_CONFIG = "config.json"  # beside model.pth: the config of an original VITS checkpoint


def library_dir() -> Path:
    return data_dir() / "models"


def entry(info: ModelInfo, *, id: str, source: str, path: Path | None = None,
          index: Path | None = None) -> dict[str, Any]:
    path = path or info.path
    index = index if index is not None else info.index_path
    return {"id": id, "kind": "voice", "name": info.name, "path": str(path),
            "index": str(index) if index else None, "version": info.version,
            "sample_rate": info.sample_rate, "f0": info.f0, "speakers": info.speakers,
            "info": info.info, "stored_dtype": info.stored_dtype, "source": source,
            "size_bytes": _size(path)}


def tts_entry(tts: dict[str, Any], *, id: str, source: str, path: Path | None = None,
              config: Path | None = None) -> dict[str, Any]:
    """A TTS Model from ``inspect_tts`` (or a library card holding the same fields)."""
    path = path or Path(tts["path"])
    config = config or (Path(tts["config_path"]) if tts.get("config_path") else None)
    return {"id": id, "kind": "tts", "name": str(tts["name"]), "path": str(path),
            "config": str(config) if config else None, "source": source,
            "language": tts["language"], "speakers": list(tts["speakers"]),
            "sample_rate": tts["sample_rate"], "n_symbols": tts["n_symbols"],
            "info": tts["info"], "stored_dtype": tts["stored_dtype"], "index": None,
            "version": "vits", "f0": False, "size_bytes": _size(path)}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def inspect(path: Path | str, config: Path | str | None = None) -> dict[str, Any]:
    """A voice model's or a TTS model's entry (``source "file"``), nothing copied."""
    found = _inspect_any(Path(path).expanduser(), config=config)
    if isinstance(found, ModelInfo):
        check_index(found)
        return entry(found, id=f"{FILE_PREFIX}{found.path}", source="file")
    return tts_entry(found, id=f"{FILE_PREFIX}{found['path']}", source="file")


def _inspect_any(path: Path, *, index: Path | str | None = None,
                 config: Path | str | None = None) -> ModelInfo | dict[str, Any]:
    """A voice model's ModelInfo, else a TTS model's ``inspect_tts`` dict. A file that is
    neither gets the voice loader's message (it says what the file looks like)."""
    from backend.models.vits.files import NotATtsModel, inspect_tts

    try:
        return inspect_voice_model(path, index=index)
    except NotAVoiceModel as exc:
        try:
            return inspect_tts(path, config)
        except NotATtsModel:
            raise exc from None


def check_index(info: ModelInfo) -> None:
    """The model's index is a faiss index of the model's content width (BadArgs if not)."""
    if info.index_path is None:
        return
    from backend.train.index import load_index

    want = CONTENT_DIMS[info.version]
    try:
        dim = int(load_index(info.index_path).d)
    except (RuntimeError, ValueError) as exc:
        raise BadArgs(f"{info.index_path} is not a faiss index ({str(exc).splitlines()[0]}): "
                      "choose the model's added_IVF….index file, or none") from None
    if dim != want:
        kind = {256: " (a v1 index)", 768: " (a v2 index)"}.get(dim, "")
        raise BadArgs(f"the index {info.index_path.name} holds {dim}-dim vectors{kind}, but "
                      f"{info.name} is a {info.version} model ({want}-dim content): choose "
                      "the index made for this model, or none")


# listing -----------------------------------------------------------------------------------
def _wanted(model: dict[str, Any], kind: str) -> bool:
    return kind == "all" or model["kind"] == kind


def project_exports(project_root: Path, kind: str = "voice") -> list[dict[str, Any]]:
    folder = Path(project_root) / "export"
    found = []
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".pth", ".zip")
                   and p.is_file() and not is_temp_name(p.name)) if folder.is_dir() else []
    for path in files:
        try:
            info = _inspect_any(path)
        except JobError as exc:  # one damaged export must not hide the others
            log.warning("export %s is not listed: %s", path, exc.message)
            continue
        model = entry(info, id=f"{EXPORT_PREFIX}{path}", source="export") \
            if isinstance(info, ModelInfo) else \
            tts_entry(info, id=f"{EXPORT_PREFIX}{path}", source="export")
        if _wanted(model, kind):
            found.append(model)
    return found


def library_models(kind: str = "voice") -> list[dict[str, Any]]:
    root = library_dir()
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    found = []
    for folder in folders:
        if folder.name.startswith(TEMP_PREFIX):
            continue
        model = _library_entry(folder)
        if model is not None and _wanted(model, kind):
            found.append(model)
    return sorted(found, key=lambda m: m["name"].casefold())


def _tts_library_entry(folder: Path, card: dict[str, Any] | None) -> dict[str, Any] | None:
    from backend.models.vits.files import TtsModelError, inspect_tts

    path = folder / MODEL_FILE
    config = folder / TTS_CONFIG if (folder / TTS_CONFIG).is_file() else None
    if card is not None:
        try:
            return tts_entry(card, id=folder.name, source="imported", path=path,
                             config=config)
        except (KeyError, TypeError, ValueError):
            pass  # a damaged model.json: read the model itself
    try:
        return tts_entry(inspect_tts(path), id=folder.name, source="imported", path=path,
                         config=config)
    except TtsModelError as exc:
        log.warning("library model %s is not listed: %s", path, exc.message)
        return None


def _library_entry(folder: Path) -> dict[str, Any] | None:
    path = folder / MODEL_FILE
    if not path.is_file():
        log.warning("library folder %s has no %s: not listed", folder, MODEL_FILE)
        return None
    try:
        card = read_json(folder / LIBRARY_CARD)
        if card.get("kind") == "tts":
            return _tts_library_entry(folder, card)
        index = folder / card["index"] if card.get("index") else None
        return {"id": folder.name, "kind": "voice", "name": str(card["name"]), "path": str(path),
                "index": str(index) if index and index.is_file() else None,
                **{k: card[k] for k in ("version", "sample_rate", "f0", "speakers", "info",
                                        "stored_dtype")},
                "source": "imported", "size_bytes": _size(path)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # no or a damaged model.json: read the model itself
    try:
        return entry(inspect_voice_model(path), id=folder.name, source="imported")
    except NotAVoiceModel:
        return _tts_library_entry(folder, None)
    except JobError as exc:
        log.warning("library model %s is not listed: %s", path, exc.message)
        return None


def list_models(project_root: Path | None = None, kind: str = "voice") -> list[dict[str, Any]]:
    """The project's exports, then the library, of one kind ("voice", "tts" or "all")."""
    if kind not in KINDS:
        raise BadArgs(f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    exports = project_exports(project_root, kind) if project_root is not None else []
    return exports + library_models(kind)


# import ------------------------------------------------------------------------------------
def import_model(path: Path | str, index: Path | str | None = None,
                 config: Path | str | None = None) -> dict[str, Any]:
    """Copy a voice model (``.pth`` or package ``.zip``) and its index, or a TTS model
    (with the ``config.json`` of an original VITS checkpoint), into the library."""
    # every check before anything is copied
    info = _inspect_any(Path(path).expanduser(), index=index, config=config)
    if not isinstance(info, ModelInfo):
        return _import_tts(info)
    check_index(info)
    digest = sha256_file(info.weights_path)
    with _staging() as (root, staging):
        index_name = _fill(staging, info)
        return _place(root, staging, info.name, digest,
                      lambda name: _card(info, name, digest, index_name))


@contextlib.contextmanager
def _staging() -> Iterator[tuple[Path, Path]]:
    """A fresh folder in the library, removed afterwards unless renamed into place."""
    root = library_dir()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f"{TEMP_PREFIX}import-{secrets.token_hex(4)}"
    try:
        staging.mkdir()
        yield root, staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _import_tts(tts: dict[str, Any]) -> dict[str, Any]:
    from backend.models.vits.file_package import extract_package_model

    source = Path(tts["path"])
    if tts["source"] == "checkpoint":
        raise BadArgs(f"{source.name} is a training checkpoint of a text-to-speech run: "
                      "export the run first (Train page, Export), then import the exported "
                      "file")
    with _staging() as (root, staging):
        if tts["source"] == "package":
            extract_package_model(source, staging / MODEL_FILE)
        else:
            _copy(Path(tts["weights_path"]), staging / MODEL_FILE)
        if tts.get("config_path"):
            _copy(Path(tts["config_path"]), staging / TTS_CONFIG)
        digest = sha256_file(staging / MODEL_FILE)
        card = {k: tts[k] for k in ("language", "speakers", "sample_rate", "n_symbols",
                                    "info", "stored_dtype")}
        return _place(root, staging, str(tts["name"]), digest, lambda name: {
            "kind": "tts", "name": name, **card, "format": tts["source"], "sha256": digest,
            "imported_from": str(source), "imported_config_from": tts.get("config_path"),
            "imported_at": time.strftime("%Y-%m-%d %H:%M:%S"), "model_card": tts["card"]})


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
            "info": info.info, "stored_dtype": info.stored_dtype, "embedder": info.embedder,
            "sha256": digest,
            "imported_from": str(info.path),
            "imported_index_from": str(info.index_path) if info.index_path else None,
            "imported_at": time.strftime("%Y-%m-%d %H:%M:%S"), "model_card": info.card}


def _place(root: Path, staging: Path, wanted: str, digest: str,
           card: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Rename ``staging`` to the library folder of ``wanted`` (or ``wanted (2)``...) with
    its ``model.json`` (``card(name)``); the same model again returns the first copy."""
    for n in range(1, MAX_SAME_NAME):
        name = wanted if n == 1 else f"{wanted} ({n})"
        folder = root / safe_name(name)
        if folder.exists():
            if _same_model(folder, digest):
                return _library_entry(folder) or {}
            continue
        atomic_write_json(staging / LIBRARY_CARD, card(name))
        try:
            os.rename(staging, folder)
        except OSError:
            if folder.exists():
                continue  # taken meanwhile by another import
            raise
        model = _library_entry(folder)
        assert model is not None
        return model
    raise JobError(f"the library already holds {MAX_SAME_NAME} models named {wanted}")


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
