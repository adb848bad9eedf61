"""Model assets (content encoders, pitch estimators, pretrained bases): catalogue, download,
import, verification and the installed store.

Features that need an asset call ``require_asset(name)``, which returns its path or raises
``MissingAsset`` (a ``JobError`` with code ``asset_missing``) saying how to get it.
"""

from backend.assets.catalogue import Asset, CatalogueError, find_asset, load_catalogue
from backend.assets.store import (
    MissingAsset,
    asset_path,
    data_dir,
    list_assets,
    remove_asset,
    require_asset,
)

__all__ = [
    "Asset", "CatalogueError", "MissingAsset", "asset_path", "data_dir", "find_asset",
    "list_assets", "load_catalogue", "remove_asset", "require_asset",
]
