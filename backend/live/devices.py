"""Audio devices for real-time conversion: listing, choosing, and negotiating a rate.

Input and output are chosen separately, each by device (index or part of its name) and
host API (index or part of its name: MME, WASAPI, ASIO, ALSA...). On Windows the
ASIO-enabled PortAudio that sounddevice ships is loaded (``SD_ENABLE_ASIO``), so ASIO
drivers are listed when present. WASAPI exclusive mode comes through
``sd.WasapiSettings(exclusive=True)``.

A device that refuses a rate (PortAudio -9997 "Invalid sample rate") is opened at the
first rate it accepts among: the preferred rate (the model's), its default rate, 48000,
44100, 96000, 32000, 16000; the engine resamples inside.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.kernel import BadArgs, JobError
from backend.protocol import E_UNAVAILABLE

FALLBACK_RATES = (48000, 44100, 96000, 32000, 16000)


def sd() -> Any:
    if sys.platform == "win32":
        os.environ.setdefault("SD_ENABLE_ASIO", "1")
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise JobError(f"audio devices are unavailable: PortAudio could not be loaded ({exc}); "
                       "on Linux install libportaudio2", code=E_UNAVAILABLE) from exc
    return sounddevice


def list_all() -> dict:
    """The ``live.devices`` reply: every host API and device PortAudio sees."""
    s = sd()
    apis = [{"index": i, "name": str(a["name"]),
             "default_input": int(a["default_input_device"]),
             "default_output": int(a["default_output_device"])}
            for i, a in enumerate(s.query_hostapis())]
    devs = [{"index": int(d["index"]), "name": str(d["name"]),
             "host_api": apis[int(d["hostapi"])]["name"],
             "max_input_channels": int(d["max_input_channels"]),
             "max_output_channels": int(d["max_output_channels"]),
             "default_samplerate": float(d["default_samplerate"]),
             "default_low_input_latency": float(d["default_low_input_latency"]),
             "default_low_output_latency": float(d["default_low_output_latency"])}
            for d in s.query_devices()]
    try:
        din, dout = (int(x) for x in s.default.device)
    except (TypeError, ValueError):
        din = dout = -1
    return {"host_apis": apis, "devices": devs, "default_input": din, "default_output": dout}


@dataclass(frozen=True)
class DeviceChoice:
    index: int
    name: str
    host_api: str
    default_rate: int
    channels: int
    low_latency: float


def _host_api_index(apis: list[dict], host_api: int | str | None) -> int | None:
    if host_api is None or host_api == "":
        return None
    for a in apis:
        if host_api == a["index"] or (isinstance(host_api, str)
                                      and host_api.lower() in a["name"].lower()):
            return a["index"]
    names = ", ".join(a["name"] for a in apis) or "none"
    raise BadArgs(f"host API {host_api!r} not found; available: {names}")


def choose(kind: str, device: int | str | None, host_api: int | str | None = None,
           found: dict | None = None) -> DeviceChoice:
    """The input or output device asked for (``kind`` is "input" or "output")."""
    found = found or list_all()
    key = f"max_{kind}_channels"
    api = _host_api_index(found["host_apis"], host_api)
    cands = [d for d in found["devices"] if d[key] > 0
             and (api is None or d["host_api"] == found["host_apis"][api]["name"])]
    if not cands:
        where = f" on {found['host_apis'][api]['name']}" if api is not None else ""
        raise BadArgs(f"no audio {kind} device{where}: connect one, or start a sound server "
                      "(PulseAudio/PipeWire)")
    if device is None or device == "":
        default = found["host_apis"][api][f"default_{kind}"] if api is not None \
            else found[f"default_{kind}"]
        device = default if any(d["index"] == default for d in cands) else cands[0]["index"]
    for d in cands:
        if device == d["index"] or (isinstance(device, str) and device.lower() in
                                    d["name"].lower()):
            return DeviceChoice(d["index"], d["name"], d["host_api"],
                                int(d["default_samplerate"]), d[key],
                                d[f"default_low_{kind}_latency"])
    names = "; ".join(f"{d['index']}: {d['name']} ({d['host_api']})" for d in cands)
    raise BadArgs(f"audio {kind} device {device!r} not found; available: {names}")


def extra_settings(choice: DeviceChoice, exclusive: bool) -> Any:
    if not exclusive:
        return None
    if "wasapi" not in choice.host_api.lower():
        raise BadArgs(f"exclusive mode needs a Windows WASAPI device; '{choice.name}' is on "
                      f"{choice.host_api}: pick its WASAPI entry or turn exclusive off")
    return sd().WasapiSettings(exclusive=True)


def negotiate_rate(kind: str, choice: DeviceChoice, preferred: int | None,
                   extra: Any = None, check: Callable[..., None] | None = None) -> int:
    """The first rate the device accepts (see the module docstring)."""
    s = sd()
    check = check or (s.check_input_settings if kind == "input" else s.check_output_settings)
    rates: list[int] = []
    for r in (preferred, choice.default_rate, *FALLBACK_RATES):
        if r and int(r) not in rates:
            rates.append(int(r))
    refused = []
    for rate in rates:
        try:
            check(device=choice.index, samplerate=rate, channels=1, dtype="float32",
                  extra_settings=extra)
            return rate
        except Exception as exc:  # PortAudioError -9997 and friends, ValueError
            refused.append(f"{rate} Hz ({exc})")
    raise JobError(f"the {kind} device '{choice.name}' ({choice.host_api}) accepted none of "
                   f"the rates tried: {'; '.join(refused)}", code=E_UNAVAILABLE)
