"""Download an asset: resume, several sources, timeouts, cancel, sha256, atomic placement.

Standard library only. The unfinished file is ``<target>.part`` next to the target; a later
attempt resumes it with an HTTP ``Range`` request (a server that answers 200 instead of 206
gets a clean restart). The sha256 is computed while streaming (the kept prefix is hashed
first). Only a verified file is moved into place, with ``os.replace``. A wrong checksum
deletes the ``.part``; a network failure keeps it for the next attempt.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from backend.assets.catalogue import Asset, bundle
from backend.assets.store import (
    VERIFIED_NOTES,
    asset_path,
    part_path,
    record_install,
    verified_note,
)
from backend.assets.verify import CHUNK, check_expected, read_structure
from backend.kernel import JobContext, JobError

USER_AGENT = "TimbreStudio-assets/1"
_READ_SIZE = 64 * 1024
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0  # until the response headers arrive
    read: float = 30.0  # longest silence while the body streams


class DownloadError(JobError):
    code = "download_failed"


class ChecksumMismatch(JobError):
    code = "checksum_mismatch"


class _SourceFailed(Exception):
    """This source did not deliver; try the next one."""


def download_asset(asset: Asset, ctx: JobContext, timeouts: Timeouts = Timeouts(), *,
                   force: bool = False) -> dict[str, Any]:
    target, part = asset_path(asset), part_path(asset)
    if target.is_file() and not force:
        ctx.log(f"{asset.name} is already installed at {target}")
        return {"name": asset.name, "path": str(target), "status": "already_installed"}
    target.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    mismatch: ChecksumMismatch | None = None
    mismatches = 0
    for url in asset.sources:
        ctx.check()
        try:
            digest = _fetch(url, part, asset, ctx, timeouts)
            verified_by = _verify_download(part, digest, asset)
        except _SourceFailed as exc:
            failures.append(f"{url}: {exc}")
            ctx.log(f"{asset.name}: {url} failed: {exc}", "warning")
            continue
        except ChecksumMismatch as exc:
            part.unlink(missing_ok=True)
            mismatch, mismatches = exc, mismatches + 1
            failures.append(f"{url}: {exc.message}")
            ctx.log(exc.message, "error")
            continue
        os.replace(part, target)
        record = record_install(asset, how="download", verified_by=verified_by, sha256=digest,
                                source=url)
        note = verified_note(record, asset)
        ctx.log(f"{asset.name} installed at {target}; {note}")
        return {"name": asset.name, "path": str(target), "status": "downloaded",
                "size": target.stat().st_size, "sha256": digest, "verified_by": verified_by,
                "checksum": record["checksum"], "verified_note": note, "source": url}
    if mismatch is not None and mismatches == len(failures):
        raise mismatch
    tried = "; ".join(failures)
    raise DownloadError(f"could not download {asset.name} ({asset.basename}) from any of its "
                        f"{len(asset.sources)} sources: {tried}",
                        details={"name": asset.name, "failures": failures,
                                 "partial_bytes": part.stat().st_size if part.exists() else 0})


def download_bundle(catalogue: dict[str, Asset], asset: Asset, ctx: JobContext,
                    timeouts: Timeouts = Timeouts(), *, force: bool = False) -> dict[str, Any]:
    """Download every file of ``asset``'s bundle (its ``part_of`` files first, the main file
    last); a plain asset is a bundle of one. A failure stops there: the files already
    installed stay, the unfinished one keeps its ``.part`` for the next attempt."""
    members = bundle(catalogue, asset)
    if len(members) == 1:
        return download_asset(asset, ctx, timeouts, force=force)
    results = [download_asset(m, ctx, timeouts, force=force) for m in [*members[1:], asset]]
    main = results[-1]
    checks = [r.get("checksum") for r in results if r["status"] != "already_installed"]
    weakest = next((c for c in ("differs", "unpublished", "match") if c in checks), None)
    status = "downloaded" if checks else "already_installed"
    result = {**main, "status": status, "files": results,
              "size": sum(Path(r["path"]).stat().st_size for r in results)}
    if weakest is not None:
        result["checksum"] = weakest
        result["verified_note"] = VERIFIED_NOTES[weakest]
        result["verified_by"] = "structure" if any(
            r.get("verified_by") == "structure" for r in results) else "sha256"
    return result


def _verify_download(part: Path, digest: str, asset: Asset) -> str:
    size = part.stat().st_size
    if asset.sha256 is not None:
        if digest != asset.sha256:
            raise ChecksumMismatch(
                f"{asset.name} ({asset.basename}) failed its checksum: expected sha256 "
                f"{asset.sha256}, got {digest} ({size} bytes); the download was deleted",
                details={"name": asset.name, "expected": asset.sha256, "actual": digest})
        return "sha256"
    problems = check_expected(read_structure(part), asset.expected)
    if problems:
        raise ChecksumMismatch(
            f"{asset.name} ({asset.basename}) has no published checksum and its structure "
            f"does not match ({'; '.join(problems[:3])}); sha256 {digest}; the download was "
            "deleted", details={"name": asset.name, "problems": problems, "actual": digest})
    return "structure"


def _fetch(url: str, part: Path, asset: Asset, ctx: JobContext, timeouts: Timeouts) -> str:
    """Bring ``part`` to the full file from ``url``; returns its sha256."""
    for _attempt in range(2):
        offset = part.stat().st_size if part.exists() else 0
        if asset.size is not None and offset > asset.size:
            part.unlink()
            offset = 0
        if asset.size is not None and offset == asset.size:
            return _hash_prefix(part, offset, ctx).hexdigest()
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            resp = _open(url, headers, timeouts, ctx)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and offset:
                ctx.log(f"{asset.name}: the server refused to resume; starting again", "warning")
                part.unlink()
                continue
            raise _SourceFailed(f"HTTP {exc.code} {exc.reason}") from None
        with resp:
            start = _start_offset(resp, offset, asset, ctx)
            if start is None:  # 206 at a different offset: start again from nothing
                part.unlink()
                continue
            return _stream(resp, part, start, asset, ctx, timeouts)
    raise _SourceFailed("the server kept refusing to resume the download")


def _start_offset(resp: Any, offset: int, asset: Asset, ctx: JobContext) -> int | None:
    length = resp.headers.get("Content-Length")
    if resp.status == 206:
        match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != offset:
            return None
        ctx.log(f"{asset.name}: resuming at {offset} bytes")
        total = offset + int(length) if length else None
    elif resp.status == 200:
        if offset:
            ctx.log(f"{asset.name}: the server ignored the resume request; starting again",
                    "warning")
        offset, total = 0, int(length) if length else None
    else:
        raise _SourceFailed(f"unexpected HTTP status {resp.status}")
    if total is not None and asset.size is not None and total != asset.size:
        raise _SourceFailed(f"the server offers {total} bytes but {asset.name} is "
                            f"{asset.size} bytes (wrong file?)")
    return offset


def _hash_prefix(part: Path, offset: int, ctx: JobContext) -> Any:
    digest = hashlib.sha256()
    if offset:
        with open(part, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                ctx.check()
    return digest


def _stream(resp: Any, part: Path, offset: int, asset: Asset, ctx: JobContext,
            timeouts: Timeouts) -> str:
    digest = _hash_prefix(part, offset, ctx)
    length = resp.headers.get("Content-Length")
    expected_end = offset + int(length) if length else asset.size
    total = expected_end or 0
    done = offset
    stage = f"downloading {asset.name}"
    host = urlsplit(resp.geturl()).netloc
    with open(part, "ab" if offset else "wb") as fh, _Interrupter(resp, ctx):
        while True:
            ctx.check()
            try:
                chunk = resp.read1(_READ_SIZE)
            except TimeoutError:
                raise _SourceFailed(f"the server stalled: no data for {timeouts.read:g} s "
                                    f"after {done} bytes") from None
            except (OSError, ValueError) as exc:
                ctx.check()
                raise _SourceFailed(f"connection lost after {done} bytes ({exc})") from None
            ctx.check()
            if not chunk:
                break
            fh.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            ctx.progress(stage, done, total, name=asset.name, source=host)
        fh.flush()
        os.fsync(fh.fileno())
    if expected_end is not None and done < expected_end:
        raise _SourceFailed(f"connection closed after {done} of {expected_end} bytes "
                            "(kept for resuming)")
    ctx.progress(stage, done, max(total, done), force=True, name=asset.name, source=host)
    return digest.hexdigest()


def _open(url: str, headers: dict[str, str], timeouts: Timeouts, ctx: JobContext) -> Any:
    """Open ``url`` on a helper thread so that cancel and the connect timeout act at once."""
    request = urllib.request.Request(url, headers=headers)
    lock, done = threading.Lock(), threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        resp, err = None, None
        try:
            resp = urllib.request.urlopen(request, timeout=timeouts.read)
        except BaseException as exc:  # handed to the waiting thread
            err = exc
        with lock:
            if box.get("abandoned"):
                if resp is not None:
                    resp.close()
                return
            box["resp"], box["err"] = resp, err
            done.set()

    threading.Thread(target=work, name="asset-connect", daemon=True).start()
    deadline = time.monotonic() + timeouts.connect
    while not done.wait(0.05):
        if ctx.cancelled or time.monotonic() > deadline:
            with lock:
                if not done.is_set():
                    box["abandoned"] = True
                    break
    if box.get("abandoned"):
        ctx.check()
        raise _SourceFailed(f"no response within {timeouts.connect:g} s")
    if box["err"] is not None:
        err = box["err"]
        if isinstance(err, urllib.error.HTTPError):
            raise err
        if isinstance(err, urllib.error.URLError):
            raise _SourceFailed(f"cannot connect ({err.reason})") from None
        if isinstance(err, (OSError, ValueError)):
            raise _SourceFailed(f"cannot connect ({err})") from None
        raise err
    if ctx.cancelled:
        box["resp"].close()
        ctx.check()
    return box["resp"]


class _Interrupter:
    """While the body streams, a cancel shuts the socket down so a blocked read returns."""

    def __init__(self, resp: Any, ctx: JobContext):
        self._sock = _socket_of(resp)
        self._ctx = ctx
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="asset-cancel", daemon=True)

    def _watch(self) -> None:
        while not self._done.is_set():
            if self._ctx.cancel_event.wait(0.1):
                if self._sock is not None and not self._done.is_set():
                    with contextlib.suppress(OSError):
                        self._sock.shutdown(socket.SHUT_RDWR)
                return

    def __enter__(self) -> _Interrupter:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        self._thread.join(timeout=1.0)


def _socket_of(resp: Any) -> socket.socket | None:
    raw = getattr(getattr(resp, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None
