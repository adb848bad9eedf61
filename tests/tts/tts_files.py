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

LOUDER = 20.0  # speaker table and conditioning: distinct speakers
LEVEL = 0.05  # rms of the output: a random decoder is nearly silent


def _speech_level(gen: VitsGenerator, n_symbols: int) -> None:
    """Make the decoder's last layer speak at about ``LEVEL`` rms around zero: a random
    decoder feeds it activations with a large mean, which its random weights turn into a
    DC offset (at full scale once amplified); the weights are made blind to that mean."""
    gen.eval()
    ids = torch.arange(1, min(n_symbols, 40)).unsqueeze(0)
    sid = torch.zeros(1, dtype=torch.long) if gen.cfg.n_speakers else None
    post = gen.dec.conv_post
    seen: list[torch.Tensor] = []
    hook = post.register_forward_hook(lambda _m, inp, _o: seen.append(inp[0]))
    with torch.no_grad():
        torch.manual_seed(0)
        gen.infer(ids, torch.tensor([ids.shape[1]]), sid=sid)
        hook.remove()
        mu = torch.nn.functional.leaky_relu(seen[0], 0.01).mean(dim=(0, 2))  # [C]
        w = post.weight  # [1, C, K]
        along = (w.sum(dim=2) @ mu) / (mu @ mu) / w.shape[2]
        w.sub_(along * mu[None, :, None])
        torch.manual_seed(0)
        audio = gen.infer(ids, torch.tensor([ids.shape[1]]), sid=sid).audio
        w.mul_(LEVEL / max(float(audio.std()), 1e-6))


def tiny_tts_file(path: Path, *, speakers: dict[str, int] | None = None, language: str = "en",
                  frames_per_token: int | None = 2, sdp: bool = False, seed: int = 0) -> Path:
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
        if cfg.n_speakers:  # a random model's speakers sound nearly alike
            gen.dec.cond.weight.mul_(LOUDER)
            gen.emb_g.weight.mul_(LOUDER)
        if frames_per_token is not None and not sdp:
            gen.dp.proj.weight.zero_()
            gen.dp.proj.bias.fill_(math.log(frames_per_token - 0.01))
    _speech_level(gen, len(symbols))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_tts_model(path, gen.state_dict(), cfg, symbols, dict(speakers or {}),
                           language, "tiny random test model")
