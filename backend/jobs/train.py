"""Train an RVC-compatible voice model on the project's features.

A run lives in ``train/<run>/`` inside the project. Starting a run whose folder
has checkpoints resumes from the newest one that loads, with the model settings the run
was started with (a request that contradicts them is refused). Stop (cancel) writes a
checkpoint, then exits; pause holds between steps. With ``tensorboard`` the metrics
are also written as TensorBoard scalars under ``train/<run>/tensorboard/`` (an
optional extra).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backend.features import store
from backend.fsutil import atomic_write_json, describe_os_error
from backend.jobs.common import project_arg, run_folder
from backend.kernel import BadArgs, JobContext, JobError
from backend.protocol import E_IO
from backend.train import clips as cl
from backend.train import run_settings as rs

PAUSABLE = True
SIZES = ("tiny", "standard")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


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
    feats = store.load_manifest(project.root)
    version = feats.get("settings", {}).get("version") or project.version
    if not cl.clip_set(project.root, version).total:
        raise BadArgs(f"project {project.root.name} has no extracted features: run Extract "
                      "first")
    run = str(args.get("run") or "main")
    if not run.replace("-", "").replace("_", "").replace(" ", "").isalnum():
        raise BadArgs(f"run name {run!r} may only hold letters, digits, spaces, - and _")
    size = args.get("size")  # unset: the run's own size, or standard for a new run
    if size is not None and size not in SIZES:
        raise BadArgs(f"'size' must be one of {', '.join(SIZES)}")
    f0 = None if args.get("f0") is None else bool(args["f0"])
    precision = args.get("precision", "auto")
    if precision not in PRECISIONS:
        raise BadArgs(f"'precision' must be one of {', '.join(PRECISIONS)}")
    device = str(args.get("device", "auto"))
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise BadArgs(f"unknown device {device!r}; use auto, cpu or cuda")
    params = TrainParams(
        root=project.root, run_dir=run_folder(project, run), version=version,
        sample_rate=project.sample_rate, f0=True if f0 is None else f0,
        size=size or "standard",
        epochs=_number(args, "epochs", 200, 1, 100000),
        batch_size=_number(args, "batch_size", 8, 1, 256),
        learning_rate=_number(args, "learning_rate", 1e-4, 1e-7, 1e-1, float),
        save_every=_number(args, "save_every", 5, 1, 10000),
        keep_last=_number(args, "keep_last", 3, 0, 1000),  # 0: keep every one
        pretrained_g=_pretrained(args, "pretrained_g"),
        pretrained_d=_pretrained(args, "pretrained_d"), device=device, precision=precision,
        seed=_number(args, "seed", 1234, 0, 2**31), deterministic=bool(args.get("deterministic")),
        tensorboard=_tensorboard(args))
    params = _keep_run_settings(params, run, {"size": size, "f0": f0})
    _check_clips(params)
    _check_bases(params)
    return params


def _keep_run_settings(params: TrainParams, run: str, asked: dict[str, Any]) -> TrainParams:
    """A run with checkpoints resumes with its own settings; unset ones are taken from it,
    contradicting ones are refused in one sentence."""
    from backend.train import checkpoint as ck

    if not ck.list_checkpoints(params.run_dir):
        return params  # nothing to resume: this request's settings start the run
    stored = rs.stored(params.run_dir) or _checkpoint_settings(params.run_dir)
    if stored is None:
        return params  # no checkpoint can be read: the run starts over (see Engine)
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
    from backend.train.checkpoint import WriteFailed
    from backend.train.engine import Engine, EngineConfig, IncompatibleCheckpoint, OutOfMemory
    from backend.train.pretrained import PretrainedError
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
    cfg = EngineConfig(run_dir=params.run_dir, epochs=params.epochs,
                       batch_size=params.batch_size, seed=params.seed,
                       save_every_epochs=params.save_every, keep_last=params.keep_last,
                       device=params.device, precision=params.precision,
                       deterministic=params.deterministic, task_config=rvc.to_dict())
    engine = Engine(cfg, task)
    saves: dict[str, int] = {}  # the epoch of each save, by step
    tb: list[Any] = []  # the TensorBoard log, once the first step is known
    engine.hooks = _hooks(params, ctx, engine, task, saves, tb)
    try:
        result = _train(params, ctx, engine, task, saves, tb)
    except IncompatibleCheckpoint as exc:
        raise BadArgs(str(exc)) from exc
    except (OutOfMemory, PretrainedError, DatasetError) as exc:
        raise JobError(str(exc)) from exc
    except WriteFailed as exc:
        raise JobError(str(exc), code=E_IO) from exc
    except OSError as exc:  # e.g. a read-only run folder
        raise JobError(describe_os_error(exc, "writing in", exc.filename or params.run_dir,
                                         retry="start the run again"), code=E_IO) from exc
    finally:
        _close_tensorboard(tb, ctx)
    return {**result, "dataset_seconds": round(task.data.seconds(), 1),
            "tensorboard": str(tb[0].dir) if tb else None,
            "unusable_clips": task.data.clips.listing(),
            "set_aside": [str(p) for p in engine.set_aside]}


def _train(params: TrainParams, ctx: JobContext, engine: Any, task: Any,
           saves: dict[str, int], tb: list[Any]) -> dict:
    if engine.find_checkpoint() is not None:  # resuming: its weights, not the bases
        task.pretrained = (None, None)
        old = rs.read_run_info(params.run_dir).get("saves")
        saves.update(old if isinstance(old, dict) else {})
    engine.prepare()
    _write_run_info(params, engine, saves)
    if params.tensorboard:
        tb.append(_open_tensorboard(params, engine.step + 1))
        ctx.log(f"TensorBoard event files go to {tb[0].dir}", "info")
    result = engine.run()
    _write_run_info(params, engine, saves, state="stopped" if result["stopped"] else "finished")
    return result


def _report_unusable(ctx: JobContext, clips: Any) -> None:
    if clips.unusable:
        named = "; ".join(f"{c} ({r})" for c, r in sorted(clips.unusable.items()))
        fix = "run Prepare, then Extract again" if clips.needs_prepare else "run Extract again"
        ctx.log(f"{len(clips.unusable)} of the {clips.total} extracted clips cannot be used "
                f"and are left out: {named}; {fix} to train on them", "warning")


def _close_tensorboard(tb: list[Any], ctx: JobContext) -> None:
    for log in tb:
        try:
            log.close()
        except OSError as exc:  # the run's own outcome (or its error) is what matters
            ctx.log(f"the TensorBoard event file in {log.dir} could not be completed "
                    f"({exc})", "warning")


def _open_tensorboard(params: TrainParams, first_step: int) -> Any:
    from backend.train.tb_writer import TensorBoardLog

    try:
        return TensorBoardLog(params.run_dir, first_step)
    except (RuntimeError, OSError) as exc:
        raise JobError(str(exc)) from exc


def _hooks(params: TrainParams, ctx: JobContext, engine: Any, task: Any,
           saves: dict[str, int], tb: list[Any]) -> Any:
    from backend.train.checkpoint import write_failed
    from backend.train.engine import TrainHooks

    steps_per_epoch = math.ceil(len(task.dataset_lengths()) / params.batch_size)
    total = steps_per_epoch * params.epochs
    start = {"t": time.monotonic(), "step": None}

    def on_metrics(record: dict) -> None:
        if start["step"] is None:
            start["step"] = record["step"] - 1
        ctx.metrics(record)
        for log in tb:
            log.add(record)
        done = record["step"] - start["step"]
        rate = done / max(time.monotonic() - start["t"], 1e-6)
        eta = round((total - record["step"]) / rate, 1) if rate > 0 else None
        ctx.progress("training", record["step"], total, eta=eta, epoch=record["epoch"])

    def on_save(path: Path, step: int) -> None:
        epoch = engine.sampler.epoch if engine.sampler else 0  # epochs completed
        saves[str(step)] = epoch
        for log in tb:
            log.flush()
        _write_run_info(params, engine, saves)  # train.runs reads the epochs from here
        ctx.event("train.checkpoint", {"path": str(path), "step": step, "epoch": epoch})
        out = params.run_dir / "samples" / f"step_{step:09d}.wav"
        try:
            sample = task.render_sample(out)
        except OSError as exc:
            raise write_failed(exc, "the sample", out, params.run_dir) from exc
        if sample is not None:
            ctx.event("train.sample", {"path": str(sample), "step": step, "epoch": epoch})

    return TrainHooks(check_stop=lambda: ctx.cancelled, wait_if_paused=ctx.wait_if_paused,
                      on_metrics=on_metrics, on_log=lambda m, lvl: ctx.log(m, lvl),
                      on_save=on_save)


def _write_run_info(params: TrainParams, engine: Any, saves: dict[str, int],
                    state: str = "running") -> None:
    """``run.json``: the run's settings, its state, and the epoch of every save by step."""
    from backend.train.checkpoint import write_failed

    info = {"state": state, "step": engine.step, "epochs": params.epochs,
            "version": params.version, "sample_rate": params.sample_rate, "f0": params.f0,
            "size": params.size, "batch_size": params.batch_size,
            "learning_rate": params.learning_rate,
            "pretrained_g": str(params.pretrained_g) if params.pretrained_g else None,
            "pretrained_d": str(params.pretrained_d) if params.pretrained_d else None,
            "tensorboard": params.tensorboard, "save_every": params.save_every,
            "keep_last": params.keep_last, "device": params.device,
            "precision": params.precision, "saves": dict(saves), "updated": time.time()}
    path = params.run_dir / rs.RUN_FILE
    try:
        params.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, info)
    except OSError as exc:
        raise write_failed(exc, "the run settings", path, params.run_dir) from exc


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, help="project folder")
    parser.add_argument("--run", default="main", help="run name (folder under train/)")
    parser.add_argument("--size", choices=SIZES,
                        help="model size of a new run (default standard); a resumed run keeps "
                             "its own")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--save-every", type=int, default=5, help="epochs between checkpoints")
    parser.add_argument("--keep-last", type=int, default=3,
                        help="checkpoints to keep (0: all)")
    parser.add_argument("--pretrained-g", help="pretrained generator (e.g. f0G40k.pth)")
    parser.add_argument("--pretrained-d", help="pretrained discriminator (e.g. f0D40k.pth)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--deterministic", action="store_true")
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write TensorBoard event files to <run>/tensorboard/ "
                             "(needs the optional tensorboard extra)")


def args_from_cli(ns: argparse.Namespace) -> dict:
    keys = ("project", "run", "size", "epochs", "batch_size", "learning_rate", "save_every",
            "keep_last", "pretrained_g", "pretrained_d", "device", "precision", "seed",
            "deterministic", "tensorboard")
    return {k: getattr(ns, k) for k in keys}
