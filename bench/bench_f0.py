"""Pitch extraction speed on 60 s of 16 kHz speech-like audio.

Prints seconds, x real time and the speed ratio against harvest (the baseline, measured in
the same run) for harvest, dio, pm, crepe-tiny and rmvpe (random full-size weights: speed
does not depend on the weight values). Issue target: rmvpe >= 20x real time on 2 CPU cores.

    .venv/bin/python bench/bench_f0.py [--seconds 60] [--threads 2] [--repeat 1] [--methods ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SR = 16000


def speech_like(seconds: float) -> np.ndarray:
    """espeak-ng speech looped to ``seconds`` (a vibrato tone if espeak-ng is missing)."""
    import soundfile as sf
    import soxr

    exe = shutil.which("espeak-ng")
    if exe is None:
        t = np.arange(int(SR * seconds)) / SR
        f = 180 * 2 ** (0.5 * np.sin(2 * np.pi * 0.3 * t) / 12)
        return (0.3 * np.sin(2 * np.pi * np.cumsum(f) / SR)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        text = ("Timbre Studio turns a folder of recordings into a voice model. "
                "The quick brown fox jumps over the lazy dog, and then it rests.")
        subprocess.run([exe, "-v", "en+m3", "-w", str(path), text], check=True)
        audio, rate = sf.read(str(path), dtype="float32")
    audio = soxr.resample(audio, rate, SR).astype(np.float32)
    reps = int(np.ceil(seconds * SR / audio.size))
    return np.tile(audio, reps)[: int(seconds * SR)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per method")
    parser.add_argument("--methods", nargs="*",
                        default=["harvest", "dio", "pm", "crepe-tiny", "rmvpe"])
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from backend.features.f0 import F0Extractor
    from backend.features.rmvpe import RmvpeNet

    audio = speech_like(args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "rmvpe.pt"
        torch.manual_seed(0)
        torch.save(RmvpeNet().state_dict(), weights)
        extractor = F0Extractor(rmvpe_path=weights)
        times = {}
        for method in args.methods:
            extractor.extract(audio[:SR], method)  # load models, warm up
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                extractor.extract(audio, method)
                best = min(best, time.perf_counter() - start)
            times[method] = best
    base = times.get("harvest")
    print(f"{args.seconds:.0f} s of audio, {args.threads} torch threads, best of {args.repeat}")
    print(f"{'method':<12}{'seconds':>9}{'x real time':>13}{'vs harvest':>12}")
    for method, seconds in times.items():
        ratio = f"{base / seconds:>11.1f}x" if base else f"{'-':>12}"
        print(f"{method:<12}{seconds:>9.2f}{args.seconds / seconds:>13.1f}{ratio}")


if __name__ == "__main__":
    main()
