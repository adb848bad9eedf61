"""Installed assets in the user data folder, and ``require_asset`` for the features that need them.

Layout: ``<data dir>/assets/<catalogue filename>`` (for example ``assets/rmvpe/rmvpe.pt``),
plus ``assets/installed.json`` recording how each file was verified: by checksum, or by
structure only (no checksum published, or the file's differs). Either way a file is loaded
with the same restrictions as any other (``backend.safeload``). The data folder is
``TIMBRE_DATA_DIR`` when set, else the platform's per-user application data folder.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from backend.assets.catalogue import Asset, bundle, find_asset, load_catalogue
from backend.fsutil import create_temp_file
from backend.kernel import JobError
from backend.resources import data_dir

_RECORDS = "installed.json"


class MissingAsset(JobError):
    """A feature needs an asset that is not installed (works offline: says how to get it)."""

    code = "asset_missing"

    def __init__(self, name: str, size: int | None, message: str, *,
                 filename: str | None = None):
        self.name = name
        self.size = size
        details = {
            "name": name, "size": size,
            "download_command": f"python -m backend assets download {name}",
            "import_hint": (f"if you already have {filename or name}, run "
                            f"'python -m backend assets import PATH --as {name}'"),
        }
        super().__init__(message, details=details)


def assets_dir() -> Path:
    return data_dir() / "assets"


def asset_path(asset: Asset) -> Path:
    return assets_dir().joinpath(*asset.filename.split("/"))


def part_path(asset: Asset) -> Path:
    """Where an unfinished download lives: next to the target, so ``os.replace`` is atomic."""
    target = asset_path(asset)
    return target.with_name(target.name + ".part")


# install records ------------------------------------------------------------------
def read_records() -> dict[str, dict[str, Any]]:
    path = assets_dir() / _RECORDS
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _write_records(records: dict[str, dict[str, Any]]) -> None:
    folder = assets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_file(folder, ".installed-", ".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(records, fh, indent=1, ensure_ascii=False)
        os.replace(tmp, folder / _RECORDS)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def checksum_state(asset: Asset, sha256: str | None) -> str:
    """"match", "differs" (accepted by structure only) or "unpublished" (no checksum known)."""
    if asset.sha256 is None:
        return "unpublished"
    return "match" if sha256 == asset.sha256 else "differs"


VERIFIED_NOTES = {
    "match": "verified by checksum",
    "differs": "verified by structure only (checksum differs)",
    "unpublished": "verified by structure (no checksum published)",
}


def verified_note(record: dict[str, Any], asset: Asset) -> str:
    """How an installed file was verified, as shown in ``assets list`` and the desktop."""
    if not record:
        return "not verified (no install record)"
    return VERIFIED_NOTES[checksum_state(asset, record.get("sha256"))]


def record_install(asset: Asset, *, how: str, verified_by: str, sha256: str | None,
                   source: str | None) -> dict[str, Any]:
    record = {"filename": asset.filename, "how": how, "verified_by": verified_by,
              "checksum": checksum_state(asset, sha256), "sha256": sha256, "source": source,
              "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    records = read_records()
    records[asset.name] = record
    _write_records(records)
    return record


# queries ----------------------------------------------------------------------------
def list_assets(catalogue: dict[str, Asset] | None = None) -> list[dict[str, Any]]:
    """One row per catalogue asset: installed or missing, sizes, what needs it. A bundle
    (a main file and its ``part_of`` files) is one row, with its files under ``parts``."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    records = read_records()
    rows = []
    for asset in catalogue.values():
        if asset.part_of:
            continue
        members = bundle(catalogue, asset)
        row = _file_row(asset, records)
        if len(members) > 1:
            row = _bundle_row(row, [_file_row(m, records) for m in members])
        rows.append(row)
    return rows


def _file_row(asset: Asset, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    path, part = asset_path(asset), part_path(asset)
    installed = path.is_file()
    record = records.get(asset.name, {}) if installed else {}
    return {
        **asset.to_json(),
        "installed": installed,
        "path": str(path),
        "installed_size": path.stat().st_size if installed else None,
        "partial_bytes": part.stat().st_size if part.is_file() else 0,
        "verified_by": record.get("verified_by") or ("unrecorded" if installed else None),
        "checksum": checksum_state(asset, record.get("sha256")) if record else None,
        "verified_note": verified_note(record, asset) if installed else None,
        "how": record.get("how"),
    }


_WEAKEST_CHECKSUM = ("differs", "unpublished", "match")


def _bundle_row(main: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    """The main file's row, with what the whole bundle amounts to."""
    installed = all(f["installed"] for f in files)
    sizes = [f["size"] for f in files]
    done = sum(f["installed_size"] or 0 for f in files)
    row = {**main, "installed": installed, "size": None if None in sizes else sum(sizes),
           "installed_size": done if installed else None,
           "partial_bytes": 0 if installed else done + sum(f["partial_bytes"] for f in files),
           "parts": [{k: f[k] for k in ("name", "filename", "installed", "size",
                                        "installed_size", "partial_bytes", "verified_note")}
                     for f in files]}
    if installed:
        checks = [f["checksum"] for f in files]
        if None in checks:
            row.update(verified_by="unrecorded", checksum=None,
                       verified_note="not verified (no install record)")
        else:
            checksum = next(c for c in _WEAKEST_CHECKSUM if c in checks)
            by = "structure" if any(f["verified_by"] == "structure" for f in files) \
                else "sha256"
            row.update(verified_by=by, checksum=checksum, verified_note=VERIFIED_NOTES[checksum])
    return row


def require_asset(name: str, catalogue: dict[str, Asset] | None = None) -> Path:
    """Path of an installed asset (a bundle's main file, once every file of the bundle is
    installed); raises ``MissingAsset`` (no network needed) otherwise."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    asset = find_asset(catalogue, name)
    members = bundle(catalogue, asset)
    missing = [m for m in members if not asset_path(m).is_file()]
    if not missing:
        return asset_path(asset)
    sizes = [m.size for m in missing]
    total = None if None in sizes else sum(sizes)
    size = f" ({total / 1e6:.0f} MB)" if total else ""
    if len(members) > 1:
        files = ", ".join(m.basename for m in missing)
        message = (f"{asset.title} is not installed: {files} missing{size}. Download it with "
                   f"'python -m backend assets download {asset.name}', or import each file "
                   f"you have with 'python -m backend assets import PATH --as NAME' "
                   f"(names: {', '.join(m.name for m in missing)}).")
    else:
        message = (f"{asset.title} ({asset.basename}) is not installed{size}. Download it "
                   f"with 'python -m backend assets download {asset.name}', or import a copy "
                   f"you have with 'python -m backend assets import PATH --as {asset.name}'.")
    raise MissingAsset(asset.name, total, message, filename=asset.basename)


def remove_asset(name: str, catalogue: dict[str, Asset] | None = None) -> dict[str, Any]:
    """Delete an installed asset (every file of its bundle) and any unfinished download."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    asset = find_asset(catalogue, name)
    removed = []
    records = read_records()
    dropped = False
    for member in bundle(catalogue, asset):
        for p in (asset_path(member), part_path(member)):
            if p.is_file():
                p.unlink()
                removed.append(str(p))
        dropped = records.pop(member.name, None) is not None or dropped
    if dropped:
        _write_records(records)
    return {"name": asset.name, "removed": removed,
            "was_installed": str(asset_path(asset)) in removed}
