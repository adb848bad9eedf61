"""Probe and stream-decode audio files with clear, actionable errors.

libsndfile (through soundfile) reads WAV, FLAC, OGG/Vorbis, MP3, AIFF and
friends directly. Containers it cannot read (m4a/aac/wma/opus/video files) go
through an ffmpeg subprocess that pipes raw float32 samples. Either way the
file is decoded block by block, so memory stays flat for any file length.

Non-finite samples (NaN/inf): ``iter_blocks`` raises ``AudioLoadError`` by
default; pass ``nonfinite="zero"`` to replace them with 0 and count them in a
``DecodeStats`` instead (the preparation pipeline does this and warns).
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import soundfile as sf
import soxr

from backend.dataset import _ffmpeg

FFMPEG_EXTENSIONS = frozenset({
    ".m4a", ".aac", ".wma", ".opus", ".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi",
    ".wmv", ".flv", ".3gp", ".ts", ".mka", ".ac3", ".amr", ".alac",
})


class AudioLoadError(Exception):
    """A file that cannot be used as audio; ``str()`` is a sentence for the user."""

    def __init__(self, path: str | os.PathLike[str], message: str):
        self.path = Path(path)
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


@dataclass
class AudioInfo:
    path: Path
    duration: float
    sample_rate: int
    channels: int
    frames: int
    format: str
    decoder: str = "soundfile"


@dataclass
class DecodeStats:
    """Counters filled in while decoding.

    ``nonfinite``: samples replaced by 0. ``clipped``: native-rate samples in
    runs of 3+ at full scale (any channel). If ``clip_bins`` is a dict it also
    receives clipped counts per ``BIN_SECONDS`` bin, relative to the start.
    """

    BIN_SECONDS: ClassVar[float] = 0.01
    nonfinite: int = 0
    clipped: int = 0
    clip_bins: dict[int, int] | None = None


def clipped_mask(block: np.ndarray, level: float = 0.999) -> np.ndarray:
    """Samples (any channel of ``(frames, ch)``) inside runs of 3+ at ``level`` or above."""
    with np.errstate(invalid="ignore"):
        hot = np.abs(block) >= level
    hot = hot.any(axis=1) if hot.ndim == 2 else hot
    mask = np.zeros_like(hot)
    if len(hot) >= 3:
        run = hot[:-2] & hot[1:-1] & hot[2:]
        mask[:-2] |= run
        mask[1:-1] |= run
        mask[2:] |= run
    return mask


def _count_clipping(stats: DecodeStats, block: np.ndarray, pos: int, sr: int,
                    level: float) -> None:
    where = np.flatnonzero(clipped_mask(block, level))
    if len(where) == 0:
        return
    stats.clipped += len(where)
    if stats.clip_bins is not None:
        bins, counts = np.unique(((pos + where) / sr / stats.BIN_SECONDS).astype(np.int64),
                                 return_counts=True)
        for b, c in zip(bins.tolist(), counts.tolist(), strict=True):
            stats.clip_bins[b] = stats.clip_bins.get(b, 0) + c


def _q(path: Path) -> str:
    return repr(path.name)


def _check_file(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioLoadError(path, f"{_q(path)} does not exist (looked in {path.parent}): "
                                   "check the path or re-import the file") from None
    except PermissionError:
        raise AudioLoadError(path, f"{_q(path)} cannot be accessed (permission denied): "
                                   "give your user read access to it and its folder") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioLoadError(path, f"{_q(path)} is a folder, not an audio file: "
                                   "pick the audio files inside it")
    if st.st_size == 0:
        raise AudioLoadError(path, f"{_q(path)} is empty (0 bytes): remove it or re-export it")
    if not os.access(path, os.R_OK):
        raise AudioLoadError(path, f"{_q(path)} cannot be read (permission denied): "
                                   "give your user read access to it (e.g. chmod u+r)")


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(512)
    if not head or b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _wav_data_chunk(path: Path) -> tuple[int, int, int] | None:
    """``(block_align, declared data bytes, bytes present)`` of a RIFF WAV, else None."""
    size = path.stat().st_size
    align = 0
    with path.open("rb") as fh:
        if fh.read(4) != b"RIFF":
            return None
        fh.seek(12)
        while True:
            head = fh.read(8)
            if len(head) < 8:
                return None
            cid, clen = head[:4], struct.unpack("<I", head[4:])[0]
            if cid == b"data":
                return align, clen, size - fh.tell()
            body = fh.read(min(clen, 64)) if cid == b"fmt " else b""
            if len(body) >= 14:
                align = struct.unpack("<H", body[12:14])[0]
            fh.seek(clen + (clen & 1) - len(body), os.SEEK_CUR)


def _check_wav_truncation(path: Path, info: sf._SoundFileInfo) -> None:
    """libsndfile silently reads a cut-off WAV; compare the header with the file size."""
    if info.format != "WAV":
        return
    found = _wav_data_chunk(path)
    if found is None:
        return
    align, declared, have = found
    if declared in (0, 0xFFFFFFFF) or have >= declared or align <= 0:
        return
    rate = info.samplerate
    raise AudioLoadError(path, f"{_q(path)} is truncated: its header promises "
                               f"{declared / align / rate:.2f} s of audio but the file holds "
                               f"only {have / align / rate:.2f} s (the copy or export was cut "
                               "short). Copy or export it again")


def _soundfile_error(path: Path, exc: Exception) -> AudioLoadError:
    detail = str(exc).split(":", 1)[-1].strip() or type(exc).__name__
    if _looks_like_text(path):
        return AudioLoadError(path, f"{_q(path)} is not audio (it contains text): "
                                    "remove it from the dataset or replace it with the "
                                    "real recording")
    return AudioLoadError(path, f"{_q(path)} is not a readable audio file ({detail}); it may "
                                "be corrupt, truncated or in a format that needs ffmpeg: "
                                "re-export it as WAV or FLAC")


def _probe_ffmpeg(path: Path, fallback_error: AudioLoadError | None = None) -> AudioInfo:
    exe = _ffmpeg.find_ffmpeg()
    if exe is None:
        if fallback_error is not None:
            raise fallback_error
        raise AudioLoadError(path, f"{_q(path)} is a {path.suffix or 'container'} file, which "
                                   f"needs ffmpeg to decode: {_ffmpeg.FFMPEG_HINT}; or "
                                   "convert it to WAV or FLAC first")
    try:
        p = _ffmpeg.probe(exe, path)
    except _ffmpeg.FfmpegError as exc:
        if fallback_error is not None:
            raise fallback_error from None
        raise AudioLoadError(path, f"{_q(path)} has no audio ffmpeg can decode ({exc.detail}): "
                                   "check that it plays in a media player, or re-export "
                                   "it as WAV or FLAC") from None
    frames = int(round(p.duration * p.sample_rate))
    return AudioInfo(path, p.duration, p.sample_rate, p.channels, frames, p.codec, "ffmpeg")


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Describe an audio file, raising ``AudioLoadError`` for anything unusable."""
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() in FFMPEG_EXTENSIONS:
        return _probe_ffmpeg(path)
    try:
        info = sf.info(str(path))
    except PermissionError:
        raise AudioLoadError(path, f"{_q(path)} cannot be read (permission denied): "
                                   "give your user read access to it") from None
    except (sf.LibsndfileError, RuntimeError) as exc:
        error = _soundfile_error(path, exc)
        if _looks_like_text(path):
            raise error from None
        return _probe_ffmpeg(path, fallback_error=error)
    _check_wav_truncation(path, info)
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioLoadError(path, f"{_q(path)} contains no audio samples (0 s long): "
                                   "remove it or re-export it")
    return AudioInfo(path, info.frames / info.samplerate, info.samplerate, info.channels,
                     info.frames, info.format)


def _raw_blocks(info: AudioInfo, block_frames: int, start: float, stop: float | None,
                channels: int | None) -> Iterator[np.ndarray]:
    """``(frames, ch)`` float32 blocks at the native rate between ``start`` and ``stop``."""
    path = info.path
    if info.decoder == "ffmpeg":
        exe = _ffmpeg.find_ffmpeg()
        if exe is None:  # pragma: no cover - probe already checked
            raise AudioLoadError(path, f"{_q(path)} needs ffmpeg: {_ffmpeg.FFMPEG_HINT}")
        dur = None if stop is None else max(stop - start, 0.0)
        try:
            yield from _ffmpeg.stream(exe, path, sample_rate=info.sample_rate,
                                      channels=channels or info.channels,
                                      block_frames=block_frames, start=start, duration=dur)
        except _ffmpeg.FfmpegError as exc:
            raise AudioLoadError(path, f"{_q(path)} failed to decode ({exc.detail}): it may be "
                                       "corrupt or truncated; re-export it") from None
        return
    first = int(round(start * info.sample_rate))
    last = info.frames if stop is None else min(info.frames, int(round(stop * info.sample_rate)))
    try:
        with sf.SoundFile(str(path)) as fh:
            if first:
                fh.seek(first)
            left = last - first
            while left > 0:
                block = fh.read(min(block_frames, left), dtype="float32", always_2d=True)
                if len(block) == 0:
                    break
                left -= len(block)
                yield block
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioLoadError(path, f"{_q(path)} failed to decode part way ({exc}): it is "
                                   "probably corrupt or truncated; re-export it") from None


def _fix_nonfinite(path: Path, mono: np.ndarray, nonfinite: str, stats: DecodeStats | None,
                   pos: int, sr: int) -> np.ndarray:
    bad = ~np.isfinite(mono)
    count = int(bad.sum())
    if nonfinite == "error":
        at = (pos + int(np.flatnonzero(bad)[0])) / sr
        raise AudioLoadError(path, f"{_q(path)} contains invalid samples (NaN or infinity, "
                                   f"first at {at:.2f} s): re-export it from your editor")
    mono = np.where(bad, np.float32(0.0), mono)
    if stats is not None:
        stats.nonfinite += count
    return mono


def iter_blocks(path: str | os.PathLike[str], block_frames: int, *, sr: int | None = None,
                start: float = 0.0, stop: float | None = None, nonfinite: str = "error",
                stats: DecodeStats | None = None, info: AudioInfo | None = None,
                clip_level: float = 0.999) -> Iterator[np.ndarray]:
    """Yield float32 mono blocks of about ``block_frames`` samples.

    Blocks are at the file's native rate unless ``sr`` is given, in which case
    they are resampled on the fly (soxr, streaming). ``start``/``stop`` limit
    decoding to a region in seconds. Multichannel audio is averaged to mono.
    ``stats`` (optional) collects non-finite and clipping counts, see ``DecodeStats``.
    """
    if nonfinite not in ("error", "zero"):
        raise ValueError("nonfinite must be 'error' or 'zero'")
    info = info or probe(path)
    channels = 1 if info.decoder == "ffmpeg" else None
    resampler = None
    if sr is not None and sr != info.sample_rate:
        resampler = soxr.ResampleStream(info.sample_rate, sr, 1, dtype="float32", quality="HQ")
    pos = 0
    for block in _raw_blocks(info, block_frames, start, stop, channels):
        if stats is not None:
            _count_clipping(stats, block, pos, info.sample_rate, clip_level)
        mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        if not np.isfinite(mono).all():
            mono = _fix_nonfinite(info.path, mono, nonfinite, stats, pos, info.sample_rate)
        pos += len(mono)
        if resampler is not None:
            mono = resampler.resample_chunk(mono, last=False)
            if len(mono) == 0:
                continue
        yield mono
    if resampler is not None:
        tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
        if len(tail):
            yield tail


def load(path: str | os.PathLike[str], *, mono: bool = True, sr: int | None = None,
         nonfinite: str = "error") -> tuple[np.ndarray, int]:
    """Read a whole (short) file: ``(samples, rate)``; 2-D ``(frames, ch)`` if not mono."""
    info = probe(path)
    rate = sr or info.sample_rate
    block = 1 << 18
    if mono:
        parts = list(iter_blocks(path, block, sr=sr, nonfinite=nonfinite, info=info))
        data = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return data.astype(np.float32, copy=False), rate
    chans = list(_raw_blocks(info, block, 0.0, None, None))
    data = np.concatenate(chans) if chans else np.zeros((0, info.channels), np.float32)
    if not np.isfinite(data).all():
        if nonfinite == "error":
            raise AudioLoadError(info.path, f"{_q(info.path)} contains invalid samples (NaN or "
                                            "infinity): re-export it from your editor")
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    if sr is not None and sr != info.sample_rate:
        data = soxr.resample(data, info.sample_rate, sr, quality="HQ")
    return np.ascontiguousarray(data, dtype=np.float32), rate
