"""Play a range of an audio file through PortAudio (sounddevice).

Qt-free and server-free: the owner passes an ``emit(event, data)`` function.
The whole range is decoded (mono mix, as the prepare pipeline hears it) and
resampled to the device rate into one preallocated float32 buffer
before the stream starts; the audio callback only copies from it and counts
xruns. A monitor thread reports ``audio.position`` about 25 times a second and
``audio.finished`` once at the end (also after ``stop``).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from backend.dataset.audio_io import iter_blocks, probe

Emit = Callable[[str, dict[str, Any]], None]
POSITION_INTERVAL = 0.04
STREAM_CLOSE_TIMEOUT = 10.0
log = logging.getLogger(__name__)
MAX_PLAY_SECONDS = 300.0  # one play holds at most 5 min in memory (~115 MB at 48 kHz stereo)


class AudioUnavailable(RuntimeError):
    """No output device, or the device refused to open."""


def _sd():
    import sounddevice

    return sounddevice


def list_outputs() -> dict:
    """Output devices PortAudio sees, re-scanning once if none is found."""
    sd = _sd()
    devices = sd.query_devices()
    outputs = [d for d in devices if d["max_output_channels"] > 0]
    if not outputs:  # a sound server may have started after import
        sd._terminate()
        sd._initialize()
        devices = sd.query_devices()
        outputs = [d for d in devices if d["max_output_channels"] > 0]
    try:
        default = int(sd.default.device[1])
    except (TypeError, ValueError, IndexError):
        default = -1
    if default < 0 and outputs:
        default = int(outputs[0]["index"])
    return {"outputs": [{"index": int(d["index"]), "name": str(d["name"]),
                         "default_samplerate": float(d["default_samplerate"]),
                         "channels": int(d["max_output_channels"])} for d in outputs],
            "default": default}


def _pick_device(device: int | str | None) -> dict:
    found = list_outputs()
    outputs = found["outputs"]
    if not outputs:
        raise AudioUnavailable("no audio output device found: connect speakers or "
                               "headphones, or start a sound server (PulseAudio/PipeWire)")
    if device is None:
        device = found["default"]
    for d in outputs:
        if device == d["index"] or (isinstance(device, str) and device in d["name"]):
            return d
    names = ", ".join(f"{d['index']}: {d['name']}" for d in outputs)
    raise AudioUnavailable(f"audio output device {device!r} not found; available: {names}")


def _load_buffer(path: str | Path, start: float, end: float, info: Any, sr_out: int,
                 channels: int) -> np.ndarray:
    """Decode [start, end) at ``sr_out`` into a C-contiguous (frames, channels) buffer."""
    parts = list(iter_blocks(path, 1 << 16, sr=sr_out, start=start, stop=end, info=info,
                             nonfinite="zero"))
    mono = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    buf = np.empty((len(mono), channels), dtype=np.float32)
    buf[:] = mono[:, None]
    return buf


class _Playback:
    """One play request: its buffer, stream, counters and events.

    ``halt`` is set by ``stop`` or when the stream has played everything;
    ``ended`` by PortAudio once the stream is really finished; ``reported``
    once ``audio.finished`` was emitted.
    """

    def __init__(self, buf: np.ndarray, sr: int, start: float, play_id: int):
        self.buf = buf
        self.n = len(buf)
        self.sr = sr
        self.start = start
        self.play_id = play_id
        self.pos = 0
        self.xruns = 0
        self.stop_requested = False
        self.halt = threading.Event()
        self.ended = threading.Event()
        self.reported = threading.Event()
        self.stream: Any = None
        sd = _sd()  # looked up here, not in the real-time callback
        self._stop_exc = sd.CallbackStop
        self._abort_exc = sd.CallbackAbort

    def callback(self, outdata, frames, time_info, status) -> None:
        # Real-time thread: copy and count only.
        if status:
            self.xruns += 1
        if self.stop_requested:
            outdata.fill(0.0)
            raise self._abort_exc
        pos = self.pos
        n = self.n - pos
        if n > frames:
            n = frames
        outdata[:n] = self.buf[pos:pos + n]
        self.pos = pos + n
        if n < frames:
            outdata[n:] = 0.0
            raise self._stop_exc

    def on_finished(self) -> None:
        self.ended.set()
        self.halt.set()

    def position(self) -> float:
        latency = 0.0
        if self.stream is not None and not self.halt.is_set():
            try:
                latency = float(self.stream.latency)
            except Exception:
                latency = 0.0
        return self.start + max(0.0, self.pos / self.sr - latency)


class Player:
    """The backend's single audio player."""

    def __init__(self, emit: Emit):
        self._emit = emit
        self._lock = threading.Lock()
        self._current: _Playback | None = None
        self._open_streams: list[_Playback] = []  # started and not yet closed
        self._next_id = 1
        self._atexit_registered = False

    @property
    def playing(self) -> bool:
        cur = self._current
        return cur is not None and not cur.halt.is_set()

    def play(self, path: str | Path, start: float = 0.0, end: float | None = None,
             device: int | str | None = None) -> dict:
        with self._lock:
            self._stop_locked()
            dev = _pick_device(device)
            info = probe(path)
            start = max(0.0, float(start))
            end = info.duration if end is None else min(float(end), info.duration)
            if end - start > MAX_PLAY_SECONDS:
                end = start + MAX_PLAY_SECONDS
            if end <= start:
                raise ValueError(f"nothing to play: start {start:.3f} s is not before "
                                 f"end {end:.3f} s (file length {info.duration:.3f} s)")
            sr_out = int(dev["default_samplerate"]) or info.sample_rate
            channels = max(1, min(2, dev["channels"]))
            buf = _load_buffer(path, start, end, info, sr_out, channels)
            pb = _Playback(buf, sr_out, start, self._next_id)
            self._next_id += 1
            self._open(pb, dev, channels)
            self._current = pb
            return {"playing": True, "duration": pb.n / sr_out, "play_id": pb.play_id,
                    "start": start, "end": end, "device": dev["name"]}

    def _open(self, pb: _Playback, dev: dict, channels: int) -> None:
        sd = _sd()
        try:
            pb.stream = sd.OutputStream(samplerate=pb.sr, channels=channels, dtype="float32",
                                        device=dev["index"], callback=pb.callback,
                                        finished_callback=pb.on_finished, latency="high")
            pb.stream.start()
            self._open_streams.append(pb)
        except sd.PortAudioError as exc:
            raise AudioUnavailable(f"could not open audio output '{dev['name']}': {exc}") \
                from exc
        if not self._atexit_registered:  # runs before sounddevice's own exit handler
            atexit.register(self.close)
            self._atexit_registered = True
        threading.Thread(target=self._monitor, args=(pb,), name="audio-monitor",
                         daemon=True).start()

    def _monitor(self, pb: _Playback) -> None:
        last = pb.start
        while not pb.halt.wait(POSITION_INTERVAL):
            last = max(last, pb.position())
            self._emit("audio.position", {"t": last, "playing": True, "play_id": pb.play_id})
        t = max(last, pb.position()) if pb.stop_requested else pb.start + pb.n / pb.sr
        end = {"t": t, "playing": False, "play_id": pb.play_id}
        self._emit("audio.position", end)
        self._emit("audio.finished", {**end, "xruns": pb.xruns, "stopped": pb.stop_requested})
        pb.reported.set()
        # The callback aborts the stream on its next call; only then close it.
        # Calling abort() from here can hang while the device is stalled.
        if pb.ended.wait(STREAM_CLOSE_TIMEOUT):
            try:
                pb.stream.close()
            except Exception:
                log.debug("closing the output stream failed", exc_info=True)
            if pb in self._open_streams:
                self._open_streams.remove(pb)
        else:
            log.warning("audio output did not finish within %.0f s", STREAM_CLOSE_TIMEOUT)

    def stop(self) -> dict:
        with self._lock:
            return {"stopped": self._stop_locked()}

    def _stop_locked(self) -> bool:
        pb = self._current
        self._current = None
        if pb is None or pb.halt.is_set():
            return False
        pb.stop_requested = True
        pb.halt.set()
        pb.reported.wait(2.0)  # audio.finished goes out before the next play starts
        return True

    def close(self, timeout: float = STREAM_CLOSE_TIMEOUT) -> bool:
        """Stop and wait until every stream has finished (PortAudio's exit
        handler would otherwise abort a stalled stream, which can hang)."""
        self.stop()
        for pb in list(self._open_streams):
            pb.ended.wait(timeout)
            pb.reported.wait(1.0)
        deadline = time.monotonic() + 1.0
        while self._open_streams and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._open_streams
