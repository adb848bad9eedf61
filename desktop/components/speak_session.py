"""What the Speak page knows about what was spoken and what plays (Qt-free).

``SpeakResult`` is a ``speak`` job's result (``{out, seconds, sample_rate, sentences:
[{text, start, end}], speaker, voice, reading: {normalized, phonemes}}``). ``SpeakSession``
keeps the last result with the arguments it was spoken with (so the page can tell whether
the text or a setting changed since), the playback of that file (``audio.play`` answers
and ``audio.position``/``audio.finished`` events, matched by ``play_id``) and puts the
job's progress, its end and playback in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.components.convert_session import fmt_seconds
from desktop.components.models_library import ADVICE as VOICE_ADVICE
from desktop.components.models_library import NOT_A_VOICE_MODEL

SPEAKING, CONVERTING = "speaking", "converting"
SHOWN_CHARS = 60  # a sentence quoted in the status is cut to this many characters

# what to do, after the backend's message, for the speak job's errors
ADVICE = {
    "unsafe_file": "Nothing in it ran. A model never needs to run code when it is opened: "
                   "get it from a source you trust.",
    "not_found": "Check that the file still exists (it may have been moved or deleted); "
                 "Refresh lists the models that are there.",
    NOT_A_VOICE_MODEL: "“In the voice of” needs a voice-conversion model: "
                       + VOICE_ADVICE[NOT_A_VOICE_MODEL],
}


def _num(value: Any, default: float = 0.0) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else default


def quote(text: str, limit: int = SHOWN_CHARS) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[:limit - 1].rstrip() + '…'}”"


@dataclass(frozen=True)
class Sentence:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class SpeakResult:
    out: str
    seconds: float
    sample_rate: int
    sentences: tuple[Sentence, ...]
    speaker: str | None
    voice: str | None
    normalized: str
    phonemes: str

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> SpeakResult | None:
        out = result.get("out")
        if not isinstance(out, str) or not out:
            return None
        sentences = tuple(Sentence(str(s.get("text") or ""), _num(s.get("start")),
                                   _num(s.get("end")))
                          for s in result.get("sentences") or [] if isinstance(s, dict))
        got = result.get("reading")
        reading: dict[str, Any] = got if isinstance(got, dict) else {}
        speaker, voice = result.get("speaker"), result.get("voice")
        rate = result.get("sample_rate")
        return cls(out=out, seconds=_num(result.get("seconds")),
                   sample_rate=rate if isinstance(rate, int) else 0, sentences=sentences,
                   speaker=None if speaker is None else str(speaker),
                   voice=voice if isinstance(voice, str) and voice else None,
                   normalized=str(reading.get("normalized") or ""),
                   phonemes=str(reading.get("phonemes") or ""))

    def sentence_at(self, t: float) -> int | None:
        """The index of the sentence playing at ``t`` seconds (a pause counts as the
        sentence before it); None before the first or without sentences."""
        found = None
        for n, s in enumerate(self.sentences):
            if t >= s.start:
                found = n
        return found

    def summary(self) -> str:
        """``Spoke 3 sentences (4.2 s) as Anna, in the voice of My voice ü.``"""
        n = len(self.sentences)
        text = f"Spoke {n} sentence{'s' if n != 1 else ''} ({self.seconds:.1f} s)"
        if self.speaker:
            text += f" as {self.speaker}"
        if self.voice:
            text += f", in the voice of {self.voice}"
        return text + "."


class SpeakSession:
    def __init__(self) -> None:
        self.result: SpeakResult | None = None
        self.spoken_args: dict[str, Any] | None = None  # the job args of ``result``
        self.play_id: Any = None
        self.waiting = False  # audio.play sent, its answer not here yet
        self.playing = False
        self.position = 0.0

    # results --------------------------------------------------------------------------
    def spoken(self, args: dict[str, Any], result: dict[str, Any]) -> SpeakResult | None:
        """A finished job's result; None (and the old result kept) when it names no file."""
        parsed = SpeakResult.from_result(result)
        if parsed is not None:
            self.stopped()
            self.result, self.spoken_args, self.position = parsed, dict(args), 0.0
        return parsed

    def is_current(self, args: dict[str, Any] | None) -> bool:
        """Whether the result was spoken from exactly these arguments."""
        return self.result is not None and args is not None and args == self.spoken_args

    # playback ---------------------------------------------------------------------------
    def play_args(self) -> dict[str, Any] | None:
        if self.result is None:
            return None
        self.waiting, self.position = True, 0.0
        return {"path": self.result.out, "start": 0.0, "end": None}

    def started(self, answer: dict[str, Any]) -> None:
        self.play_id, self.waiting, self.playing = answer.get("play_id"), False, True

    def stopped(self) -> None:
        self.waiting = self.playing = False

    def on_position(self, data: dict[str, Any], finished: bool = False) -> bool:
        """An ``audio.position``/``audio.finished`` event; False when it is not ours (of
        another page's playback, or of the one this playback replaced)."""
        if self.waiting or self.play_id is None or data.get("play_id") != self.play_id:
            return False
        self.position = _num(data.get("t"), self.position)
        if finished or not data.get("playing", True):
            self.playing = False
        return True

    def position_text(self) -> str:
        """``Playing 0:01.2 of 0:04.5: sentence 2 of 3, “…”``."""
        res = self.result
        if res is None:
            return ""
        text = f"Playing {fmt_seconds(self.position)} of {fmt_seconds(res.seconds)}"
        at = res.sentence_at(self.position)
        if at is not None and len(res.sentences) > 1:
            text += f": sentence {at + 1} of {len(res.sentences)}, " \
                    f"{quote(res.sentences[at].text)}"
        return text


def progress_text(stage: str, done: float, total: float, voice: str | None = None) -> str:
    """``Speaking sentence 2 of 5…``, ``Converting into the voice of Alto…`` (``voice``:
    the voice model's name), ``Loading the voice…``."""
    if stage == SPEAKING:
        if total > 1:
            return f"Speaking sentence {min(int(done) + 1, int(total))} of {int(total)}…"
        return "Speaking…"
    if stage == CONVERTING:
        return f"Converting into the voice of {voice}…" if voice \
            else "Converting into the chosen voice…"
    return "Loading the model…" if stage in ("", "starting") else f"{stage.capitalize()}…"


def failed_text(code: str, message: str, what: str) -> str:
    """``what: message`` (the backend's message names the file or the setting), then what
    to do."""
    advice = ADVICE.get(code)
    return f"{what}: {message}" + (f"\n{advice}" if advice else "")
