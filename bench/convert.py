"""Offline conversion speed and memory: the conversion pipeline against the straightforward path.

Speech: espeak-ng phrases concatenated to ``--minutes`` (bench/extract.py's make_speech).
Models: random weights at full size in the real file formats (speed and memory do not depend
on the weight values): the standard RVC v2 40 kHz model with pitch, HuBERT base, RMVPE and a
faiss index of 20k vectors. Every row runs in a fresh process (its peak RSS is its own) and
times ``Converter.convert`` only (models loaded and warmed up first).

Rows:

- ``pipeline``: what ``python -m backend convert`` runs: cuts at the quietest points near
  every 38 s, each piece with 1 s of context, the leading context encoded but not decoded.
- ``straightforward``: the whole input in one pass through every step, every frame decoded.
  Its content encoder attention is quadratic in the input length (T x T tensors, about 15 GB
  at 3 minutes), so it runs on an excerpt of ``--excerpt`` seconds, beside the pipeline on
  the same excerpt; the ratio column compares the two on that excerpt.

    .venv/bin/python bench/convert.py [--minutes 3] [--excerpt 60] [--threads 2] [--no-cuda]

Target (issue "Conversion", 2 CPU cores): 1.5x real time or better on a 3-minute file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 16000
TARGET_X = 1.5
MEMORY_LIMIT = 10 * 2**30  # a runaway row fails instead of taking the machine down


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_row(ns: argparse.Namespace) -> None:
    import soundfile as sf
    import torch

    from backend.convert import chunking
    from backend.convert.pipeline import Converter
    from backend.convert.settings import ConvertSettings
    from backend.convert.steps import Retrieval
    from backend.convert.voice_model import load_voice_model
    from backend.features.f0 import F0Extractor
    from backend.features.hubert import load_encoder

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    torch.set_num_threads(ns.threads)
    kind, seconds = ns.row.split(":")
    audio, sr = sf.read(ns.audio, dtype="float32")
    audio = audio[: int(float(seconds) * sr)]
    model = load_voice_model(ns.model, device=ns.device)
    straight = kind == "straightforward"
    conv = Converter(model, encoder=load_encoder(ns.encoder, ns.device),
                     f0=F0Extractor(device=ns.device, rmvpe_path=ns.rmvpe),
                     retrieval=Retrieval.open(ns.index, dim=model.content_dim),
                     device=ns.device, times=chunking.WHOLE if straight else chunking.FP32,
                     skip_context=not straight)
    settings = ConvertSettings()  # RVC's defaults: rmvpe, index 0.75, protect 0.33, mix 0.25
    conv.convert(audio[: 2 * sr], sr, settings)  # warm up
    t0 = time.perf_counter()
    conv.convert(audio, sr, settings)
    if ns.device != "cpu":
        torch.cuda.synchronize()
    print(json.dumps({"seconds": time.perf_counter() - t0, "audio_s": audio.size / sr,
                      "peak_mb": _peak_mb()}))


def _spawn_row(row: str, device: str, files: dict[str, Path], threads: int) -> dict:
    cmd = [sys.executable, __file__, "--row", row, "--device", device, "--threads",
           str(threads), *[a for k, v in files.items() for a in (f"--{k}", str(v))]]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        return {"error": f"{last} (after {time.perf_counter() - t0:.0f} s)"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _make_files(work: Path, minutes: float) -> dict[str, Path]:
    import soundfile as sf

    from bench.extract import make_speech
    from tests.convert.rvc_files import write_index, write_rvc_model
    from tests.features.tiny_models import save_random_hubert_base, save_tiny_rmvpe

    files = {"audio": work / "speech 16k.wav", "model": work / "weights" / "bench voice.pth",
             "encoder": work / "hubert" / "hubert_base.pt", "rmvpe": work / "rmvpe" / "rmvpe.pt"}
    sf.write(files["audio"], make_speech(work, minutes), SR, subtype="FLOAT")
    write_rvc_model(files["model"], "v2", "40k", True, size="standard")
    save_random_hubert_base(files["encoder"])
    save_tiny_rmvpe(files["rmvpe"])  # full-size architecture, random weights
    files["index"] = write_index(work / "logs", "bench voice", "v2", vectors=20000)
    return files


def _print_table(rows: list[tuple[str, str, dict]]) -> None:
    print("\nx RT = audio seconds per compute second; vs straightforward = speed ratio against "
          "the straightforward row of the same length and device in this run")
    head = f"{'row':<28}{'device':<7}{'audio s':>8}{'timed s':>9}{'x RT':>7}"
    print(head + f"{'vs straight':>12}{'peak MB':>9}  target")
    print("-" * (len(head) + 40))
    base = {(d, r["audio_s"]): r for label, d, r in rows
            if label.startswith("straightforward") and "seconds" in r}
    for label, device, r in rows:
        if "error" in r:
            print(f"{label:<28}{device:<7}  failed: {r['error']}")
            continue
        x = r["audio_s"] / r["seconds"]
        ref = base.get((device, r["audio_s"]))
        rel = f"{(ref['seconds'] / r['seconds']):.2f}" if ref else "-"
        target = ""
        if label.startswith("pipeline") and device == "cpu" and r["audio_s"] >= 170:
            target = f">= {TARGET_X:g}x {'met' if x >= TARGET_X else 'MISSED'}"
        print(f"{label:<28}{device:<7}{r['audio_s']:>8.0f}{r['seconds']:>9.1f}{x:>7.2f}"
              f"{rel:>12}{r['peak_mb']:>9.0f}  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--excerpt", type=float, default=60.0,
                        help="seconds for the straightforward comparison")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per row")
    parser.add_argument("--no-cuda", action="store_true", help="CPU rows only")
    parser.add_argument("--row", help=argparse.SUPPRESS)  # internal: one measurement
    for hidden in ("--audio", "--model", "--encoder", "--rmvpe", "--index"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.row:
        run_row(ns)
        return
    import torch

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not ns.no_cuda else [])
    with tempfile.TemporaryDirectory(prefix="bench convert ") as tmp:
        files = _make_files(Path(tmp), ns.minutes)
        rows: list[tuple[str, str, dict]] = []
        plan = [(f"pipeline {ns.minutes:g} min", f"pipeline:{ns.minutes * 60}"),
                (f"pipeline {ns.excerpt:g} s", f"pipeline:{ns.excerpt}"),
                (f"straightforward {ns.excerpt:g} s", f"straightforward:{ns.excerpt}")]
        for device in devices:
            for label, row in plan:
                rows.append((label, device, _spawn_row(row, device, files, ns.threads)))
                print(f"  {device} {label}: {rows[-1][2]}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    _print_table(rows)


if __name__ == "__main__":
    main()
