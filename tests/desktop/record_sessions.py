"""Records real backend sessions into ``tests/desktop/sessions/*.jsonl`` for replay tests.

Run from the repo root: ``.venv/bin/python tests/desktop/record_sessions.py [NAME...]``.
Each scenario drives the real ``python -m backend serve`` and writes what it
printed, with an ``await`` directive (see fake_backend.py) before the lines
that followed each request. Paths under the scenario's temporary folder are
written as ``$PROJECT`` so a replay can point them at its own folder; files
the backend wrote that the desktop reads (the health report) are stored as
``write`` directives.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "sessions"


class Recorder:
    def __init__(self, placeholder_dir: Path | None = None, wait_ready: bool = False) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "backend", "serve"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
        self.lines: queue.Queue[str] = queue.Queue()
        self.session: list[dict] = []
        self.placeholder_dir = placeholder_dir
        self._n = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.take(lambda m: m.get("type") == "hello")
        if wait_ready:  # commands other than the built-in ones exist after backend.ready
            self.take(lambda m: m.get("event") == "backend.ready")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def take(self, until, timeout: float = 60.0) -> list[dict]:
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            msg = json.loads(line)
            got.append(msg)
            self.session.append(msg)
            if until(msg):
                return got
        raise TimeoutError(f"no matching line within {timeout} s; got {got}")

    def send(self, cmd: str, args: dict | None = None, wait_job: bool = False) -> dict:
        self._n += 1
        rid = str(self._n)
        self.session.append({"fake": "await", "cmd": cmd, "as": rid})
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"id": rid, "cmd": cmd, "args": args or {}}) + "\n")
        self.proc.stdin.flush()
        got = self.take(lambda m: m.get("type") in ("result", "error") and m.get("id") == rid)
        reply = got[-1]
        if wait_job and reply.get("type") == "result":
            job_id = reply["result"]["job_id"]
            if not any(m.get("event") == "job.finished" and m["data"].get("job_id") == job_id
                       for m in got):
                self.take(lambda m: m.get("event") == "job.finished"
                          and m["data"].get("job_id") == job_id)
        return reply

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)

    def write(self, name: str, extra: list[dict] | None = None) -> Path:
        text = "\n".join(json.dumps(m, ensure_ascii=False) for m in [*self.session,
                                                                      *(extra or [])])
        if self.placeholder_dir is not None:
            text = text.replace(json.dumps(str(self.placeholder_dir))[1:-1], "$PROJECT")
        path = OUT / f"{name}.jsonl"
        path.write_text(text + "\n", encoding="utf-8")
        return path


def hello_ping() -> None:
    rec = Recorder()
    rec.send("ping", {"echo": "héllo"})
    rec.close()
    rec.write("hello_ping")


def sleep_job() -> None:
    rec = Recorder()
    rec.send("job.start", {"kind": "sleep", "args": {"seconds": 0.3, "steps": 3}}, wait_job=True)
    rec.close()
    rec.write("sleep_job")


def crash_mid_job() -> None:
    """A real sleep job cut after its second progress line, then exit code 1."""
    rec = Recorder()
    rec.send("job.start", {"kind": "sleep", "args": {"seconds": 2, "steps": 10}})
    rec.take(lambda m: m.get("event") == "job.progress" and m["data"]["done"] >= 2)
    rec.close()
    rec.write("crash_mid_job", [
        {"fake": "stderr", "text": "Traceback (most recent call last):"},
        {"fake": "stderr", "text": "MemoryError: simulated crash in the sleep job"},
        {"fake": "exit", "code": 1},
    ])


def import_prepare(folder: Path) -> None:
    """project.create, import a synthesised wav folder, prepare, project.open."""
    import numpy as np
    import soundfile as sf

    inputs = folder / "takes ä"
    inputs.mkdir()
    sr = 22050
    t = np.arange(int(sr * 2.5)) / sr
    for i in range(2):
        tone = 0.3 * np.sin(2 * np.pi * (180 + 40 * i) * t) * (np.sin(2 * np.pi * 1.5 * t) > 0)
        sf.write(inputs / f"take {i}.wav", tone.astype("float32"), sr)
    project = folder / "My voice"
    rec = Recorder(folder, wait_ready=True)
    rec.send("project.create", {"path": str(project), "name": "My voice", "sample_rate": 40000,
                                "model_kind": "rvc"})
    rec.send("project.open", {"path": str(project)})
    rec.send("job.start", {"kind": "import", "args": {"project": str(project),
                                                      "inputs": [str(inputs)]}}, wait_job=True)
    rec.send("project.open", {"path": str(project)})
    rec.send("job.start", {"kind": "prepare", "args": {"project": str(project)}}, wait_job=True)
    opened = rec.send("project.open", {"path": str(project)})
    if "result" not in opened:
        raise SystemExit(f"project.open failed: {opened}; session so far: {rec.session}")
    rec.close()
    report = opened["result"].get("report")
    extra = []
    if report:
        extra.append({"fake": "write", "path": report,
                      "text": Path(report).read_text(encoding="utf-8")})
    # the report file must exist before the replayed last project.open is answered
    last_await = max(i for i, m in enumerate(rec.session) if m.get("fake") == "await")
    rec.session[last_await:last_await] = extra
    rec.write("import_prepare")


def main(names: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    simple = {"hello_ping": hello_ping, "sleep_job": sleep_job, "crash_mid_job": crash_mid_job}
    for name in names or [*simple, "import_prepare"]:
        if name == "import_prepare":
            with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
                import_prepare(Path(tmp))
        else:
            simple[name]()
        print("recorded", name)


if __name__ == "__main__":
    main(sys.argv[1:])
