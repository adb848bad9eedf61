"""One real-time stream as the Live page shows it: state and honest numbers (Qt-free).

The ``live`` job's events drive it (``LiveSession.apply``): ``live.state`` (starting,
running, stopped, with the reason and what the devices were opened at), ``live.stats``
(about four a second: latency, compute time per block, real-time factor, xruns, dropped
blocks, levels) and ``job.finished``. ``revision`` moves on every change; the page
repaints on a timer when it did. The texts are what the page writes, word for word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

IDLE, STARTING, RUNNING, STOPPED = "idle", "starting", "running", "stopped"
SEARCH_MS = 10.0  # the SOLA search window the engine adds to the delay
BUSY_FRACTION = 0.8  # compute per block above this part of the block: the warning
BUSY_WARNING = ("Your computer is barely keeping up: use a larger block or a faster pitch "
                "method")
METER_FLOOR_DB = -60.0
CLIP_DB = -0.5


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


def _ms(value: float) -> str:
    return f"{value:.0f}"


@dataclass(frozen=True)
class LiveStats:
    algorithmic_ms: float
    total_ms: float
    buffer_ms: float | None
    input_device_ms: float | None
    output_device_ms: float | None
    compute_ms: float
    block_ms: float
    rtf: float | None
    xruns: int
    dropped_blocks: int
    input_db: float | None
    output_db: float | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LiveStats | None:
        raw = data.get("latency_ms")
        lat: dict[str, Any] = raw if isinstance(raw, dict) else {}
        algorithmic, block = _num(lat.get("algorithmic")), _num(data.get("block_ms"))
        compute = _num(data.get("compute_ms"))
        if algorithmic is None or block is None or compute is None:
            return None
        dev_in, dev_out = _num(lat.get("input_device")), _num(lat.get("output_device"))
        buffer, total = _num(lat.get("buffer")), _num(lat.get("total"))
        if total is None:
            total = algorithmic + (buffer or 0) + (dev_in or 0) + (dev_out or 0)
        return cls(algorithmic, total, buffer, dev_in, dev_out, compute, block,
                   _num(data.get("rtf")), int(_num(data.get("xruns")) or 0),
                   int(_num(data.get("dropped_blocks")) or 0), _num(data.get("input_db")),
                   _num(data.get("output_db")))


def latency_text(stats: LiveStats, crossfade_ms: float | None) -> str:
    """"Latency 310 ms = block 250 + crossfade 50 + search 10 (+ device in 12 / out 20:
    342 ms in all)". The parts are the block the engine reports, the crossfade it was
    set to and the SOLA search; what the algorithmic latency has beyond them is the
    context look-ahead. When the parts do not add up, only the total is claimed. The
    output queue (``buffer``) and the devices' own latency come on top."""
    text = f"Latency {_ms(stats.algorithmic_ms)} ms"
    if crossfade_ms is not None:
        rest = stats.algorithmic_ms - stats.block_ms - crossfade_ms - SEARCH_MS
        if rest > -0.5:
            text += (f" = block {_ms(stats.block_ms)} + crossfade {_ms(crossfade_ms)} + "
                     f"search {_ms(SEARCH_MS)}")
            if rest >= 0.5:
                text += f" + look-ahead {_ms(rest)}"
    devices = [f"{word} {_ms(v)}" for word, v in (("in", stats.input_device_ms),
                                                  ("out", stats.output_device_ms))
               if v is not None]
    extra = [f"buffer {_ms(stats.buffer_ms)}"] if stats.buffer_ms else []
    if devices:
        extra.append(f"device {' / '.join(devices)}")
    if extra:
        text += f" (+ {' + '.join(extra)}: {_ms(stats.total_ms)} ms in all)"
    return text


def compute_text(stats: LiveStats) -> str:
    rtf = f", real-time factor {stats.rtf:.2f}" if stats.rtf is not None else ""
    return f"Compute {_ms(stats.compute_ms)} ms per {_ms(stats.block_ms)} ms block{rtf}"


def counters_text(stats: LiveStats) -> str:
    text = f"Xruns {stats.xruns} · dropped blocks {stats.dropped_blocks}"
    if stats.dropped_blocks:
        text += " (late input is dropped so the delay stays as shown)"
    return text


def busy(stats: LiveStats) -> bool:
    return stats.block_ms > 0 and stats.compute_ms >= BUSY_FRACTION * stats.block_ms


def meter(db: float | None) -> tuple[float, str]:
    """A level as the meter's fill (0..1 over -60..0 dBFS) and its text."""
    if db is None:
        return 0.0, "—"
    fill = min(1.0, max(0.0, (db - METER_FLOOR_DB) / -METER_FLOOR_DB))
    if db >= CLIP_DB:
        return fill, f"{db:.0f} dBFS: clipping"
    return fill, f"{db:.0f} dBFS"


def _side(entry: Any, model_rate: int | None) -> str:
    if not isinstance(entry, dict) or _num(entry.get("rate")) is None:
        return ""
    rate = int(_num(entry["rate"]) or 0)
    name = f"“{entry['device']}” " if entry.get("device") else ""
    if entry.get("host_api"):
        name += f"({entry['host_api']}) "
    text = f"{name}opened at {rate} Hz"
    wanted = _num(entry.get("requested")) or model_rate  # the engine asks the model's first
    if wanted and int(wanted) != rate:
        text += f" ({int(wanted)} Hz refused)"
    resampled = entry.get("resampled")
    if resampled if isinstance(resampled, bool) else model_rate and rate != model_rate:
        text += ", resampled inside"
    return text


def negotiated_text(negotiated: dict[str, Any]) -> str:
    """"Microphone “Mic” (MME) opened at 44100 Hz (48000 Hz refused), resampled inside",
    per side. The refused rate is ``requested`` when the backend names it, else the model's
    rate (the one the engine tries first)."""
    rate = _num(negotiated.get("model_rate"))
    model_rate = int(rate) if rate else None
    lines = [f"{word} {text}" for key, word in (("input", "Microphone"), ("output", "Output"))
             for text in [_side(negotiated.get(key), model_rate)] if text]
    if model_rate:
        lines.append(f"The model runs at {model_rate} Hz.")
    return "\n".join(lines)


class LiveSession:
    def __init__(self) -> None:
        self.revision = 0
        self.reset()

    def reset(self, job_id: str | None = None) -> None:
        self.job_id = job_id
        self.state = IDLE if job_id is None else STARTING
        self.reason = ""
        self.negotiated: dict[str, Any] = {}
        self.stats: LiveStats | None = None
        self.result: dict[str, Any] = {}
        self.error = ""
        self.user_stopped = False
        self.finished = False
        self.ran = False  # it reached "running"
        self.revision += 1

    def begin(self) -> None:
        """Start was pressed: starting until the job says otherwise."""
        self.reset()
        self.state = STARTING
        self.revision += 1

    @property
    def active(self) -> bool:
        """Starting or running: Start is Stop."""
        return self.state in (STARTING, RUNNING)

    @property
    def restart_offered(self) -> bool:
        """The stream ran and then stopped without the user asking (a device went away,
        the backend failed): the page offers Restart."""
        return (self.state == STOPPED and self.ran and not self.user_stopped
                and bool(self.reason or self.error))

    def request_stop(self) -> None:
        self.user_stopped = True
        self.revision += 1

    def apply(self, event: str, data: dict[str, Any]) -> str:
        """One event of the live job; returns what changed ("" for nothing)."""
        if event == "live.state":
            state = data.get("state")
            if state in (STARTING, RUNNING, STOPPED):
                self.state = str(state)
                self.ran = self.ran or state == RUNNING
            if data.get("reason"):
                self.reason = str(data["reason"])
            if isinstance(data.get("negotiated"), dict):
                self.negotiated = dict(data["negotiated"])
        elif event == "live.stats":
            stats = LiveStats.from_data(data)
            if stats is None:
                return ""
            self.stats = stats
        elif event == "job.finished":
            self._finish(data)
        else:
            return ""
        self.revision += 1
        return event

    def refused(self, message: str) -> None:
        """The ``job.start`` was refused: no stream ran."""
        self.state, self.error, self.finished = STOPPED, message, True
        self.revision += 1

    def _finish(self, data: dict[str, Any]) -> None:
        self.state, self.finished = STOPPED, True
        result = data.get("result")
        if isinstance(result, dict):
            self.result = result
            if result.get("reason"):
                self.reason = str(result["reason"])
        status = data.get("status")
        if status == "cancelled":
            self.user_stopped = True
        elif status != "ok":
            err = data.get("error")
            message = err.get("message") if isinstance(err, dict) else err
            self.error = str(message or "the live job failed")

    # texts ------------------------------------------------------------------------------
    def status_text(self) -> str:
        if self.state == IDLE:
            return "Not running."
        if self.state == STARTING:
            return "Starting: loading the model and opening the devices…"
        if self.state == RUNNING:
            return "Stopping…" if self.user_stopped else "Running."
        if self.error and not self.user_stopped:
            head = "Stopped" if self.ran else "Could not start"
            tail = " Press Restart to try again." if self.restart_offered else ""
            return f"{head}: {_sentence(self.error)}{tail}"
        head = "Stopped." if self.user_stopped or not self.reason else \
            f"Stopped: {_sentence(self.reason)}"
        if self.restart_offered:
            head += " Press Restart to start again once the device is back."
        return " ".join(t for t in (head, self.summary_text()) if t)

    def summary_text(self) -> str:
        r = self.result
        seconds, blocks = _num(r.get("seconds")), _num(r.get("blocks"))
        if seconds is None or blocks is None:
            return ""
        return (f"Ran {seconds:.1f} s: {int(blocks)} blocks, {int(_num(r.get('xruns')) or 0)} "
                f"xruns, {int(_num(r.get('dropped_blocks')) or 0)} dropped blocks.")

    def warning_text(self) -> str:
        return BUSY_WARNING if self.state == RUNNING and self.stats and busy(self.stats) else ""
