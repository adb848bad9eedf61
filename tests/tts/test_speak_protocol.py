"""The ``speak`` job through a real ``python -m backend serve`` (what the Speak page does)."""

from __future__ import annotations

from pathlib import Path

from tests.backend.backend_proc import BackendProcess
from tests.tts.tts_files import tiny_tts_file


def test_speak_job_over_the_protocol(tmp_path: Path) -> None:
    model = tiny_tts_file(tmp_path / "ünï model" / "tiny.pth",
                          speakers={"alice": 0, "bob": 1})
    backend = BackendProcess(env={"TIMBRE_DATA_DIR": str(tmp_path / "data")})
    try:
        backend.wait_for(lambda m: m.get("type") == "hello", timeout=60)
        bad = backend.send("job.start", kind="speak",
                           args={"model": str(tmp_path / "missing.pth"), "text": "Hi."})
        error = backend.reply(bad)
        assert error["type"] == "error" and error["error"]["code"] == "not_found"
        assert "missing.pth does not exist" in error["error"]["message"]
        rid = backend.send("job.start", kind="speak",
                           args={"model": str(model), "text": "One. Two! Three?",
                                 "speaker": "bob", "length_scale": 1.5})
        job_id = backend.reply(rid, timeout=60)["result"]["job_id"]
        progress = backend.event("job.progress", timeout=60, job_id=job_id, stage="speaking",
                                 done=3)
        assert progress["data"]["total"] == 3
        done = backend.event("job.finished", timeout=120, job_id=job_id)["data"]
        assert done["status"] == "ok", done
        result = done["result"]
        assert Path(result["out"]).is_file()
        assert Path(result["out"]).parent == tmp_path / "data" / "cache" / "speech"
        assert [s["text"] for s in result["sentences"]] == ["One.", "Two!", "Three?"]
        assert (result["speaker"], result["settings"]["length_scale"]) == ("bob", 1.5)
        unknown = backend.send("job.start", kind="speak",  # refused before any job starts
                               args={"model": str(model), "text": "Hi.", "speaker": "eve"})
        refused = backend.reply(unknown, timeout=60)
        assert refused["type"] == "error" and refused["error"]["code"] == "bad_arguments"
        assert refused["error"]["message"] == \
            "speaker 'eve' is not in tiny: its speakers are 'alice', 'bob'"
    finally:
        backend.close()
