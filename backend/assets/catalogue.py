"""The asset catalogue: every model file the app can use, read from ``resources/assets.json``.

``TIMBRE_ASSET_CATALOGUE`` names another catalogue file (tests point it at a local server).
An entry's ``sha256``/``size`` may be null when no verified public value is known; such files
are verified by structure (the ``expected`` keys and shapes) instead.

Bundles: a model made of several files (a faster-whisper model: model.bin, config.json,
tokenizer.json, vocabulary.*) is one main entry plus one entry per extra file with
``"part_of": "<main name>"``. Downloading, requiring or removing the main entry acts on every
file of the bundle, and ``assets list`` shows the bundle as one row (``list_assets``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from backend.kernel import BadArgs, JobError
from backend.resources import resource

CATALOGUE_ENV = "TIMBRE_ASSET_CATALOGUE"
DEFAULT_CATALOGUE = resource("assets.json")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class CatalogueError(JobError):
    """The catalogue file is unreadable or an entry is malformed."""

    code = "bad_catalogue"


@dataclass(frozen=True)
class Asset:
    name: str
    title: str
    kind: str
    filename: str  # relative POSIX path under <data dir>/assets
    sources: tuple[str, ...]
    size: int | None
    sha256: str | None
    verified: bool
    licence: str
    purpose: str = ""
    family: str = ""
    needed_by: tuple[str, ...] = ()
    expected: dict[str, Any] = field(default_factory=dict)
    part_of: str = ""  # the main asset of the bundle this file belongs to ("" = standalone)

    @property
    def basename(self) -> str:
        return PurePosixPath(self.filename).name

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "kind": self.kind,
                "family": self.family, "purpose": self.purpose, "filename": self.filename,
                "sources": list(self.sources), "size": self.size, "sha256": self.sha256,
                "verified": self.verified, "licence": self.licence,
                "needed_by": list(self.needed_by), "part_of": self.part_of or None}


def catalogue_path() -> Path:
    override = os.environ.get(CATALOGUE_ENV)
    return Path(override) if override else DEFAULT_CATALOGUE


def load_catalogue(path: Path | None = None) -> dict[str, Asset]:
    """Read and validate the catalogue; raises ``CatalogueError`` naming the file and entry."""
    path = path or catalogue_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"asset catalogue {path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"asset catalogue {path} cannot be read: {exc}") from exc
    entries = doc.get("assets") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise CatalogueError(f"asset catalogue {path} needs an 'assets' list")
    assets: dict[str, Asset] = {}
    for i, raw in enumerate(entries):
        asset = _parse_entry(raw, f"{path}, entry {i + 1}")
        if asset.name in assets:
            raise CatalogueError(f"{path}: asset name {asset.name!r} appears twice")
        assets[asset.name] = asset
    _check_bundles(assets, path)
    return assets


def _check_bundles(assets: dict[str, Asset], path: Path) -> None:
    for asset in assets.values():
        if not asset.part_of:
            continue
        main = assets.get(asset.part_of)
        if main is None:
            raise CatalogueError(f"{path}: {asset.name} is part_of {asset.part_of!r}, which "
                                 "is not in the catalogue")
        if main.part_of:
            raise CatalogueError(f"{path}: {asset.name} is part_of {main.name}, which is "
                                 "itself part of another bundle")


def bundle(catalogue: dict[str, Asset], asset: Asset) -> list[Asset]:
    """Every file of ``asset``'s bundle, main file first; ``[asset]`` for a standalone file.
    A part alone is its own one-file bundle (``assets download whisper-small.config``)."""
    if asset.part_of:
        return [asset]
    return [asset, *(a for a in catalogue.values() if a.part_of == asset.name)]


def _parse_entry(raw: Any, where: str) -> Asset:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: an entry must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise CatalogueError(f"{where}: 'name' must be letters, digits, '.', '_' or '-'")
    where = f"{where} ({name})"
    filename = raw.get("filename")
    rel = PurePosixPath(filename) if isinstance(filename, str) else None
    if rel is None or rel.is_absolute() or ".." in rel.parts or "\\" in filename or not rel.name:
        raise CatalogueError(f"{where}: 'filename' must be a relative path without '..'")
    sources = raw.get("sources")
    if (not isinstance(sources, list) or not sources
            or not all(isinstance(u, str) and u.startswith(("http://", "https://"))
                       for u in sources)):
        raise CatalogueError(f"{where}: 'sources' must be a non-empty list of http(s) URLs")
    size, sha = raw.get("size"), raw.get("sha256")
    if size is not None and (not isinstance(size, int) or size <= 0):
        raise CatalogueError(f"{where}: 'size' must be a positive integer or null")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.match(sha)):
        raise CatalogueError(f"{where}: 'sha256' must be 64 lowercase hex digits or null")
    expected = raw.get("expected") or {}
    if not isinstance(expected, dict):
        raise CatalogueError(f"{where}: 'expected' must be an object")
    if sha is None and not expected:
        raise CatalogueError(f"{where}: an asset without sha256 needs 'expected' to verify it")
    return Asset(
        name=name, title=str(raw.get("title") or name), kind=str(raw.get("kind") or "file"),
        filename=str(rel), sources=tuple(sources), size=size, sha256=sha,
        verified=bool(raw.get("verified", sha is not None)),
        licence=str(raw.get("licence") or "unknown"), purpose=str(raw.get("purpose") or ""),
        family=str(raw.get("family") or ""),
        needed_by=tuple(str(n) for n in raw.get("needed_by") or ()), expected=expected,
        part_of=_part_of(raw.get("part_of"), where),
    )


def _part_of(value: Any, where: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not _NAME.match(value):
        raise CatalogueError(f"{where}: 'part_of' must be the name of another asset")
    return value


def find_asset(catalogue: dict[str, Asset], name: str) -> Asset:
    """Look an asset up by name, or by its file name when that is unambiguous."""
    if name in catalogue:
        return catalogue[name]
    by_file = [a for a in catalogue.values() if name in (a.basename, a.filename)]
    if len(by_file) == 1:
        return by_file[0]
    if len(by_file) > 1:
        names = ", ".join(a.name for a in by_file)
        raise BadArgs(f"{name!r} is the file name of several assets ({names}); use one of "
                      "those names")
    raise BadArgs(f"unknown asset {name!r}; run 'python -m backend assets list' to see the names")
