"""What the Dataset page writes (Qt-free): source rows, job summaries and its messages.

The page (desktop/ui/dataset_page.py) only puts these strings into its widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.components.job_handle import CANCELLED, OK, JobHandle
from desktop.components.project_state import ProjectState

SOURCE_COLUMNS = ("Name", "Duration", "Rate", "Channels", "Status")
NONE = "—"
MAX_LISTED_ERRORS = 10

DROP_HINT = "Drop recordings or folders here, or use Add files…"
NO_PROJECT = "Open or create a project first (File ▸ New project… or Open project…)."
IMPORTING = "Importing {count} item(s)…"
PREPARING = "Preparing the dataset…"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def fmt_duration(value: Any) -> str:
    """Seconds as "m:ss.s" ("1:05.3"); "—" when unknown."""
    seconds = _number(value)
    if seconds is None or seconds < 0:
        return NONE
    tenths = int(round(seconds * 10))  # rounded once: 59.96 s is "1:00.0", never "0:60.0"
    return f"{tenths // 600}:{tenths % 600 / 10:04.1f}"


def fmt_rate(value: Any) -> str:
    """A sample rate as "44.1 kHz"; "—" when unknown."""
    rate = _number(value)
    return NONE if rate is None else f"{rate / 1000:g} kHz"


@dataclass(frozen=True)
class SourceRow:
    """One row of the sources table: a cell text per ``SOURCE_COLUMNS``, and tooltips."""

    cells: tuple[str, ...]
    path: str

    def tooltip(self, column: int) -> str:
        """The name cell shows the file's path; every other cell its whole text."""
        return self.path if column == 0 else self.cells[column]


def source_row(src: dict[str, Any]) -> SourceRow:
    """A ``project.open`` source as the table shows it."""
    path = str(src.get("path", ""))
    status = str(src.get("status", ""))
    if src.get("error"):
        status = f"{status}: {src['error']}"
    channels = src.get("channels")
    cells = (str(src.get("name") or Path(path).name), fmt_duration(src.get("duration")),
             fmt_rate(src.get("sample_rate")), NONE if channels is None else str(channels),
             status)
    return SourceRow(cells, path)


def project_label(state: ProjectState | None) -> str:
    return f"{state.name} — {state.path}" if state is not None else "No project open"


def count(value: Any) -> int:
    """A count given as a number or as the list of the items."""
    if isinstance(value, (list, tuple)):
        return len(value)
    number = _number(value)
    return int(number) if number is not None else 0


def errors_text(errors: Any) -> str:
    """The job's ``errors`` list as lines under its summary ("" when none)."""
    if not isinstance(errors, list) or not errors:
        return ""
    lines = [f"  {e.get('path')}: {e.get('message')}" for e in errors[:MAX_LISTED_ERRORS]
             if isinstance(e, dict)]
    more = len(errors) - MAX_LISTED_ERRORS
    tail = f"\n  …and {more} more" if more > 0 else ""
    return f"\n{len(errors)} problem(s):\n" + "\n".join(lines) + tail


def job_summary(kind: str, result: dict[str, Any]) -> str:
    """What a finished ``import`` or ``prepare`` job did."""
    if kind == "import":
        return (f"Imported {count(result.get('added'))} recording(s); "
                f"{count(result.get('duplicates'))} duplicate(s) skipped."
                + errors_text(result.get("errors")))
    if kind == "prepare":
        minutes = (_number(result.get("prepared_seconds")) or 0.0) / 60
        return (f"Prepared {count(result.get('sources_processed'))} source(s) "
                f"({count(result.get('sources_skipped'))} unchanged): "
                f"{count(result.get('slices'))} clips, {minutes:.1f} min."
                + errors_text(result.get("errors")))
    return f"{kind} finished."


def finished_text(job: JobHandle) -> str:
    """The page's message once its job has ended (or its start was refused)."""
    if job.refused:
        return f"Could not start {job.kind}: {job.error_message}"
    if job.state == OK:
        return job_summary(job.kind, job.result)
    what = job.kind.capitalize() or "Job"
    if job.state == CANCELLED:
        return f"{what} cancelled."
    return f"{what} failed: {job.error_message}"


def progress_format(job: JobHandle) -> str:
    """The progress bar's format: stage, percentage and ETA (``%p`` is Qt's percentage)."""
    eta = job.eta_text()
    stage = (job.stage or "working").replace("%", "%%")
    return f"{stage}: %p%" + (f" — {eta} left" if eta else "")


def busy_text(kind: str) -> str:
    return f"Wait for the running {kind} job to finish (or cancel it)."


def cannot_prepare_text(problems: list[str]) -> str:
    return "Cannot prepare: " + "; ".join(problems)
