"""Export a training run: a voice-conversion run as an RVC inference model (.pth) or a model
package (.zip); a text-to-speech run as our VITS inference file (.pth) or its package (.zip)
(``backend/models/vits/files.py``). The run's checkpoint says which kind it is."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.jobs.common import project_arg, run_folder
from backend.jobs.train import resume_settings
from backend.kernel import BadArgs, JobContext, JobError


@dataclass(frozen=True)
class ExportParams:
    root: Path
    name: str
    run_dir: Path
    out: Path
    package: bool


def prepare(args: dict) -> ExportParams:
    from backend.train import checkpoint as ck

    project = project_arg(args)
    folder = run_folder(project, args.get("run"))
    if not ck.list_checkpoints(folder):
        raise BadArgs(f"run {folder.name} has no checkpoint yet: train first")
    if args.get("out"):
        out = Path(args["out"]).expanduser()
    else:  # export/<project>.pth; a text-to-speech model <project>-tts.pth, so that it
        # never replaces the project's voice model
        settings = resume_settings(folder) or {}
        tts = "-tts" if settings.get("model") == "vits" else ""
        out = project.root / "export" / f"{project.file_stem}{tts}.pth"
    if out.suffix.lower() not in (".pth", ".zip"):
        raise BadArgs(f"--out must end in .pth (model) or .zip (package), not {out.name}")
    return ExportParams(project.root, str(args.get("name") or project.name), folder, out,
                        out.suffix.lower() == ".zip")


def project_folder(params: ExportParams) -> Path:
    return params.root


def run(params: ExportParams, ctx: JobContext) -> dict:
    from backend.train import checkpoint as ck
    from backend.train.export import (
        inference_checkpoint,
        write_inference_model,
        write_package,
    )

    loaded = ck.load_latest(params.run_dir)
    if loaded is None or not loaded.state:
        raise JobError(f"no checkpoint of {params.run_dir} could be read")
    st = loaded.state
    if "vits" in st["task"]:
        from backend.jobs.export_vits import export_vits

        return export_vits(params, st, ctx)
    rvc = st["task"]["rvc"]
    g_state = st["task"]["G"]
    ckpt = inference_checkpoint(g_state, _config_args(rvc), sample_rate=rvc["sample_rate"],
                                f0=rvc["f0"], version=rvc["version"],
                                info=f"{st['epoch']}epoch")
    if rvc.get("size") != "standard":
        ckpt["info"] += f" ({rvc.get('size')} size: loads only in Timbre Studio)"
    ctx.check()
    try:
        params.out.parent.mkdir(parents=True, exist_ok=True)
        if not params.package:
            path = write_inference_model(params.out, ckpt)
            return {"model": str(path), "step": st["step"], "epoch": st["epoch"]}
        card = _card(params, st, rvc)
        indexes = sorted((params.root / "index").glob(f"added_*_{rvc['version']}.index"))
        path = write_package(params.out, params.name, ckpt, card,
                             indexes[-1] if indexes else None)
    except OSError as exc:
        raise JobError(f"could not write {params.out}: {exc.strerror or exc}; "
                       "choose another file or folder") from exc
    return {"package": str(path), "step": st["step"], "epoch": st["epoch"],
            "index": str(indexes[-1]) if indexes else None}


def _config_args(rvc: dict) -> list[Any]:
    """The 18 values of the generator that was trained (a tiny run's are the tiny ones, so
    that the file's config describes its weights)."""
    from backend.models.config import GeneratorConfig, config_args

    args = config_args(rvc["version"], rvc["sample_rate"], rvc["f0"])
    if rvc.get("size") == "tiny":
        args = GeneratorConfig.from_args(args, rvc["version"], rvc["f0"]).tiny().to_args()
    return args


def _card(params: ExportParams, st: dict, rvc: dict) -> Any:
    from backend.features import store
    from backend.train.export import ModelCard

    feats = store.load_manifest(params.root)
    ready = store.ready_slices(params.root, rvc["version"])
    seconds = sum(int(e.get("frames", 0)) for e in ready.values()) / 100.0
    return ModelCard(params.name, rvc["version"], rvc["sample_rate"], rvc["f0"],
                     feats.get("settings", {}).get("f0_method"), int(st["epoch"]),
                     int(st["step"]), seconds, feats.get("settings", {}).get("encoder"))


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="project folder")
    parser.add_argument("--out", help="output .pth (RVC model) or .zip (model package)")
    parser.add_argument("--run", default="main")
    parser.add_argument("--name", help="model name (default: the project's)")


def args_from_cli(ns: argparse.Namespace) -> dict:
    return {"project": ns.project, "out": ns.out, "run": ns.run, "name": ns.name}
