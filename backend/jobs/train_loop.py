"""The train job's run, whatever the model: the engine with the job's hooks (metrics,
progress, checkpoints, samples, optional TensorBoard) and ``run.json`` kept up to date."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from backend.fsutil import atomic_write_json, describe_os_error
from backend.kernel import BadArgs, JobContext, JobError
from backend.protocol import E_IO
from backend.train import run_settings as rs


def train_task(params: Any, ctx: JobContext, task: Any, task_config: dict[str, Any],
               errors: tuple[type[Exception], ...]) -> dict:
    """Run ``task`` on the engine as ``params`` say; ``errors`` are the task's own failures
    (reported as they read). Returns the engine's result with the TensorBoard folder and
    the checkpoints set aside."""
    from backend.train.checkpoint import WriteFailed
    from backend.train.engine import Engine, EngineConfig, IncompatibleCheckpoint, OutOfMemory
    from backend.train.pretrained import PretrainedError

    cfg = EngineConfig(run_dir=params.run_dir, epochs=params.epochs,
                       batch_size=params.batch_size, seed=params.seed,
                       save_every_epochs=params.save_every, keep_last=params.keep_last,
                       device=params.device, precision=params.precision,
                       deterministic=params.deterministic, task_config=task_config)
    engine = Engine(cfg, task)
    saves: dict[str, int] = {}  # the epoch of each save, by step
    tb: list[Any] = []  # the TensorBoard log, once the first step is known
    engine.hooks = _hooks(params, ctx, engine, task, saves, tb)
    try:
        result = _train(params, ctx, engine, task, saves, tb)
    except IncompatibleCheckpoint as exc:
        raise BadArgs(str(exc)) from exc
    except (OutOfMemory, PretrainedError, *errors) as exc:
        raise JobError(str(exc)) from exc
    except WriteFailed as exc:
        raise JobError(str(exc), code=E_IO) from exc
    except OSError as exc:  # e.g. a read-only run folder
        raise JobError(describe_os_error(exc, "writing in", exc.filename or params.run_dir,
                                         retry="start the run again"), code=E_IO) from exc
    finally:
        _close_tensorboard(tb, ctx)
    return {**result, "tensorboard": str(tb[0].dir) if tb else None,
            "set_aside": [str(p) for p in engine.set_aside]}


def _train(params: Any, ctx: JobContext, engine: Any, task: Any,
           saves: dict[str, int], tb: list[Any]) -> dict:
    if engine.find_checkpoint() is not None:  # resuming: its weights, not the bases
        task.pretrained = (None, None)
        old = rs.read_run_info(params.run_dir).get("saves")
        saves.update(old if isinstance(old, dict) else {})
    engine.prepare()
    write_run_info(params, engine, saves)
    if params.tensorboard:
        tb.append(_open_tensorboard(params, engine.step + 1))
        ctx.log(f"TensorBoard event files go to {tb[0].dir}", "info")
    result = engine.run()
    write_run_info(params, engine, saves, state="stopped" if result["stopped"] else "finished")
    return result


def _close_tensorboard(tb: list[Any], ctx: JobContext) -> None:
    for log in tb:
        try:
            log.close()
        except OSError as exc:  # the run's own outcome (or its error) is what matters
            ctx.log(f"the TensorBoard event file in {log.dir} could not be completed "
                    f"({exc})", "warning")


def _open_tensorboard(params: Any, first_step: int) -> Any:
    from backend.train.tb_writer import TensorBoardLog

    try:
        return TensorBoardLog(params.run_dir, first_step)
    except (RuntimeError, OSError) as exc:
        raise JobError(str(exc)) from exc


def _hooks(params: Any, ctx: JobContext, engine: Any, task: Any,
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
        write_run_info(params, engine, saves)  # train.runs reads the epochs from here
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


def write_run_info(params: Any, engine: Any, saves: dict[str, int],
                   state: str = "running") -> None:
    """``run.json``: the run's model settings (``params.settings()``), the other settings,
    its state, and the epoch of every save by step."""
    from backend.train.checkpoint import write_failed

    info = {"state": state, "step": engine.step, "epochs": params.epochs,
            **params.settings(), "batch_size": params.batch_size,
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
