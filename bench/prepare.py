"""Benchmark: dataset preparation (backend.dataset.pipeline) against a librosa baseline.

    .venv/bin/python bench/prepare.py [--minutes 10] [--long-minutes 60] [--workers 2]

Synthesises ``--minutes`` of speech-like audio (espeak-ng phrases joined by
silences, 44.1 kHz, split over several files) in a temporary folder, then runs
in the same session, each method in a fresh subprocess with the same number of
worker processes (each worker is warmed up on a 3 s file first, so imports and
numba compilation are not timed):

- ours: ``process_source`` per file (stream decode, high-pass, slice, normalise,
  chunk, write target-rate and 16 kHz wavs), like the prepare job;
- librosa: ``librosa.load`` at the native rate, ``librosa.effects.split`` for
  silence, ``librosa.resample`` to the target rate and 16 kHz, soundfile writes.

It prints seconds, x real time, peak RSS of the largest process and the speed
ratio against the baseline; then the peak RSS of one ``--long-minutes`` file
through ``process_source`` (0 skips it). Target: >= 50x real time on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 44100
TARGET_SR = 40000
PHRASES = [
    "Please call Stella and ask her to bring these things with her from the store",
    "The quick brown fox jumps over the lazy dog near the quiet river bank",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese",
    "We also need a small plastic snake and a big toy frog for the kids",
    "She can scoop these things into three red bags, and we will meet her",
    "When the sunlight strikes raindrops in the air, they act as a prism",
    "The rainbow is a division of white light into many beautiful colours",
    "Throughout the centuries people have explained the rainbow in various ways",
]


def _phrases(work: Path) -> list[np.ndarray]:
    exe = shutil.which("espeak-ng")
    if exe is None:
        sys.exit("espeak-ng is needed to synthesise the benchmark speech")
    out = []
    for i, text in enumerate(PHRASES):
        for voice, pitch in (("en+m3", 45), ("en+f2", 60)):
            wav = work / f"phrase{i}_{voice}.wav"
            subprocess.run([exe, "-v", voice, "-p", str(pitch), "-w", str(wav), text],
                           check=True)
            x, sr = sf.read(str(wav), dtype="float32")
            out.append(soxr.resample(x, sr, SR).astype(np.float32))
            wav.unlink()
    return out


def _speech_blocks(phrases: list[np.ndarray], seconds: float, seed: int):
    """Yield phrase / silence blocks (with a faint noise floor) until ``seconds``."""
    rng = np.random.default_rng(seed)
    left = int(seconds * SR)
    while left > 0:
        ph = phrases[rng.integers(len(phrases))] * np.float32(rng.uniform(0.4, 1.0))
        gap = np.zeros(int(rng.uniform(0.15, 1.5) * SR), np.float32)
        block = np.concatenate([ph, gap])[:left]
        block += rng.standard_normal(len(block)).astype(np.float32) * np.float32(3e-4)
        left -= len(block)
        yield block


def _write(path: Path, phrases: list[np.ndarray], seconds: float, seed: int) -> Path:
    with sf.SoundFile(str(path), "w", SR, 1, "PCM_16") as fh:
        for block in _speech_blocks(phrases, seconds, seed):
            fh.write(block)
    return path


# --- the two methods, each run inside a worker process --------------------------------
def _ours(src: str, out: str) -> int:
    from backend.dataset.pipeline import PrepareSettings, process_source
    res = process_source(Path(src), PrepareSettings(), TARGET_SR, Path(out) / "0_gt_wavs",
                         Path(out) / "1_16k_wavs", Path(src).stem)
    return len(res.slices)


def _librosa(src: str, out: str) -> int:
    import librosa
    y, sr = librosa.load(src, sr=None, mono=True)
    gt, k16 = Path(out) / "0_gt_wavs", Path(out) / "1_16k_wavs"
    gt.mkdir(parents=True, exist_ok=True)
    k16.mkdir(parents=True, exist_ok=True)
    count = 0
    for a, b in librosa.effects.split(y, top_db=42, frame_length=2048, hop_length=441):
        piece = y[a:b]
        name = f"{Path(src).stem}_{count:04d}.wav"
        sf.write(str(gt / name), librosa.resample(piece, orig_sr=sr, target_sr=TARGET_SR),
                 TARGET_SR, subtype="FLOAT")
        sf.write(str(k16 / name), librosa.resample(piece, orig_sr=sr, target_sr=16000), 16000,
                 subtype="FLOAT")
        count += 1
    return count


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def _warm_up(method: str, src: str, out: str) -> None:
    """Pool initializer: import and run once (numba JIT, lazy imports) before timing."""
    (_ours if method == "ours" else _librosa)(src, out)


def run_method(method: str, files: list[str], out: str, workers: int) -> dict:
    fn = _ours if method == "ours" else _librosa
    warm = Path(out) / "warm"
    warm.mkdir(parents=True, exist_ok=True)
    sf.write(str(warm / "warm.wav"), sf.read(files[0], frames=3 * SR, dtype="float32")[0], SR)
    with ProcessPoolExecutor(workers, initializer=_warm_up,
                             initargs=(method, str(warm / "warm.wav"), str(warm))) as pool:
        list(pool.map(time.sleep, [0.5] * workers))  # start (and warm) every worker
        t0 = time.perf_counter()
        clips = sum(pool.map(fn, files, [out] * len(files)))
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "clips": clips, "peak_mb": _peak_mb()}


def run_long(src: str, out: str) -> dict:
    from backend.dataset.pipeline import PrepareSettings, process_source
    base = _peak_mb()
    t0 = time.perf_counter()
    res = process_source(Path(src), PrepareSettings(output_subtype="PCM_16"), TARGET_SR,
                         Path(out) / "gt", Path(out) / "16k", "long")
    return {"seconds": time.perf_counter() - t0, "clips": len(res.slices),
            "peak_mb": _peak_mb(), "import_mb": base}


def _child(argv: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        sys.exit(f"benchmark child {argv[:2]} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _table(rows: list[tuple[str, dict]], audio_s: float) -> None:
    base = dict(rows)["librosa baseline"]["seconds"]
    print(f"{'method':<28}{'seconds':>9}{'x real time':>13}{'peak RSS MB':>13}"
          f"{'clips':>7}{'speed vs baseline':>19}")
    for name, r in rows:
        print(f"{name:<28}{r['seconds']:>9.2f}{audio_s / r['seconds']:>13.1f}"
              f"{r['peak_mb']:>13.0f}{r['clips']:>7}{base / r['seconds']:>18.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--long-minutes", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, out, *files = args.child
        res = run_long(files[0], out) if kind == "long" else \
            run_method(kind, files, out, args.workers)
        print(json.dumps(res))
        return
    with tempfile.TemporaryDirectory(prefix="timbre bench ") as tmp:
        work = Path(tmp)
        phrases = _phrases(work)
        per_file = args.minutes * 60 / args.files
        files = [str(_write(work / f"take {i:02d}.wav", phrases, per_file, i))
                 for i in range(args.files)]
        audio_s = args.minutes * 60
        print(f"{args.minutes:g} min of espeak-ng speech in {args.files} files at {SR} Hz, "
              f"{args.workers} worker processes, target {TARGET_SR} Hz + 16 kHz, "
              f"{os.cpu_count()} CPUs (shared machine: timings vary)\n")
        rows = []
        for name, kind in (("librosa baseline", "librosa"), ("ours (process_source)", "ours")):
            rows.append((name, _child(["--workers", str(args.workers), "--child", kind,
                                       str(work / kind), *files])))
            shutil.rmtree(work / kind, ignore_errors=True)
        _table(rows, audio_s)
        if args.long_minutes > 0:
            long = _write(work / "long take.wav", phrases, args.long_minutes * 60, 99)
            decoded = args.long_minutes * 60 * SR * 4 / 2**20
            r = _child(["--child", "long", str(work / "long"), str(long)])
            print(f"\n{args.long_minutes:g}-minute file through process_source (one process): "
                  f"{r['seconds']:.1f} s ({args.long_minutes * 60 / r['seconds']:.0f}x real "
                  f"time), peak RSS {r['peak_mb']:.0f} MB (after imports {r['import_mb']:.0f}"
                  f" MB; +{r['peak_mb'] - r['import_mb']:.0f} MB) vs {decoded:.0f} MB to hold "
                  f"the decoded file; {r['clips']} clips")


if __name__ == "__main__":
    main()
