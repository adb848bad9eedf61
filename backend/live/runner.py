"""The ``live`` job's two ways to run the engine: audio devices, or a file stream."""

from __future__ import annotations

import time
from typing import Any

from backend.kernel import JobCancelled, JobContext, JobError
from backend.live.engine import Engine

STATS_INTERVAL = 0.25


def _result(engine: Engine, seconds: float, reason: str,
            latency: tuple[float, float] = (0.0, 0.0), **extra: Any) -> dict:
    return {"blocks": engine.blocks, "xruns": engine.xruns(),
            "dropped_blocks": engine.dropped_blocks, "seconds": round(seconds, 3),
            "reason": reason, "latency_ms": engine.stats(latency)["latency_ms"],
            "underruns": engine.underruns, "device_xruns": engine.in_status + engine.out_status,
            "trims": engine.trims, "callback_frames": [engine.in_frames_max,
                                                       engine.out_frames_max], **extra}


def _controls(engine: Engine, ctx: JobContext) -> None:
    from backend.live.controls import apply_controls

    ctx.on_control(lambda values: apply_controls(engine, values))


def run_file(params: Any, converter: Any, ctx: JobContext) -> dict:
    from backend.dataset.audio_io import probe
    from backend.live.file_stream import FileStream

    rate = probe(params.input_file).sample_rate
    engine = Engine(converter, params.settings, params.config, rate, converter.output_rate)
    negotiated = {"input": {"device": str(params.input_file), "host_api": "file", "rate": rate},
                  "output": {"device": str(params.output_file), "host_api": "file",
                             "rate": converter.output_rate},
                  "model_rate": converter.output_rate}
    ctx.event("live.state", {"state": "starting", "negotiated": negotiated})
    stream = FileStream(engine, params.input_file, params.output_file)
    _controls(engine, ctx)
    ctx.event("live.state", {"state": "running", "negotiated": negotiated})
    ctx.progress("running", 0, 0, force=True)  # the Jobs dock's stage (no end is known)
    last = [0.0]

    def tick() -> None:  # the file goes faster than real time: stats ~4 a second anyway
        now = time.monotonic()
        if now - last[0] >= STATS_INTERVAL:
            last[0] = now
            ctx.event("live.stats", engine.stats(stream.latency))

    try:
        done = stream.run(check=ctx.check, tick=tick)
    except JobCancelled:
        ctx.event("live.state", {"state": "stopped", "reason": "stopped by the user",
                                 "negotiated": negotiated})
        raise
    finally:
        ctx.on_control(None)
    reason = engine.error or "end of the input file"
    ctx.event("live.state", {"state": "stopped", "reason": reason, "negotiated": negotiated})
    if engine.error:
        raise JobError(engine.error)
    return _result(engine, done["seconds"], reason, output=done["output"],
                   negotiated=negotiated)


def _watch(engine: Engine, streams: Any, params: Any, ctx: JobContext) -> str:
    """Emit stats until something ends the run; returns why."""
    started = time.monotonic()
    while True:
        time.sleep(STATS_INTERVAL)
        ctx.event("live.stats", engine.stats(streams.latency))
        if ctx.cancelled:
            return "stopped by the user"
        if engine.error:
            return engine.error
        problem = streams.problem()
        if problem:
            return problem
        if params.seconds is not None and time.monotonic() - started >= params.seconds:
            return f"ran for the {params.seconds:g} s asked"


def run_devices(params: Any, converter: Any, ctx: JobContext) -> dict:
    from backend.live import streams as st

    plan = st.plan(converter.output_rate, input_device=params.input_device,
                   output_device=params.output_device, input_host_api=params.input_host_api,
                   output_host_api=params.output_host_api, exclusive=params.exclusive)
    negotiated = plan.negotiated(converter.output_rate)
    ctx.event("live.state", {"state": "starting", "negotiated": negotiated})
    engine = Engine(converter, params.settings, params.config, plan.in_rate, plan.out_rate)
    streams = st.DeviceStreams(engine, plan)
    engine.start()
    started = time.monotonic()
    try:
        streams.open()
        _controls(engine, ctx)
        ctx.event("live.state", {"state": "running", "negotiated": negotiated,
                                 "latency_ms": engine.stats(streams.latency)["latency_ms"]})
        ctx.progress("running", 0, 0, force=True)  # the Jobs dock's stage
        reason = _watch(engine, streams, params, ctx)
        latency = streams.latency
    finally:
        ctx.on_control(None)
        engine.stop()
        streams.close()
    ctx.event("live.state", {"state": "stopped", "reason": reason, "negotiated": negotiated})
    if engine.error:
        raise JobError(engine.error)
    return _result(engine, time.monotonic() - started, reason, latency,
                   negotiated=negotiated)
