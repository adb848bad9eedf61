"""The Labels page's rows as people read them: columns, cells, filters, sort keys (Qt-free).

A row is what ``labels.get`` and ``labels.apply`` reply (docs/protocol.md, "Labels"): the
stored row of ``labels.json`` (``id, source_id, start, end, text, language, speaker,
confidence, flag, origin, engine, words, stale``) plus ``clip``, ``clip_path``,
``source_path``, ``source_name``, ``duration`` and ``pending``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from desktop.components.clip_names import file_name, format_time

Row = dict[str, Any]

COLUMNS = ("clip", "text", "language", "speaker", "duration", "confidence", "flag")
TITLES = {"clip": "Clip", "text": "Text", "language": "Language", "speaker": "Speaker",
          "duration": "Length", "confidence": "Confidence", "flag": "Flag"}
EDITABLE = ("text", "language", "speaker")
FLAG_WORDS = {"empty": "empty", "low_confidence": "low confidence", "user": "flagged"}

# the flag filter's choices: (value, words)
FLAG_FILTERS = (("all", "All rows"), ("flagged", "Flagged (any)"),
                ("unflagged", "Not flagged"), ("empty", "Empty text"),
                ("low_confidence", "Low confidence"), ("user", "Flagged by you"),
                ("pending", "Not prepared yet"), ("stale", "Stale (clip gone)"))
ANY = None  # a language or speaker filter that lets every row through
NONE_SET = ""  # a language or speaker filter for rows that have none


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def duration(row: Row) -> float:
    d = _num(row.get("duration"))
    if d is None:
        d = (_num(row.get("end")) or 0.0) - (_num(row.get("start")) or 0.0)
    return max(d, 0.0)


def clip_text(row: Row) -> str:
    """``take 1.wav 0:03.2–0:05.8`` (the recording and the span)."""
    source = file_name(row.get("source_name") or row.get("source_path") or row.get("source_id"))
    return f"{source} {format_time(_num(row.get('start')) or 0.0)}–" \
           f"{format_time(_num(row.get('end')) or 0.0)}"


def confidence_text(row: Row) -> str:
    c = _num(row.get("confidence"))
    return "" if c is None else f"{c:.2f}"


def flag_text(row: Row) -> str:
    flag = row.get("flag")
    words = FLAG_WORDS.get(flag, str(flag)) if flag else ""
    extra = [w for w, on in (("stale", row.get("stale")), ("not prepared", row.get("pending")))
             if on]
    return ", ".join([w for w in (words, *extra) if w])


def cell(row: Row, column: str) -> str:
    """What a cell shows (one line: the text's line breaks are shown as spaces)."""
    if column == "clip":
        return clip_text(row)
    if column == "duration":
        return f"{duration(row):.2f} s"
    if column == "confidence":
        return confidence_text(row)
    if column == "flag":
        return flag_text(row)
    value = row.get(column)
    return "" if value is None else str(value).replace("\n", " ")


def tooltip(row: Row, column: str) -> str:
    """The whole of a cell, and where the row's audio is."""
    if column == "clip":
        where = row.get("clip") or "no prepared clip yet (the next prepare makes it)"
        return f"{clip_text(row)}\nrecording: {row.get('source_path') or '?'}\nclip: {where}"
    if column == "confidence" and row.get("engine"):
        return f"{confidence_text(row)} ({row.get('engine')})"
    return str(row.get(column) or "") if column in EDITABLE else cell(row, column)


def typed_value(column: str, text: str) -> str:
    """A language or speaker as typed into its cell: trimmed; a language's code in lower
    case (``EN`` is ``en``; ``zh-CN`` keeps its region)."""
    text = text.strip()
    if column == "language":
        head, sep, rest = text.partition("-")
        return head.lower() + sep + rest
    return text


# filters -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    flag: str = "all"  # one of FLAG_FILTERS' values
    below: float | None = None  # confidence below this (rows without one do not match)
    language: str | None = ANY  # ANY, NONE_SET or a language code
    speaker: str | None = ANY  # ANY, NONE_SET or a name
    text: str = ""  # a part of the text, any case

    def with_(self, **changes: Any) -> Filters:
        return replace(self, **changes)

    @property
    def active(self) -> bool:
        return self != Filters()

    def matches(self, row: Row) -> bool:
        return (self._flag_ok(row) and self._below_ok(row)
                and _value_ok(self.language, row.get("language"))
                and _value_ok(self.speaker, row.get("speaker"))
                and self.text.casefold() in str(row.get("text") or "").casefold())

    def _flag_ok(self, row: Row) -> bool:
        flag = row.get("flag")
        return {"all": True, "flagged": bool(flag), "unflagged": not flag,
                "pending": bool(row.get("pending")),
                "stale": bool(row.get("stale"))}.get(self.flag, flag == self.flag)

    def _below_ok(self, row: Row) -> bool:
        if self.below is None:
            return True
        c = _num(row.get("confidence"))
        return c is not None and c < self.below


def _value_ok(wanted: str | None, value: Any) -> bool:
    if wanted is ANY:
        return True
    return (value or "") == wanted


# sorting -----------------------------------------------------------------------------------
def _last_when_none(value: Any) -> tuple[int, Any]:
    return (1, "") if value is None or value == "" else (0, value)


SORT_KEYS: dict[str, Callable[[Row], Any]] = {
    "text": lambda r: str(r.get("text") or "").casefold(),
    "language": lambda r: _last_when_none(r.get("language")),
    "speaker": lambda r: _last_when_none(str(r.get("speaker") or "").casefold()),
    "duration": duration,
    "confidence": lambda r: _last_when_none(_num(r.get("confidence"))),
    "flag": lambda r: _last_when_none(r.get("flag")),
}


def sorted_ids(rows: dict[str, Row], natural: list[str], column: str | None,
               descending: bool = False) -> list[str]:
    """``natural`` (the recordings' order, then time) sorted by ``column``; equal cells keep
    the natural order. ``None`` or ``"clip"`` is the natural order itself."""
    if column is None or column == "clip":
        return list(reversed(natural)) if descending else list(natural)
    key = SORT_KEYS[column]
    return sorted(natural, key=lambda rid: key(rows[rid]), reverse=descending)


def natural_order(rows: Iterable[Row]) -> list[str]:
    """Recordings in the order they first appear, each one's rows by start time."""
    rank: dict[Any, int] = {}
    listed = list(rows)
    for r in listed:
        rank.setdefault(r.get("source_id"), len(rank))
    listed.sort(key=lambda r: (rank[r.get("source_id")], _num(r.get("start")) or 0.0))
    return [str(r["id"]) for r in listed]


# the summary line ----------------------------------------------------------------------------
def summary_text(rows: Iterable[Row], shown: int | None = None) -> str:
    """``12 rows, 3:41.0 of audio; 2 flagged, 1 empty, 4 not prepared yet, 1 stale`` (+ what
    is shown). As ``labels.get``'s summary: stale rows are counted only as stale."""
    listed = list(rows)
    live = [r for r in listed if not r.get("stale")]
    seconds = sum(duration(r) for r in live)
    counts = [(sum(1 for r in live if r.get("flag")), "flagged"),
              (sum(1 for r in live if not str(r.get("text") or "").strip()), "empty"),
              (sum(1 for r in live if r.get("pending")), "not prepared yet"),
              (len(listed) - len(live), "stale")]
    text = f"{len(live)} row{'s' if len(live) != 1 else ''}, {format_time(seconds)} of audio"
    parts = [f"{n} {what}" for n, what in counts if n]
    if parts:
        text += "; " + ", ".join(parts)
    if shown is not None and shown != len(listed):
        text += f". Showing {shown} (filtered)"
    return text
