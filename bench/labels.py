"""Proofreading table cost: how long one edit and one ``labels.get`` take as a project grows.

A synthetic project (one recording, ``N`` prepared clips of 2.5 s, every row with an
18-word text and its word times, as a faster-whisper or pocketsphinx transcription leaves
them) is driven through the real command functions (``backend/commands/labels.py``:
``labels.get``, ``labels.apply`` with a text ``set``), which sync with the manifest, apply
the op, record it for undo and rewrite ``labels.json`` atomically before they answer.
The baseline is the smallest project, measured in the same run; each figure is the median
of ``--repeat`` edits.

    .venv/bin/python bench/labels.py [--rows 500 2000 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENTENCE = "the quick brown fox jumps over the lazy dog " * 2


def make_project(folder: Path, n: int) -> Path:
    from backend.dataset import project as proj
    from backend.labels import store

    root = folder / f"bench ü {n}"
    p = proj.create_project(root, "bench", 40000, "vits")
    sid = "a" * 16
    p.save_sources([{"id": sid, "sha256": sid * 4, "path": str(folder / "take.wav"),
                     "name": "take.wav", "status": "ok", "duration": n * 3.0, "size": 1}])
    slices = [{"name": f"{sid}_001_{i:04d}.wav",
               "path": f"prepared/0_gt_wavs/{sid}_001_{i:04d}.wav",
               "path_16k": f"prepared/1_16k_wavs/{sid}_001_{i:04d}.wav",
               "start": i * 3.0, "end": i * 3.0 + 2.5, "duration": 2.5, "peak": 0.9,
               "rms_db": -20.0, "problems": []} for i in range(n)]
    p.save_manifest({"format": 1, "sample_rate": 40000, "settings": {}, "errors": [],
                     "sources": {sid: {"signature": "x", "generation": 1,
                                       "path": str(folder / "take.wav"), "name": "take.wav",
                                       "sha256": sid, "segments": None, "prepared": "",
                                       "warnings": [], "slices": slices}}})
    from backend.commands import labels as cmds

    cmds.get({"project": str(root)}, None)  # the rows

    def transcribed(doc: store.LabelsDoc) -> None:
        for row in doc.rows:
            row["text"], row["origin"] = SENTENCE.strip(), "transcribed"
            row["words"] = [[w, row["start"] + k * 0.1, row["start"] + k * 0.1 + 0.1, 0.9]
                            for k, w in enumerate(SENTENCE.split())]

    store.update(root, transcribed)
    return root


def measure(root: Path, repeat: int) -> dict[str, float]:
    from backend.commands import labels as cmds

    args = {"project": str(root)}
    ids = [r["id"] for r in cmds.get(args, None)["rows"]]
    edits, gets = [], []
    for k in range(repeat):
        t = time.perf_counter()
        cmds.apply({**args, "op": {"kind": "set", "ids": [ids[k]],
                                   "fields": {"text": f"edited {k}"}}}, None)
        edits.append(time.perf_counter() - t)
        t = time.perf_counter()
        cmds.get(args, None)
        gets.append(time.perf_counter() - t)
    return {"edit": statistics.median(edits), "get": statistics.median(gets),
            "mb": (root / "labels.json").stat().st_size / 1e6}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[500, 2000, 5000])
    ap.add_argument("--repeat", type=int, default=5)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {n: measure(make_project(Path(tmp), n), ns.repeat) for n in sorted(ns.rows)}
    base = results[min(results)]
    print(f"| rows | labels.json MB | edit s | edit vs {min(results)} | get s | get vs "
          f"{min(results)} |")
    print("|---|---|---|---|---|---|")
    for n, r in results.items():
        print(f"| {n} | {r['mb']:.1f} | {r['edit']:.3f} | {r['edit'] / base['edit']:.1f} | "
              f"{r['get']:.3f} | {r['get'] / base['get']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
