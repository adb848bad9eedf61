"""The Live page's Qt-free models: devices, the session's numbers, the controls."""

from __future__ import annotations

import json

import pytest

from desktop.components.live_controls import (
    LiveControls,
    LiveModel,
    StartChoice,
    Stored,
    control,
    job_args,
    load_stored,
    models_from_result,
    to_stored,
)
from desktop.components.live_devices import (
    INPUT,
    OUTPUT,
    DeviceList,
    Remembered,
    exclusive_possible,
    name_key,
)
from desktop.components.live_session import (
    BUSY_WARNING,
    LiveSession,
    LiveStats,
    compute_text,
    counters_text,
    latency_text,
    meter,
    negotiated_text,
)
from tests.desktop.conftest import SESSIONS


def _answer(session: str, cmd: str, nth: int = 0) -> dict:
    lines = [json.loads(x) for x in (SESSIONS / session).read_text("utf-8").splitlines()]
    at = [i for i, m in enumerate(lines) if m.get("fake") == "await" and m["cmd"] == cmd][nth]
    return next(m for m in lines[at + 1:] if m.get("type") in ("result", "error"))["result"]


@pytest.fixture
def devices() -> DeviceList:
    return DeviceList.from_result(_answer("live_run.jsonl", "live.devices"))


# devices ------------------------------------------------------------------------------------
def test_pickers_filter_by_direction_and_host_api(devices) -> None:
    assert [h.name for h in devices.host_apis(INPUT)] == ["MME", "Windows WASAPI"]
    assert [d.index for d in devices.devices(INPUT, 0)] == [0, 1]
    assert [d.index for d in devices.devices(INPUT, 1)] == [6, 7]
    assert [d.index for d in devices.devices(OUTPUT, 1)] == [5, 8]
    assert devices.default_device(INPUT).index == 1
    assert devices.default_device(INPUT, 1).index == 6  # the host API's own default
    assert devices.device(1).label() == "Microphone (2- USB Audio Device) — 44.1 kHz"
    wasapi, mme = devices.host_api(1), devices.host_api(0)
    assert exclusive_possible(mme, wasapi) and not exclusive_possible(mme, None)


def test_unreadable_entries_are_left_out() -> None:
    found = DeviceList.from_result({"host_apis": [{"name": "no index"}, 3,
                                                  {"index": 4, "name": "ALSA"}],
                                    "devices": [{"index": "x", "host_api": 0}, None,
                                                {"index": 3, "host_api": "JACK"},
                                                {"index": 5, "host_api": "ALSA"},
                                                {"index": 2, "host_api": 0,
                                                 "max_input_channels": True}]})
    assert [h.name for h in found.all_host_apis] == ["ALSA"]
    assert [(d.index, d.host_api) for d in found.all_devices] == [(5, 4), (2, 0)]
    assert found.devices(INPUT) == []  # True is not a channel count


def test_a_remembered_device_is_found_by_name_after_it_was_replugged(devices) -> None:
    assert name_key("Microphone (2- USB Audio Device)") == \
        name_key("microphone  (3- USB Audio Device)")
    pick = devices.pick(INPUT, Remembered("Windows WASAPI", "Microphone (3- USB Audio Device)"))
    assert (pick.device.index, pick.host_api.name, pick.note, pick.missing) == \
        (6, "Windows WASAPI", "", False)
    pick = devices.pick(OUTPUT, Remembered("ASIO", "CABLE Input (VB-Audio Virtual Cable)"))
    assert pick.device.index == 3 and not pick.missing
    assert pick.note == ("ASIO is not available: the output device “CABLE Input (VB-Audio "
                         "Virtual Cable)” is used through MME.")


def test_a_remembered_device_that_is_gone_is_named(devices) -> None:
    pick = devices.pick(INPUT, Remembered("MME", "Yeti Stereo Microphone"))
    assert pick.device.index == 1 and pick.missing
    assert pick.note == ("The input device you used last, “Yeti Stereo Microphone” (MME), is "
                         "not connected; “Microphone (2- USB Audio Device)” is selected instead. "
                         "Plug it in and press Refresh devices to use it again.")
    assert devices.pick(INPUT, None).note == ""
    none = DeviceList([], []).pick(OUTPUT, None)
    assert none.device is None and none.missing
    assert none.note == "No output device was found: connect one and press Refresh devices."
    stored = Remembered.from_stored(devices.remembered(devices.device(6)).to_stored())
    assert stored == Remembered("Windows WASAPI", "Microphone (2- USB Audio Device)")
    assert Remembered.from_stored({"host_api": "MME"}) is None


# session --------------------------------------------------------------------------------------
STATS = {"latency_ms": {"algorithmic": 310, "buffer": 0, "input_device": 12,
                        "output_device": 20, "total": 342},
         "compute_ms": 120.4, "block_ms": 250, "rtf": 0.48, "xruns": 0, "dropped_blocks": 0,
         "input_db": -23.4, "output_db": -0.2}


def test_latency_compute_counters_and_meters_as_written() -> None:
    stats = LiveStats.from_data(STATS)
    assert latency_text(stats, 50) == ("Latency 310 ms = block 250 + crossfade 50 + search 10 "
                                       "(+ device in 12 / out 20: 342 ms in all)")
    assert latency_text(stats, 20).startswith("Latency 310 ms = block 250 + crossfade 20 + "
                                              "search 10 + look-ahead 30 (+")
    assert latency_text(stats, 120) == "Latency 310 ms (+ device in 12 / out 20: 342 ms in all)"
    assert compute_text(stats) == "Compute 120 ms per 250 ms block, real-time factor 0.48"
    assert counters_text(stats) == "Xruns 0 · dropped blocks 0"
    dropped = LiveStats.from_data({**STATS, "dropped_blocks": 3, "xruns": 2})
    assert counters_text(dropped) == ("Xruns 2 · dropped blocks 3 (late input is dropped so "
                                      "the delay stays as shown)")
    assert meter(stats.input_db) == (pytest.approx(0.61, abs=0.01), "-23 dBFS")
    assert meter(stats.output_db)[1] == "-0 dBFS: clipping" and meter(None) == (0.0, "—")
    assert meter(-80.0)[0] == 0.0
    queued = LiveStats.from_data({**STATS, "latency_ms": {**STATS["latency_ms"], "buffer": 20,
                                                          "total": 362}})
    assert latency_text(queued, 50).endswith("(+ buffer 20 + device in 12 / out 20: 362 ms in "
                                             "all)")
    no_devices = LiveStats.from_data({**STATS, "latency_ms": {"algorithmic": 310}})
    assert latency_text(no_devices, 50).endswith("search 10") and no_devices.total_ms == 310
    assert LiveStats.from_data({"compute_ms": 1}) is None


def test_negotiated_rates_say_what_was_refused() -> None:
    neg = {"input": {"device": "Mic", "host_api": "MME", "rate": 44100, "requested": 48000},
           "output": {"device": "CABLE", "host_api": "WASAPI", "rate": 40000},
           "model_rate": 40000}
    assert negotiated_text(neg).splitlines() == [
        "Microphone “Mic” (MME) opened at 44100 Hz (48000 Hz refused), resampled inside",
        "Output “CABLE” (WASAPI) opened at 40000 Hz", "The model runs at 40000 Hz."]
    engine = {"input": {"device": "Mic", "host_api": "MME", "rate": 48000, "resampled": True},
              "output": {"device": "Out", "host_api": "MME", "rate": 40000, "resampled": False},
              "model_rate": 40000}  # no "requested": the model's rate was asked first
    assert negotiated_text(engine).splitlines()[:2] == [
        "Microphone “Mic” (MME) opened at 48000 Hz (40000 Hz refused), resampled inside",
        "Output “Out” (MME) opened at 40000 Hz"]
    assert negotiated_text({}) == ""


def test_states_the_busy_warning_and_the_restart_offer() -> None:
    s = LiveSession()
    assert s.status_text() == "Not running." and not s.active
    s.begin()
    assert s.active and s.status_text().startswith("Starting")
    s.apply("live.state", {"state": "running", "negotiated": {"model_rate": 40000}})
    assert s.status_text() == "Running." and s.negotiated == {"model_rate": 40000}
    assert s.apply("live.stats", STATS) == "live.stats" and s.warning_text() == ""
    rev = s.revision
    s.apply("live.stats", {**STATS, "compute_ms": 205})  # 82 % of the block
    assert s.warning_text() == BUSY_WARNING and s.revision > rev
    assert s.apply("live.stats", {"garbage": 1}) == "" and s.stats.compute_ms == 205
    reason = "the input device “Mic” (MME) disappeared"
    s.apply("live.state", {"state": "stopped", "reason": reason})
    s.apply("job.finished", {"status": "ok", "result": {"blocks": 40, "xruns": 1,
                                                        "dropped_blocks": 2, "seconds": 10,
                                                        "reason": reason}})
    assert s.restart_offered and s.warning_text() == ""
    assert s.status_text() == (f"Stopped: {reason}. Press Restart to start again once the "
                               "device is back. Ran 10.0 s: 40 blocks, 1 xruns, 2 dropped blocks.")


def test_a_stop_by_the_user_offers_no_restart_and_a_refusal_says_so() -> None:
    s = LiveSession()
    s.begin()
    s.apply("live.state", {"state": "running"})
    s.request_stop()
    assert s.status_text() == "Stopping…"
    s.apply("live.state", {"state": "stopped", "reason": "stopped by the user"})
    s.apply("job.finished", {"status": "cancelled"})
    assert not s.restart_offered and s.status_text() == "Stopped."
    s.begin()
    s.refused("not a voice model")
    assert s.status_text() == "Could not start: not a voice model." and not s.restart_offered
    s.begin()
    s.apply("live.state", {"state": "running"})
    s.apply("job.finished", {"status": "failed", "error": {"message": "the engine broke"}})
    assert s.restart_offered
    assert s.status_text() == "Stopped: the engine broke. Press Restart to try again."


# controls ------------------------------------------------------------------------------------
def test_controls_clamp_queue_one_request_at_a_time_and_note_restarts() -> None:
    c = LiveControls()
    assert c.values["key"] == 0 and c.values["block"] == 0.25 and c.values["monitor"] is True
    assert control("protect").clamp(0.9) == 0.5 and control("block").clamp(0.333) == 0.33
    assert control("index_rate").value_at(control("index_rate").position(0.3)) == 0.3
    assert control("key").text(12) == "+12 st" and control("block").text(0.25) == "250 ms"
    assert not c.set("key", 0, running=True) and not c.set("nope", 1) and not c.set("key", "x")
    assert c.set("key", 30, running=True) and c.values["key"] == 24
    c.set("bypass", True, running=True)
    assert c.take_pending() == {"key": 24, "bypass": True}
    c.set("block", 0.5, running=True)
    assert c.take_pending() is None  # the first request has no answer yet
    assert c.on_result({"applied": {"key": 24, "bypass": True}, "restart_needed": []}) == []
    assert c.take_pending() == {"block": 0.5}
    assert c.on_result({"applied": {"block": 0.5}, "restart_needed": ["block"]}) == ["block"]
    assert c.restart_text() == ("The new block takes effect when the stream restarts: press "
                                "Restart to apply.")
    c.set("crossfade", 0.1, running=True)
    c.take_pending()
    c.on_error("no job job-9")
    assert c.problem == "The change was not applied: no job job-9" and c.in_flight is None
    c.stream_started({**c.values, "crossfade": 0.05})
    assert c.needs_restart == set() and c.pending == {"crossfade": 0.1} and c.problem == ""


def test_models_choice_job_args_and_stored_settings(devices) -> None:
    models = models_from_result(_answer("live_run.jsonl", "models.list"))
    assert [m.version for m in models] == ["v2", "v1"]
    assert models[0].label() == "Voice ü (v2, 40 kHz, pitch, index)"
    assert models[1].label().endswith("(v1, 48 kHz, pitch, no index)")
    assert "in the models library" in models[1].tooltip()
    assert LiveModel.from_dict({"name": "no path"}) is None
    mic, cable = devices.device(6), devices.device(3)
    empty = StartChoice(None, "rmvpe", mic, devices.host_api(1), cable, devices.host_api(0))
    assert "Choose a voice model" in empty.blocker()
    choice = StartChoice(models[0], "rmvpe", mic, devices.host_api(1), cable,
                         devices.host_api(0), exclusive=True)
    assert choice.blocker() == ""
    controls = LiveControls()
    controls.set("key", 12)
    args = job_args(choice, controls)
    assert args == {"model": models[0].path, "index": models[0].index, "f0_method": "rmvpe",
                    "input_device": 6, "output_device": 3, "input_host_api": "Windows WASAPI",
                    "output_host_api": "MME", "exclusive": True, "key": 12, "index_rate": 0.75,
                    "protect": 0.33, "gate_db": -50, "block": 0.25, "crossfade": 0.05,
                    "monitor": True, "bypass": False}
    mme_only = StartChoice(models[0], "pm", devices.device(1), devices.host_api(0), cable,
                           devices.host_api(0), exclusive=True)
    assert job_args(mme_only, controls)["exclusive"] is False  # not a WASAPI stream
    stored = Stored("/m.pth", "pm", Remembered("MME", "Mic"), None, True, {"key": 3})
    assert load_stored(json.loads(json.dumps(to_stored(stored)))) == stored
    assert load_stored({"f0_method": "yin", "input": "x"}) == Stored()
    again = LiveControls()
    again.load({"key": 3, "block": 9, "nope": 1, "bypass": "yes"})
    assert again.values["key"] == 3 and again.values["block"] == 1.0
    assert again.values["bypass"] is False
