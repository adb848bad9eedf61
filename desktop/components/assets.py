"""The model-asset manager's logic: rows from ``assets.list``, sizes, errors, missing assets.

Pure Python. ``AssetsModel`` holds the last ``assets.list`` result plus each asset's
latest ``assets`` job (a ``JobHandle``, whichever page started it: a running download or
import, its progress, or how it ended); ``QtAssetsPage`` draws it. ``MissingAsset`` is
what a feature page shows when an asset it needs is not installed: built from an
``asset_missing`` error (a refused ``job.start`` or a failed job) or from
``assets.list`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.protocol import Error
from desktop.components.job_handle import CANCELLED, FAILED, JobHandle

E_ASSET_MISSING = "asset_missing"
WRONG_FILE = "wrong_file"

GROUPS: list[tuple[str, str]] = [
    ("content", "Content encoders"),
    ("pitch", "Pitch"),
    ("base-v1", "Pretrained bases v1"),
    ("base-v2", "Pretrained bases v2"),
    ("transcription", "Transcription (Whisper)"),
    ("other", "Other"),
]

ERROR_HEADLINES = {
    "download_failed": "Download failed",
    "checksum_mismatch": "Checksum mismatch: the file is not the expected one",
    WRONG_FILE: "Wrong file",
    "unsafe_file": "Refused: the file holds code, not just a model",
    "cancelled": "Cancelled",
}


def format_size(n: Any) -> str:
    """Human-readable bytes (decimal units, as the backend's table); unknown -> "?"."""
    if not isinstance(n, (int, float)) or isinstance(n, bool) or n < 0:
        return "?"
    if n < 1000:
        return f"{int(n)} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        value = n / scale
        if value < 1000 or unit == "GB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return "?"  # unreachable


def group_of(row: dict[str, Any]) -> str:
    """The group key of an ``assets.list`` row (see GROUPS)."""
    kind = str(row.get("kind") or "")
    if kind.startswith("content_encoder"):
        return "content"
    if kind.startswith("pitch"):
        return "pitch"
    if kind.startswith("transcription"):
        return "transcription"
    if kind.startswith("rvc_base"):
        text = f"{row.get('family', '')} {row.get('name', '')}".lower()
        if "v1" in text:
            return "base-v1"
        if "v2" in text:
            return "base-v2"
    return "other"


def error_text(code: str | None, message: str) -> str:
    """A clear one-paragraph text for a failed download/import."""
    headline = ERROR_HEADLINES.get(code or "", "Failed")
    return f"{headline}: {message}" if message else headline


@dataclass
class AssetRow:
    """What one table row shows."""

    name: str
    title: str
    group: str
    installed: bool
    size_text: str
    status_text: str
    needed_by: str
    tooltip: str
    busy: bool
    error: str | None
    fraction: float | None
    can_download: bool
    can_import: bool
    can_remove: bool
    warning: str | None = None  # installed, but accepted by structure although its checksum differs
    note: str = ""  # said after the status, not as an error (a refused import)

    @property
    def status_cell(self) -> str:
        return self.error or (f"{self.status_text}; {self.note}" if self.note
                              else self.status_text)


STRUCTURE_ONLY_TIP = (
    "Its checksum is not the published one: it was accepted because its keys and shapes "
    "match. Like every model file it is loaded with restrictions that keep any code in it "
    "from running, but it may not be the model you expect; download it to get the "
    "published file.")


def verification_of(row: dict[str, Any]) -> str:
    """How an installed file was verified ("verified by checksum", "verified by structure
    only (checksum differs)", ...)."""
    note = row.get("verified_note")
    if isinstance(note, str) and note:
        return note
    verified = row.get("verified_by")
    return f"verified by {verified}" if verified else ""


def job_error(job: JobHandle | None) -> str | None:
    """How an asset's last job went wrong (a refused start too), else None."""
    if job is None:
        return None
    if job.state == FAILED:
        return error_text(job.error_code, str(job.error.get("message") or ""))
    if job.state == CANCELLED:
        return "Cancelled; a partial download is kept and resumes next time."
    return None


def status_of(row: dict[str, Any], job: JobHandle | None) -> str:
    if job is not None and job.active:
        verb = "Downloading" if job.args.get("action") == "download" else "Importing"
        if job.total > 0:
            return f"{verb}: {format_size(job.done)} of {format_size(job.total)}"
        if job.done > 0:  # the server did not say how big the file is
            return f"{verb}: {format_size(job.done)} of ?"
        return f"{verb}…"
    if row.get("installed"):
        how = {"download": "downloaded", "import": "imported"}.get(str(row.get("how")), "")
        verified = verification_of(row)
        text = "Installed" + (f" ({how})" if how else "")
        return f"{text}, {verified}" if verified else text
    partial = row.get("partial_bytes")
    if isinstance(partial, (int, float)) and partial > 0:
        return f"Not installed; partial download, resumes at {format_size(partial)}"
    return "Not installed"


class AssetsModel:
    """The ``assets.list`` rows plus each asset's latest ``assets`` job."""

    def __init__(self) -> None:
        self.data_dir = ""
        self._rows: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, JobHandle] = {}  # asset name -> its latest job

    def load(self, result: dict[str, Any]) -> None:
        self.data_dir = str(result.get("data_dir") or "")
        assets = result.get("assets")
        rows = [a for a in assets if isinstance(a, dict) and a.get("name")] \
            if isinstance(assets, list) else []
        self._rows = {str(a["name"]): a for a in rows}

    @property
    def loaded(self) -> bool:
        return bool(self._rows)

    def names(self) -> list[str]:
        return list(self._rows)

    def raw(self, name: str) -> dict[str, Any] | None:
        return self._rows.get(name)

    def installed(self) -> set[str]:
        return {n for n, r in self._rows.items() if r.get("installed")}

    # jobs -----------------------------------------------------------------------------
    def track(self, job: JobHandle) -> str | None:
        """An ``assets`` job (any page's): the asset it works on, whose row now shows it."""
        name = job.args.get("name")
        if job.kind != "assets" or not isinstance(name, str) or not name:
            return None
        self.jobs[name] = job
        return name

    def name_of(self, job: JobHandle) -> str | None:
        """The asset whose row shows ``job`` (None for an older or unrelated job)."""
        name = job.args.get("name")
        return name if isinstance(name, str) and self.jobs.get(name) is job else None

    # rows -----------------------------------------------------------------------------
    def row(self, name: str) -> AssetRow:
        r = self._rows[name]
        job = self.jobs.get(name)
        busy = job is not None and job.active
        installed = bool(r.get("installed"))
        size = r.get("installed_size") if installed else r.get("size")
        if size is None and job is not None and job.total > 0:
            size = job.total  # the catalogue does not know it; the server said
        error, note = job_error(job), ""
        if error and job is not None and job.error_code == WRONG_FILE:
            # the file the user chose was refused: nothing is wrong with the asset itself
            note = "the file given to import was not it: " + \
                error.removeprefix(ERROR_HEADLINES[WRONG_FILE] + ": ")
            error = None
        tip = [str(r.get("purpose") or ""), f"File: {r.get('path') or r.get('filename')}",
               f"Licence: {r.get('licence') or '?'}"]
        if not r.get("verified"):
            tip.append("No published checksum: checked by its structure.")
        differs = installed and r.get("checksum") == "differs"
        if differs:
            tip.append(STRUCTURE_ONLY_TIP)
        return AssetRow(
            name=name, title=str(r.get("title") or name), group=group_of(r),
            installed=installed, size_text=format_size(size), status_text=status_of(r, job),
            needed_by="; ".join(str(x) for x in r.get("needed_by") or []),
            tooltip="\n".join(t for t in tip if t), busy=busy, error=error, note=note,
            fraction=job.fraction if busy and job is not None else None,
            can_download=not busy and not installed, can_import=not busy,
            can_remove=not busy and (installed or bool(r.get("partial_bytes"))),
            warning=verification_of(r) if differs else None)

    def grouped(self) -> list[tuple[str, list[AssetRow]]]:
        """(group title, rows) in GROUPS order, empty groups left out."""
        rows = [self.row(n) for n in self._rows]
        out = []
        for key, title in GROUPS:
            members = [r for r in rows if r.group == key]
            if members:
                out.append((title, members))
        return out


# missing assets -------------------------------------------------------------------------
@dataclass
class MissingAsset:
    name: str
    size: int | None = None
    message: str = ""
    download_command: str = ""
    import_hint: str = ""
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size_text(self) -> str:
        return format_size(self.size)

    def text(self) -> str:
        label = f"{self.title} ({self.name})" if self.title and self.title != self.name \
            else self.name
        size = f"It is {self.size_text} to download." if self.size else \
            "Its size is not known in advance."
        return (f"The model file {label} is needed but is not installed. {size}\n\n"
                f"Download it now, or import a copy you already have (useful offline)."
                + (f"\n\nFrom a terminal: {self.download_command}" if self.download_command
                   else ""))


def _from_error_dict(code: Any, message: Any, details: Any) -> MissingAsset | None:
    if code != E_ASSET_MISSING or not isinstance(details, dict):
        return None
    name = details.get("name")
    if not isinstance(name, str) or not name:
        return None
    size = details.get("size")
    return MissingAsset(
        name=name, size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        message=str(message or ""), download_command=str(details.get("download_command") or ""),
        import_hint=str(details.get("import_hint") or ""))


def missing_from_error(err: Error) -> MissingAsset | None:
    """An ``asset_missing`` error reply (e.g. a refused ``job.start``), else None."""
    return _from_error_dict(err.code, err.message, err.details)


def missing_from_job(job: JobHandle) -> MissingAsset | None:
    """A job refused or failed with ``asset_missing``, else None."""
    if job.state != FAILED:
        return None
    err = job.error
    return _from_error_dict(err.get("code"), err.get("message"), err.get("details"))


def missing_from_list(result: dict[str, Any], names: list[str]) -> list[MissingAsset]:
    """Which of ``names`` an ``assets.list`` result says are not installed (in that order).

    A name the catalogue does not know counts as missing too (the backend will say so)."""
    rows = {str(a.get("name")): a for a in result.get("assets") or [] if isinstance(a, dict)}
    out = []
    for name in names:
        row = rows.get(name)
        if row is not None and row.get("installed"):
            continue
        size = row.get("size") if row else None
        out.append(MissingAsset(
            name=name, size=size if isinstance(size, int) else None,
            title=str(row.get("title") or name) if row else name,
            message=f"{name} is not installed",
            download_command=f"python -m backend assets download {name}",
            import_hint=f"python -m backend assets import PATH --as {name}"))
    return out
