"""Quick training commands: what to train with, and what runs exist."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from backend.commands import CommandError, command
from backend.dataset.project import ProjectError, open_project
from backend.features import store
from backend.protocol import E_BAD_ARGS, E_NOT_FOUND
from backend.train import clips as cl
from backend.train import run_settings as rs
from backend.train import tts_labels as tl
from backend.train import vits_data as vd


def _project(args: dict) -> Any:
    if not isinstance(args.get("project"), str):
        raise CommandError("'project' must be the project folder", code=E_BAD_ARGS)
    try:
        return open_project(args["project"])
    except ProjectError as exc:
        raise CommandError(str(exc), code=E_NOT_FOUND) from exc


def _base_asset(version: str, filename: str | None) -> str | None:
    """The catalogue name of a recommended base file (``f0G40k.pth`` -> ``rvc-v2-f0G40k``)."""
    return f"rvc-{version}-{Path(filename).stem}" if filename else None


def _installed_base(version: str, filename: str | None) -> str | None:
    name = _base_asset(version, filename)
    if not name:
        return None
    from backend.assets.catalogue import load_catalogue
    from backend.assets.store import asset_path

    asset = load_catalogue().get(name)
    if asset is None:
        return None
    path = asset_path(asset)
    return str(path) if path.is_file() else None


def suggest(project: Any, model: str | None = None) -> dict:
    """What to train with: for the project's model kind unless ``model`` says."""
    model = model or str(project.meta.get("model_kind") or "rvc")
    if model == "vits":
        return suggest_tts(project)
    from backend.dataset.health import recommend

    feats = store.load_manifest(project.root)
    version = feats.get("settings", {}).get("version") or project.version
    clips = cl.clip_set(project.root, version)  # what the train job reads
    ready = clips.usable
    gt = project.root / "prepared" / "0_gt_wavs"
    seconds = sum(int(e.get("frames", 0)) for e in ready.values()) / 100.0
    problems = []
    if not project.path("prepared/manifest.json").exists() and not any(gt.glob("*.wav")):
        problems.append("no prepared clips: run Prepare on the Dataset page first")
    elif not clips.total:
        problems.append("no features: run Extract first")
    elif cl.problem(clips):
        problems.append(str(cl.problem(clips)))
    rec = recommend(seconds, project.sample_rate, version)
    suggestion = {"epochs": rec.get("epochs"), "learning_rate": rec.get("learning_rate"),
                  "batch_size": rec.get("batch_size"), "save_every": 5,
                  "base_g": rec.get("base_g"), "base_d": rec.get("base_d"),
                  "mode": rec.get("mode"), "text": rec.get("text")}
    return {"model": "rvc", "ready": not problems, "problems": problems, "version": version,
            "sample_rate": project.sample_rate, "f0": True, "dataset_seconds": round(seconds, 1),
            "clips": len(ready), "unusable_clips": clips.listing(), "suggestion": suggestion,
            "bases": {"g": _installed_base(version, rec.get("base_g")),
                      "d": _installed_base(version, rec.get("base_d"))},
            "base_assets": {"g": _base_asset(version, rec.get("base_g")),
                            "d": _base_asset(version, rec.get("base_d"))}}


def suggest_tts(project: Any) -> dict:
    """The text-to-speech side: the labelled clips of the most common language, and how
    much labelled audio TTS needs (``health.recommend_tts``). The texts themselves are
    checked when training starts (``text.check`` reads them on the Labels page)."""
    from backend.dataset.health import recommend_tts

    problems: list[str] = []
    try:
        found = tl.labelled(project)
    except tl.LabelsProblem as exc:
        found, problems = tl.Labelled([]), [str(exc)]
    language = found.default_language()
    used = found.of_language(language) if language else []
    if not problems and not used:
        problems.append(tl.nothing_labelled(project))
    if language:
        try:
            tl.frontend(language)
        except tl.LabelsProblem as exc:
            problems.append(str(exc))
    seconds = tl.seconds(used)
    rec = recommend_tts(seconds, len(used))
    suggestion = {"epochs": rec["epochs"], "learning_rate": rec["learning_rate"],
                  "batch_size": rec["batch_size"], "save_every": 5, "base_g": None,
                  "base_d": None, "mode": rec["mode"], "text": rec["text"]}
    return {"model": "vits", "ready": not problems, "problems": problems,
            "language": language, "languages": dict(found.languages()),
            "speakers": sorted(vd.speaker_table(used)),
            "sample_rate": rs.VITS_SAMPLE_RATE, "labelled_seconds": round(seconds, 1),
            "labelled_rows": len(used), "dataset_seconds": round(seconds, 1),
            "clips": len(used), "unusable_clips": [], "suggestion": suggestion,
            "recommendation": rec, "bases": {"g": None, "d": None},
            "base_assets": {"g": None, "d": None}}


@command("train.suggest")
def train_suggest(args: dict, server: Any) -> dict:
    model = args.get("model")
    if model is not None and model not in rs.MODELS:
        raise CommandError(f"'model' must be one of {', '.join(rs.MODELS)}, not {model!r}",
                           code=E_BAD_ARGS)
    return suggest(_project(args), model)


def _run_entry(run_dir: Path) -> dict:
    from backend.train import checkpoint as ck

    info = rs.read_run_info(run_dir)
    saves = info.get("saves") if isinstance(info.get("saves"), dict) else {}
    ckpts = []
    for path in ck.list_checkpoints(run_dir):
        with contextlib.suppress(OSError):  # pruned while listing
            st = path.stat()
            step = int(path.stem.split("_")[1])
            ckpts.append({"path": str(path), "step": step, "epoch": saves.get(str(step)),
                          "saved_at": st.st_mtime, "size": st.st_size})
    samples = []
    for p in sorted((run_dir / "samples").glob("step_*.wav")):
        with contextlib.suppress(ValueError):
            step = int(p.stem.split("_")[1])
            samples.append({"path": str(p), "step": step, "epoch": saves.get(str(step))})
    return {"name": run_dir.name, "dir": str(run_dir), "metrics": str(run_dir / "metrics.jsonl"),
            "checkpoints": ckpts, "samples": samples, "config": info,
            "settings": rs.stored(run_dir),
            "state": info.get("state", "new") if ckpts else "new"}


@command("train.runs")
def train_runs(args: dict, server: Any) -> dict:
    project = _project(args)
    base = project.root / "train"
    runs = [_run_entry(d) for d in sorted(base.iterdir()) if d.is_dir()] if base.is_dir() else []
    return {"runs": runs}
