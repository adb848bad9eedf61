"""Quick asset commands: ``assets.list`` and ``assets.remove``.

Downloads and imports are long-running: they are the job kind ``assets``.
"""

from __future__ import annotations

from typing import Any

from backend.assets.catalogue import load_catalogue
from backend.assets.store import data_dir, list_assets, remove_asset
from backend.commands import CommandError, command
from backend.protocol import E_BAD_ARGS


@command("assets.list")
def assets_list(args: dict, server: Any) -> dict:
    """Every catalogue asset: installed or missing, sizes, licence and what needs it."""
    return {"data_dir": str(data_dir()), "assets": list_assets(load_catalogue())}


@command("assets.remove")
def assets_remove(args: dict, server: Any) -> dict:
    name = args.get("name")
    if not isinstance(name, str) or not name:
        raise CommandError("'name' must be the asset to remove", code=E_BAD_ARGS)
    return remove_asset(name, load_catalogue())
