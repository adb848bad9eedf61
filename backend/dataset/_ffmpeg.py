"""ffmpeg helpers: locate the executable, probe a file, stream raw float32 samples.

Only ffmpeg itself is required (imageio-ffmpeg ships it without ffprobe), so
probing parses the stream description ffmpeg prints for ``ffmpeg -i FILE``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FFMPEG_HINT = ("install ffmpeg (e.g. 'apt install ffmpeg', 'brew install ffmpeg' or "
               "'winget install ffmpeg') or the Python package 'imageio-ffmpeg'")

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: ([^,\s]+)[^,]*, (\d+) Hz, ([^,]+)")
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "4.1": 5,
            "5.0": 5, "5.0(side)": 5, "5.1": 6, "5.1(side)": 6, "6.0": 6, "6.1": 7,
            "7.0": 7, "7.1": 8, "7.1(wide)": 8, "octagonal": 8, "hexadecagonal": 16}


def find_ffmpeg() -> str | None:
    """ffmpeg from PATH, else the binary bundled with imageio-ffmpeg, else None."""
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return None
    return exe if exe and Path(exe).exists() else None


@dataclass
class FfmpegProbe:
    duration: float
    sample_rate: int
    channels: int
    codec: str


class FfmpegError(Exception):
    """ffmpeg could not read the file; ``detail`` holds its last error lines."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _channels(layout: str) -> int:
    layout = layout.strip()
    if layout in _LAYOUTS:
        return _LAYOUTS[layout]
    m = re.match(r"(\d+) channels", layout)
    return int(m.group(1)) if m else 2


def probe(exe: str, path: Path) -> FfmpegProbe:
    proc = subprocess.run([exe, "-hide_banner", "-nostdin", "-i", str(path)],
                          capture_output=True, check=False)
    text = proc.stderr.decode("utf-8", "replace")
    audio = _AUDIO.search(text)
    if audio is None:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        raise FfmpegError(lines[-1] if lines else "no output from ffmpeg")
    dur = _DURATION.search(text)
    duration = 0.0
    if dur is not None:
        h, m, s = dur.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    return FfmpegProbe(duration, int(audio.group(2)), _channels(audio.group(3)),
                       audio.group(1))


def stream(exe: str, path: Path, *, sample_rate: int, channels: int, block_frames: int,
           start: float = 0.0, duration: float | None = None) -> Iterator[np.ndarray]:
    """Yield ``(frames, channels)`` float32 blocks decoded by an ffmpeg subprocess."""
    cmd = [exe, "-hide_banner", "-nostdin", "-v", "error"]
    if start > 0:
        cmd += ["-ss", f"{start:.6f}"]
    cmd += ["-i", str(path)]
    if duration is not None:
        cmd += ["-t", f"{duration:.6f}"]
    cmd += ["-vn", "-sn", "-dn", "-map", "0:a:0", "-ac", str(channels),
            "-ar", str(sample_rate), "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stderr is not None
    frame_bytes = 4 * channels
    want = block_frames * frame_bytes
    pending = b""
    try:
        while True:
            data = proc.stdout.read(want - len(pending))
            if not data:
                break
            pending += data
            if len(pending) >= want:
                yield np.frombuffer(pending, np.float32).reshape(-1, channels)
                pending = b""
        usable = len(pending) - len(pending) % frame_bytes
        if usable:
            yield np.frombuffer(pending[:usable], np.float32).reshape(-1, channels)
        err = proc.stderr.read().decode("utf-8", "replace")
        if proc.wait() != 0:
            lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
            raise FfmpegError(lines[-1] if lines else f"ffmpeg exited with {proc.returncode}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
