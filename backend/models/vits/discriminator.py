"""The VITS discriminator: the shared multi-period discriminator with periods 2..11.

Layout of the original ``D_*.pth`` files: ``discriminators.0`` the scale discriminator,
``discriminators.1..5`` period discriminators for periods 2, 3, 5, 7 and 11, all
weight-normalised (``weight_g`` / ``weight_v``).
"""

from __future__ import annotations

from ..discriminators import MultiPeriodDiscriminator
from .config import VitsConfig

PERIODS = [2, 3, 5, 7, 11]


def build_vits_discriminator(cfg: VitsConfig, size: str | None = None
                             ) -> MultiPeriodDiscriminator:
    """``size`` "standard" (the original layout) or "tiny"; by default "tiny" for a
    generator narrower than the published one (``VitsConfig.tiny()``)."""
    if cfg.use_spectral_norm:
        raise ValueError("this VITS config asks for a spectral-norm discriminator "
                         "(use_spectral_norm: true), which is not supported: set it to false")
    if size is None:
        size = "standard" if cfg.hidden_channels >= 192 else "tiny"
    return MultiPeriodDiscriminator(PERIODS, size=size)
