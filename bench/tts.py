"""Text-to-speech (VITS) speed: training steps and speaking.

Usage: .venv/bin/python bench/tts.py [--threads 2] [--steps 3] [--skip-standard]
       [--cuda-steps 10] [--speak-only | --train-only]

A labelled speech project is made once (festival, 12 sentences, one clip each, prepared by
the real prepare job, tests/train/vits_project.py); every row then runs in its own
subprocess (clean peak memory and thread settings).

Rows:
- Training, CPU (``--threads`` threads) and CUDA when available: tiny and standard size at
  batch 1 and 8, the median of ``--steps`` steps after one warm-up, each step being
  ``Engine.train_batch`` (collate, generator forward with monotonic alignment search,
  discriminator update, generator update) as a training run does it. "MAS %" is the share
  of the step spent in ``alignment.maximum_path`` (its ``timing()`` counters). Baseline in
  the same run, at batch 1 of each size: a plain loop over the same modules and data as the
  reference implementation does it (the discriminator scores real and fake in two passes
  with autograd, the generator step also computes the discriminator's weight gradients);
  "ratio" is our step time over it.
- Speaking, CPU with 2 threads: the standard model (random weights; published ljs_base
  layout, stochastic duration predictor) speaks three sentences one by one through
  ``VitsGenerator.infer``; its length scale is set so that the speech lasts what a person
  takes for them (about 14 characters a second), since a random duration predictor's
  lengths mean nothing. "x real time" is seconds of speech per second of computing, by the
  clock and by the CPU time the process used (divided by its 2 threads: what 2 cores of
  its own would give on a machine shared with other work); the target is above 1 on 2
  cores. "dec GF/s" is the decoder's GFLOP per second of speech. The tiny model is timed
  the same way for comparison. Baseline in the same run: the machine's float32 matrix
  product speed at 2 threads, which says how loaded the machine is.
The machine is usually shared: the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from backend.models import losses  # noqa: E402
from backend.models.vits import alignment  # noqa: E402
from backend.train.engine import Engine, EngineConfig  # noqa: E402
from backend.train.vits_task import VitsTask  # noqa: E402
from bench.engine_rows import batches, report, run_child, sync  # noqa: E402
from tests.train.vits_project import make_labelled_project, vits_config  # noqa: E402

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
]
SPOKEN = [
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.",
    "The rainbow is a division of white light into many beautiful colors.",
    "These take the shape of a long round arch, with its path high above.",
]
CHARS_PER_SECOND = 14.0


# --- one measurement (child process) ---------------------------------------------------
def _engine(spec: dict, folder: Path) -> tuple[Engine, VitsTask]:
    root = Path(spec["project"])
    run = folder / "run"
    task = VitsTask(vits_config(root, size=spec["size"]), root, run)
    cfg = EngineConfig(run_dir=run, epochs=10**6, batch_size=spec["batch"],
                       device=spec["device"], precision=spec["precision"])
    engine = Engine(cfg, task)
    engine.prepare()
    return engine, task


def measure(spec: dict) -> dict:
    """Time ``spec['steps']`` steps (ours, or the plain baseline) after one warm-up."""
    with tempfile.TemporaryDirectory(prefix="timbre-bench-") as tmp:
        engine, task = _engine(spec, Path(tmp))
        dev = engine.device
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        times, mas, audio_s = [], 0.0, 0.0
        lengths = task.dataset_lengths()
        for i, indices in enumerate(batches(engine, spec["steps"] + 1)):
            alignment.timing(reset=True)
            sync(dev)
            t0 = time.perf_counter()
            if spec.get("plain"):
                _plain_step(task, task.collate(indices).to(dev))
            else:
                engine.train_batch(indices)
            sync(dev)
            if i == 0:
                continue  # warm-up
            times.append(time.perf_counter() - t0)
            mas += alignment.timing()["seconds"]
            audio_s += sum(lengths[j] for j in indices) * task.hop / task.cfg.sample_rate
        total = sum(times)
        peak = (torch.cuda.max_memory_allocated(dev) if dev.type == "cuda"
                else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        return {"step_s": statistics.median(times), "mas_share": mas / total,
                "clip_audio_per_s": audio_s / total, "peak_mb": peak / 2**20,
                "precision": str(engine.amp.dtype or "fp32")}


def _plain_step(task: VitsTask, b) -> float:  # type: ignore[no-untyped-def]
    D = task.D

    def both(real: torch.Tensor, fake: torch.Tensor) -> tuple:
        r, f = D(real, real), D(fake, fake)  # one full pass each, with autograd
        return r[0], f[1], r[2], f[3]

    task.G.train()
    y, y_hat, out = task._g_forward(b)
    d_real, d_fake, _, _ = both(y, y_hat.detach())
    loss_d, _, _ = losses.discriminator_loss(d_real, d_fake)
    task.opt_d.zero_grad()
    loss_d.backward()
    task.opt_d.step()
    _, d_fake, fmap_r, fmap_g = both(y, y_hat)
    adv, _ = losses.generator_adversarial_loss(d_fake)
    loss_g = (adv + 2 * losses.feature_matching_loss(fmap_r, fmap_g)
              + 45 * losses.mel_l1_loss(y_hat, y, task.mel_cfg)
              + out.l_length.sum() / out.x_mask.sum()
              + losses.kl_loss(out.z_p, out.logs_q, out.m_p, out.logs_p, out.z_mask))
    task.opt_g.zero_grad()
    loss_g.backward()
    task.opt_g.step()
    return float(loss_g.detach())


def measure_speak(spec: dict) -> dict:
    """Speak each sentence of ``SPOKEN`` (after one warm-up); seconds of speech and time."""
    from backend.models.vits import VitsGenerator
    from backend.text import get
    from backend.text.symbols import intersperse

    frontend = get("en")
    torch.manual_seed(0)
    cfg = vits_config(Path(spec["project"]), size=spec["size"]).model_config()
    model = VitsGenerator(cfg).eval()
    speech, wall, cpu = 0.0, 0.0, 0.0
    for i, text in enumerate([SPOKEN[0], *SPOKEN]):
        ids = torch.tensor([intersperse(frontend.to_ids(text))])
        lengths = torch.tensor([ids.shape[1]])
        frames = model.infer(ids, lengths).durations.sum().item()  # random: calibrate
        scale = len(text) / CHARS_PER_SECOND * cfg.sampling_rate / cfg.hop_length / frames
        t0, c0 = time.perf_counter(), time.process_time()
        audio = model.infer(ids, lengths, length_scale=scale).audio
        if i:  # the first one is the warm-up
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
            speech += audio.shape[-1] / cfg.sampling_rate
    with FlopCounterMode(display=False) as flops:
        model.dec(torch.zeros(1, cfg.inter_channels, cfg.sampling_rate // cfg.hop_length), None)
    return {"speech_s": speech, "wall_s": wall, "cpu_s": cpu, "x_real_time": speech / wall,
            "x_real_time_cpu": speech / (cpu / spec["threads"]),
            "dec_gflop_per_s": flops.get_total_flops() / 1e9,
            "params_m": sum(p.numel() for p in model.parameters()) / 1e6}


def measure_matmul(spec: dict) -> dict:
    """The machine's float32 matrix-product speed at these threads (the baseline)."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(10):
        a @ b
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"gflop_s": 10 * 2 * 1024**3 / wall / 1e9,
            "gflop_s_cpu": 10 * 2 * 1024**3 / (cpu / spec["threads"]) / 1e9}


def child(spec: dict) -> None:
    if spec["device"] == "cpu":
        torch.set_num_threads(spec["threads"])
    kind = spec.get("kind", "train")
    result = {"speak": measure_speak, "matmul": measure_matmul, "train": measure}[kind](spec)
    report(result)


# --- the table (parent process) --------------------------------------------------------
HEADER = (f"{'row':40s} {'s/step':>8s} {'MAS %':>6s} {'clip au/s':>9s} {'peak MB':>8s} "
          f"{'ratio':>6s}")


def _row(name: str, r: dict, base: float | None = None) -> str:
    ratio = f"{r['step_s'] / base:6.2f}" if base else "      "
    return (f"{name:40s} {r['step_s']:8.3f} {100 * r['mas_share']:6.3f} "
            f"{r['clip_audio_per_s']:9.3f} {r['peak_mb']:8.0f} {ratio}")


def train_rows(args: argparse.Namespace, project: Path, device: str, steps: int) -> None:
    base = {"project": str(project), "device": device, "threads": args.threads,
            "steps": steps, "precision": "fp32" if device == "cpu" else "auto"}
    where = f"{args.threads} threads" if device == "cpu" else "mixed precision (auto)"
    print(f"\ntraining steps, {device}, {where}, median of {steps} steps after 1 warm-up; "
          f"clips 2-4 s; load average before: {os.getloadavg()[0]:.2f}")
    print(HEADER)
    sizes = ("tiny",) if args.skip_standard else ("tiny", "standard")
    for size in sizes:
        plain = run_child(__file__, {**base, "size": size, "batch": 1, "plain": True})
        print(_row(f"{size} batch 1, plain loop (baseline)", plain, plain["step_s"]),
              flush=True)
        for batch in (1, 8):
            ours = run_child(__file__, {**base, "size": size, "batch": batch})
            print(_row(f"{size} batch {batch}, Engine + VitsTask", ours,
                       plain["step_s"] if batch == 1 else None), flush=True)


def speak_rows(project: Path) -> None:
    print(f"\nspeaking, CPU, 2 threads, {len(SPOKEN)} sentences one by one (after 1 warm-up); "
          f"load average before: {os.getloadavg()[0]:.2f}")
    mm = run_child(__file__, {"device": "cpu", "threads": 2, "kind": "matmul"})
    print(f"baseline: 1024x1024 float32 matrix products at 2 threads: {mm['gflop_s']:.1f} "
          f"GFLOP/s by the clock, {mm['gflop_s_cpu']:.1f} GFLOP/s by CPU time (an idle 2-core "
          "AVX2 machine does about 100)")
    print(f"{'model':28s} {'params M':>8s} {'dec GF/s':>9s} {'speech s':>9s} {'wall s':>7s} "
          f"{'cpu s':>7s} {'x RT clock':>11s} {'x RT cpu':>11s}")
    for size in ("tiny", "standard"):
        r = run_child(__file__, {"project": str(project), "device": "cpu", "threads": 2,
                                 "kind": "speak", "size": size})
        print(f"{size + ' (ljs_base layout)':28s} {r['params_m']:8.2f} "
              f"{r['dec_gflop_per_s']:9.2f} {r['speech_s']:9.2f} {r['wall_s']:7.2f} "
              f"{r['cpu_s']:7.2f} {r['x_real_time']:11.2f} {r['x_real_time_cpu']:11.2f}",
              flush=True)
        if size == "standard":
            verdict = "meets" if r["x_real_time"] > 1 else "MISSES"
            print(f"standard: {r['x_real_time']:.2f} x real time by the clock -> {verdict} the "
                  "target (faster than real time on 2 cores); "
                  f"{r['x_real_time_cpu']:.2f} x by the CPU time it used (what 2 cores of its "
                  "own would give)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--cuda-steps", type=int, default=10)
    parser.add_argument("--skip-standard", action="store_true", help="training: tiny only")
    parser.add_argument("--speak-only", action="store_true")
    parser.add_argument("--train-only", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="timbre-bench-tts-") as tmp:
        project = make_labelled_project(Path(tmp) / "bench voice", sentences=SENTENCES)
        if not args.train_only:
            speak_rows(project)
        if args.speak_only:
            return
        train_rows(args, project, "cpu", args.steps)
        if torch.cuda.is_available():
            train_rows(args, project, "cuda", args.cuda_steps)
        else:
            print("\nno CUDA device: the CUDA training rows are skipped")


if __name__ == "__main__":
    main()
