"""Our TTS model package (a zip: ``<name>.pth``, ``config.json``, ``model_card.md`` and
``model_card.json``), read safely: someone else's zip, so only the one model member is
copied out (under a name we choose, with a size limit) and the card is read in memory."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from backend.models.vits.file_formats import TtsModelError
from backend.names import safe_name
from backend.zipmembers import MemberTooLarge, base_name, copy_member, read_card
from backend.zipmembers import is_package as is_package  # files.py and the bases ask here

CARD_NAME = "model_card.json"


def extract_package_model(src: Path, dest: Path) -> tuple[Path, dict[str, Any]]:
    """Copy the package's one model into ``dest`` (a size-limited copy; the member's own
    name is never used as a path) and return it with the package's model card."""
    try:
        with zipfile.ZipFile(src) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            card = read_card(zf, infos, CARD_NAME)
            models = [i for i in infos if base_name(i.filename).lower().endswith(".pth")]
            if len(models) > 1:
                wanted = f"{safe_name(card.get('name', ''))}.pth"
                models = [i for i in models if base_name(i.filename) == wanted]
                if len(models) != 1:
                    raise TtsModelError(f"{src.name} holds several models; a model package "
                                        "holds one: unpack it and choose the .pth you want")
            with open(dest, "wb") as out:
                copy_member(zf, models[0], out)
    except MemberTooLarge:
        raise TtsModelError(f"{src.name}: its model is implausibly large") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise TtsModelError(f"{src.name} is a damaged zip archive ({exc}); download or "
                            "export it again") from None
    return dest, card
