"""The real download code against a local HTTP server that misbehaves on demand."""

from __future__ import annotations

import threading
import time

import pytest

from backend.assets.catalogue import load_catalogue
from backend.assets.download import ChecksumMismatch, DownloadError, Timeouts, download_asset
from backend.assets.store import asset_path, part_path, read_records, require_asset
from backend.kernel import JobCancelled, JobContext

FAST = Timeouts(connect=5.0, read=5.0)


def _asset(write_catalogue, entries):
    cat = load_catalogue(write_catalogue(entries))
    return cat[entries[0]["name"]]


def test_full_download_lands_atomically_with_progress(server, data_dir, write_catalogue, h):
    data = h.payload(300_000)
    server.files["/a.bin"] = data
    asset = _asset(write_catalogue, [h.entry("a", [server.url("/a.bin")], data)])
    events = h.Events()
    ctx = JobContext("t", "assets", events, min_interval=0.0)

    result = download_asset(asset, ctx, FAST)

    target = asset_path(asset)
    assert str(target).startswith(str(data_dir)) and "dätä" in str(target)
    assert target.read_bytes() == data
    assert not part_path(asset).exists()
    assert result["verified_by"] == "sha256" and result["sha256"] == h.sha(data)
    progress = events.of("job.progress")
    assert progress and progress[-1]["done"] == progress[-1]["total"] == len(data)
    assert read_records()["a"]["verified_by"] == "sha256"
    assert require_asset("a") == target
    # a second call does not download again
    assert download_asset(asset, ctx, FAST)["status"] == "already_installed"
    assert len(server.requests) == 1


def test_interrupted_download_resumes_with_range(server, data_dir, write_catalogue, h, ctx):
    data = h.payload(250_000, seed=1)
    server.files["/b.bin"] = data
    server.behaviour["/b.bin"] = {"kind": "cut", "after": 100_000, "times": 1}
    asset = _asset(write_catalogue, [h.entry("b", [server.url("/b.bin")], data)])

    with pytest.raises(DownloadError, match="connection closed after 100000 of 250000"):
        download_asset(asset, ctx, FAST)
    assert part_path(asset).stat().st_size == 100_000  # kept for resuming
    assert not asset_path(asset).exists()

    download_asset(asset, ctx, FAST)
    assert server.ranges("/b.bin") == [None, "bytes=100000-"]
    assert asset_path(asset).read_bytes() == data
    assert not part_path(asset).exists()


def test_cut_on_first_source_resumes_from_second(server, data_dir, write_catalogue, h, ctx):
    data = h.payload(200_000, seed=2)
    server.files["/c1.bin"] = server.files["/c2.bin"] = data
    server.behaviour["/c1.bin"] = {"kind": "cut", "after": 70_000, "times": 5}
    urls = [server.url("/c1.bin"), server.url("/c2.bin")]
    asset = _asset(write_catalogue, [h.entry("c", urls, data)])

    download_asset(asset, ctx, FAST)
    assert server.ranges("/c2.bin") == ["bytes=70000-"]
    assert asset_path(asset).read_bytes() == data


def test_server_ignoring_range_restarts_cleanly(server, data_dir, write_catalogue, h, ctx):
    data = h.payload(180_000, seed=3)
    server.files["/d.bin"] = data
    asset = _asset(write_catalogue, [h.entry("d", [server.url("/d.bin")], data)])
    part = part_path(asset)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\xff" * 50_000)  # a stale partial file that must not survive
    server.behaviour["/d.bin"] = {"kind": "ignore_range"}

    download_asset(asset, ctx, FAST)
    assert server.ranges("/d.bin") == ["bytes=50000-"]
    assert asset_path(asset).read_bytes() == data


def test_wrong_checksum_is_rejected_and_leaves_nothing(server, data_dir, write_catalogue, h,
                                                       ctx):
    served = h.payload(120_000, seed=4)
    real = h.payload(120_000, seed=5)
    server.files["/e.bin"] = served
    asset = _asset(write_catalogue, [h.entry("e", [server.url("/e.bin")], real)])

    with pytest.raises(ChecksumMismatch) as info:
        download_asset(asset, ctx, FAST)
    message = info.value.message
    assert "e (e.bin)" in message and h.sha(real) in message and h.sha(served) in message
    assert info.value.code == "checksum_mismatch"
    assert not asset_path(asset).exists() and not part_path(asset).exists()
    assert list(asset_path(asset).parent.iterdir()) == []


def test_stalled_server_fails_within_read_timeout(server, data_dir, write_catalogue, h, ctx):
    data = h.payload(60_000, seed=6)
    server.files["/f.bin"] = data
    server.behaviour["/f.bin"] = {"kind": "stall"}
    asset = _asset(write_catalogue, [h.entry("f", [server.url("/f.bin")], data)])

    with pytest.raises(DownloadError, match=r"stalled: no data for 0.5 s"):
        download_asset(asset, ctx, Timeouts(connect=5.0, read=0.5))
    assert not asset_path(asset).exists()


def test_server_that_never_answers_fails_within_connect_timeout(server, data_dir,
                                                                 write_catalogue, h, ctx):
    data = h.payload(1000, seed=7)
    server.files["/g.bin"] = data
    server.behaviour["/g.bin"] = {"kind": "no_headers"}
    asset = _asset(write_catalogue, [h.entry("g", [server.url("/g.bin")], data)])

    with pytest.raises(DownloadError, match="no response within 0.5 s"):
        download_asset(asset, ctx, Timeouts(connect=0.5, read=30.0))


@pytest.mark.parametrize("status", ["404", "500"])
def test_falls_back_to_next_source(server, data_dir, write_catalogue, h, ctx, status):
    data = h.payload(90_000, seed=8)
    server.files["/h2.bin"] = data
    server.behaviour["/h1.bin"] = {"kind": status}
    dead = "http://127.0.0.1:9/nothing.bin"  # discard port: connection refused
    urls = [dead, server.url("/h1.bin"), server.url("/h2.bin")]
    asset = _asset(write_catalogue, [h.entry("h", urls, data)])

    result = download_asset(asset, ctx, FAST)
    assert result["source"] == server.url("/h2.bin")
    assert asset_path(asset).read_bytes() == data
    warnings = [d["message"] for d in ctx._emit.of("log") if d["level"] == "warning"]
    assert any(f"HTTP {status}" in w for w in warnings)
    assert any("cannot connect" in w for w in warnings)


def test_all_sources_failing_names_each_failure(server, data_dir, write_catalogue, h, ctx):
    server.behaviour["/x.bin"] = {"kind": "500"}
    asset = _asset(write_catalogue, [h.entry("x", [server.url("/x.bin"), server.url("/y.bin")],
                                             b"abc")])
    with pytest.raises(DownloadError) as info:
        download_asset(asset, ctx, FAST)
    assert "HTTP 500" in info.value.message and "HTTP 404" in info.value.message
    assert len(info.value.details["failures"]) == 2


def _cancel_when(ctx, events, predicate, out):
    def watch():
        while not predicate(events):
            time.sleep(0.01)
        out["at"] = time.monotonic()
        ctx.cancel()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("kind", ["slow", "stall", "no_headers"])
def test_cancel_is_prompt_in_every_phase(server, data_dir, write_catalogue, h, kind):
    """Cancel during a slow body, a stalled body and a silent server: the read timeout is
    60 s, so finishing promptly proves cancel does not wait for a timeout."""
    data = h.payload(2_000_000, seed=9)
    server.files["/s.bin"] = data
    server.behaviour["/s.bin"] = {"kind": kind, "chunk": 16_384, "delay": 0.05}
    asset = _asset(write_catalogue, [h.entry("s", [server.url("/s.bin")], data)])
    events = h.Events()
    ctx = JobContext("t", "assets", events, min_interval=0.0)
    if kind == "slow":
        def started(ev):
            return any(d["done"] > 0 for d in ev.of("job.progress"))
    else:
        def started(ev):
            return bool(server.requests)
    out: dict = {}
    _cancel_when(ctx, events, started, out)

    with pytest.raises(JobCancelled):
        download_asset(asset, ctx, Timeouts(connect=60.0, read=60.0))
    assert time.monotonic() - out["at"] < 5.0
    assert not asset_path(asset).exists()
    if kind == "slow":  # the partial download is kept for a later resume
        assert 0 < part_path(asset).stat().st_size < len(data)
