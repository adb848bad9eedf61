"""Fixtures of the transcription tests: a tiny random faster-whisper model (built once, offline,
in a folder whose path has spaces and Chinese characters) and a guard against network use."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.transcribe.tiny_whisper import build_tiny_whisper


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory) -> Path:
    os.environ["HF_HUB_OFFLINE"] = "1"  # faster-whisper, transformers, ctranslate2: no hub
    return build_tiny_whisper(tmp_path_factory.mktemp("whisper") / "我的 模型 tiny whisper")


@pytest.fixture
def no_network(monkeypatch):
    """Any connection to a host other than 127.0.0.1 fails the test."""
    real = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "localhost", "::1") and not isinstance(host, bytes):
            raise AssertionError(f"network access to {address!r} during a test")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
