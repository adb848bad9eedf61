"""Tiny random-weight VITS text-to-speech files in our export format, built at test time.

The generator is the real architecture (``published(...).tiny()``), written by the real
``write_tts_model``. ``frames_per_token`` fixes the deterministic duration predictor's output
(its last layer: weight 0, bias log(frames)), so a sentence's length is known: every input
symbol (blanks included) lasts that many frames at length scale 1, and exactly twice as
many at length scale 2 (a random predictor gives about one frame a symbol, where rounding up
hides the scale).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import torch

from backend.models.vits import VitsGenerator, published
from backend.text import get


def tiny_tts_file(path: Path, *, speakers: dict[str, int] | None = None, language: str = "en",
                  frames_per_token: int | None = 6, sdp: bool = False, seed: int = 0) -> Path:
    from backend.models.vits.files import write_tts_model

    symbols = list(get(language).symbols)
    cfg = published("ljs_base" if sdp else "ljs_nosdp", n_symbols=len(symbols))
    if speakers and len(speakers) > 1:
        cfg = cfg.with_speakers(len(speakers))
    cfg = replace(cfg.tiny(), segment_size=32 * cfg.hop_length)
    torch.manual_seed(seed)
    gen = VitsGenerator(cfg)
    with torch.no_grad():  # off the init values, so the output has some structure
        for p in gen.parameters():
            p.add_(0.02 * torch.randn_like(p))
        if frames_per_token is not None and not sdp:
            gen.dp.proj.weight.zero_()
            gen.dp.proj.bias.fill_(math.log(frames_per_token - 0.01))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_tts_model(path, gen.state_dict(), cfg, symbols, dict(speakers or {}),
                           language, "tiny random test model")
