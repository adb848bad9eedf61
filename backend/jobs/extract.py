"""Extract pitch and content features from every prepared clip of a project.

Incremental (unchanged clips are skipped), parallel over CPU cores, batched on the GPU
(clips of identical sample count share forward passes), safe to cancel or kill at any
moment: each clip's files are written atomically and the clip enters
features/manifest.json only once all its files exist. The manifest is rewritten only as
clips succeed: a run that fails before its first clip (a broken encoder file, a full
disk) leaves it as it was. Clips whose feature files are missing or damaged are
extracted again; a full or read-only disk stops the job with a message saying so.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.dataset.project import ProjectError
from backend.features import store
from backend.features.extract_worker import ClipWorker, WorkerSetup, init_worker, process_clips
from backend.features.f0_runners import PITCH_RULES
from backend.fsutil import describe_os_error
from backend.jobs.common import in_thread, project_arg
from backend.kernel import BadArgs, JobContext, JobError
from backend.protocol import E_IO

F0_METHODS = ("harvest", "dio", "pm", "crepe-tiny", "crepe", "crepe-full", "rmvpe")
DEFAULT_ENCODER = "hubert-base"
_SAVE_EVERY_S = 2.0
_POLL_S = 0.2
_GPU_BATCH = 8
_MAX_BATCH_SAMPLES = 60 * 16000  # at most 60 s of audio per batch (memory, cancel latency)
Task = tuple[str, str, str]  # (stem, wav path, project root)


@dataclass(frozen=True)
class ExtractParams:
    root: Path
    clips: list[tuple[str, str]]  # (stem, absolute 16 kHz wav path)
    setup: WorkerSetup
    workers: int
    encoder_label: str
    encoder_id: str  # which file exactly (path, size, mtime): another file means new features
    batch_size: int = 1  # clips of identical length per forward pass


def _resolve_encoder(value: str) -> tuple[str, str]:
    """(path, label): an asset name from the catalogue, or a file path (both are loaded with
    the same restrictions)."""
    from backend.assets.store import require_asset

    candidate = Path(value).expanduser()
    if candidate.exists():
        return str(candidate.resolve()), candidate.name
    if "/" in value or "\\" in value or value.endswith((".pt", ".pth", ".bin", ".safetensors")):
        raise BadArgs(f"encoder file {value} does not exist")
    return str(require_asset(value)), value  # MissingAsset says how to get it


def _file_id(path: Path) -> str:
    """Path, size and modification time of a model file (or of a model folder's files)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamps = [(p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return f"{path.resolve()}|{stamps}"


def _workers(value: Any, device: str) -> int:
    if value in (None, "", 0):
        return 1 if device != "cpu" else max(1, min(2, mp.cpu_count()))
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise BadArgs(f"'workers' must be a whole number from 1 to 64, not {value!r}")
    return value


def _batch_size(value: Any, device: str) -> int:
    if value in (None, "", 0):
        return _GPU_BATCH if device.startswith("cuda") else 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise BadArgs(f"'batch_size' must be a whole number from 1 to 64, not {value!r}")
    return value


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
    try:
        manifest = project.load_manifest()
    except ProjectError as exc:  # damaged, or made by a newer version
        raise BadArgs(exc.message) from exc
    clips = []
    for entry in manifest["sources"].values():
        for s in entry.get("slices", []):
            clips.append((Path(s["path_16k"]).stem, str(project.root / s["path_16k"])))
    if not clips:
        raise BadArgs(f"project {project.root} has no prepared clips: run Prepare first")
    return sorted(clips)


def prepare(args: dict) -> ExtractParams:
    project = project_arg(args)
    method = args.get("f0", "rmvpe")
    if method not in F0_METHODS:
        raise BadArgs(f"unknown pitch method {method!r}; choose one of {', '.join(F0_METHODS)}")
    version = args.get("version") or project.version
    if version not in ("v1", "v2"):
        raise BadArgs(f"version must be v1 or v2, not {version!r}")
    radius = args.get("filter_radius", 3)
    if isinstance(radius, bool) or not isinstance(radius, int) or not 0 <= radius <= 15:
        raise BadArgs("'filter_radius' must be an integer from 0 to 15")
    clips = _clips(project)
    store.load_manifest(project.root)  # one of a newer format: refuse before any work
    rmvpe = None
    if method == "rmvpe":
        from backend.assets.store import require_asset

        rmvpe = str(require_asset("rmvpe"))
    enc_path, label = _resolve_encoder(str(args.get("encoder") or DEFAULT_ENCODER))
    device = _device(str(args.get("device", "auto")))
    workers = _workers(args.get("workers"), device)
    batch = _batch_size(args.get("batch_size"), device)
    setup = WorkerSetup(method, enc_path, version, device, radius, rmvpe)
    return ExtractParams(project.root, clips, setup, workers, label, _file_id(Path(enc_path)),
                         batch)


def project_folder(params: ExtractParams) -> Path:
    return params.root


def _settings(params: ExtractParams) -> dict[str, Any]:
    s = params.setup
    return {"f0_method": s.f0_method, "encoder": params.encoder_label, "version": s.version,
            "filter_radius": s.filter_radius, "pitch_rules": PITCH_RULES}


def run(params: ExtractParams, ctx: JobContext) -> dict:
    root, settings = params.root, _settings(params)
    identity = {**settings, "encoder_id": params.encoder_id}
    store.remove_temp_files(root)
    old = store.load_manifest(root)
    if old.get("recovered"):
        ctx.log("features/manifest.json was damaged; features will be extracted again",
                "warning")
    kept, todo = _plan(params, ctx, identity, old["slices"])
    # the new manifest: written once the first clip succeeds (or at once when there is
    # nothing to extract); until then the old one stays as it was
    manifest = {"format": store.FORMAT, "settings": settings, "slices": kept}
    t0 = time.monotonic()
    stats = _run_clips(params, ctx, todo, manifest, changed=manifest != old)
    seconds = time.monotonic() - t0
    audio_s = stats["audio_s"]
    return {"slices": len(params.clips), "processed": stats["done"],
            "skipped": len(params.clips) - len(todo), "errors": stats["errors"],
            "seconds": round(seconds, 2), "audio_seconds": round(audio_s, 2),
            "x_realtime": round(audio_s / seconds, 2) if seconds > 0 and audio_s else None,
            "workers": params.workers, "batch_size": params.batch_size,
            "features_dir": str(root / store.FEATURES_DIR), "manifest": str(root / store.MANIFEST),
            **settings}


def _plan(params: ExtractParams, ctx: JobContext, identity: dict[str, Any],
          entries: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """(entries to keep as they are, clips to extract): a clip is extracted again when its
    clip or the settings changed, or when its feature files are missing or damaged."""
    kept, todo, broken = {}, [], []
    for stem, wav in params.clips:
        try:
            sig = store.slice_signature(Path(wav), identity)
        except OSError:
            sig = "missing"  # the worker names the file in its error
        entry = entries.get(stem)
        if isinstance(entry, dict) and entry.get("signature") == sig:
            problem = store.entry_problem(params.root, entry)
            if problem is None:
                kept[stem] = entry
                continue
            broken.append(problem)
        todo.append((stem, wav, sig))
    if broken:
        ctx.log(f"{len(broken)} clip(s) have missing or damaged feature files (such as "
                f"{broken[0]}); extracting them again", "warning")
    return kept, todo


def _save(params: ExtractParams, manifest: dict) -> None:
    try:
        store.save_manifest(params.root, manifest)
    except OSError as exc:
        raise JobError(describe_os_error(exc, "writing", params.root / store.MANIFEST,
                                         retry="run Extract again"), code=E_IO) from exc


def _record(manifest: dict, out: dict, sig: str) -> None:
    manifest["slices"][out["stem"]] = {"signature": sig, "frames": out["frames"],
                                       "content_frames": out["content_frames"],
                                       "voiced": out["voiced"], **out["paths"]}


def _run_clips(params: ExtractParams, ctx: JobContext, todo: list[tuple[str, str, str]],
               manifest: dict, changed: bool) -> dict[str, Any]:
    sigs = {stem: sig for stem, _, sig in todo}
    tasks = [(stem, wav, str(params.root)) for stem, wav, _ in todo]
    stats: dict[str, Any] = {"errors": [], "done": 0, "audio_s": 0.0}
    last_save = 0.0  # the first finished clip is recorded at once, then every 2 s
    ctx.progress("extracting", 0, len(tasks), force=True)
    try:  # whatever stops the loop (cancel, a fatal error), keep what is finished
        with contextlib.closing(_results(params, ctx, tasks)) as results:
            for out in results:
                _check_fatal(out)
                if "error" in out:
                    stats["errors"].append({"slice": out["stem"], "message": out["error"]})
                else:
                    _record(manifest, out, sigs[out["stem"]])
                    stats["done"] += 1
                    stats["audio_s"] += out["seconds"]
                if stats["done"] and time.monotonic() - last_save > _SAVE_EVERY_S:
                    _save(params, manifest)
                    last_save = time.monotonic()
                ctx.progress("extracting", stats["done"] + len(stats["errors"]), len(tasks))
    except BaseException:
        if stats["done"]:
            with contextlib.suppress(JobError):  # the first failure is the one to report
                _save(params, manifest)
        raise
    if stats["done"] or changed:
        _save(params, manifest)
    return stats


def _check_fatal(out: dict) -> None:
    """Stop the job on a result no other clip could do better with."""
    if "fatal" in out:
        raise BadArgs(f"cannot extract features: {out['fatal']}")
    if "disk" in out:  # a full or read-only disk: every further clip would fail the same
        raise JobError(out["disk"], code=E_IO)


def _results(params: ExtractParams, ctx: JobContext,
             tasks: list[Task]) -> Generator[dict, None, None]:
    """Yield per-clip results; in a pool of processes when it pays off."""
    if not tasks:
        return
    batches = _batches(tasks, params.batch_size)
    if params.workers <= 1 or len(tasks) < 4:
        yield from _in_thread(params.setup, ctx, batches)
        return
    # longest clips first, so no worker is left with a long one at the end
    batches.sort(key=lambda b: -sum(_size(t[1]) for t in b))
    spawn = mp.get_context("spawn")
    pool = spawn.Pool(params.workers, initializer=init_worker,
                      initargs=(params.setup, spawn.Lock()))
    try:
        it = pool.imap_unordered(process_clips, batches)
        for _ in range(len(batches)):
            yield from _next(it, ctx)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _batches(tasks: list[Task], batch_size: int) -> list[list[Task]]:
    """Clips of identical sample count in batches of up to ``batch_size`` (and at most
    ``_MAX_BATCH_SAMPLES`` samples); every other clip on its own. Order within a sample
    count is kept."""
    if batch_size <= 1:
        return [[task] for task in tasks]
    groups: dict[int, list[Task]] = {}
    alone: list[list[Task]] = []
    for task in tasks:
        n = _samples(task[1])
        if n is None:
            alone.append([task])  # unreadable: the worker names the file in its error
        else:
            groups.setdefault(n, []).append(task)
    out = []
    for n, group in groups.items():
        size = max(1, min(batch_size, _MAX_BATCH_SAMPLES // max(n, 1)))
        out += [group[i:i + size] for i in range(0, len(group), size)]
    return out + alone


def _samples(path: str) -> int | None:
    import soundfile as sf

    try:
        return int(sf.info(path).frames)
    except Exception:  # unreadable header: processed alone, and reported by the worker
        return None


def _next(it: Any, ctx: JobContext) -> list[dict]:
    while True:
        ctx.check()
        try:
            return it.next(timeout=_POLL_S)
        except mp.TimeoutError:
            continue


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _in_thread(setup: WorkerSetup, ctx: JobContext,
               batches: list[list[Task]]) -> Generator[dict, None, None]:
    """One worker in a thread of this process (GPU, or too few clips for a pool): the job
    answers cancel at once while the thread finishes at most the batch it is on."""
    def work(stop: threading.Event, put: Any) -> None:
        worker = ClipWorker(setup, set_threads=False)  # keep this process's thread count
        for batch in batches:
            if stop.is_set():
                return
            for out in worker.process_batch(batch):
                put(out)

    yield from in_thread(ctx, work, sum(len(b) for b in batches), name="extract-worker",
                         daemon=True)


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
    parser.add_argument("--batch-size", type=int, help="clips of identical length per forward "
                        f"pass (default: {_GPU_BATCH} on CUDA, 1 on CPU)")


def args_from_cli(ns: argparse.Namespace) -> dict:
    return {"project": ns.project, "f0": ns.f0, "encoder": ns.encoder, "version": ns.version,
            "device": ns.device, "filter_radius": ns.filter_radius, "workers": ns.workers,
            "batch_size": ns.batch_size}
