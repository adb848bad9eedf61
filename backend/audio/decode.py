"""Read audio files block by block with bounded memory.

soundfile (libsndfile) reads wav, flac, ogg and mp3 directly; anything else
(m4a, aac, video...) is decoded by ffmpeg through a pipe when ffmpeg exists.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf


class AudioReadError(Exception):
    """A file that cannot be read as audio; the message names the file."""


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int  # may be an estimate for ffmpeg-decoded files
    via_ffmpeg: bool

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def _ffmpeg() -> str | None:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception:
        return None


def _probe_ffmpeg(path: Path) -> AudioInfo:
    probe = shutil.which("ffprobe")
    if probe is None:
        raise AudioReadError(f"cannot read '{path}': not a format libsndfile knows and "
                             "ffprobe is not installed (install ffmpeg to open it)")
    cmd = [probe, "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels:format=duration", "-of", "json", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    try:
        info = json.loads(proc.stdout or "{}")
        stream = info["streams"][0]
        sr, ch = int(stream["sample_rate"]), int(stream["channels"])
        duration = float(info.get("format", {}).get("duration", 0.0))
    except (ValueError, KeyError, IndexError) as exc:
        detail = proc.stderr.strip().splitlines()[-1:] or ["no audio stream"]
        raise AudioReadError(f"cannot read '{path}' as audio: {detail[0]}. "
                             "Check that the file is a complete audio recording.") from exc
    return AudioInfo(sr, ch, int(round(duration * sr)), via_ffmpeg=True)


def probe(path: str | Path) -> AudioInfo:
    """Sample rate, channels and length of an audio file."""
    p = Path(path)
    if not p.is_file():
        raise AudioReadError(f"audio file not found: '{p}'")
    try:
        info = sf.info(str(p))
        return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames), False)
    except (sf.LibsndfileError, RuntimeError):
        pass
    if _ffmpeg() is None:
        raise AudioReadError(f"cannot read '{p}': not a wav/flac/ogg/mp3 file and ffmpeg "
                             "is not installed to decode it")
    return _probe_ffmpeg(p)


def _iter_soundfile(p: Path, start: float, end: float | None,
                    block: int) -> Iterator[np.ndarray]:
    with sf.SoundFile(str(p)) as f:
        sr = f.samplerate
        first = min(int(round(start * sr)), f.frames)
        last = f.frames if end is None else min(f.frames, int(round(end * sr)))
        f.seek(first)
        left = max(0, last - first)
        while left > 0:
            data = f.read(min(block, left), dtype="float32", always_2d=True)
            if len(data) == 0:
                break
            left -= len(data)
            yield data


def _iter_ffmpeg(p: Path, info: AudioInfo, start: float, end: float | None,
                 block: int) -> Iterator[np.ndarray]:
    exe = _ffmpeg()
    cmd = [str(exe), "-v", "error", "-nostdin", "-ss", f"{start:.6f}", "-i", str(p)]
    if end is not None:
        cmd += ["-t", f"{max(0.0, end - start):.6f}"]
    cmd += ["-vn", "-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(info.channels),
            "-ar", str(info.sample_rate), "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    frame_bytes = 4 * info.channels
    try:
        assert proc.stdout is not None
        while True:
            raw = proc.stdout.read(block * frame_bytes)
            if not raw:
                break
            usable = len(raw) - len(raw) % frame_bytes
            yield np.frombuffer(raw[:usable], dtype="<f4").reshape(-1, info.channels)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise AudioReadError(f"ffmpeg could not decode '{p}': {err.strip()[-300:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def iter_blocks(path: str | Path, start: float = 0.0, end: float | None = None,
                block: int = 65536, info: AudioInfo | None = None) -> Iterator[np.ndarray]:
    """Yield float32 arrays of shape (frames, channels) covering [start, end) seconds."""
    p = Path(path)
    info = info or probe(p)
    if info.via_ffmpeg:
        yield from _iter_ffmpeg(p, info, start, end, block)
        return
    try:
        yield from _iter_soundfile(p, start, end, block)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioReadError(f"cannot decode '{p}': {exc}") from exc


def read_range(path: str | Path, start: float = 0.0, end: float | None = None,
               info: AudioInfo | None = None) -> np.ndarray:
    """The whole [start, end) range as one (frames, channels) float32 array."""
    info = info or probe(path)
    blocks = list(iter_blocks(path, start, end, info=info))
    if not blocks:
        return np.zeros((0, info.channels), dtype=np.float32)
    return np.concatenate(blocks, axis=0)
