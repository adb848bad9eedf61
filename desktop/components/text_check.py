"""The project-wide text check of the Labels page (``text.check``), Qt-free: which rows hold
characters their text front-end cannot read, said in words, and the next such row to visit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_NAMED = 4  # rows named in the summary; the rest are counted


def _char(u: dict[str, Any]) -> str:
    code = u.get("codepoint")
    code_text = f"U+{code:04X}" if isinstance(code, int) else str(code or "")  # "U+1F600"
    where = u.get("index")
    at = f" at character {where + 1}" if isinstance(where, int) else ""
    return f"“{u.get('char', '')}” {code_text} {u.get('name') or ''}".strip() + at


@dataclass
class TextCheck:
    """The last ``text.check`` answer."""

    ids: list[str] = field(default_factory=list)  # rows that cannot be read, in table order
    text: str = ""
    error: bool = False

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> TextCheck:
        rows = [r for r in result.get("rows") or [] if isinstance(r, dict) and r.get("id")]
        checked = result.get("checked")
        parts = []
        for r in rows[:MAX_NAMED]:
            chars = [_char(u) for u in r.get("unsupported") or [] if isinstance(u, dict)]
            what = "; ".join(chars) or "; ".join(str(p) for p in r.get("problems") or [])
            parts.append(f"row {r['id']}: {what}")
        more = len(rows) - MAX_NAMED
        if rows:
            text = (f"{len(rows)} of {checked} texts hold what their front-end cannot read "
                    "(write it out as words, or remove it): " + " · ".join(parts)
                    + (f" · and {more} more" if more > 0 else "") + ".")
        else:
            text = f"All {checked} texts can be read."
        for u in result.get("unavailable") or []:
            if isinstance(u, dict):
                text += (f" {len(u.get('rows') or [])} rows in {u.get('language')} were not "
                         f"checked: {u.get('message')}")
        return cls([str(r["id"]) for r in rows], text, bool(rows))

    def next_after(self, current: str | None, view: Sequence[str]) -> str | None:
        """The first row after ``current`` (in the order shown) that cannot be read, wrapping
        round; None when none of them is shown."""
        bad = set(self.ids)
        order = list(view)
        start = order.index(current) + 1 if current in order else 0
        for rid in order[start:] + order[:start]:
            if rid in bad:
                return rid
        return None
