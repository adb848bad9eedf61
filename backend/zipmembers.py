"""Reading someone else's zip package: member names, its JSON card, size-limited copies.

Model packages (voice-conversion and text-to-speech) are zips from anywhere: a member's own
name is never used as a path, a card is read only when small, and a copy stops at a limit.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import IO, Any

MAX_MEMBER_BYTES = 8 * 1024**3
CHUNK = 1 << 20


class MemberTooLarge(ValueError):
    """A member grew past the copy's limit (a zip bomb or a damaged archive)."""


def base_name(member: str) -> str:
    """The last part of a member's name (either slash), never a path."""
    return member.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def is_torch_zip(names: list[str]) -> bool:
    """torch's own zip format (``<archive>/data.pkl``) rather than a package."""
    return any(n.endswith("/data.pkl") or n == "data.pkl" for n in names)


def is_package(path: Path) -> bool:
    """A zip holding a ``.pth`` that is not itself torch's zip format."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return not is_torch_zip(names) and any(base_name(n).lower().endswith(".pth") for n in names)


def read_card(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], name: str) -> dict[str, Any]:
    """The JSON object in the member called ``name`` ({} when absent, large or damaged: a
    damaged card costs the name, never the model)."""
    cards = [i for i in infos if base_name(i.filename) == name]
    if not cards or cards[0].file_size > 1_000_000:
        return {}
    try:
        card = json.loads(zf.read(cards[0]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return card if isinstance(card, dict) else {}


def copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: IO[bytes],
                limit: int | None = None) -> int:
    """Copy a member into ``out``; ``MemberTooLarge`` past ``limit`` bytes (default
    ``MAX_MEMBER_BYTES``)."""
    limit = MAX_MEMBER_BYTES if limit is None else limit
    done = 0
    with zf.open(info) as src:
        while chunk := src.read(CHUNK):
            done += len(chunk)
            if done > limit:
                raise MemberTooLarge(info.filename)
            out.write(chunk)
    return done
