"""Long text cut into the pieces a text-to-speech model speaks one at a time.

A VITS model speaks one sentence well and a page badly (its attention and duration
predictor were trained on clips of a few seconds), so ``split(text, language, normalize)``
cuts the text:

1. at blank lines (paragraphs: the longest pause);
2. at the ends of sentences, found in the text AS THE FRONT-END WILL READ IT
   (``normalize`` is the front-end's ``normalize_mapped``): its abbreviations ("Mr.",
   "Jan.") and numbers ("$5.50", "3.5") are words by then, so their full stops end nothing.
   English (and the other languages written with spaces): ``.``, ``!``, ``?`` or ``…``,
   closing quotes or brackets, then a space and no lower-case letter. Chinese and Japanese:
   ``。！？`` (the front-end writes them ``.!?``) end a sentence where they stand;
3. a sentence longer than ``max_chars`` of normalised text at its last clause mark (comma,
   semicolon, colon, dash) that keeps the piece short enough, else at its last space,
   else hard.

Each piece keeps the ORIGINAL text the user typed (``text``, ``start``: where it begins in
the whole text, in code points) and the pause that follows it (seconds, before the length
scale). Pieces with nothing to read (a lone "..." or "—") are dropped; their pause is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from backend.text.reading import Mapped

PAUSE_PARAGRAPH = 0.7  # seconds of silence after the last sentence of a paragraph
PAUSE_SENTENCE = 0.35
PAUSE_CLAUSE = 0.15  # after a long sentence's cut at a comma (or a space)

_CLOSERS = "\"'”’»)]}」』）"


@dataclass(frozen=True)
class Rule:
    """Where sentences end in one language."""

    ends: re.Pattern[str]  # a sentence-ending mark (with its closing quotes)
    spaced: bool  # the end needs a space after it (and no lower-case letter next)
    clause: re.Pattern[str]  # a mark a long sentence may be cut after
    max_chars: int  # of normalised text per piece


_SPACED = Rule(re.compile(rf"[.!?…]+[{re.escape(_CLOSERS)}]*"), True,
               re.compile(r"[,;:—–]+(?=\s)"), 250)
_UNSPACED = Rule(re.compile(rf"[.!?…。！？]+[{re.escape(_CLOSERS)}]*"), False,
                 re.compile(r"[,;:，、；：—]+"), 80)
RULES = {"zh": _UNSPACED, "ja": _UNSPACED, "yue": _UNSPACED}


def rule_for(language: str) -> Rule:
    return RULES.get(language, _SPACED)


@dataclass(frozen=True)
class Piece:
    text: str  # the original text, stripped
    start: int  # where ``text`` begins in the whole text (code points)
    pause: float  # seconds of silence after it


Normalize = Callable[[str], Mapped]
_PARAGRAPH_RE = re.compile(r"\n[^\S\n]*\n\s*")


def split(text: str, language: str, normalize: Normalize,
          max_chars: int | None = None) -> list[Piece]:
    """The pieces of ``text`` to speak, in order (see the module docstring)."""
    rule = rule_for(language)
    limit = max_chars or rule.max_chars
    pieces: list[Piece] = []
    at = 0
    for sep in [*_PARAGRAPH_RE.finditer(text), None]:
        end = sep.start() if sep is not None else len(text)
        pieces.extend(_paragraph(text, at, end, rule, limit, normalize))
        if pieces:
            last = pieces[-1]
            pieces[-1] = Piece(last.text, last.start, max(last.pause, PAUSE_PARAGRAPH))
        if sep is not None:
            at = sep.end()
    return pieces


def _paragraph(text: str, a: int, b: int, rule: Rule, limit: int,
               normalize: Normalize) -> list[Piece]:
    par = text[a:b]
    if not par.strip():
        return []
    m = normalize(par)
    out: list[Piece] = []
    cuts = _sentence_ends(m.text, rule)
    starts = [0, *(c for c, _ in cuts)]
    pauses = [p for _, p in cuts]
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(m.text)
        pause = pauses[i] if i < len(pauses) else PAUSE_SENTENCE
        subs = _long(m.text, s, e, rule, limit)
        for j, (x, y) in enumerate(subs):
            gap = pause if j == len(subs) - 1 else PAUSE_CLAUSE
            out.append((x, y, gap))
    return _pieces(a, par, m, out)


def _sentence_ends(norm: str, rule: Rule) -> list[tuple[int, float]]:
    """Positions (in the normalised text) where a new sentence starts, with the pause."""
    cuts = []
    for match in rule.ends.finditer(norm):
        e = match.end()
        if e >= len(norm):
            break
        if rule.spaced:
            if not norm[e].isspace():
                continue
            rest = norm[e:].lstrip()
            if rest and rest[0].islower():
                continue
        cuts.append((e, PAUSE_SENTENCE))
    return cuts


def _long(norm: str, s: int, e: int, rule: Rule, limit: int) -> list[tuple[int, int]]:
    """``[s, e)`` cut into spans of at most ``limit`` characters (clause marks first)."""
    spans = []
    while e - s > limit:
        window = norm[s:s + limit + 1]
        marks = [m.end() for m in rule.clause.finditer(window) if m.end() > limit // 4]
        if not marks:
            spaces = [i for i, ch in enumerate(window) if ch.isspace() and i > limit // 4]
            marks = spaces or [limit]
        cut = s + marks[-1]
        spans.append((s, cut))
        s = cut
    spans.append((s, e))
    return spans


def _pieces(offset: int, par: str, m: Mapped,
            spans: list[tuple[int, int, float]]) -> list[Piece]:
    """Spans of the normalised text as pieces of the original: a span starts at the
    first character that comes from further on than everything before it (a replacement's
    characters all point at the start of what they replace)."""
    run_max = []
    high = -1
    for o in m.origin:
        high = max(high, o)
        run_max.append(high)
    starts = [_original_start(m, run_max, x, len(par)) for x, _, _ in spans] + [len(par)]
    out: list[Piece] = []
    for i, (_, _, pause) in enumerate(spans):
        a, b = starts[i], max(starts[i], starts[i + 1])
        raw = par[a:b]
        if not any(ch.isalnum() for ch in raw):
            if out:  # a dropped piece's pause goes to the one before it
                last = out[-1]
                out[-1] = Piece(last.text, last.start, max(last.pause, pause))
            continue
        lead = len(raw) - len(raw.lstrip())
        out.append(Piece(raw.strip(), offset + a + lead, pause))
    return out


def _original_start(m: Mapped, run_max: list[int], x: int, n: int) -> int:
    if x == 0:
        return 0
    before = run_max[x - 1]
    for j in range(x, len(m.origin)):
        if m.origin[j] > before:
            return m.origin[j]
    return n
