"""A tiny project made from numpy signals, prepared and extracted in-process by the real job
code (pm pitch and a tiny random HuBERT in the ``hubert_base.pt`` format): a few seconds
of work, for the failure-path tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from backend.jobs import extract as extract_job
from backend.jobs import prepare as prepare_job
from backend.kernel import JobContext
from tests.features.tiny_models import save_tiny_fairseq_hubert

SR = 16000


def harmonic_bursts(path: Path, f0: float, bursts: int = 3, seconds: float = 1.6,
                    gap: float = 0.6, seed: int = 0) -> Path:
    """Voiced-like bursts (a few harmonics, slight vibrato) between silences."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))) / SR
    burst = sum(0.3 / k * np.sin(k * phase) for k in range(1, 6))
    burst *= np.hanning(len(t)) ** 0.2
    silence = np.zeros(int(gap * SR))
    parts = [silence]
    for _ in range(bursts):
        parts += [burst + 1e-3 * rng.standard_normal(len(t)), silence]
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.concatenate(parts).astype(np.float32), SR)
    return path


def events() -> tuple[JobContext, list[tuple[str, dict]]]:
    seen: list[tuple[str, dict]] = []
    return JobContext("t", "test", lambda e, d: seen.append((e, d))), seen


def prepare(root: Path, inputs: list[Path] | None = None, **args: object) -> dict:
    ctx, _ = events()
    job_args = {"project": str(root), "create": {}, **args}
    if inputs:
        job_args["inputs"] = [str(p) for p in inputs]
    return prepare_job.run(prepare_job.prepare(job_args), ctx)


def extract(root: Path, encoder: Path, logs: list | None = None, **args: object) -> dict:
    ctx, seen = events()
    params = extract_job.prepare({"project": str(root), "f0": "pm", "encoder": str(encoder),
                                  "device": "cpu", "workers": 1, **args})
    try:
        return extract_job.run(params, ctx)
    finally:
        if logs is not None:
            logs += [d["message"] for e, d in seen if e == "log"]


def make_base(tmp: Path, *, features: bool = True) -> dict[str, Path]:
    """A prepared (and extracted) project plus its encoder file; copy it per test."""
    source = harmonic_bursts(tmp / "aufnahmen ü" / "ton 1.wav", 160, bursts=4)
    root = tmp / "Projekt Töne 声"
    prepare(root, [source])  # one source: processed in the job's thread (no pool start-up)
    base = {"project": root, "source": source}
    if features:
        base["encoder"] = save_tiny_fairseq_hubert(tmp / "enc ö" / "hubert_base.pt")
        extract(root, base["encoder"])
    return base


def copy_project(src: Path, parent: Path) -> Path:
    dst = parent / f"{src.name} kopie"
    shutil.copytree(src, dst)
    return dst


def clips(root: Path) -> dict[str, dict]:
    """stem -> slice entry of the prepared manifest."""
    manifest = json.loads((root / "prepared" / "manifest.json").read_text("utf-8"))
    return {Path(s["path_16k"]).stem: s for e in manifest["sources"].values()
            for s in e["slices"]}


def feature_manifest(root: Path) -> dict:
    return json.loads((root / "features" / "manifest.json").read_text("utf-8"))
