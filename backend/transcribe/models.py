"""faster-whisper models: the catalogue's ``whisper-<name>`` bundles, or a model folder.

A model is named by its size (``tiny``, ``base``, ``small``, ``medium``, ``large-v3``,
``large-v3-turbo``; ``whisper-small`` works too), which resolves through the asset manager
(``require_asset``: every file of the bundle installed, or ``MissingAsset`` saying how to get
it), or by a folder holding a converted CTranslate2 Whisper model. The Hugging Face hub is never
asked for anything: faster-whisper is always handed a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.assets.catalogue import Asset, bundle, load_catalogue
from backend.assets.store import asset_path, require_asset
from backend.kernel import BadArgs

MODELS = ("tiny", "base", "small", "medium", "large-v3", "large-v3-turbo")
# without --model: the first of these that is installed (fast enough on a CPU first)
PREFERENCE = ("small", "large-v3-turbo", "base", "medium", "large-v3", "tiny")
RECOMMENDED = "small"
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")  # + vocabulary.json or .txt
VOCABULARIES = ("vocabulary.json", "vocabulary.txt")


@dataclass(frozen=True)
class ResolvedModel:
    folder: Path
    label: str  # the size name, or the folder's name for a folder model
    asset: str | None  # the catalogue bundle, None for a folder


def asset_name(model: str) -> str:
    return model if model.startswith("whisper-") else f"whisper-{model}"


def _installed(catalogue: dict[str, Asset], name: str) -> bool:
    asset = catalogue.get(asset_name(name))
    return asset is not None and all(asset_path(a).is_file() for a in bundle(catalogue, asset))


def resolve(model: str | None, catalogue: dict[str, Asset] | None = None) -> ResolvedModel:
    """The folder to load. Raises ``BadArgs`` (unknown name, incomplete folder) or
    ``MissingAsset`` (a catalogue model that is not installed)."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    if not model:
        model = next((m for m in PREFERENCE if _installed(catalogue, m)), RECOMMENDED)
    name = model.removeprefix("whisper-")
    if name in MODELS:
        path = require_asset(asset_name(name), catalogue)
        return ResolvedModel(path.parent, name, asset_name(name))
    folder = Path(model).expanduser()
    if folder.is_file() and folder.name == "model.bin":
        folder = folder.parent
    if not folder.is_dir():
        raise BadArgs(f"unknown faster-whisper model {model!r}: use one of "
                      f"{', '.join(MODELS)}, or the folder of a converted (CTranslate2) "
                      "Whisper model")
    check_folder(folder)
    return ResolvedModel(folder, folder.name, None)


def check_folder(folder: Path) -> None:
    """A clear message naming what a model folder lacks (faster-whisper would otherwise try
    the Hugging Face hub for a missing tokenizer)."""
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if not any((folder / v).is_file() for v in VOCABULARIES):
        missing.append("vocabulary.json (or vocabulary.txt)")
    if missing:
        raise BadArgs(f"{folder} is not a complete faster-whisper model folder: "
                      f"{', '.join(missing)} missing. A converted model folder holds "
                      "model.bin, config.json, tokenizer.json and vocabulary.*")


def model_rows(catalogue: dict[str, Asset] | None = None) -> list[dict[str, Any]]:
    """``transcribe.engines`` rows: each catalogue model, installed or not, and its size."""
    catalogue = catalogue if catalogue is not None else load_catalogue()
    rows = []
    for name in MODELS:
        asset = catalogue.get(asset_name(name))
        if asset is None:
            continue
        sizes = [a.size for a in bundle(catalogue, asset)]
        rows.append({"name": name, "installed": _installed(catalogue, name),
                     "size": None if None in sizes else sum(sizes), "asset": asset.name})
    return rows
