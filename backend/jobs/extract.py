"""Extract pitch and content features from every prepared clip of a project.

Incremental (unchanged clips are skipped), parallel over CPU cores, safe to
cancel or kill at any moment: each clip's files are written atomically and the
clip enters features/manifest.json only once all its files exist.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.dataset.project import ProjectError, open_project
from backend.features import store
from backend.features.extract_worker import WorkerSetup, init_worker, process_clip
from backend.jobs.base import BadArgs, JobContext

F0_METHODS = ("harvest", "dio", "pm", "crepe-tiny", "crepe", "crepe-full", "rmvpe")
DEFAULT_ENCODER = "hubert-base"
_SAVE_EVERY_S = 2.0


@dataclass(frozen=True)
class ExtractParams:
    root: Path
    clips: list[tuple[str, str]]  # (stem, absolute 16 kHz wav path)
    setup: WorkerSetup
    workers: int
    encoder_label: str


def _resolve_encoder(value: str) -> tuple[str, bool, str]:
    """(path, trusted, label): an asset name from the catalogue, or a file path."""
    from backend.assets.store import require_asset

    candidate = Path(value).expanduser()
    if candidate.exists():
        return str(candidate), False, candidate.name
    if "/" in value or "\\" in value or value.endswith((".pt", ".pth", ".bin", ".safetensors")):
        raise BadArgs(f"encoder file {value} does not exist")
    return str(require_asset(value)), True, value  # MissingAsset says how to get it


def _device(name: str) -> str:
    if name == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise BadArgs("device 'cuda' was asked for but no CUDA GPU is available; use cpu")
    elif name != "cpu":
        raise BadArgs(f"unknown device {name!r}; use auto, cpu or cuda")
    return name


def _clips(project: Any) -> list[tuple[str, str]]:
    manifest = project.load_manifest()
    clips = []
    for entry in manifest["sources"].values():
        for s in entry.get("slices", []):
            clips.append((Path(s["path_16k"]).stem, str(project.root / s["path_16k"])))
    if not clips:
        raise BadArgs(f"project {project.root} has no prepared clips: run Prepare first")
    return sorted(clips)


def prepare(args: dict) -> ExtractParams:
    if not args.get("project"):
        raise BadArgs("'project' is required: the project folder")
    try:
        project = open_project(args["project"])
    except ProjectError as exc:
        raise BadArgs(str(exc)) from exc
    method = args.get("f0", "rmvpe")
    if method not in F0_METHODS:
        raise BadArgs(f"unknown pitch method {method!r}; choose one of {', '.join(F0_METHODS)}")
    version = args.get("version") or project.version
    if version not in ("v1", "v2"):
        raise BadArgs(f"version must be v1 or v2, not {version!r}")
    radius = args.get("filter_radius", 3)
    if not isinstance(radius, int) or not 0 <= radius <= 15:
        raise BadArgs("'filter_radius' must be an integer from 0 to 15")
    clips = _clips(project)
    rmvpe = None
    if method == "rmvpe":
        from backend.assets.store import require_asset

        rmvpe = str(require_asset("rmvpe"))
    enc_path, trusted, label = _resolve_encoder(str(args.get("encoder") or DEFAULT_ENCODER))
    device = _device(str(args.get("device", "auto")))
    workers = int(args.get("workers") or (1 if device != "cpu" else min(2, mp.cpu_count())))
    setup = WorkerSetup(method, enc_path, trusted, version, device, radius, rmvpe)
    return ExtractParams(project.root, clips, setup, max(1, workers), label)


def exclusive_key(params: ExtractParams) -> str:
    return str(params.root)


def _settings(params: ExtractParams) -> dict[str, Any]:
    s = params.setup
    return {"f0_method": s.f0_method, "encoder": params.encoder_label, "version": s.version,
            "filter_radius": s.filter_radius}


def run(params: ExtractParams, ctx: JobContext) -> dict:
    root, settings = params.root, _settings(params)
    manifest = store.load_manifest(root)
    if manifest.get("recovered"):
        ctx.log("features/manifest.json was damaged; features will be extracted again",
                "warning")
    present = {stem for stem, _ in params.clips}
    entries = {k: v for k, v in manifest["slices"].items() if k in present}
    todo = []
    for stem, wav in params.clips:
        sig = store.slice_signature(Path(wav), settings)
        if entries.get(stem, {}).get("signature") == sig:
            continue
        entries.pop(stem, None)
        todo.append((stem, wav, sig))
    manifest = {"format": store.FORMAT, "settings": settings, "slices": entries}
    store.save_manifest(root, manifest)
    t0 = time.monotonic()
    errors, done = _run_clips(params, ctx, todo, manifest)
    return {"slices": len(params.clips), "processed": done,
            "skipped": len(params.clips) - len(todo), "errors": errors,
            "seconds": round(time.monotonic() - t0, 2),
            "features_dir": str(root / store.FEATURES_DIR), **settings}


def _record(manifest: dict, out: dict, sig: str) -> None:
    manifest["slices"][out["stem"]] = {"signature": sig, "frames": out["frames"],
                                       "content_frames": out["content_frames"],
                                       "voiced": out["voiced"], **out["paths"]}


def _run_clips(params: ExtractParams, ctx: JobContext, todo: list[tuple[str, str, str]],
               manifest: dict) -> tuple[list[dict], int]:
    sigs = {stem: sig for stem, _, sig in todo}
    tasks = [(stem, wav, str(params.root)) for stem, wav, _ in todo]
    errors: list[dict] = []
    done = 0
    last_save = time.monotonic()
    ctx.progress("extracting", 0, len(tasks), force=True)
    for out in _results(params, ctx, tasks):
        if "error" in out:
            errors.append({"slice": out["stem"], "message": out["error"]})
        else:
            _record(manifest, out, sigs[out["stem"]])
            done += 1
        if time.monotonic() - last_save > _SAVE_EVERY_S:
            store.save_manifest(params.root, manifest)
            last_save = time.monotonic()
        ctx.progress("extracting", done + len(errors), len(tasks))
    store.save_manifest(params.root, manifest)
    return errors, done


def _results(params: ExtractParams, ctx: JobContext,
             tasks: list[tuple[str, str, str]]) -> Iterator[dict]:
    """Yield per-clip results; in a pool of processes when it pays off."""
    if not tasks:
        return
    if params.workers <= 1 or len(tasks) < 4:
        import torch

        threads = torch.get_num_threads()
        init_worker(WorkerSetup(**{**params.setup.__dict__, "threads": threads}))
        for task in tasks:
            ctx.check()
            yield process_clip(task)
        return
    pool = mp.get_context("spawn").Pool(params.workers, initializer=init_worker,
                                        initargs=(params.setup,))
    try:
        it = pool.imap_unordered(process_clip, tasks)
        remaining = len(tasks)
        while remaining:
            ctx.check()
            try:
                out = it.next(timeout=0.2)
            except mp.TimeoutError:
                continue
            remaining -= 1
            yield out
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="project folder")
    parser.add_argument("--f0", default="rmvpe", choices=F0_METHODS, help="pitch method")
    parser.add_argument("--encoder", default=DEFAULT_ENCODER,
                        help="content encoder: an asset name (hubert-base) or a file path")
    parser.add_argument("--version", choices=("v1", "v2"), help="feature version (default: "
                        "the project's)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--filter-radius", type=int, default=3)
    parser.add_argument("--workers", type=int, help="CPU worker processes (default: cores, max 2)")


def args_from_cli(ns: argparse.Namespace) -> dict:
    return {"project": ns.project, "f0": ns.f0, "encoder": ns.encoder, "version": ns.version,
            "device": ns.device, "filter_radius": ns.filter_radius, "workers": ns.workers}
