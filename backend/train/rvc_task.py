"""The voice-conversion GAN as an engine task: models, optimisers and the losses of a step.

The step itself (discriminator update, then generator update, and the micro-batch replay
of the out-of-memory fallback) is ``backend.train.gan.GanTask``'s.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from backend.fsutil import atomic_write_bytes
from backend.models import losses
from backend.models.commons import slice_segments
from backend.models.discriminators import build_discriminator
from backend.models.mel import mel_config, spectrogram
from backend.models.synthesizer import build_generator
from backend.train import run_settings as rs
from backend.train.engine import Amp, IncompatibleCheckpoint
from backend.train.gan import GanTask
from backend.train.rvc_data import Batch, RvcDataset, collate


@dataclass
class RvcConfig:
    version: str = "v2"
    sample_rate: int = 40000
    f0: bool = True
    size: str = "standard"
    learning_rate: float = 1e-4
    betas: tuple[float, float] = (0.8, 0.99)
    eps: float = 1e-9
    lr_decay: float = 0.999875
    grad_clip: float = 1000.0
    c_mel: float = 45.0
    c_kl: float = 1.0
    c_fm: float = 2.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d


class RvcTask(GanTask):
    def __init__(self, cfg: RvcConfig, root: Path, *, pretrained_g: Path | None = None,
                 pretrained_d: Path | None = None, log: Any = None):
        self.cfg = cfg
        self.root = root
        self.pretrained = (pretrained_g, pretrained_d)
        self._log = log or (lambda msg, level: None)
        self.mel_cfg = mel_config(cfg.sample_rate)
        self.hop = self.mel_cfg.hop_length
        self.data = RvcDataset(root, cfg.version, cfg.sample_rate, self.hop)
        self.held_out = self._pick_held_out()
        self._d_done = None  # D half of a step retried after OOM (see GanTask)

    # data -----------------------------------------------------------------
    def _pick_held_out(self) -> int | None:
        lengths = self.data.lengths()
        if len(lengths) < 3:
            return None  # too few clips to spare one
        return int(np.argsort(lengths)[len(lengths) // 2])

    def train_indices(self) -> list[int]:
        return [i for i in range(len(self.data)) if i != self.held_out]

    def dataset_lengths(self) -> list[int]:
        lengths = self.data.lengths()
        return [lengths[i] for i in self.train_indices()]

    def collate(self, indices: list[int]) -> Batch:
        ids = self.train_indices()
        return collate([self.data[ids[i]] for i in indices])

    # models ---------------------------------------------------------------
    def setup(self, device: torch.device) -> None:
        from backend.train import pretrained as pt

        c = self.cfg
        self.device = device
        self.G = build_generator(c.version, c.sample_rate, c.f0, c.size).to(device)
        self.D = build_discriminator(c.version, c.size).to(device)
        check = {"version": c.version, "sample_rate": c.sample_rate, "f0": c.f0}
        for part, model, path in zip("GD", (self.G, self.D), self.pretrained, strict=True):
            if path is not None:
                report = pt.load_into(model, Path(path), check=check if part == "G" else None,
                                      part=part)
                level = "info" if report.clean else "warning"
                for line in report.lines():
                    self._log(line, level)
        self._optimisers(c.learning_rate, c.betas, c.eps, c.lr_decay)

    def state_dict(self) -> dict[str, Any]:
        return {**self._gan_state(), "rvc": self.cfg.to_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = rs.valid(state.get("rvc"))
        diff = rs.differences(saved, asdict(self.cfg)) if saved else ()
        if diff:  # the weights would not fit: say so instead of a page of shape errors
            raise IncompatibleCheckpoint(
                f"it was saved with {rs.describe(saved)}, but this run asks for "
                f"{rs.describe(asdict(self.cfg), diff)}; start a new run with another name, "
                f"or resume with the checkpoint's settings")
        self._load_gan_state(state)

    # one step -------------------------------------------------------------
    def _g_forward(self, b: Batch) -> tuple[torch.Tensor, torch.Tensor, tuple]:
        spec = spectrogram(b.wav, self.mel_cfg.n_fft, self.hop, self.mel_cfg.win_length)
        spec = spec[:, :, : b.phone.shape[1]]
        out = self.G(b.phone, b.phone_lengths, b.pitch if self.cfg.f0 else None,
                     b.pitchf if self.cfg.f0 else None, spec, b.phone_lengths, b.sid)
        y_hat, ids, _x_mask, z_mask, stats = out
        seg = self.G.segment_frames
        y = slice_segments(b.wav, ids * self.hop, seg * self.hop)
        return y, y_hat, (z_mask, stats)

    def _d_loss(self, y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        real, fake, _, _ = self.D(y, y_hat.detach())
        loss, _, _ = losses.discriminator_loss(real, fake)
        return loss

    def _g_loss(self, y: torch.Tensor, y_hat: torch.Tensor, aux: tuple,
                amp: Amp) -> dict[str, torch.Tensor]:
        z_mask, (_z, z_p, m_p, logs_p, _m_q, logs_q) = aux
        # frozen: the generator's backward skips the discriminator's weight gradients
        with self.D.frozen(), amp.autocast():
            _, fake, fmap_r, fmap_g = self.D(y, y_hat, detach_real=True)
        mel = losses.mel_l1_loss(y_hat.float(), y.float(), self.mel_cfg)
        kl = losses.kl_loss(z_p, logs_q, m_p, logs_p, z_mask)
        fm = losses.feature_matching_loss(fmap_r, fmap_g)
        adv, _ = losses.generator_adversarial_loss(fake)
        c = self.cfg
        total = adv + c.c_fm * fm + c.c_mel * mel + c.c_kl * kl
        return {"loss_g": total, "loss_adv": adv, "loss_fm": fm, "loss_mel": mel, "loss_kl": kl}

    # samples --------------------------------------------------------------
    @torch.no_grad()
    def render_sample(self, out: Path) -> Path | None:
        """Convert the held-out clip with the current weights and write a wav."""
        idx = self.held_out if self.held_out is not None else 0
        b = collate([self.data[idx]]).to(self.device)
        self.G.eval()
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # training randomness stays untouched
            torch.manual_seed(0)
            audio = self.G.infer(b.phone, b.phone_lengths, b.pitch if self.cfg.f0 else None,
                                 b.pitchf if self.cfg.f0 else None, b.sid)
        self.G.train()
        buf = io.BytesIO()
        sf.write(buf, audio[0, 0].float().cpu().numpy(), self.cfg.sample_rate, format="WAV",
                 subtype="FLOAT")
        out.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_bytes(out, buf.getvalue())

