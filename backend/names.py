"""Names typed by people, and names found on disk, made safe to use as file names.

``safe_name`` is the one place a user string (project name, run name, model
name) becomes a file-name component. Its result works on Linux, macOS and
Windows and never leaves the folder it is joined to:

- path separators (``/`` and ``\\``) join the parts they split with ``_``;
  parts that are only dots (``.``, ``..``) are dropped;
- control and format characters and the characters Windows forbids
  (``<>:"|?*``) become ``_``; whitespace runs become one space;
- runs of dots become one dot; leading dots (hidden files) and spaces, and
  trailing dots and spaces (Windows drops them) are removed;
- reserved Windows device names (``CON``, ``PRN``, ``AUX``, ``NUL``,
  ``COM1``-``COM9``, ``LPT1``-``LPT9``), also with an extension (``con.txt``),
  get a ``_`` after the device part (``CON_``, ``con_.txt``);
- at most ``max_bytes`` bytes of UTF-8, cut between characters;
- never empty: ``untitled`` (or the given fallback) instead.

Letters of every script are kept, so a Chinese or Cyrillic name stays readable.
The display name (``project.json`` ``name``) stays exactly as typed.

``shown_name`` is the other direction: a name read from the disk that is not
valid UTF-8 (possible on Linux) in a readable, escaped form (``bad\\xff.wav``).
"""

from __future__ import annotations

import os
import re
import unicodedata

MAX_BYTES = 100
FALLBACK = "untitled"
_WINDOWS_FORBIDDEN = frozenset('<>:"|?*')
_SEPARATORS = re.compile(r"[/\\]+")
_SPACES = re.compile(r"\s+")
_DOTS = re.compile(r"\.{2,}")
_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{kind}{n}" for kind in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")})


def _char(c: str) -> str:
    if c in _WINDOWS_FORBIDDEN:
        return "_"
    category = unicodedata.category(c)
    if c.isspace():
        return " "
    if category[0] == "C" or category in ("Zl", "Zp"):  # control, format, surrogate
        return "_"
    return c


def _is_device(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").upper() in _DEVICES


def _trim(name: str) -> str:
    return name.lstrip(". ").rstrip(". ")


def _cut(name: str, max_bytes: int) -> str:
    data = name.encode("utf-8")
    if len(data) <= max_bytes:
        return name
    return data[:max_bytes].decode("utf-8", "ignore")  # drops a split last character


def safe_name(name: object, *, max_bytes: int = MAX_BYTES, fallback: str = FALLBACK) -> str:
    """A file-name component made from ``name``; see the module docstring for the rules."""
    text = unicodedata.normalize("NFC", str(name))
    parts = [p for p in _SEPARATORS.split(text) if p.strip(". ")]
    text = "_".join(parts)
    text = _SPACES.sub(" ", "".join(_char(c) for c in text))
    text = _trim(_DOTS.sub(".", text))
    text = _trim(_cut(text, max_bytes))
    if text and _is_device(text):
        device, dot, rest = _cut(text, max_bytes - 1).partition(".")
        text = _trim(f"{device.rstrip(' ')}_{dot}{rest}")
    return text or fallback


def shown_name(name: str | os.PathLike[str]) -> str:
    """``name`` as readable text: bytes that are not UTF-8 are shown as ``\\xff``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def is_utf8_name(name: str | os.PathLike[str]) -> bool:
    """False for a name from the disk that holds bytes that are not UTF-8 text."""
    try:
        os.fspath(name).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
