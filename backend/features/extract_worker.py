"""Per-clip feature extraction, run in worker processes or in the job's thread."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.features import store


@dataclass(frozen=True)
class WorkerSetup:
    f0_method: str
    encoder_path: str
    encoder_trusted: bool
    version: str
    device: str
    filter_radius: int
    rmvpe_path: str | None
    threads: int = 1


_state: dict[str, Any] = {}


def init_worker(setup: WorkerSetup) -> None:
    """Load the models once per process."""
    import torch

    from backend.features.f0 import F0Extractor
    from backend.features.hubert import load_encoder

    torch.set_num_threads(setup.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(setup.threads))
    _state["setup"] = setup
    _state["f0"] = F0Extractor(device=setup.device, rmvpe_path=setup.rmvpe_path)
    _state["encoder"] = load_encoder(Path(setup.encoder_path), device=setup.device,
                                     trusted=setup.encoder_trusted)


def process_clip(task: tuple[str, str, str]) -> dict[str, Any]:
    """Extract one clip. ``task`` = (stem, wav16k path, project root)."""
    import soundfile as sf

    from backend.features.f0 import coarse_f0

    stem, wav_path, root = task
    setup: WorkerSetup = _state["setup"]
    try:
        audio, sr = sf.read(wav_path, dtype="float32", always_2d=False)
    except Exception as exc:
        return {"stem": stem, "error": f"could not read {Path(wav_path).name}: {exc}"}
    if sr != 16000 or audio.ndim != 1:
        return {"stem": stem, "error": f"{Path(wav_path).name} is not 16 kHz mono; "
                                       "run Prepare again"}
    f0 = _state["f0"].extract(audio, setup.f0_method, filter_radius=setup.filter_radius)
    content = _state["encoder"].encode(audio, version=setup.version)
    content = content.float().cpu().numpy()
    paths = store.feature_paths(Path(root), stem, setup.version)
    store.save_npy(paths["f0"], f0.astype(np.float32))
    store.save_npy(paths["f0_coarse"], coarse_f0(f0).astype(np.uint8))
    store.save_npy(paths["content"], content.astype(np.float32))
    voiced = float(np.mean(f0 > 0)) if f0.size else 0.0
    return {"stem": stem, "frames": int(f0.shape[0]), "content_frames": int(content.shape[0]),
            "voiced": round(voiced, 3), "seconds": audio.shape[0] / 16000,
            "paths": {k: str(p.relative_to(root)) for k, p in paths.items()}}
