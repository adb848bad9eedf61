"""The live job: through the real server with job.control, and a device that disappears."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from backend.jobs.live import prepare
from backend.kernel import BadArgs
from backend.live.controls import apply_controls
from tests.audio_env import virtual_audio  # noqa: F401  (fixture)
from tests.backend.backend_proc import BackendProcess

ARGS = {"converter": "identity", "block": 0.1, "crossfade": 0.02, "extra": 0.1,
        "gate_db": -120}


def test_prepare_names_bad_arguments(tmp_path):
    with pytest.raises(BadArgs, match="model"):
        prepare({})
    with pytest.raises(BadArgs, match="go together"):
        prepare({**ARGS, "input_file": str(tmp_path / "a.wav")})
    with pytest.raises(BadArgs, match="input file not found"):
        prepare({**ARGS, "input_file": str(tmp_path / "a.wav"),
                 "output_file": str(tmp_path / "b.wav")})
    with pytest.raises(BadArgs, match="block"):
        prepare({**ARGS, "block": 9})


def test_file_job_through_server_with_controls(tmp_path):
    src, dst = tmp_path / "in ü.wav", tmp_path / "out ü.wav"
    t = np.arange(48000 * 60) / 48000  # long enough to still run when the controls come
    sf.write(src, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 48000)
    be = BackendProcess()
    try:
        rid = be.send("job.start", kind="live",
                      args={**ARGS, "input_file": str(src), "output_file": str(dst)})
        job = be.reply(rid)["result"]["job_id"]
        be.event("live.state", job_id=job, state="running")
        rid = be.send("job.control", job_id=job, values={"key": 3, "block": 0.2,
                                                         "input_device": 2})
        reply = be.reply(rid)
        assert reply["type"] == "result", reply
        assert reply["result"]["applied"] == {"key": 3, "block": 0.2}
        assert reply["result"]["restart_needed"] == ["input_device"]
        rid = be.send("job.control", job_id=job, values={"pitch": 1})
        bad = be.reply(rid)
        assert bad["type"] == "error" and bad["error"]["code"] == "bad_arguments"
        assert "pitch" in bad["error"]["message"]
        stats = be.event("live.stats", job_id=job)["data"]
        assert {"latency_ms", "compute_ms", "rtf", "xruns", "dropped_blocks",
                "input_db", "output_db"} <= set(stats)
        done = be.event("job.finished", job_id=job, timeout=60)["data"]
        assert done["status"] == "ok", done
        assert done["result"]["reason"] == "end of the input file"
        assert dst.is_file()
        rid = be.send("job.control", job_id=job, values={"key": 1})
        assert be.reply(rid)["error"]["code"] == "bad_arguments"  # not running any more
        rid = be.send("job.start", kind="sleep", args={"seconds": 2})
        sleeper = be.reply(rid)["result"]["job_id"]
        rid = be.send("job.control", job_id=sleeper, values={"key": 1})
        err = be.reply(rid)["error"]
        assert err["code"] == "bad_arguments" and "takes no controls" in err["message"]
    finally:
        be.close()


def test_failing_converter_fails_the_job_with_its_message(tmp_path, monkeypatch):
    from backend.jobs import live
    from backend.kernel import JobContext, JobError
    from backend.live.identity import IdentityConverter

    class Broken(IdentityConverter):
        def convert(self, window, n_new, n_out, settings):
            raise RuntimeError("out of memory on the GPU")

    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, np.full(48000, 0.1, np.float32), 48000)
    monkeypatch.setattr(live, "make_converter", lambda params, log=None: Broken(48000))
    events = []
    params = prepare({**ARGS, "input_file": str(src), "output_file": str(dst)})
    with pytest.raises(JobError, match="conversion failed: RuntimeError: out of memory"):
        live.run(params, JobContext("t", "live", lambda e, d: events.append((e, d))))
    assert not dst.exists()  # no half-written output
    stopped = [d for e, d in events if e == "live.state" and d["state"] == "stopped"]
    assert "out of memory" in stopped[0]["reason"]


def test_apply_controls_validates_before_applying():
    from backend.convert.settings import ConvertSettings
    from backend.live.engine import Engine, EngineConfig
    from backend.live.identity import IdentityConverter

    eng = Engine(IdentityConverter(48000), ConvertSettings(), EngineConfig().check(),
                 48000, 48000)
    with pytest.raises(BadArgs, match="index_rate"):
        apply_controls(eng, {"key": 2, "index_rate": 5})
    assert eng.settings.key == 0  # nothing applied
    out = apply_controls(eng, {"bypass": True, "gate_db": -40})
    assert eng.config.bypass is True and eng.config.gate_db == -40
    assert out["restart_needed"] == []


@pytest.mark.audio
def test_device_that_disappears_ends_job_cleanly(virtual_audio):  # noqa: F811
    va = virtual_audio
    be = BackendProcess(env=va.env)
    try:
        rid = be.send("live.devices")
        found = be.reply(rid)["result"]
        assert "pulse" in [d["name"] for d in found["devices"]]
        assert "ALSA" in [a["name"] for a in found["host_apis"]]
        rid = be.send("job.start", kind="live", args=ARGS)
        job = be.reply(rid)["result"]["job_id"]
        state = be.event("live.state", job_id=job, state="running", timeout=60)["data"]
        assert state["negotiated"]["input"]["rate"] > 0
        be.event("live.stats", job_id=job)
        va.proc.kill()  # the sound server goes away mid-stream
        va.proc.wait()
        stopped = be.event("live.state", job_id=job, state="stopped", timeout=30)["data"]
        done = be.event("job.finished", job_id=job, timeout=30)["data"]
        print(stopped["reason"])
        assert "device" in stopped["reason"] and "stopped" in stopped["reason"]
        assert done["status"] == "ok" and done["result"]["reason"] == stopped["reason"]
        rid = be.send("ping")
        assert be.reply(rid)["type"] == "result"  # the server lives on
    finally:
        be.close()


def test_a_running_job_says_so_in_its_progress(tmp_path):
    """The Jobs dock shows a job's progress stage: a live job reports 'running' (no end)."""
    from backend.jobs import live
    from backend.kernel import JobContext

    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, np.full(16000, 0.1, np.float32), 16000)
    events = []
    params = prepare({**ARGS, "input_file": str(src), "output_file": str(dst)})
    live.run(params, JobContext("t", "live", lambda e, d: events.append((e, d))))
    stages = [d["stage"] for e, d in events if e == "job.progress"]
    assert stages and stages[0] == "running"
    assert [d["state"] for e, d in events if e == "live.state"][-1] == "stopped"
