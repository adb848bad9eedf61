"""Where extracted features live inside a project, and which are up to date.

```
features/
  f0/<clip>.npy          float32 Hz per 10 ms frame (0 = unvoiced), n = samples16k // 160 + 1
  f0_coarse/<clip>.npy   uint8 1..255 pitch classes for the pitch embedding
  content_v1/<clip>.npy  float32 [frames at 50/s, 256] (HuBERT layer 9 through final_proj)
  content_v2/<clip>.npy  float32 [frames at 50/s, 768] (HuBERT layer 12)
  manifest.json          settings (f0_method, encoder, version, filter_radius, pitch_rules)
                         and per clip: signature and relative file paths
```
``pitch_rules`` names the pitch post-processing the f0 files were made with (RVC's
per-method rules, ``backend.features.f0.PITCH_RULES``); manifests written before it existed
lack it, and :func:`pitch_rules_note` says so in one sentence.
A clip's entry is added to the manifest only after all its files are written
(each atomically), so a kill never leaves a half-written feature that is read.
A feature file that is damaged anyway (cut short by a full disk or a copy) or a
manifest of a newer format is a :class:`FeatureFileError` naming the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from backend.dataset.project import newer_format, newer_format_message
from backend.features.f0_runners import PITCH_RULES
from backend.fsutil import (
    atomic_write_bytes,
    atomic_write_json,
    describe_os_error,
    is_temp_name,
    read_json,
)
from backend.kernel import BadArgs

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


class FeatureFileError(BadArgs):
    """A feature file or features/manifest.json that cannot be used; names it and the fix."""


RUN_EXTRACT_AGAIN = "run Extract again (it rebuilds missing and damaged feature files)"
FEATURE_KEYS = ("f0", "f0_coarse", "content")


def npy_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete .npy array file, or None. Reads the header only."""
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(fh)
            start, size = fh.tell(), os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read ({describe_os_error(exc, 'reading', path)})"
    except (ValueError, EOFError) as exc:  # not an .npy file, or cut inside the header
        return f"is damaged (not a complete NumPy array file: {exc})"
    if dtype.hasobject:
        return "is damaged (it holds Python objects, not numbers)"
    want = start + math.prod(shape) * dtype.itemsize
    if size != want:
        return f"is damaged (cut short: {size} of {want} bytes)" if size < want \
            else f"is damaged ({size - want} bytes too many)"
    return None


def load_npy(path: Path) -> np.ndarray:
    """A feature array, or FeatureFileError naming the file and saying to extract again."""
    problem = npy_problem(path)
    if problem is None:
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            problem = f"cannot be read ({exc})"
    raise FeatureFileError(f"the feature file {path} {problem}: {RUN_EXTRACT_AGAIN}")


def entry_problem(root: Path, entry: Any) -> str | None:
    """Why a manifest entry's files cannot be used as they are, or None."""
    if not isinstance(entry, dict):
        return "its manifest entry is damaged"
    for key in FEATURE_KEYS:
        if not isinstance(entry.get(key), str):
            return f"its manifest entry has no {key} file"
        problem = npy_problem(root / entry[key])
        if problem is not None:
            return f"{entry[key]} {problem}"
    return None


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
    found = newer_format(data)
    if found is not None:  # rewriting it as format 1 would lose what the newer app wrote
        raise FeatureFileError(newer_format_message(path, found))
    if not isinstance(data, dict) or not isinstance(data.get("slices"), dict):
        # every entry is re-derivable: start over rather than fail
        return {"format": FORMAT, "settings": {}, "slices": {}, "recovered": True}
    return data


OLD_PITCH_RULES_NOTE = (
    "These features were extracted with the earlier pitch rules (every method median-filtered, "
    "out-of-range pitch made unvoiced); they still train, and running Extract again gives pitch "
    "that matches RVC's.")


def pitch_rules_note(manifest: dict[str, Any]) -> str | None:
    """One sentence for features made under other pitch rules than this version's, or None
    (no features yet, or current rules)."""
    settings = manifest.get("settings")
    if not manifest.get("slices") or not isinstance(settings, dict):
        return None
    return None if settings.get("pitch_rules") == PITCH_RULES else OLD_PITCH_RULES_NOTE


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
        paths = {k: root / entry[k] for k in FEATURE_KEYS if k in entry}
        if len(paths) == 3 and all(p.exists() for p in paths.values()):
            out[stem] = {**entry, **{k: str(p) for k, p in paths.items()}}
    return out
