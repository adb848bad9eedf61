"""VITS text-to-speech models (original VITS file-format compatible).

See docs/tts.md. ``config.VitsConfig`` holds the hyperparameters in the published
``config.json`` layout; the generator and discriminator share the RVC synthesizer's modules.
"""
