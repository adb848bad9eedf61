"""Feature extraction speed and memory: pitch methods, the content encoder, the whole job.

Speech: espeak-ng phrases (several voices and pitches) at 16 kHz, concatenated with short
pauses to ``--minutes``. Models: random weights at full size in the real file formats
(speed and memory do not depend on the weight values). Every row runs in a fresh process, so
its peak RSS is its own; speed is a multiple of real time, and ``vs harvest`` compares with the
harvest row measured in the same run. crepe (full) is timed on a 20 s excerpt and scaled.

    .venv/bin/python bench/extract.py [--minutes 10] [--threads 2] [--methods ...]
                                      [--skip-job] [--no-cuda]

Targets (issue "Features: pitch and content extraction", 2 CPU cores): content encoder fp32
>= 10x real time, RMVPE >= 20x, whole extraction job (harvest + encoder) >= 4x, a 10-minute
file processed within 2 GB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 16000
METHODS = ["harvest", "dio", "pm", "crepe-tiny", "crepe", "rmvpe"]
EXCERPT_S = {"crepe": 20.0, "crepe-tiny": 120.0}  # slow on CPU: time a part, scale
TARGETS = {"rmvpe": 20.0, "encoder fp32": 10.0, "encoder fp32 3.7s clips": 10.0, "job": 4.0}
MEMORY_TARGET_MB = 2048.0
PHRASES = [
    "Timbre Studio turns a folder of recordings into a voice model.",
    "The quick brown fox jumps over the lazy dog, and then it rests in the sun.",
    "Please keep the recordings dry, close and free of background music.",
    "Seven silver swans swam silently seaward at sunset.",
    "A voice model learns from many short clips of clean speech.",
    "How much wood would a woodchuck chuck if a woodchuck could chuck wood?",
]


# ------------------------------------------------------------------------------ audio
def make_speech(work: Path, minutes: float, seed: int = 0) -> np.ndarray:
    import soundfile as sf
    import soxr

    rng = np.random.default_rng(seed)
    units = []
    for i, text in enumerate(PHRASES):
        for voice, pitch in (("en+m3", 35 + 5 * i), ("en+f2", 55 + 5 * i)):
            path = work / f"phrase {i} {voice}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(path), text],
                           check=True)
            audio, rate = sf.read(path, dtype="float32")
            units.append(soxr.resample(audio, rate, SR).astype(np.float32))
    total, parts, n = int(minutes * 60 * SR), [], 0
    while n < total:
        unit = units[rng.integers(len(units))]
        pause = np.zeros(int(rng.uniform(0.15, 0.6) * SR), np.float32)
        parts += [unit, pause]
        n += unit.size + pause.size
    return np.concatenate(parts)[:total]


# ------------------------------------------------------------------- one row per process
def _peak_mb() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss would carry the parent's peak over exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _row_f0(method: str, audio: np.ndarray, device: str, rmvpe: str) -> tuple[float, float]:
    from backend.features.f0 import F0Extractor

    ex = F0Extractor(device=device, rmvpe_path=rmvpe)
    ex.extract(audio[: 2 * SR], method)  # load the model, warm up
    part = audio[: int(EXCERPT_S.get(method, 1e9) * SR)] if device == "cpu" else audio
    t0 = time.perf_counter()
    ex.extract(part, method)
    return time.perf_counter() - t0, part.size / SR


def _row_encoder(kind: str, audio: np.ndarray, device: str, encoder: str) -> tuple[float, float]:
    import torch

    from backend.features.hubert import load_encoder

    enc = load_encoder(encoder, device=device)  # fp32 on CPU, fp16 on CUDA
    autocast = kind == "bf16" and device == "cpu"
    # "clips": the 3.7 s pieces prepare makes by default, which is what extraction feeds it
    step = int(3.7 * SR)
    pieces = [audio[i:i + step] for i in range(0, audio.size, step)] if kind.endswith(
        "clips") else [audio]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        enc.encode(audio[: 2 * SR])
        if device != "cpu":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for piece in pieces:
            enc.encode(piece)
        if device != "cpu":
            torch.cuda.synchronize()
    return time.perf_counter() - t0, audio.size / SR


def run_row(ns: argparse.Namespace) -> None:
    import soundfile as sf
    import torch

    torch.set_num_threads(ns.threads)
    audio, _ = sf.read(ns.audio, dtype="float32")
    kind, name = ns.row.split(":", 1)
    if kind == "f0":
        secs, audio_s = _row_f0(name, audio, ns.device, ns.rmvpe)
    else:
        secs, audio_s = _row_encoder(name, audio, ns.device, ns.encoder)
    print(json.dumps({"seconds": secs, "audio_s": audio_s, "peak_mb": _peak_mb()}))


def _spawn_row(row: str, device: str, files: dict[str, Path], threads: int) -> dict:
    cmd = [sys.executable, __file__, "--row", row, "--device", device, "--threads",
           str(threads), "--audio", str(files["audio"]), "--rmvpe", str(files["rmvpe"]),
           "--encoder", str(files["encoder"])]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------- the whole job
def _tree_rss_mb(proc: object) -> tuple[float, float]:
    """(RSS summed over the process tree, largest single RSS) in MB."""
    import psutil

    sizes = [0]
    try:
        procs = [proc, *proc.children(recursive=True)]  # type: ignore[attr-defined]
    except psutil.Error:
        return 0.0, 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):  # a worker may just have ended
            sizes.append(p.memory_info().rss)
    return sum(sizes) / 2**20, max(sizes) / 2**20


def run_job(work: Path, audio: np.ndarray, encoder: Path, device: str, workers: int) -> dict:
    """Prepare a project from the speech (one-minute source files), then time ``extract``."""
    import psutil
    import soundfile as sf

    project = work / f"bench project {device}"
    if not project.exists():
        src = work / "sources"
        src.mkdir(exist_ok=True)
        for i in range(0, audio.size, 60 * SR):
            sf.write(src / f"take {i // (60 * SR):03d}.wav", audio[i:i + 60 * SR], SR)
        subprocess.run([sys.executable, "-m", "backend", "prepare", str(src), "--project",
                        str(project), "--json"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cmd = [sys.executable, "-m", "backend", "extract", "--project", str(project), "--f0",
           "harvest", "--encoder", str(encoder), "--device", device, "--workers",
           str(workers), "--json"]
    t0 = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    peak = one = 0.0
    while proc.poll() is None:
        tree, largest = _tree_rss_mb(proc)
        peak, one = max(peak, tree), max(one, largest)
        time.sleep(0.1)
    secs = time.perf_counter() - t0
    out = json.loads(proc.stdout.read().decode().strip().splitlines()[-1])
    if out.get("status") != "ok":
        return {"error": json.dumps(out.get("error"))}
    res = out["result"]
    return {"seconds": secs, "audio_s": res["audio_seconds"], "peak_mb": peak,
            "largest_process_mb": one, "clips": res["processed"], "errors": len(res["errors"])}


# -------------------------------------------------------------------------------- table
def _print_table(rows: list[tuple[str, str, dict]], minutes: float) -> None:
    base = next((r for label, _, r in rows if label == "harvest" and "seconds" in r), None)
    base_x = base["audio_s"] / base["seconds"] if base else None
    print(f"\n{minutes:g} min of speech; x RT = audio seconds per compute second; vs harvest "
          "= speed ratio against the harvest row of this run")
    head = f"{'row':<22}{'device':<7}{'timed s':>9}{'x RT':>9}{'vs harvest':>11}"
    print(head + f"{'peak MB':>10}  target")
    print("-" * (len(head) + 30))
    for label, device, r in rows:
        if "error" in r:
            print(f"{label:<24}{device:<7}  failed: {r['error']}")
            continue
        x = r["audio_s"] / r["seconds"]
        rel = f"{x / base_x:.2f}" if base_x else "-"
        target = TARGETS.get(label)
        verdict = ""
        if target and device == "cpu":
            verdict = f">= {target:g}x {'met' if x >= target else 'MISSED'}"
        if label in TARGETS and device == "cpu":
            ok = r["peak_mb"] <= MEMORY_TARGET_MB
            verdict += f"; <= 2 GB {'met' if ok else 'MISSED'}"
        note = f" (on {r['audio_s']:.0f} s)" if r["audio_s"] < minutes * 60 - 1 else ""
        print(f"{label:<24}{device:<7}{r['seconds']:>9.1f}{x:>9.1f}{rel:>11}"
              f"{r['peak_mb']:>10.0f}  {verdict}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads per row")
    parser.add_argument("--methods", nargs="*", default=METHODS, choices=METHODS)
    parser.add_argument("--skip-job", action="store_true", help="leave out the whole job")
    parser.add_argument("--no-cuda", action="store_true", help="CPU rows only")
    parser.add_argument("--row", help=argparse.SUPPRESS)  # internal: one measurement
    for hidden in ("--audio", "--rmvpe", "--encoder"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.row:
        run_row(ns)
        return
    import torch

    from tests.features.tiny_models import save_random_hubert_base, save_tiny_rmvpe

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not ns.no_cuda else [])
    methods = ["harvest"] + [m for m in ns.methods if m != "harvest"]
    with tempfile.TemporaryDirectory(prefix="bench extract ") as tmp:
        work = Path(tmp)
        import soundfile as sf

        audio = make_speech(work, ns.minutes)
        files = {"audio": work / "speech 16k.wav", "rmvpe": work / "rmvpe" / "rmvpe.pt",
                 "encoder": work / "hubert" / "hubert_base.pt"}
        sf.write(files["audio"], audio, SR, subtype="FLOAT")
        save_tiny_rmvpe(files["rmvpe"])  # full-size architecture, random weights
        save_random_hubert_base(files["encoder"])
        rows: list[tuple[str, str, dict]] = []
        for device in devices:
            for m in methods:
                if device == "cuda" and m in ("harvest", "dio", "pm"):
                    continue
                rows.append((m, device, _spawn_row(f"f0:{m}", device, files, ns.threads)))
                print(f"  {device} {m}: {rows[-1][2]}", flush=True)
            for kind in ("fp32", "fp32-clips", "bf16") if device == "cpu" else ("fp16",):
                label = {"fp32-clips": "encoder fp32 3.7s clips",
                         "bf16": "encoder bf16 autocast"}.get(kind, f"encoder {kind}")
                rows.append((label, device, _spawn_row(f"enc:{kind}", device, files,
                                                       ns.threads)))
                print(f"  {device} {label}: {rows[-1][2]}", flush=True)
            if not ns.skip_job:
                workers = 2 if device == "cpu" else 1
                rows.append(("job", device, run_job(work, audio, files["encoder"], device,
                                                    workers)))
                print(f"  {device} job: {rows[-1][2]}", flush=True)
        _print_table(rows, ns.minutes)
        print(f"load average after: {os.getloadavg()[0]:.2f} (other work on the machine "
              "slows every row; ratios against harvest are fairer than absolute speeds)")
        print(f"\ncpu: {os.cpu_count()} cores visible, {ns.threads} torch threads per row; "
              "job: harvest + encoder fp32, 2 worker processes (1 on CUDA); peak MB of the job "
              "= RSS summed over its process tree.")


if __name__ == "__main__":
    main()
