"""Speak a text with a VITS model: sentence by sentence, joined without clicks.

    model = load_tts_model(path)                     # backend.models.vits.files
    sid, name = resolve_speaker(model, "alice")      # a name, an id, or None
    speech = speak(model, text, SpeakSettings(length_scale=1.2), sid)
    speech.audio, speech.sample_rate, speech.sentences, speech.reading

The text is cut into sentences (``backend.tts.sentences``); each is read by the model's
front-end (``read_pieces``: a sentence with no readable letter is left out) into the model's
own symbol ids (``ids_for``: blanks interspersed when the model
was trained with them) and synthesised alone with ``VitsGenerator.infer``, from the same
random seed each time, so the same sentence with the same settings always sounds the same.
Each sentence's first and last ``FADE_S`` are faded (raised cosine) and a pause of silence
(``sentences.PAUSE_*`` times the length scale) goes between them, so no join clicks.

Settings (``SpeakSettings``): ``length_scale`` (speed: 2 is twice as slow, 0.25 to 4),
``noise_scale`` (variation of the voice, 0 to 2, VITS default 0.667), ``noise_scale_w``
(variation of the timing, 0 to 2, default 0.8; only stochastic duration predictors use it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from backend.kernel import BadArgs, JobError
from backend.tts import sentences

FADE_S = 0.01  # fade-in and fade-out of every sentence
MAX_SECONDS = 120.0  # per sentence: a guard against a runaway duration predictor
MAX_CHARS = 100_000  # of text per job (the text preview's limit)
SEED = 0
RANGES = {"length_scale": (0.25, 4.0, "speed"), "noise_scale": (0.0, 2.0, "variation"),
          "noise_scale_w": (0.0, 2.0, "timing variation")}  # name: (lowest, highest, words)


@dataclass(frozen=True)
class SpeakSettings:
    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_scale_w: float = 0.8

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> SpeakSettings:
        """From request/CLI arguments (absent or null: the default); BadArgs names the
        argument and its range."""
        values = {k: args[k] for k in RANGES if args.get(k) is not None}
        for name, value in values.items():
            lo, hi, what = RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not lo <= value <= hi or value != value:
                raise BadArgs(f"{name} ({what}) must be a number from {lo:g} to {hi:g}, "
                              f"not {value!r}")
        return cls(**{k: float(v) for k, v in values.items()})

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Sentence:
    text: str  # as typed
    start: float  # seconds in the result
    end: float


@dataclass
class Speech:
    audio: np.ndarray  # float32 mono
    sample_rate: int
    sentences: list[Sentence]
    normalized: str  # the text as it was spoken (the front-end's normalisation)
    phonemes: str
    unsupported: list[dict[str, Any]] = field(default_factory=list)  # Unsupported.to_json()

    @property
    def seconds(self) -> float:
        return self.audio.shape[0] / self.sample_rate

    def reading(self) -> dict[str, Any]:
        return {"normalized": self.normalized, "phonemes": self.phonemes,
                "unsupported": self.unsupported}


# -- speakers --------------------------------------------------------------------------------
def resolve_speaker(model: Any, value: object) -> tuple[int | None, str | None]:
    """``(sid, name)`` for a speaker of ``model`` given by name or id (``None``/"": its
    first). A single-speaker model takes no speaker id (``sid`` None); its own name (or 0)
    is accepted. BadArgs names the speaker and lists the model's."""
    return speaker_in(dict(model.speakers or {}), int(model.cfg.n_speakers or 0), model.name,
                      value)


def speaker_in(table: dict[str, int], count: int, model_name: str,
               value: object) -> tuple[int | None, str | None]:
    """``resolve_speaker`` on a speaker table (name -> id) and the model's speaker count."""
    by_id = {i: n for n, i in sorted(table.items(), key=lambda kv: kv[1])}
    if count <= 1:  # as the generator: one speaker has no speaker table
        only = next(iter(table), None)
        if value is None or value == "" or value == 0 or str(value) in ("0", only):
            return None, only
        raise BadArgs(f"{model_name} speaks with one voice{_named(only)}: there is no "
                      f"speaker {value!r} to choose; leave the speaker out")
    if value is None or value == "":
        sid = min(by_id) if by_id else 0
        return sid, by_id.get(sid)
    if isinstance(value, str) and value in table:
        return table[value], value
    sid = _as_id(value)
    if sid is None:
        raise BadArgs(f"speaker {value!r} is not in {model_name}: {_speakers(by_id, count)}")
    if not 0 <= sid < count:
        raise BadArgs(f"speaker {sid} is out of range: {model_name} has speaker ids 0 to "
                      f"{count - 1} ({_speakers(by_id, count)})")
    return sid, by_id.get(sid)


def _named(name: str | None) -> str:
    return f" ({name})" if name else ""


def _as_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _speakers(by_id: dict[int, str], count: int, show: int = 8) -> str:
    if not by_id:
        return f"its {count} speakers have no names: give an id from 0 to {count - 1}"
    names = list(by_id.values())
    more = f" and {len(names) - show} more" if len(names) > show else ""
    return "its speakers are " + ", ".join(repr(n) for n in names[:show]) + more


# -- synthesis -------------------------------------------------------------------------------
def synthesize(model: Any, ids: list[int], sid: int | None, settings: SpeakSettings,
               seed: int = SEED) -> np.ndarray:
    """One sentence (symbol ids, blanks included) as float32 audio at the model's rate."""
    import torch

    gen = model.generator
    device = next(gen.parameters()).device
    x = torch.tensor([ids], dtype=torch.long, device=device)
    lengths = torch.tensor([len(ids)], dtype=torch.long, device=device)
    speaker = None if sid is None else torch.tensor([sid], dtype=torch.long, device=device)
    max_len = int(MAX_SECONDS * model.sample_rate / model.cfg.hop_length)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.inference_mode():
        torch.manual_seed(seed)
        out = gen.infer(x, lengths, sid=speaker, noise_scale=settings.noise_scale,
                        length_scale=settings.length_scale,
                        noise_scale_w=settings.noise_scale_w, max_len=max_len)
    return out.audio[0, 0].float().cpu().numpy()


def fade_edges(audio: np.ndarray, rate: int, seconds: float = FADE_S) -> np.ndarray:
    """``audio`` without its DC offset, rising from and falling to zero over ``seconds``."""
    y = np.asarray(audio, dtype=np.float32)
    if y.size == 0:
        return y
    y = y - np.float32(y.mean())
    n = min(int(round(seconds * rate)), y.shape[0] // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n, dtype=np.float32) + 1) / (n + 1)))
        y[:n] *= ramp
        y[-n:] *= ramp[::-1]
    return y


def join(parts: list[tuple[np.ndarray, float]], rate: int
         ) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Faded pieces with ``pause`` seconds of silence after each but the last; returns the
    audio and each piece's (start, end) in seconds."""
    chunks: list[np.ndarray] = []
    spans = []
    at = 0
    for i, (audio, pause) in enumerate(parts):
        piece = fade_edges(audio, rate)
        chunks.append(piece)
        spans.append((at / rate, (at + piece.shape[0]) / rate))
        at += piece.shape[0]
        if i < len(parts) - 1:
            gap = np.zeros(int(round(pause * rate)), dtype=np.float32)
            chunks.append(gap)
            at += gap.shape[0]
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return audio, spans


Progress = Callable[[int, int], None]  # (sentences done, sentences in all)


def speak(model: Any, text: str, settings: SpeakSettings, sid: int | None, *,
          check: Callable[[], None] = lambda: None,
          progress: Progress = lambda _d, _t: None) -> Speech:
    """The whole text spoken; BadArgs when there is nothing to say."""
    lines, unread = read_pieces(model, plan(text, model.language, model.name))
    parts = []
    progress(0, len(lines))
    for i, (piece, ids, _) in enumerate(lines):
        check()
        parts.append((synthesize(model, ids, sid, settings),
                      piece.pause * settings.length_scale))
        progress(i + 1, len(lines))
    audio, spans = join(parts, model.sample_rate)
    said = [Sentence(p.text, round(a, 3), round(b, 3))
            for (p, _, _), (a, b) in zip(lines, spans, strict=True)]
    return Speech(audio, int(model.sample_rate), said,
                  " ".join(r.normalized for _, _, r in lines),
                  " ".join(r.phonemes for _, _, r in lines), unread)


Line = tuple[sentences.Piece, list[int], Any]  # a piece, its ids, its Reading


def read_pieces(model: Any, pieces: list[sentences.Piece]
                ) -> tuple[list[Line], list[dict[str, Any]]]:
    """The pieces with something the front-end can read, as the model's ids, and every
    character left unread (``Unsupported.to_json()``, index in the whole text). A piece
    whose letters are all unreadable (Latin words for a Chinese model) is left out, its
    pause given to the one before; none left: BadArgs naming what cannot be read."""
    from backend.models.vits.files import ids_for
    from backend.text import get
    from backend.text.frontend import LANGUAGE_NAMES

    frontend = get(model.language)
    lines: list[Line] = []
    unread: list[dict[str, Any]] = []
    for piece in pieces:
        reading = frontend.read(piece.text)
        unread += [{**u.to_json(), "index": piece.start + u.index}
                   for u in reading.unsupported]
        bad = {u.index for u in reading.unsupported}
        if any(ch.isalnum() and i not in bad for i, ch in enumerate(piece.text)):
            ids, reading = ids_for(model, piece.text)
            lines.append((piece, ids, reading))
        elif lines:
            last, ids, r = lines[-1]
            lines[-1] = (sentences.Piece(last.text, last.start, max(last.pause, piece.pause)),
                         ids, r)
    if not lines:
        language = LANGUAGE_NAMES.get(frontend.language, frontend.language)
        shown = ", ".join(f"{u['char']!r} ({u['name']})" for u in unread[:3])
        raise BadArgs(f"nothing to say: the {language} front-end cannot read "
                      f"{shown or 'this text'}")
    return lines, unread


def plan(text: str, language: str, model_name: str) -> list[sentences.Piece]:
    """The sentences of ``text`` for a model of ``language``; BadArgs when there are none
    (and JobError ``unavailable`` when the language's front-end cannot run here)."""
    from backend.protocol import E_UNAVAILABLE
    from backend.text import FrontendUnavailable, get
    from backend.text.frontend import LANGUAGE_NAMES

    if not isinstance(text, str) or not text.strip():
        raise BadArgs("the text is empty: type or paste what to say")
    if len(text) > MAX_CHARS:
        raise BadArgs(f"the text has {len(text):,} characters; speak at most {MAX_CHARS:,} "
                      "at a time")
    if not language:
        raise BadArgs(f"{model_name} does not say which language it reads (its config names "
                      "no text cleaners this app knows): it cannot be given text")
    try:
        frontend = get(language)
    except FrontendUnavailable as exc:
        raise JobError(f"{model_name} speaks {language}: {exc.message}",
                       code=E_UNAVAILABLE) from exc
    pieces = sentences.split(text, frontend.language, frontend.normalize_mapped)
    if not pieces:
        language = LANGUAGE_NAMES.get(frontend.language, frontend.language)
        raise BadArgs(f"nothing to say: the text has no words the {language} front-end "
                      "can read")
    return pieces
