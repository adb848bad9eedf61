"""English normalisation: the text as it will be spoken, before phonemes.

Numbers (cardinals, ordinals "1st", decimals, negatives, years, decades, money, percents,
times), symbols (& % + @ # = ...), common abbreviations (Mr. Mrs. Dr. St. vs. etc. No. ...),
typographic variants (full-width letters, curly quotes, dashes) and accented Latin letters
folded to ASCII. What is left that English cannot read is reported by the front-end.
Every step works on a ``Mapped`` text, so positions still point into the original.
"""

from __future__ import annotations

import re
import unicodedata

from backend.text import en_numbers as num
from backend.text.reading import Mapped
from backend.text.symbols import VITS_EN_PUNCTUATION

# characters the English front-end reads after normalisation (hyphen and apostrophe inside
# words, whitespace between them)
READABLE_EXTRA = "'- "


UNREADABLE_RE = re.compile(f"[^A-Za-z{re.escape(READABLE_EXTRA + VITS_EN_PUNCTUATION)}]")
_NOT_PLAIN_RE = re.compile(f"[^0-9A-Za-z{re.escape(READABLE_EXTRA + VITS_EN_PUNCTUATION)}]")


_CHAR_MAP = {
    "‘": "'", "’": "'", "‚": ",", "‛": "'", "′": "'", "`": "'", "´": "'", "„": '"', "‟": '"',
    "″": '"', "–": "-", "‑": "-", "‐": "-", "−": "-", "―": "—", "\t": " ", "\n": " ",
    "\r": " ", "\u00a0": " ", "\u3000": " ", "½": " one half ", "¼": " one quarter ",
    "¾": " three quarters ", "²": " squared ", "³": " cubed ", "°": " degrees ",
    "×": " times ", "÷": " divided by ", "±": " plus or minus ", "ß": "ss", "æ": "ae",
    "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ø": "o", "Ø": "O", "ð": "th", "Ð": "Th", "þ": "th",
    "Þ": "Th", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "(": " ", ")": " ", "[": " ",
    "]": " ", "{": " ", "}": " ",
}


def _fold(ch: str, prev: str) -> str:
    """One character made plain: typographic variants, compatibility forms (full-width
    letters, ligatures), Latin letters without their accents."""
    if ch in _CHAR_MAP:
        return _CHAR_MAP[ch]
    if unicodedata.category(ch) == "Mn" and prev.isalpha() and prev.isascii():
        return ""  # an accent combined with the letter before it
    for form in ("NFKC", "NFKD"):
        plain = "".join(c for c in unicodedata.normalize(form, ch)
                        if unicodedata.category(c) != "Mn")
        if plain and plain.isascii() and plain.isprintable() and plain != ch:
            return plain
    return ch


def _fold_chars(m: Mapped) -> Mapped:
    text = m.text
    return m.sub(_NOT_PLAIN_RE, lambda x: _fold(x.group(0), text[x.start() - 1]
                                                if x.start() else ""))


_ABBREVIATIONS = {
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Dr": "Doctor", "Prof": "Professor",
    "Jr": "Junior", "Sr": "Senior", "Mt": "Mount", "Capt": "Captain", "Gen": "General",
    "Lt": "Lieutenant", "Col": "Colonel", "Sgt": "Sergeant", "Gov": "Governor",
    "Rev": "Reverend", "Hon": "Honorable", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard",
    "Co": "Company", "Corp": "Corporation", "Inc": "Incorporated", "Ltd": "Limited",
    "vs": "versus", "Jan": "January", "Feb": "February", "Aug": "August", "Sept": "September",
    "Oct": "October", "Nov": "November", "Dec": "December", "approx": "approximately",
    "dept": "department", "est": "established",
}
_ABBREV_ALTERNATIVES = "|".join(sorted(_ABBREVIATIONS, key=len, reverse=True))
_ABBREV_RE = re.compile(rf"\b({_ABBREV_ALTERNATIVES})\.(?=\s|$|[,;:!?])")
# "etc." and "e.g." end sentences too: keep the full stop when the sentence ends there
_ETC_RE = re.compile(r"\b([Ee]tc|[Ee]\.g|[Ii]\.e)\.(\s+(?=[A-Z])|\s*$)?")
_ETC = {"etc": "et cetera", "e.g": "for example", "i.e": "that is"}
_ST_RE = re.compile(r"\bSt\.(?=\s+[A-Z])|\bSt\.")
_NO_RE = re.compile(r"\b(No|no|Nos|nos)\.(?=\s*\d)")


def _st(m: re.Match[str]) -> str:
    # "St. Louis" is a saint; "Baker St." a street
    return "Saint" if re.match(r"St\.\s+[A-Z]", m.string[m.start():]) else "Street"


def _etc(m: re.Match[str]) -> str:
    words = _ETC[m.group(1).lower()]
    end = m.group(2)
    return words + ("." + end if end is not None else "")


def _abbreviations(m: Mapped) -> Mapped:
    m = m.sub(_ETC_RE, _etc)
    m = m.sub(_NO_RE, lambda x: "numbers" if x.group(1).lower() == "nos" else "number")
    m = m.sub(_ST_RE, _st)
    return m.sub(_ABBREV_RE, lambda x: _ABBREVIATIONS[x.group(1)])


_NUM = r"\d{1,3}(?:,\d{3})+|\d+"
_SCALE = r"(?:hundred|thousand|million|billion|trillion)"
_MONEY_RE = re.compile(rf"(-?)([{re.escape(num.CURRENCY_SIGNS)}])\s?({_NUM})?(?:\.(\d+))?"
                       rf"(?:\s({_SCALE})\b)?")
_PERCENT_RE = re.compile(rf"(-?)({_NUM})?(?:\.(\d+))?\s?%")
_TIME_RE = re.compile(r"\b([01]?\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?\b"
                      r"(?:\s?([AaPp])\.?[Mm]\b\.?)?")
_ORDINAL_RE = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_DECADE_RE = re.compile(r"\b(1\d|20)?(\d)0'?s\b")
_DECIMAL_RE = re.compile(rf"({_NUM})?\.(\d+)")
_NEGATIVE_RE = re.compile(r"(?<![\w.])-(?=[\d.]\d*)")
_YEAR_RE = re.compile(r"(?<![\d,.])(1[1-9]\d\d|20\d\d)(?!\d|[,.]\d)")
_RANGE_RE = re.compile(r"(?<![\d.,-])(\d+)\s?-\s?(\d+)(?!\d|[.,-]\d)")
_CHAIN_RE = re.compile(r"(?<![\d.,-])\d+(?:-\d+){2,}(?!\d|[.,-]\d)")
_INTEGER_RE = re.compile(_NUM)
_FRACTION_RE = re.compile(r"(?<![\d/.,])(\d{1,3})/([2-9]|10)(?![\d/]|[.,]\d)")


def _spaced(words: str) -> str:
    return f" {words} "


def _money(m: re.Match[str]) -> str:
    sign, cur, whole, frac, scale = m.groups()
    if whole is None and frac is None:
        return _spaced(num.currency_name(cur, plural=False))  # a sign alone
    words = num.money(cur, whole or "", frac, scale)
    return _spaced(("minus " if sign else "") + words)


def _percent(m: re.Match[str]) -> str:
    sign, whole, frac = m.groups()
    if whole is None and frac is None:
        return " percent "
    n = num.decimal(whole or "", frac) if frac else num.cardinal(int(whole.replace(",", "")))
    return _spaced(("minus " if sign else "") + n + " percent")


def _time(m: re.Match[str]) -> str:
    hours, minutes, seconds, ampm = m.groups()
    h, mins = int(hours), int(minutes)
    words = num.cardinal(h)
    if mins == 0 and not seconds:
        words += " o'clock" if not ampm else ""
    elif mins < 10:
        words += f" oh {num.cardinal(mins)}"
    else:
        words += f" {num.cardinal(mins)}"
    if seconds:
        s = int(seconds)
        words += f" and {num.cardinal(s)} second{'s' if s != 1 else ''}"
    if ampm:
        words += f" {ampm.lower()} m"
    return _spaced(words)


def _decade(m: re.Match[str]) -> str:
    century, tens = m.group(1), int(m.group(2))
    if century:
        return _spaced(num.plural_year(int(century) * 100 + tens * 10))
    return _spaced(num.plural_year(1900 + tens * 10).split(" ", 1)[1])


def _chain(m: re.Match[str]) -> str:
    """Phone numbers and codes ("555-123-4567"): digit by digit, a pause per group."""
    return _spaced(", ".join(num.digits(g) for g in m.group(0).split("-")))


def _fraction(m: re.Match[str]) -> str:
    """"1/2" one half, "3/4" three quarters, "2/3" two thirds (denominators up to ten)."""
    top, bottom = int(m.group(1)), int(m.group(2))
    name = {2: "half", 4: "quarter"}.get(bottom) or num.ordinal(bottom)
    if top != 1:
        name = "halves" if bottom == 2 else name + "s"
    return _spaced(f"{num.cardinal(top)} {name}")


def _decimal(m: re.Match[str]) -> str:
    return _spaced(num.decimal(m.group(1) or "", m.group(2)))


def _integer(m: re.Match[str]) -> str:
    s = m.group(0).replace(",", "")
    if len(s) > 1 and s.startswith("0"):
        return _spaced(num.digits(s))  # "007", codes, phone numbers
    return _spaced(num.cardinal(int(s)))


_SYMBOLS = {"&": " and ", "+": " plus ", "@": " at ", "=": " equals ", "<": " less than ",
            ">": " greater than ", "/": " slash ", "%": " percent ", "§": " section ",
            "©": " copyright ", "®": " registered ", "™": " trademark "}
_HASH_RE = re.compile(r"(#\s?(?=\d))|#")
_SYMBOL_RE = re.compile(f"[{re.escape(''.join(_SYMBOLS))}]")
_DASH_RE = re.compile(r"\s+-+\s+|(?<=\w)--+(?=\w)")


def _numbers(m: Mapped) -> Mapped:
    m = m.sub(_HASH_RE, lambda x: " number " if x.group(1) else " hash ")
    m = m.sub(_CHAIN_RE, _chain)
    m = m.sub(_RANGE_RE, lambda x: f"{x.group(1)} to {x.group(2)}")
    m = m.sub(_MONEY_RE, _money)
    m = m.sub(_PERCENT_RE, _percent)
    m = m.sub(_TIME_RE, _time)
    m = m.sub(_ORDINAL_RE, lambda x: _spaced(num.ordinal(int(x.group(1)))))
    m = m.sub(_DECADE_RE, _decade)
    m = m.sub(_FRACTION_RE, _fraction)
    m = m.sub(_NEGATIVE_RE, lambda x: " minus ")
    m = m.sub(_DECIMAL_RE, _decimal)
    m = m.sub(_YEAR_RE, lambda x: _spaced(num.year(int(x.group(1)))))
    return m.sub(_INTEGER_RE, _integer)


def _symbols(m: Mapped) -> Mapped:
    m = m.sub(_DASH_RE, lambda x: " — ")
    return m.sub(_SYMBOL_RE, lambda x: _SYMBOLS[x.group(0)])


_SPACES_RE = re.compile(r"\s{2,}")
_SPACE_BEFORE_RE = re.compile(r"\s+(?=[,.;:!?…])")
_EDGE_RE = re.compile(r"^\s+|\s+$")
_HYPHEN_RE = re.compile(r"(?<=\w)\s+-(?=\w)|(?<=\w)-\s+(?=\w)")  # "third -party"


def _tidy(m: Mapped) -> Mapped:
    m = m.sub(_SPACES_RE, lambda x: " ")
    m = m.sub(_SPACE_BEFORE_RE, lambda x: "")
    m = m.sub(_HYPHEN_RE, lambda x: "-")
    return m.sub(_EDGE_RE, lambda x: "")


def normalize_mapped(text: str) -> Mapped:
    """``text`` as it will be spoken, with each character's origin in ``text``."""
    m = _fold_chars(Mapped.of(text))
    m = _abbreviations(m)
    m = _numbers(m)
    m = _symbols(m)
    return _tidy(m)


def normalize(text: str) -> str:
    return normalize_mapped(text).text
