"""Feature commands for the editor's feature viewer.

- ``features.f0`` {project, slice} -> {slice, path, hop_seconds, method, frames,
  voiced_ratio, median_hz, octave_jumps, reason}

``slice`` is a clip's stem (its wav file name without ``.wav``). ``path`` is the
absolute path of the clip's f0 .npy (float32 Hz per 10 ms frame, 0 = unvoiced),
or null with a ``reason`` when there is no usable pitch for the clip yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from backend.commands import CommandError, command, project_arg
from backend.dataset import project as proj
from backend.features import store
from backend.features.f0_stats import HOP_SECONDS, f0_stats
from backend.protocol import E_BAD_ARGS, E_NOT_FOUND

RUN_EXTRACT = "run Extract first"




def _stem(args: dict) -> str:
    stem = args.get("slice")
    if not isinstance(stem, str) or not stem.strip():
        raise CommandError("'slice' must be the name of a prepared clip (its wav file stem)",
                           code=E_BAD_ARGS)
    if "/" in stem or "\\" in stem or stem in (".", ".."):
        raise CommandError(f"'slice' must be a clip name, not a path: {stem!r}",
                           code=E_BAD_ARGS)
    return stem[:-4] if stem.lower().endswith(".wav") else stem


def _prepared_16k(project: proj.Project) -> dict[str, Path]:
    """stem -> the 16 kHz wav of every prepared clip (empty when not prepared)."""
    try:
        manifest = project.load_manifest()
    except proj.ProjectError:
        return {}  # a damaged prepare manifest: the features manifest can still answer
    out = {}
    for entry in manifest["sources"].values():
        for s in entry.get("slices", []):
            if isinstance(s, dict) and s.get("path_16k"):
                out[Path(s["path_16k"]).stem] = project.root / s["path_16k"]
    return out


def _no_f0(stem: str, method: Any, reason: str) -> dict[str, Any]:
    return {"slice": stem, "path": None, "hop_seconds": HOP_SECONDS, "method": method,
            "frames": 0, "voiced_ratio": None, "median_hz": None, "octave_jumps": None,
            "reason": reason}


def _stale(f0: np.ndarray, wav16k: Path | None) -> bool:
    """True when the clip was prepared again after extraction (frame count differs)."""
    if wav16k is None or not wav16k.is_file():
        return False
    try:
        info = sf.info(str(wav16k))
    except (OSError, RuntimeError):
        return False
    return info.samplerate == 16000 and len(f0) != info.frames // 160 + 1


@command("features.f0")
def f0(args: dict, server: Any) -> dict:
    project = project_arg(args)
    stem = _stem(args)
    manifest = store.load_manifest(project.root)
    method = manifest.get("settings", {}).get("f0_method")
    entry = manifest["slices"].get(stem)
    clips = _prepared_16k(project)
    if not isinstance(entry, dict) or not entry.get("f0"):
        if stem not in clips:
            raise CommandError(f"project {project.root} has no prepared clip named {stem!r}; "
                               "run Prepare, then pick a clip from the Slices list",
                               code=E_NOT_FOUND)
        return _no_f0(stem, method, f"no pitch for {stem} yet: {RUN_EXTRACT}")
    path = project.root / entry["f0"]
    if not path.is_file():
        return _no_f0(stem, method, f"the pitch file {path} is missing: run Extract again")
    try:
        track = store.load_npy(path)
        stats = f0_stats(track)
    except store.FeatureFileError as exc:  # names the file and says to extract again
        raise CommandError(exc.message, code=E_BAD_ARGS) from exc
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read the pitch file {path}: {exc}; delete it and run "
                           "Extract again", code=E_BAD_ARGS) from exc
    if _stale(track, clips.get(stem)):
        return _no_f0(stem, method, f"the pitch of {stem} is out of date (the clip was "
                                    "prepared again): run Extract again")
    return {"slice": stem, "path": str(path.resolve()), "hop_seconds": HOP_SECONDS,
            "method": method, **stats.to_dict(), "reason": None}
