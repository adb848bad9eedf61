"""The steps of RVC voice conversion, shared by offline (``pipeline``) and real-time conversion.

Each step follows RVC's inference pipeline (facts, not code, carried over):

* input at 16 kHz, mono, through a 5th-order Butterworth high-pass at 48 Hz run forwards and
  backwards (zero phase);
* content features from HuBERT at 50 frames/s (v1: layer 9 through ``final_proj``, 256 dims;
  v2: layer 12, 768 dims), optionally blended with their 8 nearest neighbours in the
  model's faiss index (weights ``1 / score**2`` normalised, ``index_rate`` of the retrieved
  features), then repeated x2 to the synthesizer's 100 frames/s;
* consonant protection: where the pitch is unvoiced, ``protect`` of the retrieved features
  and the rest of the features before retrieval; off at ``protect >= 0.5``;
* key shift ``f0 * 2**(key/12)``; the coarse pitch (1..255) is quantised from the shifted f0;
* synthesis with noise scale 0.66666 and random ``z`` (seeded per call: same input, same
  output);
* the loudness-envelope mix: ``out *= (rms_in / rms_out) ** (1 - rate)`` with RMS envelopes
  (librosa-style centred frames, by default RVC's offline frames of 1 s every 0.5 s)
  interpolated linearly to the output length and ``rms_out`` floored at 1e-6.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import soxr
import torch

from backend.kernel import BadArgs

if TYPE_CHECKING:
    from backend.convert.settings import ConvertSettings
    from backend.convert.voice_model import VoiceModel

SR16K = 16000
HOP16K = 160  # samples of 16 kHz audio per synthesizer frame (100 frames/s)
NOISE_SCALE = 0.66666
HIGH_PASS_HZ = 48.0
K_NEIGHBOURS = 8


def to_16k(audio: np.ndarray, sr: int) -> np.ndarray:
    """Mono float32 audio at 16 kHz (channels averaged; soxr HQ resampling)."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 2:  # [frames, channels] (soundfile's layout) or [channels, frames]
        x = x.mean(axis=1 if x.shape[0] > x.shape[1] else 0)
    if x.ndim != 1:
        raise ValueError(f"expected mono or [frames, channels] audio, got shape {x.shape}")
    if sr != SR16K and x.size:
        x = soxr.resample(x, sr, SR16K, quality="HQ")
    return np.ascontiguousarray(x, dtype=np.float32)


@lru_cache(maxsize=1)
def _high_pass_coefficients() -> tuple[np.ndarray, np.ndarray]:
    from scipy.signal import butter

    b, a = butter(N=5, Wn=HIGH_PASS_HZ, btype="high", fs=SR16K)
    return b, a


def high_pass_16k(wav16k: np.ndarray) -> np.ndarray:
    """RVC's input filter: 5th-order Butterworth high-pass at 48 Hz, zero phase (filtfilt)."""
    from scipy.signal import filtfilt

    x = np.asarray(wav16k, dtype=np.float64)
    b, a = _high_pass_coefficients()
    pad = 3 * max(len(a), len(b))
    if x.shape[0] <= 1:
        return x.astype(np.float32)
    y = filtfilt(b, a, x, padlen=min(pad, x.shape[0] - 1))
    return y.astype(np.float32)


def content_features(encoder: Any, wav16k: np.ndarray, version: str) -> np.ndarray:
    """HuBERT content features ``[T50, D]`` float32 at 50 frames/s (``ContentEncoder``)."""
    feats = encoder.encode(np.asarray(wav16k, dtype=np.float32), version)
    return feats.detach().float().cpu().numpy()


class Retrieval:
    """A faiss index of training features and the vectors it holds (RVC's ``big_npy``)."""

    def __init__(self, index: Any, vectors: np.ndarray, path: Path | None = None) -> None:
        self.index = index
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.path = path

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @classmethod
    def open(cls, index_path: Path | str, *, dim: int | None = None,
             version: str | None = None) -> Retrieval:
        """Read an index file (ours or another RVC tool's). ``dim`` (the model's content
        dimension) is checked when given; BadArgs names the file and what to do."""
        from backend.train.index import load_index

        path = Path(index_path)
        if not path.is_file():
            raise BadArgs(f"index file {path} does not exist")
        try:
            index = load_index(path)
            vectors = index.reconstruct_n(0, index.ntotal)
        except Exception as exc:  # faiss raises RuntimeError with C++ text
            raise BadArgs(f"{path} is not a faiss index that can be read ({_first_line(exc)}); "
                          "choose the model's added_IVF…_Flat_…index file") from exc
        out = cls(index, vectors, path)
        if dim is not None:
            out.check_dim(dim, version)
        return out

    def check_dim(self, dim: int, version: str | None = None) -> None:
        if self.dim == dim:
            return
        model = f"a {version} model ({dim} dims)" if version else f"{dim}-dim features"
        other = {256: "v1", 768: "v2"}.get(self.dim)
        made = f"; it was made for {other} models" if other else ""
        raise BadArgs(f"index {self.path or '(in memory)'} holds {self.dim}-dim features but "
                      f"the model is {model}{made}: choose the index trained with this model, "
                      "or convert without an index")

    def blend(self, feats: np.ndarray, index_rate: float, k: int = K_NEIGHBOURS) -> np.ndarray:
        """``index_rate * retrieved + (1 - index_rate) * feats``; retrieved = the ``k``
        nearest training vectors weighted by ``1 / score**2`` (faiss score), normalised."""
        feats = np.ascontiguousarray(feats, dtype=np.float32)
        if index_rate <= 0 or feats.shape[0] == 0 or self.vectors.shape[0] == 0:
            return feats
        if feats.shape[1] != self.dim:
            self.check_dim(feats.shape[1])
        k = max(1, min(k, self.vectors.shape[0]))
        score, ix = self.index.search(feats, k)
        valid = ix >= 0  # IVF can return fewer than k hits
        weight = np.where(valid, 1.0 / np.square(np.maximum(score, 1e-12)), 0.0)
        total = weight.sum(axis=1, keepdims=True)
        found = total[:, 0] > 0
        weight = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
        retrieved = np.einsum("tk,tkd->td", weight.astype(np.float32),
                              self.vectors[np.where(valid, ix, 0)])
        retrieved[~found] = feats[~found]
        return (index_rate * retrieved + (1.0 - index_rate) * feats).astype(np.float32)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def upsample2(feats: np.ndarray) -> np.ndarray:
    """50 -> 100 frames/s: each frame repeated twice (nearest-neighbour x2)."""
    return np.repeat(np.asarray(feats, dtype=np.float32), 2, axis=0)


def protect(feats100: np.ndarray, original100: np.ndarray, f0: np.ndarray,
            protect: float) -> np.ndarray:
    """Consonant protection: voiced frames (f0 >= 1 Hz) keep ``feats100``; unvoiced ones
    take ``protect * feats100 + (1 - protect) * original100``. Off at ``protect >= 0.5``.
    All three are cut to the shortest length."""
    if protect >= 0.5:
        return feats100
    n = min(len(feats100), len(original100), len(f0))
    w = np.where(np.asarray(f0[:n]) >= 1.0, 1.0, protect).astype(np.float32)[:, None]
    return (feats100[:n] * w + original100[:n] * (1.0 - w)).astype(np.float32)


def shift_key(f0: np.ndarray, key: float) -> np.ndarray:
    """f0 moved by ``key`` semitones (unvoiced frames stay 0)."""
    return (np.asarray(f0, dtype=np.float32) * np.float32(2.0 ** (key / 12.0))).astype(np.float32)


def synthesize(model: VoiceModel, feats100: np.ndarray, f0: np.ndarray | None,
               settings: ConvertSettings, *, skip_frames: int = 0, seed: int = 0,
               noise_scale: float = NOISE_SCALE) -> np.ndarray:
    """Audio (float32, ``model.sample_rate``) for content at 100 frames/s and f0 (Hz, already
    key-shifted; ignored by models without pitch). ``skip_frames`` leading frames go
    through the content encoder but are not decoded (real-time context): the result then
    has ``(T - skip_frames) * hop`` samples. ``z`` is drawn from a generator seeded with
    ``seed``, so the same call gives the same audio; the caller's RNG is untouched."""
    from backend.features.f0 import coarse_f0

    net = model.net
    device = next(net.parameters()).device
    n = len(feats100) if f0 is None or not model.f0 else min(len(feats100), len(f0))
    if not 0 <= skip_frames < n:
        raise ValueError(f"skip_frames must be in [0, {n}) for {n} frames, got {skip_frames}")
    phone = torch.from_numpy(np.ascontiguousarray(feats100[:n], dtype=np.float32))
    phone = phone.unsqueeze(0).to(device)
    lengths = torch.tensor([n], device=device, dtype=torch.long)
    coarse = pitch = None
    if model.f0:
        if f0 is None:
            raise ValueError("this model uses pitch: pass f0")
        f0n = np.ascontiguousarray(f0[:n], dtype=np.float32)
        coarse = torch.from_numpy(coarse_f0(f0n)).unsqueeze(0).to(device)
        pitch = torch.from_numpy(f0n).unsqueeze(0).to(device)
    sid = torch.tensor([settings.speaker], device=device, dtype=torch.long)
    rate = None if skip_frames == 0 else (n - skip_frames - 0.5) / n  # int() lands on skip
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.inference_mode():
        torch.manual_seed(seed)
        audio = net.infer(phone, lengths, coarse, pitch, sid, rate=rate,
                          noise_scale=noise_scale)
    return audio[0, 0].float().cpu().numpy()


def rms_envelope(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """librosa ``feature.rms`` with ``center=True`` (zero padding): frames of ``frame``
    samples every ``hop``, ``1 + len // hop`` values."""
    x = np.asarray(x, dtype=np.float64)
    padded = np.pad(x, (frame // 2, frame // 2))
    n = 1 + (padded.shape[0] - frame) // hop if padded.shape[0] >= frame else 1
    csum = np.concatenate([[0.0], np.cumsum(padded * padded)])
    starts = np.arange(n) * hop
    ends = np.minimum(starts + frame, padded.shape[0])
    return np.sqrt(np.maximum(csum[ends] - csum[starts], 0.0) / frame)


def _stretch(env: np.ndarray, size: int) -> np.ndarray:
    """Linear interpolation to ``size`` points (torch ``F.interpolate`` linear, corners not
    aligned, edges held)."""
    pos = (np.arange(size) + 0.5) * (env.shape[0] / size) - 0.5
    return np.interp(pos, np.arange(env.shape[0]), env)


def rms_mix(out: np.ndarray, out_sr: int, src16k: np.ndarray, rate: float, *,
            frame_s: float = 1.0, hop_s: float = 0.5) -> np.ndarray:
    """RVC's loudness-envelope mix: ``out * (rms_in / rms_out) ** (1 - rate)``. Rate 1 keeps
    the output's envelope, 0 imposes the input's. Envelopes: ``frame_s`` frames every
    ``hop_s`` (RVC offline: 1 s every 0.5 s), linearly stretched to the output length."""
    out = np.asarray(out, dtype=np.float32)
    if rate >= 1 or out.size == 0:
        return out
    def frames(sr: int) -> tuple[int, int]:
        return max(2, int(round(sr * frame_s / 2)) * 2), max(1, int(round(sr * hop_s)))

    env_in = _stretch(rms_envelope(src16k, *frames(SR16K)), out.shape[0])
    env_out = np.maximum(_stretch(rms_envelope(out, *frames(out_sr)), out.shape[0]), 1e-6)
    gain = np.power(env_in, 1.0 - rate) * np.power(env_out, rate - 1.0)
    return (out * gain).astype(np.float32)
