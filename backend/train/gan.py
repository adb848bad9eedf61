"""The step of a GAN vocoder task (RVC, VITS): discriminator update, then generator update.

Step order (as RVC and VITS training do): generator forward, discriminator update on the
detached output, then generator update against the updated discriminator. With ``n``
micro-batches (the CUDA out-of-memory fallback) the discriminator gradients are
accumulated over all micro-batches first, then each micro-batch's generator pass is
replayed from the same RNG state (identical segments and noise) for the generator update,
so the effective batch and the step order stay the same.

A subclass sets ``G``, ``D``, ``device`` and ``cfg.grad_clip`` in its ``setup`` (then calls
``_optimisers`` for the optimisers and schedulers) and provides the maths:
  ``_g_forward(batch) -> (y, y_hat, aux)``  real segment, generated segment, what the
                                            generator loss needs besides them
  ``_d_loss(y, y_hat) -> tensor``
  ``_g_loss(y, y_hat, aux, amp) -> {"loss_g": total, other terms...}``
Batches have ``to(device)``, ``split(parts)`` and a ``sid`` tensor (one entry per sample).
"""

from __future__ import annotations

from typing import Any

import torch

from backend.train.engine import Amp
from backend.train.engine import _restore_step_rng as rng_restore
from backend.train.engine import _step_rng as rng_snapshot

_STATE = ("G", "D", "opt_g", "opt_d", "sched_g", "sched_d")


class GanTask:
    _d_done: dict[str, float] | None = None  # D half of a step retried after OOM

    def _optimisers(self, lr: float, betas: tuple[float, float], eps: float,
                    lr_decay: float) -> None:
        """AdamW for G and D, each with an ExponentialLR stepped per epoch."""
        kw = {"lr": lr, "betas": betas, "eps": eps}
        self.opt_g = torch.optim.AdamW(self.G.parameters(), **kw)
        self.opt_d = torch.optim.AdamW(self.D.parameters(), **kw)
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.opt_g, lr_decay)
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.opt_d, lr_decay)

    def _gan_state(self) -> dict[str, Any]:
        """Models, optimisers and schedulers, for the task's checkpoint state."""
        return {key: getattr(self, key).state_dict() for key in _STATE}

    def _load_gan_state(self, state: dict[str, Any]) -> None:
        for key in _STATE:
            getattr(self, key).load_state_dict(state[key])

    def split(self, batch: Any, parts: int) -> list[Any]:
        return batch.split(parts)

    def end_epoch(self, epoch: int) -> None:
        self.sched_g.step()
        self.sched_d.step()

    def _step_opt(self, opt: torch.optim.Optimizer, params: Any, amp: Amp) -> float:
        amp.scaler.unscale_(opt)
        norm = torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        amp.scaler.step(opt)
        return float(norm)

    def train_step(self, micro: list[Any], amp: Amp) -> dict[str, float]:
        self.G.train()
        self.D.train()
        micro = [b.to(self.device) for b in micro]
        total = sum(int(b.sid.shape[0]) for b in micro)
        weights = [int(b.sid.shape[0]) / total for b in micro]
        if self._d_done is None:
            rng, kept, self._d_done = self._d_phase(micro, weights, amp)
        else:  # retry after out-of-memory in the generator half: D is updated already
            rng, kept = [None] * len(micro), []
        try:
            sums, gn_g = self._g_phase(micro, weights, rng, kept, amp)
        except torch.OutOfMemoryError:
            raise  # the engine retries with more micro-batches: only the generator half
        except BaseException:
            self._d_done = None
            raise
        d_stats, self._d_done = self._d_done, None
        amp.scaler.update()
        return {**d_stats, **sums, "grad_norm_g": gn_g, "lr": self.opt_g.param_groups[0]["lr"]}

    def _d_phase(self, micro: list[Any], weights: list[float],
                 amp: Amp) -> tuple[list[Any], list[tuple], dict[str, float]]:
        """Generator forward and the discriminator update on its detached output.

        With one micro-batch the generator graph is kept for the generator half; with
        several, each forward runs without autograd and its RNG state is recorded so the
        generator half replays it exactly (same segment offsets, same noise)."""
        n = len(micro)
        self.opt_d.zero_grad(set_to_none=True)
        rng: list[Any] = []
        kept: list[tuple] = []
        loss_d = 0.0
        for b, w in zip(micro, weights, strict=True):
            rng.append(rng_snapshot(self.device))
            with torch.set_grad_enabled(n == 1), amp.autocast():
                y, y_hat, aux = self._g_forward(b)
            with amp.autocast():
                ld = self._d_loss(y, y_hat) * w
            amp.scaler.scale(ld).backward()
            loss_d += float(ld.detach())
            if n == 1:
                kept.append((y, y_hat, aux))
        gn_d = self._step_opt(self.opt_d, self.D.parameters(), amp)
        return rng, kept, {"loss_d": loss_d, "grad_norm_d": gn_d}

    def _g_phase(self, micro: list[Any], weights: list[float], rng: list[Any],
                 kept: list[tuple], amp: Amp) -> tuple[dict[str, float], float]:
        self.opt_g.zero_grad(set_to_none=True)
        sums: dict[str, float] = {}
        for i, (b, w) in enumerate(zip(micro, weights, strict=True)):
            if kept:
                y, y_hat, aux = kept[0]
            else:
                if rng[i] is not None:
                    rng_restore(self.device, rng[i])
                with amp.autocast():
                    y, y_hat, aux = self._g_forward(b)
            terms = self._g_loss(y, y_hat, aux, amp)
            amp.scaler.scale(terms["loss_g"] * w).backward()
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * w
        kept.clear()
        return sums, self._step_opt(self.opt_g, self.G.parameters(), amp)

