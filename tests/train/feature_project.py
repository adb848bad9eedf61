"""A project with prepared clips and extracted features, made from numpy signals.

Training tests use it instead of running the (slower) real extraction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from backend.dataset.project import create_project
from backend.features import store
from backend.features.f0 import coarse_f0


def make_feature_project(root: Path, *, clips: int = 4, seconds: float = 1.2,
                         sample_rate: int = 40000, version: str = "v2",
                         seed: int = 0, growth: float = 0.25) -> Path:
    """Clip i lasts ``seconds * (1 + growth * i)``."""
    create_project(root, name=root.name, sample_rate=sample_rate)
    rng = np.random.default_rng(seed)
    dim = 768 if version == "v2" else 256
    manifest = {"format": store.FORMAT, "settings": {"version": version, "f0_method": "pm",
                                                     "encoder": "test"}, "slices": {}}
    gt = root / "prepared" / "0_gt_wavs"
    gt.mkdir(parents=True, exist_ok=True)
    for i in range(clips):
        stem = f"clip{i:02d}"
        n = int(seconds * (1 + growth * i) * sample_rate)
        t = np.arange(n) / sample_rate
        f0_hz = 120.0 + 40 * i
        wav = sum(0.2 / k * np.sin(2 * np.pi * k * f0_hz * t) for k in range(1, 5))
        sf.write(gt / f"{stem}.wav", wav.astype(np.float32), sample_rate, subtype="FLOAT")
        frames = n * 100 // sample_rate + 1
        f0 = np.full(frames, f0_hz, np.float32)
        content = rng.normal(size=(frames // 2, dim)).astype(np.float32)
        paths = store.feature_paths(root, stem, version)
        store.save_npy(paths["f0"], f0)
        store.save_npy(paths["f0_coarse"], coarse_f0(f0).astype(np.uint8))
        store.save_npy(paths["content"], content)
        manifest["slices"][stem] = {"signature": "x", "frames": frames,
                                    "content_frames": frames // 2, "voiced": 1.0,
                                    **{k: str(p.relative_to(root)) for k, p in paths.items()}}
    store.save_manifest(root, manifest)
    return root


def train_in_process(project: Path, run: str = "main", **args: object) -> tuple[dict, list]:
    """The train job as the server runs it (tiny, CPU, 1 epoch unless told): its result
    and its ``log`` events as (level, message)."""
    import torch

    from backend.jobs import train
    from backend.jobs.base import JobContext

    torch.set_num_threads(1)  # as the CLI tests do (OMP_NUM_THREADS=1): steadier on 2 cores
    logs: list[tuple[str, str]] = []

    def emit(event: str, data: dict) -> None:
        if event == "log":
            logs.append((data["level"], data["message"]))

    params = train.prepare({"project": str(project), "run": run, "size": "tiny", "epochs": 1,
                            "batch_size": 2, "save_every": 1, "device": "cpu",
                            "deterministic": True, **args})
    return train.run(params, JobContext("test", "train", emit)), logs
