"""Where extracted features live inside a project, and which are up to date.

```
features/
  f0/<clip>.npy          float32 Hz per 10 ms frame (0 = unvoiced), n = samples16k // 160 + 1
  f0_coarse/<clip>.npy   uint8 1..255 pitch classes for the pitch embedding
  content_v1/<clip>.npy  float32 [frames at 50/s, 256] (HuBERT layer 9 through final_proj)
  content_v2/<clip>.npy  float32 [frames at 50/s, 768] (HuBERT layer 12)
  manifest.json          per clip: signature and relative file paths
```
A clip's entry is added to the manifest only after all its files are written
(each atomically), so a kill never leaves a half-written feature that is read.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from backend.fsutil import atomic_write_bytes, atomic_write_json, is_temp_name, read_json

FEATURES_DIR = "features"
MANIFEST = "features/manifest.json"
FORMAT = 1


def content_dir(version: str) -> str:
    return f"features/content_{version}"


def feature_paths(root: Path, stem: str, version: str) -> dict[str, Path]:
    return {"f0": root / FEATURES_DIR / "f0" / f"{stem}.npy",
            "f0_coarse": root / FEATURES_DIR / "f0_coarse" / f"{stem}.npy",
            "content": root / content_dir(version) / f"{stem}.npy"}


def save_npy(path: Path, array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue(), fsync=False)


def load_npy(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def slice_signature(wav16k: Path, settings: dict[str, Any]) -> str:
    st = wav16k.stat()
    blob = json.dumps({"file": wav16k.name, "size": st.st_size, "mtime": st.st_mtime_ns,
                       **settings}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def load_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.exists():
        return {"format": FORMAT, "settings": {}, "slices": {}}
    try:
        data = read_json(path)
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("slices"), dict):
        # every entry is re-derivable: start over rather than fail
        return {"format": FORMAT, "settings": {}, "slices": {}, "recovered": True}
    return data


def save_manifest(root: Path, manifest: dict[str, Any]) -> None:
    path = root / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, manifest)


def remove_temp_files(root: Path) -> int:
    """Delete temporary files that a killed extraction left behind (only one extraction runs
    per project at a time, so none of them is being written now); returns how many."""
    removed = 0
    base = root / FEATURES_DIR
    if base.is_dir():
        for path in base.glob("*/.tmp-*"):
            if is_temp_name(path.name):
                path.unlink(missing_ok=True)
                removed += 1
        for path in base.glob(".tmp-*"):
            if is_temp_name(path.name):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def ready_slices(root: Path, version: str) -> dict[str, dict[str, Any]]:
    """Manifest entries whose files all exist, for training and indexing."""
    manifest = load_manifest(root)
    if manifest.get("settings", {}).get("version") not in (None, version):
        return {}
    out = {}
    for stem, entry in manifest["slices"].items():
        paths = {k: root / entry[k] for k in ("f0", "f0_coarse", "content") if k in entry}
        if len(paths) == 3 and all(p.exists() for p in paths.values()):
            out[stem] = {**entry, **{k: str(p) for k, p in paths.items()}}
    return out
