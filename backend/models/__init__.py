"""RVC-compatible voice-conversion models (generator, discriminators, losses, mel).

Public API:
    build_generator(version, sample_rate, f0, size="standard") -> Synthesizer
    build_discriminator(version, size="standard") -> MultiPeriodDiscriminator
    config_args(version, sample_rate, f0) -> the 18 stored hyperparameters
    GeneratorConfig.from_args(args, version, f0) / build_from_config(cfg)
See docs/models.md for the structure and its mapping to the file format.
"""

from .config import CLASS_NAMES, CONTENT_DIMS, RATES, GeneratorConfig, config_args, rate_key
from .discriminators import PERIODS, MultiPeriodDiscriminator, build_discriminator
from .mel import MEL_CONFIGS, MelConfig, mel_config, mel_spectrogram, spectrogram
from .synthesizer import Synthesizer, build_from_config, build_generator

__all__ = [
    "CLASS_NAMES",
    "CONTENT_DIMS",
    "MEL_CONFIGS",
    "PERIODS",
    "RATES",
    "GeneratorConfig",
    "MelConfig",
    "MultiPeriodDiscriminator",
    "Synthesizer",
    "build_discriminator",
    "build_from_config",
    "build_generator",
    "config_args",
    "mel_config",
    "mel_spectrogram",
    "rate_key",
    "spectrogram",
]
