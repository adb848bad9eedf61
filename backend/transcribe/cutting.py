"""Cut a long recording into clips at word boundaries, from the words' timestamps.

A cleaner cut than silence slicing for text-to-speech: no clip starts or ends inside a word,
and each clip's text is exactly the words it holds. ``cut_at_words`` chooses the cuts with a
small dynamic programme over the gaps between words: a cut at a sentence end followed by a
pause, or at a pause of twice ``pause`` or more (engines such as pocketsphinx write no
punctuation), is rewarded, so sentences become clips when they are long enough; a cut at a
sentence end without a pause, a pause or a comma costs little, a cut between two words said
without a pause costs most; no clip is longer than ``max_seconds`` (unless one word alone
is), and clips shorter than ``min_seconds`` are made only when there is no other way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.transcribe.engine import Word

PAD_SECONDS = 0.1  # silence kept before the first and after the last word of a clip
_SENTENCE_END = (".", "!", "?", "。", "！", "？", "…", "．")
_CLAUSE_END = (",", ";", ":", "，", "；", "：", "、")
_SHORT_PENALTY = 50.0  # per clip shorter than min_seconds
_NO_CUT = 0.0  # the end of the words: no cut cost

Span = tuple[float, float, list[Word]]


def as_word(value: Any) -> Word:
    """A ``Word``, from a Word or a stored ``[word, start, end, prob]`` list."""
    if isinstance(value, Word):
        return value
    text, start, end, *rest = value
    return Word(str(text), float(start), float(end),
                None if not rest or rest[0] is None else float(rest[0]))


def cut_at_words(words: Sequence[Any], *, max_seconds: float = 12.0, min_seconds: float = 1.5,
                 pause: float = 0.3, pad: float = PAD_SECONDS,
                 duration: float | None = None) -> list[Span]:
    """Spans ``(start, end, words)`` covering every word once, in order.

    Times are those of the words (seconds); each span reaches ``pad`` seconds beyond its
    first and last word, but never more than half-way to the neighbouring word (so clips
    never overlap and never take a piece of another word), never before 0 and never after
    ``duration`` when it is given. ``pause``: a gap between words at least this long counts
    as a pause. Empty ``words`` give no spans."""
    ws = sorted((as_word(w) for w in words if as_word(w).text.strip()),
                key=lambda w: (w.start, w.end))
    if not ws:
        return []
    if max_seconds <= 0 or min_seconds < 0 or min_seconds > max_seconds:
        raise ValueError("cut_at_words needs 0 <= min_seconds <= max_seconds and "
                         "max_seconds > 0")
    pieces = _best_pieces(ws, max(max_seconds - 2 * pad, 1e-3), min_seconds, pause)
    return [_padded(ws, i, j, pad, duration) for i, j in pieces]


def _cut_cost(ws: list[Word], i: int, pause: float) -> float:
    """Cost of cutting after word ``i`` (negative: a place worth cutting at)."""
    gap = max(0.0, ws[i + 1].start - ws[i].end)
    text = ws[i].text.rstrip().rstrip("\"'”’»)]")
    paused = gap >= pause
    if text.endswith(_SENTENCE_END):
        return -4.0 if paused else 1.0
    if gap >= 2 * pause:  # a long pause: a sentence end to an engine that writes no stops
        return -1.0 - min(gap, 1.0)
    if paused:
        return 2.0 - min(gap, 1.0)  # longer pauses are better places
    if text.endswith(_CLAUSE_END):
        return 4.0
    return 10.0 - 4.0 * min(gap / pause, 1.0) if pause > 0 else 10.0


def _best_pieces(ws: list[Word], max_s: float, min_s: float,
                 pause: float) -> list[tuple[int, int]]:
    """Index ranges ``[i, j)`` of the cheapest cutting (dynamic programme over word ends)."""
    n = len(ws)
    cuts = [_cut_cost(ws, i, pause) for i in range(n - 1)] + [_NO_CUT]
    best = [0.0] + [float("inf")] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):  # a piece ending after word j-1
        end = ws[j - 1].end
        for i in range(j - 1, -1, -1):  # starting at word i
            length = end - ws[i].start
            if length > max_s and i < j - 1:
                break  # longer pieces only get longer
            cost = best[i] + cuts[j - 1] + (_SHORT_PENALTY if length < min_s else 0.0)
            if cost < best[j]:
                best[j], back[j] = cost, i
    pieces, j = [], n
    while j > 0:
        pieces.append((back[j], j))
        j = back[j]
    return pieces[::-1]


def _padded(ws: list[Word], i: int, j: int, pad: float, duration: float | None) -> Span:
    first, last = ws[i], ws[j - 1]
    lo = first.start - pad
    if i > 0:
        lo = max(lo, (ws[i - 1].end + first.start) / 2)
    hi = last.end + pad
    if j < len(ws):
        hi = min(hi, (last.end + ws[j].start) / 2)
    lo = max(0.0, min(lo, first.start))
    hi = max(hi, last.end)
    if duration is not None:
        hi = min(hi, max(duration, last.end))
    return round(lo, 3), round(hi, 3), ws[i:j]
