"""The real-time block engine: input ring -> 16 kHz window -> converter -> SOLA -> output ring.

Threads:
- the input and output audio callbacks (:meth:`Engine.input_callback`,
  :meth:`Engine.output_callback`) only copy between preallocated arrays through lock-free
  rings (``backend.live.ring``) and count status flags: no allocation, lock, log or inference;
- the worker thread (:meth:`Engine.start`) runs :meth:`Engine.step` in a loop: it pulls the
  input, resamples it to 16 kHz, and for every full block shifts the window (left context
  ``extra`` + crossfade + search + block), asks the converter for
  ``block + crossfade + search`` samples at its output rate, joins them with SOLA
  (``backend.live.sola``), resamples to the output device rate and queues the block.
  The file stream (``backend.live.file_stream``) calls ``pump`` itself, without a thread.

Latency never creeps. When the worker falls behind (two or more blocks of input waiting),
the stale blocks are dropped (``dropped_blocks``) and only the newest is converted. When a
block comes late the output callback has played silence meanwhile (an underrun, counted
in ``xruns``) and the block starts after the safety margin; when more than the margin plus
a slack is queued (after a slow block, or a shorter block size), the next blocks come out
shorter, the cut cross-faded by SOLA, until the queue is back at the margin (``trims``).
So the delay stays within the algorithmic latency + compute time + margin + slack, and the
readout (``latency_ms.buffer``) is measured from the rings' counters for every block.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from typing import Any

import numpy as np

from backend.convert.settings import ConvertSettings
from backend.kernel import BadArgs
from backend.live.config import (
    RATE16,
    SEARCH,
    SILENT_DB,
    EngineConfig,
    Sizes,
    level_db,
)
from backend.live.identity import IdentityConverter
from backend.live.resample import UnitResampler
from backend.live.ring import Ring
from backend.live.sola import Sola

log = logging.getLogger(__name__)

RING_SECONDS = 8.0  # capacity of the device-rate rings (max block 2 s: room for 4 blocks)
MAX_CALLBACK_SECONDS = 1.0


class Engine:
    """Drives any ``BlockConverter``; see the module docstring."""

    def __init__(self, converter: Any, settings: ConvertSettings, config: EngineConfig,
                 in_rate: int, out_rate: int):
        self.converter = converter
        self.settings = settings
        self.model_rate = int(converter.output_rate)
        if self.model_rate % 100:
            raise BadArgs(f"the converter's output rate {self.model_rate} Hz is not a whole "
                          "number of samples per 10 ms")
        self.in_rate, self.out_rate = int(in_rate), int(out_rate)
        self.in_ring = Ring(int(self.in_rate * RING_SECONDS))
        self.out_ring = Ring(int(self.out_rate * RING_SECONDS))
        self._scratch = np.zeros(int(self.out_rate * MAX_CALLBACK_SECONDS), np.float32)
        self._pull_buf = np.zeros(self.in_ring.capacity, np.float32)
        self._bypass = IdentityConverter(self.model_rate)
        self._rs_in = None if self.in_rate == RATE16 else UnitResampler(self.in_rate, RATE16)
        self._rs_out = None if self.out_rate == self.model_rate else \
            UnitResampler(self.model_rate, self.out_rate)
        self.config = config
        self._pending: dict[str, float] | None = None
        self._build(config, keep=False)
        # counters (callbacks write their own; the worker writes the rest)
        self.in_calls = self.out_calls = 0
        self.in_frames_max = self.out_frames_max = 0  # largest callbacks seen
        self.in_status = self.out_status = 0
        self.overflows = self.underruns = 0
        self.blocks = self.dropped_blocks = self.trims = 0
        self.output_started = False
        self.compute_s = 0.0
        self.compute_total = 0.0
        self.queue_s = 0.0
        self.input_db = self.output_db = SILENT_DB
        self.gate_open = False
        self._quiet_s = math.inf
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # configuration ---------------------------------------------------------
    def _build(self, cfg: EngineConfig, *, keep: bool) -> None:
        sizes = Sizes(cfg, self.model_rate)
        win = np.zeros(sizes.window16, np.float32)
        acc = np.zeros(2 * sizes.b16 + RATE16, np.float32)
        if keep:  # carry the context and the pending input over
            k = min(len(win), len(self.win))
            win[-k:] = self.win[-k:]
            n = min(self.acc_n, len(acc))
            acc[:n] = self.acc[self.acc_n - n:self.acc_n]
            self.acc_n = n
        else:
            self.acc_n = 0
        sola = Sola(sizes.block, sizes.crossfade, sizes.search)
        if keep:  # the audio that continues the last block played, as far as it reaches
            k = min(len(sola.tail), len(self.sola.tail))
            sola.tail[:k] = self.sola.tail[:k]
        self.sizes, self.win, self.acc, self.sola = sizes, win, acc, sola
        self._silence = np.zeros(sizes.n_out, np.float32)
        # after a rebuild the whole window is new to the converter (it resets)
        self.n_new = len(win) - sizes.b16 if keep else 0
        self.config = cfg

    def reconfigure(self, **sizes: float) -> None:
        """block, crossfade, extra (seconds): the worker rebuilds its buffers before its
        next block, keeping the context and the pending input."""
        dataclasses.replace(self.config, **sizes).check()  # BadArgs before anything changes
        self._pending = {**(self._pending or {}), **sizes}

    def set_settings(self, settings: ConvertSettings) -> None:
        self.settings = settings  # read once per block by the worker

    def set_flags(self, **values: Any) -> None:
        """gate_db, monitor, bypass: take effect at the next block (monitor at once)."""
        self.config = dataclasses.replace(self.config, **values)

    # latency ---------------------------------------------------------------
    def lookahead_s(self) -> float:
        return float(getattr(self.converter, "lookahead_s", 0.0) or 0.0)

    def algorithmic_s(self) -> float:
        """Block + crossfade + search + converter look-ahead. (What the resamplers hold
        back is measured with the queues, in ``queue_s``.)"""
        cfg = self.config
        return cfg.block + cfg.crossfade + SEARCH + self.lookahead_s()

    # audio callbacks (real-time: copy and count only) -----------------------
    def input_callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.in_calls += 1
        if frames > self.in_frames_max:
            self.in_frames_max = frames
        if status:
            self.in_status += 1
        if self.in_ring.push_from(indata[:, 0], frames) < frames:
            self.overflows += 1

    def output_callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.out_calls += 1
        if frames > self.out_frames_max:
            self.out_frames_max = frames
        if status:
            self.out_status += 1
        if frames > len(self._scratch):  # larger than any device asks for: play silence
            outdata.fill(0.0)
            self.out_ring.r += frames
            self.underruns += 1
            return
        got = self.out_ring.pop_into(self._scratch, frames, timeline=True)
        if got < frames and self.output_started:
            self.underruns += 1
        if self.config.monitor:
            src = self._scratch[:frames]
            for c in range(outdata.shape[1]):  # column by column: no overlapping copy
                outdata[:, c] = src
        else:
            outdata.fill(0.0)

    # worker ----------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="live-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set() and self.error is None:
            if not self.pump():
                missing = self.sizes.b16 - self.acc_n
                time.sleep(min(0.005, max(0.001, missing / RATE16 / 4)))

    def pump(self) -> bool:
        """``step``, with a failure recorded in ``error`` (the job reports it and stops
        the streams) instead of raised; False when there was nothing to do or it failed."""
        if self.error is not None:
            return False
        try:
            return self.step()
        except Exception as exc:
            log.error("the live engine stopped", exc_info=True)
            self.error = f"the conversion failed: {type(exc).__name__}: {exc}"
            return False

    def step(self) -> bool:
        """Convert one block if a whole block of input is there; False when there is none."""
        if self._pending is not None:
            self._rebuild()
        self._pull()
        if self.acc_n < self.sizes.b16:
            return False
        t0 = time.perf_counter()
        block = self._shift_window()
        infer = self._infer(block)
        out = self.sola.join(infer, self._excess())
        self.output_db = level_db(out)
        held_out = 0.0
        if self._rs_out is not None:
            held_out = self._rs_out.held() / self.model_rate
            out = self._rs_out.process(out)
        self._queue(out, held_out)
        self.blocks += 1
        if self.gate_open:  # a gated block costs nothing: keep the last real figure
            self.compute_s = time.perf_counter() - t0
            self.compute_total += self.compute_s
        return True

    def _rebuild(self) -> None:
        """Apply a block/crossfade/context change between two blocks. A longer block
        means a longer delay: the gap it opens in the output is a fade-out of the last
        block's tail then silence, not an abrupt stop (a click)."""
        sizes, self._pending = self._pending or {}, None
        old = self.sizes.block
        self._build(dataclasses.replace(self.config, **sizes).check(), keep=True)
        grow = self.sizes.block - old
        if grow > 0 and self.output_started:
            gap = np.zeros(grow, np.float32)
            k = min(grow, len(self.sola.tail))
            ramp = np.cos(0.5 * np.pi * (np.arange(k) + 0.5) / max(k, 1)) ** 2
            gap[:k] = self.sola.tail[:k] * ramp.astype(np.float32)
            self.sola.reset()
            if self._rs_out is not None:
                gap = self._rs_out.process(gap)
            self.out_ring.push_from(gap, len(gap))

    def _pull(self) -> None:
        """Input ring -> 16 kHz accumulator, dropping stale blocks when behind."""
        b16 = self.sizes.b16
        ring = self.in_ring
        pending = self.acc_n + ring.available() * RATE16 / self.in_rate
        if pending >= 2 * b16:
            drop = (int(pending // b16) - 1) * b16
            self.dropped_blocks += drop // b16
            from_acc = min(drop, self.acc_n)
            self.acc[:self.acc_n - from_acc] = self.acc[from_acc:self.acc_n]
            self.acc_n -= from_acc
            ring.discard(int(round((drop - from_acc) * self.in_rate / RATE16)))
        held = self._rs_in.held() if self._rs_in is not None else 0.0
        if self.acc_n + (ring.available() + held) * RATE16 / self.in_rate < b16:
            return  # no block can complete yet: resample later, in fewer, larger calls
        room = len(self.acc) - self.acc_n
        n = min(ring.available(), int(room * self.in_rate / RATE16) - 64)
        if n <= 0:
            return
        got = ring.pop_into(self._pull_buf, n)
        x = self._pull_buf[:got]
        if self._rs_in is not None:
            x = self._rs_in.process(x)
        k = min(len(x), len(self.acc) - self.acc_n)
        self.acc[self.acc_n:self.acc_n + k] = x[:k]
        self.acc_n += k

    def _shift_window(self) -> np.ndarray:
        b = self.sizes.b16
        win = self.win
        win[:-b] = win[b:]
        win[-b:] = self.acc[:b]
        self.acc[:self.acc_n - b] = self.acc[b:self.acc_n]
        self.acc_n -= b
        self.n_new += b
        return win[-b:]

    def _gate(self, block: np.ndarray) -> bool:
        """True when the block passes the gate (with ``gate_hold`` of hang time)."""
        self.input_db = level_db(block)
        cfg = self.config
        if cfg.gate_db <= -120 or self.input_db >= cfg.gate_db:
            self._quiet_s = 0.0
        else:
            self._quiet_s += cfg.block
        self.gate_open = self._quiet_s <= cfg.gate_hold
        return self.gate_open

    def _infer(self, block: np.ndarray) -> np.ndarray:
        sizes, cfg = self.sizes, self.config
        open_ = self._gate(block)
        if not open_:
            return self._silence
        if cfg.bypass:
            return self._bypass.convert(self.win, self.n_new, sizes.n_out, self.settings)
        n_new = min(self.n_new, len(self.win))
        if n_new >= len(self.win):
            self.converter.reset()
        self.n_new = 0
        out = self.converter.convert(self.win, n_new, sizes.n_out, self.settings)
        out = np.asarray(out, dtype=np.float32).reshape(-1)
        if len(out) != sizes.n_out:
            raise RuntimeError(f"the converter returned {len(out)} samples instead of "
                               f"{sizes.n_out}")
        if not np.isfinite(out).all():
            out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
        return out

    def _excess(self) -> int:
        """Model-rate samples to cut from this block: what is queued beyond the margin
        when more than the margin plus a slack is (after a slow block, or a shorter block
        size); 0 otherwise."""
        level = self.out_ring.w - self.out_ring.r
        margin = self.config.margin * self.out_rate
        slack = max(0.25 * self.config.block, 0.03) * self.out_rate
        if not self.output_started or level <= margin + slack:
            return 0
        self.trims += 1
        return int((level - margin) * self.model_rate / self.out_rate)

    def _queue(self, out: np.ndarray, held_out: float) -> None:
        """Queue a block on the output timeline and measure the delay it will have."""
        ring = self.out_ring
        level = ring.w - ring.r
        if not self.output_started or level < 0:  # first block, or late: start it anew
            level = int(self.config.margin * self.out_rate)
            ring.pad_to(level)
            self.output_started = True
        ring.push_from(out, len(out))
        # when the window's last sample was captured (input still queued or held by the
        # resampler is newer), and what plays before this block (output queued or held)
        held_in = self._rs_in.held() if self._rs_in is not None else 0.0
        end_dev = self.in_ring.r - held_in - self.acc_n * self.in_rate / RATE16
        since = (self.in_ring.w - end_dev) / self.in_rate
        # SOLA played this block ``last_offset`` samples early (the search is counted whole
        # in the algorithmic latency)
        self.queue_s = since + level / self.out_rate + held_out - \
            self.sola.last_offset / self.model_rate

    # readout ---------------------------------------------------------------
    def xruns(self) -> int:
        return self.in_status + self.out_status + self.overflows + self.underruns

    def stats(self, device_latency: tuple[float, float] = (0.0, 0.0)) -> dict:
        algo = self.algorithmic_s()
        in_dev, out_dev = device_latency
        total = algo + self.queue_s + in_dev + out_dev
        block = self.config.block
        ms = 1000.0

        def r(x: float) -> float:
            return round(x * ms, 1)

        return {"latency_ms": {"algorithmic": r(algo), "buffer": r(self.queue_s),
                               "input_device": r(in_dev), "output_device": r(out_dev),
                               "total": r(total)},
                "compute_ms": r(self.compute_s), "block_ms": r(block),
                "rtf": round(self.compute_s / block, 3), "xruns": self.xruns(),
                "underruns": self.underruns, "overflows": self.overflows,
                "device_xruns": self.in_status + self.out_status,
                "dropped_blocks": self.dropped_blocks, "trims": self.trims,
                "blocks": self.blocks, "input_db": round(self.input_db, 1),
                "output_db": round(self.output_db, 1), "gate_open": self.gate_open,
                "bypass": self.config.bypass, "monitor": self.config.monitor}
