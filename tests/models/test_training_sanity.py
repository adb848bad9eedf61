"""A tiny model must be able to overfit one fixed batch (losses go down)."""

from __future__ import annotations

import torch

from backend.models import build_discriminator, build_generator, losses, mel_config
from backend.models.commons import slice_segments

from .conftest import make_batch, train_inputs


def test_generator_overfits_a_fixed_batch():
    G = build_generator("v2", "40k", True, size="tiny")
    cfg = G.cfg
    b = make_batch(cfg, frames=cfg.segment_frames, batch=1)  # whole item = one segment
    t = torch.arange(cfg.segment_frames * cfg.hop_length) / cfg.sampling_rate
    b["wave"] = (0.3 * torch.sin(2 * torch.pi * 220.0 * t)).view(1, 1, -1)
    b["pitch_f0"] = torch.full_like(b["pitch_f0"], 220.0)
    mcfg = mel_config("40k")
    opt = torch.optim.AdamW(G.parameters(), lr=2e-3, betas=(0.8, 0.99), eps=1e-9)
    history = []
    for _ in range(25):
        audio, ids, _, z_mask, (_z, z_p, m_p, logs_p, _m_q, logs_q) = G(*train_inputs(b))
        y = slice_segments(b["wave"], ids * cfg.hop_length, cfg.segment_frames * cfg.hop_length)
        mel = losses.mel_l1_loss(audio, y, mcfg)
        kl = losses.kl_loss(z_p, logs_q, m_p, logs_p, z_mask)
        loss = 45 * mel + kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(float(mel.detach()))
    first, last = sum(history[:3]) / 3, sum(history[-3:]) / 3
    assert last < 0.8 * first, history


def test_discriminator_learns_to_separate_real_from_fake():
    D = build_discriminator("v1", size="tiny")
    gen = torch.Generator().manual_seed(3)
    t = torch.arange(3200) / 16000
    real = (0.5 * torch.sin(2 * torch.pi * 300.0 * t)).view(1, 1, -1)
    fake = 0.3 * torch.randn(1, 1, 3200, generator=gen)
    opt = torch.optim.AdamW(D.parameters(), lr=1e-3, betas=(0.8, 0.99))
    history = []
    for _ in range(15):
        y_d_rs, y_d_gs, _, _ = D(real, fake)
        loss, _, _ = losses.discriminator_loss(y_d_rs, y_d_gs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
    assert history[-1] < 0.75 * history[0], history
