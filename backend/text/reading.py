"""What a front-end makes of a text: the ``Reading``, and the text-with-origins it is built from.

A normaliser rewrites the text step by step ("$5" -> "five dollars"). ``Mapped`` carries, for
every character of the rewritten text, the index of the character of the ORIGINAL text it came
from, so a character the front-end cannot read is reported where the user typed it. Indices
count Unicode code points (Python ``str`` indices), not UTF-16 units.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Mapped:
    """A text and, per character, its index in the original text."""

    text: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Mapped:
        return cls(text, tuple(range(len(text))))

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> Mapped:
        """``re.sub`` that keeps the origins: the characters of a replacement come from the
        start of the match they replace."""
        parts: list[str] = []
        origin: list[int] = []
        pos = 0
        for m in pattern.finditer(self.text):
            parts.append(self.text[pos:m.start()])
            origin.extend(self.origin[pos:m.start()])
            new = repl(m)
            at = self.origin[m.start()] if m.start() < len(self.origin) else self._end()
            parts.append(new)
            origin.extend([at] * len(new))
            pos = m.end()
        if not parts:
            return self
        parts.append(self.text[pos:])
        origin.extend(self.origin[pos:])
        return Mapped("".join(parts), tuple(origin))

    def _end(self) -> int:
        return self.origin[-1] + 1 if self.origin else 0


def char_name(ch: str) -> str:
    """The Unicode name of a character, or a description when it has none (controls,
    private use, unassigned code points)."""
    name = unicodedata.name(ch, "")
    if name:
        return name
    cat = unicodedata.category(ch)
    kind = {"Cc": "control character", "Co": "private use character",
            "Cs": "surrogate", "Cn": "unassigned code point"}.get(cat, "unnamed character")
    return f"{kind} {codepoint(ch)}"


def codepoint(ch: str) -> str:
    return f"U+{ord(ch):04X}"


@dataclass(frozen=True)
class Unsupported:
    """A character of the original text the front-end cannot read."""

    char: str
    index: int  # in the original text (code points)

    @property
    def name(self) -> str:
        return char_name(self.char)

    def to_json(self) -> dict[str, Any]:
        return {"char": self.char, "codepoint": codepoint(self.char), "name": self.name,
                "index": self.index}

    def describe(self) -> str:
        name, cp = self.name, codepoint(self.char)
        shown = name if cp in name else f"{name} ({cp})"
        return f"{shown} at character {self.index + 1}"


def unsupported_at(mapped: Mapped, positions: list[int]) -> list[Unsupported]:
    """The characters at ``positions`` of the normalised text, placed in the original."""
    return [Unsupported(mapped.text[i], mapped.origin[i]) for i in positions]


@dataclass
class Reading:
    """How a front-end reads one text.

    ``symbols`` are the model's input symbols (entries of the front-end's table) and ``ids``
    their indices in it; ``unknown_symbols`` lists what the phonemiser produced that the table
    lacks (dropped from ``symbols``); ``unsupported`` the characters of the text it cannot
    read (left out of the phonemes)."""

    text: str
    normalized: str
    phonemes: str
    symbols: list[str]
    ids: list[int]
    unsupported: list[Unsupported] = field(default_factory=list)
    unknown_symbols: list[str] = field(default_factory=list)
    frontend: str = ""
    language: str = ""

    @property
    def ok(self) -> bool:
        return not self.unsupported and not self.unknown_symbols

    def problems(self) -> list[str]:
        """One sentence per problem, for a report or an error message."""
        out = [f"cannot read {u.describe()}" for u in self.unsupported]
        if self.unknown_symbols:
            out.append("the symbol table lacks " + ", ".join(
                f"{s!r} ({' '.join(codepoint(c) for c in s)})" for s in self.unknown_symbols))
        return out

    def to_json(self) -> dict[str, Any]:
        return {"normalized": self.normalized, "phonemes": self.phonemes,
                "symbols": self.symbols, "ids": self.ids,
                "unsupported": [u.to_json() for u in self.unsupported],
                "unknown_symbols": self.unknown_symbols, "frontend": self.frontend,
                "language": self.language}
