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


class DatasetError(ValueError):
    pass


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


def _wav_path(root: Path, stem: str) -> Path:
    return root / "prepared" / "0_gt_wavs" / f"{stem}.wav"


def load_example(root: Path, stem: str, entry: dict[str, Any], sample_rate: int,
                 hop: int) -> Example:
    content = store.load_npy(Path(entry["content"])).astype(np.float16)
    content = np.repeat(content, 2, axis=0)  # 50/s -> 100/s
    pitchf = store.load_npy(Path(entry["f0"])).astype(np.float32)
    pitch = store.load_npy(Path(entry["f0_coarse"])).astype(np.int64)
    wav, sr = sf.read(_wav_path(root, stem), dtype="float32", always_2d=False)
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
        entries = store.ready_slices(root, version)
        if not entries:
            raise DatasetError(f"no {version} features in {root}: run Extract first")
        missing = [s for s in entries if not _wav_path(root, s).exists()]
        for stem in missing:
            entries.pop(stem)
        if not entries:
            raise DatasetError("the prepared clips of the extracted features are gone: "
                               "run Prepare and Extract again")
        self.stems = sorted(entries)
        self.entries = entries
        self.in_memory = _fits_in_memory(entries, sample_rate)
        self._cache: dict[int, Example] = {}
        if self.in_memory:
            for i in range(len(self.stems)):
                self._cache[i] = self._load(i)

    def _load(self, i: int) -> Example:
        stem = self.stems[i]
        return load_example(self.root, stem, self.entries[stem], self.sample_rate, self.hop)

    def __len__(self) -> int:
        return len(self.stems)

    def __getitem__(self, i: int) -> Example:
        return self._cache[i] if i in self._cache else self._load(i)

    def lengths(self) -> list[int]:
        if self.in_memory:
            return [self._cache[i].frames for i in range(len(self))]
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
