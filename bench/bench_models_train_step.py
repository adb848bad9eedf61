"""Time one RVC training step (G + D forward/backward, both losses) on CPU.

Usage: .venv/bin/python bench/bench_models_train_step.py [--threads 2] [--frames 32]
       [--steps 3] [--version v2] [--rate 40k]

Prints wall-clock and process CPU seconds per step of two training loops over the same
modules: "optimised" (D scores real and fake in one batch in the D step; in the G step the
real side runs without autograd and D's parameters are frozen so no D weight gradients are
computed) and "plain" (separate real/fake passes with full autograd, as the reference loop
does), and their ratio. The issue target is <= 2.5 s for v2-40k-f0, batch 1, a 12800-sample
segment, 2 threads.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.models import build_discriminator, build_generator, losses, mel_config  # noqa: E402
from backend.models.commons import slice_segments  # noqa: E402


def make_batch(cfg, frames: int):
    content = 256 if cfg.version == "v1" else 768
    phone = torch.randn(1, frames, content)
    lengths = torch.tensor([frames])
    f0 = torch.full((1, frames), 180.0)
    coarse = torch.full((1, frames), 100, dtype=torch.long)
    spec = torch.rand(1, cfg.spec_channels, frames)
    wave = torch.randn(1, 1, frames * cfg.hop_length) * 0.1
    return phone, lengths, coarse, f0, spec, lengths, torch.tensor([0]), wave


def _generator_loss(d_fake, fmap_r, fmap_g, y_hat, y, latents, z_mask, mcfg):
    _z, z_p, m_p, logs_p, _m_q, logs_q = latents
    adv, _ = losses.generator_adversarial_loss(d_fake)
    fm = losses.feature_matching_loss(fmap_r, fmap_g)
    mel = losses.mel_l1_loss(y_hat, y, mcfg)
    kl = losses.kl_loss(z_p, logs_q, m_p, logs_p, z_mask)
    return losses.generator_total(adv, fm, mel, kl)


def train_step(G, D, opt_g, opt_d, batch, mcfg, optimised: bool) -> float:
    *inputs, wave = batch
    hop = G.hop_length
    y_hat, ids, _x_mask, z_mask, latents = G(*inputs)
    y = slice_segments(wave, ids * hop, G.segment_frames * hop)

    def run_d(real, fake):
        r = D(real, real)  # one pass each, like the reference training loop
        f = D(fake, fake)
        return r[0], f[1], r[2], f[3]

    d_real, d_fake, _, _ = D(y, y_hat.detach()) if optimised else run_d(y, y_hat.detach())
    loss_d, _, _ = losses.discriminator_loss(d_real, d_fake)
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()

    if optimised:
        with D.frozen():
            _, d_fake, fmap_r, fmap_g = D(y, y_hat, detach_real=True)
            loss_g = _generator_loss(d_fake, fmap_r, fmap_g, y_hat, y, latents, z_mask, mcfg)
            opt_g.zero_grad()
            loss_g.backward()
    else:
        _, d_fake, fmap_r, fmap_g = run_d(y, y_hat)
        loss_g = _generator_loss(d_fake, fmap_r, fmap_g, y_hat, y, latents, z_mask, mcfg)
        opt_g.zero_grad()
        loss_g.backward()
    opt_g.step()
    return float(loss_g.detach())


def time_steps(args, optimised: bool) -> tuple[float, float]:
    torch.manual_seed(0)
    G = build_generator(args.version, args.rate, True)
    D = build_discriminator(args.version)
    kw = {"lr": 1e-4, "betas": (0.8, 0.99), "eps": 1e-9}
    opt_g = torch.optim.AdamW(G.parameters(), **kw)
    opt_d = torch.optim.AdamW(D.parameters(), **kw)
    batch = make_batch(G.cfg, args.frames)
    mcfg = mel_config(args.rate)
    train_step(G, D, opt_g, opt_d, batch, mcfg, optimised)  # warm-up
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        train_step(G, D, opt_g, opt_d, batch, mcfg, optimised)
    wall = (time.perf_counter() - start) / args.steps
    return wall, (time.process_time() - cpu_start) / args.steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=32, help="utterance length in frames")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--version", default="v2")
    parser.add_argument("--rate", default="40k")
    parser.add_argument("--only-optimised", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [("optimised loop", time_steps(args, True))]
    if not args.only_optimised:
        rows.append(("plain loop (baseline)", time_steps(args, False)))
    base = rows[-1][1][0]
    print(f"{args.version}-{args.rate}-f0, batch 1, {args.frames} frames, "
          f"{args.threads} threads, mean of {args.steps} steps, "
          f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'variant':34s} {'wall s/step':>12s} {'cpu s/step':>11s} {'ratio':>7s}")
    for name, (wall, cpu) in rows:
        print(f"{name:34s} {wall:12.3f} {cpu:11.3f} {wall / base:7.2f}")


if __name__ == "__main__":
    main()
