"""The out-of-memory fallback: the step is retried as micro-batches with gradient
accumulation, on any device (torch.OutOfMemoryError is raised here on purpose)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from backend.train.engine import Amp, Engine, EngineConfig, OutOfMemory, TrainHooks
from backend.train.rvc_task import RvcConfig, RvcTask
from tests.train.feature_project import make_feature_project


class DeterministicToy:
    """Linear regression without any randomness; a micro-batch of more than ``limit``
    samples raises torch.OutOfMemoryError, as a too-large CUDA batch would."""

    def __init__(self, limit: int | None = None, n: int = 16):
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 8, generator=gen)
        self.y = self.x @ torch.randn(8, 1, generator=gen)
        self.limit = limit
        self.sizes: list[list[int]] = []  # micro-batch sizes of every attempt

    def setup(self, device: torch.device) -> None:
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(),
                                         torch.nn.Linear(16, 1))
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-2)

    def dataset_lengths(self) -> list[int]:
        return [1] * len(self.x)

    def collate(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.tensor(indices)
        return self.x[idx], self.y[idx]

    def split(self, batch: Any, parts: int) -> list[Any]:
        x, y = batch
        return list(zip(x.chunk(parts), y.chunk(parts), strict=True))

    def train_step(self, micro_batches: list[Any], amp: Amp) -> dict[str, float]:
        self.sizes.append([len(x) for x, _ in micro_batches])
        self.opt.zero_grad(set_to_none=True)
        total = sum(len(x) for x, _ in micro_batches)
        loss_sum = 0.0
        for x, y in micro_batches:
            if self.limit is not None and len(x) > self.limit:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            loss = torch.nn.functional.mse_loss(self.model(x), y) * (len(x) / total)
            amp.scaler.scale(loss).backward()
            loss_sum += float(loss.detach())
        amp.scaler.step(self.opt)
        amp.scaler.update()
        return {"loss": loss_sum}

    def end_epoch(self, epoch: int) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])


def _train(run: Path, task: Any, batch: int = 8, epochs: int = 2,
           logs: list | None = None) -> Engine:
    hooks = TrainHooks(on_log=lambda m, lvl: (logs if logs is not None else []).append((lvl, m)))
    cfg = EngineConfig(run_dir=run, epochs=epochs, batch_size=batch, device="cpu",
                       save_every_epochs=100)
    engine = Engine(cfg, task, hooks)
    engine.run()
    return engine


def test_oom_retries_with_half_the_batch_and_matches_the_full_batch(tmp_path: Path) -> None:
    full = DeterministicToy()
    _train(tmp_path / "full", full)
    logs: list[tuple[str, str]] = []
    small = DeterministicToy(limit=2)
    engine = _train(tmp_path / "oom run é", small, logs=logs)
    # first step: 8 -> OOM, 4+4 -> OOM, 2+2+2+2 -> fits; later steps start at 4 micro-batches
    assert small.sizes[:3] == [[8], [4, 4], [2, 2, 2, 2]]
    assert all(s == [2, 2, 2, 2] for s in small.sizes[3:]) and len(small.sizes) == 3 + 3
    assert engine.micro_batches == 4 and engine.step == 4 and engine.samples == 32
    warnings = [m for lvl, m in logs if lvl == "warning"]
    assert len(warnings) == 2 and "2 micro-batches" in warnings[0]
    assert "4 micro-batches" in warnings[1] and "same effective batch of 8" in warnings[1]
    records = [json.loads(line) for line in (tmp_path / "oom run é" / "metrics.jsonl").open()]
    assert [r["samples"] for r in records] == [8, 16, 24, 32]  # 8 samples per step, always
    for name, ref in full.model.state_dict().items():
        torch.testing.assert_close(small.model.state_dict()[name], ref, rtol=1e-5, atol=1e-6)
    moved = DeterministicToy()
    moved.setup(torch.device("cpu"))
    assert not torch.equal(moved.model[0].weight, full.model[0].weight)  # it did train


def test_out_of_memory_at_one_sample_per_micro_batch_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutOfMemory, match="even with one sample per micro-batch"):
        _train(tmp_path / "run", DeterministicToy(limit=0), batch=4)


def test_other_runtime_errors_are_not_retried(tmp_path: Path) -> None:
    class CpuAllocFails(DeterministicToy):
        def train_step(self, micro_batches: list[Any], amp: Amp) -> dict[str, float]:
            self.sizes.append([len(x) for x, _ in micro_batches])
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: "
                               "can't allocate memory")

    task = CpuAllocFails()
    with pytest.raises(RuntimeError, match="DefaultCPUAllocator"):
        _train(tmp_path / "run", task)
    assert task.sizes == [[8]]


# --- the voice-conversion task ------------------------------------------------------------
@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_feature_project(tmp_path_factory.mktemp("oom") / "projet ü", clips=5,
                                seconds=0.5)


def _task(project: Path) -> RvcTask:
    torch.manual_seed(0)
    task = RvcTask(RvcConfig(size="tiny"), project)
    task.setup(torch.device("cpu"))
    return task


def _amp() -> Amp:
    return Amp(torch.device("cpu"), None, torch.amp.GradScaler("cpu", enabled=False))


def _params(task: RvcTask) -> dict[str, torch.Tensor]:
    return {f"{p}.{k}": v.detach().clone() for p, m in (("G", task.G), ("D", task.D))
            for k, v in m.named_parameters()}


def _record_segments(task: RvcTask) -> list[torch.Tensor]:
    seen: list[torch.Tensor] = []
    forward = task.G.forward

    def spy(*args: Any, **kw: Any) -> Any:
        out = forward(*args, **kw)
        seen.append(out[1].clone())  # ids_slice: where the random segment starts
        return out

    task.G.forward = spy  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("parts", [1, 2])
def test_rvc_step_with_micro_batches_trains(project: Path, parts: int) -> None:
    task = _task(project)
    batch = task.collate(list(range(4)))
    before = _params(task)
    seen = _record_segments(task)
    torch.manual_seed(1)
    out = task.train_step(task.split(batch, parts), _amp())
    for key in ("loss_d", "loss_g", "loss_mel", "loss_kl", "loss_fm", "loss_adv",
                "grad_norm_g", "grad_norm_d"):
        assert math.isfinite(out[key]), key
    after = _params(task)
    for part in ("G", "D"):
        moved = [k for k in before if k.startswith(part) and not torch.equal(before[k], after[k])]
        assert len(moved) > 10, f"{part} parameters did not move"
    if parts == 1:
        assert len(seen) == 1  # the generator graph of the D half is reused
    else:
        # D half: one forward per micro-batch; G half: each replayed from the same RNG
        # state, so it trains on the very segments the discriminator just judged
        assert len(seen) == 4 and [len(s) for s in seen] == [2, 2, 2, 2]
        assert torch.equal(seen[0], seen[2]) and torch.equal(seen[1], seen[3])


def test_oom_in_the_generator_half_keeps_the_one_discriminator_update(project: Path,
                                                                       tmp_path: Path) -> None:
    task = _task(project)
    g_loss = task._g_loss

    def tight(y: torch.Tensor, *rest: Any) -> Any:
        if y.shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated in the G half)")
        return g_loss(y, *rest)

    task._g_loss = tight  # type: ignore[method-assign]
    logs: list[tuple[str, str]] = []
    engine = Engine(EngineConfig(run_dir=tmp_path / "run", epochs=1, batch_size=2,
                                 device="cpu"), task,
                    TrainHooks(on_log=lambda m, lvl: logs.append((lvl, m))))
    engine.prepare()
    indices = next(engine.sampler.batches())  # type: ignore[union-attr]
    record = engine.train_batch(indices)
    assert engine.micro_batches == 2 and record["samples"] == 2
    assert all(math.isfinite(record[k]) for k in ("loss_d", "loss_g", "grad_norm_d"))
    d_steps = {int(s["step"]) for s in task.opt_d.state.values()}
    g_steps = {int(s["step"]) for s in task.opt_g.state.values()}
    assert d_steps == {1} and g_steps == {1}, "each optimiser steps exactly once"
    assert [lvl for lvl, _ in logs] == ["warning"] and "CPU ran out of memory" in logs[0][1]
    assert task._d_done is None


def test_resumed_run_keeps_the_micro_batch_split(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = DeterministicToy(limit=2)
    _train(run, first, epochs=1)
    assert first.sizes[-1] == [2, 2, 2, 2]
    resumed = DeterministicToy(limit=2)
    _train(run, resumed, epochs=2)
    # no new out-of-memory round trip: the split was saved in the checkpoint
    assert resumed.sizes and all(s == [2, 2, 2, 2] for s in resumed.sizes)
