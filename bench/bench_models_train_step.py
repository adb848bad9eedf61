"""Time one RVC training step (G + D forward/backward, both losses) on CPU.

Usage: .venv/bin/python bench/bench_models_train_step.py [--threads 2] [--frames 32]
       [--steps 3] [--version v2] [--rate 40k]

Prints seconds per step for our implementation with the discriminator's real/fake batching
on (default) and off (two separate passes, as the reference training loop does), and the
ratio between them. The issue target is <= 2.5 s for v2-40k-f0, batch 1, a 12800-sample
segment, 2 threads.
"""

from __future__ import annotations

import argparse
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


def train_step(G, D, opt_g, opt_d, batch, mcfg, batched: bool) -> float:
    *inputs, wave = batch
    hop = G.hop_length
    y_hat, ids, _x_mask, z_mask, (_z, z_p, m_p, logs_p, _m_q, logs_q) = G(*inputs)
    y = slice_segments(wave, ids * hop, G.segment_frames * hop)

    def run_d(real, fake):
        if batched:
            return D(real, fake)
        r = D(real, real)  # one pass each, like the reference training loop
        f = D(fake, fake)
        return r[0], f[1], r[2], f[3]

    d_real, d_fake, _, _ = run_d(y, y_hat.detach())
    loss_d, _, _ = losses.discriminator_loss(d_real, d_fake)
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()

    _, d_fake, fmap_r, fmap_g = run_d(y, y_hat)
    adv, _ = losses.generator_adversarial_loss(d_fake)
    fm = losses.feature_matching_loss(fmap_r, fmap_g)
    mel = losses.mel_l1_loss(y_hat, y, mcfg)
    kl = losses.kl_loss(z_p, logs_q, m_p, logs_p, z_mask)
    loss_g = losses.generator_total(adv, fm, mel, kl)
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return float(loss_g)


def time_steps(args, batched: bool) -> float:
    torch.manual_seed(0)
    G = build_generator(args.version, args.rate, True)
    D = build_discriminator(args.version)
    kw = {"lr": 1e-4, "betas": (0.8, 0.99), "eps": 1e-9}
    opt_g = torch.optim.AdamW(G.parameters(), **kw)
    opt_d = torch.optim.AdamW(D.parameters(), **kw)
    batch = make_batch(G.cfg, args.frames)
    mcfg = mel_config(args.rate)
    train_step(G, D, opt_g, opt_d, batch, mcfg, batched)  # warm-up
    start = time.perf_counter()
    for _ in range(args.steps):
        train_step(G, D, opt_g, opt_d, batch, mcfg, batched)
    return (time.perf_counter() - start) / args.steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=32, help="utterance length in frames")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--version", default="v2")
    parser.add_argument("--rate", default="40k")
    parser.add_argument("--only-batched", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [("D real/fake batched (ours)", time_steps(args, True))]
    if not args.only_batched:
        rows.append(("D real/fake separate (baseline)", time_steps(args, False)))
    base = rows[-1][1]
    print(f"{args.version}-{args.rate}-f0, batch 1, {args.frames} frames, "
          f"{args.threads} threads, mean of {args.steps} steps")
    print(f"{'variant':34s} {'s/step':>8s} {'ratio':>7s}")
    for name, sec in rows:
        print(f"{name:34s} {sec:8.3f} {sec / base:7.2f}")


if __name__ == "__main__":
    main()
