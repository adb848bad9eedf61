"""Separate sounddevice input and output streams around one engine.

A duplex ``sd.Stream`` runs erratically on some systems (30 to 80 % of real time through
PulseAudio here), and users mix devices of different host APIs, so input and output are
two streams, each with its own device, host API, rate and latency. Both callbacks are the
engine's (copy and count only).

A device that disappears shows up as a stream that finished or aborted by itself, a
PortAudio error, or callbacks that stop coming: :meth:`DeviceStreams.problem` names the
device, and the job stops the engine with that message.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from backend.kernel import JobError
from backend.live import devices
from backend.live.devices import DeviceChoice
from backend.protocol import E_UNAVAILABLE

log = logging.getLogger(__name__)
STALL_SECONDS = 2.0  # no callback for this long: the device is gone
CALLBACK_SECONDS = 0.01  # 10 ms callbacks: fewer Python calls than PortAudio's 2 ms ones


@dataclass(frozen=True)
class StreamPlan:
    """What to open, once the rates are negotiated."""

    input: DeviceChoice
    output: DeviceChoice
    in_rate: int
    out_rate: int
    in_extra: Any = None
    out_extra: Any = None

    def negotiated(self, model_rate: int) -> dict:
        def side(c: DeviceChoice, rate: int) -> dict:
            return {"device": c.name, "index": c.index, "host_api": c.host_api, "rate": rate,
                    "requested": model_rate, "resampled": rate != model_rate}

        return {"input": side(self.input, self.in_rate),
                "output": side(self.output, self.out_rate), "model_rate": model_rate}


def plan(model_rate: int, *, input_device: Any = None, output_device: Any = None,
         input_host_api: Any = None, output_host_api: Any = None,
         exclusive: bool = False) -> StreamPlan:
    found = devices.list_all()
    cin = devices.choose("input", input_device, input_host_api, found)
    cout = devices.choose("output", output_device, output_host_api, found)
    ein, eout = devices.extra_settings(cin, exclusive), devices.extra_settings(cout, exclusive)
    return StreamPlan(cin, cout, devices.negotiate_rate("input", cin, model_rate, ein),
                      devices.negotiate_rate("output", cout, model_rate, eout), ein, eout)


class DeviceStreams:
    def __init__(self, engine: Any, plan: StreamPlan):
        self.engine, self.plan = engine, plan
        self._in: Any = None
        self._out: Any = None
        self.finished: list[str] = []  # "input"/"output" streams that ended by themselves
        self._closing = False
        self._seen: dict[str, tuple[int, float]] = {}  # callbacks counted, and when

    def _opened(self, kind: str, choice: DeviceChoice, rate: int, extra: Any) -> Any:
        s = devices.sd()
        cls = s.InputStream if kind == "input" else s.OutputStream
        cb = self.engine.input_callback if kind == "input" else self.engine.output_callback
        channels = 1 if kind == "input" else max(1, min(2, choice.channels))
        try:
            stream = cls(device=choice.index, samplerate=rate, channels=channels,
                         dtype="float32", latency="low", callback=cb,
                         blocksize=int(rate * CALLBACK_SECONDS),
                         extra_settings=extra,
                         finished_callback=lambda: self._on_finished(kind))
            stream.start()
        except Exception as exc:
            raise JobError(f"could not open the {kind} device '{choice.name}' "
                           f"({choice.host_api}) at {rate} Hz: {exc}",
                           code=E_UNAVAILABLE) from exc
        return stream

    def _on_finished(self, kind: str) -> None:
        if not self._closing:
            self.finished.append(kind)

    def open(self) -> None:
        p = self.plan
        self._out = self._opened("output", p.output, p.out_rate, p.out_extra)
        try:
            self._in = self._opened("input", p.input, p.in_rate, p.in_extra)
        except JobError:
            self.close()
            raise

    @property
    def latency(self) -> tuple[float, float]:
        def lat(stream: Any) -> float:
            try:
                return float(stream.latency)
            except Exception:
                return 0.0

        return lat(self._in), lat(self._out)

    def problem(self) -> str | None:
        """A message naming the device when one of them stopped; None while both run."""
        p = self.plan
        for kind, stream, choice in (("input", self._in, p.input),
                                     ("output", self._out, p.output)):
            ended = kind in self.finished
            try:
                ended = ended or not stream.active
            except Exception:
                ended = True
            if ended:
                return self._gone(kind, choice, "its stream stopped")
        now = time.monotonic()
        for kind, calls, choice in (("input", self.engine.in_calls, p.input),
                                    ("output", self.engine.out_calls, p.output)):
            last, since = self._seen.get(kind, (-1, now))
            if calls != last:
                self._seen[kind] = (calls, now)
            elif now - since > STALL_SECONDS:
                return self._gone(kind, choice,
                                  f"it delivered nothing for {STALL_SECONDS:.0f} s")
        return None

    def _gone(self, kind: str, choice: DeviceChoice, why: str) -> str:
        return (f"the {kind} device '{choice.name}' ({choice.host_api}) stopped: {why} "
                "(unplugged, or its sound server stopped); start again to reconnect")

    def close(self, timeout: float = 3.0) -> None:
        """Abort and close both streams; a stalled device can hang PortAudio, so this
        waits at most ``timeout`` and leaves a stuck stream to the process's exit."""
        self._closing = True

        def shut() -> None:
            for stream in (self._in, self._out):
                if stream is None:
                    continue
                with contextlib.suppress(Exception):
                    stream.abort()
                with contextlib.suppress(Exception):
                    stream.close()

        t = threading.Thread(target=shut, name="live-close", daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            log.warning("the audio streams did not close within %.0f s", timeout)
