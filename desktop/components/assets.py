"""The model-asset manager's logic: rows from ``assets.list``, sizes, errors, missing assets.

Pure Python. ``AssetsModel`` holds the last ``assets.list`` result plus what is
happening to each asset right now (a running download or import, its progress, the
last error); ``QtAssetsPage`` draws it. ``MissingAsset`` is what a feature page shows
when an asset it needs is not installed: built from an ``asset_missing`` error (a
refused ``job.start`` or a failed ``job.finished``) or from ``assets.list`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.protocol import Error

E_ASSET_MISSING = "asset_missing"
WRONG_FILE = "wrong_file"

GROUPS: list[tuple[str, str]] = [
    ("content", "Content encoders"),
    ("pitch", "Pitch"),
    ("base-v1", "Pretrained bases v1"),
    ("base-v2", "Pretrained bases v2"),
    ("other", "Other"),
]

ERROR_HEADLINES = {
    "download_failed": "Download failed",
    "checksum_mismatch": "Checksum mismatch: the file is not the expected one",
    WRONG_FILE: "Wrong file",
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
class Activity:
    """A download or import of one asset that is running now (or just failed)."""

    job_id: str = ""
    action: str = ""  # "download" or "import"
    stage: str = ""
    done: float = 0
    total: float = 0

    @property
    def fraction(self) -> float | None:
        return max(0.0, min(1.0, self.done / self.total)) if self.total > 0 else None


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
    note: str = ""  # said after the status, not as an error (a refused import)

    @property
    def status_cell(self) -> str:
        return self.error or (f"{self.status_text}; {self.note}" if self.note
                              else self.status_text)


def status_of(row: dict[str, Any], activity: Activity | None) -> str:
    if activity is not None:
        verb = "Downloading" if activity.action == "download" else "Importing"
        if activity.total > 0:
            return (f"{verb}: {format_size(activity.done)} of {format_size(activity.total)}")
        if activity.done > 0:  # the server did not say how big the file is
            return f"{verb}: {format_size(activity.done)} of ?"
        return f"{verb}…"
    if row.get("installed"):
        how = {"download": "downloaded", "import": "imported"}.get(str(row.get("how")), "")
        verified = row.get("verified_by")
        extra = ", ".join(x for x in (how, f"verified by {verified}" if verified else "") if x)
        return "Installed" + (f" ({extra})" if extra else "")
    partial = row.get("partial_bytes")
    if isinstance(partial, (int, float)) and partial > 0:
        return f"Not installed; partial download, resumes at {format_size(partial)}"
    return "Not installed"


class AssetsModel:
    """The ``assets.list`` rows plus each asset's running job, progress and last error."""

    def __init__(self) -> None:
        self.data_dir = ""
        self._rows: dict[str, dict[str, Any]] = {}
        self.activity: dict[str, Activity] = {}
        self.errors: dict[str, str] = {}
        self.error_codes: dict[str, str] = {}

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
    def job_started(self, job_id: str, args: dict[str, Any]) -> str | None:
        """An ``assets`` job began; returns the asset it works on (if named)."""
        name = args.get("name")
        if not isinstance(name, str) or not name:
            return None
        self.activity[name] = Activity(job_id, str(args.get("action") or ""), "starting")
        self.errors.pop(name, None)
        self.error_codes.pop(name, None)
        return name

    def name_of_job(self, job_id: str) -> str | None:
        return next((n for n, a in self.activity.items() if a.job_id == job_id), None)

    def progress(self, data: dict[str, Any]) -> str | None:
        """A ``job.progress`` of an assets job; returns the asset name it moved."""
        job_id = str(data.get("job_id") or "")
        name = data.get("name") if isinstance(data.get("name"), str) else None
        name = name or self.name_of_job(job_id)
        if name is None:
            return None
        act = self.activity.setdefault(name, Activity(job_id, "download"))
        act.job_id = act.job_id or job_id
        act.stage = str(data.get("stage") or act.stage)
        for key in ("done", "total"):
            value = data.get(key)
            if isinstance(value, (int, float)):
                setattr(act, key, value)
        return name

    def finished(self, data: dict[str, Any]) -> str | None:
        """A ``job.finished``; clears the activity, keeps an error text if it failed."""
        name = self.name_of_job(str(data.get("job_id") or ""))
        if name is None:
            return None
        del self.activity[name]
        if data.get("status") == "failed":
            err = data.get("error") if isinstance(data.get("error"), dict) else {}
            self.errors[name] = error_text(err.get("code"), str(err.get("message") or ""))
            self.error_codes[name] = str(err.get("code") or "")
        elif data.get("status") == "cancelled":
            self.errors[name] = "Cancelled; a partial download is kept and resumes next time."
        return name

    def fail(self, name: str, code: str | None, message: str) -> None:
        """A job for ``name`` was refused before it started."""
        self.activity.pop(name, None)
        self.errors[name] = error_text(code, message)
        self.error_codes[name] = str(code or "")

    # rows -----------------------------------------------------------------------------
    def row(self, name: str) -> AssetRow:
        r = self._rows[name]
        act = self.activity.get(name)
        installed = bool(r.get("installed"))
        size = r.get("installed_size") if installed else r.get("size")
        if size is None and act is not None and act.total > 0:
            size = act.total  # the catalogue does not know it; the server said
        error, note = self.errors.get(name), ""
        if error and self.error_codes.get(name) == WRONG_FILE:
            # the file the user chose was refused: nothing is wrong with the asset itself
            error, note = None, "the file given to import was not it: " + \
                error.removeprefix(ERROR_HEADLINES[WRONG_FILE] + ": ")
        tip = [str(r.get("purpose") or ""), f"File: {r.get('path') or r.get('filename')}",
               f"Licence: {r.get('licence') or '?'}"]
        if not r.get("verified"):
            tip.append("No published checksum: checked by its structure.")
        return AssetRow(
            name=name, title=str(r.get("title") or name), group=group_of(r),
            installed=installed, size_text=format_size(size), status_text=status_of(r, act),
            needed_by="; ".join(str(x) for x in r.get("needed_by") or []),
            tooltip="\n".join(t for t in tip if t), busy=act is not None,
            error=error, note=note, fraction=act.fraction if act else None,
            can_download=act is None and not installed, can_import=act is None,
            can_remove=act is None and (installed or bool(r.get("partial_bytes"))))

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


def missing_from_finished(data: dict[str, Any]) -> MissingAsset | None:
    """A failed ``job.finished`` whose error is ``asset_missing``, else None."""
    if data.get("status") != "failed" or not isinstance(data.get("error"), dict):
        return None
    err = data["error"]
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
