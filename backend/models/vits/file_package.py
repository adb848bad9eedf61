"""Our TTS model package (a zip: ``<name>.pth``, ``config.json``, ``model_card.md`` and
``model_card.json``), read safely: someone else's zip, so only the one model member is
copied out (under a name we choose, with a size limit) and the card is read in memory."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from backend.models.vits.file_formats import TtsModelError
from backend.names import safe_name

CARD_NAME = "model_card.json"
MAX_MEMBER_BYTES = 8 * 1024**3


def _base(member: str) -> str:
    return member.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def is_package(path: Path) -> bool:
    """A zip holding a ``.pth`` (not torch's own zip format, whose members end in data.pkl)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    torch_zip = any(n.endswith("/data.pkl") or n == "data.pkl" for n in names)
    return not torch_zip and any(_base(n).lower().endswith(".pth") for n in names)


def _read_card(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> dict[str, Any]:
    cards = [i for i in infos if _base(i.filename) == CARD_NAME]
    if not cards or cards[0].file_size > 1_000_000:
        return {}
    try:
        card = json.loads(zf.read(cards[0]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}  # a damaged card costs the name, never the model
    return card if isinstance(card, dict) else {}


def extract_package_model(src: Path, dest: Path) -> tuple[Path, dict[str, Any]]:
    """Copy the package's one model into ``dest`` (a size-limited copy; the member's own
    name is never used as a path) and return it with the package's model card."""
    try:
        with zipfile.ZipFile(src) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            card = _read_card(zf, infos)
            models = [i for i in infos if _base(i.filename).lower().endswith(".pth")]
            if len(models) > 1:
                wanted = f"{safe_name(card.get('name', ''))}.pth"
                models = [i for i in models if _base(i.filename) == wanted]
                if len(models) != 1:
                    raise TtsModelError(f"{src.name} holds several models; a model package "
                                        "holds one: unpack it and choose the .pth you want")
            with zf.open(models[0]) as member, open(dest, "wb") as out:
                done = 0
                while chunk := member.read(1 << 20):
                    done += len(chunk)
                    if done > MAX_MEMBER_BYTES:
                        raise TtsModelError(f"{src.name}: its model is implausibly large")
                    out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise TtsModelError(f"{src.name} is a damaged zip archive ({exc}); download or "
                            "export it again") from None
    return dest, card
