"""Turn one source recording into training clips (RVC layout), streaming.

decode -> mono -> resample to the target rate -> high-pass -> silence slicing
-> per-slice loudness normalisation -> fixed-length chunks -> write
``<stem>_<index:04d>.wav`` at the target rate (``out_gt``) and at 16 kHz
(``out_16k``). Only the open slice is held in memory, so memory does not grow
with the file's length. See docs/preparation.md for the exact semantics.

Exact-span mode (``clips=[[start, end], ...]``, the spans of a recording the Labels table
cuts): one clip per span, exactly there; no silence slicing and no chunking, high-pass and
normalisation as set.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from backend.dataset import dsp
from backend.dataset.audio_io import AudioInfo, DecodeStats, iter_blocks, probe
from backend.dataset.exact import clip_warnings, exact_spans, process_clips
from backend.dataset.health import analyze_clip
from backend.dataset.slicer import SilenceSlicer

SR_16K = 16000
NORMALIZE_MODES = ("peak", "lufs", "none")
OUTPUT_SUBTYPES = ("FLOAT", "PCM_16")


@dataclass(frozen=True)
class PrepareSettings:
    highpass_hz: float = 48.0
    normalize: str = "peak"
    peak_target: float = 0.9
    peak_alpha: float = 0.75
    lufs_target: float = -23.0
    threshold_db: float = -42.0
    min_length_ms: int = 1500
    min_interval_ms: int = 300
    hop_ms: int = 10
    max_silence_kept_ms: int = 500
    chunk_seconds: float = 3.7
    overlap_seconds: float = 0.3
    min_chunk_seconds: float = 1.0
    max_slice_seconds: float = 30.0
    output_subtype: str = "FLOAT"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PrepareSettings:
        known = {f.name for f in fields(cls)}
        for key in d:
            if key not in known:
                raise ValueError(f"unknown preparation setting {key!r}; known settings: "
                                 f"{', '.join(sorted(known))}")
        return cls(**d)

    def validate(self) -> list[str]:
        """Human-readable problems, each naming the field; empty when valid."""
        errs: list[str] = []
        nums = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("normalize", "output_subtype")}
        for name, value in nums.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                errs.append(f"{name} must be a number (got {value!r})")
        if errs:
            return errs
        if self.normalize not in NORMALIZE_MODES:
            errs.append(f"normalize must be one of {', '.join(NORMALIZE_MODES)} "
                        f"(got {self.normalize!r})")
        if self.output_subtype not in OUTPUT_SUBTYPES:
            errs.append(f"output_subtype must be one of {', '.join(OUTPUT_SUBTYPES)}")
        checks = [
            (0 <= self.highpass_hz <= 500, "highpass_hz must be between 0 (off) and 500 Hz"),
            (0 < self.peak_target <= 1, "peak_target must be above 0 and at most 1.0"),
            (0 <= self.peak_alpha <= 1, "peak_alpha must be between 0 and 1"),
            (-70 <= self.lufs_target <= -5, "lufs_target must be between -70 and -5 LUFS"),
            (-90 <= self.threshold_db < 0, "threshold_db must be between -90 and 0 dB"),
            (1 <= self.hop_ms <= 100, "hop_ms must be between 1 and 100 ms"),
            (self.min_interval_ms >= self.hop_ms, "min_interval_ms must be at least hop_ms"),
            (self.min_length_ms >= self.min_interval_ms,
             "min_length_ms must be at least min_interval_ms"),
            (self.max_silence_kept_ms >= self.hop_ms,
             "max_silence_kept_ms must be at least hop_ms"),
            (self.chunk_seconds == 0 or self.chunk_seconds >= 0.5,
             "chunk_seconds must be 0 (no chunking) or at least 0.5 s"),
            (0 <= self.overlap_seconds < max(self.chunk_seconds, 1e-9) / 2 or
             (self.chunk_seconds == 0 and self.overlap_seconds == 0),
             "overlap_seconds must be at least 0 and less than half of chunk_seconds"),
            (self.min_chunk_seconds >= 0, "min_chunk_seconds must be at least 0"),
            (self.max_slice_seconds >= max(self.chunk_seconds, 5.0),
             "max_slice_seconds must be at least 5 s and at least chunk_seconds"),
        ]
        errs += [msg for ok, msg in checks if not ok]
        return errs


@dataclass
class SliceOut:
    index: int
    start: float  # seconds in the original source
    end: float
    duration: float
    path_gt: Path
    path_16k: Path
    peak: float  # of the written (normalised) clip
    rms_db: float
    problems: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path_gt"], d["path_16k"] = str(self.path_gt), str(self.path_16k)
        return d


@dataclass
class SourceResult:
    info: AudioInfo
    slices: list[SliceOut]
    warnings: list[str]
    dropped_seconds: float = 0.0


def write_wav_atomic(path: Path, audio: np.ndarray, sr: int, subtype: str = "FLOAT") -> None:
    """Write a wav to a temporary name in the same folder, then rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        sf.write(str(tmp), audio, sr, subtype=subtype, format="WAV")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def normalise_segments(segments: list[tuple[float, float]] | None, duration: float,
                       warnings: list[str]) -> list[tuple[float, float]]:
    """Validate, clamp to the file, sort and merge overlapping regions."""
    if segments is None:
        return [(0.0, duration)]
    spans = []
    for n, seg in enumerate(segments):
        a, b = (float(v) for v in seg)
        if not (math.isfinite(a) and math.isfinite(b)) or a < 0 or b <= a:
            raise ValueError(f"segment {n + 1} ({a:g}-{b:g} s) is invalid: it must start at "
                             "0 s or later and end after it starts")
        if a >= duration:
            warnings.append(f"segment {n + 1} starts at {a:.2f} s, after the end of the "
                            f"recording ({duration:.2f} s); skipped")
            continue
        spans.append((a, min(b, duration)))
    spans.sort()
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            warnings.append("overlapping segments were merged")
        else:
            merged.append((a, b))
    return merged


class _Buffer:
    """Audio blocks addressed by absolute sample index; old blocks can be freed."""

    def __init__(self) -> None:
        self.blocks: deque[np.ndarray] = deque()
        self.start = 0
        self.end = 0

    def append(self, block: np.ndarray) -> None:
        self.blocks.append(block)
        self.end += len(block)

    def take(self, a: int, b: int) -> np.ndarray:
        parts, pos = [], self.start
        for blk in self.blocks:
            lo, hi = max(a, pos), min(b, pos + len(blk))
            if lo < hi:
                parts.append(blk[lo - pos:hi - pos])
            pos += len(blk)
            if pos >= b:
                break
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def drop_before(self, x: int) -> None:
        while self.blocks and self.start + len(self.blocks[0]) <= x:
            self.start += len(self.blocks.popleft())


class _ClipWriter:
    """Normalises a slice, splits it into chunks and writes both wav versions."""

    def __init__(self, settings: PrepareSettings, sr: int, out_gt: Path, out_16k: Path,
                 stem: str, info: AudioInfo):
        self.s, self.sr, self.info, self.stem = settings, sr, info, stem
        self.out_gt, self.out_16k = out_gt, out_16k
        self.slices: list[SliceOut] = []
        self.dropped = 0.0
        self.clip_bins: dict[int, int] = {}

    def _normalise(self, audio: np.ndarray) -> np.ndarray:
        if self.s.normalize == "peak":
            return dsp.normalize_peak(audio, self.s.peak_target, self.s.peak_alpha)
        if self.s.normalize == "lufs":
            return dsp.normalize_lufs(audio, self.sr, self.s.lufs_target, self.s.peak_target)[0]
        return audio

    def _clipped(self, t0: float, t1: float) -> int:
        b0, b1 = int(t0 / DecodeStats.BIN_SECONDS), int(math.ceil(t1 / DecodeStats.BIN_SECONDS))
        return sum(self.clip_bins.get(b, 0) for b in range(b0, b1))

    def slice(self, audio: np.ndarray, seg_start: float, first: int) -> None:
        """``audio`` is one slice starting at sample ``first`` of the segment."""
        s, sr = self.s, self.sr
        norm = self._normalise(audio)
        spans = dsp.chunk_spans(len(audio), sr, s.chunk_seconds, s.overlap_seconds,
                                s.min_chunk_seconds)
        covered = max((b for _, b in spans), default=0) - min((a for a, _ in spans), default=0)
        self.dropped += (len(audio) - covered) / sr
        for a, b in spans:
            t0, t1 = (first + a) / sr, (first + b) / sr
            problems = analyze_clip(audio[a:b], sr, original_sr=self.info.sample_rate,
                                    clipped_samples=self._clipped(t0, t1))
            self._write(norm[a:b], seg_start + t0, seg_start + t1, problems)

    def whole(self, audio: np.ndarray, start: float, end: float, offset: float) -> None:
        """One clip exactly: ``audio`` is the recording from ``start`` to ``end`` s, which
        is ``offset`` s into the region decoded (the times of ``clip_bins``)."""
        problems = analyze_clip(audio, self.sr, original_sr=self.info.sample_rate,
                                clipped_samples=self._clipped(offset, offset + end - start))
        self._write(self._normalise(audio), start, end, problems)

    def _write(self, out: np.ndarray, start: float, end: float, problems: list[dict]) -> None:
        index = len(self.slices)
        name = f"{self.stem}_{index:04d}.wav"
        gt, p16 = self.out_gt / name, self.out_16k / name
        write_wav_atomic(gt, out, self.sr, self.s.output_subtype)
        low = out if self.sr == SR_16K else soxr.resample(out, self.sr, SR_16K, quality="HQ")
        write_wav_atomic(p16, low.astype(np.float32, copy=False), SR_16K, self.s.output_subtype)
        peak = float(np.max(np.abs(out))) if len(out) else 0.0
        rms = float(np.sqrt(np.mean(np.square(out, dtype=np.float64)))) if len(out) else 0.0
        rms_db = 20 * math.log10(rms) if rms > 1e-10 else -200.0
        self.slices.append(SliceOut(index, round(start, 6), round(end, 6),
                                    round(end - start, 6), gt, p16, peak, round(rms_db, 2),
                                    problems))


def _make_slicer(s: PrepareSettings, sr: int) -> tuple[SilenceSlicer, dsp.RmsFramer]:
    hop = max(1, round(sr * s.hop_ms / 1000))
    min_interval = round(sr * s.min_interval_ms / 1000)
    win = max(hop, min(min_interval, 4 * hop))
    slicer = SilenceSlicer(threshold=10 ** (s.threshold_db / 20), hop=hop, win=win,
                           min_length=round(sr * s.min_length_ms / 1000),
                           min_interval=min_interval,
                           max_kept=round(sr * s.max_silence_kept_ms / 1000),
                           max_clip=round(sr * s.max_slice_seconds))
    return slicer, dsp.RmsFramer(hop, win)


def _process_segment(info: AudioInfo, seg: tuple[float, float], writer: _ClipWriter,
                     check: Callable[[], None], tick: Callable[[float], None]) -> DecodeStats:
    """Stream one region of the source through filter, slicer and writer."""
    sr = writer.sr
    stats = DecodeStats(clip_bins={})
    writer.clip_bins = stats.clip_bins
    hp = dsp.Highpass(sr, writer.s.highpass_hz)
    slicer, framer = _make_slicer(writer.s, sr)
    buf = _Buffer()
    stop = None if seg[1] >= info.duration else seg[1]
    block = min(max(info.sample_rate // 2, 4096), 1 << 17)

    def emit(clips: list[tuple[int, int]]) -> None:
        for a, b in clips:
            check()
            writer.slice(buf.take(a, b), seg[0], a)

    for chunk in iter_blocks(info.path, block, sr=sr, start=seg[0], stop=stop,
                             nonfinite="zero", stats=stats, info=info):
        check()
        chunk = hp.process(chunk)
        buf.append(chunk)
        emit(slicer.feed(framer.feed(chunk)))
        buf.drop_before(slicer.keep_from)
        _drop_bins(stats.clip_bins, buf.start / sr)
        tick(buf.end / sr)
    emit(slicer.feed(framer.finish()))
    emit(slicer.finish(framer.samples))
    return stats


def _drop_bins(bins: dict[int, int], before_s: float) -> None:
    if bins:
        cut = int(before_s / DecodeStats.BIN_SECONDS) - 1
        for b in [b for b in bins if b < cut]:
            del bins[b]


def process_source(src: Path, settings: PrepareSettings, target_sr: int, out_gt: Path,
                   out_16k: Path, stem: str, *,
                   segments: list[tuple[float, float]] | None = None,
                   clips: list[tuple[float, float]] | None = None,
                   check: Callable[[], None] = lambda: None,
                   progress: Callable[[float], None] | None = None) -> SourceResult:
    """Slice, normalise, chunk and write one source; see the module docstring. With
    ``clips`` (exact-span mode) ``segments`` are not used.

    Raises ``AudioLoadError`` for unusable files and ``ValueError`` for bad
    settings or segments. NaN/inf samples are replaced by silence with a warning.
    """
    problems = settings.validate()
    if problems:
        raise ValueError("invalid preparation settings: " + "; ".join(problems))
    if target_sr < 8000:
        raise ValueError(f"target_sr must be at least 8000 Hz (got {target_sr})")
    src = Path(src)
    info = probe(src)
    warnings: list[str] = []
    spans = normalise_segments(segments, info.duration, warnings) if clips is None \
        else exact_spans(clips, info.duration, warnings)
    total = sum(b - a for a, b in spans) or 1.0
    out_gt.mkdir(parents=True, exist_ok=True)
    out_16k.mkdir(parents=True, exist_ok=True)
    writer = _ClipWriter(settings, target_sr, Path(out_gt), Path(out_16k), stem, info)
    done = 0.0
    nonfinite = 0
    if clips is not None:
        nonfinite = process_clips(info, spans, writer, check,
                                   lambda pos: progress(min(1.0, pos / total)) if progress
                                   else None)
        if progress is not None:
            progress(1.0)
        return SourceResult(info, writer.slices,
                            warnings + clip_warnings(info, nonfinite, spans))
    for seg in spans:
        def tick(pos: float, base: float = done, seg_len: float = seg[1] - seg[0]) -> None:
            if progress is not None:
                progress(min(1.0, (base + min(pos, seg_len)) / total))

        stats = _process_segment(info, seg, writer, check, tick)
        nonfinite += stats.nonfinite
        done += seg[1] - seg[0]
    warnings += _summary_warnings(info, writer, nonfinite, settings,
                                  sum(b - a for a, b in spans))
    if progress is not None:
        progress(1.0)
    return SourceResult(info, writer.slices, warnings, round(writer.dropped, 3))


def _summary_warnings(info: AudioInfo, writer: _ClipWriter, nonfinite: int,
                      s: PrepareSettings, seconds: float) -> list[str]:
    """What to tell about a processed source; ``seconds``: the length of its kept regions."""
    name = repr(info.path.name)
    out = []
    if nonfinite:
        out.append(f"{name} contained {nonfinite} invalid samples (NaN or infinity); they "
                   "were replaced with silence. Re-export the file to be safe")
    if not writer.slices:
        out.append(_no_clips(name, writer, s, seconds))
    elif writer.dropped >= 0.05:
        out.append(f"{name}: {writer.dropped:.1f} s of sliced audio was left out because the "
                   f"pieces were shorter than min_chunk_seconds ({s.min_chunk_seconds:g} s)")
    return out


def _no_clips(name: str, writer: _ClipWriter, s: PrepareSettings, seconds: float) -> str:
    """Why a source gave no clip: too short, sound only in short pieces, or too quiet."""
    shortest = s.min_chunk_seconds
    if seconds < shortest:
        return (f"{name} produced no clips: it is only {seconds:.2f} s long, shorter than "
                f"min_chunk_seconds ({shortest:g} s). Use a longer recording (clips of 1-4 s "
                "train best) or lower min_chunk_seconds")
    if writer.dropped > 0:
        return (f"{name} produced no clips: its sound ({writer.dropped:.2f} s in all) came in "
                f"pieces shorter than min_chunk_seconds ({shortest:g} s). Lower "
                "min_chunk_seconds, or threshold_db if quiet passages split the phrases")
    return (f"{name} produced no clips: nothing was louder than threshold_db "
            f"({s.threshold_db:g} dB) for long enough. Lower the threshold or check "
            "the recording")
