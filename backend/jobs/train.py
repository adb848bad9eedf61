"""Train a model on the project: a voice-conversion (RVC) model on its extracted features,
or a text-to-speech (VITS) model on its labelled clips (``backend/jobs/train_vits.py``).

A run lives in ``train/<run>/`` inside the project. Starting a run whose folder
has checkpoints resumes from the newest one that loads, with the model kind and settings
the run was started with (a request that contradicts them is refused). Stop (cancel) writes
a checkpoint, then exits; pause holds between steps. With ``tensorboard`` the metrics
are also written as TensorBoard scalars under ``train/<run>/tensorboard/`` (an
optional extra). The engine's side of a run is ``backend/jobs/train_loop.py``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backend.dataset.project import Project
from backend.features import store
from backend.jobs.common import project_arg, run_folder
from backend.kernel import BadArgs, JobContext, JobError
from backend.train import clips as cl
from backend.train import run_settings as rs

PAUSABLE = True
SIZES = ("tiny", "standard")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
LEARNING_RATES = {"rvc": 1e-4, "vits": 2e-4}  # the published configs' rates


@dataclass(frozen=True)
class TrainParams:
    root: Path
    run_dir: Path
    version: str
    sample_rate: int
    f0: bool
    size: str
    epochs: int
    batch_size: int
    learning_rate: float
    save_every: int
    keep_last: int
    pretrained_g: Path | None
    pretrained_d: Path | None
    device: str
    precision: str
    seed: int
    deterministic: bool
    tensorboard: bool = False
    model: str = "rvc"
    # text-to-speech only
    language: str | None = None
    duration: str = "stochastic"
    speakers: dict[str, int] = field(default_factory=dict)
    symbols: tuple[str, ...] = ()

    def settings(self) -> dict[str, Any]:
        """The settings that fix the model's weights (``run.json``, see run_settings)."""
        if self.model == "vits":
            return {"model": "vits", "size": self.size, "language": self.language,
                    "duration": self.duration, "sample_rate": self.sample_rate,
                    "speakers": dict(self.speakers), "n_symbols": len(self.symbols),
                    "symbols": list(self.symbols)}
        return {"model": "rvc", "version": self.version, "sample_rate": self.sample_rate,
                "f0": self.f0, "size": self.size}


def _number(args: dict, key: str, default: Any, lo: float, hi: float, kind: type = int) -> Any:
    value = args.get(key)
    value = default if value is None else value
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= value <= hi:
        raise BadArgs(f"'{key}' must be a number from {lo:g} to {hi:g}, not {value!r}")
    return kind(value)


def _pretrained(args: dict, key: str) -> Path | None:
    value = args.get(key)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise BadArgs(f"{key.replace('_', ' ')} file {path} does not exist")
    return path


def _tensorboard(args: dict) -> bool:
    from backend.train.tb_writer import missing_message

    wanted = args.get("tensorboard")
    if wanted is not None and not isinstance(wanted, bool):
        raise BadArgs(f"'tensorboard' must be true or false, not {wanted!r}")
    missing = missing_message() if wanted else ""
    if missing:
        raise BadArgs(missing)
    return bool(wanted)


def _check_bases(p: TrainParams) -> None:
    from backend.models.discriminators import build_discriminator
    from backend.models.synthesizer import build_generator
    from backend.train import pretrained as pt

    for part, path, build in (
            ("G", p.pretrained_g, lambda: build_generator(p.version, p.sample_rate, p.f0,
                                                          p.size)),
            ("D", p.pretrained_d, lambda: build_discriminator(p.version, p.size))):
        if path is None:
            continue
        try:
            report = pt.fit_state_dict(build(), pt.read_state_dict(path, part), path)
            if part == "G":
                pt.check_compatible(report, version=p.version, sample_rate=p.sample_rate,
                                    f0=p.f0)
            elif report.loaded == 0:
                raise pt.PretrainedError(f"no tensor of {path.name} fits the discriminator")
        except pt.PretrainedError as exc:
            raise BadArgs(str(exc)) from exc


def prepare(args: dict) -> TrainParams:
    project = project_arg(args)
    run = str(args.get("run") or "main")
    if not run.replace("-", "").replace("_", "").replace(" ", "").isalnum():
        raise BadArgs(f"run name {run!r} may only hold letters, digits, spaces, - and _")
    run_dir = run_folder(project, run)
    stored = resume_settings(run_dir)
    model = _model(args, project, stored, run)
    size = args.get("size")  # unset: the run's own size, or standard for a new run
    if size is not None and size not in SIZES:
        raise BadArgs(f"'size' must be one of {', '.join(SIZES)}")
    precision = args.get("precision", "auto")
    if precision not in PRECISIONS:
        raise BadArgs(f"'precision' must be one of {', '.join(PRECISIONS)}")
    device = str(args.get("device", "auto"))
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise BadArgs(f"unknown device {device!r}; use auto, cpu or cuda")
    params = TrainParams(
        root=project.root, run_dir=run_dir, version=project.version,
        sample_rate=project.sample_rate, f0=True, size=size or "standard",
        epochs=_number(args, "epochs", 200, 1, 100000),
        batch_size=_number(args, "batch_size", 8, 1, 256),
        learning_rate=_number(args, "learning_rate", LEARNING_RATES[model], 1e-7, 1e-1, float),
        save_every=_number(args, "save_every", 5, 1, 10000),
        keep_last=_number(args, "keep_last", 3, 0, 1000),  # 0: keep every one
        pretrained_g=_pretrained(args, "pretrained_g"),
        pretrained_d=_pretrained(args, "pretrained_d"), device=device, precision=precision,
        seed=_number(args, "seed", 1234, 0, 2**31), deterministic=bool(args.get("deterministic")),
        tensorboard=_tensorboard(args), model=model)
    if model == "vits":
        from backend.jobs import train_vits

        return train_vits.prepare(params, args, project, run, stored)
    return _prepare_rvc(params, args, project, run, stored)


def _model(args: dict, project: Project, stored: dict[str, Any] | None, run: str) -> str:
    """The model kind: the one asked for, else the resumed run's, else the project's. A
    request for another kind than the run's is refused in one sentence."""
    asked = args.get("model")
    if asked is not None and asked not in rs.MODELS:
        raise BadArgs(f"'model' must be one of {', '.join(rs.MODELS)} (voice conversion or "
                      f"text-to-speech), not {asked!r}")
    if stored is None:
        return asked or str(project.meta.get("model_kind") or "rvc")
    if asked is not None and asked != stored["model"]:
        raise BadArgs(f"run '{run}' was started as {rs.MODEL_WORDS[stored['model']]} with "
                      f"{rs.describe(stored)}; this request asks for "
                      f"{rs.MODEL_WORDS[asked]}. Start a new run with another name, or leave "
                      "the model kind unset to resume it as it was.")
    return stored["model"]


def _prepare_rvc(params: TrainParams, args: dict, project: Project, run: str,
                 stored: dict[str, Any] | None) -> TrainParams:
    feats = store.load_manifest(project.root)
    version = feats.get("settings", {}).get("version") or project.version
    if not cl.clip_set(project.root, version).total:
        raise BadArgs(f"project {project.root.name} has no extracted features: run Extract "
                      "first")
    f0 = None if args.get("f0") is None else bool(args["f0"])
    params = replace(params, version=version, f0=True if f0 is None else f0)
    params = _keep_run_settings(params, run, stored, {"size": args.get("size"), "f0": f0})
    _check_clips(params)
    _check_bases(params)
    return params


def resume_settings(run_dir: Path) -> dict[str, Any] | None:
    """The model settings of the run a start resumes (None: nothing to resume, or no
    checkpoint can be read, so the run starts over; see Engine)."""
    from backend.train import checkpoint as ck

    if not ck.list_checkpoints(run_dir):
        return None  # nothing to resume: this request's settings start the run
    return rs.stored(run_dir) or _checkpoint_settings(run_dir)


def _keep_run_settings(params: TrainParams, run: str, stored: dict[str, Any] | None,
                       asked: dict[str, Any]) -> TrainParams:
    """A run with checkpoints resumes with its own settings; unset ones are taken from it,
    contradicting ones are refused in one sentence."""
    if stored is None:
        return params
    wanted = {k: v for k, v in asked.items() if v is not None}
    wanted.update(version=params.version, sample_rate=params.sample_rate)
    diff = rs.differences(stored, wanted)
    if diff:
        fixes = [f"leave {' and '.join(k for k in diff if k in asked)} unset"] \
            if any(k in asked for k in diff) else []
        if "version" in diff:
            fixes.append(f"run Extract with version {stored['version']} again")
        if "sample_rate" in diff:
            fixes.append(f"set the project back to {rs.describe(stored, ('sample_rate',))}")
        raise BadArgs(f"run '{run}' was started with {rs.describe(stored)}; this request asks "
                      f"for {rs.describe(wanted, diff)}. Start a new run with another name, "
                      f"or {' and '.join(fixes)} to resume it as it was.")
    return replace(params, size=stored["size"], f0=stored["f0"])


def _checkpoint_settings(run_dir: Path) -> dict[str, Any] | None:
    """The settings in the newest readable checkpoint (for a run without ``run.json``)."""
    from backend.train import checkpoint as ck

    loaded = ck.load_latest(run_dir)
    task = loaded.state.get("config", {}).get("task") if loaded and loaded.state else None
    return rs.valid(task)


def _check_clips(params: TrainParams) -> None:
    clips = cl.clip_set(params.root, params.version)
    problem = cl.problem(clips)
    if problem:
        raise BadArgs(problem, details={"unusable_clips": clips.listing()})


def project_folder(params: TrainParams) -> Path:
    return params.root


def run(params: TrainParams, ctx: JobContext) -> dict:
    if params.model == "vits":
        from backend.jobs import train_vits

        return train_vits.run(params, ctx)
    return _run_rvc(params, ctx)


def _run_rvc(params: TrainParams, ctx: JobContext) -> dict:
    from backend.jobs.train_loop import train_task
    from backend.train.rvc_data import DatasetError
    from backend.train.rvc_task import RvcConfig, RvcTask

    rvc = RvcConfig(version=params.version, sample_rate=params.sample_rate, f0=params.f0,
                    size=params.size, learning_rate=params.learning_rate)
    try:
        task = RvcTask(rvc, params.root, pretrained_g=params.pretrained_g,
                       pretrained_d=params.pretrained_d,
                       log=lambda msg, level: ctx.log(msg, level))
    except DatasetError as exc:
        raise JobError(str(exc)) from exc
    _report_unusable(ctx, task.data.clips)
    result = train_task(params, ctx, task, rvc.to_dict(), (DatasetError,))
    return {**result, "model": "rvc", "dataset_seconds": round(task.data.seconds(), 1),
            "unusable_clips": task.data.clips.listing()}


def _report_unusable(ctx: JobContext, clips: Any) -> None:
    if clips.unusable:
        named = "; ".join(f"{c} ({r})" for c, r in sorted(clips.unusable.items()))
        fix = "run Prepare, then Extract again" if clips.needs_prepare else "run Extract again"
        ctx.log(f"{len(clips.unusable)} of the {clips.total} extracted clips cannot be used "
                f"and are left out: {named}; {fix} to train on them", "warning")


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="project folder")
    parser.add_argument("--run", default="main", help="run name (folder under train/)")
    parser.add_argument("--model", choices=rs.MODELS,
                        help="rvc (voice conversion, from the extracted features) or vits "
                             "(text-to-speech, from the labelled clips); default: the "
                             "project's model kind, and a resumed run keeps its own")
    parser.add_argument("--language",
                        help="vits: the language to train (en, zh, ja); default: the most "
                             "common language of the labelled clips")
    parser.add_argument("--duration", choices=rs.DURATIONS,
                        help="vits: the duration predictor of a new run (default "
                             "stochastic)")
    parser.add_argument("--size", choices=SIZES,
                        help="model size of a new run (default standard); a resumed run keeps "
                             "its own")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float,
                        help="default 1e-4 (rvc), 2e-4 (vits)")
    parser.add_argument("--save-every", type=int, default=5, help="epochs between checkpoints")
    parser.add_argument("--keep-last", type=int, default=3,
                        help="checkpoints to keep (0: all)")
    parser.add_argument("--pretrained-g",
                        help="pretrained generator (e.g. f0G40k.pth; vits: a G_<step>.pth)")
    parser.add_argument("--pretrained-d",
                        help="pretrained discriminator (e.g. f0D40k.pth; vits: a D_<step>.pth)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--deterministic", action="store_true")
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write TensorBoard event files to <run>/tensorboard/ "
                             "(needs the optional tensorboard extra)")


def args_from_cli(ns: argparse.Namespace) -> dict:
    keys = ("project", "run", "model", "language", "duration", "size", "epochs", "batch_size",
            "learning_rate", "save_every", "keep_last", "pretrained_g", "pretrained_d",
            "device", "precision", "seed", "deterministic", "tensorboard")
    return {k: getattr(ns, k) for k in keys}
