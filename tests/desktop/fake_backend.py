"""A stand-in backend that replays a recorded session file (tests only).

Usage: python fake_backend.py SESSION.jsonl [PROJECT_DIR]

"$PROJECT" in the session is replaced by PROJECT_DIR (recorded temporary paths).

Each line of the session is a JSON object. Protocol messages (with "type")
are printed to stdout as recorded. Lines with a "fake" key are directives:

- {"fake": "await", "cmd": "job.start", "as": "2"}: read requests from stdin
  until one with that cmd arrives; replies recorded with id "2" get its id, and so
  does a ``job.started`` event whose ``request_id`` is "2".
- {"fake": "raw", "text": "...", "newline": true}: print text as is.
- {"fake": "stderr", "text": "..."}: write a line to stderr.
- {"fake": "write", "path": "...", "text": "..."}: write a file (a backend side effect).
- {"fake": "note", "text": "..."}: ignored (how the session was made).
- {"fake": "sleep", "seconds": 0.05}
- {"fake": "exit", "code": 1}
- {"fake": "crash_once", "marker": "...", "stderr": ["..."], "code": 1}: the first time
  (no marker file yet) create the marker, write the lines to stderr and exit; a restarted
  replay goes on past it.
- {"fake": "serve"}: answer ping and shutdown until stdin closes.

A "shutdown" request read at any point is answered and ends the replay.
"""

from __future__ import annotations

import json
import os
import sys
import time

ids: dict[str, str] = {}


def out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def reply(req: dict, result: dict) -> None:
    out(json.dumps({"type": "result", "id": req["id"], "result": result}) + "\n")


def read_request() -> dict | None:
    line = sys.stdin.readline()
    if not line:
        return None
    sys.stderr.write(f"fake backend received: {line}")
    sys.stderr.flush()
    req = json.loads(line)
    req["id"] = str(req.get("id"))
    if req.get("cmd") == "shutdown":
        reply(req, {"stopping": True, "cancelled_jobs": []})
        out('{"type":"event","event":"backend.stopped","data":{}}\n')
        sys.exit(0)
    return req


def await_cmd(cmd: str) -> dict:
    while True:
        req = read_request()
        if req is None:
            sys.exit(0)  # stdin closed: the desktop went away
        if req.get("cmd") == cmd:
            return req
        sys.stderr.write(f"fake backend: ignoring {req.get('cmd')}\n")


def serve() -> None:
    while True:
        req = read_request()
        if req is None:
            sys.exit(0)
        if req.get("cmd") == "ping":
            reply(req, {"pong": True, "echo": (req.get("args") or {}).get("echo")})
        else:
            out(json.dumps({"type": "error", "id": req["id"], "error": {
                "code": "unknown_command", "message": f"unknown command '{req.get('cmd')}'"}})
                + "\n")


def directive(obj: dict) -> None:
    kind = obj["fake"]
    if kind == "await":
        req = await_cmd(obj["cmd"])
        ids[str(obj.get("as", obj["cmd"]))] = req["id"]
    elif kind == "raw":
        out(obj["text"] + ("\n" if obj.get("newline", True) else ""))
    elif kind == "stderr":
        sys.stderr.write(obj["text"] + "\n")
        sys.stderr.flush()
    elif kind == "write":
        os.makedirs(os.path.dirname(obj["path"]), exist_ok=True)
        with open(obj["path"], "w", encoding="utf-8") as fh:
            fh.write(obj["text"])
    elif kind == "sleep":
        time.sleep(float(obj.get("seconds", 0.05)))
    elif kind == "exit":
        sys.exit(int(obj.get("code", 0)))
    elif kind == "crash_once" and not os.path.exists(obj["marker"]):
        with open(obj["marker"], "w", encoding="utf-8") as fh:
            fh.write("crashed\n")
        for text in obj.get("stderr", []):
            sys.stderr.write(text + "\n")
        sys.stderr.flush()
        sys.exit(int(obj.get("code", 1)))
    elif kind == "serve":
        serve()


def main(path: str, project: str = "") -> int:
    escaped = json.dumps(project, ensure_ascii=False)[1:-1]
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            obj = json.loads(raw.replace("$PROJECT", escaped))
            if "fake" in obj:
                directive(obj)
                continue
            if obj.get("type") in ("result", "error") and str(obj.get("id")) in ids:
                obj["id"] = ids[str(obj["id"])]
            data = obj.get("data") if obj.get("event") == "job.started" else None
            if isinstance(data, dict) and str(data.get("request_id")) in ids:
                data["request_id"] = ids[str(data["request_id"])]
            out(json.dumps(obj, ensure_ascii=False) + "\n")
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
