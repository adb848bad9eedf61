"""Offline conversion of one recording with a voice model (RVC's inference pipeline).

``Converter(model, encoder=..., f0=..., retrieval=..., device=...)`` keeps the loaded parts
for any number of files; ``convert(audio, sr, settings)`` returns ``(audio, rate)``:

1. to 16 kHz mono, 48 Hz high-pass (``steps``);
2. pitch once over the whole (padded) input with the chosen method, shifted by ``key``;
3. the input cut at its quietest points near every 38 s (``chunking``); each piece with
   1 s of context on each side: content features, retrieval, x2 to 100 fps, consonant
   protection, synthesis (the leading context is encoded but not decoded), context dropped;
4. pieces joined, loudness-envelope mix against the 16 kHz input, resampled to
   ``settings.output_rate`` when set, peaks above 0.99 scaled down as RVC does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import soxr

from backend.convert import chunking, steps
from backend.convert.settings import ConvertSettings
from backend.convert.voice_model import VoiceModel
from backend.kernel import BadArgs

FRAME = chunking.FRAME
DECODE_MARGIN = 16  # frames decoded before a piece's first kept frame (decoder context)
PEAK = 0.99
MIN_SECONDS = 0.05

Progress = Callable[[float, float], None]  # (seconds of input done, seconds in all)


class Converter:
    """Converts recordings with one voice model; keeps the encoder, pitch models and index."""

    def __init__(self, model: VoiceModel, *, encoder: Any, f0: Any, retrieval:
                 steps.Retrieval | None = None, device: str = "cpu",
                 times: chunking.ChunkTimes = chunking.FP32, seed: int = 0,
                 noise_scale: float = steps.NOISE_SCALE, skip_context: bool = True) -> None:
        """``times``: chunking figures (``chunking.WHOLE`` never cuts); ``skip_context``
        False decodes each piece's leading context too (the straightforward path)."""
        self.model, self.encoder, self.f0, self.retrieval = model, encoder, f0, retrieval
        self.device, self.times, self.seed = device, times, seed
        self.noise_scale, self.skip_context = noise_scale, skip_context
        check_encoder(encoder, model)
        if retrieval is not None:
            retrieval.check_dim(model.content_dim, model.version)
        if model.f0 and f0 is None:
            raise ValueError("a model with pitch needs an F0Extractor")

    def convert(self, audio: np.ndarray, sr: int, settings: ConvertSettings,
                check: Callable[[], None] = lambda: None,
                progress: Progress | None = None) -> tuple[np.ndarray, int]:
        settings.check()
        wav = steps.high_pass_16k(steps.to_16k(audio, sr))
        seconds = wav.shape[0] / chunking.SR16K
        if seconds < MIN_SECONDS:
            raise BadArgs(f"the recording is {seconds * 1000:.0f} ms long; conversion needs at "
                          f"least {MIN_SECONDS * 1000:.0f} ms of audio")
        pad = self.times.samples("pad")
        padded, n_frames = chunking.pad_for_pieces(wav, pad)
        f0 = self._pitch(padded, settings)
        check()
        parts = []
        for a, b in chunking.pieces(n_frames, chunking.find_cuts(wav, self.times)):
            segment = padded[a * FRAME: b * FRAME + 2 * pad]
            pitch = None if f0 is None else f0[a: b + 2 * pad // FRAME]
            parts.append(self._piece(segment, pitch, pad // FRAME, b - a, settings, len(parts)))
            check()
            if progress is not None:
                progress(min(b * FRAME / chunking.SR16K, seconds), seconds)
        rate = self.model.sample_rate
        out = np.concatenate(parts)[: int(round(wav.shape[0] * rate / chunking.SR16K))]
        out = steps.rms_mix(out, rate, wav, settings.rms_mix)
        if settings.output_rate and settings.output_rate != rate:
            out = soxr.resample(out, rate, settings.output_rate, quality="HQ")
            rate = settings.output_rate
        return _limit_peak(out), rate

    def _pitch(self, padded: np.ndarray, settings: ConvertSettings) -> np.ndarray | None:
        if not self.model.f0:
            return None
        f0 = self.f0.extract(padded, settings.f0_method, filter_radius=settings.filter_radius)
        return steps.shift_key(f0, settings.key)

    def _piece(self, segment: np.ndarray, f0: np.ndarray | None, head: int, keep: int,
               settings: ConvertSettings, index: int) -> np.ndarray:
        """Audio of the ``keep`` frames after ``head`` context frames of ``segment``."""
        frames = segment.shape[0] // FRAME
        feats = steps.content_features(self.encoder, segment, self.model.version)
        original = feats
        if self.retrieval is not None and settings.index_rate > 0:
            feats = self.retrieval.blend(feats, settings.index_rate)
        feats100 = _fit(steps.upsample2(feats), frames)
        if f0 is not None and feats is not original:
            feats100 = steps.protect(feats100, _fit(steps.upsample2(original), frames), f0,
                                     settings.protect)
        skip = max(0, head - DECODE_MARGIN) if self.skip_context else 0
        audio = steps.synthesize(self.model, feats100, f0, settings, skip_frames=skip,
                                 seed=self.seed + index, noise_scale=self.noise_scale)
        hop = self.model.hop
        start = (head - skip) * hop
        return audio[start: start + keep * hop]


def _fit(feats100: np.ndarray, frames: int) -> np.ndarray:
    """Exactly ``frames`` frames: HuBERT gives one or two fewer than the 100 fps grid (its
    400-sample window); the last frame is repeated (it lies in the dropped context)."""
    if feats100.shape[0] >= frames:
        return feats100[:frames]
    if feats100.shape[0] == 0:
        raise BadArgs("the recording is too short for the content encoder")
    extra = np.repeat(feats100[-1:], frames - feats100.shape[0], axis=0)
    return np.concatenate([feats100, extra])


def _limit_peak(audio: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > PEAK:
        audio = audio * (PEAK / peak)
    return audio.astype(np.float32)


def check_encoder(encoder: Any, model: Any) -> None:
    """BadArgs when the encoder's features do not fit the voice model's version."""
    dim_of = getattr(encoder, "output_dim", None)
    if dim_of is None:
        return
    try:
        dim = dim_of(model.version)
    except ValueError as exc:  # a v1 model with an encoder that has no final_proj
        raise BadArgs(f"the content encoder cannot serve {model.name} ({model.version}): "
                      f"{exc}") from exc
    if dim != model.content_dim:
        where = getattr(encoder, "source", None) or "the content encoder"
        raise BadArgs(f"{where} gives {dim}-dim {model.version} features but {model.name} "
                      f"expects {model.content_dim}: choose a HuBERT base encoder "
                      "(hubert-base)")
