"""The VITS text-to-speech GAN as an engine task: models, optimisers and the losses of a step.

The generator loss is the original VITS one: adversarial + feature matching + 45 x mel L1
+ duration + KL (``loss_mel`` etc. are reported unweighted). The step (discriminator
update, generator update, the micro-batch replay of the out-of-memory fallback) is
``backend.train.gan.GanTask``'s. At each save ``render_sample`` speaks the language's fixed
test sentences with the current weights.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from backend.fsutil import atomic_write_bytes
from backend.models import losses
from backend.models.commons import slice_segments
from backend.models.mel import spectrogram
from backend.models.vits import VitsConfig, VitsGenerator, build_vits_discriminator, published
from backend.text.symbols import intersperse, symbol_ids
from backend.train.engine import Amp, IncompatibleCheckpoint
from backend.train.gan import GanTask
from backend.train.vits_data import Batch, DataSettings, VitsDataset, collate

SIZES = ("tiny", "standard")
# spoken at each save, joined with a short pause (the first speakers in turn)
SAMPLE_SENTENCES = {
    "en": ("The birch canoe slid on the smooth planks.",
           "Please call me back when you have a moment."),
    "zh": ("今天天气很好，我们去公园散步吧。",),
    "ja": ("今日はいい天気ですね。",),
}
SAMPLE_PAUSE_S = 0.3
SAMPLE_MAX_S = 12.0  # per sentence: an untrained duration predictor can ask for minutes
# settings that fix the shapes or the meaning of the weights: a resumed run must keep them
KEPT = ("size", "language", "symbols", "speakers", "use_sdp", "sample_rate")


@dataclass
class VitsTrainConfig:
    size: str = "standard"
    language: str = "en"
    symbols: list[str] = field(default_factory=list)
    speakers: dict[str, int] = field(default_factory=dict)
    use_sdp: bool = True
    sample_rate: int = 22050
    learning_rate: float = 2e-4
    c_dur: float = 1.0
    c_fm: float = 2.0  # the original VITS doubles the feature-matching sum
    grad_clip: float = 1000.0

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(f"unknown VITS size {self.size!r}; use one of {', '.join(SIZES)}")
        if not self.symbols:
            raise ValueError("a VITS model needs its symbol table (the front-end's symbols)")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["symbols"], d["speakers"] = list(self.symbols), dict(self.speakers)
        return d

    def model_config(self) -> VitsConfig:
        """The published ljs_base layout for this table (``tiny()`` for the tiny size), with
        a speaker table when there are 2 or more speakers."""
        cfg = replace(published("ljs_base", n_symbols=len(self.symbols)),
                      use_sdp=self.use_sdp, sampling_rate=self.sample_rate,
                      learning_rate=self.learning_rate)
        if len(self.speakers) >= 2:
            cfg = cfg.with_speakers(len(self.speakers))
        return cfg.tiny() if self.size == "tiny" else cfg


class VitsTask(GanTask):
    def __init__(self, cfg: VitsTrainConfig, root: Path, run_dir: Path, *,
                 pretrained_g: Path | None = None, pretrained_d: Path | None = None,
                 log: Any = None):
        self.cfg = cfg
        self.root = root
        self.run_dir = run_dir
        self.pretrained = (pretrained_g, pretrained_d)
        self._log = log or (lambda msg, level: None)
        self.model_cfg = cfg.model_config()
        self.mel_cfg = self.model_cfg.mel()
        self.hop = self.model_cfg.hop_length
        self.data = VitsDataset(root, DataSettings(
            cfg.language, list(cfg.symbols), dict(cfg.speakers), cfg.sample_rate, self.hop,
            self.model_cfg.add_blank), run_dir, self._log)
        self._d_done = None
        self.device = torch.device("cpu")

    # data -----------------------------------------------------------------
    def dataset_lengths(self) -> list[int]:
        return self.data.lengths()

    def collate(self, indices: list[int]) -> Batch:
        return collate([self.data[i] for i in indices], self.hop)

    # models ---------------------------------------------------------------
    def setup(self, device: torch.device) -> None:
        m = self.model_cfg
        self.device = device
        self.G = VitsGenerator(m).to(device)
        self.D = build_vits_discriminator(m).to(device)
        self._load_bases()
        self._optimisers(self.cfg.learning_rate, m.betas, m.eps, m.lr_decay)

    def _load_bases(self) -> None:
        if not any(self.pretrained):
            return
        from backend.train.vits_bases import fit_vits_base

        for part, model, path in zip("GD", (self.G, self.D), self.pretrained, strict=True):
            if path is not None:
                report = fit_vits_base(model, Path(path), part, list(self.cfg.symbols),
                                       dict(self.cfg.speakers))
                level = "info" if report.clean else "warning"
                for line in report.lines():
                    self._log(line, level)

    def state_dict(self) -> dict[str, Any]:
        return {**self._gan_state(), "vits": self.cfg.to_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("vits")
        if not isinstance(saved, dict):
            raise IncompatibleCheckpoint("it is not a checkpoint of a text-to-speech (VITS) "
                                         "run; start a new run with another name")
        mine = self.cfg.to_dict()
        diff = [k for k in KEPT if saved.get(k) != mine[k]]
        if diff:  # the weights would not fit, or would mean other symbols or speakers
            raise IncompatibleCheckpoint(
                f"it was saved with {describe(saved, diff)}, but this run asks for "
                f"{describe(mine, diff)}; start a new run with another name, or resume "
                "with the checkpoint's settings")
        self._load_gan_state(state)

    # one step -------------------------------------------------------------
    def _g_forward(self, b: Batch) -> tuple[torch.Tensor, torch.Tensor, Any]:
        m = self.model_cfg
        spec = spectrogram(b.wav, m.filter_length, self.hop, m.win_length)
        out = self.G(b.x, b.x_lengths, spec, b.spec_lengths,
                     b.sid if m.n_speakers > 0 else None)
        y = slice_segments(b.wav, out.ids_slice * self.hop, m.segment_frames * self.hop)
        return y, out.audio, out

    def _d_loss(self, y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        real, fake, _, _ = self.D(y, y_hat.detach())
        loss, _, _ = losses.discriminator_loss(real, fake)
        return loss

    def _g_loss(self, y: torch.Tensor, y_hat: torch.Tensor, out: Any,
                amp: Amp) -> dict[str, torch.Tensor]:
        # frozen: the generator's backward skips the discriminator's weight gradients
        with self.D.frozen(), amp.autocast():
            _, fake, fmap_r, fmap_g = self.D(y, y_hat, detach_real=True)
        mel = losses.mel_l1_loss(y_hat.float(), y.float(), self.mel_cfg)
        kl = losses.kl_loss(out.z_p, out.logs_q, out.m_p, out.logs_p, out.z_mask)
        dur = out.l_length.float().sum() / out.x_mask.sum()
        fm = losses.feature_matching_loss(fmap_r, fmap_g)
        adv, _ = losses.generator_adversarial_loss(fake)
        c, m = self.cfg, self.model_cfg
        total = adv + c.c_fm * fm + m.c_mel * mel + c.c_dur * dur + m.c_kl * kl
        return {"loss_g": total, "loss_adv": adv, "loss_fm": fm, "loss_mel": mel,
                "loss_kl": kl, "loss_dur": dur}

    # samples --------------------------------------------------------------
    def sample_inputs(self) -> list[tuple[str, list[int], int]]:
        """(sentence, symbol ids with blanks, speaker id) of each test sentence."""
        from backend.text import FrontendUnavailable, get

        sentences = SAMPLE_SENTENCES.get(self.cfg.language)
        try:
            frontend = get(self.cfg.language)
        except FrontendUnavailable:
            return []
        if not sentences:  # a language without sentences of its own: the first row's text
            sentences = tuple(u.text for u in self.data.train[:1])
        table = symbol_ids(self.cfg.symbols)
        speakers = max(1, len(self.cfg.speakers))
        out = []
        for i, reading in enumerate(frontend.read_many(list(sentences))):
            ids = [table[s] for s in reading.symbols if s in table]
            if ids:
                ids = intersperse(ids) if self.model_cfg.add_blank else ids
                out.append((reading.text, ids, i % speakers))
        return out

    @torch.no_grad()
    def render_sample(self, out: Path) -> Path | None:
        """Speak the test sentences with the current weights and write them as one wav."""
        inputs = self.sample_inputs()
        if not inputs:
            return None
        sr = self.cfg.sample_rate
        pause = np.zeros(int(SAMPLE_PAUSE_S * sr), np.float32)
        parts: list[np.ndarray] = []
        self.G.eval()
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # training randomness stays untouched
            torch.manual_seed(0)
            for _text, ids, sid in inputs:
                parts += [self._speak(ids, sid), pause]
        self.G.train()
        buf = io.BytesIO()
        sf.write(buf, np.concatenate(parts[:-1]), sr, format="WAV", subtype="FLOAT")
        out.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_bytes(out, buf.getvalue())

    def _speak(self, ids: list[int], sid: int) -> np.ndarray:
        x = torch.tensor([ids], dtype=torch.long, device=self.device)
        lengths = torch.tensor([len(ids)], device=self.device)
        speaker = torch.tensor([sid], device=self.device) if self.model_cfg.n_speakers else None
        max_len = int(SAMPLE_MAX_S * self.cfg.sample_rate) // self.hop
        audio = self.G.infer(x, lengths, speaker, max_len=max_len).audio
        return audio[0, 0].float().cpu().numpy()


def describe(settings: dict[str, Any], keys: list[str]) -> str:
    """``size tiny, language en, 78 symbols, speakers Ann and Bob`` for ``keys``."""
    parts = []
    for key in keys:
        value = settings.get(key)
        if key == "symbols":
            parts.append(f"{len(value) if isinstance(value, list) else '?'} symbols")
        elif key == "speakers":
            names = sorted(value) if isinstance(value, dict) else []
            parts.append(f"speakers {', '.join(names) or 'none'}")
        elif key == "use_sdp":
            parts.append("the stochastic duration predictor" if value
                         else "the deterministic duration predictor")
        elif key == "sample_rate":
            parts.append(f"{value} Hz")
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts)
