"""A small prepared project for the labels tests (espeak-ng speech, the real prepare job)."""

from __future__ import annotations

import json
from pathlib import Path

from backend.dataset import project as proj
from backend.jobs import prepare as prepare_job
from backend.kernel import JobContext
from tests.project.helpers import speech


def run_prepare(args: dict) -> dict:
    ctx = JobContext("t", "prepare", lambda event, data: None)
    return prepare_job.run(prepare_job.prepare(args), ctx)


def prepared_project(root: Path, voices: Path, **settings: object) -> proj.Project:
    """A project of the speech files in ``voices``, prepared (chunks of 1.5 s by default so
    every source gives a few clips)."""
    res = run_prepare({"project": str(root), "inputs": [str(voices)], "create": {},
                       "settings": {"chunk_seconds": 1.5, "overlap_seconds": 0.0,
                                    "min_chunk_seconds": 0.5, **settings}})
    assert res["errors"] == [], res["errors"]
    return proj.open_project(root)


def voices(folder: Path, count: int = 2) -> Path:
    for i in range(count):
        speech(folder, f"voice {i}.wav", i, pitch=40 + 20 * i)
    return folder


def manifest(root: Path) -> dict:
    return json.loads((Path(root) / proj.MANIFEST_FILE).read_text("utf-8"))


def clips(root: Path, sid: str) -> list[tuple[float, float]]:
    return [(s["start"], s["end"]) for s in manifest(root)["sources"][sid]["slices"]]
