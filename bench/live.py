"""Real-time conversion speed: compute per block, real-time factor, latency, quality cost.

Models: the standard and tiny v2 40 kHz synthesizers, a full-size HuBERT base and RMVPE,
all with random weights in the real file formats (speed does not depend on the values; the
quality columns compare paths that share one random model). Speech: espeak-ng phrases at
16 kHz. Windows are the engine's: ``extra`` of left context + crossfade (0.05 s or the
block) + 10 ms SOLA search + the block; algorithmic latency = block + crossfade + search
(+ the converter's look-ahead, 0 here).

Tables:
1. per block size (0.05 .. 0.5 s), model and device: median and p95 compute per block, RTF
   (compute / block), algorithmic latency, and whether it runs without xruns (p95 compute
   under 80 % of the block); then the smallest such block.
2. at 0.25 s blocks with the standard model: the straightforward baseline (HuBERT over 2.5 s
   every block, pitch over the whole window, every frame decoded through the model's own
   weight-normalised modules) and each speed-up, with its speed-up factor against the
   baseline measured in the same run and its quality cost: SNR and correlation of the
   streamed output against the whole file converted in one pass with the same model and
   settings (noise scale 0, no excitation noise), after alignment within +-10 ms; SNR and
   correlation after removing the mean (random decoders add a DC offset).

    .venv/bin/python bench/live.py [--threads 2] [--f0 rmvpe] [--blocks 0.05 0.1 ...]
                                   [--quality-s 1.5] [--no-cuda] [--onnx]

Target (issue "Conversion", 2 CPU cores): the whole pipeline at 0.25 s blocks at RTF <= 0.5
with the standard v2 model, and no less than 3x faster than the baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 16000
BLOCKS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5]
EXTRA = 1.0  # the engine's default left context
BASELINE_EXTRA = 2.5  # RVC's
SEARCH = 0.01
XRUN_SHARE = 0.8  # p95 compute must stay under this share of the block
TARGET_RTF, TARGET_X = 0.5, 3.0
PHRASES = ["Timbre Studio turns a folder of recordings into a voice model.",
           "Seven silver swans swam silently seaward at sunset.",
           "How much wood would a woodchuck chuck if a woodchuck could chuck wood?"]


def make_speech(work: Path, seconds: float) -> np.ndarray:
    import soundfile as sf
    import soxr

    parts = []
    for i, text in enumerate(PHRASES):
        path = work / f"phrase {i}.wav"
        subprocess.run(["espeak-ng", "-v", "en+m3" if i % 2 else "en+f2", "-p", "50", "-w",
                        str(path), text], check=True)
        audio, rate = sf.read(path, dtype="float32")
        parts += [soxr.resample(audio, rate, SR).astype(np.float32), np.zeros(SR // 5, np.float32)]
    speech = np.concatenate(parts)
    reps = int(np.ceil(seconds * SR / speech.size))
    return (0.5 * np.tile(speech, reps)[: int(seconds * SR)]).astype(np.float32)


# ------------------------------------------------------------------------------- models
def load_models(work: Path, device: str, rmvpe: Path, encoder_path: Path):
    import torch

    from backend.convert.voice_model import VoiceModel
    from backend.features.f0 import F0Extractor
    from backend.features.hubert import load_encoder
    from backend.models.synthesizer import build_generator

    models = {}
    for size in ("tiny", "standard"):
        torch.manual_seed(0)
        net = build_generator("v2", 40000, True, size=size).eval().to(device)
        models[size] = VoiceModel(name=f"{size} v2 40k", path=None, version="v2",
                                  sample_rate=40000, f0=True, speakers=net.cfg.spk_embed_dim,
                                  net=net, stored_dtype="fp32")
    return models, load_encoder(encoder_path, device=device), \
        F0Extractor(device=device, rmvpe_path=rmvpe)


# ---------------------------------------------------------------------------- streaming
class Stream:
    """Feeds ``audio`` through a converter block by block, the way the engine does."""

    def __init__(self, block: float, extra: float, rate: int) -> None:
        self.b16 = int(round(block * SR))
        self.cross = min(0.05, block)
        self.window = int(round((extra + self.cross + SEARCH) * SR)) + self.b16
        self.block_out = int(round(block * rate))
        self.n_out = self.block_out + int(round((self.cross + SEARCH) * rate))

    @property
    def latency(self) -> float:
        return self.b16 / SR + self.cross + SEARCH

    def run(self, conv, audio: np.ndarray, settings, blocks: int | None = None):
        """(compute seconds per block, streamed output: each block's first block_out samples,
        which start ``n_out - block_out`` samples before the window's end)."""
        win = np.zeros(self.window, np.float32)
        conv.reset()
        times, outs = [], []
        n = audio.size // self.b16 if blocks is None else blocks
        for i in range(n):
            j = (i * self.b16) % max(1, audio.size - self.b16)
            win[:-self.b16] = win[self.b16:]
            win[-self.b16:] = audio[j:j + self.b16]
            t0 = time.perf_counter()
            out = conv.convert(win, self.b16, self.n_out, settings)
            times.append(time.perf_counter() - t0)
            assert out.size == self.n_out
            outs.append(out[: self.block_out])
        return np.array(times), np.concatenate(outs)


def quality(stream_out: np.ndarray, whole: np.ndarray, lag: int,
            search: int) -> tuple[float, float]:
    """(SNR dB, correlation) of the stream against the one-pass output, best lag +-search."""
    best = (-np.inf, 0.0)
    skip = 2 * search
    for d in range(-search, search + 1, max(1, search // 40)):
        a = stream_out[lag + d + skip:]
        b = whole[skip: skip + a.size]
        a = a[: b.size]
        if a.size < 100:
            continue
        a, b = a - a.mean(), b - b.mean()  # random decoders add a DC offset
        err = np.sum((a - b) ** 2)
        snr = 10 * np.log10(np.sum(b * b) / max(err, 1e-20))
        corr = float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b) + 1e-20))
        best = max(best, (snr, corr))
    return best


# ---------------------------------------------------------------------------- the tables
def speed_rows(models, encoder, f0, settings, blocks, device, calls: int) -> list[dict]:
    from backend.live.converter import VoiceConverter

    rows = []
    speech = make_speech_cached()
    for size, model in models.items():
        conv = VoiceConverter(model, encoder, f0)
        for block in blocks:
            stream = Stream(block, EXTRA, model.sample_rate)
            times, _ = stream.run(conv, speech, settings, blocks=calls + 2)
            times = times[2:]
            rows.append({"model": size, "device": device, "block": block,
                         "median": float(np.median(times)), "p95": float(np.percentile(times, 95)),
                         "latency": stream.latency})
            print(f"  {device} {size} {block:g} s: {rows[-1]['median'] * 1000:.0f} ms",
                  flush=True)
    return rows


QUICK = ("baseline (RVC-style)", "+ decode new frames only", "+ pitch 0.3 s (default)",
         "  HuBERT 0.5 s", "  onnx decoder", "  onnx int8 decoder")


def speedup_variants(onnx: bool, quick: bool = False):
    from backend.live.converter import LiveOptions

    base, default = LiveOptions.baseline(), LiveOptions()
    rows = [
        ("baseline (RVC-style)", base, BASELINE_EXTRA),
        ("+ decode new frames only", dataclasses.replace(base, decoder_context=8,
                                                          flow_context=16, carry_phase=True),
         BASELINE_EXTRA),
        ("+ weight norm folded", dataclasses.replace(base, decoder_context=8, flow_context=16,
                                                     carry_phase=True, decoder="torch"),
         BASELINE_EXTRA),
        ("+ HuBERT 1 s, cached ctx", dataclasses.replace(default, pitch_s=1e9, cache=True),
         EXTRA),
        ("+ pitch 0.3 s (default)", default, EXTRA),
        ("  HuBERT 0.5 s", dataclasses.replace(default, encoder_s=0.5), EXTRA),
        ("  decoder ctx 4 frames", dataclasses.replace(default, decoder_context=4), EXTRA),
        ("  decoder ctx 16 frames", dataclasses.replace(default, decoder_context=16), EXTRA),
        ("  no cache (HuBERT 1 s)", dataclasses.replace(default, cache=False), EXTRA),
        ("  sine phase not carried", dataclasses.replace(default, carry_phase=False), EXTRA),
    ]
    if onnx:
        rows += [("  onnx decoder", dataclasses.replace(default, decoder="onnx"), EXTRA),
                 ("  onnx int8 decoder", dataclasses.replace(default, decoder="onnx-int8"),
                  EXTRA)]
    return [r for r in rows if r[0] in QUICK] if quick else rows


def speedup_rows(model, encoder, f0, settings, clip: np.ndarray, onnx: bool,
                 quick: bool = False) -> list[dict]:
    from backend.live.converter import LiveOptions, VoiceConverter, convert_whole

    rows, refs = [], {}
    block = 0.25
    model.net.dec.m_source.noise_std = 0.0  # with noise scale 0: deterministic (voiced parts)
    reference = VoiceConverter(model, encoder, f0,
                               options=dataclasses.replace(LiveOptions.baseline(),
                                                           noise_scale=0.0))
    for label, options, extra in speedup_variants(onnx, quick):
        options = dataclasses.replace(options, noise_scale=0.0)
        try:
            conv = VoiceConverter(model, encoder, f0, options=options)
        except Exception as exc:  # an optional runner that is not installed
            rows.append({"label": label, "error": str(exc).splitlines()[0]})
            continue
        stream = Stream(block, extra, model.sample_rate)
        lead = stream.window - stream.b16  # the zeros the first window holds
        if lead not in refs:  # the offline output: one pass, the model's own modules
            whole = convert_whole(reference, np.concatenate([np.zeros(lead, np.float32),
                                                             clip]), settings)
            refs[lead] = whole[lead * model.sample_rate // SR:]
        times, out = stream.run(conv, clip, settings)
        lag = stream.n_out - stream.block_out
        snr, corr = quality(out, refs[lead], lag, int(0.01 * model.sample_rate))
        times = times[1:]
        rows.append({"label": label, "median": float(np.median(times)), "snr": snr,
                     "corr": corr, "block": block})
        print(f"  {label}: {rows[-1]['median'] * 1000:.0f} ms, {snr:.1f} dB", flush=True)
    return rows


_SPEECH: dict[str, np.ndarray] = {}


def make_speech_cached() -> np.ndarray:
    return _SPEECH["speech"]


def print_speed(rows: list[dict]) -> None:
    print("\n1. Block sizes (median/p95 compute per block; xruns-free: p95 < "
          f"{XRUN_SHARE:.0%} of the block)")
    head = f"{'model':<10}{'device':<7}{'block s':>8}{'median ms':>11}{'p95 ms':>9}" \
           f"{'RTF':>7}{'latency ms':>12}  no xruns"
    print(head + "\n" + "-" * (len(head) + 2))
    for r in rows:
        ok = r["p95"] < XRUN_SHARE * r["block"]
        print(f"{r['model']:<10}{r['device']:<7}{r['block']:>8g}{r['median'] * 1e3:>11.0f}"
              f"{r['p95'] * 1e3:>9.0f}{r['median'] / r['block']:>7.2f}"
              f"{r['latency'] * 1e3:>12.0f}  {'yes' if ok else 'no'}")
    for key in sorted({(r["model"], r["device"]) for r in rows}):
        fine = [r["block"] for r in rows if (r["model"], r["device"]) == key
                and r["p95"] < XRUN_SHARE * r["block"]]
        smallest = f"{min(fine):g} s" if fine else "none of the measured"
        print(f"smallest block without xruns, {key[0]} on {key[1]}: {smallest}")


def print_speedups(rows: list[dict], model: str) -> None:
    print(f"\n2. Speed-ups, {model} v2 40k, 0.25 s blocks (x base: baseline compute / this; "
          "quality: stream vs one-pass conversion of the same clip)")
    head = f"{'path':<28}{'ms/block':>9}{'RTF':>7}{'x base':>8}{'SNR dB':>8}{'corr':>7}"
    print(head + "\n" + "-" * len(head))
    base = next((r["median"] for r in rows if "median" in r), None)
    for r in rows:
        if "error" in r:
            print(f"{r['label']:<28}  not run: {r['error']}")
            continue
        print(f"{r['label']:<28}{r['median'] * 1e3:>9.0f}{r['median'] / r['block']:>7.2f}"
              f"{base / r['median']:>8.1f}{r['snr']:>8.1f}{r['corr']:>7.3f}")
    default = next((r for r in rows if r.get("label", "").endswith("(default)")), None)
    if default and base:
        rtf, x = default["median"] / default["block"], base / default["median"]
        print(f"target: RTF <= {TARGET_RTF} and >= {TARGET_X:g}x the baseline; default path: "
              f"RTF {rtf:.2f} ({'met' if rtf <= TARGET_RTF else 'NOT met'}), {x:.1f}x "
              f"({'met' if x >= TARGET_X else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--f0", default="rmvpe", help="pitch method")
    parser.add_argument("--blocks", type=float, nargs="*", default=BLOCKS)
    parser.add_argument("--calls", type=int, default=4, help="timed blocks per row")
    parser.add_argument("--quality-s", type=float, default=1.5, help="clip for table 2")
    parser.add_argument("--no-cuda", action="store_true")
    parser.add_argument("--onnx", action="store_true", help="also the ONNX Runtime decoders")
    parser.add_argument("--skip-speedups", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="table 2: only the baseline, the default and its main variants")
    parser.add_argument("--speedup-model", default="standard", choices=["standard", "tiny"])
    ns = parser.parse_args()

    import torch

    from backend.convert.settings import ConvertSettings
    from tests.features.tiny_models import save_random_hubert_base, save_tiny_rmvpe

    torch.set_num_threads(ns.threads)
    settings = ConvertSettings(f0_method=ns.f0, index_rate=0.0, rms_mix=1.0)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"{ns.threads} torch threads; pitch {ns.f0}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench live ") as tmp:
        work = Path(tmp)
        _SPEECH["speech"] = make_speech(work, 10.0)
        encoder = save_random_hubert_base(work / "hubert_base.pt")
        rmvpe = save_tiny_rmvpe(work / "rmvpe.pt")
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not ns.no_cuda else [])
        speed, ups = [], []
        for device in devices:
            models, enc, f0 = load_models(work, device, rmvpe, encoder)
            speed += speed_rows(models, enc, f0, settings, ns.blocks, device, ns.calls)
            if device == "cpu" and not ns.skip_speedups:
                clip = _SPEECH["speech"][: int(ns.quality_s * SR)]
                ups = speedup_rows(models[ns.speedup_model], enc, f0, settings, clip, ns.onnx,
                                   ns.quick)
        print_speed(speed)
        if ups:
            print_speedups(ups, ns.speedup_model)
    print(f"load average after: {os.getloadavg()[0]:.2f} (other work on the machine slows "
          "every row alike)")


if __name__ == "__main__":
    main()
