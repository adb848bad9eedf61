"""English number words: cardinals, ordinals, years, decimals, money (American usage, no
"and" inside numbers)."""

from __future__ import annotations

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**15, "quadrillion"), (10**12, "trillion"), (10**9, "billion"),
           (10**6, "million"), (1000, "thousand"))
MAX_CARDINAL = 10**18 - 1  # above this, digits are read one by one

_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                  "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest or not hundreds:
        words.append(_below_hundred(rest))
    return " ".join(words)


def cardinal(n: int) -> str:
    """``cardinal(1234)`` -> "one thousand two hundred thirty-four"."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n > MAX_CARDINAL:
        return digits(str(n))
    words = []
    for value, name in _SCALES:
        if n >= value:
            count, n = divmod(n, value)
            words.append(f"{cardinal(count)} {name}")
    if n or not words:
        words.append(_below_thousand(n))
    return " ".join(words)


def digits(s: str) -> str:
    """Each digit as a word: "2024" -> "two zero two four"."""
    return " ".join(_ONES[int(d)] for d in s if d.isdigit())


def ordinal(n: int) -> str:
    """``ordinal(21)`` -> "twenty-first"."""
    words = cardinal(n)
    head, sep, last = words.rpartition(" ")
    pre, dash, last = last.rpartition("-")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + pre + dash + last


def year(n: int) -> str:
    """A year as said: 1999 "nineteen ninety-nine", 2000 "two thousand", 2005 "two thousand
    five", 2010 "twenty ten", 1900 "nineteen hundred", 1905 "nineteen oh five"."""
    century, rest = divmod(n, 100)
    if not 10 <= century <= 99 or (century % 10 == 0 and rest < 10):
        return cardinal(n)
    if rest == 0:
        return f"{_below_hundred(century)} hundred"
    tail = f"oh {_ONES[rest]}" if rest < 10 else _below_hundred(rest)
    return f"{_below_hundred(century)} {tail}"


def plural_year(n: int) -> str:
    """Decades: 1990 -> "nineteen nineties", 2000 -> "two thousands"."""
    words = year(n)
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def decimal(whole: str, frac: str) -> str:
    """"3", "14" -> "three point one four"; an empty whole part says "point five"."""
    head = cardinal(int(whole.replace(",", ""))) + " " if whole else ""
    return f"{head}point {digits(frac)}"


_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents"),
               "¥": ("yen", "yen", "", ""),
               "₹": ("rupee", "rupees", "paisa", "paise")}
CURRENCY_SIGNS = "".join(_CURRENCIES)


def currency_name(sign: str, plural: bool = True) -> str:
    one, many, _, _ = _CURRENCIES[sign]
    return many if plural else one


def money(sign: str, whole: str, frac: str | None, scale: str | None = None) -> str:
    """"$", "5", "50" -> "five dollars and fifty cents"; with a scale word ("million") the
    amount is read as a number followed by the currency: "one point five million dollars"."""
    one, many, sub_one, sub_many = _CURRENCIES[sign]
    amount = int(whole.replace(",", "") or "0")
    if scale or (frac and (len(frac) > 2 or not sub_one)):
        number = decimal(whole, frac) if frac else cardinal(amount)
        return f"{number} {scale + ' ' if scale else ''}{many}"
    cents = int((frac or "").ljust(2, "0")) if frac else 0
    parts = []
    if amount or not cents:
        parts.append(f"{cardinal(amount)} {one if amount == 1 else many}")
    if cents:
        parts.append(f"{cardinal(cents)} {sub_one if cents == 1 else sub_many}")
    return " and ".join(parts)
