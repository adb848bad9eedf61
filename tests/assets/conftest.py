"""A local HTTP file server with switchable misbehaviour, and asset test fixtures."""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from backend.kernel import JobContext

_RANGE = re.compile(r"bytes=(\d+)-$")


class AssetServer:
    """Serves ``files``; ``behaviour[path]`` switches how a path misbehaves.

    Behaviours: ``{"kind": "cut", "after": N, "times": k}`` closes the connection after N body
    bytes (k times), ``"ignore_range"`` answers 200 with the whole file, ``"stall"`` sends
    headers then nothing, ``"no_headers"`` accepts and never answers, ``"slow"`` sends
    ``chunk`` bytes every ``delay`` seconds, ``"404"``/``"500"`` fail.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.behaviour: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.release = threading.Event()
        handler = type("Handler", (_Handler,), {"owner": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def ranges(self, path: str) -> list[str | None]:
        return [r for p, r in self.requests if p == path]


class _Handler(BaseHTTPRequestHandler):
    owner: AssetServer

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        srv = self.owner
        srv.requests.append((self.path, self.headers.get("Range")))
        mode = srv.behaviour.get(self.path, {})
        kind = mode.get("kind", "normal")
        if kind in ("404", "500"):
            self.send_error(int(kind))
            return
        if kind == "no_headers":
            srv.release.wait(30)
            return
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start, status = 0, 200
        match = _RANGE.match(self.headers.get("Range") or "")
        if match and kind != "ignore_range":
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(data) - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        self._body(data[start:], mode, kind)

    def _body(self, body: bytes, mode: dict[str, Any], kind: str) -> None:
        if kind == "stall":
            self.wfile.flush()
            self.owner.release.wait(30)
            self.close_connection = True
            return
        if kind == "cut" and mode.get("times", 1) > 0:
            mode["times"] = mode.get("times", 1) - 1
            self.wfile.write(body[: mode["after"]])
            self.wfile.flush()
            self.close_connection = True
            return
        if kind == "slow":
            step = mode.get("chunk", 8192)
            for i in range(0, len(body), step):
                if self.owner.release.is_set():
                    return
                try:
                    self.wfile.write(body[i:i + step])
                except OSError:
                    return
                time.sleep(mode.get("delay", 0.05))
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = AssetServer()
    srv.thread.start()
    yield srv
    srv.release.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """The user data folder, with spaces and non-ASCII characters in its path."""
    d = tmp_path / "Timbre dätä – Ωmega 声" / "user data"
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(d))
    return d


def payload(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(name: str, sources: list[str], data: bytes | None = None, **extra: Any) -> dict:
    """A catalogue entry; ``data`` gives the real size and sha256."""
    item = {"name": name, "title": f"Test asset {name}", "kind": "test",
            "filename": f"test dir/{name}.bin", "sources": sources, "licence": "MIT",
            "size": len(data) if data is not None else None,
            "sha256": sha(data) if data is not None else None,
            "needed_by": ["tests"], "expected": {}}
    item.update(extra)
    return item


@pytest.fixture
def write_catalogue(tmp_path, monkeypatch):
    """Write a temporary catalogue and point TIMBRE_ASSET_CATALOGUE at it."""

    def write(entries: list[dict]) -> Path:
        path = tmp_path / "catalogue ü.json"
        path.write_text(json.dumps({"assets": entries}), encoding="utf-8")
        monkeypatch.setenv("TIMBRE_ASSET_CATALOGUE", str(path))
        return path

    return write


class Events:
    """Collects what a job reports."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict]] = []

    def __call__(self, event: str, data: dict) -> None:
        self.items.append((event, data))

    def of(self, event: str) -> list[dict]:
        return [d for e, d in self.items if e == event]


@pytest.fixture
def ctx() -> JobContext:
    return JobContext("test", "assets", Events(), min_interval=0.0)


@pytest.fixture
def h():
    """Helpers for test modules (conftest functions cannot be imported in importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(payload=payload, sha=sha, entry=entry, Events=Events)
