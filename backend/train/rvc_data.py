"""Training examples for the voice-conversion model, from a project's features.

One example per prepared clip: content features (50/s, repeated to 100/s),
coarse and fine pitch (100/s) and the clip's audio at the project rate. All
streams are cut to the same number of frames ``T`` (audio to ``T * hop``). The
whole set stays in memory when it fits in a quarter of the free RAM (content in
fp16); otherwise examples are read from disk per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from backend.features import store
from backend.train import clips as cl


class DatasetError(ValueError):
    pass


class ClipUnreadable(DatasetError):
    """One clip's files cannot be read: the clip is left out, the others train."""

    def __init__(self, message: str, *, prepared: bool):
        super().__init__(message)
        self.prepared = prepared  # the prepared wav (not a feature file) is unreadable


@dataclass
class Example:
    name: str
    content: np.ndarray  # [T, dim] float16
    pitch: np.ndarray  # [T] int64 coarse 1..255
    pitchf: np.ndarray  # [T] float32 Hz
    wav: np.ndarray  # [T * hop] float32

    @property
    def frames(self) -> int:
        return int(self.pitch.shape[0])


@dataclass
class Batch:
    phone: torch.Tensor  # [B, T, dim]
    phone_lengths: torch.Tensor  # [B]
    pitch: torch.Tensor  # [B, T]
    pitchf: torch.Tensor  # [B, T]
    wav: torch.Tensor  # [B, 1, T * hop]
    sid: torch.Tensor  # [B]

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in self.__dict__.values()))

    def split(self, parts: int) -> list[Batch]:
        n = self.phone.shape[0]
        bounds = np.linspace(0, n, parts + 1).astype(int)
        return [Batch(*(t[a:b] for t in self.__dict__.values()))
                for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _read(root: Path, path: Path, read: Any) -> Any:
    try:
        return read(path)
    except DatasetError:
        raise
    except store.FeatureFileError as exc:  # load_npy's check: names the file and the fix
        raise ClipUnreadable(exc.message, prepared=False) from exc
    except (OSError, ValueError, sf.SoundFileError) as exc:  # gone, truncated, not an array
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path
        raise ClipUnreadable(f"{rel} cannot be read ({exc})",
                             prepared=path.suffix == ".wav") from exc


def load_example(root: Path, stem: str, entry: dict[str, Any], sample_rate: int,
                 hop: int) -> Example:
    def npy(key: str) -> np.ndarray:
        return _read(root, Path(entry[key]), store.load_npy)

    content = np.repeat(npy("content").astype(np.float16), 2, axis=0)  # 50/s -> 100/s
    pitchf = npy("f0").astype(np.float32)
    pitch = npy("f0_coarse").astype(np.int64)
    wav, sr = _read(root, cl.wav_path(root, stem),
                    lambda p: sf.read(p, dtype="float32", always_2d=False))
    if sr != sample_rate:
        raise DatasetError(f"{stem}.wav is {sr} Hz but the project is {sample_rate} Hz: "
                           "run Prepare again")
    frames = min(content.shape[0], pitch.shape[0], wav.shape[0] // hop)
    if frames < 1:
        raise DatasetError(f"clip {stem} is too short to train on")
    return Example(stem, content[:frames], pitch[:frames], pitchf[:frames],
                   wav[:frames * hop])


def _fits_in_memory(entries: dict[str, dict], sample_rate: int) -> bool:
    import psutil

    frames = sum(int(e.get("frames", 0)) for e in entries.values())
    dim = 768
    need = frames * (dim * 2 + 8 + 4 + sample_rate // 100 * 4)
    return need < psutil.virtual_memory().available / 4


class RvcDataset:
    """Examples by index; ``lengths()`` feeds the bucket sampler."""

    def __init__(self, root: Path, version: str, sample_rate: int, hop: int):
        self.root, self.sample_rate, self.hop = root, sample_rate, hop
        self.clips = cl.clip_set(root, version)
        if not self.clips.total:
            raise DatasetError(f"no {version} features in {root}: run Extract first")
        self._check()
        self.in_memory = _fits_in_memory(self.clips.usable, sample_rate)
        self._cache: dict[str, Example] = {}
        if self.in_memory:
            for stem in sorted(self.clips.usable):
                try:
                    self._cache[stem] = load_example(root, stem, self.clips.usable[stem],
                                                     sample_rate, hop)
                except ClipUnreadable as exc:
                    self.clips.drop(stem, str(exc), prepare=exc.prepared)
            self._check()
        self.stems = sorted(self.clips.usable)
        self.entries = self.clips.usable

    def _check(self) -> None:
        problem = cl.problem(self.clips)
        if problem:
            raise DatasetError(problem)

    def __len__(self) -> int:
        return len(self.stems)

    def __getitem__(self, i: int) -> Example:
        stem = self.stems[i]
        if stem in self._cache:
            return self._cache[stem]
        try:  # read from disk per batch: a clip damaged since the start stops the run
            return load_example(self.root, stem, self.entries[stem], self.sample_rate,
                                self.hop)
        except ClipUnreadable as exc:
            fix = "run Prepare, then Extract again" if exc.prepared else "run Extract again"
            raise DatasetError(f"clip {stem}: {exc}; {fix}") from exc

    def lengths(self) -> list[int]:
        if self.in_memory:
            return [self._cache[s].frames for s in self.stems]
        return [int(self.entries[s].get("frames", 1)) for s in self.stems]

    def seconds(self) -> float:
        return sum(self.lengths()) / 100.0


def collate(examples: list[Example]) -> Batch:
    b = len(examples)
    t = max(e.frames for e in examples)
    dim = examples[0].content.shape[1]
    hop = examples[0].wav.shape[0] // examples[0].frames
    phone = torch.zeros(b, t, dim)
    pitch = torch.zeros(b, t, dtype=torch.long)
    pitchf = torch.zeros(b, t)
    wav = torch.zeros(b, 1, t * hop)
    lengths = torch.zeros(b, dtype=torch.long)
    for i, e in enumerate(examples):
        n = e.frames
        phone[i, :n] = torch.from_numpy(e.content.astype(np.float32))
        pitch[i, :n] = torch.from_numpy(e.pitch)
        pitchf[i, :n] = torch.from_numpy(e.pitchf)
        wav[i, 0, :n * hop] = torch.from_numpy(e.wav)
        lengths[i] = n
    return Batch(phone, lengths, pitch, pitchf, wav, torch.zeros(b, dtype=torch.long))
