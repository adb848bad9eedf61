"""A file-backed stream: the engine's exact code driven by a file instead of a sound card.

Each tick hands ``callback`` frames of the input file to ``Engine.input_callback``, lets
the engine convert every block that is complete (``Engine.step``, on this thread: no real
time, so no block is ever late or dropped), then asks ``Engine.output_callback`` for the
same duration of output and appends it to the output file. The output therefore holds
what a listener would hear live: it starts with the latency's worth of silence, and the
input is followed by that much silence again so its end comes out. The output file is
written beside its destination and moved into place at the end (atomic).

``pace`` > 0 runs the same ticks at that multiple of real time from a thread of its own,
with the engine's worker thread converting, as a sound card would (tests of the real-time
behaviour: late blocks, dropped input).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from backend.dataset.audio_io import iter_blocks
from backend.fsutil import create_temp_file

CALLBACK_SECONDS = 0.01


class FileStream:
    def __init__(self, engine: Any, input_path: str | os.PathLike[str],
                 output_path: str | os.PathLike[str], *,
                 callback_seconds: float = CALLBACK_SECONDS, pace: float = 0.0):
        self.engine = engine
        self.input_path, self.output_path = Path(input_path), Path(output_path)
        self.frames_in = max(1, int(round(callback_seconds * engine.in_rate)))
        self.callback_seconds = self.frames_in / engine.in_rate
        self.pace = pace
        self.ticks = 0
        self.input_seconds = 0.0
        self.latency = (0.0, 0.0)  # (input, output) device latency: none here

    def _out_frames(self, tick: int) -> int:
        e = self.engine
        return (tick + 1) * self.frames_in * e.out_rate // e.in_rate - \
            tick * self.frames_in * e.out_rate // e.in_rate

    def _chunks(self, flush_seconds: float):
        """Input blocks of exactly ``frames_in``, the last padded; then silence to flush."""
        buf = np.zeros(0, np.float32)
        for part in iter_blocks(self.input_path, 1 << 15, sr=self.engine.in_rate,
                                nonfinite="zero"):
            self.input_seconds += len(part) / self.engine.in_rate
            buf = np.concatenate([buf, part])
            while len(buf) >= self.frames_in:
                yield buf[:self.frames_in]
                buf = buf[self.frames_in:]
        if len(buf):
            yield np.concatenate([buf, np.zeros(self.frames_in - len(buf), np.float32)])
        silence = np.zeros(self.frames_in, np.float32)
        for _ in range(int(np.ceil(flush_seconds / self.callback_seconds))):
            yield silence

    def run(self, check: Callable[[], None] = lambda: None,
            tick: Callable[[], None] = lambda: None) -> dict:
        """Stream the whole file; ``check`` may raise to stop (cancel), ``tick`` is called
        about every 0.25 s of audio (stats). Returns ``{seconds, output}``."""
        e = self.engine
        flush = e.algorithmic_s() + e.config.margin + 2 * e.config.block
        folder = self.output_path.parent
        fd, tmp = create_temp_file(folder, ".live-", ".wav")
        os.close(fd)
        indata = np.zeros((self.frames_in, 1), np.float32)
        out_max = self._out_frames(0) + 1
        outdata = np.zeros((out_max, 1), np.float32)
        every = max(1, int(round(0.25 / self.callback_seconds)))
        pending: list[np.ndarray] = []  # output written every 0.25 s, not every tick
        start = time.monotonic()
        try:
            with sf.SoundFile(tmp, "w", samplerate=e.out_rate, channels=1,
                              subtype="FLOAT") as out:
                # what the output callback hands over plays one tick later, when the
                # next input tick has been captured: that tick of silence comes first
                out.write(np.zeros(self._out_frames(0), np.float32))
                for chunk in self._chunks(flush):
                    if self.pace > 0:
                        due = start + (self.ticks + 1) * self.callback_seconds / self.pace
                        time.sleep(max(0.0, due - time.monotonic()))
                    indata[:, 0] = chunk
                    e.input_callback(indata, self.frames_in, None, None)
                    if self.pace <= 0:
                        while e.pump():
                            pass
                    n = self._out_frames(self.ticks)
                    e.output_callback(outdata[:n], n, None, None)
                    pending.append(outdata[:n, 0].copy())
                    self.ticks += 1
                    if self.ticks % every == 0:
                        out.write(np.concatenate(pending))
                        pending.clear()
                        check()
                        tick()
                    if e.error:
                        break
                if pending:
                    out.write(np.concatenate(pending))
            if not e.error:  # a failed conversion leaves no output file
                os.replace(tmp, self.output_path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return {"seconds": round(self.input_seconds, 3), "output": str(self.output_path)}
