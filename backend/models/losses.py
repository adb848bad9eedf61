"""Training losses: least-squares GAN, feature matching, mel L1 and KL.

Total generator loss (weights in ``LOSS_WEIGHTS``, the values RVC-style training uses):

    loss_g = 1 * adversarial + 2 * feature_matching + 45 * mel_l1 + 1 * kl

``feature_matching_loss`` is the plain sum of mean absolute differences; the factor 2 is
applied in ``generator_total`` (some implementations fold it into the feature loss).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F  # noqa: N812

from .mel import MelConfig, mel_spectrogram

LOSS_WEIGHTS = {"adv": 1.0, "fm": 2.0, "mel": 45.0, "kl": 1.0}


def discriminator_loss(
    real_outputs: list[torch.Tensor], fake_outputs: list[torch.Tensor]
) -> tuple[torch.Tensor, list[float], list[float]]:
    """Sum over discriminators of ``mean((1 - D(y))^2) + mean(D(y_hat)^2)``."""
    loss = real_outputs[0].new_zeros(())
    real_losses, fake_losses = [], []
    for dr, dg in zip(real_outputs, fake_outputs, strict=True):
        r = torch.mean((1 - dr.float()) ** 2)
        f = torch.mean(dg.float() ** 2)
        loss = loss + r + f
        real_losses.append(float(r.detach()))
        fake_losses.append(float(f.detach()))
    return loss, real_losses, fake_losses


def generator_adversarial_loss(
    fake_outputs: list[torch.Tensor],
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Sum over discriminators of ``mean((1 - D(y_hat))^2)``."""
    per_disc = [torch.mean((1 - dg.float()) ** 2) for dg in fake_outputs]
    return torch.stack(per_disc).sum(), per_disc


def feature_matching_loss(
    fmap_real: list[list[torch.Tensor]], fmap_fake: list[list[torch.Tensor]]
) -> torch.Tensor:
    """Sum of mean |real - fake| over every discriminator layer (real side detached)."""
    terms = [
        torch.mean(torch.abs(r.detach().float() - g.float()))
        for dr, dg in zip(fmap_real, fmap_fake, strict=True)
        for r, g in zip(dr, dg, strict=True)
    ]
    return torch.stack(terms).sum()


def kl_loss(
    z_p: torch.Tensor,
    logs_q: torch.Tensor,
    m_p: torch.Tensor,
    logs_p: torch.Tensor,
    z_mask: torch.Tensor,
) -> torch.Tensor:
    """KL between the flowed posterior sample and the prior, averaged over valid frames."""
    z_p, logs_q, m_p, logs_p = (t.float() for t in (z_p, logs_q, m_p, logs_p))
    kl = logs_p - logs_q - 0.5
    kl = kl + 0.5 * ((z_p - m_p) ** 2) * torch.exp(-2.0 * logs_p)
    return torch.sum(kl * z_mask) / torch.sum(z_mask)


def mel_l1_loss(y_hat: torch.Tensor, y: torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """L1 between log-mels of generated and real audio (same length, ``[B, 1, L]``)."""
    return F.l1_loss(mel_spectrogram(y_hat, cfg), mel_spectrogram(y, cfg))


def generator_total(
    adv: torch.Tensor,
    fm: torch.Tensor,
    mel: torch.Tensor,
    kl: torch.Tensor,
    weights: dict[str, float] | None = None,
) -> torch.Tensor:
    """``adv + 2 * fm + 45 * mel + 1 * kl`` (or the given weights)."""
    w = LOSS_WEIGHTS if weights is None else {**LOSS_WEIGHTS, **weights}
    return w["adv"] * adv + w["fm"] * fm + w["mel"] * mel + w["kl"] * kl
