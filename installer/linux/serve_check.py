"""The frozen backend's protocol, as the window uses it (installer/linux/smoke.sh step).

``python installer/linux/serve_check.py EXE``: starts ``EXE backend serve``, checks the
first line is ``hello``, then sends requests one at a time, each answered before the
next: ``ping``, ``audio.devices`` (PortAudio loads), ``assets.list`` (the data folder of
``TIMBRE_DATA_DIR``), ``text.preview`` in English (phonemizer with the bundled espeak-ng)
and Chinese (pypinyin's dictionaries), and ``shutdown``; the server must then exit 0.
Prints each answer shortened; exit status 1 naming the first failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("ping", {}),
    ("audio.devices", {}),
    ("assets.list", {}),
    ("text.preview", {"text": "Hello, 5 voices.", "language": "en"}),
    ("text.preview", {"text": "你好，世界", "language": "zh"}),
    ("shutdown", {}),
]
TIMEOUT_S = 120


def _expect(proc: subprocess.Popen[bytes], rid: str) -> dict[str, Any]:
    """The next protocol line answering ``rid`` (events are skipped)."""
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"serve_check: the backend closed its output before answering {rid}")
        msg = json.loads(line)
        if msg.get("type") in ("result", "error") and msg.get("id") == rid:
            return msg


def main(exe: str) -> int:
    proc = subprocess.Popen([exe, "backend", "serve"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    timer = threading.Timer(TIMEOUT_S, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None and proc.stdin is not None
        hello = json.loads(proc.stdout.readline() or "{}")
        if hello.get("type") != "hello":
            print(f"serve_check: the first line is not hello: {hello}", file=sys.stderr)
            return 1
        print("hello:", json.dumps(hello))
        for n, (cmd, args) in enumerate(REQUESTS, 1):
            proc.stdin.write(json.dumps({"id": n, "cmd": cmd, "args": args}).encode() + b"\n")
            proc.stdin.flush()
            answer = _expect(proc, str(n))
            shown = json.dumps(answer.get("result", answer.get("error")), ensure_ascii=False)
            print(f"{cmd} {json.dumps(args, ensure_ascii=False)}: {shown[:240]}")
            if answer["type"] != "result":
                print(f"serve_check: {cmd} failed", file=sys.stderr)
                return 1
        proc.stdin.close()
        rc = proc.wait()
    finally:
        timer.cancel()
    if rc != 0:
        print(f"serve_check: the backend exited with {rc} after shutdown", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python installer/linux/serve_check.py EXE")
    sys.exit(main(sys.argv[1]))
