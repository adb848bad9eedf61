"""Putting transcripts into the labels document: flags, the stored form, cut pieces.

Everything here changes a ``LabelsDoc`` in place and is called inside
``backend.labels.store.update``, so it works on the file as it is at that moment: a row the
user has written meanwhile is left as it is (``ops.set_transcript`` refuses it), a row the
user has deleted or split meanwhile is skipped.
"""

from __future__ import annotations

import math
from typing import Any

from backend.labels.store import LabelsDoc
from backend.transcribe.cutting import cut_at_words
from backend.transcribe.engine import Transcript, Word

LOW_CONFIDENCE = 0.5  # a clip whose confidence is below this is flagged "low_confidence"
SPAN_MATCH_S = 0.005  # a row still has the span it was transcribed for


def flag_for(text: str, confidence: float | None) -> str | None:
    """``empty`` for no text, ``low_confidence`` below ``LOW_CONFIDENCE``, else None."""
    if not text.strip():
        return "empty"
    if confidence is not None and confidence < LOW_CONFIDENCE:
        return "low_confidence"
    return None


def stored_words(words: tuple[Word, ...] | list[Word], offset: float) -> list[list[Any]]:
    """``[[word, start, end, prob], ...]`` in seconds of the recording."""
    return [[w.text, round(w.start + offset, 3), round(w.end + offset, 3),
             None if w.prob is None else round(float(w.prob), 4)] for w in words]


def transcript_dict(transcript: Transcript, offset: float) -> dict[str, Any]:
    """The form ``ops.set_transcript`` takes; ``offset``: where the audio started in the
    recording."""
    conf = transcript.confidence
    return {"text": transcript.text.strip(), "language": transcript.language,
            "confidence": None if conf is None else round(float(conf), 4),
            "words": stored_words(transcript.words, offset)}


def set_row(doc: LabelsDoc, rid: str, start: float, end: float, transcript: Transcript,
            engine: str) -> str:
    """Record a row's transcript: ``"transcribed"``, ``"flagged"`` (transcribed and
    flagged), or ``"skipped"`` (the row is gone, has another span now, or holds the user's
    text)."""
    from backend.labels import ops

    try:
        row = doc.row(rid)
    except KeyError:
        return "skipped"
    if abs(float(row["start"]) - start) > SPAN_MATCH_S or \
            abs(float(row["end"]) - end) > SPAN_MATCH_S:
        return "skipped"
    value = transcript_dict(transcript, start)
    if not ops.set_transcript(doc, rid, value, engine,
                              flag_for(value["text"], value["confidence"])):
        return "skipped"  # the user's text
    return "flagged" if row.get("flag") else "transcribed"


def join_words(words: list[Word], language: str | None) -> str:
    """The words as text: as the engine spelled them when it marks word starts with a
    space (Whisper), without spaces for Chinese and Japanese, else one space apart."""
    texts = [w.text for w in words]
    if any(t[:1].isspace() for t in texts) or language in ("zh", "ja", "yue"):
        return "".join(texts).strip()
    return " ".join(t.strip() for t in texts).strip()


def _confidence(words: list[Word], fallback: float | None) -> float | None:
    probs = [w.prob for w in words if w.prob is not None]
    if not probs or len(probs) < len(words):
        return fallback
    return float(math.exp(sum(math.log(max(p, 1e-6)) for p in probs) / len(probs)))


def cut_pieces(parts: list[tuple[float, float, Transcript]], *, max_seconds: float = 12.0,
               min_seconds: float = 1.5, pause: float = 0.3) -> list[dict[str, Any]]:
    """The pieces of a source for ``ops.cut_source``: each ``(segment start, segment end,
    transcript of the whole segment with words)`` cut at its words; times in seconds of
    the recording, never outside the segment."""
    pieces = []
    for a, b, tr in parts:
        spans = cut_at_words(list(tr.words), max_seconds=max_seconds,
                             min_seconds=min_seconds, pause=pause, duration=b - a)
        for lo, hi, words in spans:
            conf = _confidence(words, tr.confidence)
            pieces.append({"start": round(a + lo, 3), "end": round(min(b, a + hi), 3),
                           "text": join_words(words, tr.language),
                           "language": tr.language,
                           "confidence": None if conf is None else round(conf, 4),
                           "words": stored_words(words, a)})
    return pieces


def cut_source(doc: LabelsDoc, source_id: str, pieces: list[dict[str, Any]],
               engine: str) -> list[str]:
    """Replace the source's rows by ``pieces`` (``ops.cut_source``: ValueError naming a row
    that holds the user's text), flagged as a transcription would flag them."""
    from backend.labels import ops

    flagged = [{**p, "flag": flag_for(p["text"], p["confidence"])} for p in pieces]
    return ops.cut_source(doc, source_id, flagged, engine)
