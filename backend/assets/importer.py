"""Import an asset file the user already has: verify it, then copy it into the data folder.

The original is only ever opened for reading. The copy is written next to the target under a
temporary name, hashed while it is written, verified (sha256 against the catalogue, or,
failing that, the expected keys and shapes) and then moved into place with ``os.replace``.
A file the safe loader refuses (it holds a Python object no model file needs) is never
imported (``UnsafeAsset``); one accepted by structure only is recorded as such, and is later
loaded with the same restrictions as any other file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from backend.assets.catalogue import Asset, bundle, find_asset
from backend.assets.store import asset_path, record_install, verified_note
from backend.assets.verify import CHUNK, FileStructure, check_expected, describe, read_structure
from backend.fsutil import create_temp_file, sha256_file
from backend.kernel import BadArgs, JobContext, JobError


class WrongFile(JobError):
    """The file is not the asset it was imported as (or not any known asset)."""

    code = "wrong_file"


class UnsafeAsset(JobError):
    """The safe loader refused the file: it holds a class no model file has reason to hold."""

    code = "unsafe_file"


def _refuse_unsafe(source: Path, fs: FileStructure, digest: str) -> None:
    if fs.refused:
        raise UnsafeAsset(f"{fs.refused} (Nothing was imported.)",
                          details={"path": str(source), "sha256": digest})


def import_asset(source: Path, catalogue: dict[str, Asset], ctx: JobContext, *,
                 as_name: str | None = None,
                 chosen: tuple[Asset, str, str] | None = None) -> dict[str, Any]:
    """``chosen``: what ``_choose_asset`` already said about ``source`` (a folder import
    checks every file before copying any)."""
    if not source.is_file():
        raise BadArgs(f"cannot import {source}: no such file")
    asset, verified_by, digest = chosen or _choose_asset(source, catalogue, ctx, as_name)
    target = asset_path(asset)
    if target.is_file():
        ctx.log(f"{asset.name} is already installed at {target}; replacing it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = create_temp_file(target.parent, f".{asset.basename}.", ".import")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            copied = _copy(source, out, asset, ctx)
            out.flush()
            os.fsync(out.fileno())
        if copied != digest:
            raise JobError(f"{source} changed while it was being imported; try again")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    record = record_install(asset, how="import", verified_by=verified_by, sha256=digest,
                            source=str(source))
    note = verified_note(record, asset)
    ctx.log(f"{asset.name} imported from {source}; {note}",
            "warning" if record["checksum"] == "differs" else "info")
    return {"name": asset.name, "path": str(target), "status": "imported",
            "size": target.stat().st_size, "sha256": digest, "verified_by": verified_by,
            "checksum": record["checksum"], "verified_note": note, "source": str(source)}


def import_folder(folder: Path, catalogue: dict[str, Asset], ctx: JobContext, *,
                  as_name: str | None = None) -> dict[str, Any]:
    """Import a model folder (a faster-whisper model the user already has) as the bundle it
    is: ``as_name``, or the bundle its main file is recognised as. Every file of the bundle
    must be in the folder (checked before anything is copied); each is verified and
    imported like a single file. Every file is verified before the first is copied, so a
    wrong file imports nothing."""
    asset = find_asset(catalogue, as_name) if as_name else _folder_bundle(folder, catalogue, ctx)
    members = folder_members(folder, catalogue, asset)
    checked = [(m, _choose_asset(folder / m.basename, catalogue, ctx, m.name))
               for m in members]
    results = [import_asset(folder / m.basename, catalogue, ctx, chosen=chosen)
               for m, chosen in [*checked[1:], checked[0]]]
    checks = [r["checksum"] for r in results]
    weakest = next(c for c in ("differs", "unpublished", "match") if c in checks)
    return {**results[-1], "source": str(folder), "files": results, "checksum": weakest,
            "size": sum(r["size"] for r in results)}


def folder_members(folder: Path, catalogue: dict[str, Asset], asset: Asset) -> list[Asset]:
    """The bundle's files, once every one of them is in ``folder`` (else ``BadArgs``)."""
    members = bundle(catalogue, asset)
    if len(members) == 1:
        raise BadArgs(f"{asset.name} is a single file, not a model folder: import "
                      f"{folder / asset.basename} instead")
    missing = [m.basename for m in members if not (folder / m.basename).is_file()]
    if missing:
        raise BadArgs(f"cannot import {folder} as {asset.name}: {', '.join(missing)} "
                      "missing from the folder (nothing was imported)")
    return members


def _folder_bundle(folder: Path, catalogue: dict[str, Asset], ctx: JobContext) -> Asset:
    mains = {a.basename for a in catalogue.values()
             if not a.part_of and len(bundle(catalogue, a)) > 1}
    for name in sorted(mains):
        if (folder / name).is_file():
            asset, _how, _digest = _choose_asset(folder / name, catalogue, ctx, None)
            return catalogue[asset.part_of] if asset.part_of else asset
    raise BadArgs(f"{folder} holds no model file this app knows ({', '.join(sorted(mains))}); "
                  "to import a single file, give its path")


def _choose_asset(source: Path, catalogue: dict[str, Asset], ctx: JobContext,
                  as_name: str | None) -> tuple[Asset, str, str]:
    """Which asset the file is and how that was established: by sha256 or by structure."""
    digest = sha256_file(source, check=ctx.check,
                         progress=lambda done, total: ctx.progress("checking", done, total))
    if as_name is not None:
        asset = find_asset(catalogue, as_name)
        if asset.sha256 == digest:
            return asset, "sha256", digest
        return asset, _check_structure(source, asset, catalogue, digest), digest
    by_hash = [a for a in catalogue.values() if a.sha256 == digest]
    if by_hash:
        return by_hash[0], "sha256", digest
    ctx.progress("inspecting", 0, 1, force=True)
    fs = read_structure(source)
    _refuse_unsafe(source, fs, digest)
    matches = [a for a in catalogue.values() if a.expected and not check_expected(fs, a.expected)]
    if len(matches) == 1:
        return matches[0], "structure", digest
    what = describe(fs, catalogue)
    if matches:
        names = ", ".join(a.name for a in matches)
        raise BadArgs(f"{source.name} looks like {what}; several assets have that structure "
                      f"({names}): say which with --as NAME")
    raise WrongFile(f"{source.name} is not a known asset: it looks like {what}",
                    details={"path": str(source), "sha256": digest})


def _check_structure(source: Path, asset: Asset, catalogue: dict[str, Asset],
                     digest: str) -> str:
    if asset.sha256 is not None:
        note = f"its sha256 {digest} is not the published {asset.sha256}"
    else:
        note = "no checksum is published for it"
    fs = read_structure(source)
    _refuse_unsafe(source, fs, digest)
    problems = check_expected(fs, asset.expected)
    if not problems:
        return "structure"
    what = describe(fs, catalogue)
    # what is wrong first: the names alone can be the same ("config.json is not config.json")
    wrong = "; ".join(problems[:3])
    tail = f"{note[0].upper()}{note[1:]}." if what in wrong else f"It looks like {what}; {note}."
    raise WrongFile(
        f"{source.name} is not the {asset.title} ({asset.name}): {wrong}. {tail}",
        details={"path": str(source), "name": asset.name, "sha256": digest,
                 "problems": problems})


def _copy(source: Path, out: Any, asset: Asset, ctx: JobContext) -> str:
    total = source.stat().st_size
    digest = hashlib.sha256()
    done = 0
    with open(source, "rb") as fh:
        while chunk := fh.read(CHUNK):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            ctx.check()
            ctx.progress(f"copying {asset.name}", done, total)
    return digest.hexdigest()
