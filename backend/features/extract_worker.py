"""Per-clip feature extraction, run in worker processes or in a thread of the job's process.

A :class:`ClipWorker` loads the models once and then turns one prepared 16 kHz clip into its
feature files. A failure to load a model is *fatal* (every clip would fail the same way); a
failure on one clip (unreadable file, bad samples) is reported for that clip only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.features import store


@dataclass(frozen=True)
class WorkerSetup:
    f0_method: str
    encoder_path: str
    version: str
    device: str
    filter_radius: int
    rmvpe_path: str | None
    threads: int = 1


class ClipWorker:
    """Models for one job in one process; ``process`` extracts one clip."""

    def __init__(self, setup: WorkerSetup, *, set_threads: bool = True) -> None:
        self.setup = setup
        self.fatal: str | None = None
        try:
            self._load(set_threads)
        except Exception as exc:  # any load failure: report it once, for the whole job
            self.fatal = _describe(exc)

    def _load(self, set_threads: bool) -> None:
        import torch

        from backend.features.f0 import F0Extractor
        from backend.features.hubert import load_encoder

        setup = self.setup
        if set_threads:
            torch.set_num_threads(max(1, setup.threads))
        self.f0 = F0Extractor(device=setup.device, rmvpe_path=setup.rmvpe_path)
        self.f0.preload(setup.f0_method)  # a damaged rmvpe.pt fails here, not per clip
        self.encoder = load_encoder(Path(setup.encoder_path), device=setup.device)
        self.encoder.output_dim(setup.version)  # v1 needs final_proj: say so before any clip
        _release_memory()  # loading freed the file's tensors: return that memory

    def process(self, task: tuple[str, str, str]) -> dict[str, Any]:
        """``task`` = (stem, wav16k path, project root) -> result or ``error``/``fatal``."""
        stem, wav_path, root = task
        if self.fatal is not None:
            return {"stem": stem, "fatal": self.fatal}
        audio = _read(wav_path)
        if isinstance(audio, str):
            return {"stem": stem, "error": audio}
        return self._extract_one(task, audio)

    def process_batch(self, tasks: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        """Several clips, one result per clip (unreadable ones first). Clips of identical
        sample count run through each model in one forward pass; if that pass fails, the
        clips are done one by one, so a bad clip only fails itself. Each clip's files are
        written on their own."""
        if self.fatal is not None or len(tasks) < 2:
            return [self.process(task) for task in tasks]
        audios = [_read(wav_path) for _, wav_path, _ in tasks]
        out: list[dict[str, Any]] = [{"stem": t[0], "error": a} for t, a in
                                     zip(tasks, audios, strict=True) if isinstance(a, str)]
        good = [(t, a) for t, a in zip(tasks, audios, strict=True) if not isinstance(a, str)]
        if len({a.shape[0] for _, a in good}) > 1 or len(good) < 2:
            return out + [self._extract_one(t, a) for t, a in good]
        try:
            features = self._compute_batch([a for _, a in good])
        except Exception:  # e.g. out of GPU memory, or one clip the models reject
            return out + [self._extract_one(t, a) for t, a in good]
        for (task, audio), (f0, content, seconds) in zip(good, features, strict=True):
            out.append(self._save_one(task, audio, f0, content, seconds))
        return out

    def _extract_one(self, task: tuple[str, str, str], audio: np.ndarray) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            f0, content, _ = self._compute_batch([audio], single=True)[0]
        except Exception as exc:  # one bad clip must not stop the others
            return self._failed(task, exc)
        return self._save_one(task, audio, f0, content, time.perf_counter() - t0)

    def _compute_batch(self, audios: list[np.ndarray], single: bool = False,
                       ) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """(f0, content, compute seconds per clip) for each clip."""
        setup = self.setup
        t0 = time.perf_counter()
        if single:
            f0s = [self.f0.extract(audios[0], setup.f0_method, filter_radius=setup.filter_radius)]
            contents = [self.encoder.encode(audios[0], version=setup.version)]
        else:
            f0s = self.f0.extract_batch(audios, setup.f0_method,
                                        filter_radius=setup.filter_radius)
            contents = self.encoder.encode_batch(audios, version=setup.version)
        arrays = [c.float().cpu().numpy() for c in contents]
        share = (time.perf_counter() - t0) / len(audios)
        return [(f0, c, share) for f0, c in zip(f0s, arrays, strict=True)]

    def _save_one(self, task: tuple[str, str, str], audio: np.ndarray, f0: np.ndarray,
                  content: np.ndarray, compute_s: float) -> dict[str, Any]:
        from backend.features.f0 import coarse_f0

        stem, _, root_text = task
        root = Path(root_text)
        paths = store.feature_paths(root, stem, self.setup.version)
        try:
            store.save_npy(paths["f0"], f0.astype(np.float32))
            store.save_npy(paths["f0_coarse"], coarse_f0(f0).astype(np.uint8))
            store.save_npy(paths["content"], content.astype(np.float32))
        except Exception as exc:
            return self._failed(task, exc)
        voiced = float(np.mean(f0 > 0)) if f0.size else 0.0
        return {"stem": stem, "frames": int(f0.shape[0]), "content_frames": int(content.shape[0]),
                "voiced": round(voiced, 3), "seconds": audio.shape[0] / 16000,
                "compute_s": compute_s,
                "paths": {k: p.relative_to(root).as_posix() for k, p in paths.items()}}

    @staticmethod
    def _failed(task: tuple[str, str, str], exc: Exception) -> dict[str, Any]:
        name = Path(task[1]).name
        return {"stem": task[0], "error": f"{name}: feature extraction failed: {_describe(exc)}"}

def _release_memory() -> None:
    """Give freed heap memory back to the system (glibc keeps it otherwise)."""
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).malloc_trim(0)


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return message if isinstance(exc, (ValueError, OSError)) or hasattr(exc, "code") \
        else f"{type(exc).__name__}: {message}"


def _read(wav_path: str) -> np.ndarray | str:
    """Mono 16 kHz float32 samples, or a message naming the file."""
    import soundfile as sf

    name = Path(wav_path).name
    try:
        audio, sr = sf.read(wav_path, dtype="float32", always_2d=False)
    except Exception as exc:
        return f"could not read {name} ({wav_path}): {exc}; run Prepare again"
    if sr != 16000 or audio.ndim != 1:
        return f"{name} is not 16 kHz mono; run Prepare again"
    if not np.isfinite(audio).all():
        return f"{name} has NaN or infinite samples; run Prepare again"
    return audio


# --- process pool entry points ------------------------------------------------------------
_worker: ClipWorker | None = None


def init_worker(setup: WorkerSetup, load_lock: Any = None) -> None:
    """Pool initializer: load the models once per process; exit if the job process dies.

    ``load_lock`` (a multiprocessing lock) lets one worker load at a time: loading briefly
    holds the file's tensors next to the converted weights (and the RMVPE/CREPE models), and
    peaks side by side would add up."""
    global _worker
    os.environ.setdefault("OMP_NUM_THREADS", str(setup.threads))
    _watch_parent(os.getppid())
    with load_lock if load_lock is not None else contextlib.nullcontext():
        _worker = ClipWorker(setup)


def process_clips(tasks: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Pool entry point for a batch of clips (see :meth:`ClipWorker.process_batch`)."""
    assert _worker is not None, "init_worker was not called"
    return _worker.process_batch(tasks)


def _watch_parent(parent: int) -> None:
    """A killed job process (SIGKILL, crash) cannot stop its pool: the workers die with it
    (at once on Linux, else within 0.1 s) instead of finishing the clip they are on, which
    with a slow pitch method on a long clip can take minutes."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # PR_SET_PDEATHSIG = 1: the
            ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # kernel kills us with it

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(3)
            time.sleep(0.1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
