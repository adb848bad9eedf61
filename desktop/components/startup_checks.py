"""Start-up checks: can the app write its folders, is there disk space, which device runs it.

Qt-free. Each check gives a ``CheckResult``: a level (ok, note, warning, failure), a
one-line summary and a detail that says what to do. The folder and disk checks run
before the backend is asked anything; the GPU check compares what the NVIDIA driver
shows (``backend.devices``, no torch) with what the backend's torch build can use (its
``hello`` and ``backend.ready`` messages). ``report_text`` makes the plain-text report a
user pastes into a bug report; ``crash_report`` adds a traceback to it and
``write_report`` saves it in the log folder.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.resources import DATA_DIR_ENV, frozen

OK, NOTE, WARNING, FAILURE = "ok", "note", "warning", "failure"
LEVELS = (OK, NOTE, WARNING, FAILURE)
DISK_WARNING_BYTES = 2_000_000_000
DISK_FAILURE_BYTES = 200_000_000
PROBE_NAME = ".timbre-write-check"
DiskUsage = Callable[[str], Any]  # shutil.disk_usage: an object with .free


@dataclass(frozen=True)
class CheckResult:
    name: str  # "data folder", "log folder", "disk space", "gpu", "backend"
    level: str
    summary: str
    detail: str = ""


@dataclass
class ReportContext:
    """The facts about this installation that every report starts with."""

    app_version: str
    data_dir: str
    log_dir: str
    frozen: bool = field(default_factory=frozen)
    executable: str = sys.executable
    os_name: str = field(default_factory=platform.platform)
    python: str = field(default_factory=lambda: sys.version.split()[0])
    extra: list[tuple[str, str]] = field(default_factory=list)  # (label, value), e.g. torch


def worst(results: Sequence[CheckResult]) -> str:
    """The most serious level among ``results`` (ok when empty)."""
    return max((r.level for r in results), key=LEVELS.index, default=OK)


# folders ------------------------------------------------------------------------------
def check_folder(path: str | os.PathLike[str], name: str, fix: str,
                 level_if_not: str = FAILURE) -> CheckResult:
    """Create ``path`` if needed, write and delete a probe file in it."""
    folder = Path(path)
    probe = folder / f"{PROBE_NAME}-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return CheckResult(name, level_if_not, f"The {name} {folder} cannot be written "
                                               f"({reason}).", fix)
    return CheckResult(name, OK, f"The {name} {folder} is writable.")


def check_data_folder(path: str | os.PathLike[str]) -> CheckResult:
    return check_folder(
        path, "data folder",
        "Downloaded models, imported voices and caches are kept there. Fix the folder's "
        f"permissions (or free the drive), or set the environment variable {DATA_DIR_ENV} "
        "to a folder you can write, then start Timbre Studio again.")


def check_log_folder(path: str | os.PathLike[str]) -> CheckResult:
    return check_folder(
        path, "log folder",
        "The app works, but writes no log file, so a problem cannot be looked at "
        "afterwards. Fix the folder's permissions, or start with --log-dir FOLDER.",
        level_if_not=WARNING)


# disk space ---------------------------------------------------------------------------
def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (the drive is what counts)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def check_disk_space(path: str | os.PathLike[str], disk_usage: DiskUsage = shutil.disk_usage,
                     warn_below: int = DISK_WARNING_BYTES,
                     fail_below: int = DISK_FAILURE_BYTES) -> CheckResult:
    """Free space on the data folder's drive."""
    where = _existing(Path(path))
    try:
        free = int(disk_usage(str(where)).free)
    except OSError as exc:
        return CheckResult("disk space", NOTE, f"The free space on {where} is not known "
                                               f"({exc.strerror or exc}).")
    need = ("Model files are 0.1–0.4 GB each (Whisper models up to 3 GB), and training "
            "writes features and checkpoints of several hundred MB per voice.")
    fix = (f"Free some space on that drive, or set {DATA_DIR_ENV} to a folder on another "
           "drive.")
    if free < fail_below:
        return CheckResult("disk space", FAILURE,
                           f"Only {_gb(free)} free on the drive of {path}.", f"{need} {fix}")
    if free < warn_below:
        return CheckResult("disk space", WARNING,
                           f"{_gb(free)} free on the drive of {path}: downloads and training "
                           "may run out of space.", f"{need} {fix}")
    return CheckResult("disk space", OK, f"{_gb(free)} free on the drive of {path}.")


def local_checks(data_dir: str | os.PathLike[str], log_dir: str | os.PathLike[str],
                 disk_usage: DiskUsage = shutil.disk_usage) -> list[CheckResult]:
    """The checks that need no backend: data folder, log folder, disk space."""
    return [check_data_folder(data_dir), check_log_folder(log_dir),
            check_disk_space(data_dir, disk_usage)]


# GPU ----------------------------------------------------------------------------------
def _version_tuple(text: Any) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)(?:\.(\d+))?", str(text or ""))
    return tuple(int(g) for g in match.groups() if g is not None) if match else None


def torch_build(torch: str | None, ready: dict[str, Any]) -> str | None:
    """The CUDA version the backend's torch was built with, "" for a CPU build, None if not
    known (yet). ``backend.ready`` says it; before it, hello's "+cpu"/"+cu128" suffix."""
    if "cuda_version" in ready:
        return str(ready.get("cuda_version") or "")
    version = str(ready.get("torch") or torch or "")
    if version.endswith("+cpu"):
        return ""
    match = re.search(r"\+cu(\d+)(\d)$", version)
    return f"{match[1]}.{match[2]}" if match else None


def _gpu_names(gpus: Sequence[dict[str, Any]]) -> str:
    return ", ".join(str(g.get("name") or g.get("id") or "GPU") for g in gpus)


def check_gpu(gpus: Sequence[dict[str, Any]], driver: dict[str, Any] | None,
              torch: str | None, ready: dict[str, Any]) -> CheckResult:
    """The NVIDIA GPUs and driver found (``backend.devices``) versus the backend's torch."""
    if ready.get("torch_error"):
        return CheckResult("gpu", WARNING, "The backend could not load torch: models cannot "
                           "run.", f"{ready['torch_error']}. Reinstall Timbre Studio.")
    build = torch_build(torch, ready)
    names = _gpu_names(gpus)
    if build is None:
        return CheckResult("gpu", OK, "Not known yet which device the backend uses.")
    if build == "":
        if gpus:
            return CheckResult(
                "gpu", NOTE, f"This is the CPU version of Timbre Studio, but an NVIDIA GPU "
                f"was found ({names}).", "Training and conversion would be much faster with "
                "the CUDA version: install Timbre Studio's CUDA installer.")
        return CheckResult("gpu", OK, "Runs on the CPU (no NVIDIA GPU found).")
    if not gpus:
        return CheckResult(
            "gpu", NOTE, "No NVIDIA GPU or driver found: Timbre Studio runs on the CPU "
            "(slower).", "If this computer has an NVIDIA graphics card, install or update "
            "its driver (nvidia.com/drivers) and start Timbre Studio again.")
    return _cuda_with_gpu(names, build, driver, ready)


def _cuda_with_gpu(names: str, build: str, driver: dict[str, Any] | None,
                   ready: dict[str, Any]) -> CheckResult:
    driver = driver or {}
    has, needs = _version_tuple(driver.get("cuda_version")), _version_tuple(build)
    too_old = bool(has and needs and has[0] < needs[0])
    driver_text = (f"driver {driver.get('driver_version') or '?'}, which runs CUDA up to "
                   f"{driver.get('cuda_version')}" if driver.get("cuda_version") else "")
    if too_old:
        return CheckResult(
            "gpu", WARNING, f"The NVIDIA driver is too old for this version: Timbre Studio "
            f"runs on the CPU instead of {names}.", f"The {driver_text}; this build needs "
            f"CUDA {build}. Update the NVIDIA driver (nvidia.com/drivers).")
    if "cuda" in ready and not ready.get("cuda"):
        return CheckResult(
            "gpu", WARNING, f"torch cannot use the NVIDIA GPU ({names}): Timbre Studio runs "
            "on the CPU.", (f"The {driver_text}; " if driver_text else "") + f"this build "
            f"uses CUDA {build}. Update the NVIDIA driver (nvidia.com/drivers); the log "
            "folder may say more.")
    return CheckResult("gpu", OK, f"Runs on the GPU: {names} (CUDA {build}"
                       + (f", driver {driver.get('driver_version')}" if driver else "") + ").")


def backend_silent(seconds: float, state: str, command: Sequence[str],
                   stderr_tail: Sequence[str], crash: str = "") -> CheckResult:
    """The backend never said hello: what it is and what it wrote last."""
    lines = [f"Backend command: {' '.join(command)}", f"State: {state}"]
    if crash:
        lines.append(f"Last error: {crash}")
    if stderr_tail:
        lines += ["Its last output:", *(f"  {line}" for line in stderr_tail)]
    lines.append("Without the backend no job can run. Start Timbre Studio again; if this "
                 "repeats, an antivirus may be blocking TimbreStudio.exe (see the install "
                 "guide) — send this report with the log folder's files.")
    return CheckResult("backend", FAILURE,
                       f"The backend did not start within {seconds:g} s.", "\n".join(lines))


# reports ------------------------------------------------------------------------------
def report_text(results: Sequence[CheckResult], context: ReportContext) -> str:
    """A plain-text report to paste into a bug report."""
    lines = [f"Timbre Studio {context.app_version} start-up report",
             f"Time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
             f"Frozen: {'yes (installed app)' if context.frozen else 'no (from source)'}",
             f"Executable: {context.executable}",
             f"OS: {context.os_name}", f"Python: {context.python}",
             f"Data folder: {context.data_dir}", f"Log folder: {context.log_dir}"]
    lines += [f"{label}: {value}" for label, value in context.extra]
    lines += ["", "Checks:"]
    for r in results:
        lines.append(f"[{r.level.upper()}] {r.name}: {r.summary}")
        lines += [f"    {line}" for line in r.detail.splitlines() if r.level != OK]
    return "\n".join(lines) + "\n"


def crash_report(traceback_text: str, results: Sequence[CheckResult],
                 context: ReportContext) -> str:
    return (report_text(results, context)
            + "\nTimbre Studio stopped during start-up with this error:\n"
            + traceback_text.rstrip() + "\n")


def write_report(text: str, folder: str | os.PathLike[str], prefix: str = "crash") -> Path:
    """Save ``text`` as ``<prefix>-<time>.txt`` in ``folder``, else in the temporary
    folder (a log folder that cannot be written must not hide the report)."""
    name = f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    for where in (Path(folder), Path(tempfile.gettempdir())):
        try:
            where.mkdir(parents=True, exist_ok=True)
            path = where / name
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return path
    raise OSError(f"cannot write {name} in {folder} nor in the temporary folder")
