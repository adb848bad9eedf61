"""Helpers for the project/import/prepare tests: speech, broken files, CLI runs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.conftest import espeak_wav

ROOT = Path(__file__).resolve().parents[2]

SENTENCES = [
    "The quick brown fox jumps over the lazy dog. Then it rests in the sun.",
    "A voice model learns from many short clips of clean speech.",
    "Please keep the recordings dry, close and free of background music.",
    "Seven silver swans swam silently seaward at sunset.",
]


def speech(folder: Path, name: str, idx: int = 0, pitch: int = 50) -> Path:
    """A few seconds of espeak-ng speech, with a short pause between two sentences."""
    folder.mkdir(parents=True, exist_ok=True)
    text = SENTENCES[idx % len(SENTENCES)]
    return espeak_wav(folder / name, text, pitch=pitch)


def long_speech(src: Path, dst: Path, seconds: float, gain: float = 1.0) -> Path:
    """Tile a speech file (with 0.5 s pauses) to about ``seconds`` long.

    Different ``gain`` values give different files (a project keeps one copy of each).
    """
    data, sr = sf.read(src, dtype="float32")
    pause = np.zeros(int(0.5 * sr), np.float32)
    unit = np.concatenate([data, pause])
    reps = int(np.ceil(seconds * sr / len(unit)))
    sf.write(dst, gain * np.tile(unit, reps)[: int(seconds * sr)], sr)
    return dst


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_bad_files(folder: Path, good: Path) -> dict[str, Path]:
    """Broken inputs next to good ones; returns {kind: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    bad: dict[str, Path] = {}
    bad["empty"] = folder / "empty.wav"
    bad["empty"].write_bytes(b"")
    bad["text"] = folder / "notes.wav"
    bad["text"].write_text("these are my notes, not a recording\n" * 20)
    raw = good.read_bytes()
    bad["truncated"] = folder / "cut short.wav"
    bad["truncated"].write_bytes(raw[: len(raw) // 3])
    data, sr = sf.read(good, dtype="float32")
    nan = data.copy()
    nan[len(nan) // 2: len(nan) // 2 + 200] = np.nan
    bad["nan"] = folder / "nan samples.wav"
    sf.write(bad["nan"], nan, sr, subtype="FLOAT")
    bad["8ch"] = folder / "eight channels.wav"
    sf.write(bad["8ch"], np.tile(data[: sr * 2, None], (1, 8)) * 0.5, sr)
    bad["384k"] = folder / "ultrasonic 384k.wav"
    t = np.arange(int(384000 * 1.0)) / 384000
    sf.write(bad["384k"], (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 384000)
    if os.geteuid() != 0:
        bad["unreadable"] = folder / "locked.wav"
        bad["unreadable"].write_bytes(raw)
        bad["unreadable"].chmod(0)
    return bad


def run_cli(*args: str, timeout: float = 120) -> tuple[int, dict, str]:
    """Run ``python -m backend ... --json``; returns (exit code, summary, stderr)."""
    env = {**os.environ, "PYTHONUTF8": "1"}
    proc = subprocess.run([sys.executable, "-m", "backend", *args, "--json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    summary = json.loads(lines[-1]) if lines else {}
    return proc.returncode, summary, proc.stderr


def wavs_read_fully(folder: Path) -> list[Path]:
    """Every file in ``folder`` must be a complete wav; returns them."""
    files = sorted(folder.iterdir())
    for f in files:
        assert f.suffix == ".wav", f"unexpected file {f.name} in {folder}"
        with sf.SoundFile(f) as fh:
            frames = fh.frames
            data = fh.read(dtype="float32")
        assert len(data) == frames > 0, f"{f.name} is incomplete"
    return files


def check_manifest(project: Path) -> dict:
    """The manifest lists existing files at both rates, each traced to its source."""
    manifest = json.loads((project / "prepared" / "manifest.json").read_text("utf-8"))
    for sid, entry in manifest["sources"].items():
        assert Path(entry["path"]).is_file(), entry["path"]
        for s in entry["slices"]:
            assert (project / s["path"]).is_file(), s["path"]
            assert (project / s["path_16k"]).is_file(), s["path_16k"]
            assert s["name"].startswith(sid)
            assert 0 <= s["start"] < s["end"]
            assert s["duration"] > 0
    return manifest

