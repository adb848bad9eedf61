"""The voice-model block converter for real-time conversion (a ``BlockConverter``).

Each call gets the engine's 16 kHz window (left context, crossfade, search, the new block)
and returns the converted audio that ends where the window ends. Only what the new samples
change is computed again:

* content: HuBERT runs over the last ``encoder_s`` of the window (RVC re-encodes 2.5 s
  every block); the features of its first quarter, which lack left context, and of older
  frames come from a per-frame cache filled by earlier blocks, so the synthesizer's content
  encoder still sees ``synth_s`` of context;
* pitch: ``backend.live.pitch_cache.RollingPitch`` runs the method over the new samples
  plus ``pitch_s`` (at least the method's own minimum) of context; older frames from its
  cache;
* index retrieval only for fresh frames (the retrieved vectors are cached, ``index_rate``
  and ``protect`` are applied per block, so control changes take effect at once), key shift
  per block;
* synthesis: the prior over ``synth_s``, the flow over the output frames plus
  ``flow_context``, the decoder over the output frames plus ``decoder_context`` frames
  only, with the NSF sine phase carried from block to block; the decoder runs through a
  runner of :mod:`backend.live.speedups` (weight norm folded by default).

``LiveOptions.baseline()`` is the straightforward path (encoder over 2.5 s every block,
pitch over the whole window, decoding of every frame) that ``bench/live.py`` compares with.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from backend.convert import steps
from backend.convert.settings import ConvertSettings
from backend.convert.voice_model import VoiceModel
from backend.features.f0 import F0Extractor, coarse_f0, method_info
from backend.kernel import BadArgs
from backend.live.frames import FrameCache
from backend.live.pitch_cache import RollingPitch
from backend.live.speedups import DECODERS, make_decoder

SR = steps.SR16K
HOP = steps.HOP16K  # 16 kHz samples per synthesizer frame
ENC_HOP = 2 * HOP  # HuBERT frames are twice as long
CACHE_FRAMES = 1200  # 12 s of per-frame state


@dataclass(frozen=True)
class LiveOptions:
    """How a block is computed; each field is a speed-up whose cost bench/live.py prints."""

    encoder_s: float = 1.0  # audio HuBERT sees per block
    synth_s: float = 1.0  # content frames the synthesizer's encoder sees
    pitch_s: float = 0.3  # audio before the new samples the pitch extractor sees
    cache: bool = True  # reuse features/pitch of older frames (False: recompute all)
    decoder_context: int | None = 8  # frames decoded before the output (None: all)
    flow_context: int = 16  # frames the flow sees before the decoded ones
    decoder: str = "torch"  # a runner of backend.live.speedups.DECODERS
    threads: int | None = None  # torch intra-op threads for the process (None: unchanged)
    carry_phase: bool = True  # continue the NSF sine from block to block
    noise_scale: float = steps.NOISE_SCALE
    seed: int = 0

    @classmethod
    def baseline(cls) -> LiveOptions:
        """The straightforward path: RVC's 2.5 s re-encoding, pitch over the window,
        every frame decoded through the model's own (weight-normalised) modules."""
        return cls(encoder_s=2.5, synth_s=1e9, pitch_s=1e9, cache=False,
                   decoder_context=None, flow_context=10**9, decoder="torch-wn",
                   carry_phase=False)

    def check(self) -> LiveOptions:
        for name in ("encoder_s", "synth_s"):
            if getattr(self, name) < 0.1:
                raise BadArgs(f"{name} must be at least 0.1 s, not {getattr(self, name)!r}")
        if self.pitch_s < 0:
            raise BadArgs(f"pitch_s must be 0 s or more, not {self.pitch_s!r}")
        if self.decoder_context is not None and self.decoder_context < 0:
            raise BadArgs(f"decoder_context must be 0 frames or more, not "
                          f"{self.decoder_context!r}")
        if self.decoder not in DECODERS:
            raise BadArgs(f"decoder must be one of {', '.join(DECODERS)}, not "
                          f"{self.decoder!r}")
        return self


class BlockPitch:
    """Pitch for the synthesized frames of each block: ``RollingPitch`` (the method runs on
    the new samples plus its context, older frames come from its cache), or with
    ``cache=False`` the method over the whole window every block (the baseline)."""

    def __init__(self, extractor: F0Extractor, context_s: float, cache: bool) -> None:
        self.extractor = extractor
        self.context_s = context_s
        self.use_cache = cache
        self.rolling: RollingPitch | None = None

    def reset(self) -> None:
        if self.rolling is not None:
            self.rolling.reset()

    def frames(self, wav: np.ndarray, synth: int, n_new: int,
               settings: ConvertSettings) -> np.ndarray:
        """f0 (Hz, unshifted) for the last ``synth`` frames of ``wav`` (10 ms frames)."""
        n = len(wav) // HOP
        if not self.use_cache:
            f0 = self.extractor.extract(wav, settings.f0_method,
                                        filter_radius=settings.filter_radius)
            return f0[:n][n - synth:]
        rolling = self.rolling
        if rolling is None or rolling.method != method_info(settings.f0_method).name \
                or rolling.filter_radius != settings.filter_radius:
            rolling = self.rolling = RollingPitch(
                self.extractor, settings.f0_method, context_s=self.context_s,
                filter_radius=settings.filter_radius)
        return rolling.update(wav, n_new)[:n][n - synth:]


class VoiceConverter:
    """A voice model as a ``BlockConverter`` (see the module docstring)."""

    lookahead_s = 0.0  # the output ends where the window ends

    def __init__(self, model: VoiceModel, encoder, f0: F0Extractor | None = None,
                 retrieval: steps.Retrieval | None = None,
                 options: LiveOptions | None = None) -> None:
        self.model = model
        self.encoder = encoder
        self.retrieval = retrieval
        self.options = (options or LiveOptions()).check()
        if retrieval is not None:
            retrieval.check_dim(model.content_dim, model.version)
        if self.options.threads:
            torch.set_num_threads(int(self.options.threads))
        self.output_rate = int(model.sample_rate)
        self.device = next(model.net.parameters()).device
        self.pitch = BlockPitch(f0 or F0Extractor(device=str(self.device)),
                                 self.options.pitch_s, self.options.cache)
        self.decoder = make_decoder(model.net.dec, self.options.decoder, self.options.threads)
        self.feats = FrameCache(CACHE_FRAMES)  # [orig | retrieved] per 100 fps frame
        self.phases = FrameCache(CACHE_FRAMES)
        self.end = 0  # absolute frame where the last window ended
        self.fresh = True

    def reset(self) -> None:
        self.pitch.reset()
        self.feats.clear()
        self.phases.clear()
        self.end, self.fresh = 0, True

    def convert(self, window: np.ndarray, n_new: int, n_out: int,
                settings: ConvertSettings) -> np.ndarray:
        if not 0 <= settings.speaker < self.model.speakers:
            raise BadArgs(f"speaker must be from 0 to {self.model.speakers - 1} for "
                          f"{self.model.name}, not {settings.speaker}")
        wav = np.asarray(window, dtype=np.float32).reshape(-1)
        usable = (len(wav) // ENC_HOP) * ENC_HOP
        if usable < ENC_HOP * 2 or n_out <= 0:
            return np.zeros(max(n_out, 0), np.float32)
        wav = steps.high_pass_16k(wav[len(wav) - usable:])
        if self.fresh or n_new % HOP or n_new >= usable:
            self.reset()
            self.end, self.fresh, n_new = usable // HOP, False, usable
        else:
            self.end += n_new // HOP
        hop = self.model.hop
        n_dec = math.ceil(n_out / hop)
        total = usable // HOP
        synth = min(total, max(n_dec, int(round(self.options.synth_s * 100))))
        if not self.options.cache:  # nothing older than what HuBERT sees this block
            synth = min(synth, max(n_dec, int(round(self.options.encoder_s * 100))))
        f0 = self._pitch(wav, synth, n_new, settings)
        feats = self._content(wav, synth, n_new, settings, f0)
        audio = self._synthesize(feats, f0, n_dec, settings)
        out = audio[len(audio) - n_out:] if len(audio) >= n_out else \
            np.concatenate([np.zeros(n_out - len(audio), np.float32), audio])
        if settings.rms_mix < 1:
            src = wav[len(wav) - int(round(n_out * SR / self.output_rate)):]
            out = steps.rms_mix(out, self.output_rate, src, settings.rms_mix,
                                frame_s=0.04, hop_s=0.01)
        return np.ascontiguousarray(out, dtype=np.float32)

    # ---------------------------------------------------------------- the steps of a block
    def _pitch(self, wav: np.ndarray, synth: int, n_new: int,
               settings: ConvertSettings) -> np.ndarray | None:
        if not self.model.f0:
            return None
        return self.pitch.frames(wav, synth, n_new, settings)

    def _content(self, wav: np.ndarray, synth: int, n_new: int, settings: ConvertSettings,
                 f0: np.ndarray | None) -> np.ndarray:
        """Features (100 fps) for the last ``synth`` frames: index blend and protection."""
        first, end = self.end - synth, self.end
        span = _frames_of(max(n_new, int(round(self.options.encoder_s * SR))), len(wav))
        edge = 2 * ((span - n_new) // (4 * ENC_HOP))  # the first quarter: kept from cache
        if not (self.options.cache and self.feats.has(first, end - span // HOP + edge)):
            span = _frames_of(synth * HOP, len(wav))
            edge = 0
        self.feats.put(end - span // HOP + edge, self._encode(wav[len(wav) - span:])[edge:])
        both = self.feats.get(first, end)
        original, retrieved = both[:, 0], both[:, 1]
        if self.retrieval is None or settings.index_rate <= 0:
            return original
        rate = settings.index_rate
        blended = (rate * retrieved + (1.0 - rate) * original).astype(np.float32)
        if f0 is None:
            return blended
        return steps.protect(blended, original, f0, settings.protect)

    def _encode(self, seg: np.ndarray) -> np.ndarray:
        """[frames(seg) at 100 fps, 2, D]: the features and their retrieved neighbours."""
        feats = steps.content_features(self.encoder, seg, self.model.version)
        want = len(seg) // ENC_HOP
        if len(feats) < want:  # HuBERT's receptive field: repeat the last frame (RVC)
            pad = np.repeat(feats[-1:], want - len(feats), axis=0)
            feats = np.concatenate([feats, pad])
        feats = feats[:want]
        retrieved = feats if self.retrieval is None else self.retrieval.blend(feats, 1.0)
        return steps.upsample2(np.stack([feats, retrieved], axis=1))

    def _synthesize(self, feats: np.ndarray, f0: np.ndarray | None, n_dec: int,
                    settings: ConvertSettings) -> np.ndarray:
        opts, net, dev = self.options, self.model.net, self.device
        synth = len(feats)
        dec = synth if opts.decoder_context is None else min(synth, n_dec + opts.decoder_context)
        flow = min(synth, dec + opts.flow_context)
        phone = torch.from_numpy(np.ascontiguousarray(feats)).unsqueeze(0).to(dev)
        coarse = shifted = None
        if f0 is not None:
            shifted = steps.shift_key(f0, settings.key)
            coarse = torch.from_numpy(coarse_f0(shifted)).unsqueeze(0).to(dev)
        gen = torch.Generator(device=dev).manual_seed(opts.seed)
        with torch.inference_mode():
            g = net.emb_g(torch.tensor([settings.speaker], device=dev)).unsqueeze(-1)
            m_p, logs_p, _ = net.enc_p(phone, coarse, torch.tensor([synth], device=dev))
            m_p, logs_p = m_p[:, :, synth - flow:], logs_p[:, :, synth - flow:]
            noise = torch.randn(m_p.shape, generator=gen, device=dev, dtype=m_p.dtype)
            z_p = m_p + torch.exp(logs_p) * noise * opts.noise_scale
            z = net.flow(z_p, torch.ones_like(z_p[:, :1]), g=g, reverse=True)[:, :, flow - dec:]
            source = self._source(shifted[synth - dec:] if shifted is not None else None, gen)
            audio = self.decoder(z, source, g)
        return audio[0, 0].float().cpu().numpy()

    def _source(self, f0: np.ndarray | None, gen: torch.Generator) -> torch.Tensor | None:
        """The NSF excitation for the decoded frames, its sine continuing the last block's."""
        if f0 is None:
            return None
        dec = self.model.net.dec
        first = self.end - len(f0)
        phase0 = 0.0
        if self.options.carry_phase and self.phases.has(first, first + 1):
            phase0 = float(self.phases.get(first, first + 1)[0])
        step = f0.astype(np.float64) * dec.upp / self.output_rate
        self.phases.put(first, (phase0 + np.concatenate([[0.0], np.cumsum(step)])) % 1.0)
        f0_t = torch.from_numpy(np.ascontiguousarray(f0)).unsqueeze(0).to(self.device)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda"
                                   else []):
            torch.manual_seed(int(gen.initial_seed()) + 1)
            return dec.m_source(f0_t, dec.upp, phase0)


def _frames_of(samples: int, limit: int) -> int:
    """``samples`` rounded up to whole HuBERT frames, at most ``limit``."""
    return min(limit, -(-samples // ENC_HOP) * ENC_HOP)


def convert_whole(converter: VoiceConverter, wav16k: np.ndarray,
                  settings: ConvertSettings) -> np.ndarray:
    """The whole signal in one pass through the same steps and options (every frame sees
    all context): the reference streaming is compared with."""
    whole = dataclasses.replace(converter.options, encoder_s=1e9, synth_s=1e9, pitch_s=1e9,
                                cache=False, decoder_context=None, flow_context=10**9)
    saved = converter.options, converter.pitch.use_cache
    converter.options = whole
    converter.pitch.use_cache = False
    try:
        converter.reset()
        wav = np.asarray(wav16k, np.float32)
        n_out = (len(wav) // ENC_HOP * ENC_HOP) // HOP * converter.model.hop
        return converter.convert(wav, len(wav), n_out, settings)
    finally:
        converter.options = saved[0]
        converter.pitch.use_cache = saved[1]
        converter.reset()

