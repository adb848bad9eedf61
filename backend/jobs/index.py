"""Build the faiss retrieval index over the project's content features."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.features import store
from backend.jobs.base import BadArgs, JobContext
from backend.jobs.common import project_arg


@dataclass(frozen=True)
class IndexParams:
    root: Path
    name: str
    version: str
    files: list[str]


def prepare(args: dict) -> IndexParams:
    project = project_arg(args)
    version = store.load_manifest(project.root).get("settings", {}).get("version") \
        or project.version
    ready = store.ready_slices(project.root, version)
    if not ready:
        raise BadArgs(f"project {project.root.name} has no extracted features: run Extract "
                      "first")
    return IndexParams(project.root, project.file_stem, version,
                       [ready[s]["content"] for s in sorted(ready)])


def exclusive_key(params: IndexParams) -> str:
    return f"{params.root}#index"


def run(params: IndexParams, ctx: JobContext) -> dict:
    from backend.train.index import build_index

    parts = []
    for i, path in enumerate(params.files):
        ctx.check()
        parts.append(store.load_npy(Path(path)).astype(np.float32))
        ctx.progress("reading features", i + 1, len(params.files))
    feats = np.concatenate(parts, axis=0)
    res = build_index(feats, params.root / "index", params.name, params.version,
                      check=ctx.check, progress=lambda st, d, t: ctx.progress(st, d, t))
    return {"index": str(res.path), "vectors": res.vectors, "n_ivf": res.n_ivf, "dim": res.dim,
            "reduced": res.reduced}


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="project folder")


def args_from_cli(ns: argparse.Namespace) -> dict:
    return {"project": ns.project}
