"""RMVPE pitch estimator: our own implementation, compatible with the standard ``rmvpe.pt``.

Pipeline (16 kHz mono in, 100 frames/s out):

1. log-mel spectrogram: hann-windowed STFT (n_fft = win = 1024, hop 160, centred frames),
   magnitude, 128 mel bins from 30 to 8000 Hz (HTK mel scale), ``log(clamp(mel, 1e-5))``;
2. a deep U-Net (5 encoder levels of 4 residual blocks with 2x2 average pooling, 16 base
   channels doubling per level, 4 intermediate blocks, 5 decoder levels with a transposed
   convolution and skip connections), a 3-channel 3x3 convolution, one bidirectional GRU
   (hidden 256) and a linear layer to 360 pitch bins with a sigmoid (the "salience");
3. decoding: bin ``i`` is ``20 * i + 1997.379...`` cents above 10 Hz; a salience-weighted
   average of the 9 bins around the peak gives the cents; a peak below 0.03 is unvoiced.

Module and parameter names are chosen so that ``RmvpeNet().state_dict()`` has exactly the keys
and shapes of the standard file (see /work/shared/reference/rmvpe_state_dict_manifest.json).
The network and its loading live in :mod:`backend.features.rmvpe_net` (re-exported here); this
module holds the front end, chunked inference and decoding. For ``n`` samples the output has
``n // 160 + 1`` frames; frame ``i`` is centred on sample ``160 * i``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from backend.features.rmvpe_net import ASSET_NAME as ASSET_NAME
from backend.features.rmvpe_net import ASSET_SIZE_TEXT as ASSET_SIZE_TEXT
from backend.features.rmvpe_net import GET_ASSET_HINT as GET_ASSET_HINT
from backend.features.rmvpe_net import N_BINS as N_BINS
from backend.features.rmvpe_net import N_MELS as N_MELS
from backend.features.rmvpe_net import RmvpeNet as RmvpeNet
from backend.features.rmvpe_net import RmvpeWeightsError as RmvpeWeightsError
from backend.features.rmvpe_net import check_state_dict as check_state_dict
from backend.features.rmvpe_net import fuse_for_inference as fuse_for_inference
from backend.features.rmvpe_net import load_rmvpe_net as load_rmvpe_net
from backend.features.rmvpe_net import missing_weights_message as missing_weights_message

SAMPLE_RATE = 16000
HOP = 160
N_FFT = 1024
MEL_FMIN = 30.0
MEL_FMAX = 8000.0
CENTS_OFFSET = 1997.3794084376191
VOICING_THRESHOLD = 0.03
CHUNK_FRAMES = 3200  # 32 s of output frames per forward pass (multiple of 32)
CONTEXT_FRAMES = 192  # extra frames (1.92 s) each side of a chunk, discarded afterwards
_LOG_FLOOR = 1e-5


# --------------------------------------------------------------------------- front end


class LogMel(nn.Module):
    """Log-mel spectrogram of un-padded audio frames (``center=False``).

    The caller supplies audio already padded by ``N_FFT // 2`` on each side, so that frame
    ``i`` covers samples ``[160 i, 160 i + 1024)`` of the padded signal. The filterbank and
    window are non-persistent buffers: they never appear in the state dict.
    """

    def __init__(self) -> None:
        super().__init__()
        import librosa

        basis = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=MEL_FMIN,
                                    fmax=MEL_FMAX, htk=True)
        self.register_buffer("basis", torch.from_numpy(basis).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(audio, N_FFT, hop_length=HOP, win_length=N_FFT, window=self.window,
                          center=False, return_complex=True)
        mel = torch.matmul(self.basis, spec.abs())
        return torch.log(torch.clamp(mel, min=_LOG_FLOOR))


# --------------------------------------------------------------------------- decoding

_CENTS = (20.0 * np.arange(N_BINS) + CENTS_OFFSET).astype(np.float64)


def salience_to_f0(salience: np.ndarray, threshold: float = VOICING_THRESHOLD) -> np.ndarray:
    """``(frames, 360)`` salience -> f0 in Hz (0 where the peak salience <= threshold)."""
    sal = np.asarray(salience, dtype=np.float64)
    if sal.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    peak = sal.argmax(axis=1)
    idx = peak[:, None] + np.arange(-4, 5)[None, :]
    inside = (idx >= 0) & (idx < N_BINS)
    idx = np.clip(idx, 0, N_BINS - 1)
    weights = np.take_along_axis(sal, idx, axis=1) * inside
    total = weights.sum(axis=1)
    cents = (weights * _CENTS[idx]).sum(axis=1) / np.maximum(total, 1e-12)
    f0 = 10.0 * 2.0 ** (cents / 1200.0)
    f0[sal.max(axis=1) <= threshold] = 0.0
    return f0.astype(np.float32)


# --------------------------------------------------------------------------- inference


class RmvpePredictor:
    """Loaded RMVPE model plus front end; runs long audio in chunks with flat memory.

    fp16 on CUDA, fp32 on CPU. Each chunk of ``chunk_frames`` output frames is computed with
    ``context_frames`` extra frames on both sides, which are then discarded. The predictor
    runs a private copy of ``net`` with batch norms folded into the convolutions and
    channels-last memory layout (``own_net=True`` skips the copy and changes ``net`` itself).
    """

    def __init__(self, net: RmvpeNet, device: str = "cpu", *, chunk_frames: int = CHUNK_FRAMES,
                 context_frames: int = CONTEXT_FRAMES, own_net: bool = False) -> None:
        if chunk_frames < 32 or context_frames < 0:
            raise ValueError("chunk_frames must be >= 32 and context_frames >= 0")
        self.device = torch.device(device)
        self.half = self.device.type == "cuda"
        net = fuse_for_inference(net if own_net else copy.deepcopy(net))
        self.net = net.to(self.device, memory_format=torch.channels_last)
        if self.half:
            self.net = self.net.half()
        self.mel = LogMel().to(self.device)
        self.chunk_frames = chunk_frames
        self.context_frames = context_frames

    @classmethod
    def from_file(cls, path: Path | str | None, device: str = "cpu", **kw: int) -> RmvpePredictor:
        return cls(load_rmvpe_net(path), device, own_net=True, **kw)

    def _forward(self, padded: torch.Tensor, first: int, last: int) -> torch.Tensor:
        """Salience ``(batch, frames, 360)`` for frames ``[first, last)`` given the
        centre-padded signals ``(batch, samples)``."""
        audio = padded[:, first * HOP:(last - 1) * HOP + N_FFT]
        mel = self.mel(audio.float())  # (batch, 128, frames)
        n = mel.shape[-1]
        n_pad = 32 * math.ceil(n / 32) - n
        if n_pad:
            mel = torch.nn.functional.pad(mel, (0, n_pad), mode="constant")
        if self.half:
            mel = mel.half()
        return self.net(mel)[:, :n].float()

    def salience(self, wav16k: np.ndarray) -> np.ndarray:
        """``(n // 160 + 1, 360)`` salience for a mono 16 kHz float signal."""
        return self.salience_batch([wav16k])[0]

    def salience_batch(self, wavs: list[np.ndarray]) -> np.ndarray:
        """``(batch, n // 160 + 1, 360)`` salience for signals of *identical* length ``n``,
        each chunk of all of them in one forward pass (no padding between inputs, so each
        row equals :meth:`salience` of that input up to float rounding)."""
        if not wavs or len({np.shape(w) for w in wavs}) > 1:
            raise ValueError("salience_batch needs one or more signals of identical length")
        audio = np.stack([np.asarray(w, dtype=np.float32) for w in wavs])
        n_frames = audio.shape[1] // HOP + 1
        mode = "reflect" if audio.shape[1] > N_FFT // 2 else "constant"
        pad = ((0, 0), (N_FFT // 2, N_FFT // 2))
        padded = torch.from_numpy(np.pad(audio, pad, mode=mode)).to(self.device)
        out = np.empty((audio.shape[0], n_frames, N_BINS), dtype=np.float32)
        ctx = self.context_frames
        with torch.inference_mode():
            for start in range(0, n_frames, self.chunk_frames):
                stop = min(n_frames, start + self.chunk_frames)
                first, last = max(0, start - ctx), min(n_frames, stop + ctx)
                sal = self._forward(padded, first, last)
                out[:, start:stop] = sal[:, start - first:stop - first].cpu().numpy()
        return out

    def f0(self, wav16k: np.ndarray, threshold: float = VOICING_THRESHOLD) -> np.ndarray:
        return salience_to_f0(self.salience(wav16k), threshold)

    def f0_batch(self, wavs: list[np.ndarray],
                 threshold: float = VOICING_THRESHOLD) -> list[np.ndarray]:
        """:meth:`f0` of several signals of identical length, batched."""
        return [salience_to_f0(s, threshold) for s in self.salience_batch(wavs)]
