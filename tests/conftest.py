"""Shared fixtures. Speech is synthesised at test time; nothing binary is committed."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHONUTF8", "1")
# as backend/__main__.py does: idle OpenMP threads sleep (set before torch is imported;
# spinning threads of one test process slow every other process on 2 cores)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# the suite never reads or writes the user's own folders (downloaded models, the models
# library, settings, logs): each test process, and every backend or window it starts,
# gets fresh ones under one temporary folder, removed at exit
_PRIVATE = tempfile.mkdtemp(prefix="timbre-test-home-")
atexit.register(shutil.rmtree, _PRIVATE, True)
for _var, _sub in (("TIMBRE_DATA_DIR", "data"), ("XDG_CONFIG_HOME", "config"),
                   ("XDG_STATE_HOME", "state")):
    os.environ[_var] = os.path.join(_PRIVATE, _sub)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def python_exe() -> str:
    return sys.executable


def espeak_wav(path: Path, text: str, voice: str = "en+m3", pitch: int = 50) -> Path:
    """Speak ``text`` into a wav file with espeak-ng (22.05 kHz mono)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.fail("espeak-ng is not installed: run the README's test command")
    subprocess.run([exe, "-v", voice, "-p", str(pitch), "-w", str(path), text], check=True)
    return path


def festival_wav(path: Path, text: str, voice: str = "voice_cmu_us_slt_arctic_hts") -> Path:
    """Speak ``text`` into a wav with festival's text2wave."""
    exe = shutil.which("text2wave")
    if exe is None:
        pytest.fail("festival is not installed: run the README's test command")
    subprocess.run([exe, "-eval", f"({voice})", "-o", str(path)], input=text.encode(),
                   check=True)
    return path


@pytest.fixture
def unicode_dir(tmp_path: Path) -> Path:
    """A folder whose name has spaces and non-ASCII characters."""
    d = tmp_path / "my voice dätaset – Ωmega 声"
    d.mkdir()
    return d


def _mount(args: list[str], what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (mount)")
    done = subprocess.run(["mount", *args], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount {what} here: {done.stderr.decode().strip()}")


@pytest.fixture
def make_small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``make(size)``: a fresh tmpfs of ``size`` (e.g. "3m"), root only; skipped where
    mounting is not allowed. Unmounted at the end of the test."""
    mounts: list[Path] = []

    def make(size: str) -> Path:
        mnt = tmp_path / f"small disk {uuid.uuid4().hex[:6]}"
        mnt.mkdir()
        _mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], "a small tmpfs")
        mounts.append(mnt)
        return mnt

    try:
        yield make
    finally:
        for mnt in reversed(mounts):
            subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def small_disk(make_small_disk: Callable[[str], Path]) -> Path:
    """A 3 MB tmpfs (root only); skipped where mounting is not allowed."""
    return make_small_disk("3m")


@pytest.fixture
def read_only_view(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """``view(folder)``: the folder seen through a read-only bind mount, so that writing
    fails with EROFS even for root (root ignores chmod); skipped where mounting is not
    allowed."""
    mounts: list[Path] = []

    def view(folder: Path) -> Path:
        mnt = tmp_path / f"read-only {uuid.uuid4().hex[:6]} ü" / folder.name
        mnt.mkdir(parents=True)
        _mount(["--bind", str(folder), str(mnt)], "a read-only bind mount")
        mounts.append(mnt)
        _mount(["-o", "remount,ro,bind", str(mnt)], "a read-only bind mount")
        return mnt

    try:
        yield view
    finally:
        for mnt in reversed(mounts):
            subprocess.run(["umount", "-l", str(mnt)], check=False)
