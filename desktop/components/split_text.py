"""Where the split dialog cuts a row: the point in time and the text at a word (Qt-free).

A row spans ``start``..``end`` seconds of its recording; the split point must lie strictly
inside, at least ``MIN_SIDE`` from either end (``clamp_point``). The text is cut between
two words: a token is a run of non-space characters, except that each CJK character (no
spaces in Chinese or Japanese) is a token of its own. ``text_at`` picks the boundary:
from the row's ``words`` (``[[word, start, end, prob], ...]`` in seconds of the recording)
when their count matches the text's tokens, by their share when the text was edited
since, else at the boundary nearest the time share of the point. ``halves`` cuts there;
``index_of_halves`` reads two halves the user adjusted back into a character index (None
when they no longer read the row's text).
"""

from __future__ import annotations

import re
from typing import Any

MIN_SIDE = 0.02  # seconds each side keeps at least
_CJK = ("\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef")
TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


def can_split(start: float, end: float) -> bool:
    return end - start > 2 * MIN_SIDE + 1e-9  # (float noise: 1.04 - 1.0 > 0.04)


def clamp_point(t: float, start: float, end: float) -> float:
    """``t`` moved strictly inside the span (ms precision), ``MIN_SIDE`` from each end."""
    lo, hi = start + MIN_SIDE, end - MIN_SIDE
    at = round(min(max(float(t), lo), hi), 3)
    if not start < at < end:  # rounding pushed it onto an end of a very short span
        at = (start + end) / 2
    return at


def tokens(text: str) -> list[tuple[int, int]]:
    """(first, after-last) character index of every token of ``text``."""
    return [(m.start(), m.end()) for m in TOKEN.finditer(text)]


def boundaries(text: str) -> list[int]:
    """The character index where the right half starts, for 0..N tokens on the left:
    0, the start of each token after the first, len(text)."""
    toks = tokens(text)
    return [0, *[a for a, _ in toks[1:]], len(text)] if toks else [0]


def _words_left(words: list[Any], at: float) -> tuple[int, int] | None:
    """(how many of ``words`` end up left of ``at`` by their middle, how many have times);
    None without timed words."""
    timed = [w for w in words if isinstance(w, list | tuple) and len(w) >= 3
             and isinstance(w[1], int | float) and isinstance(w[2], int | float)]
    if not timed:
        return None
    return sum(1 for w in timed if (float(w[1]) + float(w[2])) / 2 < at), len(timed)


def text_at(text: str, words: list[Any] | None, at: float, start: float, end: float) -> int:
    """The character index to cut ``text`` at for a split at ``at`` seconds."""
    bounds = boundaries(text)
    n_tokens = len(bounds) - 1
    if n_tokens <= 0:
        return 0
    counted = _words_left(words or [], at)
    if counted is not None:
        left, total = counted
        if total == n_tokens:
            return bounds[left]
        return bounds[round(left / total * n_tokens)]  # the text was edited since
    share = (at - start) / (end - start) if end > start else 0.5
    return min(bounds, key=lambda b: (abs(b / len(text) - share), b))


def halves(text: str, index: int) -> tuple[str, str]:
    return text[:index].rstrip(), text[index:].lstrip()


def _words(text: str) -> list[str]:
    return [text[a:b] for a, b in tokens(text)]


def index_of_halves(text: str, left: str, right: str) -> int | None:
    """The boundary of ``text`` where ``left`` ends and ``right`` begins, when the two
    halves still read ``text`` word for word (spaces aside); else None."""
    left_words, right_words = _words(left), _words(right)
    if left_words + right_words != _words(text):
        return None
    return boundaries(text)[len(left_words)]


def move_word(text: str, index: int, step: int) -> int:
    """The boundary ``step`` words to the right (negative: left) of ``index``."""
    bounds = boundaries(text)
    at = min(range(len(bounds)), key=lambda i: abs(bounds[i] - index))
    return bounds[max(0, min(len(bounds) - 1, at + step))]
