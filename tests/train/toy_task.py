"""A small regression task that exercises the engine like a real model does.

Run as a script to train in a subprocess (the SIGKILL test kills it):
    python tests/train/toy_task.py RUN_DIR EPOCHS BATCH [STEP_DELAY]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import torch

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backend.train.engine import Amp, Engine, EngineConfig, TrainHooks  # noqa: E402


class ToyTask:
    def __init__(self, n: int = 96, delay: float = 0.0):
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 8, generator=gen)
        self.y = self.x @ torch.randn(8, 1, generator=gen) + 0.1 * torch.randn(n, 1, generator=gen)
        self.lengths = [int(v) for v in torch.randint(10, 100, (n,), generator=gen)]
        self.delay = delay

    def setup(self, device: torch.device) -> None:
        self.model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.1),
                                         torch.nn.Tanh(), torch.nn.Linear(16, 1)).to(device)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-2)
        self.sched = torch.optim.lr_scheduler.ExponentialLR(self.opt, gamma=0.9)

    def dataset_lengths(self) -> list[int]:
        return self.lengths

    def collate(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.tensor(indices)
        return self.x[idx], self.y[idx]

    def split(self, batch: Any, parts: int) -> list[Any]:
        x, y = batch
        return list(zip(x.chunk(parts), y.chunk(parts), strict=True))

    def train_step(self, micro_batches: list[Any], amp: Amp) -> dict[str, float]:
        self.opt.zero_grad(set_to_none=True)
        total = 0.0
        for x, y in micro_batches:
            with amp.autocast():
                noise = torch.randn_like(x) * 0.01  # uses the RNG like a real GAN step
                loss = torch.nn.functional.mse_loss(self.model(x + noise), y)
            amp.scaler.scale(loss / len(micro_batches)).backward()
            total += float(loss.detach()) / len(micro_batches)
        amp.scaler.step(self.opt)
        amp.scaler.update()
        if self.delay:
            time.sleep(self.delay)
        return {"loss": total, "lr": self.opt.param_groups[0]["lr"]}

    def end_epoch(self, epoch: int) -> None:
        self.sched.step()

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])


def train(run_dir: Path, epochs: int, batch: int, delay: float = 0.0,
          hooks: TrainHooks | None = None) -> tuple[Engine, ToyTask]:
    task = ToyTask(delay=delay)
    cfg = EngineConfig(run_dir=run_dir, epochs=epochs, batch_size=batch, save_every_epochs=1,
                       keep_last=2, device="cpu", deterministic=True)
    engine = Engine(cfg, task, hooks)
    engine.run()
    return engine, task


if __name__ == "__main__":
    torch.set_num_threads(1)
    train(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
          float(sys.argv[4]) if len(sys.argv) > 4 else 0.0)
