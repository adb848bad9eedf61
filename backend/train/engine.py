"""A model-agnostic training loop with exact resume.

The engine owns what every model shares: device and precision, the resumable
batch order, checkpoints (model, optimizer, scheduler, scaler, step, epoch,
sampler position, RNG states, config), the metrics file, stop/pause, and the
out-of-memory fallback (smaller micro-batches with gradient accumulation).
A *task* (``TrainTask``) owns the models and the maths of one step.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from backend.train import checkpoint as ck
from backend.train.sampler import BucketSampler

log = logging.getLogger("backend.train")


@dataclass
class Amp:
    """Precision settings handed to the task's step."""

    device: torch.device
    dtype: torch.dtype | None  # None: full precision
    scaler: torch.amp.GradScaler

    def autocast(self) -> Any:
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)


class TrainTask(Protocol):
    def setup(self, device: torch.device) -> None: ...
    def dataset_lengths(self) -> list[int]: ...
    def collate(self, indices: list[int]) -> Any: ...
    def split(self, batch: Any, parts: int) -> list[Any]: ...
    def train_step(self, micro_batches: list[Any], amp: Amp) -> dict[str, float]: ...
    def end_epoch(self, epoch: int) -> None: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass
class EngineConfig:
    run_dir: Path
    epochs: int
    batch_size: int
    seed: int = 1234
    save_every_epochs: int = 5
    keep_last: int = 3
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    deterministic: bool = False
    task_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainHooks:
    """How the engine talks to its caller (a job context, the CLI, a test)."""

    check_stop: Callable[[], bool] = lambda: False  # True: checkpoint and return
    wait_if_paused: Callable[[], None] = lambda: None
    on_metrics: Callable[[dict[str, Any]], None] = lambda m: None
    on_log: Callable[[str, str], None] = lambda msg, level: None
    on_save: Callable[[Path, int], None] = lambda path, step: None


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("CUDA was asked for but no CUDA device is available; use --device cpu")
    return torch.device(name)


def pick_precision(device: torch.device, precision: str) -> torch.dtype | None:
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "bf16" or (precision == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state_to_plain(np.random.get_state()),
        "python": _python_state_to_plain(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(_numpy_state_from_plain(state["numpy"]))
    random.setstate(_python_state_from_plain(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _numpy_state_to_plain(st: tuple) -> dict[str, Any]:
    return {"kind": st[0], "keys": torch.from_numpy(st[1].astype(np.int64)), "pos": int(st[2]),
            "has_gauss": int(st[3]), "gauss": float(st[4])}


def _numpy_state_from_plain(d: dict[str, Any]) -> tuple:
    return (d["kind"], d["keys"].numpy().astype(np.uint32), d["pos"], d["has_gauss"], d["gauss"])


def _python_state_to_plain(st: tuple) -> list[Any]:
    return [st[0], list(st[1]), st[2]]


def _python_state_from_plain(d: list[Any]) -> tuple:
    return (d[0], tuple(d[1]), d[2])


class Engine:
    def __init__(self, cfg: EngineConfig, task: TrainTask, hooks: TrainHooks | None = None):
        self.cfg = cfg
        self.task = task
        self.hooks = hooks or TrainHooks()
        self.device = pick_device(cfg.device)
        dtype = pick_precision(self.device, cfg.precision)
        scaler = torch.amp.GradScaler(self.device.type,
                                      enabled=dtype == torch.float16 and self.device.type == "cuda")
        self.amp = Amp(self.device, dtype, scaler)
        self.step = 0
        self.samples = 0
        self.micro_batches = 1  # grows after an out-of-memory error
        self.resumed_from: Path | None = None
        self.set_aside: list[Path] = []  # damaged files moved to damaged/ on resume
        self._looked = False
        self._found: ck.LoadedCheckpoint | None = None
        self.metrics_path = cfg.run_dir / "metrics.jsonl"
        self.sampler: BucketSampler | None = None

    # setup and resume -----------------------------------------------------
    def prepare(self) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        random.seed(cfg.seed)
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        loaded = self.find_checkpoint()
        self.task.setup(self.device)
        self.sampler = BucketSampler(self.task.dataset_lengths(), cfg.batch_size, seed=cfg.seed)
        if loaded is None:
            self._trim_metrics(0)  # steps logged before a first checkpoint run again
        else:
            self._resume(loaded)
            self._found = None  # the checkpoint's tensors are not kept in memory

    def find_checkpoint(self) -> ck.LoadedCheckpoint | None:
        """The checkpoint this run resumes from (None: it starts at step 1). Damaged
        checkpoints are moved to ``damaged/``, never overwritten; when none can be read,
        the metrics go there too and the run starts over. Looks once; ``prepare`` calls it
        (a caller may call it before ``prepare``, to know whether the run resumes)."""
        if self._looked:
            return self._found
        self._looked = True
        loaded = ck.load_latest(self.cfg.run_dir)
        if loaded is not None and not loaded.state:
            self._start_over(loaded.skipped)
            loaded = None
        for path, reason in loaded.skipped if loaded else []:
            aside = self._set_aside(path)
            self.hooks.on_log(f"checkpoint {path.name} is damaged ({reason}); it is kept as "
                              f"{aside} and the run resumes from {loaded.path.name}", "warning")
        self._found = loaded
        return loaded

    def _resume(self, loaded: ck.LoadedCheckpoint) -> None:
        st = loaded.state
        try:
            self.task.load_state_dict(st["task"])
        except IncompatibleCheckpoint as exc:
            raise IncompatibleCheckpoint(f"{loaded.path}: {exc}") from exc
        self.amp.scaler.load_state_dict(st["scaler"])
        assert self.sampler is not None
        self.sampler.load_state_dict(st["sampler"])
        self.step, self.samples = int(st["step"]), int(st["samples"])
        if st["config"].get("batch_size") == self.cfg.batch_size:  # the OOM split still fits
            self.micro_batches = int(st.get("micro_batches", 1))
        set_rng_state(st["rng"])
        old_bs = int(st["config"].get("batch_size", self.cfg.batch_size))
        if old_bs != self.cfg.batch_size:
            self.hooks.on_log(f"batch size changed from {old_bs} to {self.cfg.batch_size}; "
                              f"continuing at sample {self.samples}", "info")
        self.resumed_from = loaded.path
        self._trim_metrics(self.step)
        self.hooks.on_log(f"resumed from {loaded.path.name} (epoch {self.sampler.epoch + 1}, "
                          f"step {self.step})", "info")

    def _set_aside(self, path: Path) -> str:
        aside = ck.set_aside(self.cfg.run_dir, path)
        self.set_aside.append(aside)
        return aside.relative_to(self.cfg.run_dir).as_posix()

    def _start_over(self, damaged: list[tuple[Path, str]]) -> None:
        """No checkpoint could be read: keep them and the metrics aside, start at step 1."""
        names = "; ".join(f"{path.name}: {reason}" for path, reason in damaged)
        kept = [self._set_aside(path) for path, _ in damaged]
        if self.metrics_path.exists():
            kept.append(self._set_aside(self.metrics_path))
        self.hooks.on_log(f"no checkpoint of this run could be read ({names}); the run starts "
                          f"over from step 1 and keeps the old files as {', '.join(kept)}",
                          "warning")

    def _trim_metrics(self, step: int) -> None:
        """Drop metric lines logged after the checkpoint: those steps run again."""
        if not self.metrics_path.exists():
            return
        keep = []
        with self.metrics_path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    if json.loads(line).get("step", 0) <= step:
                        keep.append(line if line.endswith("\n") else line + "\n")
                except ValueError:
                    continue  # a line cut short by a kill
        tmp = self.metrics_path.with_suffix(".tmp")
        tmp.write_text("".join(keep), encoding="utf-8")
        os.replace(tmp, self.metrics_path)

    # checkpoints ----------------------------------------------------------
    def save(self) -> Path:
        assert self.sampler is not None
        state = {
            "format": 1,
            "step": self.step,
            "samples": self.samples,
            "micro_batches": self.micro_batches,
            "epoch": self.sampler.epoch,
            "sampler": self.sampler.state_dict(),
            "task": self.task.state_dict(),
            "scaler": self.amp.scaler.state_dict(),
            "rng": rng_state(),
            "config": _plain_config(self.cfg),
            "saved_at": time.time(),
        }
        target = ck.checkpoint_path(self.cfg.run_dir, self.step)
        try:
            path = ck.save_checkpoint(self.cfg.run_dir, self.step, state, self.cfg.keep_last)
        except OSError as exc:
            raise ck.write_failed(exc, "the checkpoint", target, self.cfg.run_dir) from exc
        self.hooks.on_save(path, self.step)
        return path

    # the loop -------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        if self.sampler is None:
            self.prepare()
        assert self.sampler is not None
        self.cfg.run_dir.mkdir(parents=True, exist_ok=True)
        metrics_file = self._metrics_io(lambda: self.metrics_path.open("a", encoding="utf-8"))
        try:
            stopped = self._run_epochs(metrics_file)
        except BaseException:
            with contextlib.suppress(OSError):  # the first failure is the one to report
                metrics_file.close()
            raise
        self._metrics_io(metrics_file.close)
        if stopped:
            self.save()
        return {"step": self.step, "epoch": self.sampler.epoch, "samples": self.samples,
                "stopped": stopped, "run_dir": str(self.cfg.run_dir),
                "resumed_from": str(self.resumed_from) if self.resumed_from else None}

    def _run_epochs(self, metrics_file: Any) -> bool:
        """Train to the last epoch, saving on the way; True when stopped."""
        assert self.sampler is not None
        while self.sampler.epoch < self.cfg.epochs:
            if self._run_epoch(metrics_file):
                return True
            self.task.end_epoch(self.sampler.epoch)
            self.sampler.next_epoch()
            done = self.sampler.epoch
            if done % self.cfg.save_every_epochs == 0 or done == self.cfg.epochs:
                self.save()
        return False

    def _metrics_io(self, action: Callable[[], Any]) -> Any:
        """Open, append to or close the metrics file; a failure names it."""
        try:
            return action()
        except OSError as exc:
            raise ck.write_failed(exc, "the metrics file", self.metrics_path,
                                  self.cfg.run_dir) from exc

    def _append_metrics(self, metrics_file: Any, line: str) -> None:
        self._metrics_io(lambda: (metrics_file.write(line), metrics_file.flush()))

    def _run_epoch(self, metrics_file: Any) -> bool:
        assert self.sampler is not None
        for indices in self.sampler.batches():
            self.hooks.wait_if_paused()
            if self.hooks.check_stop():
                return True
            record = self.train_batch(indices)
            self._append_metrics(metrics_file, json.dumps(record) + "\n")
            self.hooks.on_metrics(record)
        return False

    def train_batch(self, indices: list[int]) -> dict[str, Any]:
        """One optimiser step on these samples (the next ones of the sampler) with its
        bookkeeping; returns the metrics record. ``run`` calls it; benchmarks may too."""
        assert self.sampler is not None
        t0 = time.perf_counter()
        metrics = self._step(self.task.collate(indices), len(indices))
        self.sampler.advance(len(indices))
        self.step += 1
        self.samples += len(indices)
        elapsed = time.perf_counter() - t0
        record = {"step": self.step, "epoch": self.sampler.epoch + 1,
                  "samples": self.samples, "step_time": round(elapsed, 4),
                  "samples_per_s": round(len(indices) / max(elapsed, 1e-9), 3),
                  "steps_per_epoch": len(self.sampler), **metrics}
        if self.device.type == "cuda":
            record["gpu_mem_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        return record

    def _step(self, batch: Any, size: int) -> dict[str, float]:
        """The task's step; on out-of-memory, retried with twice the micro-batches.

        ``torch.OutOfMemoryError`` is what CUDA (and other accelerators) raise when an
        allocation fails, whatever the device; a CPU allocation failure raises a plain
        RuntimeError and is not retried. The retry starts from the step's RNG state, the
        task zeroes its gradients at the start of every step, and the effective batch
        (samples per optimiser step) stays the same.
        """
        start_rng = _step_rng(self.device)
        while True:
            parts = self.task.split(batch, self.micro_batches) if self.micro_batches > 1 \
                else [batch]
            try:
                return self.task.train_step(parts, self.amp)
            except torch.OutOfMemoryError as exc:
                if self.micro_batches >= size:
                    raise OutOfMemory(
                        f"out of memory on {self.device} even with one sample per "
                        f"micro-batch ({size} micro-batches): use the tiny size, a smaller "
                        "batch, another precision or the CPU") from exc
                first_line = str(exc).splitlines()[0][:200] if str(exc) else "no detail"
            # outside the except block: the failed attempt's tensors (held by the
            # traceback) are released before memory is freed and the step is retried
            self.micro_batches = min(self.micro_batches * 2, size)
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            _restore_step_rng(self.device, start_rng)
            self.hooks.on_log(
                f"{self.device.type.upper()} ran out of memory ({first_line}): retrying the "
                f"step as {self.micro_batches} micro-batches with gradient accumulation "
                f"(same effective batch of {size} samples per step)", "warning")


class OutOfMemory(RuntimeError):
    """Out of memory even at one sample per micro-batch: the message says what to do."""


class IncompatibleCheckpoint(ValueError):
    """A task refuses a checkpoint of other settings (size, rate ...), before loading it."""


def _step_rng(device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return torch.get_rng_state(), cuda


def _restore_step_rng(device: torch.device, state: tuple) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device)


def _plain_config(cfg: EngineConfig) -> dict[str, Any]:
    return {"run_dir": str(cfg.run_dir), "epochs": cfg.epochs, "batch_size": cfg.batch_size,
            "seed": cfg.seed, "save_every_epochs": cfg.save_every_epochs,
            "keep_last": cfg.keep_last, "device": cfg.device, "precision": cfg.precision,
            "deterministic": cfg.deterministic, "task": cfg.task_config}
