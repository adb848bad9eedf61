"""Project commands and the prepare job through a real ``python -m backend serve``."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.project.helpers import ROOT, check_manifest, long_speech, speech, wavs_read_fully


class Client:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONUTF8": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "backend", "serve"], cwd=ROOT,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
        self.lines: queue.Queue[dict] = queue.Queue()
        self.events: list[dict] = []
        self._n = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def send(self, cmd: str, **args: object) -> str:
        self._n += 1
        msg_id = f"r{self._n}"
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"id": msg_id, "cmd": cmd, "args": args}) + "\n")
        self.proc.stdin.flush()
        return msg_id

    def wait(self, pred, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for the backend")
            msg = self.lines.get(timeout=left)
            if msg.get("type") == "event":
                self.events.append(msg)
            if pred(msg):
                return msg

    def call(self, cmd: str, **args: object) -> dict:
        msg_id = self.send(cmd, **args)
        return self.wait(lambda m: m.get("id") == msg_id and m["type"] in ("result", "error"))

    def finished(self, job_id: str, timeout: float = 60.0) -> dict:
        def match(m: dict) -> bool:
            return m.get("event") == "job.finished" and m["data"]["job_id"] == job_id

        for seen in self.events:  # it may come before the reply to job.start
            if match(seen):
                return seen["data"]
        return self.wait(match, timeout)["data"]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    c = Client()
    c.wait(lambda m: m.get("event") == "backend.ready", timeout=90)
    yield c
    c.send("shutdown")
    try:
        c.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        c.proc.kill()


def test_unknown_command_and_bad_arguments(client: Client, unicode_dir: Path) -> None:
    reply = client.call("project.explode")
    assert reply["type"] == "error" and reply["error"]["code"] == "unknown_command"
    reply = client.call("project.create", path=str(unicode_dir / "p"), sample_rate=44100)
    assert reply["type"] == "error" and reply["error"]["code"] == "bad_arguments"
    assert "32000, 40000, 48000" in reply["error"]["message"]
    reply = client.call("project.create", name="no path")
    assert reply["type"] == "error" and "'path'" in reply["error"]["message"]
    assert client.call("ping")["result"]["pong"] is True

    root = unicode_dir / "Stimme ß"
    reply = client.call("project.create", path=str(root), name="Stimme", sample_rate=32000,
                        model_kind="rvc")
    assert reply["type"] == "result", reply
    assert reply["result"]["project"]["sample_rate"] == 32000
    opened = client.call("project.open", path=str(root))["result"]
    assert opened["summary"] == {"sources": 0, "sources_ok": 0, "slices": 0,
                                 "prepared_seconds": 0.0, "pitch_note": None}
    assert opened["manifest"] is None and opened["report"] is None
    reply = client.call("project.set_edits", path=str(root), source_id="nope",
                        segments=[[0, 1]])
    assert reply["type"] == "error" and "no source with id 'nope'" in reply["error"]["message"]
    reply = client.call("project.settings", path=str(root), settings={"bogus": 1})
    assert reply["type"] == "error" and "bogus" in reply["error"]["message"]
    reply = client.call("project.open", path=str(unicode_dir / "nothing here"))
    assert reply["type"] == "error" and "no project folder" in reply["error"]["message"]


def test_failed_job_keeps_server_alive(client: Client, tmp_path: Path) -> None:
    root = tmp_path / "p"
    assert client.call("project.create", path=str(root))["type"] == "result"
    (root / "sources.json").write_text("{ this is not json")
    refused = client.call("job.start", kind="prepare", args={"project": str(root)})
    assert refused["type"] == "error", refused  # checked before the job starts
    assert "sources.json" in refused["error"]["message"]
    started = client.call("job.start", kind="sleep", args={"seconds": 0.1, "fail": True,
                                                           "project": str(root)})
    assert started["type"] == "result", started
    done = client.finished(started["result"]["job_id"])
    assert done["status"] == "failed" and done["error"]["message"] == "asked to fail"
    assert client.call("ping", echo="still here")["result"]["echo"] == "still here"
    again = client.call("job.start", kind="sleep", args={"seconds": 0, "project": str(root)})
    assert again["type"] == "result", again  # the failed job let go of the project
    reply = client.call("job.start", kind="prepare", args={"project": str(tmp_path / "none")})
    assert reply["type"] == "error" and "no project at" in reply["error"]["message"]


def test_cancel_prepare_stops_quickly_and_leaves_whole_files(client: Client,
                                                              tmp_path: Path) -> None:
    unit = speech(tmp_path / "unit", "u.wav", 0)
    data = tmp_path / "big input"
    data.mkdir()
    for i in range(6):
        long_speech(unit, data / f"long {i}.wav", 150.0, gain=0.5 + 0.05 * i)
    root = tmp_path / "proj"
    started = client.call("job.start", kind="prepare",
                          args={"project": str(root), "inputs": [str(data)], "create": {}})
    assert started["type"] == "result", started
    job_id = started["result"]["job_id"]
    gt = root / "prepared" / "0_gt_wavs"
    deadline = time.monotonic() + 60
    while not (gt.is_dir() and any(p.suffix == ".wav" for p in gt.iterdir())):
        assert time.monotonic() < deadline, "no slice was written"
        time.sleep(0.05)
    t0 = time.monotonic()
    client.call("job.cancel", job_id=job_id)
    done = client.finished(job_id, timeout=30)  # a pool of workers: each one is stopped
    elapsed = time.monotonic() - t0
    assert done["status"] == "cancelled", done
    assert elapsed < 2.0, f"cancel took {elapsed:.2f} s"
    print(f"cancel took {elapsed:.3f} s")
    wavs_read_fully(gt)
    wavs_read_fully(root / "prepared" / "1_16k_wavs")
    manifest = root / "prepared" / "manifest.json"
    if manifest.exists():
        check_manifest(root)
    assert client.call("ping")["result"]["pong"] is True
