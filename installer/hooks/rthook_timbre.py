"""Runtime hook of the frozen app: runs before installer/entry.py, in every process.

* PortAudio: on Linux sounddevice looks for ``libportaudio`` with
  ``ctypes.util.find_library("portaudio")``, which searches the system (ldconfig), never
  the bundle. The spec ships ``libportaudio.so.2`` next to the other libraries; this
  answers that name with the bundled file, so audio works without Debian's
  ``libportaudio2`` (and the bundle's copy is the one used when both exist).
* numba: librosa's ``@jit(cache=True)`` functions need their source (the spec collects
  librosa as ``.py`` too) and a writable cache: ``NUMBA_CACHE_DIR`` is set to
  ``<data folder>/cache/numba`` (a temporary folder if that cannot be made), unless the
  user set it. Without it numba would write next to the bundle's files, which may be
  read-only, and a failed cache makes the import itself fail.
* Windows, windowed executable: a missing standard stream (started with no console and
  no pipe) becomes ``os.devnull`` so ``backend serve``'s fd juggling cannot crash; a
  pipe given by the desktop's QProcess is used as it is.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
import tempfile
from pathlib import Path


def _bundled_portaudio() -> str | None:
    root = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    for name in ("libportaudio.so.2", "libportaudio.so"):
        if (root / name).is_file():
            return str(root / name)
    return None


def _patch_find_library() -> None:
    bundled = _bundled_portaudio()
    if bundled is None:
        return
    original = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        if name == "portaudio":
            return bundled
        return original(name)

    ctypes.util.find_library = find_library


def _numba_cache_dir() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    from backend.resources import data_dir

    for folder in (data_dir() / "cache" / "numba",
                   Path(tempfile.gettempdir()) / "timbre-studio-numba"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
            return


def _windows_streams() -> None:
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        if getattr(sys, name) is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:  # no handle at all: point the descriptor at the null device
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, fd)
            os.close(null)
        setattr(sys, name, open(fd, mode, encoding="utf-8", errors="replace",  # noqa: SIM115
                                closefd=False))


if sys.platform.startswith("linux"):
    _patch_find_library()
if sys.platform == "win32":
    _windows_streams()
_numba_cache_dir()
