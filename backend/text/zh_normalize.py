"""Chinese normalisation: Arabic numbers as characters (cardinals, decimals, negatives,
percents, fractions, years, times, money), symbols as words, Chinese punctuation as the
pinyin table's marks. Full-width digits and letters count as ASCII ones."""

from __future__ import annotations

import re
import unicodedata

from backend.text.reading import Mapped

_DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")
# integers with this many digits or more (phone numbers) are read digit by digit
DIGITWISE_FROM = 11


def digits(s: str) -> str:
    """"2024" -> "二零二四"."""
    return "".join(_DIGITS[int(d)] for d in s if d.isdigit())


def _group(n: int) -> str:
    """0 < n < 10000, without leading 零."""
    out = ""
    zero = False
    for power in (3, 2, 1, 0):
        d, n = divmod(n, 10**power)
        if d:
            if zero and out:
                out += "零"
            out += _DIGITS[d] + _SMALL_UNITS[power]
            zero = False
        else:
            zero = True
    return out


def cardinal(n: int) -> str:
    """``cardinal(10086)`` -> "一万零八十六"; "十" rather than "一十" at the start."""
    if n < 0:
        return "负" + cardinal(-n)
    if n == 0:
        return "零"
    if len(str(n)) >= DIGITWISE_FROM:
        return digits(str(n))
    groups = []
    while n:
        n, g = divmod(n, 10000)
        groups.append(g)
    out = ""
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if not g:
            continue
        if out and (g < 1000 or not groups[i + 1]):
            out += "零"
        out += _group(g) + _BIG_UNITS[i]
    out = re.sub("零+", "零", out)
    return out[1:] if out.startswith("一十") else out


def decimal(whole: str, frac: str) -> str:
    return f"{cardinal(int(whole or '0'))}点{digits(frac)}"


def _number(whole: str, frac: str | None) -> str:
    if frac:
        return decimal(whole, frac)
    if len(whole) > 1 and whole.startswith("0"):
        return digits(whole)
    return cardinal(int(whole))


# two before a measure word is 两 ("两个", not "二个")
_LIANG_BEFORE = "个位只本条张件次天岁匹头辆台把双对块种"
_CURRENCY = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}
_PUNCTUATION = {"，": ",", "、": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ":",
                "…": "…", "—": "—", "～": "—", "~": "—", ",": ",", ".": ".", "!": "!",
                "?": "?", ";": ";", ":": ":"}
_SILENT = "“”‘’「」『』《》〈〉（）()【】[]\"'·・- \t\n\r\u3000"
_SYMBOLS = {"%": "百分号", "+": "加", "=": "等于", "&": "和", "@": "艾特", "#": "井号",
            "°": "度", "×": "乘", "÷": "除以", "<": "小于", ">": "大于", "℃": "摄氏度", "/": "斜杠"}

_MARKS = {**{c: "" for c in _SILENT}, **_PUNCTUATION, **_SYMBOLS}
_MARKS_RE = re.compile(f"[{re.escape(''.join(_MARKS))}]")
_FULL_WIDTH_RE = re.compile("[０-９Ａ-ｚ％＋＝＆＠＃＄＜＞／－．]")
_NUM = r"\d+"
_TIME_RE = re.compile(r"(?<!\d)([01]?\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?(?!\d)")
_YEAR_RE = re.compile(r"(?<![\d.])(\d{2,4})(?=年)")
_MONEY_RE = re.compile(rf"(-?)([¥￥$€£])\s?({_NUM})(?:\.(\d+))?")
_PERCENT_RE = re.compile(rf"(-?)({_NUM})(?:\.(\d+))?\s?%")
_FRACTION_RE = re.compile(r"(?<![\d.])(\d+)/(\d+)(?![\d.])")
_NEGATIVE_RE = re.compile(r"(?<![0-9A-Za-z.])-(?=\d)")
_RANGE_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)[-~～](?=\d)")
_NUMBER_RE = re.compile(rf"({_NUM})(?:\.(\d+))?")
_LIANG_RE = re.compile(rf"(?<![\d.])2(?=[{_LIANG_BEFORE}])")
_DOTS_RE = re.compile(r"\.{3,}|…+|。{3,}")
_DASHES_RE = re.compile(r"—+|-{2,}")


def _time(m: re.Match[str]) -> str:
    h, mins, secs = int(m.group(1)), int(m.group(2)), m.group(3)
    out = cardinal(h) + "点"
    if mins:
        out += ("零" if mins < 10 else "") + cardinal(mins) + "分"
    if secs:
        out += cardinal(int(secs)) + "秒"
    return out


def _money(m: re.Match[str]) -> str:
    sign, cur, whole, frac = m.groups()
    return ("负" if sign else "") + _number(whole, frac) + _CURRENCY[cur]


def _percent(m: re.Match[str]) -> str:
    sign, whole, frac = m.groups()
    return ("负" if sign else "") + "百分之" + _number(whole, frac)


def _fraction(m: re.Match[str]) -> str:
    return cardinal(int(m.group(2))) + "分之" + cardinal(int(m.group(1)))


def _fold(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)


def normalize_mapped(text: str) -> Mapped:
    m = Mapped.of(text).sub(_FULL_WIDTH_RE, lambda x: _fold(x.group(0)))
    m = m.sub(_TIME_RE, _time)
    m = m.sub(_YEAR_RE, lambda x: digits(x.group(1)))
    m = m.sub(_MONEY_RE, _money)
    m = m.sub(_PERCENT_RE, _percent)
    m = m.sub(_FRACTION_RE, _fraction)
    m = m.sub(_NEGATIVE_RE, lambda x: "负")
    m = m.sub(_RANGE_RE, lambda x: x.group(1) + "到")
    m = m.sub(_LIANG_RE, lambda x: "两")
    m = m.sub(_NUMBER_RE, lambda x: _number(x.group(1), x.group(2)))
    m = m.sub(_DOTS_RE, lambda x: "…")
    m = m.sub(_DASHES_RE, lambda x: "—")
    return m.sub(_MARKS_RE, lambda x: _MARKS[x.group(0)])


def normalize(text: str) -> str:
    return normalize_mapped(text).text


def punctuation(ch: str) -> str | None:
    """The table mark for a normalised punctuation character, or None."""
    return ch if ch in _PUNCTUATION.values() else None
