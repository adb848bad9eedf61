"""Device choice and rate negotiation (no sound card needed: PortAudio's answers faked)."""

from __future__ import annotations

import time

import pytest

from backend.kernel import BadArgs, JobError
from backend.live import devices
from backend.live.devices import DeviceChoice


def _found() -> dict:
    apis = [{"index": 0, "name": "MME", "default_input": 0, "default_output": 1},
            {"index": 1, "name": "Windows WASAPI", "default_input": 2, "default_output": 3},
            {"index": 2, "name": "ASIO", "default_input": 4, "default_output": 4}]

    def dev(i, name, api, ins, outs, rate=44100.0):
        return {"index": i, "name": name, "host_api": apis[api]["name"],
                "max_input_channels": ins, "max_output_channels": outs,
                "default_samplerate": rate, "default_low_input_latency": 0.01,
                "default_low_output_latency": 0.01}

    return {"host_apis": apis,
            "devices": [dev(0, "Microphone (USB Mic)", 0, 1, 0),
                        dev(1, "CABLE Input (VB-Audio)", 0, 0, 2),
                        dev(2, "Microphone (USB Mic)", 1, 1, 0, 48000.0),
                        dev(3, "Speakers (Realtek)", 1, 0, 2, 48000.0),
                        dev(4, "Focusrite USB ASIO", 2, 2, 2, 96000.0)],
            "default_input": 0, "default_output": 1}


def test_input_and_output_chosen_separately_by_name_and_host_api():
    found = _found()
    cin = devices.choose("input", "usb mic", "wasapi", found)
    assert (cin.index, cin.host_api, cin.default_rate) == (2, "Windows WASAPI", 48000)
    cout = devices.choose("output", "cable", "MME", found)
    assert (cout.index, cout.host_api) == (1, "MME")
    assert devices.choose("output", None, "asio", found).index == 4
    assert devices.choose("input", None, None, found).index == 0  # the system default
    with pytest.raises(BadArgs, match="not found; available: .*Speakers"):
        devices.choose("output", "headphones", None, found)
    with pytest.raises(BadArgs, match="host API 'CoreAudio' not found"):
        devices.choose("input", None, "CoreAudio", found)


def test_refused_rate_falls_back_to_one_the_device_accepts():
    choice = DeviceChoice(3, "Speakers (Realtek)", "Windows WASAPI", 48000, 2, 0.01)
    tried = []

    def check(*, device, samplerate, **_):
        tried.append(samplerate)
        if samplerate != 48000:
            raise RuntimeError("Invalid sample rate [PaErrorCode -9997]")

    assert devices.negotiate_rate("output", choice, 40000, check=check) == 48000
    assert tried == [40000, 48000]

    def refuse_all(**_):
        raise RuntimeError("Invalid sample rate [PaErrorCode -9997]")

    with pytest.raises(JobError, match="Speakers .*40000 Hz .*-9997"):
        devices.negotiate_rate("output", choice, 40000, check=refuse_all)


def test_exclusive_needs_wasapi():
    mme = DeviceChoice(1, "CABLE Input", "MME", 44100, 2, 0.01)
    with pytest.raises(BadArgs, match="exclusive mode needs a Windows WASAPI device"):
        devices.extra_settings(mme, True)
    assert devices.extra_settings(mme, False) is None


def test_a_device_that_stops_calling_back_is_named(monkeypatch):
    from types import SimpleNamespace

    from backend.live import streams

    monkeypatch.setattr(streams, "STALL_SECONDS", 0.05)
    mic = DeviceChoice(2, "Microphone (USB Mic)", "Windows WASAPI", 48000, 1, 0.01)
    spk = DeviceChoice(3, "Speakers (Realtek)", "Windows WASAPI", 48000, 2, 0.01)
    engine = SimpleNamespace(in_calls=0, out_calls=0)
    ds = streams.DeviceStreams(engine, streams.StreamPlan(mic, spk, 48000, 48000))
    ds._in = ds._out = SimpleNamespace(active=True)
    assert ds.problem() is None
    for _ in range(3):
        time.sleep(0.03)
        engine.out_calls += 1  # the speaker goes on, the microphone went quiet
        found = ds.problem()
    assert found is not None and "input device 'Microphone (USB Mic)'" in found
    assert "delivered nothing" in found
    ds._out = SimpleNamespace(active=False)
    assert "output device 'Speakers (Realtek)'" in ds.problem()
