"""A small labelled project for the text-to-speech train job tests: a few espeak-ng
sentences, prepared as whole phrases (a vits project), each clip's row given the sentence
it speaks (through the real labels commands)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from backend.commands import labels as label_cmds
from tests.conftest import espeak_wav
from tests.labels.helpers import run_prepare

ROOT = Path(__file__).resolve().parents[2]

SENTENCES = ("The cat sat on the mat.", "Seven swans swam at sunset.",
             "Keep the room quiet, please.", "A voice learns from clean speech.")


def make_labelled_project(root: Path, speakers: tuple[str | None, ...] = (None,),
                          sentences: tuple[str, ...] = SENTENCES) -> Path:
    """A vits project at ``root``: ``len(sentences)`` recordings (each one sentence, one
    clip), every row labelled with its sentence; recordings go round ``speakers`` (None:
    no speaker set)."""
    voices = root.parent / f"{root.name} recordings"
    voices.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(sentences):
        espeak_wav(voices / f"take {i}.wav", text, pitch=40 + 10 * (i % 3))
    res = run_prepare({"project": str(root), "inputs": [str(voices)],
                       "create": {"model_kind": "vits"}})
    assert res["errors"] == [], res["errors"]
    rows = label_cmds.get({"project": str(root)}, None)["rows"]
    by_take = {f"take {i}.wav": (text, speakers[i % len(speakers)])
               for i, text in enumerate(sentences)}
    for row in rows:
        text, speaker = by_take[row["source_name"]]
        fields = {"text": text, "language": "en", **({"speaker": speaker} if speaker else {})}
        label_cmds.apply({"project": str(root), "op": {"kind": "set", "ids": [row["id"]],
                                                       "fields": fields}}, None)
    return root


def set_text(root: Path, row_id: str, text: str) -> None:
    label_cmds.apply({"project": str(root), "op": {"kind": "set", "ids": [row_id],
                                                   "fields": {"text": text}}}, None)


def shown_rows(root: Path) -> list[dict]:
    return label_cmds.get({"project": str(root)}, None)["rows"]


def cli(*args: str, timeout: float = 300) -> tuple[int, dict, str]:
    """``python -m backend ... --json``: (exit status, summary line, stderr)."""
    res = subprocess.run([sys.executable, "-m", "backend", *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.stdout.strip(), res.stderr[-2000:]
    return res.returncode, json.loads(res.stdout.strip().splitlines()[-1]), res.stderr
