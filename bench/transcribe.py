"""Transcription speed and memory: every engine and model available on this machine.

Speech: festival (cmu_us_slt_arctic_hts) sentences, one clip each (``--clips``, about 2-3 s
per clip), at 16 kHz, transcribed one clip at a time with word timestamps, as the transcribe
job does. Rows, each in a fresh process (its peak RSS is its own), model loaded and warmed up
first (load time shown apart):

- ``pocketsphinx``: the no-download engine; the baseline of the ``vs sphinx`` column (its
  time over the row's, measured in the same run).
- ``faster-whisper tiny-random``: the tests' tiny random-weight model (d_model 64, 2 layers,
  the real 51865-token vocabulary; built here, offline). Random weights emit tokens up to the
  per-clip cap, so its speed is that of the decoding loop at the longest, not of a real model.
- ``faster-whisper <size>``: each catalogue model installed in the data folder
  (``python -m backend assets download whisper-small``), on the CPU (int8) and, when CUDA is
  there, on the GPU (float16).

WER (jiwer, lower-cased, punctuation removed) is shown for every row; for the random model it
only shows that its text is noise.

    .venv/bin/python bench/transcribe.py [--clips 12] [--threads 2] [--no-cuda]
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
MEMORY_LIMIT = 16 * 2**30  # a runaway row fails instead of taking the machine down
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call me when you get home tonight.",
    "We will meet at the station in the morning.",
    "The weather is very cold and wet today.",
    "I would like a cup of tea with milk.",
    "Open the door and let the cat out.",
    "My brother works in a small shop in the city.",
    "They walked along the river until it got dark.",
    "Could you tell me the way to the library?",
    "The children played in the garden all afternoon.",
    "He bought a new car and drove it to work.",
    "Our train leaves at half past seven.",
]


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_row(ns: argparse.Namespace) -> None:
    import soundfile as sf

    from backend.transcribe.engine import open_engine

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    clips = [sf.read(p, dtype="float32")[0] for p in sorted(Path(ns.audio).glob("*.wav"))]
    engine_name, model = ns.row.split("|")
    t0 = time.perf_counter()
    engine = open_engine(engine_name, model=model or None, device=ns.device,
                         language="en" if engine_name == "faster-whisper" else None)
    load_s = time.perf_counter() - t0
    engine.transcribe(clips[0], word_timestamps=True)  # warm up
    t0 = time.perf_counter()
    texts = [engine.transcribe(c, word_timestamps=True).text for c in clips]
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "load_s": load_s, "texts": texts,
                      "audio_s": sum(c.size for c in clips) / SR, "peak_mb": _peak_mb(),
                      "model_id": engine.model_id}))


def _spawn_row(row: str, device: str, audio: Path, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--row", row, "--device", device, "--audio", str(audio)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _make_clips(work: Path, n: int) -> Path:
    import soundfile as sf
    import soxr

    folder = work / "clips 语音"
    folder.mkdir()
    for i, text in enumerate((SENTENCES * (n // len(SENTENCES) + 1))[:n]):
        raw = work / f"raw {i}.wav"
        subprocess.run(["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(raw)],
                       input=text.encode(), check=True)
        audio, rate = sf.read(raw, dtype="float32")
        sf.write(folder / f"{i:03d}.wav", soxr.resample(audio, rate, SR), SR, subtype="FLOAT")
    return folder


def _plan(work: Path, cuda: bool) -> list[tuple[str, str, str]]:
    from backend.transcribe.models import model_rows
    from tests.transcribe.tiny_whisper import build_tiny_whisper

    tiny = build_tiny_whisper(work / "tiny random whisper")
    plan = [("pocketsphinx", "cpu", "pocketsphinx|"),
            ("faster-whisper tiny-random", "cpu", f"faster-whisper|{tiny}")]
    installed = [m["name"] for m in model_rows() if m["installed"]]
    for device in ["cpu"] + (["cuda"] if cuda else []):
        plan += [(f"faster-whisper {m}", device, f"faster-whisper|{m}") for m in installed]
    if cuda:
        plan.append(("faster-whisper tiny-random", "cuda", f"faster-whisper|{tiny}"))
    return plan


def _wer(texts: list[str], n: int) -> float:
    import jiwer

    norm = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(),
                          jiwer.RemoveMultipleSpaces(), jiwer.Strip()])
    refs = [norm(s) for s in (SENTENCES * (n // len(SENTENCES) + 1))[:n]]
    return float(jiwer.wer(refs, [norm(t) or "<empty>" for t in texts]))


def _print_table(rows: list[tuple[str, str, dict]], n: int) -> None:
    print("\nx RT = audio seconds per transcription second (load excluded); vs sphinx = the "
          "pocketsphinx row's time over this row's, same clips, same run")
    head = (f"{'row':<34}{'device':<7}{'model id':<36}{'load s':>7}{'audio s':>8}"
            f"{'timed s':>8}{'x RT':>7}{'vs sphinx':>10}{'WER':>6}{'peak MB':>9}")
    print(head)
    print("-" * len(head))
    base = next((r for label, _d, r in rows if label == "pocketsphinx" and "seconds" in r), None)
    for label, device, r in rows:
        if "error" in r:
            print(f"{label:<34}{device:<7}failed: {r['error']}")
            continue
        rel = f"{base['seconds'] / r['seconds']:.2f}" if base else "-"
        print(f"{label:<34}{device:<7}{r['model_id']:<36.35}{r['load_s']:>7.1f}"
              f"{r['audio_s']:>8.1f}{r['seconds']:>8.1f}{r['audio_s'] / r['seconds']:>7.2f}"
              f"{rel:>10}{_wer(r['texts'], n):>6.2f}{r['peak_mb']:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per row")
    parser.add_argument("--no-cuda", action="store_true", help="CPU rows only")
    parser.add_argument("--row", help=argparse.SUPPRESS)  # internal: one measurement
    parser.add_argument("--audio", help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.row:
        run_row(ns)
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    import ctranslate2

    cuda = ctranslate2.get_cuda_device_count() > 0 and not ns.no_cuda
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench transcribe ") as tmp:
        work = Path(tmp)
        audio = _make_clips(work, ns.clips)
        rows: list[tuple[str, str, dict]] = []
        for label, device, row in _plan(work, cuda):
            rows.append((label, device, _spawn_row(row, device, audio, ns.threads)))
            result = {k: v for k, v in rows[-1][2].items() if k != "texts"}
            print(f"  {device} {label}: {result}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    _print_table(rows, ns.clips)


if __name__ == "__main__":
    main()
