"""Which extracted clips a training run can use, and why the others cannot be used.

A clip is usable when its manifest entry's three feature files (pitch, coarse pitch,
content) and its prepared clip (``prepared/0_gt_wavs/<clip>.wav``) exist. Every other
clip of the features manifest is named with the file it lacks; training refuses to start
when more than ``MAX_UNUSABLE_SHARE`` of the clips cannot be used. No torch here:
``train.suggest`` answers from this module too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.features import store

MAX_UNUSABLE_SHARE = 0.10  # more than this share of unusable clips: refuse to start
NAMED_IN_MESSAGE = 10  # clips named in a refusal (all of them are in its details)
FEATURE_KEYS = ("f0", "f0_coarse", "content")


@dataclass
class ClipSet:
    usable: dict[str, dict[str, Any]]  # clip -> manifest entry with absolute paths
    unusable: dict[str, str] = field(default_factory=dict)  # clip -> why, naming the file
    needs_prepare: set[str] = field(default_factory=set)  # clips whose prepared wav is gone

    @property
    def total(self) -> int:
        return len(self.usable) + len(self.unusable)

    def drop(self, clip: str, reason: str, *, prepare: bool = False) -> None:
        """Move a clip from usable to unusable (a file found unreadable while loading)."""
        self.usable.pop(clip, None)
        self.unusable[clip] = reason
        if prepare:
            self.needs_prepare.add(clip)

    def listing(self) -> list[dict[str, str]]:
        return [{"clip": c, "reason": r} for c, r in sorted(self.unusable.items())]


def wav_path(root: Path, clip: str) -> Path:
    return root / "prepared" / "0_gt_wavs" / f"{clip}.wav"


def clip_set(root: Path, version: str) -> ClipSet:
    """The usable and unusable clips of the project's ``version`` features."""
    manifest = store.load_manifest(root)
    if manifest.get("settings", {}).get("version") not in (None, version):
        return ClipSet({})
    usable = store.ready_slices(root, version)
    clips = ClipSet(usable)
    for clip, entry in sorted(manifest["slices"].items()):
        if clip not in usable:
            clips.unusable[clip] = _missing_feature(root, entry)
        elif not wav_path(root, clip).is_file():
            rel = wav_path(root, clip).relative_to(root).as_posix()
            clips.drop(clip, f"its prepared clip {rel} is missing", prepare=True)
    return clips


def _missing_feature(root: Path, entry: Any) -> str:
    if not isinstance(entry, dict):
        return "its manifest entry is damaged"
    for key in FEATURE_KEYS:
        rel = entry.get(key)
        if not isinstance(rel, str):
            return f"its manifest entry has no {key} file"
        if not (root / rel).exists():
            return f"its feature file {Path(rel).as_posix()} is missing"
    return "its features are incomplete"


def problem(clips: ClipSet) -> str | None:
    """Why training cannot start on these clips (None: it can)."""
    if not clips.unusable:
        return None
    share = len(clips.unusable) / clips.total
    if clips.usable and share <= MAX_UNUSABLE_SHARE:
        return None
    named = [f"{c} ({r})" for c, r in sorted(clips.unusable.items())[:NAMED_IN_MESSAGE]]
    more = len(clips.unusable) - len(named)
    if more:
        named.append(f"and {more} more")
    fix = "run Prepare, then Extract again" if clips.needs_prepare else "run Extract again"
    if not clips.usable:
        head = f"none of the {clips.total} extracted clips can be used"
    else:
        head = (f"{len(clips.unusable)} of the {clips.total} extracted clips "
                f"({share:.0%}) cannot be used")
    return f"{head}: {'; '.join(named)}; {fix} (training starts when at most " \
           f"{MAX_UNUSABLE_SHARE:.0%} are missing)"
