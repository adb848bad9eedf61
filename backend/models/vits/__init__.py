"""VITS text-to-speech models (original VITS file-format compatible).

See docs/tts.md. ``config.VitsConfig`` holds the hyperparameters in the published
``config.json`` layout; the generator and discriminator share the RVC synthesizer's modules.

Public API:
    VitsConfig, published(name, n_symbols=178)
    VitsGenerator(cfg): forward(...) -> VitsOutput, infer(...) -> InferOutput
    build_vits_discriminator(cfg, size=None) -> MultiPeriodDiscriminator
"""

from .config import PUBLISHED, VitsConfig, published
from .discriminator import build_vits_discriminator
from .generator import InferOutput, VitsGenerator, VitsOutput

__all__ = [
    "PUBLISHED",
    "InferOutput",
    "VitsConfig",
    "VitsGenerator",
    "VitsOutput",
    "build_vits_discriminator",
    "published",
]
