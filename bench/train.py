"""Training throughput of our real step: RvcTask.train_step through the Engine.

Usage: .venv/bin/python bench/train.py [--threads 2] [--steps 5] [--skip-standard]
       [--cuda-steps 10] [--converge-steps 100] [--amp-device cpu|cuda]

Every row runs in its own subprocess (clean peak memory, clean thread settings) on a
synthetic feature project (tests/train/feature_project.py): prepared clips, content
features, pitch. A row is the median of ``--steps`` timed steps after one warm-up step,
each step being ``Engine.train_batch`` (collate, generator forward, discriminator update,
generator update) exactly as a training run does it.

Rows:
- CPU, tiny and standard sizes, ``--threads`` threads, OMP_WAIT_POLICY=PASSIVE (as
  ``python -m backend`` sets it): steps/s, seconds of audio per second and peak RSS.
  "segment audio/s" counts the generated training segments (batch x segment_frames x hop);
  "clip audio/s" counts the clips the step read (the posterior encoder sees whole clips).
- The issue's number: one standard v2-40k-f0 step, batch 1, 12800-sample segment, clips
  of one segment, 2 threads; target <= 2.5 s. Baseline in the same run: a plain loop over
  the same modules and data as the reference implementation does it (discriminator runs
  real and fake separately, the generator step computes discriminator weight gradients).
- CUDA (when available): eager fp32 against the Engine's mixed precision ("auto": bf16
  where supported, else fp16 with a gradient scaler) at the same batch, with
  torch.cuda.max_memory_allocated; then a convergence check: mean mel loss of the last
  10 of ``--converge-steps`` steps (standard size; tiny on the CPU), fp32 vs AMP, same
  data and seed.
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

from backend.models import losses  # noqa: E402
from backend.train.engine import Engine, EngineConfig  # noqa: E402
from backend.train.rvc_task import RvcConfig, RvcTask  # noqa: E402
from bench.engine_rows import batches, report, run_child, sync  # noqa: E402
from tests.train.feature_project import make_feature_project  # noqa: E402

TARGET_S = 2.5


# --- one measurement (child process) ---------------------------------------------------
def _engine(spec: dict, folder: Path) -> tuple[Engine, RvcTask]:
    root = make_feature_project(folder / "bench project", clips=spec["clips"],
                                seconds=spec["seconds"], growth=spec.get("growth", 0.25))
    task = RvcTask(RvcConfig(size=spec["size"]), root)
    cfg = EngineConfig(run_dir=root / "train" / "bench", epochs=10**6,
                       batch_size=spec["batch"], seed=spec.get("seed", 1234),
                       device=spec["device"], precision=spec["precision"])
    engine = Engine(cfg, task)
    engine.prepare()
    return engine, task


def measure(spec: dict) -> dict:
    """Time ``spec['steps']`` steps of our engine after one warm-up step."""
    with tempfile.TemporaryDirectory(prefix="timbre-bench-") as tmp:
        engine, task = _engine(spec, Path(tmp))
        dev = engine.device
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        hop, seg = task.hop, task.G.segment_frames
        times, mel, clip_s, seg_s = [], [], 0.0, 0.0
        for i, indices in enumerate(batches(engine, spec["steps"] + 1)):
            lengths = task.dataset_lengths()
            sync(dev)
            t0 = time.perf_counter()
            rec = engine.train_batch(indices)
            sync(dev)
            mel.append(rec["loss_mel"])
            if i == 0:
                continue  # warm-up
            times.append(time.perf_counter() - t0)
            clip_s += sum(lengths[j] for j in indices) / 100.0
            seg_s += len(indices) * seg * hop / task.cfg.sample_rate
        total = sum(times)
        peak = (torch.cuda.max_memory_allocated(dev) if dev.type == "cuda"
                else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        return {"step_s": statistics.median(times), "steps_per_s": len(times) / total,
                "segment_audio_per_s": seg_s / total, "clip_audio_per_s": clip_s / total,
                "peak_mb": peak / 2**20, "mel_last": statistics.mean(mel[-10:]),
                "mel_first": mel[0], "precision": str(engine.amp.dtype or "fp32"),
                "segment_samples": seg * hop}


def measure_plain(spec: dict) -> dict:
    """The reference-style loop on the same modules and batches (baseline)."""
    with tempfile.TemporaryDirectory(prefix="timbre-bench-") as tmp:
        engine, task = _engine(spec, Path(tmp))
        times = []
        for i, indices in enumerate(batches(engine, spec["steps"] + 1)):
            t0 = time.perf_counter()
            _plain_step(task, task.collate(indices))
            if i:
                times.append(time.perf_counter() - t0)
        return {"step_s": statistics.median(times), "steps_per_s": len(times) / sum(times)}


def _plain_step(task: RvcTask, b) -> float:  # type: ignore[no-untyped-def]
    D = task.D

    def both(real: torch.Tensor, fake: torch.Tensor) -> tuple:
        r, f = D(real, real), D(fake, fake)  # one full pass each, with autograd
        return r[0], f[1], r[2], f[3]

    y, y_hat, (z_mask, (_z, z_p, m_p, logs_p, _m, logs_q)) = task._g_forward(b)
    d_real, d_fake, _, _ = both(y, y_hat.detach())
    loss_d, _, _ = losses.discriminator_loss(d_real, d_fake)
    task.opt_d.zero_grad()
    loss_d.backward()
    task.opt_d.step()
    _, d_fake, fmap_r, fmap_g = both(y, y_hat)
    adv, _ = losses.generator_adversarial_loss(d_fake)
    loss_g = losses.generator_total(adv, losses.feature_matching_loss(fmap_r, fmap_g),
                                    losses.mel_l1_loss(y_hat, y, task.mel_cfg),
                                    losses.kl_loss(z_p, logs_q, m_p, logs_p, z_mask))
    task.opt_g.zero_grad()
    loss_g.backward()
    task.opt_g.step()
    return float(loss_g.detach())


def child(spec: dict) -> None:
    if spec["device"] == "cpu":
        torch.set_num_threads(spec["threads"])
    result = measure_plain(spec) if spec.get("plain") else measure(spec)
    report(result)


# --- the table (parent process) --------------------------------------------------------
def _row(name: str, r: dict, base: float | None = None) -> str:
    ratio = f"{r['step_s'] / base:6.2f}" if base else "      "
    return (f"{name:44s} {r['step_s']:8.3f} {r['steps_per_s']:8.3f} "
            f"{r.get('segment_audio_per_s', float('nan')):9.3f} "
            f"{r.get('clip_audio_per_s', float('nan')):9.3f} "
            f"{r.get('peak_mb', float('nan')):9.0f} {ratio}")


HEADER = (f"{'row':44s} {'s/step':>8s} {'steps/s':>8s} {'seg au/s':>9s} {'clip au/s':>9s} "
          f"{'peak MB':>9s} {'ratio':>6s}")


def cpu_rows(args: argparse.Namespace) -> None:
    print(f"\nCPU, {args.threads} threads, OMP_WAIT_POLICY=PASSIVE, median of {args.steps} "
          f"steps after 1 warm-up; load average before: {os.getloadavg()[0]:.2f}")
    print(HEADER)
    cpu = {"device": "cpu", "precision": "fp32", "threads": args.threads, "steps": args.steps}
    tiny = {**cpu, "size": "tiny", "batch": args.tiny_batch, "clips": 9, "seconds": 1.2}
    print(_row(f"tiny v2-40k, batch {args.tiny_batch}, 1.2-3.2 s clips", run_child(__file__, tiny)),
          flush=True)
    if args.skip_standard:
        return
    std = {**cpu, "size": "standard", "batch": args.std_batch, "clips": 5, "seconds": 1.2}
    print(_row(f"standard v2-40k, batch {args.std_batch}, 1.2-2.2 s clips",
               run_child(__file__, std)), flush=True)
    issue = {**cpu, "size": "standard", "batch": 1, "clips": 5, "seconds": 0.33, "threads": 2}
    plain = run_child(__file__, {**issue, "plain": True})
    ours = run_child(__file__, issue)
    print(f"\nissue number: standard v2-40k-f0, batch 1, {ours['segment_samples']}-sample "
          f"segment, one-segment clips, 2 threads (target <= {TARGET_S} s; the reference "
          "implementation takes about 3.0 s here)")
    print(HEADER)
    print(_row("plain reference-style loop (baseline)", plain, plain["step_s"]))
    print(_row("our step (Engine + RvcTask)", ours, plain["step_s"]))
    verdict = "meets" if ours["step_s"] <= TARGET_S else "MISSES"
    print(f"our step: {ours['step_s']:.3f} s -> {verdict} the {TARGET_S} s target; load "
          f"average now {os.getloadavg()[0]:.2f} (shared machine)", flush=True)


def amp_rows(args: argparse.Namespace, device: str) -> None:
    amp = "auto" if device == "cuda" else "bf16"
    print(f"\n{device}: eager fp32 vs mixed precision ({amp}) at the same batch, median of "
          f"{args.cuda_steps} steps")
    print(HEADER)
    for size, batch in (("tiny", 16), ("standard", args.cuda_batch)):
        spec = {"device": device, "size": size, "batch": batch, "clips": batch * 2 + 1,
                "seconds": 1.2, "growth": 1 / batch, "steps": args.cuda_steps,
                "threads": args.threads}
        fp32 = run_child(__file__, {**spec, "precision": "fp32"})
        mixed = run_child(__file__, {**spec, "precision": amp})
        print(_row(f"{size} batch {batch} fp32", fp32, fp32["step_s"]))
        print(_row(f"{size} batch {batch} {mixed['precision']}", mixed, fp32["step_s"]),
              flush=True)
    print(f"\nconvergence: mel loss, mean of the last 10 of {args.converge_steps} steps "
          "(same data, same seed)")
    size = "standard" if device == "cuda" else "tiny"
    print(f"  {size} v2-40k, batch 8, learning rate 1e-4")
    spec = {"device": device, "size": size, "batch": 8, "clips": 17, "seconds": 1.2,
            "growth": 1 / 8, "steps": args.converge_steps, "threads": args.threads, "seed": 7}
    for precision in ("fp32", amp):
        r = run_child(__file__, {**spec, "precision": precision})
        print(f"  {r['precision']:16s} first {r['mel_first']:.3f} -> last {r['mel_last']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--tiny-batch", type=int, default=4)
    parser.add_argument("--std-batch", type=int, default=1)
    parser.add_argument("--skip-standard", action="store_true", help="CPU: tiny only")
    parser.add_argument("--cuda-batch", type=int, default=8)
    parser.add_argument("--cuda-steps", type=int, default=10)
    parser.add_argument("--converge-steps", type=int, default=100)
    parser.add_argument("--amp-device", choices=("cpu", "cuda"),
                        help="run the AMP comparison here (cpu: bf16 autocast; default: "
                             "cuda when available, else skipped)")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs")
    cpu_rows(args)
    device = args.amp_device or ("cuda" if torch.cuda.is_available() else None)
    if device:
        amp_rows(args, device)
    else:
        print("\nno CUDA device: the fp32 vs mixed-precision rows are skipped")


if __name__ == "__main__":
    main()
