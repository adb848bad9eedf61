"""Model packages (``.zip``: ``<name>.pth``, an ``.index``, ``model_card.json``) read safely.

A package is someone else's zip: only the members we need are taken (one ``.pth``, the
``.index`` files, ``model_card.json``), by their base name made safe with ``safe_name``, so
no member can land outside the destination folder (no zip-slip), and each is copied with a
size limit (a zip bomb stops at the limit). Extraction goes to a staging folder renamed into
place, so a half-extracted package is never used. ``extract_cached`` keeps one extraction
per package file (keyed by its path, size and modification time) under the data folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.assets.store import data_dir
from backend.fsutil import TEMP_PREFIX, atomic_writer
from backend.names import safe_name
from backend.zipmembers import MemberTooLarge, copy_member, read_card
from backend.zipmembers import base_name as _base
from backend.zipmembers import is_package as is_package  # the voice loader asks packages

CARD = "model_card.json"


class PackageError(ValueError):
    """A zip that cannot be used as a model package; the message names the file."""


@dataclass(frozen=True)
class Extracted:
    folder: Path
    model: Path
    index: Path | None
    card: dict[str, Any]




def _pick_model(path: Path, infos: list[zipfile.ZipInfo], card: dict[str, Any]) -> zipfile.ZipInfo:
    models = [i for i in infos if _base(i.filename).lower().endswith(".pth")]
    if not models:
        raise PackageError(f"{path.name} holds no voice model (.pth): it is not a model package")
    if len(models) > 1:
        wanted = f"{safe_name(card.get('name', ''))}.pth"
        named = [i for i in models if _base(i.filename) == wanted]
        if len(named) != 1:
            shown = ", ".join(_base(i.filename) for i in models[:5])
            raise PackageError(f"{path.name} holds {len(models)} models ({shown}); a model "
                               "package holds one: unpack it and load the .pth you want")
        return named[0]
    return models[0]


def _pick_index(infos: list[zipfile.ZipInfo], version: str | None) -> zipfile.ZipInfo | None:
    found = [i for i in infos if _base(i.filename).lower().endswith(".index")
             and _base(i.filename).startswith("added_")]
    if version:
        found = [i for i in found if _base(i.filename).endswith(f"_{version}.index")] or found
    return found[0] if found else None


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> Path:
    try:
        with atomic_writer(dest) as out:
            copy_member(zf, info, out)
    except MemberTooLarge:
        raise PackageError(f"{info.filename} in the package is implausibly large") from None
    return dest


def extract(path: Path, dest: Path, *, model_name: str = "model.pth") -> Extracted:
    """Extract the package's model (as ``model_name``), index and card into ``dest``
    (created; must not exist yet)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            card = read_card(zf, infos, CARD)
            model_info = _pick_model(path, infos, card)
            index_info = _pick_index(infos, card.get("version"))
            dest.mkdir(parents=True)
            model = _copy_member(zf, model_info, dest / model_name)
            index = None
            if index_info is not None:
                index = _copy_member(zf, index_info, dest / safe_name(_base(index_info.filename)))
            if card:
                (dest / CARD).write_text(json.dumps(card, indent=2, ensure_ascii=False),
                                         encoding="utf-8")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise PackageError(f"{path.name} is a damaged zip archive ({exc}); download it "
                           "again") from None
    return Extracted(dest, model, index, card)


def cache_root() -> Path:
    return data_dir() / "cache" / "packages"


def _cache_key(path: Path) -> str:
    st = path.stat()
    text = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def extract_cached(path: Path) -> Extracted:
    """The package extracted once into the cache (staging folder renamed into place)."""
    root = cache_root()
    final = root / _cache_key(path)
    if not (final / "model.pth").is_file():
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f"{TEMP_PREFIX}{final.name}.{secrets.token_hex(4)}"
        try:
            extract(path, staging)
            try:
                os.replace(staging, final)
            except OSError:  # another process finished the same extraction first
                if not (final / "model.pth").is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _read_extracted(final)


def _read_extracted(folder: Path) -> Extracted:
    card: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads((folder / CARD).read_text(encoding="utf-8"))
        card = loaded if isinstance(loaded, dict) else {}
    indexes = sorted(folder.glob("*.index"))
    return Extracted(folder, folder / "model.pth", indexes[0] if indexes else None, card)
