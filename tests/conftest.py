"""Shared fixtures. Speech is synthesised at test time; nothing binary is committed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHONUTF8", "1")


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
